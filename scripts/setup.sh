#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs, as root, and nothing twice: Debian's packages
# (setup-host.sh), the npm dependencies (npm ci, skipped while node_modules matches the lock file),
# and the build (schemas, the native stage, TypeScript, the runtime's bundle).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.tsrunc-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.tsrunc-lock-hash
fi
npm run build
