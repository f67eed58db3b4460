#!/usr/bin/env bash
# Registry pull (issue 6): `podrt fetch docker://…` of a ~100 MB four-layer image from Debian's
# docker-registry on 127.0.0.1 into an empty store (download, digest checks, layers applied with
# whiteouts, the render indexed) vs what a user does without podrt: `skopeo copy docker://… oci:`
# then `umoci unpack`, side by side in one run. Goal: podrt / (skopeo + umoci) <= 1.0x.
set -euo pipefail
podrt=$1 runs=$2 out_dir=$3 work_root=${4:-/var/tmp}
work=$(mktemp -d "$work_root/podrt-bench-XXXXXX")
fs_type=$(stat -f -c %T "$work")
registry_pid=
cleanup() { [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The image: four layers of ~25 MB (random large files, many small ones; the last deletes a
# directory of the first), built by umoci.
layout=$work/layout bundle=$work/bundle
umoci init --layout "$layout" && umoci new --image "$layout:empty"
umoci unpack --image "$layout:empty" "$bundle" >/dev/null
head -c $((2 << 20)) /dev/urandom > "$work/seed"
for layer in 1 2 3 4; do
  dir=$bundle/rootfs/data/layer$layer
  mkdir -p "$dir/large" "$dir/small"
  for i in $(seq 1 12); do cp "$work/seed" "$dir/large/f$i"; echo "$layer $i" >> "$dir/large/f$i"; done
  for i in $(seq 1 1000); do head -c 4096 "$work/seed" | tail -c +$((i * 3 + layer)) > "$dir/small/f$i"; done
  ((layer == 4)) && rm -rf "$bundle/rootfs/data/layer1/small"
  umoci repack --image "$layout:bench" "$bundle"
  rm -rf "$bundle"; umoci unpack --image "$layout:bench" "$bundle" >/dev/null
done
cp "$(command -v busybox)" "$bundle/rootfs/busybox"
umoci repack --image "$layout:bench" "$bundle"
size_mb=$(( $(du -sb "$layout/blobs" | cut -f1) / 1048576 ))

port=$((20000 + RANDOM % 20000))
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$work/registry" "$port" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.05; done
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$layout:bench" "docker://127.0.0.1:$port/bench/image:1"
reference=127.0.0.1:$port/bench/image:1

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: > "$work/podrt.times"; : > "$work/peer.times"
for ((i = 0; i < runs; i++)); do
  rm -rf "$work/store" "$work/pulled" "$work/unpacked"; sync
  t0=$(now_ns)
  "$podrt" --dir "$work/store" --insecure-options=image,http fetch "docker://$reference" >/dev/null
  t1=$(now_ns); echo $(((t1 - t0) / 1000)) >> "$work/podrt.times"
  sync
  t0=$(now_ns)
  skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$reference" "oci:$work/pulled:bench"
  umoci unpack --image "$work/pulled:bench" "$work/unpacked" >/dev/null
  t1=$(now_ns); echo $(((t1 - t0) / 1000)) >> "$work/peer.times"
done
podrt_us=$(median < "$work/podrt.times"); peer_us=$(median < "$work/peer.times")
ratio=$(awk -v p="$podrt_us" -v q="$peer_us" 'BEGIN {printf "%.2f", p / q}')

echo "## Registry pull: podrt fetch docker:// vs skopeo copy + umoci unpack (${size_mb} MiB, 5 layers, on $fs_type)"
echo
echo "| runs | skopeo + umoci median (ms) | podrt fetch median (ms) | podrt / peers (goal <= 1.0x) |"
echo "|---|---|---|---|"
awk -v n="$runs" -v q="$peer_us" -v p="$podrt_us" -v r="$ratio" 'BEGIN {printf "| %d | %.1f | %.1f | %sx |\n", n, q / 1000, p / 1000, r}'
printf '{"benchmark":"registry_pull","filesystem":"%s","size_mib":%d,"runs":%d,"peer_median_us":%s,"podrt_median_us":%s,"time_ratio":%s}\n' \
  "$fs_type" "$size_mb" "$runs" "$peer_us" "$podrt_us" "$ratio" >> "$out_dir/results.jsonl"
echo
echo "Both verify every blob's sha256 and extract every layer; podrt also keeps the layers by"
echo "digest in its store, indexes the image and syncs it before it becomes visible."
