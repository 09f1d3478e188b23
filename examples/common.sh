# Sourced by each example's run.sh: paths to the two tools, a work dir and a container id of the
# example's own, the host's static busybox in the build context, and a cleanup that removes the
# container, the work dir and the copied busybox whatever happens.
# Usage: source "$(dirname "$0")/../common.sh" NAME
set -euo pipefail
name=$1
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
tsbuild="$repo/packages/builder/bin/tsbuild"
tsrunc="$repo/packages/runtime/bin/tsrunc"
work=$(mktemp -d "/tmp/tsbuild-$name-XXXXXX")
chmod 755 "$work" # the bundle's rootfs must be reachable by the container's non-root users
id="$name-$$"
cleanup() {
  "$tsrunc" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$work" "$here/busybox"
}
trap cleanup EXIT
cp /bin/busybox "$here/busybox"

# Builds the example into the work dir's store and unpacks it as the bundle $work/bundle.
build_and_unpack() {
  "$tsbuild" build --root "$work/store" -t "$name:latest" "$@" "$here"
  "$tsbuild" unpack --root "$work/store" "$name:latest" "$work/bundle"
}
