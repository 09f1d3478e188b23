#!/usr/bin/env bash
# Builds the native stage, statically: it runs inside containers' namespaces, where the host's
# libraries must not be mapped (nor reachable through /proc/PID/map_files).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p out
cc -O2 -Wall -Wextra -Werror -std=gnu11 -static -s -o out/tsrunc-nsexec.tmp nsexec.c fail.c cloned-binary.c plan.c process.c procfs.c rootfs.c
mv out/tsrunc-nsexec.tmp out/tsrunc-nsexec
