#!/usr/bin/env bash
# KernelConfig.RequiredOptionsAreSet: the merged guest kernel .config has every option the
# fragment asks for. A `CONFIG_X=y` line in guest.fragment whose dependencies are not met is
# dropped by `make olddefconfig` without a word; this test names each such option.
#
# Usage: required_options_test.sh FRAGMENT CONFIG
#   every `CONFIG_X=y` in FRAGMENT must be `CONFIG_X=y` in CONFIG;
#   every `# CONFIG_X is not set` in FRAGMENT must not be `=y` in CONFIG;
#   the options the design needs (below) must be in FRAGMENT and `=y` in CONFIG.
# Exit 0 when all hold, 1 (naming each failure) otherwise, 77 (skipped) when CONFIG is absent
# because the build was configured with -DPODRT_BUILD_KERNEL=OFF.
set -euo pipefail

if (($# != 2)); then
  echo "usage: required_options_test.sh FRAGMENT CONFIG" >&2
  exit 2
fi
fragment=$1
config=$2

# What stage1-kvm and guest-init cannot do without (docs: design.md, "The guest side").
design_options=(
  CONFIG_64BIT
  CONFIG_PVH                          # QEMU boots the vmlinux through its PVH note
  CONFIG_SERIAL_8250_CONSOLE          # the kernel's console on ttyS0
  CONFIG_VIRTIO_MMIO
  CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES  # devices are named on the command line (microvm, builtin VMM)
  CONFIG_VIRTIO_CONSOLE               # hvc0, the control channel
  CONFIG_VIRTIO_BLK                   # the image's read-only root filesystem
  CONFIG_VIRTIO_NET
  CONFIG_EROFS_FS
  CONFIG_EXT4_FS
  CONFIG_OVERLAY_FS                   # read-only image + tmpfs upper
  CONFIG_TMPFS
  CONFIG_BLK_DEV_INITRD               # guest-init rides in the initramfs
  CONFIG_NET_9P_VIRTIO                # host volumes
  CONFIG_9P_FS
  CONFIG_SECCOMP_FILTER               # the --seccomp isolator
  CONFIG_MEMCG                        # --memory
  CONFIG_CGROUP_PIDS                  # --pids-limit
  CONFIG_CFS_BANDWIDTH                # --cpu
  CONFIG_PID_NS
)

[[ -r $fragment ]] || { echo "cannot read the fragment $fragment" >&2; exit 1; }
if [[ ! -e $config ]]; then
  echo "SKIP: no merged kernel config at $config (configured with -DPODRT_BUILD_KERNEL=OFF?)"
  exit 77
fi
[[ -r $config ]] || { echo "cannot read the merged config $config" >&2; exit 1; }

# Reads a .config-style file into name -> value (y, m, a string, or "n" for `is not set`).
declare -A fragment_value config_value
# shellcheck disable=SC2034  # `into` is a nameref: the caller's array
read_config() {
  local -n into=$1
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
      into["${BASH_REMATCH[1]}"]=${BASH_REMATCH[2]}
    elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set[[:space:]]*$ ]]; then
      into["${BASH_REMATCH[1]}"]=n
    fi
  done <"$2"
}
read_config fragment_value "$fragment"
read_config config_value "$config"

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

wanted=0
for option in "${!fragment_value[@]}"; do
  value=${fragment_value[$option]}
  actual=${config_value[$option]:-n}
  if [[ $value == y ]]; then
    wanted=$((wanted + 1))
    if [[ $actual != y ]]; then
      [[ $actual == n ]] && actual="it unset" || actual="$option=$actual"
      fail "$option=y is in the fragment but the merged config has $actual" \
        "(a dependency of it is missing from the fragment)"
    fi
  elif [[ $value == n ]]; then
    [[ $actual != y ]] || fail "$option is unset in the fragment but =y in the merged config (something selects it)"
  fi
done
((wanted > 0)) || fail "the fragment $fragment sets no option to y"

for option in "${design_options[@]}"; do
  [[ ${fragment_value[$option]:-} == y ]] || fail "$option, which the design needs, is not set to y in the fragment"
  [[ ${config_value[$option]:-n} == y ]] || fail "$option, which the design needs, is not =y in the merged config"
done

if ((failures > 0)); then
  echo "$failures failure(s): fragment $fragment, merged config $config"
  exit 1
fi
echo "OK: all $wanted options the fragment sets and the ${#design_options[@]} the design needs are =y in $config"
