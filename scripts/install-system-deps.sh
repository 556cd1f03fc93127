#!/usr/bin/env bash
# System packages the test suite uses when it can: Debian's Chromium for the report tests (driven by
# playwright-core, which never downloads a browser of its own), a C compiler for the KVM recorders, and
# QEMU (with SeaBIOS), a static busybox and a Debian kernel for the record-vm tests (docs/record-vm.md).
# Best effort: where a package cannot be installed, the tests that need it skip and say why.
set -u
repo="$(cd "$(dirname "$0")/.." && pwd)"
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# A font, so that the report screenshots the browser test saves show text rather than empty boxes.
[ -n "$(fc-list 2>/dev/null)" ] || need+=(fonts-dejavu-core)
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || need+=(busybox-static)
command -v apt-get >/dev/null 2>&1 || { echo "install-system-deps: no apt-get; dependent tests will skip" >&2; exit 0; }
export DEBIAN_FRONTEND=noninteractive
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-system-deps: cannot install ${need[*]} (need root); dependent tests will skip" >&2
  else
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
      || echo "install-system-deps: apt-get install ${need[*]} failed; dependent tests will skip" >&2
  fi
fi
# The guest kernel of the record-vm Linux-boot test: Debian's cloud kernel package, unpacked (not
# installed) into a git-ignored cache. Tests never download anything; without it they skip.
cache="$repo/.cache/record-vm"
if ! ls "$cache"/kernel/boot/vmlinuz-* >/dev/null 2>&1; then
  pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)"
  mkdir -p "$cache" && rm -f "$cache"/linux-image-*.deb
  if [ -n "$pkg" ] && (cd "$cache" && apt-get download -qq "$pkg" >/dev/null 2>&1) && dpkg-deb -x "$cache"/linux-image-*.deb "$cache/kernel"; then
    rm -f "$cache"/linux-image-*.deb
  else
    echo "install-system-deps: could not fetch and unpack ${pkg:-linux-image-cloud-amd64}; the record-vm Linux-boot test will skip" >&2
  fi
fi
exit 0
