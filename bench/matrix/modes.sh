# shellcheck shell=bash
# bench/matrix/modes.sh: the isolation modes of the matrix, each able to run a workload (an argv)
# on the same busybox rootfs. Sourced by bench/matrix/run.sh after lib.sh, which sets:
#   podrt store       the podrt binary and the store (busybox image fetched)
#   rootfs            a copy of the image's render (plus an empty /usr for nspawn), for the peers
#   work              scratch folder; timer: bench/matrix/timer.pl
#   qemu kernel accel cpu_model qemu_base_cpio   for the plain QEMU microvm peer
#   crun_ns           the prefix crun runs under (unshare -m … on cgroup hybrid hosts), or empty
#
# mode_missing MODE          prints why MODE cannot run here (a tool missing), or nothing
# mode_run MODE TIMES ARGV…  runs ARGV once in MODE, only the runtime's command timed into TIMES
#                            (µs, appended); the app's stdout to $work/MODE.out, stderr appended
#                            to $work/MODE.log; cleans up after (untimed); returns the app's status
# mode_start MODE OUT ARGV…  starts ARGV in MODE in the background, its stdout to OUT; sets
#                            started_pid to the runtime's process (the root of the pod's tree)
# mode_stop MODE PID…        tears down the pods of MODE started with those PIDs and waits for them
# mode_command MODE          the command line of MODE, for the report
# mode_version MODE          the runtime's version, for the report

all_modes=(podrt-ns podrt-kvm-qemu podrt-kvm-builtin podrt-kvm-libvirt crun runc nspawn qemu-microvm)
is_vm() { [[ $1 == podrt-kvm-* || $1 == qemu-microvm ]]; }

declare -A container_of=()  # crun/runc: the container id of each background pid
seq_no=0
guest_cmdline="console=ttyS0 reboot=t panic=-1 8250.nr_uarts=1 no_timer_check quiet"  # stage1-kvm's, without --debug

# podrt_args MODE: the `podrt run` options of a podrt mode.
podrt_args() {
  case $1 in
    podrt-ns) echo "--stage1=ns" ;;
    podrt-kvm-*) echo "--stage1=kvm --hypervisor=${1#podrt-kvm-}" ;;
  esac
}

mode_missing() {
  local tool
  case $1 in
    podrt-ns) [[ -x $(dirname "$podrt")/podrt-stage1-ns ]] || echo "podrt-stage1-ns is not built" ;;
    podrt-kvm-*) [[ -x $(dirname "$podrt")/podrt-stage1-kvm ]] || echo "podrt-stage1-kvm is not built" ;;
    crun|runc) command -v "$1" >/dev/null || echo "$1 is not installed"
      [[ $1 != crun || -z ${crun_ns[*]} ]] || command -v unshare >/dev/null || echo "crun needs unshare on this cgroup hybrid host" ;;
    nspawn) command -v systemd-nspawn >/dev/null || echo "systemd-nspawn is not installed (Debian: systemd-container)" ;;
    qemu-microvm)
      for tool in qemu-system-x86_64 gcc cpio; do command -v "$tool" >/dev/null || { echo "$tool is not installed"; return; }; done
      [[ -f $kernel ]] || echo "the guest kernel $kernel is not built" ;;
  esac
}

mode_command() {
  case $1 in
    podrt-*) echo "podrt run --net=none $(podrt_args "$1") example.com/busybox --exec=ARGV0 -- ARGS" ;;
    crun) echo "${crun_ns[*]:+unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec \"\$@\"' crun_ns }crun run --bundle B ID" ;;
    runc) echo "runc run --bundle B ID" ;;
    nspawn) echo "systemd-nspawn -q --register=no --keep-unit --console=pipe -D ROOTFS -- ARGV" ;;
    qemu-microvm) echo "qemu-system-x86_64 -M microvm,acpi=off,x-option-roms=off -accel $accel -cpu $cpu_model -m 128 -smp 1 -no-reboot -kernel vmlinux -initrd ROOTFS+INIT.cpio (a static /init runs ARGV, then reboots)" ;;
  esac
}

