#!/usr/bin/env bash
# The builtin VMM (podrt-vmm), two ways:
# 1. direct on this machine's /dev/kvm: podrt-vmm booting a tiny hand-written ELF payload (it
#    writes the boot-timer byte, spins ~300 ms, resets through the i8042), N runs: setup time and
#    time to the payload's first instruction (podrt-vmm --report-times), the process's wall time,
#    and its RSS outside guest memory (from /proc/PID/smaps, every ~20 ms during the spin);
# 2. inside the nested test host (tests/vmm/builtin/run-in-test-host, where /dev/kvm runs Linux
#    guests): the same pod under --hypervisor=builtin and --hypervisor=qemu (-accel kvm),
#    interleaved, the host memory (PSS) of one pod of each, and per pod with N idle pods of each
#    running at once (as Kata's density/memory_usage.sh averages over 20 containers).
#
# usage: bench/macro/builtin_vmm.sh BUILD_DIR RUNS OUT_DIR QUICK
#   BUILD_DIR  where bin/podrt, bin/podrt-vmm, bin/podrt-stage1-kvm, images/busybox.aci are
#   RUNS       the direct runs (part 1)
#   OUT_DIR    gets builtin_vmm.md (this report), builtin_vmm.* (raw numbers, the payload) and
#              appends to results.jsonl
#   QUICK      1: 2 pods of each kind in the test host, 2 at once for memory; 0: 5, and 3 at once
# Needs root, as and ld (binutils), perl, qemu-system-x86_64 and mkfs.ext4 (the test host), and
# the test-host kernel cached (kernel-config/build-kernel --flavour test-host); without it, part 2
# is skipped with the reason.
set -euo pipefail

