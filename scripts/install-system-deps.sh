#!/usr/bin/env bash
# Debian/Ubuntu packages posekit needs beyond Python: headless OpenGL for `posekit synth` (Mesa's EGL and its
# llvmpipe software rasteriser, used through moderngl when there is no display and no GPU) and libusb, which
# Open3D's CPU wheel links against (TSDF fusion for `posekit map build`).
# Idempotent: installs only what is missing, and calls apt-get only then. Safe to run on every `make`.
set -euo pipefail

PACKAGES=(libegl1 libegl-mesa0 libgl1-mesa-dri libgbm1 libusb-1.0-0)

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: missing ${missing[*]} and no apt-get here; install Mesa's EGL + software rasteriser" \
         "with your package manager" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-system-deps: missing ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
