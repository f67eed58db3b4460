# shellcheck shell=bash
# bench/matrix/lib.sh: helpers shared by the benchmark matrix (sourced by bench/matrix/run.sh).
# The raw results are JSON lines in $raw, one record per line: emit writes them; report.pl reads
# them. Needs: $raw (the file), $matrix_dir (this folder).

# say TEXT...: a progress line on stderr (stdout is left to the caller).
say() { echo "[matrix $(date +%H:%M:%S)] $*" >&2; }

# json_str TEXT: TEXT as a JSON string (quotes, backslashes and control characters escaped).
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/}
  printf '"%s"' "$(tr -d '\000-\037' <<<"$s")"
}

# emit KEY=TEXT KEY:=NUMBER ...: appends one JSON object to $raw (KEY=... a string, KEY:=... a
# raw JSON value: a number, true, false or null).
emit() {
  local line="" field key value
  for field in "$@"; do
    if [[ $field == *:=* ]]; then
      key=${field%%:=*} value=${field#*:=}
      [[ -n $value ]] || value=null
    else
      key=${field%%=*} value=$(json_str "${field#*=}")
    fi
    line+="${line:+,}\"$key\":$value"
  done
  echo "{$line}" >> "$raw"
}

# shell_words ARG...: ARGs as one line a shell would read back (quoted only where needed).
shell_words() {
  local arg line="" q="'"
  for arg in "$@"; do
    [[ $arg =~ ^[A-Za-z0-9_/.,:=+@%-]+$ ]] || arg="$q${arg//$q/$q\\$q$q}$q"
    line+="${line:+ }$arg"
  done
  echo "$line"
}

# first_line TEXT: the first non-empty line of TEXT (for one-line reasons).
first_line() { grep -m1 -v '^[[:space:]]*$' <<<"$1" | cut -c1-300 || true; }

# line_count FILE: how many lines FILE has (0 when there is no FILE yet).
line_count() { if [[ -f $1 ]]; then wc -l < "$1"; else echo 0; fi; }

# last_log_line MODE LINES_BEFORE: the last non-empty line in $work/MODE.log (the stderr of MODE's
# runs) after its first LINES_BEFORE lines: what the runtime said when a run failed.
last_log_line() { tail -n +$(($2 + 1)) "$work/$1.log" 2>/dev/null | grep -v '^[[:space:]]*$' | tail -1 | cut -c1-300 || true; }

# cgroup_mode: v2, hybrid or v1, as this host mounts /sys/fs/cgroup.
cgroup_mode() {
  if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then echo v2
  elif [[ $(findmnt -n -o FSTYPE /sys/fs/cgroup/unified 2>/dev/null) == cgroup2 ]]; then echo hybrid
  else echo v1; fi
}

# machine_facts PODRT: emits the "machine" record: CPU, cores, memory, kernel, distribution, KVM
# kind and what kvm pods use (from `podrt info`), cgroup mode, virtualization flags, load.
machine_facts() {
  local info cpu flags="none" distro=unknown
  info=$("$1" info 2>&1 || true)
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
  grep -qw vmx /proc/cpuinfo && flags=vmx
  grep -qw svm /proc/cpuinfo && flags=svm
  [[ -r /etc/os-release ]] && distro=$(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')
  emit type=machine cpu="$cpu" cores:="$(nproc)" \
    memory_mib:="$(awk '/^MemTotal:/ {printf "%d", $2 / 1024}' /proc/meminfo)" \
    kernel="$(uname -r)" distro="$distro" virtualization_flags="$flags" \
    kvm="$(sed -n 's/^kvm: *//p' <<<"$info")" \
    kvm_kind="$(sed -n 's/^kvm: *\([^ ]*\).*/\1/p' <<<"$info")" \
    kvm_pods="$(sed -n 's/^kvm pods: *//p' <<<"$info")" \
    cgroup_mode="$(cgroup_mode)" cgroup="$(sed -n 's/^cgroup: *//p' <<<"$info")" \
    podrt_version="$("$1" version 2>/dev/null | head -1 | sed 's/ Version: / /')" \
    load_average="$(cut -d' ' -f1-3 /proc/loadavg)" \
    date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

# wait_for_text TIMEOUT_S TEXT FILE PID [FILE PID ...]: waits until every FILE holds TEXT;
# fails early when a PID whose FILE lacks TEXT has exited, or when TIMEOUT_S passes.
wait_for_text() {
  local timeout=$1 text=$2 deadline pending file pid i
  shift 2
  local -a pairs=("$@")
  deadline=$((SECONDS + timeout))
  while :; do
    pending=0
    for ((i = 0; i < ${#pairs[@]}; i += 2)); do
      file=${pairs[i]} pid=${pairs[i + 1]}
      grep -q -- "$text" "$file" 2>/dev/null && continue
      kill -0 "$pid" 2>/dev/null || { echo "process $pid exited before \"$text\" appeared in its output (${file##*/})"; return 1; }
      pending=1
    done
    ((pending)) || return 0
    ((SECONDS < deadline)) || { echo "no \"$text\" after ${timeout} s"; return 1; }
    sleep 0.05
  done
}

# wait_or_kill TIMEOUT_S PID...: waits for each PID (our children) to exit; SIGKILLs those still
# there after TIMEOUT_S. Never fails.
wait_or_kill() {
  local timeout=$1 deadline pid
  shift
  deadline=$((SECONDS + timeout))
  for pid in "$@"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# pss_sample ROOT_PID...: "PSS_KIB RSS_KIB PROCESSES" of the process trees under the PIDs, the
# largest PSS of 5 samples 100 ms apart (the pods are idle: their apps sleep).
pss_sample() {
  local i best="" line
  for ((i = 0; i < 5; i++)); do
    line=$(perl "$matrix_dir/pss-tree.pl" "$@")
    if [[ -z $best ]] || ((${line%% *} > ${best%% *})); then best=$line; fi
    ((i == 4)) || sleep 0.1
  done
  echo "$best"
}
