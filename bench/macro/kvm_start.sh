#!/usr/bin/env bash
# KVM pod start-to-exit latency of /bin/true: `podrt run --stage1=kvm --net=none` (image already
# fetched, its erofs disk and the initramfs cached) vs a plain QEMU booting the same guest kernel
# with the same machine flags and an initramfs whose static /init only reboots, runs interleaved
# (A B A B ...), median and p95 of each with podrt's ratio to plain QEMU's. Then the guest's boot
# to init, where podrt's time goes (--debug timestamps) and the peak RSS of QEMU and stage1-kvm.
#
# usage: bench/macro/kvm_start.sh [--quick] [--runs N] [--out DIR] [--build DIR] [--tmp DIR]
#   --runs N    timed runs of each (default 20; 5 with --quick)
#   --out DIR   appends to DIR/results.jsonl and writes DIR/kvm_start.md (default: no files)
#   --build DIR where bin/, kernel/vmlinux and images/busybox.aci are (default: build)
#   --tmp DIR   where the store, the initramfs and the logs go (default: /var/tmp)
# Needs root, qemu-system-x86_64, gcc with a static libc, cpio and perl. Only the command itself
# is timed (CLOCK_MONOTONIC, in a perl helper that forks and execs it); `podrt rm` comes after.
set -euo pipefail

quick=0 runs="" out_dir="" build_dir=build tmp_root=/var/tmp
usage() { sed -n '8,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --runs) runs=$2; shift ;;
    --out) out_dir=$2; shift ;;
    --build) build_dir=$2; shift ;;
    --tmp) tmp_root=$2; shift ;;
    -h|--help) usage ;;
    *) echo "kvm_start.sh: unknown argument $1" >&2; usage ;;
  esac
  shift
done
runs=${runs:-$((quick ? 5 : 20))}
debug_runs=$((quick ? 3 : 5))  # the --debug runs for the phase breakdown
podrt=$(realpath -m "$build_dir/bin/podrt")
kernel=$(realpath -m "$build_dir/kernel/vmlinux")
aci=$build_dir/images/busybox.aci
[[ $(id -u) == 0 ]] || { echo "kvm_start.sh: needs root" >&2; exit 1; }
for f in "$podrt" "$build_dir/bin/podrt-stage1-kvm" "$build_dir/bin/podrt-guest-init" "$kernel" "$aci"; do
  [[ -e $f ]] || { echo "kvm_start.sh: $f missing: build podrt, podrt-stage1-kvm, podrt-guest-init, the guest kernel and busybox-aci" >&2; exit 1; }
done
for tool in qemu-system-x86_64 gcc cpio perl; do
  command -v "$tool" >/dev/null || { echo "kvm_start.sh: $tool is not installed" >&2; exit 1; }
done
qemu=$(command -v qemu-system-x86_64)
if [[ -n $out_dir ]]; then
  mkdir -p "$out_dir"
  exec 3>&1 > >(tee "$out_dir/kvm_start.md")
  tee_pid=$!
fi

work=$(mktemp -d "$tmp_root/podrt-kvm-start-XXXXXX")
store=$work/store
background=()  # pids of the runs started with &, killed on exit
cleanup() {
  set +e
  for pid in "${background[@]}"; do kill -KILL "$pid"; done 2>/dev/null
  for pid in "${background[@]}"; do wait "$pid"; done 2>/dev/null
  remove_pods
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
# stamp OUT CMD...: runs CMD with its stderr through a pipe; writes each stderr line to OUT as
# "MICROSECONDS LINE" (time since the fork), then "MICROSECONDS exit STATUS" once CMD has exited.
cat > "$work/stamp" <<'PERL'
#!/usr/bin/perl
use strict; use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);
my $out = shift;
pipe(my $r, my $w) or die "pipe: $!";
open(my $fh, '>', $out) or die "$out: $!";
my $t0 = clock_gettime(CLOCK_MONOTONIC);
my $pid = fork() // die "fork: $!";
if ($pid == 0) { close $r; open(STDERR, '>&', $w) or exit 127; close $w; exec { $ARGV[0] } @ARGV or exit 127; }
close $w;
my @lines;
while (my $line = <$r>) { push @lines, sprintf("%d %s", (clock_gettime(CLOCK_MONOTONIC) - $t0) * 1e6, $line); }
waitpid($pid, 0);
my $status = $?;
my $t1 = clock_gettime(CLOCK_MONOTONIC);
print $fh @lines;
printf $fh "%d exit %d\n", ($t1 - $t0) * 1e6, $status;
exit($status & 127 ? 128 + ($status & 127) : $status >> 8);
PERL
chmod +x "$work/timer" "$work/stamp"
timer=$work/timer stamp=$work/stamp

