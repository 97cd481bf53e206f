#!/usr/bin/env bash
# Builds opctl/busybox:test, the tiny image the integration tests run (no registry exists here): a
# root filesystem holding Debian's static busybox and its applet links, through `docker import`.
# Skipped when the image already exists with the same busybox.
set -euo pipefail
busybox=/bin/busybox
image=opctl/busybox:test
[[ -x $busybox ]] || { echo "build-test-image: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
checksum=$(sha256sum "$busybox" | cut -c1-16)
if [[ $(docker image inspect -f '{{index .Config.Labels "opctl.io/busybox"}}' "$image" 2>/dev/null) == "$checksum" ]]; then
  exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/data" "$root/etc"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/sh' >>"$root/etc/passwd"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import --change "LABEL opctl.io/busybox=$checksum" \
  --change 'CMD ["sleep", "infinity"]' - "$image" >/dev/null
echo "build-test-image: built $image"