mode_version() {
  case $1 in
    podrt-*) "$podrt" version 2>/dev/null | head -1 | sed 's/ Version: / /' ;;
    crun|runc) "$1" --version 2>/dev/null | head -1 ;;
    nspawn) systemd-nspawn --version 2>/dev/null | head -1 ;;
    qemu-microvm) "$qemu" --version 2>/dev/null | head -1 ;;
  esac
}

# pods [STATE]: the UUIDs of the pods in the store (in STATE only, if given), one a line.
pods() { "$podrt" --dir="$store" list --no-legend --full 2>/dev/null | awk -v s="${1:-}" 's == "" || $4 == s {print $1}' || true; }
# remove_pods: `podrt rm` of every pod in the store; stop_pods: `podrt stop --force` of the running ones.
remove_pods() {
  local -a uuids
  mapfile -t uuids < <(pods)
  ((${#uuids[@]} == 0)) || "$podrt" --dir="$store" rm "${uuids[@]}" >/dev/null 2>&1 || true
}
stop_pods() {
  local -a uuids
  mapfile -t uuids < <(pods running)
  ((${#uuids[@]} == 0)) || "$podrt" --dir="$store" stop --force "${uuids[@]}" >/dev/null 2>&1 || true
}

# bundle RUNTIME ARGV…: prints an OCI bundle for ARGV on $rootfs, made once per runtime and argv
# from the runtime's default spec (`RUNTIME spec`) with only the args, the terminal and the root
# changed (as bench/macro/ns_start.sh does).
bundle() {
  local rt=$1 dir args
  shift
  args=$(jq -cn '$ARGS.positional' --args -- "$@")
  dir=$work/bundle-$rt-$(md5sum <<<"$args" | cut -c1-8)
  if [[ ! -d $dir ]]; then
    mkdir -p "$dir"
    (cd "$dir" && "$rt" spec)
    jq --arg root "$rootfs" --argjson args "$args" \
      '.process.args = $args | .process.terminal = false | .root = {path: $root, readonly: false}' \
      "$dir/config.json" > "$dir/config.json.new"
    mv "$dir/config.json.new" "$dir/config.json"
  fi
  echo "$dir"
}

# initramfs ARGV…: prints the plain QEMU's initramfs for ARGV: the base archive (the rootfs,
# /dev/console and the static /init of qemu-init.c) with a second archive holding /argv
# appended (the kernel unpacks concatenated newc archives in turn).
initramfs() {
  local key dir
  key=$(printf '%s\0' "$@" | md5sum | cut -c1-8)
  if [[ ! -f $work/initramfs-$key.cpio ]]; then
    dir=$work/argv-$key
    mkdir -p "$dir"
    printf '%s\0' "$@" > "$dir/argv"
    { cat "$qemu_base_cpio"; (cd "$dir" && echo argv | cpio -o -H newc --quiet); } > "$work/initramfs-$key.cpio"
  fi
  echo "$work/initramfs-$key.cpio"
}

# qemu_argv CONSOLE_FILE INITRAMFS: sets qargv to the plain QEMU's command line: stage1-kvm's
# machine flags for a 128 MiB, 1-vCPU pod, less its virtio devices; the console into a file.
qemu_argv() {
  qargv=("$qemu" -name podrt-matrix -M "microvm,acpi=off,x-option-roms=off,rtc=on"
    -accel "$accel" -cpu "$cpu_model" -m 128 -smp 1 -nodefaults -no-user-config -nographic
    -display none -no-reboot -kernel "$kernel" -initrd "$2" -append "$guest_cmdline"
    -chardev "file,id=console,path=$1" -serial chardev:console)
}

mode_run() {
  local mode=$1 times=$2 rc=0 id dir
  shift 2
  local out=$work/$mode.out log=$work/$mode.log
  seq_no=$((seq_no + 1))
  case $mode in
    podrt-*)
      # shellcheck disable=SC2046 # podrt_args is a list of words on purpose
      "$timer" "$times" "$podrt" --dir="$store" run --net=none $(podrt_args "$mode") example.com/busybox \
        --exec="$1" -- "${@:2}" </dev/null >"$out" 2>>"$log" || rc=$?
      remove_pods ;;
    crun|runc)
      local prefix=()
      [[ $mode == crun ]] && prefix=("${crun_ns[@]}")
      dir=$(bundle "$mode" "$@")
      id=podrt-matrix-$$-$seq_no
      container_of[run]=$id
      "${prefix[@]}" "$timer" "$times" "$mode" run --bundle "$dir" "$id" </dev/null >"$out" 2>>"$log" || rc=$?
      "${prefix[@]}" "$mode" delete -f "$id" >/dev/null 2>&1 || true
      unset 'container_of[run]' ;;
    nspawn)
      # --keep-unit: stay in our cgroup (no systemd as PID 1 to make a scope); --console=pipe:
      # no pty, like the OCI bundles' terminal: false.
      "$timer" "$times" systemd-nspawn -q --register=no --keep-unit --console=pipe -D "$rootfs" -- "$@" \
        </dev/null >"$out" 2>>"$log" || rc=$? ;;
    qemu-microvm)
      local cpio
      cpio=$(initramfs "$@")
      qemu_argv "$out" "$cpio"
      "$timer" "$times" "${qargv[@]}" </dev/null >/dev/null 2>>"$log" || rc=$?
      # QEMU's own status says only that the guest rebooted; the app's is on the console.
      if ((rc == 0)); then
        rc=$(sed -n 's/.*podrt-bench-exit=\([0-9]*\).*/\1/p' "$out" | tail -1)
        rc=${rc:-255}
        ((rc == 0)) || echo "qemu-microvm: the guest's /init reported exit ${rc} (255: no report): $(tail -c 300 "$out")" >> "$log"
      fi ;;
    *) echo "mode_run: unknown mode $mode" >&2; return 2 ;;
  esac
  return "$rc"
}

mode_start() {
  local mode=$1 out=$2 dir id
  shift 2
  seq_no=$((seq_no + 1))
  local log=$work/$mode.log
  case $mode in
    podrt-*)
      # shellcheck disable=SC2046
      "$podrt" --dir="$store" run --net=none $(podrt_args "$mode") example.com/busybox \
        --exec="$1" -- "${@:2}" </dev/null >"$out" 2>>"$log" &
      started_pid=$! ;;
    crun|runc)
      local prefix=()
      [[ $mode == crun ]] && prefix=("${crun_ns[@]}")
      dir=$(bundle "$mode" "$@")
      id=podrt-matrix-$$-$seq_no
      # unshare and sh exec: the pid is crun's own.
      "${prefix[@]}" "$mode" run --bundle "$dir" "$id" </dev/null >"$out" 2>>"$log" &
      started_pid=$!
      container_of[$started_pid]=$id ;;
    nspawn)
      # Several at once on one directory: no image lock (SYSTEMD_NSPAWN_LOCK=0) and a machine
      # name each; SIGTERM to nspawn then sends SIGKILL to the container's PID 1 (the app).
      SYSTEMD_NSPAWN_LOCK=0 systemd-nspawn -q --register=no --keep-unit --console=pipe \
        --machine="podrt-matrix-$$-$seq_no" --kill-signal=SIGKILL -D "$rootfs" -- "$@" \
        </dev/null >"$out" 2>>"$log" &
      started_pid=$! ;;
    qemu-microvm)
      local cpio
      cpio=$(initramfs "$@")
      qemu_argv "$out" "$cpio"
      "${qargv[@]}" </dev/null >/dev/null 2>>"$log" &
      started_pid=$! ;;
    *) echo "mode_start: unknown mode $mode" >&2; return 2 ;;
  esac
  running+=("$mode $started_pid")
}

mode_stop() {
  local mode=$1 pid
  shift
  case $mode in
    podrt-*) stop_pods ;;
    crun|runc)
      local prefix=()
      [[ $mode == crun ]] && prefix=("${crun_ns[@]}")
      for pid in "$@"; do
        [[ -n ${container_of[$pid]:-} ]] || continue
        "${prefix[@]}" "$mode" delete -f "${container_of[$pid]}" >/dev/null 2>&1 || true
        unset "container_of[$pid]"
      done ;;
    nspawn|qemu-microvm) kill -TERM "$@" 2>/dev/null || true ;;
  esac
  wait_or_kill 30 "$@"
  [[ $mode != podrt-* ]] || remove_pods
  local entry kept=()
  for entry in "${running[@]}"; do
    [[ " $* " == *" ${entry#* } "* ]] || kept+=("$entry")
  done
  running=("${kept[@]}")
}
