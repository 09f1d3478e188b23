#!/usr/bin/env bash
# README's second command (and CI's): set up what is missing, then every suite (npm test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test