(($# == 4)) || { sed -n '11,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
build_dir=$(realpath -m "$1") runs=$2 out_dir=$3 quick=$4
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "builtin_vmm.sh: RUNS $runs is not a positive number" >&2; exit 2; }
repo=$(realpath -m "$(dirname "$0")/../..")
mkdir -p "$out_dir"
out_dir=$(realpath "$out_dir")
vmm=$build_dir/bin/podrt-vmm podrt=$build_dir/bin/podrt aci=$build_dir/images/busybox.aci
test_host_runs=$((quick ? 2 : 5))
# 3 at most: 4 or 10 builtin pods at once sometimes never boot in the 1-vCPU test host
# (bench/README.md, "The builtin VMM"; not root-caused yet).
density_pods=$((quick ? 2 : 3))
memory_mib=128  # the payload's guest memory, as a pod's
[[ $(id -u) == 0 ]] || { echo "builtin_vmm.sh: needs root" >&2; exit 1; }
for f in "$vmm" "$podrt" "$build_dir/bin/podrt-stage1-kvm" "$aci"; do
  [[ -e $f ]] || { echo "builtin_vmm.sh: $f missing: build podrt, podrt-vmm, podrt-stage1-kvm and busybox-aci" >&2; exit 1; }
done
for tool in as ld perl; do
  command -v "$tool" >/dev/null || { echo "builtin_vmm.sh: $tool is not installed" >&2; exit 1; }
done

exec 3>&1 > >(tee "$out_dir/builtin_vmm.md")
tee_pid=$!
work=$(mktemp -d /var/tmp/podrt-builtin-vmm-XXXXXX)
shared=""  # the directory the test host reads its script from (removed at exit unless in OUT_DIR)
cleanup() {
  set +e
  [[ -z ${vmm_pid:-} ]] || kill -KILL "$vmm_pid" 2>/dev/null
  rm -rf --one-file-system "$work"
  [[ -z $shared || $shared == "$out_dir"/* ]] || rm -rf --one-file-system "$shared"
  exec >&3 3>&-
  wait "$tee_pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.2f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
p95() { sort -n | awk '{a[NR]=$1} END {i=int(NR*0.95); if (i < NR*0.95) i++; if (NR) print a[i]}'; }
column() { awk -v c="$1" 'NR > 1 && $c != "" && $c != "-" {print $c}' "$2"; }  # skips the header
jsonl() { echo "$1" >> "$out_dir/results.jsonl"; }
verdict() { awk -v v="$1" -v g="$2" 'BEGIN {print (v != "" && v <= g ? "met" : "missed")}'; }

# ---- 1. direct on this machine's /dev/kvm ---------------------------------------------------------

# payload COUNT: writes the payload that spins COUNT dec/jnz iterations into OUT_DIR and links it
# where podrt-vmm loads an ELF kernel (its entry runs in long mode, paging on).
payload() {
  cat > "$out_dir/builtin_vmm.payload.S" <<EOF
# The builtin VMM benchmark's guest (bench/macro/builtin_vmm.sh): boot-timer byte, spin, reset.
.code64
.globl _start
_start:
  mov \$0x4f0, %dx      # the boot timer (layout::kBootTimerPort): "first instruction ran"
  mov \$0x7b, %al       # layout::kBootTimerMagic
  outb %al, %dx
  mov \$$1, %rcx
1:
  dec %rcx
  jnz 1b
  mov \$0xfe, %al       # the i8042's pulse-reset command: the VM ends, podrt-vmm exits 0
  outb %al, \$0x64
2:
  hlt
  jmp 2b
EOF
  as -o "$work/payload.o" "$out_dir/builtin_vmm.payload.S"
  ld -static -nostdlib -Ttext=0x1000000 -e _start -o "$out_dir/builtin_vmm.payload.elf" "$work/payload.o"
}

# One run of podrt-vmm on the payload: its stderr into $work/vmm.err, its wall time (date +%s%N
# just before the fork and just after the wait) into $work/wall_ns, and while it lives, after the
# boot-timer line, the RSS outside guest memory every ~20 ms into $work/samples.
# smaps_kib PID: "RSS_OUTSIDE_GUEST GUEST_RSS CANDIDATES" in KiB. The guest memory is the
# anonymous (no path) rw-p mapping whose Size is --memory (GuestMemory::allocate's one mmap);
# CANDIDATES counts the mappings that fit, which must be exactly 1.
smaps_kib() {
  awk -v guest="$((memory_mib * 1024))" '
    /^[0-9a-f]+-[0-9a-f]+ / {anon = (NF == 5 && $2 == "rw-p"); is_guest = 0; next}
    $1 == "Size:" {is_guest = (anon && $2 == guest); n += is_guest; next}
    $1 == "Rss:" {if (is_guest) g += $2; else o += $2}
    END {if (NR) print o + 0, g + 0, n + 0}' "/proc/$1/smaps" 2>/dev/null || true
}
vmm_run() {
  local t0 t1 started=""
  : > "$work/samples"
  : > "$work/vmm.err"  # the child opens it after the fork: the loop below may read it first
  t0=$(date +%s%N)
  "$vmm" --kernel "$out_dir/builtin_vmm.payload.elf" --memory "$memory_mib" --report-times \
    </dev/null >/dev/null 2>"$work/vmm.err" &
  vmm_pid=$!
  while kill -0 "$vmm_pid" 2>/dev/null; do
    if [[ -n $started || $(<"$work/vmm.err") == *"guest-init reached"* ]]; then
      started=1
      smaps_kib "$vmm_pid" >> "$work/samples"
    fi
    sleep 0.02
  done
  local rc=0
  wait "$vmm_pid" || rc=$?
  t1=$(date +%s%N)
  vmm_pid=""
  echo $((t1 - t0)) > "$work/wall_ns"
  ((rc == 0)) || { echo "builtin_vmm.sh: podrt-vmm exited $rc: $(tail -3 "$work/vmm.err")" >&2; return 1; }
}
ms_of() { sed -n "s/^podrt-vmm: $1 \([0-9.]*\) ms$/\1/p" "$work/vmm.err" | head -1; }

# Calibration: the spin of a 1M-iteration payload (wall less the boot-timer time), scaled to
# ~300 ms, so that the RSS is sampled ~15 times whatever the vCPU's speed: ~1 ms on hardware
# virtualization, but ~1.5 s on a nested PVM /dev/kvm, which steps such a guest slowly.
payload 1000000
vmm_run
spin_ms=$(awk -v w="$(<"$work/wall_ns")" -v i="$(ms_of "guest-init reached after")" 'BEGIN {printf "%.1f", w / 1e6 - i}')
count=$(awk -v s="$spin_ms" 'BEGIN {c = s > 1 ? int(1e6 * 300 / s) : 1e9; print c}')
payload "$count"

# The floor of the wall-time measurement itself: the same date/fork/wait around /bin/true.
floor=()
for ((i = 0; i < 5; i++)); do
  t0=$(date +%s%N); /bin/true; t1=$(date +%s%N); floor+=($((t1 - t0)))
done
floor_ms=$(printf '%s\n' "${floor[@]}" | awk '{print $1 / 1e6}' | median)

direct=$out_dir/builtin_vmm.direct.tsv
echo -e "run\tsetup_ms\tfirst_instruction_ms\twall_ms\trss_outside_guest_max_kib\tguest_rss_max_kib\tsamples" > "$direct"
for ((i = 1; i <= runs; i++)); do
  vmm_run
  # A sample with no candidate caught the process unmapping its memory on the way out: dropped.
  n=$(awk '$3 > 1' "$work/samples" | wc -l)
  ((n == 0)) || { echo "builtin_vmm.sh: run $i: $n smaps samples found more than one ${memory_mib} MiB anonymous mapping" >&2; exit 1; }
  awk '$3 == 1' "$work/samples" > "$work/samples.kept" && mv "$work/samples.kept" "$work/samples"
  [[ -s $work/samples ]] || { echo "builtin_vmm.sh: run $i: no smaps sample found the ${memory_mib} MiB guest memory" >&2; exit 1; }
  echo -e "$i\t$(ms_of "setup took")\t$(ms_of "guest-init reached after")\t$(awk -v w="$(<"$work/wall_ns")" 'BEGIN {printf "%.2f", w / 1e6}')\t$(
    awk 'NR == 1 || $1 + 0 > m {m = $1 + 0} END {print (NR ? m : "-")}' "$work/samples")\t$(
    awk 'NR == 1 || $2 + 0 > m {m = $2 + 0} END {print (NR ? m : "-")}' "$work/samples")\t$(wc -l < "$work/samples")" >> "$direct"
done

echo "## builtin VMM, direct on this host's /dev/kvm (tiny payload)"
echo
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "payload: \`$out_dir/builtin_vmm.payload.S\` ($count dec/jnz iterations; the calibration run spun 1e6 in $spin_ms ms), \`podrt-vmm --kernel builtin_vmm.payload.elf --memory $memory_mib --report-times\`, $runs runs"
echo
echo "| measure | median | p95 | goal | published |"
echo "|---|---|---|---|---|"
setup_med=$(column 2 "$direct" | median) rss_med=$(column 5 "$direct" | median)
row() {  # row LABEL COLUMN UNIT GOAL PUBLISHED KEY [SCALE]
  local med p
  med=$(column "$2" "$direct" | awk -v s="${7:-1}" '{print $1 / s}' | median)
  p=$(column "$2" "$direct" | awk -v s="${7:-1}" '{print $1 / s}' | p95)
  echo "| $1 | $med $3 | $p $3 | $4 | $5 |"
  jsonl "$(printf '{"benchmark":"builtin_vmm_direct","measure":"%s","unit":"%s","runs":%d,"median":%s,"p95":%s}' "$6" "$3" "$runs" "$med" "$p")"
}
row "setup (start of main to just before the vCPU threads start)" 2 ms "≤ 5 ms: $(verdict "$setup_med" 5)" \
  "Firecracker: process start to API ready ≤ 8 CPU ms, typically 12 ms wall" setup
row "to the payload's first instruction (boot-timer write, since main)" 3 ms "" "" first_instruction
row "process wall time, exec to exit (~300 ms of it the spin)" 4 ms "" "" wall
row "RSS outside guest memory, max per run (KiB)" 5 KiB "" "" rss_outside_guest
row "RSS outside guest memory, max per run (MiB)" 5 MiB "≤ 2 MiB: $(verdict "$(awk -v k="$rss_med" 'BEGIN {print k / 1024}')" 2)" \
  "Firecracker ≈ 2.5 MiB, Cloud Hypervisor ≈ 13.3 MiB (2019; ≈ 6 MiB in 2020), QEMU ≈ 131–148 MiB" rss_outside_guest_mib 1024
row "guest memory touched (RSS of the guest mapping, for reference)" 6 KiB "" "" guest_rss
echo
echo "Setup and first instruction are podrt-vmm's own \`--report-times\` lines (steady clock from the"
echo "start of main). Wall: \`date +%s%N\` before the fork and after the wait of the script; the same"
echo "harness around \`/bin/true\` takes $floor_ms ms (its floor). RSS: \`/proc/PID/smaps\` read every"
echo "~20 ms from the boot-timer line until exit ($(column 7 "$direct" | median) samples per run, median), the sum of"
echo "\`Rss\` over every mapping except the guest memory, which is the one anonymous (no path) \`rw-p\`"
echo "mapping whose \`Size\` equals \`--memory\` ($memory_mib MiB; GuestMemory::allocate's single mmap; a run"
echo "fails if more than one fits; samples where none does, taken as it exits, are dropped); the largest sum"
echo "per run, then median and p95 over runs."
echo "Published: VMM memory overhead excluding guest RAM, from /work/shared/reference/vm-runtimes.md"
echo "(§0 and §1.7: \`PMAP_DATA − guest size\` computed from the Firecracker NSDI'20 raw data"
echo "\`mem-{fc,chv,qemu}.dat\`, QEMU 147.6 MiB at a 128 MiB guest and 131.2 MiB at 1 GiB; CHV's 6 MiB"
echo "from cloud-hypervisor #1729). This machine's /dev/kvm is a nested PVM: the numbers are its."

# ---- 2. inside the nested test host -----------------------------------------------------------------
echo
echo "## Inside the nested test host: the same pod under builtin vs qemu -accel kvm"
echo
test_host=$repo/tests/vmm/builtin/run-in-test-host
skip() { echo "Skipped: $*."; exit 0; }
for tool in qemu-system-x86_64 mkfs.ext4; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (the test host needs it)"
done
th_kernel=$("$repo/kernel-config/build-kernel" --flavour test-host --print-path 2>/dev/null) ||
  skip "the test-host kernel is not built (\`kernel-config/build-kernel --flavour test-host\`, ~4 minutes)"

# The test host sees this machine's / read-only, but its /tmp, /var, /run and /dev are its own:
# the script it runs must live elsewhere.
case $out_dir/ in
  /tmp/*|/var/*|/run/*|/dev/*) shared=/work/scratch/bench-$$; [[ -d /work/scratch ]] || shared=$build_dir/bench-scratch-$$ ;;
  *) shared=$out_dir/builtin_vmm.test-host ;;
esac
mkdir -p "$shared"
cat > "$shared/pods.sh" <<'SH'
#!/usr/bin/env bash
# Runs in the test host (bench/macro/builtin_vmm.sh): pods under builtin and qemu, interleaved;
# prints "time HYPERVISOR MS", "pss HYPERVISOR STAGE1_KIB VMM_KIB WHEN" and
# "density HYPERVISOR PODS STAGE1_KIB VMM_KIB" (sums over the pods) lines on stdout.
set -euo pipefail
podrt=$1 aci=$2 runs=$3 density_pods=$4
store=/tmp/builtin-vmm-bench
remove_pods() {
  local uuids
  uuids=$("$podrt" --dir="$store" list --no-legend --full 2>/dev/null | awk '{print $1}')
  [[ -z $uuids ]] || "$podrt" --dir="$store" rm $uuids >/dev/null 2>&1 || true
}
pod() {  # pod HYPERVISOR: one /bin/true pod, its wall time on stdout in ms, or "failed"
  local t0 t1 rc=0 log
  t0=$(date +%s%N)
  "$podrt" --dir="$store" run --stage1=kvm --hypervisor="$1" --net=none example.com/busybox \
    --exec=/bin/true >/dev/null 2>>/tmp/pods.log || rc=$?
  t1=$(date +%s%N)
  if ((rc != 0)); then
    # Kept for the report's reader: the results share is the only way out of the test host.
    for log in "$store"/pods/run/*/stage1/console.log; do
      [[ -f $log ]] && cp "$log" "/run/podrt-results/failed-$1-$RANDOM.console.log"
    done
    echo "pods.sh: a $1 pod exited $rc: $(tail -1 /tmp/pods.log)" >&2
    remove_pods
    echo failed
    return
  fi
  remove_pods
  awk -v d=$((t1 - t0)) 'BEGIN {printf "%.1f\n", d / 1e6}'
}
pss() { awk '$1 == "Pss:" {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || true; }
"$podrt" --dir="$store" --insecure-options=image fetch "$aci" >/dev/null 2>>/tmp/pods.log
# One untimed pod of each first: the erofs rootfs disk and the initramfs are made then.
for hv in builtin qemu; do pod "$hv" >/dev/null; done
for ((i = 0; i < runs; i++)); do
  for hv in builtin qemu; do echo "time $hv $(pod "$hv")"; done
done
# Memory: a pod whose app sleeps 3 s, sampled 2 s after guest-init's hello (the app is sleeping
# then); the hello is stage1's --debug line "guest … up after N ms" (quiet put back, as above).
for hv in builtin qemu; do
  PODRT_KVM_KERNEL_ARGS=quiet "$podrt" --dir="$store" --debug run --stage1=kvm --hypervisor="$hv" \
    --net=none example.com/busybox --exec=/bin/sleep -- 3 >/dev/null 2>/tmp/sleep.log &
  stage1=$!  # podrt run execs podrt-stage1-kvm: the same process
  when=""
  for ((j = 0; j < 1200; j++)); do
    grep -q ' up after [0-9]* ms' /tmp/sleep.log 2>/dev/null && { when=hello+2s; break; }
    kill -0 "$stage1" 2>/dev/null || break
    sleep 0.05
  done
  sleep 2
  pod_dir=$(find "$store/pods/run" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -1)
  vmm_pid=$(cat "$pod_dir/stage1/hypervisor-pid" 2>/dev/null || true)
  echo "pss $hv $(pss "$stage1") $( [[ -n $vmm_pid ]] && pss "$vmm_pid") ${when:-no-hello}"
  wait "$stage1" || echo "pods.sh: the $hv sleep pod failed: $(tail -3 /tmp/sleep.log)" >&2
  remove_pods
done
# Density: N idle pods of each at once, sampled 2 s after the last hello; PSS splits the pages
# they share (the kernel's and the libraries' page-cache pages) between them.
for hv in builtin qemu; do
  stage1s=()
  for ((k = 0; k < density_pods; k++)); do
    PODRT_KVM_KERNEL_ARGS=quiet "$podrt" --dir="$store" --debug run --stage1=kvm --hypervisor="$hv" \
      --net=none example.com/busybox --exec=/bin/sleep -- 1000 >/dev/null 2>"/tmp/density-$k.log" &
    stage1s+=($!)
  done
  up=0
  for ((j = 0; j < 6000 && up < density_pods; j++)); do
    up=$( (grep -l ' up after [0-9]* ms' /tmp/density-*.log 2>/dev/null || true) | wc -l)
    sleep 0.1
  done
  sleep 2
  s_sum=0 v_sum=0
  for pid in "${stage1s[@]}"; do p=$(pss "$pid"); s_sum=$((s_sum + ${p:-0})); done
  for pid_file in "$store"/pods/run/*/stage1/hypervisor-pid; do
    p=$(pss "$(cat "$pid_file")"); v_sum=$((v_sum + ${p:-0}))
  done
  if ((up == density_pods)); then
    echo "density $hv $density_pods $s_sum $v_sum"
  else
    echo "pods.sh: only $up of $density_pods $hv pods came up" >&2
  fi
  uuids=$("$podrt" --dir="$store" list --no-legend --full 2>/dev/null | awk '{print $1}')
  [[ -z $uuids ]] || "$podrt" --dir="$store" stop $uuids >/dev/null 2>&1 || true
  for pid in "${stage1s[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f /tmp/density-*.log
  remove_pods
done
SH
chmod +x "$shared/pods.sh"

th_start=$(date +%s%N)
th_rc=0
# 2 GiB: room for the QEMU pods at once (~85 MiB each) beside the test host itself.
"$test_host" --kernel "$th_kernel" --memory 2048 --timeout $((600 + test_host_runs * 120)) --out "$shared/results" -- \
  "$shared/pods.sh" "$build_dir/bin/podrt" "$aci" "$test_host_runs" "$density_pods" \
  > "$out_dir/builtin_vmm.test-host.out" 2> "$out_dir/builtin_vmm.test-host.err" || th_rc=$?
th_s=$(awk -v d=$(($(date +%s%N) - th_start)) 'BEGIN {printf "%.0f", d / 1e9}')
((th_rc == 0)) || { echo "Failed (exit $th_rc after $th_s s): $(tail -3 "$out_dir/builtin_vmm.test-host.err" | tr '\n' ' ')"; exit 1; }

raw=$out_dir/builtin_vmm.test-host.out
times() { awk -v h="$1" '$1 == "time" && $2 == h && $3 != "failed" {print $3}' "$raw"; }
failed_of() { awk -v h="$1" '$1 == "time" && $2 == h && $3 == "failed"' "$raw" | wc -l; }
cp "$shared"/results/failed-*.console.log "$out_dir/" 2>/dev/null || true
b_med=$(times builtin | median) q_med=$(times qemu | median)
ratio=$(awk -v b="$b_med" -v q="$q_med" 'BEGIN {printf "%.2f", b / q}')
# fields_of KIND HYPERVISOR: the three numbers after "KIND HYPERVISOR" in the raw lines.
fields_of() { awk -v k="$1" -v h="$2" '$1 == k && $2 == h {print $3, $4, $5}' "$raw"; }
mib_per() { awk -v t="$1" -v n="$2" 'BEGIN {printf "%.1f", t / n / 1024}'; }  # KIB PODS
echo "$test_host_runs interleaved \`podrt run --stage1=kvm --hypervisor=H --net=none example.com/busybox --exec=/bin/true\`"
echo "of each (after one untimed warm-up each) in one test host ($th_s s in all, its boot included;"
echo "test-host kernel \`$th_kernel\`)."
echo
echo "| hypervisor | runs (ms) | median wall (ms) | median / qemu's | host memory per kvm pod: PSS stage1 + VMM (KiB) | goal |"
echo "|---|---|---|---|---|---|"
for hv in builtin qemu; do
  read -r s v when <<<"$(fields_of pss "$hv")"
  med=$([[ $hv == builtin ]] && echo "$b_med" || echo "$q_med")
  total=$([[ -n ${v:-} ]] && echo $((s + v)) || echo "")
  mib=$(awk -v t="$total" 'BEGIN {if (t != "") printf "%.1f", t / 1024}')
  failed=$(failed_of "$hv")
  echo "| $hv | $(times "$hv" | paste -sd' ')$( ((failed == 0)) || echo "; $failed failed") | $med | $(awk -v m="$med" -v q="$q_med" 'BEGIN {printf "%.2f", m / q}')× |" \
    "${total:-n/a} ($mib MiB = ${s:-?} + ${v:-?}, at $when) | ≤ 20 MiB: $(verdict "$mib" 20) |"
  jsonl "$(printf '{"benchmark":"builtin_vmm_test_host","hypervisor":"%s","runs":%d,"median_ms":%s,"ratio_to_qemu":%s,"pss_stage1_kib":%s,"pss_vmm_kib":%s}' \
    "$hv" "$test_host_runs" "$med" "$(awk -v m="$med" -v q="$q_med" 'BEGIN {printf "%.2f", m / q}')" "${s:-null}" "${v:-null}")"
done
echo
echo "Host memory per kvm pod with $density_pods idle pods of each running at once (the way Kata's"
echo "\`density/memory_usage.sh\` averages PSS over 20 containers): the PSS of every pod's stage1 and"
echo "VMM, summed, over the pods."
echo
echo "| hypervisor | pods | per pod (MiB) | stage1 | VMM | goal |"
echo "|---|---|---|---|---|---|"
for hv in builtin qemu; do
  read -r n s v <<<"$(fields_of density "$hv")"
  if [[ -z ${n:-} ]]; then echo "| $hv | n/a (see the test host's stderr) | | | | |"; continue; fi
  per=$(mib_per $((s + v)) "$n")
  echo "| $hv | $n | $per | $(mib_per "$s" "$n") | $(mib_per "$v" "$n") |" \
    "$([[ $hv == builtin ]] && echo "≤ 20 MiB: $(verdict "$per" 20)") |"
  jsonl "$(printf '{"benchmark":"builtin_vmm_density","hypervisor":"%s","pods":%d,"pss_stage1_kib":%d,"pss_vmm_kib":%d}' "$hv" "$n" "$s" "$v")"
done
echo
if (($(failed_of builtin) + $(failed_of qemu) > 0)); then
  echo "Failed pods are left out of the medians; their console logs: \`$out_dir/failed-*.console.log\`."
  echo
fi
echo "builtin / qemu: ${ratio}×. Wall: \`date +%s%N\` around \`podrt run\` in the test host (\`podrt rm\`"
echo "after, untimed). The test host is a TCG-emulated VM with AMD SVM: its /dev/kvm is hardware"
echo "virtualization to its guests, but everything is emulated, so the absolute times are that machine's."
echo "Host memory per kvm pod: one extra pod of each with \`--exec=/bin/sleep -- 3\`, sampled 2 s after"
echo "guest-init's hello (\`podrt --debug\`'s \"guest … up after N ms\"): \`Pss\` of"
echo "\`/proc/PID/smaps_rollup\` of podrt-stage1-kvm plus podrt-vmm (or qemu-system-x86_64). The guest"
echo "pages the VM touched live in the VMM's anonymous guest-memory mapping, so they are in its PSS"
echo "(as in Kata's \`memory_usage.sh\` PSS, ≈ 120 MB per pod: 122,832 KB QEMU, 127,220 KB CLH, per"
echo "/work/shared/reference/vm-runtimes.md §2 \"Kata CI baselines\"; Clear Containers 1.0 claimed 18–20 MB)."
echo "Raw lines: \`$raw\`."
