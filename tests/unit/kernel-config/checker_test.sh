#!/usr/bin/env bash
# KernelConfig.CheckerCatchesDroppedOptions: required_options_test.sh fails, naming the option,
# when the merged config lacks an option of the real fragment or has one it unsets; and passes
# on a config that has them all. Needs no kernel build.
#
# Usage: checker_test.sh FRAGMENT
set -euo pipefail

(($# == 1)) || { echo "usage: checker_test.sh FRAGMENT" >&2; exit 2; }
fragment=$1
checker=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/required_options_test.sh
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# A config that has exactly what the fragment asks for.
grep -E '^CONFIG_[A-Za-z0-9_]+=y$' "$fragment" >"$tmp/complete"
grep -E '^# CONFIG_[A-Za-z0-9_]+ is not set$' "$fragment" >>"$tmp/complete"

failures=0
expect() {
  local want=$1 config=$2 needle=$3 output status=0
  output=$("$checker" "$fragment" "$config" 2>&1) || status=$?
  if [[ $want == pass && $status != 0 ]]; then
    echo "FAIL: the checker rejected $config (exit $status):"; echo "$output"; failures=$((failures + 1))
  elif [[ $want == fail && $status != 1 ]]; then
    echo "FAIL: the checker did not reject $config (exit $status):"; echo "$output"; failures=$((failures + 1))
  elif [[ -n $needle && $output != *"$needle"* ]]; then
    echo "FAIL: the checker's output does not name $needle:"; echo "$output"; failures=$((failures + 1))
  fi
}

expect pass "$tmp/complete" ""

# An option olddefconfig dropped (here one the fragment lists but no design check names).
grep -vx 'CONFIG_SIGNALFD=y' "$tmp/complete" >"$tmp/dropped"
expect fail "$tmp/dropped" CONFIG_SIGNALFD

# An option that came out as a module.
sed 's/^CONFIG_EROFS_FS=y$/CONFIG_EROFS_FS=m/' "$tmp/complete" >"$tmp/module"
expect fail "$tmp/module" CONFIG_EROFS_FS

# An option the fragment unsets that something selected anyway.
sed 's/^# CONFIG_PCI is not set$/CONFIG_PCI=y/' "$tmp/complete" >"$tmp/selected"
expect fail "$tmp/selected" CONFIG_PCI

# No merged config at all: skipped, not passed.
status=0
"$checker" "$fragment" "$tmp/absent" >/dev/null 2>&1 || status=$?
if ((status != 77)); then
  echo "FAIL: a missing config gave exit $status, not 77 (skip)"; failures=$((failures + 1))
fi

((failures == 0)) || exit 1
echo "OK: the checker passes a complete config and names dropped, modular and selected options"
