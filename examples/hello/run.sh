#!/usr/bin/env bash
# The main job: build examples/hello with tsbuild into a store of its own, unpack the image to an
# OCI bundle, and run it with tsrunc. Everything it makes is removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tsbuild="$repo/packages/builder/bin/tsbuild"
tsrunc="$repo/packages/runtime/bin/tsrunc"
work=$(mktemp -d /tmp/tsbuild-hello-XXXXXX)
id="hello-$$"
cleanup() {
  "$tsrunc" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$work" "$here/busybox"
}
trap cleanup EXIT

cp /bin/busybox "$here/busybox"
"$tsbuild" build --root "$work/store" -t hello:latest -o "type=oci,dest=$work/layout" "$here"
"$tsbuild" unpack --root "$work/store" hello:latest "$work/bundle"
chmod 755 "$work"
"$tsrunc" --root "$work/state" run --bundle "$work/bundle" "$id"
