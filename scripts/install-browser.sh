#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the browser test of the HTML report (tests/viz).
# Idempotent: does nothing when /usr/bin/chromium is already there. Needs root (or sudo) and apt-get.
# Playwright drives this system browser through executable_path; `playwright install` is never used
# (it downloads its own browser build, which this project's machines cannot fetch).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "install-browser: $CHROMIUM already installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: apt-get not found; install Chromium by hand so that $CHROMIUM exists" >&2
    echo "install-browser: the browser test of the report will be skipped (it fails under CI=true)" >&2
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-browser: not root and no sudo; run as root: apt-get install chromium" >&2
        echo "install-browser: the browser test of the report will be skipped (it fails under CI=true)" >&2
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
echo "install-browser: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
