#!/usr/bin/env bash
# The main job: build examples/hello with tsbuild into a store of its own, unpack the image to an
# OCI bundle, and run it with tsrunc. Everything it makes is removed at the end.
source "$(dirname "$0")/../common.sh" hello
build_and_unpack -o "type=oci,dest=$work/layout"
"$tsrunc" --root "$work/state" run --bundle "$work/bundle" "$id"
