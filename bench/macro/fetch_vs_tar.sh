#!/usr/bin/env bash
# Image import: `podrt fetch` of a ~100 MB ACI into an empty store vs `tar -xf` of the same
# archive into an empty directory. podrt does more (sha512 of the whole tar, a kept copy of it,
# confined extraction, the index): the goal is >= 0.8x tar's speed.
set -euo pipefail
podrt=$1 runs=$2 out_dir=$3 work_root=${4:-/var/tmp}
work=$(mktemp -d "$work_root/podrt-bench-XXXXXX")
fs_type=$(stat -f -c %T "$work")
trap 'rm -rf "$work"' EXIT

# A rootfs of ~100 MB: 40 large files (2 MiB), 600 medium (32 KiB), 4000 small (2 KiB), random
# content so that compression does not flatter anyone.
layout=$work/layout
mkdir -p "$layout/rootfs/data/large" "$layout/rootfs/data/medium" "$layout/rootfs/data/small"
head -c $((2 << 20)) /dev/urandom > "$work/seed"
for i in $(seq 1 40); do cp "$work/seed" "$layout/rootfs/data/large/f$i"; echo "$i" >> "$layout/rootfs/data/large/f$i"; done
for i in $(seq 1 600); do head -c 32768 "$work/seed" | tail -c +$((i * 7 + 1)) > "$layout/rootfs/data/medium/f$i"; done
for i in $(seq 1 4000); do head -c 2048 "$work/seed" | tail -c +$((i + 1)) > "$layout/rootfs/data/small/f$i"; done
cat > "$layout/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/bench-100m",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}]}
JSON
actool build --no-compression "$layout" "$work/plain.aci" >/dev/null
gzip -1 -c "$work/plain.aci" > "$work/gzip.aci"
size_mb=$(( $(stat -c %s "$work/plain.aci") / 1048576 ))

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "## Image import: podrt fetch vs tar -xf (${size_mb} MiB ACI, on $fs_type)"
echo
echo "| archive | tar -xf median (ms) | podrt fetch median (ms) | podrt speed / tar speed |"
echo "|---|---|---|---|"
for kind in plain gzip; do
  aci=$work/$kind.aci
  : > "$work/tar.times"; : > "$work/podrt.times"
  for ((i = 0; i < runs; i++)); do
    rm -rf "$work/tar-out" "$work/store"; mkdir "$work/tar-out"; sync
    t0=$(now_ns); tar -xf "$aci" -C "$work/tar-out"; t1=$(now_ns)
    echo $(((t1 - t0) / 1000)) >> "$work/tar.times"
    sync
    t0=$(now_ns); "$podrt" --dir "$work/store" --insecure-options=image fetch "$aci" >/dev/null; t1=$(now_ns)
    echo $(((t1 - t0) / 1000)) >> "$work/podrt.times"
  done
  tar_us=$(median < "$work/tar.times"); podrt_us=$(median < "$work/podrt.times")
  ratio=$(awk -v t="$tar_us" -v p="$podrt_us" 'BEGIN {printf "%.2f", t / p}')
  awk -v k="$kind" -v t="$tar_us" -v p="$podrt_us" -v r="$ratio" 'BEGIN {printf "| %s | %.1f | %.1f | %sx |\n", k, t / 1000, p / 1000, r}'
  printf '{"benchmark":"fetch_vs_tar","filesystem":"'"$fs_type"'","archive":"%s","size_mib":%d,"runs":%d,"tar_median_us":%s,"podrt_median_us":%s,"speed_ratio":%s}\n' \
    "$kind" "$size_mb" "$runs" "$tar_us" "$podrt_us" "$ratio" >> "$out_dir/results.jsonl"
done
echo
echo "podrt's time includes the sha512 of the whole tar, the copy it keeps (cas/blob), the index"
echo "transaction and one syncfs before the image becomes visible; tar does none of these."
