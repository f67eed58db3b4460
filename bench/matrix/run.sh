#!/usr/bin/env bash
# The benchmark matrix: workloads (true, cpu, io, memory, density; see workloads.sh) × isolation
# modes (podrt ns, podrt kvm with each hypervisor, crun, runc, systemd-nspawn, a plain QEMU
# microvm; see modes.sh), all on the same busybox rootfs, runs interleaved (for each round, each
# mode once in turn). Writes DIR/matrix.jsonl (raw records), then report.pl makes DIR/report.md,
# DIR/results.json and DIR/chart.svg from it.
#
# usage: bench/matrix/run.sh [--quick] [--out DIR] [--build DIR] [--modes M,M…] [--workloads W,W…]
#   --quick      fewer rounds (5; 3 for the VM modes), 3 pods for density (3 rounds)
#   --out DIR    where the results go (default: BUILD/bench-matrix-DATE)
#   --build DIR  where bin/podrt, kernel/vmlinux and images/busybox.aci are (default: build)
#   --modes, --workloads  run only these (comma-separated; default: all)
# Needs root. A mode whose tools are missing or whose warm-up /bin/true run fails is skipped,
# with the reason in the report; so is a cell whose runs all fail.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

matrix_dir=$(realpath "$(dirname "$0")")
quick=0 out_dir="" build_dir=build only_modes="" only_workloads=""
usage() { sed -n '8,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --out) out_dir=$2; shift ;;
    --build) build_dir=$2; shift ;;
    --modes) only_modes=$2; shift ;;
    --workloads) only_workloads=$2; shift ;;
    -h|--help) usage ;;
    *) echo "matrix: unknown argument $1" >&2; usage ;;
  esac
  shift
done
if ((quick)); then
  rounds=5 rounds_vm=3 density_n=3 density_rounds=3
else
  rounds=20 rounds_vm=20 density_n=10 density_rounds=20
fi
podrt=$(realpath -m "$build_dir/bin/podrt")
kernel=$(realpath -m "$build_dir/kernel/vmlinux")
aci=$(realpath -m "$build_dir/images/busybox.aci")
out_dir=${out_dir:-$build_dir/bench-matrix-$(date +%Y%m%d-%H%M%S)}
[[ $(id -u) == 0 ]] || { echo "matrix: needs root" >&2; exit 1; }
[[ -x $podrt && -f $aci ]] || { echo "matrix: $podrt or $aci missing: build podrt and busybox-aci" >&2; exit 1; }
for tool in perl jq; do
  command -v "$tool" >/dev/null || { echo "matrix: $tool is not installed" >&2; exit 1; }
done
mkdir -p "$out_dir"
out_dir=$(realpath "$out_dir")
raw=$out_dir/matrix.jsonl
: > "$raw"

# shellcheck source=lib.sh
source "$matrix_dir/lib.sh"
# shellcheck source=modes.sh
source "$matrix_dir/modes.sh"
# shellcheck source=workloads.sh
source "$matrix_dir/workloads.sh"

