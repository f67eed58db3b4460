// What a kvm pod cannot do, refused in one line: by stage0 before it prepares the pod, and by
// stage1-kvm itself for whoever runs it otherwise. Header-only so that stage0 needs no link to
// stage1-kvm.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace podrt::stage1_kvm {

inline Result<void> refuse_what_a_vm_cannot_do(bool private_users,
                                               const std::vector<std::string>& networks) {
  if (private_users)
    return Error::invalid("--private-users is for --stage1=ns: a kvm pod's ids are its VM's own");
  for (const std::string& net : networks)
    if (net == "host")
      return Error::invalid("--net=host cannot be used with --stage1=kvm: the VM has its own "
                            "network stack (use --net=default or --net=none)");
  return ok();
}

}  // namespace podrt::stage1_kvm
