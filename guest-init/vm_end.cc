#include "guest-init/vm_end.h"

#include <sys/reboot.h>
#include <unistd.h>

namespace podrt::guest_init {

void end_vm() {
  ::sync();
  ::reboot(RB_AUTOBOOT);
  // Only reached without CAP_SYS_BOOT or in a pid namespace; nothing else is left to try.
  ::reboot(RB_POWER_OFF);
  for (;;) ::pause();
}

}  // namespace podrt::guest_init