work=$(mktemp -d /var/tmp/podrt-matrix-XXXXXX)
store=$work/store
timer=$matrix_dir/timer.pl
running=()  # "MODE PID" of every pod started in the background and not yet stopped
cleanup() {
  set +e
  local entry rt id
  for entry in "${running[@]}"; do mode_stop "${entry% *}" "${entry#* }"; done 2>/dev/null
  for rt in crun runc; do  # a timed run interrupted mid-way
    command -v "$rt" >/dev/null || continue
    for id in $("$rt" list -q 2>/dev/null | grep "^podrt-matrix-$$-"); do
      if [[ $rt == crun ]]; then "${crun_ns[@]}" crun delete -f "$id"; else runc delete -f "$id"; fi
    done
  done >/dev/null 2>&1
  stop_pods
  remove_pods
  findmnt -rn -o TARGET | grep -F "$work/" | sort -r | xargs -r -n1 umount -l
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
started_at=$SECONDS

# ---- the rootfs, the peers' setup --------------------------------------------------------------
say "results in $out_dir; scratch in $work"
machine_facts "$podrt"
# The image, fetched once; its render is the rootfs podrt runs, and a copy of it (plus an empty
# /usr, without which systemd-nspawn refuses the directory) is the peers'.
image_id=$("$podrt" --dir="$store" --insecure-options=image fetch "$aci" 2>>"$work/fetch.log" | tail -1)
[[ -d $store/cas/tree/$image_id/rootfs ]] || { echo "matrix: no render of $aci: $(tail -3 "$work/fetch.log")" >&2; exit 1; }
rootfs=$work/rootfs
cp -a "$store/cas/tree/$image_id/rootfs" "$rootfs"
mkdir -p "$rootfs/usr"

# crun 1.8 refuses hybrid cgroup hosts ("cgroups in hybrid mode not supported"): there it runs in
# a private mount namespace without the unified hierarchy, so it sees cgroup v1 only.
crun_ns=()
if [[ $(cgroup_mode) == hybrid ]]; then
  # shellcheck disable=SC2016 # $@ is for the inner sh
  crun_ns=(unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' crun_ns)
fi

# The plain QEMU peer runs as stage1-kvm would here: with KVM only where `podrt info` says so.
qemu=$(command -v qemu-system-x86_64 || echo qemu-system-x86_64)
if [[ $("$podrt" info 2>/dev/null | sed -n 's/^kvm pods: *//p') == "qemu with KVM"* ]]; then
  accel=kvm cpu_model=host
else
  accel=tcg cpu_model=max
fi
qemu_base_cpio=$work/qemu-base.cpio
qemu_setup_error=""
if command -v gcc >/dev/null && command -v cpio >/dev/null; then
  mkdir -p "$work/qemu-root"
  cp -a "$rootfs/." "$work/qemu-root/"
  mkdir -p "$work/qemu-root/dev"
  mknod "$work/qemu-root/dev/console" c 5 1
  if gcc -static -O2 -o "$work/qemu-root/init" "$matrix_dir/qemu-init.c" 2>"$work/gcc.log"; then
    (cd "$work/qemu-root" && find . -mindepth 1 | cpio -o -H newc --quiet) > "$qemu_base_cpio"
  else
    qemu_setup_error="gcc -static failed on qemu-init.c: $(first_line "$(cat "$work/gcc.log")")"
  fi
fi

# ---- which modes run here ------------------------------------------------------------------------
selected() { [[ -z $2 || ",$2," == *",$1,"* ]]; }
modes=()
for mode in "${all_modes[@]}"; do
  selected "$mode" "$only_modes" || continue
  reason=$(mode_missing "$mode")
  [[ -n $reason || $mode != qemu-microvm ]] || reason=$qemu_setup_error
  if [[ -z $reason ]]; then
    # The warm-up run: podrt's kvm erofs disk and initramfs are made then, the kernel and the
    # binaries read into the page cache. Its failure's last line is the reason shown.
    lines=$(line_count "$work/$mode.log")
    if ! mode_run "$mode" /dev/null /bin/true; then
      reason="the warm-up /bin/true run failed: $(last_log_line "$mode" "$lines")"
    fi
  fi
  if [[ -n $reason ]]; then
    say "skipping $mode: $reason"
    emit type=mode mode="$mode" status=skipped reason="$reason" command="$(mode_command "$mode")"
  else
    modes+=("$mode")
    emit type=mode mode="$mode" status=ok vm:="$(is_vm "$mode" && echo true || echo false)" \
      version="$(mode_version "$mode")" command="$(mode_command "$mode")"
  fi
done
((${#modes[@]})) || { echo "matrix: no mode can run here" >&2; exit 1; }
say "modes: ${modes[*]}"

calibrate_cpu
emit type=config quick:=$quick rounds:=$rounds rounds_vm:=$rounds_vm density_n:=$density_n \
  density_rounds:=$density_rounds cpu_iterations:="$cpu_iterations" cpu_native_ms:="$cpu_native_ms" \
  accel="$accel" cgroup_workaround="${crun_ns[*]:+crun runs in unshare -m with /sys/fs/cgroup/unified unmounted (crun 1.8 refuses hybrid cgroup hosts)}"

# rounds_of MODE [WORKLOAD]: how many rounds MODE runs.
rounds_of() {
  if [[ ${2:-} == density ]]; then echo "$density_rounds"
  elif is_vm "$1"; then echo "$rounds_vm"
  else echo "$rounds"; fi
}
# run_failed WORKLOAD MODE ROUND REASON: records a failed run with its reason.
run_failed() {
  say "$1 $2 round $3 failed: $4"
  emit type=failure workload="$1" mode="$2" round:="$3" reason="${4:-no message}"
}

# ---- timed workloads: start to exit --------------------------------------------------------------
timed_round() {  # timed_round WORKLOAD ROUND
  local mode lines
  for mode in "${modes[@]}"; do
    (($2 <= $(rounds_of "$mode"))) || continue
    : > "$work/run.times"
    lines=$(line_count "$work/$mode.log")
    if mode_run "$mode" "$work/run.times" "${wargv[@]}"; then
      emit type=sample workload="$1" mode="$mode" round:="$2" value:="$(tail -1 "$work/run.times")" unit=us
    else
      run_failed "$1" "$mode" "$2" "$(last_log_line "$mode" "$lines")"
    fi
  done
}

# ---- sampled workloads: host memory of idle pods --------------------------------------------------
# memory_round WORKLOAD ROUND PODS: for each mode, PODS idle pods at once; once each has printed
# "podrt-bench-ready", the PSS of all their process trees (the largest of 5 samples 100 ms apart), per pod.
memory_round() {
  local workload=$1 round=$2 pods=$3 mode i lines pids pid waits reason said timeout pss rss procs
  for mode in "${modes[@]}"; do
    ((round <= $(rounds_of "$mode" "$workload"))) || continue
    lines=$(line_count "$work/$mode.log")
    pids=() waits=()
    for ((i = 0; i < pods; i++)); do
      mode_start "$mode" "$work/idle-$i.out" "${wargv[@]}"
      pids+=("$started_pid") waits+=("$work/idle-$i.out" "$started_pid")
    done
    if is_vm "$mode"; then timeout=$((60 + 30 * pods)); else timeout=$((30 + 5 * pods)); fi
    if reason=$(wait_for_text "$timeout" podrt-bench-ready "${waits[@]}"); then
      read -r pss rss procs <<<"$(pss_sample "${pids[@]}")"
      for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || reason="a pod (process $pid) exited while it was measured"
      done
    fi
    if [[ -z $reason ]]; then
      emit type=sample workload="$workload" mode="$mode" round:="$round" unit=KiB pods:="$pods" \
        value:="$((pss / pods))" total_pss_kib:="$pss" total_rss_kib:="$rss" processes:="$procs"
      mode_stop "$mode" "${pids[@]}"
    else
      # What the runtime said, read before the teardown adds its own lines.
      said=$(last_log_line "$mode" "$lines")
      mode_stop "$mode" "${pids[@]}"
      run_failed "$workload" "$mode" "$round" "$reason${said:+; the runtime said: $said}"
    fi
    rm -f "$work"/idle-*.out
  done
}

for workload in true cpu io memory density; do
  selected "$workload" "$only_workloads" || continue
  workload_argv "$workload"
  emit type=workload workload="$workload" description="$(workload_description "$workload")" \
    argv="$(shell_words "${wargv[@]}")"
  max=$rounds; ((rounds_vm > max)) && max=$rounds_vm
  [[ $workload == density ]] && max=$density_rounds
  for ((round = 1; round <= max; round++)); do
    say "$workload: round $round/$max"
    case $workload in
      memory) memory_round memory "$round" 1 ;;
      density) memory_round density "$round" "$density_n" ;;
      *) timed_round "$workload" "$round" ;;
    esac
  done
done

emit type=end duration_s:=$((SECONDS - started_at)) load_average="$(cut -d' ' -f1-3 /proc/loadavg)"
say "matrix done in $((SECONDS - started_at)) s; writing the report"
perl "$matrix_dir/report.pl" "$out_dir" "$matrix_dir/chart.gp"