# What podrt's stage1-kvm would run QEMU with here: KVM only where `podrt info` says so.
info=$("$podrt" info)
kvm_kind=$(sed -n 's/^kvm: *//p' <<<"$info")
kvm_pods=$(sed -n 's/^kvm pods: *//p' <<<"$info")
if [[ $kvm_pods == "qemu with KVM"* ]]; then accel=kvm cpu_model=host; else accel=tcg cpu_model=max; fi

# The plain guest: the same vmlinux, an initramfs of /dev/console and a static /init that reboots
# at once (reboot=t: a triple fault, which ends QEMU under -no-reboot). Should reboot() fail, init
# exits and the kernel panics, which (panic=-1) reboots too: a run cannot hang.
mkdir -p "$work/initramfs/dev"
cat > "$work/init.c" <<'C'
#include <sys/reboot.h>
int main(void) {
  reboot(RB_AUTOBOOT);
  return 1;
}
C
gcc -static -O2 -o "$work/initramfs/init" "$work/init.c"
mknod "$work/initramfs/dev/console" c 5 1
(cd "$work/initramfs" && printf '%s\n' . dev dev/console init | cpio -o -H newc --quiet) > "$work/init.cpio"
# qemu_arguments() of stage1-kvm/qemu/qemu_hypervisor.cc for a 128 MiB, 1-vCPU pod, less the
# virtio devices (its disk, the control port); the console is a file here, a socket there.
# kernel_command_line() of stage1-kvm/entrypoint_run.cc without --debug.
cmdline="console=ttyS0 reboot=t panic=-1 8250.nr_uarts=1 no_timer_check"
# plain_argv CONSOLE_FILE KERNEL_COMMAND_LINE [RTC]: sets argv to the plain QEMU's command line
# (RTC: microvm's rtc=, on as podrt has it unless given).
plain_argv() {
  argv=("$qemu" -name podrt-bench-plain -M "microvm,acpi=off,x-option-roms=off,rtc=${3:-on}"
    -accel "$accel" -cpu "$cpu_model" -m 128 -smp 1 -nodefaults -no-user-config -nographic
    -display none -no-reboot -kernel "$kernel" -initrd "$work/init.cpio" -append "$2"
    -chardev "file,id=console,path=$1" -serial chardev:console)
}

seq_no=0
# start SETUP [TIMES_FILE]: one run of SETUP (podrt or qemu), timed into TIMES_FILE if given.
start() {
  local setup=$1 times=${2:-/dev/null} rc=0 argv
  seq_no=$((seq_no + 1))
  case $setup in
    podrt)
      "$timer" "$times" "$podrt" --dir="$store" run --stage1=kvm --net=none example.com/busybox \
        --exec /bin/true >/dev/null 2>>"$work/podrt.log" || rc=$?
      remove_pods ;;
    qemu)
      plain_argv "$work/plain-console.log" "$cmdline quiet"
      "$timer" "$times" "${argv[@]}" </dev/null >/dev/null 2>>"$work/qemu.log" || rc=$? ;;
  esac
  return $rc
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
qemu_version=$("$qemu" --version | head -1 | sed 's/^QEMU emulator version //')
echo "## KVM pod start to exit: /bin/true ($runs interleaved runs each, QEMU with ${accel^^})"
echo
echo "machine: $cpu, $(nproc) cores, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "KVM: $kvm_kind"
echo "kvm pods: $kvm_pods"
echo "QEMU: $qemu_version; guest kernel: $(readlink -f "$kernel")"
echo

