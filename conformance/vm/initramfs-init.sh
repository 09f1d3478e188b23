#!/bin/busybox sh
# The guest's first process: mounts the host's root (shared read-only over 9p) under a tmpfs
# overlay, so that the guest may write anywhere and the host sees none of it, and hands over to
# guest-init.sh from the host's tree.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for module in $(cat /modules.order); do insmod "/modules/$module.ko" || exec echo "insmod $module failed" > /dev/ttyS0; done
mkdir -p /lower /rw /newroot
# cache=loose: the host tree does not change while the guest runs, and every uncached lookup is a
# round trip through the emulated machine.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=524288 hostroot /lower
mount -t tmpfs -o mode=0755 rw /rw
mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work root /newroot
mkdir -p /newroot/run/vm-share
mount -t 9p -o trans=virtio,version=9p2000.L share /newroot/run/vm-share
umount /proc /sys /dev 2>/dev/null
exec switch_root /newroot /bin/bash "$(cat /newroot/run/vm-share/guest-init)"
