#!/usr/bin/env bash
# Builds opctl/busybox:test, the tiny image the integration tests run (no registry exists here): a
# root filesystem holding Debian's static busybox and its applet links, through `docker import`. It
# runs as nobody (opctl refuses images that run as root unless the manifest sets a user);
# opctl/busybox:root is the same files running as root, for the tests of that refusal.
# Skipped when the images already exist with the same busybox.
set -euo pipefail
busybox=/bin/busybox
image=opctl/busybox:test
[[ -x $busybox ]] || { echo "build-test-image: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
# The suffix changes with this script's layout, so an image made by an older version is made again.
checksum=$(sha256sum "$busybox" | cut -c1-16)-nobody
root_image=opctl/busybox:root
if [[ $(docker image inspect -f '{{index .Config.Labels "opctl.io/busybox"}}' "$image" 2>/dev/null) == "$checksum" &&
  $(docker image inspect -f '{{index .Config.Labels "opctl.io/busybox"}}' "$root_image" 2>/dev/null) == "$checksum" ]]; then
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
  --change 'CMD ["sleep", "infinity"]' - "$root_image" >/dev/null
# Named volumes mounted at /data take its owner from the image, so nobody can write them.
chown 65534:65534 "$root/data"
tar -C "$root" -c . | docker import --change "LABEL opctl.io/busybox=$checksum" --change 'USER 65534:65534' \
  --change 'CMD ["sleep", "infinity"]' - "$image" >/dev/null
echo "build-test-image: built $image (runs as nobody) and $root_image (runs as root)"