# The image, fetched once; one untimed run of each first (podrt's erofs disk and initramfs are
# made then, and both read the kernel into the page cache).
"$podrt" --dir="$store" --insecure-options=image fetch "$aci" >/dev/null 2>>"$work/podrt.log"
for setup in podrt qemu; do
  start "$setup" || { echo "kvm_start.sh: the warm-up run of $setup failed: $(tail -3 "$work/$setup.log")" >&2; exit 1; }
done

for ((i = 0; i < runs; i++)); do
  for setup in podrt qemu; do
    start "$setup" "$work/$setup.times" ||
      { echo "kvm_start.sh: $setup failed: $(tail -3 "$work/$setup.log")" >&2; exit 1; }
  done
done

median() { sort -n | awk '{a[NR]=$1} END {printf "%.0f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
p95() { sort -n | awk '{a[NR]=$1} END {i=int(NR*0.95); if (i < NR*0.95) i++; print a[i]}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.1f", u / 1000}'; }
jsonl() { [[ -z $out_dir ]] || echo "$1" >> "$out_dir/results.jsonl"; }
qemu_us=$(median < "$work/qemu.times")
podrt_us=$(median < "$work/podrt.times")
echo "| setup | command | median (ms) | p95 (ms) | median / plain QEMU's |"
echo "|---|---|---|---|---|"
for setup in podrt qemu; do
  med=$(median < "$work/$setup.times"); p=$(p95 < "$work/$setup.times")
  ratio=$(awk -v m="$med" -v q="$qemu_us" 'BEGIN {printf "%.2f", m / q}')
  case $setup in
    podrt) cmd='`podrt run --stage1=kvm --net=none example.com/busybox --exec /bin/true`' ;;
    qemu) cmd="\`qemu-system-x86_64 -M microvm,… -accel $accel -m 128 -smp 1 -kernel vmlinux -initrd INIT.cpio\` (/init reboots)" ;;
  esac
  echo "| $setup | $cmd | $(ms "$med") | $(ms "$p") | ${ratio}× |"
  jsonl "$(printf '{"benchmark":"kvm_start","setup":"%s","accel":"%s","app":"/bin/true","runs":%d,"median_us":%s,"p95_us":%s,"ratio_to_qemu":%s}' \
    "$setup" "$accel" "$runs" "$med" "$p" "$ratio")"
done
ratio=$(awk -v m="$podrt_us" -v q="$qemu_us" 'BEGIN {printf "%.2f", m / q}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r <= 1.10 ? "met" : "missed")}')
echo
echo "Goal: podrt / plain QEMU ≤ 1.10×: ${ratio}×, $verdict. Timed: the command alone, from fork to"
echo "exit; \`podrt rm\` of the exited pod is not timed. p95 is the nearest rank (the slowest run"
echo "when there are fewer than 20). Plain QEMU gets podrt's machine flags (\`-M"
echo "microvm,acpi=off,x-option-roms=off -accel $accel -cpu $cpu_model -m 128 -smp 1 -nodefaults"
echo "-no-user-config -nographic -display none -no-reboot\`) and kernel command line (\`$cmdline"
echo "quiet\`), the serial console into a file; podrt's VM has a virtio-blk disk (the app's erofs"
echo "rootfs) and a virtio-serial control port more, and its /init is podrt-guest-init."

# Boot to init, as the guest's kernel sees it (printk.time=1, no quiet): one plain boot, one with
# rtc=off instead for comparison (the guest kernel then waits about a second for a CMOS clock),
# and one --debug pod, whose stage1 echoes the guest console.
# kernel_us LOG PATTERN: the guest's timestamp of the first console line matching PATTERN, in us.
kernel_us() { LINE=$2 perl -ne 'if (/\[ *(\d+\.\d+)\] \Q$ENV{LINE}\E/) { printf "%d\n", $1 * 1e6; exit }' "$1"; }
plain_argv "$work/plain-boot.log" "$cmdline printk.time=1"
"${argv[@]}" </dev/null >/dev/null 2>>"$work/qemu.log" || true
plain_argv "$work/plain-rtc.log" "$cmdline printk.time=1" off
"${argv[@]}" </dev/null >/dev/null 2>>"$work/qemu.log" || true
PODRT_KVM_KERNEL_ARGS=printk.time=1 "$podrt" --dir="$store" --debug run --stage1=kvm --net=none \
  example.com/busybox --exec /bin/true >/dev/null 2>"$work/podrt-boot.log" || true
