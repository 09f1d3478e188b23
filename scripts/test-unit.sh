#!/usr/bin/env bash
# The fast tier: the suites that need neither root nor the kernel's container features (plans,
# validation, encodings, the status table, cgroup path logic, the Dockerfile front end, schemas,
# registry references). Runs in seconds, as any user; `npm test` runs them too, with the rest.
set -uo pipefail
cd "$(dirname "$0")/.."
node scripts/check-layering.mjs || exit 1
suites=(packages/spec-schemas/dist/test/*.test.js
        packages/runtime/dist/test/plans.test.js packages/runtime/dist/test/cgroups-units.test.js
        packages/runtime/dist/test/mountinfo.test.js packages/runtime/dist/test/atomic-file.test.js
        packages/runtime/dist/test/units.test.js packages/runtime/dist/test/criu-rpc.test.js packages/builder/dist/test/in-root.test.js packages/builder/dist/test/build-executor.test.js
        packages/runtime/dist/test/cli-argv.test.js packages/runtime/dist/test/memory-policy.test.js packages/runtime/dist/test/seccomp-enosys.test.js
        packages/builder/dist/test/dockerfile-*.test.js packages/builder/dist/test/registry-reference.test.js)
for suite in "${suites[@]}"; do
  [ -f "$suite" ] || { echo "no compiled suite $suite: run 'npm run build' first" >&2; exit 1; }
done
npx tap --jobs=2 "$@" "${suites[@]}"
