#!/usr/bin/env bash
# Build the systemd base images the Molecule scenarios run on, offline from Debian's
# archive with debootstrap (no container registry is needed). Builds only what is missing.
#
#   scripts/build-base-images.sh [SUITE...]     default: bookworm trixie
#
# Image names: dicom-st-debian:12 (bookworm) and dicom-st-debian:13 (trixie).
set -euo pipefail

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
INCLUDE=systemd,systemd-sysv,python3,dbus,iproute2,procps,ca-certificates

log() { printf 'build-base-images: %s\n' "$*" >&2; }

image_for() {
  case "$1" in
    bookworm) echo dicom-st-debian:12 ;;
    trixie) echo dicom-st-debian:13 ;;
    *) log "unknown suite '$1' (use bookworm or trixie)"; exit 2 ;;
  esac
}

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)

for suite in "${suites[@]}"; do
  image=$(image_for "$suite")
  if docker image inspect "$image" >/dev/null 2>&1; then
    log "$image present"
    continue
  fi

  root=$(mktemp -d "/var/tmp/dicom-st-rootfs-$suite.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  log "debootstrap $suite into $root"
  debootstrap --variant=minbase --include="$INCLUDE" "$suite" "$root" "$MIRROR" \
    >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }

  # Keep containers lean and quiet: no units that need hardware or a console.
  rm -f "$root"/etc/machine-id && touch "$root"/etc/machine-id
  for unit in getty.target systemd-firstboot.service systemd-udevd.service \
              systemd-modules-load.service sys-kernel-config.mount; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

  log "importing $image"
  tar -C "$root" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$image" >/dev/null
  rm -rf "$root" "$root.log"
  trap - EXIT
done
