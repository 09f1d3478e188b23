#!/usr/bin/env bash
# Runs every compiled tap suite of the monorepo and ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
# The import rules (scripts/check-layering.mjs) first: a deep import across packages fails the run.
node scripts/check-layering.mjs || exit 1
mapfile -t suites < <(find packages/*/dist/test conformance/dist/test -name '*.test.js' 2>/dev/null | sort)
if [ ${#suites[@]} -eq 0 ]; then echo "no compiled test suites: run 'npm run build' first" >&2; exit 1; fi
# tap ships prebuilt with its TypeScript plugin, which cannot load TypeScript 7; rebuild its plugin
# set from package.json's "tap" section (plugin disabled: the suites are compiled JS).
npx tap build >/dev/null
log=$(mktemp)
trap 'rm -f "$log"' EXIT
npx tap --jobs=2 "$@" "${suites[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E '^# \{ total: ' "$log" | tail -1)
total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary")
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
skip=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
echo "tests: ${pass:-0} passed, $(( ${total:-0} - ${pass:-0} - ${skip:-0} )) failed, ${skip:-0} skipped"
exit "$status"
