#!/usr/bin/env bash
# The GPU check (issue 22) for a machine with a GPU: a few minutes. Builds, then runs
# bench/gpu/check.mjs: the WebGPU adapter, the numeric check of every family against cpu, and
# training images/s at 28 px gray and 64 px RGB. See bench/README.md, "bench/gpu".
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run build >/dev/null
exec ./node_modules/.bin/node bench/gpu/check.mjs "$@"
