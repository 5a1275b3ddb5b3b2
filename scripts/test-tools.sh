#!/usr/bin/env bash
# Installs what the tests need beyond the build tools: Debian's Chromium for Playwright,
# ClamAV's daemon, ffmpeg and libvips' tools for the media pipeline.
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test-tools: installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test-tools: /usr/bin/chromium is missing; install it with: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

# The media pipeline's tests (backend/tests/it/media_pipeline.rs) start their own clamd with
# a test signature and run ffmpeg; the thumbnail bench compares with vipsthumbnail.
media_packages=()
[ -x /usr/sbin/clamd ] || media_packages+=(clamav-daemon)
command -v ffmpeg >/dev/null || media_packages+=(ffmpeg)
command -v vipsthumbnail >/dev/null || media_packages+=(libvips-tools)
if [ ${#media_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test-tools: installing Debian's ${media_packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${media_packages[@]}" >/dev/null
  else
    echo "test-tools: missing ${media_packages[*]}; install with: sudo apt-get install ${media_packages[*]}" >&2
    exit 1
  fi
fi

# Schemathesis (PyPI), in a virtualenv outside the checkout so CI reuses it.
SCHEMATHESIS_VERSION=4.32.5
venv=${HEIRLOOM_TOOLS_DIR:-$HOME/.cache/heirloom-tools}/venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "test-tools: installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

# cargo-fuzz for the fuzz targets in fuzz/.
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "test-tools: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# s3s-fs: an S3-protocol server on a folder that checks signatures, for the media tests'
# S3 variant. Newer versions need a newer rustc than this machine's.
if ! s3s-fs --version 2>/dev/null | grep -q "0.14.1"; then
  echo "test-tools: installing s3s-fs 0.14.1"
  cargo install s3s-fs@0.14.1 --locked --features binary
fi