remove_pods
init_line='Run /init as init process' reboot_line='reboot: Restarting system'
plain_init=$(kernel_us "$work/plain-boot.log" "$init_line")
plain_reboot=$(kernel_us "$work/plain-boot.log" "$reboot_line")
rtc_init=$(kernel_us "$work/plain-rtc.log" "$init_line")
podrt_init=$(kernel_us "$work/podrt-boot.log" "$init_line")
podrt_reboot=$(kernel_us "$work/podrt-boot.log" "$reboot_line")
minus() { [[ -n $1 && -n $2 ]] && echo $(($1 - $2)); }

# Where podrt's time goes: --debug runs, each stderr line stamped on arrival. `quiet` is put back
# (PODRT_KVM_KERNEL_ARGS) so the guest prints what it prints in the timed runs. Marks: stage1's
# "starting qemu" (just before it forks QEMU), "guest … up after N ms" (guest-init's hello; N is
# counted by stage1 from the fork of QEMU) and the exit of `podrt run`.
: > "$work/phases"
for ((i = 0; i < debug_runs; i++)); do
  PODRT_KVM_KERNEL_ARGS=quiet "$stamp" "$work/debug.log" "$podrt" --dir="$store" --debug run \
    --stage1=kvm --net=none example.com/busybox --exec /bin/true >/dev/null || true
  remove_pods
  awk '/podrt: debug: starting qemu/ {s = $1} / up after [0-9]+ ms/ {h = $1; n = $(NF-1) * 1000}
       $2 == "exit" {e = $1} END {if (s && h && e) print s, h - s, e - h, e, n}' "$work/debug.log" >> "$work/phases"
done
[[ -s $work/phases ]] || { echo "kvm_start.sh: no --debug run printed its marks: $(tail -3 "$work/debug.log")" >&2; exit 1; }
col() { awk -v c="$1" '{print $c}' "$work/phases" | median; }
setup_us=$(col 1) boot_us=$(col 2) finish_us=$(col 3) total_us=$(col 4) hello_us=$(col 5)

echo
echo "## Boot to init and where podrt's time goes"
echo
echo "| measure | ms |"
echo "|---|---|"
row() {  # row LABEL MICROSECONDS KEY
  [[ -n $2 ]] || return 0
  echo "| $1 | $(ms "$2") |"
  jsonl "$(printf '{"benchmark":"kvm_boot","measure":"%s","accel":"%s","ms":%s}' "$3" "$accel" "$(ms "$2")")"
}
row "plain QEMU: guest clock at \"Run /init as init process\" (boot to init)" "$plain_init" plain_kernel_to_init
row "plain QEMU: /init to \"reboot: Restarting system\" (guest clock)" "$(minus "$plain_reboot" "$plain_init")" plain_init_to_reboot
row "plain QEMU with rtc=off: boot to init (for comparison only: no CMOS clock costs a second)" "$rtc_init" plain_rtc_off_kernel_to_init
row "podrt's VM (--debug, PODRT_KVM_KERNEL_ARGS=printk.time=1): boot to init" "$podrt_init" podrt_kernel_to_init
row "podrt's VM: /init (podrt-guest-init) to \"reboot: Restarting system\"" "$(minus "$podrt_reboot" "$podrt_init")" podrt_init_to_reboot
row "podrt: \"guest … up after N ms\" (QEMU fork to guest-init's hello), median of $debug_runs" "$hello_us" podrt_hello
row "podrt --debug: fork of \`podrt run\` to stage1's \"starting qemu\" (stage0 + stage1 setup)" "$setup_us" podrt_setup
row "podrt --debug: \"starting qemu\" to the hello frame arriving" "$boot_us" podrt_boot
row "podrt --debug: hello to the exit of \`podrt run\` (config, app, results, reboot, teardown)" "$finish_us" podrt_finish
row "podrt --debug: the whole run (the timed runs' median: $(ms "$podrt_us"))" "$total_us" podrt_debug_total
row "plain QEMU: the whole run, fork to exit (the timed runs' median)" "$qemu_us" plain_total
echo
echo "The guest-clock rows come from one boot each with printk.time=1 and without quiet (the console"
echo "prints more than in the timed runs); they start at the kernel's first instruction, so they leave"
echo "out QEMU's own start and exit. The podrt --debug rows are medians of $debug_runs runs, each row on its"
echo "own (they need not add up exactly), with quiet (as the timed runs)."

