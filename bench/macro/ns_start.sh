#!/usr/bin/env bash
# Pod start-to-exit latency of /bin/true: `podrt run --net=none` (image already fetched) vs
# `crun run`, `runc run` (OCI bundles from `crun spec`/`runc spec`) and `systemd-nspawn`, all on
# the same busybox rootfs, runs interleaved (A B C D A B C D ...), median and p95 per runtime
# with the ratio to crun. Then the peak RSS (VmHWM) of podrt's pod init, its stage1 and crun.
#
# usage: bench/macro/ns_start.sh [--quick] [--runs N] [--out DIR] [--build DIR] [--tmp DIR]
#   --runs N    timed runs per runtime (default 20; 5 with --quick)
#   --out DIR   appends to DIR/results.jsonl and writes DIR/ns_start.md (default: no files)
#   --build DIR where bin/podrt and images/busybox.aci are (default: build)
#   --tmp DIR   where the store, the rootfs copy and the bundles go (default: /var/tmp)
# Needs root. Only the runtime's own command is timed (CLOCK_MONOTONIC, in a perl helper that
# forks and execs it); removing containers and pods happens outside the timed region.
set -euo pipefail

quick=0 runs="" out_dir="" build_dir=build tmp_root=/var/tmp
usage() { sed -n '7,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --runs) runs=$2; shift ;;
    --out) out_dir=$2; shift ;;
    --build) build_dir=$2; shift ;;
    --tmp) tmp_root=$2; shift ;;
    -h|--help) usage ;;
    *) echo "ns_start.sh: unknown argument $1" >&2; usage ;;
  esac
  shift
done
runs=${runs:-$((quick ? 5 : 20))}
podrt=$(realpath -m "$build_dir/bin/podrt")
aci=$build_dir/images/busybox.aci
[[ $(id -u) == 0 ]] || { echo "ns_start.sh: needs root" >&2; exit 1; }
[[ -x $podrt && -f $aci ]] || { echo "ns_start.sh: $podrt or $aci missing: build podrt, podrt-stage1-ns, podrt-pod-init and busybox-aci" >&2; exit 1; }
if [[ -n $out_dir ]]; then
  mkdir -p "$out_dir"
  exec 3>&1 > >(tee "$out_dir/ns_start.md")
  tee_pid=$!
fi

work=$(mktemp -d "$tmp_root/podrt-ns-start-XXXXXX")
store=$work/store
containers=()  # "runtime id" of every container started, deleted again on exit
background=()  # pids of the runs started with &, killed on exit
cleanup() {
  set +e
  for pid in "${background[@]}"; do kill -KILL "$pid"; done 2>/dev/null
  for entry in "${containers[@]}"; do
    read -r rt id <<<"$entry"
    if [[ $rt == crun ]]; then "${crun_ns[@]}" crun delete -f "$id"; else "$rt" delete -f "$id"; fi
  done >/dev/null 2>&1
  remove_pods
  findmnt -rn -o TARGET | grep -F "$work/" | sort -r | xargs -r -n1 umount -l
  rm -rf --one-file-system "$work"
  # Let tee finish, so that whoever reads our stdout next sees all of it first.
  [[ -z ${tee_pid:-} ]] || { exec >&3 3>&-; wait "$tee_pid"; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

remove_pods() {
  local uuids
  uuids=$("$podrt" --dir="$store" list --no-legend --full 2>/dev/null | awk '{print $1}')
  [[ -z $uuids ]] || "$podrt" --dir="$store" rm $uuids >/dev/null 2>&1 || true
}

# crun 1.8 refuses hybrid cgroup hosts ("cgroups in hybrid mode not supported"): on those it
# runs in a private mount namespace without the unified hierarchy, so it sees cgroup v1 only.
hybrid=0
if [[ $(stat -f -c %T /sys/fs/cgroup) == tmpfs ]] && [[ $(findmnt -n -o FSTYPE /sys/fs/cgroup/unified 2>/dev/null) == cgroup2 ]]; then hybrid=1; fi
crun_ns=()
((hybrid)) && crun_ns=(unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' crun_ns)
case $(stat -f -c %T /sys/fs/cgroup) in
  cgroup2fs) cgroup_mode="v2 (unified)" ;;
  *) cgroup_mode=$( ((hybrid)) && echo "hybrid (v1 controllers + cgroup2 at /sys/fs/cgroup/unified)" || echo "v1") ;;
esac

# timer OUT CMD...: runs CMD, appends its wall time in microseconds to OUT, exits with its status.
cat > "$work/timer" <<'PERL'
#!/usr/bin/perl
use strict; use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);
my $out = shift;
my $t0 = clock_gettime(CLOCK_MONOTONIC);
my $pid = fork() // die "fork: $!";
if ($pid == 0) { exec { $ARGV[0] } @ARGV or exit 127; }
waitpid($pid, 0);
my $status = $?;
my $t1 = clock_gettime(CLOCK_MONOTONIC);
open(my $fh, '>>', $out) or die "$out: $!";
printf $fh "%d\n", ($t1 - $t0) * 1e6;
exit($status & 127 ? 128 + ($status & 127) : $status >> 8);
PERL
chmod +x "$work/timer"
timer=$work/timer

