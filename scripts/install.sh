#!/usr/bin/env bash
# Installs everything Synthfold needs on a fresh Debian/Ubuntu machine: Debian's Chromium (for the
# end-to-end tests; Playwright cannot download its own browser everywhere), Python's PIL and
# torchvision (the unit tests read exports with them, as real consumers do; torchvision brings
# python3-torch), imbalanced-learn (the reference semantics of the generation plan) and the npm
# packages.
# Optional extras for benchmarks and demos (SYNTHFOLD_BENCH_DEPS=1): dataset-fashion-mnist,
# python3-torch (the training speed reference), time, and the icon themes of the colour bench set
# (Oxygen for the data; Papirus and Breeze for its judge).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
/usr/bin/python3 -c 'import PIL' 2>/dev/null || need+=(python3-pil)
/usr/bin/python3 -c 'import torchvision' 2>/dev/null || need+=(python3-torchvision)
/usr/bin/python3 -c 'import imblearn' 2>/dev/null || need+=(python3-imblearn)
if [ "${SYNTHFOLD_BENCH_DEPS:-0}" = 1 ]; then
  [ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
  [ -x /usr/bin/time ] || need+=(time)
  /usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
  [ -d /usr/share/icons/oxygen ] || need+=(oxygen-icon-theme)
  [ -d /usr/share/icons/Papirus ] || need+=(papirus-icon-theme)
  [ -d /usr/share/icons/breeze ] || need+=(breeze-icon-theme)
fi
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
npm ci --no-audit --no-fund
