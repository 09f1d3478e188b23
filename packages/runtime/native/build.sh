#!/usr/bin/env bash
# Builds the native namespace stage. Static where the toolchain allows, so that it runs the same
# whatever the container's view of the host's libraries.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p out
cc -O2 -Wall -Wextra -Werror -std=gnu11 -o out/tsrunc-nsexec.tmp nsexec.c
mv out/tsrunc-nsexec.tmp out/tsrunc-nsexec