# The image, fetched once; its render is the rootfs everyone runs. The peers get one copy of it
# (plus an empty /usr, without which systemd-nspawn refuses the directory as "not an OS tree").
image_id=$("$podrt" --dir="$store" --insecure-options=image fetch "$aci" 2>/dev/null | tail -1)
render=$store/cas/tree/$image_id/rootfs
[[ -d $render ]] || { echo "ns_start.sh: no render at $render" >&2; exit 1; }
rootfs=$work/rootfs
cp -a "$render" "$rootfs"
mkdir -p "$rootfs/usr"

# bundle RUNTIME ARGS_JSON: prints the bundle for ARGS, made once from the runtime's default
# spec (`RUNTIME spec`) with only the args, the terminal and the root changed.
bundle() {
  local dir
  dir=$work/bundle-$1-$(md5sum <<<"$2" | cut -c1-8)
  if [[ ! -d $dir ]]; then
    mkdir -p "$dir"
    (cd "$dir" && "$1" spec)
    jq --arg root "$rootfs" --argjson args "$2" \
      '.process.args = $args | .process.terminal = false | .root = {path: $root, readonly: false}' \
      "$dir/config.json" > "$dir/config.json.new"
    mv "$dir/config.json.new" "$dir/config.json"
  fi
  echo "$dir"
}

seq_no=0
# start RUNTIME ARGS_JSON [TIMES_FILE]: one run of ARGS in RUNTIME, timed into TIMES_FILE if
# given (else not timed); the app's stdout goes to stdout, stderr to $work/RUNTIME.log.
start() {
  local rt=$1 args=$2 times=${3:-/dev/null} id rc=0
  seq_no=$((seq_no + 1))
  id=podrt-bench-$BASHPID-$seq_no
  case $rt in
    podrt)
      local argv
      mapfile -t argv < <(jq -r '.[]' <<<"$args")
      "$timer" "$times" "$podrt" --dir="$store" run --net=none example.com/busybox \
        --exec "${argv[0]}" -- "${argv[@]:1}" 2>>"$work/$rt.log" || rc=$?
      remove_pods ;;
    crun|runc)
      local dir prefix=()
      dir=$(bundle "$rt" "$args")
      [[ $rt == crun ]] && prefix=("${crun_ns[@]}")
      containers+=("$rt $id")
      "${prefix[@]}" "$timer" "$times" "$rt" run --bundle "$dir" "$id" 2>>"$work/$rt.log" || rc=$?
      "${prefix[@]}" "$rt" delete -f "$id" >/dev/null 2>&1 || true
      unset 'containers[-1]' ;;
    nspawn)
      local argv
      mapfile -t argv < <(jq -r '.[]' <<<"$args")
      # --keep-unit: stay in our cgroup instead of asking systemd (not PID 1 here) for a scope;
      # --console=pipe: no pty, like the OCI bundles' terminal: false.
      "$timer" "$times" systemd-nspawn -q --register=no --keep-unit --console=pipe -D "$rootfs" -- "${argv[@]}" \
        2>>"$work/$rt.log" || rc=$? ;;
  esac
  return $rc
}
# Which peers can run here: each must exist and run /bin/true once (that run is the warm-up).
runtimes=() skipped=()
for rt in podrt crun runc nspawn; do
  bin=$rt; [[ $rt == nspawn ]] && bin=systemd-nspawn
  [[ $rt == podrt ]] && bin=$podrt
  if ! command -v "$bin" >/dev/null; then skipped+=("$rt: $bin not installed"); continue; fi
  if [[ $rt == crun ]] && ((hybrid)) && ! command -v unshare >/dev/null; then skipped+=("crun: needs unshare on this hybrid host"); continue; fi
  if start "$rt" '["/bin/true"]' >/dev/null; then runtimes+=("$rt")
  else skipped+=("$rt: the warm-up run failed: $(grep -v '^$' "$work/$rt.log" | tail -1)"); fi
