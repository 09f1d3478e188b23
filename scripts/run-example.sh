#!/usr/bin/env bash
# README's first command: set up what is missing, then the main job (examples/hello: build an image
# with tsbuild, run it with tsrunc).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash examples/hello/run.sh