# Peak RSS: a pod whose app sleeps 2 s. stage1-kvm writes the pod dir's stage1/hypervisor-pid
# (QEMU) and pid (itself) once QEMU runs; both are polled every 20 ms until they exit.
# status_kib PID FIELD: the field (VmHWM, VmRSS) in KiB, or nothing once the process is gone.
status_kib() {
  local k v _
  { while read -r k v _; do [[ $k == "$2:" ]] && { echo "$v"; return; }; done < "/proc/$1/status"; } 2>/dev/null || true
}
# poll_rss PID...: until the first PID exits, "HWM PEAK_RSS" of each PID (their last VmHWM, the
# largest VmRSS seen), one line each.
poll_rss() {
  local -a hwm=() rss=()
  local i v
  while kill -0 "$1" 2>/dev/null; do
    for ((i = 1; i <= $#; i++)); do
      v=$(status_kib "${!i}" VmHWM); [[ -n $v ]] && hwm[i]=$v
      v=$(status_kib "${!i}" VmRSS); [[ -n $v ]] && ((v > ${rss[i]:-0})) && rss[i]=$v
    done
    sleep 0.02
  done
  for ((i = 1; i <= $#; i++)); do echo "${hwm[i]:-} ${rss[i]:-}"; done
}

"$podrt" --dir="$store" run --stage1=kvm --net=none example.com/busybox --exec /bin/sleep -- 2 \
  >/dev/null 2>>"$work/podrt.log" &
podrt_pid=$!
background+=("$podrt_pid")
qemu_pid="" stage1_pid=""
for ((i = 0; i < 500; i++)); do
  pod_dir=$(find "$store/pods/run" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -1)
  if [[ -n $pod_dir && -s $pod_dir/pid ]]; then
    qemu_pid=$(cat "$pod_dir/stage1/hypervisor-pid") stage1_pid=$(cat "$pod_dir/pid")
    break
  fi
  kill -0 "$podrt_pid" 2>/dev/null || break
  sleep 0.02
done
[[ -n $qemu_pid ]] || { echo "kvm_start.sh: the sleep pod wrote no pid files: $(tail -3 "$work/podrt.log")" >&2; exit 1; }
readarray -t rows < <(poll_rss "$qemu_pid" "$stage1_pid")
wait "$podrt_pid" || true
remove_pods
# The plain QEMU's, for comparison: its guest reboots at once.
plain_argv "$work/plain-console.log" "$cmdline quiet"
"${argv[@]}" </dev/null >/dev/null 2>>"$work/qemu.log" &
plain_pid=$!
background+=("$plain_pid")
readarray -t plain_rows < <(poll_rss "$plain_pid")
wait "$plain_pid" || true

echo
echo "## Peak RSS while the app sleeps 2 s"
echo
echo "| process | VmHWM (KiB) | largest VmRSS seen (KiB) |"
echo "|---|---|---|"
rss_row() {  # rss_row LABEL "HWM RSS"
  local hwm rss
  read -r hwm rss <<<"$2"
  [[ -n $hwm ]] || return 0
  echo "| $1 | $hwm | ${rss:-n/a} |"
  jsonl "$(printf '{"benchmark":"kvm_start_rss","process":"%s","vmhwm_kib":%s,"peak_vmrss_kib":%s}' "$1" "$hwm" "${rss:-null}")"
}
rss_row "qemu-system-x86_64 of the podrt pod (stage1/hypervisor-pid)" "${rows[0]}"
rss_row "podrt-stage1-kvm (the pod dir's pid: podrt run after its exec)" "${rows[1]}"
rss_row "qemu-system-x86_64, plain boot to reboot (/init reboots at once)" "${plain_rows[0]}"
echo
echo "Polled every 20 ms from /proc/PID/status: VmHWM is the kernel's own peak (its last value"
echo "before the process exits), VmRSS the largest value a poll saw. The guest has -m 128 (QEMU"
echo "maps it lazily: only the pages the guest touches count)."
