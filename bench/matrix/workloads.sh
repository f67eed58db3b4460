# shellcheck shell=bash
# bench/matrix/workloads.sh: what the matrix runs in each mode, as argv on the busybox rootfs.
# Sourced by bench/matrix/run.sh after lib.sh and modes.sh.
#
# Timed (start to exit of the runtime's command, µs):
#   true   /bin/true: what the runtime itself costs to start and tear down a pod
#   cpu    a busybox awk loop of cpu_iterations additions (calibrated to ~cpu_target_ms natively)
#   io     busybox dd of 16 MiB of zeros to a file at the root of the app's rootfs, conv=fsync
#          (fsync before dd exits), then rm. At the root, not in /tmp: systemd-nspawn mounts a
#          tmpfs on /tmp. The root is podrt-ns's overlay upper (on the store's disk), the peers'
#          rootfs copy (same disk), and, in VMs, the guest's RAM (tmpfs overlay upper, initramfs).
# Sampled (host PSS, KiB):
#   memory   one pod whose app prints "podrt-bench-ready" and sleeps: its process tree's PSS once ready
#   density  density_n such pods at once: the PSS of all their trees / density_n

cpu_target_ms=250

# workload_argv NAME: sets wargv to the workload's argv.
workload_argv() {
  case $1 in
    true) wargv=(/bin/true) ;;
    cpu) wargv=(/bin/awk "BEGIN { for (i = 0; i < $cpu_iterations; i++) s += i; print s }") ;;
    io) wargv=(/bin/sh -c 'dd if=/dev/zero of=/podrt-bench-io bs=1M count=16 conv=fsync && rm /podrt-bench-io') ;;
    memory|density) wargv=(/bin/sh -c 'echo podrt-bench-ready; exec sleep 3600') ;;
    *) echo "workload_argv: unknown workload $1" >&2; return 2 ;;
  esac
}

workload_description() {
  case $1 in
    true) echo "pod start to exit of /bin/true" ;;
    cpu) echo "start to exit of a CPU-bound busybox awk loop ($cpu_iterations additions, ${cpu_native_ms} ms natively on this host)" ;;
    io) echo "start to exit of busybox dd writing 16 MiB to the rootfs with conv=fsync, then rm" ;;
    memory) echo "host PSS of one idle pod's processes (runtime, supervisor, app; the VMM for VMs)" ;;
    density) echo "host PSS per pod with $density_n idle pods at once (PSS of all their processes / $density_n)" ;;
  esac
}

# calibrate_cpu: sets cpu_iterations so that the loop takes ~cpu_target_ms natively (the rootfs's
# own static busybox awk run directly on the host, best of 3 runs of 10^6 additions), rounded to
# two significant digits; cpu_native_ms: that many iterations' estimated native time.
calibrate_cpu() {
  local i best
  : > "$work/calibrate.times"
  for ((i = 0; i < 3; i++)); do
    "$timer" "$work/calibrate.times" "$rootfs/bin/busybox" awk 'BEGIN { for (i = 0; i < 1000000; i++) s += i }'
  done
  best=$(sort -n "$work/calibrate.times" | head -1)
  cpu_iterations=$(awk -v us="$best" -v target="$cpu_target_ms" 'BEGIN {
    n = 1e6 * target * 1000 / us; e = 1; while (n >= 100) { n /= 10; e *= 10 }; printf "%d", int(n + 0.5) * e }')
  cpu_native_ms=$(awk -v us="$best" -v n="$cpu_iterations" 'BEGIN {printf "%.0f", us / 1000 * n / 1e6}')
}
