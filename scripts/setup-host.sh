#!/usr/bin/env bash
# Installs the Debian packages the project builds with (gcc, libseccomp) and is tested against
# (busybox-static for test root filesystems; slirp4netns for the network of the builder's RUN steps;
# runc, crun, containerd, podman, buildah, skopeo, umoci as oracles and peers; openssh-client for the builder's ssh-agent mounts; zstd for zstd layers; git for ADD of repositories;
# strace and GNU time for the builder's context-hashes test (what a build opens, its peak RSS);
# qemu-system-x86, Debian's kernel and cpio for the cgroup v2 guest of conformance/vm;
# docker-registry, a real registry for the builder's pull/push tests, and apache2-utils for the bcrypt
# htpasswd file it authenticates with; docker.io, dockerd as a real client of tsrunc for conformance/test/dockerd).
set -euo pipefail
packages=(gcc libc6-dev make libseccomp2 libseccomp-dev busybox-static util-linux iproute2 slirp4netns
          runc crun containerd skopeo umoci podman buildah openssh-client zstd git strace time
          qemu-system-x86 linux-image-amd64 cpio docker-registry apache2-utils docker.io)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