done

# Which namespaces each one's app gets, read from its /proc/self/ns (busybox ls -l).
host_ns() { for ns in cgroup ipc mnt net pid uts user; do echo "$ns $(readlink "/proc/self/ns/$ns")"; done; }
new_namespaces() {
  local rt=$1 inside
  inside=$(start "$rt" '["/bin/ls","-l","/proc/self/ns/"]' 2>/dev/null | tr -d '\r' | awk '{print $(NF-2), $NF}') || true
  local list=""
  while read -r ns id; do
    local mine
    mine=$(awk -v n="$ns" '$1 == n {print $2}' <<<"$inside")
    [[ -n $mine && $mine != "$id" ]] && list+="${list:+, }$ns"
  done < <(host_ns)
  echo "${list:-none}"
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "## Pod start to exit: /bin/true (busybox rootfs, $runs interleaved runs each)"
echo
echo "machine: $cpu, $(nproc) cores, kernel $(uname -r), cgroups $cgroup_mode"
echo
for note in "${skipped[@]}"; do echo "- skipped $note"; done
((${#skipped[@]})) && echo

: > "$work/order"
for ((i = 0; i < runs; i++)); do
  for rt in "${runtimes[@]}"; do
    start "$rt" '["/bin/true"]' "$work/$rt.times" >/dev/null ||
      { echo "ns_start.sh: $rt failed: $(tail -3 "$work/$rt.log")" >&2; exit 1; }
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
p95() { sort -n | awk '{a[NR]=$1} END {i=int(NR*0.95); if (i < NR*0.95) i++; print a[i]}'; }
crun_us=""
[[ -s $work/crun.times ]] && crun_us=$(median < "$work/crun.times")
echo "| runtime | command | new namespaces | median (ms) | p95 (ms) | median / crun's |"
echo "|---|---|---|---|---|---|"
for rt in "${runtimes[@]}"; do
  med=$(median < "$work/$rt.times"); p=$(p95 < "$work/$rt.times")
  ratio=null
  [[ -n $crun_us ]] && ratio=$(awk -v m="$med" -v c="$crun_us" 'BEGIN {printf "%.2f", m / c}')
  case $rt in
    podrt) cmd='`podrt run --net=none example.com/busybox --exec /bin/true`' ;;
    crun) cmd='`crun run --bundle B ID`'; ((hybrid)) && cmd+=' in `unshare -m`, cgroup2 unmounted' ;;
    runc) cmd='`runc run --bundle B ID`' ;;
    nspawn) cmd='`systemd-nspawn -q --register=no --keep-unit --console=pipe -D ROOTFS /bin/true`' ;;
  esac
  namespaces=$(new_namespaces "$rt")
  awk -v r="$rt" -v c="$cmd" -v n="$namespaces" -v m="$med" -v p="$p" -v x="$ratio" \
    'BEGIN {printf "| %s | %s | %s | %.1f | %.1f | %s |\n", r, c, n, m / 1000, p / 1000, (x == "null" ? "n/a" : x "x")}'
  if [[ -n $out_dir ]]; then
    printf '{"benchmark":"ns_start","runtime":"%s","app":"/bin/true","runs":%d,"median_us":%s,"p95_us":%s,"ratio_to_crun":%s,"new_namespaces":"%s"}\n' \
      "$rt" "$runs" "$med" "$p" "$ratio" "$namespaces" >> "$out_dir/results.jsonl"
  fi
