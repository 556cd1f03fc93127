#!/usr/bin/env bash
# System packages the test suite uses when it can: Debian's Chromium for the report tests (driven by
# playwright-core, which never downloads a browser of its own) and a C compiler for the KVM recorder.
# Best effort: where a package cannot be installed, the tests that need it skip and say why.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# A font, so that the report screenshots the browser test saves show text rather than empty boxes.
[ -n "$(fc-list 2>/dev/null)" ] || need+=(fonts-dejavu-core)
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: cannot install ${need[*]} (need root and apt-get); dependent tests will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || echo "install-system-deps: apt-get install ${need[*]} failed; dependent tests will skip" >&2
exit 0
