// Parsers for the pod and app flags of `podrt run` / `podrt prepare`, in rkt's syntax
// (Documentation/subcommands/run.md), turned into appc pod manifest pieces.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/appc/image_manifest.h"
#include "common/appc/pod_manifest.h"
#include "common/result.h"

namespace podrt::cli {

/// --volume NAME,kind=host,source=PATH[,readOnly=BOOL][,recursive=BOOL]
///          NAME,kind=empty[,readOnly=BOOL][,mode=0755][,uid=N][,gid=N]
Result<appc::Volume> parse_volume(std::string_view text);
/// --mount volume=NAME,target=PATH
Result<appc::Mount> parse_mount(std::string_view text);
/// --port NAME:[HOSTIP:]HOSTPORT
Result<appc::ExposedPort> parse_port(std::string_view text);
/// --set-env / --environment NAME=VALUE
Result<std::pair<std::string, std::string>> parse_environment_variable(std::string_view text);
/// --seccomp mode=retain|remove[,errno=ENAME],SYSCALL[,SYSCALL...] -> the appc isolator.
Result<appc::Isolator> parse_seccomp(std::string_view text);
/// --caps-retain / --caps-remove CAP_A,CAP_B -> the appc isolator (names get "CAP_" if missing).
Result<appc::Isolator> parse_capabilities(std::string_view text, bool retain);
/// --rlimit NOFILE=SOFT[:HARD] (or RLIMIT_NOFILE=...) -> one entry of podrt's rlimits isolator.
Result<std::pair<std::string, nlohmann::json>> parse_rlimit(std::string_view text);

}  // namespace podrt::cli