done
echo
echo "Timed: the runtime's command alone, from fork to exit; deleting the container or pod is"
echo "not timed. p95 is the nearest rank (the slowest run when there are fewer than 20)."
echo "New namespaces: read from /proc/self/ns inside each one (\`ls -l\`), against the host's;"
echo "podrt's net is --net=none's (loopback only), crun's and runc's the default spec's. Cgroups"
echo "(as seen on a cgroup v1/hybrid host): podrt makes a pod cgroup with _init and app children"
echo "in each hierarchy it finds; crun and runc make /ID in every v1 hierarchy (runc in the"
echo "unified one too); systemd-nspawn --keep-unit only splits its own cgroup into supervisor and"
echo "payload in the name=systemd and unified hierarchies."

# Peak RSS (VmHWM): a pod whose app sleeps 1 s; its processes are polled until they exit.
# hwm PID: VmHWM in KiB, or nothing once the process is gone.
hwm() {
  local k v _
  { while read -r k v _; do [[ $k == VmHWM: ]] && { echo "$v"; return; }; done < "/proc/$1/status"; } 2>/dev/null || true
}
# poll_hwm PID NAME_PATTERN...: until PID exits, the last VmHWM of PID and of its children
# whose command line matches each pattern ("self" for PID itself), one "pattern KiB" line each.
poll_hwm() {
  local pid=$1; shift
  declare -A peak=()
  while kill -0 "$pid" 2>/dev/null; do
    for pattern in "$@"; do
      local p=$pid v
      [[ $pattern == self ]] || p=$(pgrep -P "$pid" -f -- "$pattern" | head -1) || continue
      [[ -n $p ]] || continue
      v=$(hwm "$p"); [[ -n $v ]] && peak[$pattern]=$v
    done
    sleep 0.02
  done
  for pattern in "$@"; do echo "$pattern ${peak[$pattern]:-}"; done
}

echo
echo "## Peak RSS (VmHWM) while the app sleeps 1 s"
echo
echo "| process | VmHWM (KiB) |"
echo "|---|---|"
rss_row() {
  [[ -n $2 ]] || return 0
  echo "| $1 | $2 |"
  if [[ -n $out_dir ]]; then
    printf '{"benchmark":"ns_start_rss","process":"%s","vmhwm_kib":%s}\n' "$1" "$2" >> "$out_dir/results.jsonl"
  fi
}
# podrt run execs podrt-stage1-ns (same pid), whose child is the pod init (PID 1 in the pod).
"$podrt" --dir="$store" run --net=none example.com/busybox --exec /bin/sleep -- 1 2>>"$work/podrt.log" &
podrt_pid=$!
background+=("$podrt_pid")
readarray -t rows < <(poll_hwm "$podrt_pid" self podrt-pod-init)
wait "$podrt_pid" || true
remove_pods
rss_row "podrt-stage1-ns (podrt run after its exec)" "${rows[0]#self }"
rss_row "podrt-pod-init (the pod's PID 1)" "${rows[1]#podrt-pod-init }"
if [[ " ${runtimes[*]} " == *" crun "* ]]; then
  dir=$(bundle crun '["/bin/sleep","1"]')
  id=podrt-bench-$$-rss
  containers+=("crun $id")
  "${crun_ns[@]}" crun run --bundle "$dir" "$id" 2>>"$work/crun.log" &
  crun_pid=$!  # unshare and sh exec, so this is crun's own pid
  background+=("$crun_pid")
  readarray -t rows < <(poll_hwm "$crun_pid" self)
  wait "$crun_pid" || true
  "${crun_ns[@]}" crun delete -f "$id" >/dev/null 2>&1 || true
  rss_row "crun run (crun's own process)" "${rows[0]#self }"
fi
echo
echo "Goal: the pod init's VmHWM <= 2048 KiB. The stage1 row is podrt's whole supervisor"
echo "(podrt run execs it); crun's row is the crun process that waits for the container."
