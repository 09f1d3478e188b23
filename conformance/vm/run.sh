#!/usr/bin/env bash
# Runs a command as root in a throwaway guest of Debian's kernel whose only cgroup hierarchy is
# cgroup v2 with every controller, for the v2 code paths a hybrid host cannot exercise. The guest
# sees the host's tree read-only (writes land in a tmpfs overlay), starts in the current
# directory, and this script prints the command's output and exits with its status.
#   conformance/vm/run.sh npx tap some.test.js
# Needs qemu-system-x86 and linux-image-amd64 (scripts/setup-host.sh installs both). The machine
# is emulated: this host's /dev/kvm hangs a guest before its first line (it has no vmx).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || { echo "run.sh: no kernel in /boot (install linux-image-amd64)" >&2; exit 125; }
command -v qemu-system-x86_64 >/dev/null || { echo "run.sh: qemu-system-x86_64 not found (install qemu-system-x86)" >&2; exit 125; }
modules=/lib/modules/${kernel#/boot/vmlinuz-}

work=$(mktemp -d /tmp/tsrunc-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/initramfs/bin" "$work/initramfs/modules" "$work/initramfs/proc" "$work/initramfs/sys" "$work/initramfs/dev" "$work/share"
cp "$(command -v busybox)" "$work/initramfs/bin/busybox"
install -m 0755 "$here/initramfs-init.sh" "$work/initramfs/init"
# The 9p and overlay modules with what they need, in load order (modules.dep lists a module's
# dependencies, the deepest last).
order=()
add_module() {
  local name=$1 line dep i
  for loaded in "${order[@]}"; do [ "$loaded" = "$name" ] && return; done
  line=$(grep -E "/$name\.ko(\.[a-z]+)?:" "$modules/modules.dep" | head -n 1)
  [ -n "$line" ] || return 0 # built into this kernel
  local deps=(${line#*:})
  for ((i = ${#deps[@]} - 1; i >= 0; i--)); do dep=$(basename "${deps[i]}"); add_module "${dep%%.ko*}"; done
  cp "$modules/${line%%:*}" "$work/initramfs/modules/$name.ko"
  order+=("$name")
}
for module in virtio_pci 9pnet_virtio 9p overlay; do add_module "$module"; done
printf '%s\n' "${order[@]}" > "$work/initramfs/modules.order"
(cd "$work/initramfs" && find . | cpio --quiet -o -H newc) | gzip -1 > "$work/initrd"

printf '%q ' "$@" > "$work/share/command"
pwd > "$work/share/cwd"
echo "$here/guest-init.sh" > "$work/share/guest-init"
timeout "${TSRUNC_VM_TIMEOUT:-1800}" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$(nproc)" -m 4096 \
  -display none -monitor none -no-reboot -serial "file:$work/console" \
  -kernel "$kernel" -initrd "$work/initrd" -append "console=ttyS0 panic=-1 quiet" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap" \
  -virtfs "local,path=$work/share,mount_tag=share,security_model=passthrough" || true
[ -f "$work/share/output" ] && cat "$work/share/output"
if [ ! -f "$work/share/status" ]; then
  echo "run.sh: the guest ended without a status; its console:" >&2
  tail -n 40 "$work/console" >&2
  exit 125
fi
exit "$(cat "$work/share/status")"
