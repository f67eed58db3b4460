#!/bin/sh
# Builds podrt's test and example ACIs with appc's actool (Debian package appc-spec).
#   make-aci.sh busybox OUT.aci            example.com/busybox from Debian's busybox-static
#   make-aci.sh probe OUT.aci PROBE_BINARY example.com/probe around the static podrt-probe
#   make-aci.sh validate ACI...            actool validate, for the ctest check
set -eu

die() {
  echo "make-aci.sh: $*" >&2
  exit 1
}

command -v actool >/dev/null 2>&1 ||
  die "actool not found: install the Debian package appc-spec (apt-get install appc-spec)"

kind=${1:-}
[ -n "$kind" ] || die "usage: make-aci.sh busybox|probe|validate ..."
shift

if [ "$kind" = validate ]; then
  [ $# -gt 0 ] || die "validate: no image given"
  for image in "$@"; do
    [ -f "$image" ] || die "validate: $image does not exist (build the busybox-aci/probe-aci targets)"
  done
  exec actool validate "$@"
fi

out=${1:-}
[ -n "$out" ] || die "$kind: no output file given"

# A static binary runs in a rootfs that has no libc; refuse a dynamic one.
require_static() {
  [ -x "$1" ] || die "$1 missing: $2"
  if command -v readelf >/dev/null 2>&1 && readelf -l "$1" 2>/dev/null | grep -q INTERP; then
    die "$1 is dynamically linked: $2"
  fi
}

workdir=$(mktemp -d "${out}.work.XXXXXX")
trap 'rm -rf "$workdir"' EXIT
trap 'exit 1' INT TERM
layout=$workdir/layout
rootfs=$layout/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root" "$rootfs/home/user"
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"

cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
user:x:1000:
nogroup:x:65534:
GROUP

case "$kind" in
  busybox)
    busybox=/bin/busybox
    require_static "$busybox" "install the Debian package busybox-static"
    cp "$busybox" "$rootfs/bin/busybox"
    chmod 0755 "$rootfs/bin/busybox"
    for applet in $("$busybox" --list); do
      [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
    done
    # "BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) multi-call binary." -> 1.35
    version=$("$busybox" 2>&1 | sed -n '1s/^BusyBox v\([0-9]*\.[0-9]*\).*/\1/p')
    name=example.com/busybox
    exec_json='["/bin/sh"]'
    # An example server port, so that --port NAME:HOSTPORT has something to forward.
    ports_json=', "ports": [{"name": "http", "protocol": "tcp", "port": 8080}]'
    ;;
  probe)
    probe=${2:-}
    [ -n "$probe" ] || die "probe: no podrt-probe binary given"
    require_static "$probe" "build the podrt-probe target"
    cp "$probe" "$rootfs/bin/podrt-probe"
    chmod 0755 "$rootfs/bin/podrt-probe"
    version=${3:-0.1.0}
    name=example.com/probe
    exec_json='["/bin/podrt-probe", "true"]'
    ;;
  *)
    die "unknown image kind $kind (busybox, probe, validate)"
    ;;
esac
[ -n "$version" ] || die "could not tell the version of $kind"

cat >"$layout/manifest" <<MANIFEST
{
  "acKind": "ImageManifest",
  "acVersion": "0.8.11",
  "name": "$name",
  "labels": [
    {"name": "version", "value": "$version"},
    {"name": "os", "value": "linux"},
    {"name": "arch", "value": "amd64"}
  ],
  "app": {
    "exec": $exec_json,
    "user": "0",
    "group": "0"${ports_json:-}
  }
}
MANIFEST

# Build beside the target and rename, so an interrupted build never leaves a half image.
actool build --overwrite --owner-root "$layout" "$workdir/image.aci"
actool validate "$workdir/image.aci"
mv -f "$workdir/image.aci" "$out"
