#!/bin/bash
# Runs in the guest, as its init, on the host's tree: sets up the mounts a Debian system would
# have, with cgroup v2 alone at /sys/fs/cgroup, runs the command the host put in the share, and
# leaves its exit status there before powering off.
share=/run/vm-share
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
# /tmp stays the overlay's (writable, in the guest's memory): the command may live below it.
# Scratch space for the command is a tmpfs, as overlayfs (of RUN snapshots, of containerd's
# snapshotter) cannot have its upper directory on the overlay root.
# /run is the overlay's (the share is mounted in it); what the host left there is stale.
find /run -mindepth 1 -maxdepth 1 ! -name vm-share -exec rm -rf {} +
mkdir -p /run/vm-tmp
mount -t tmpfs -o mode=1777 vm-tmp /run/vm-tmp
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
ip link set lo up
hostname tsrunc-vm
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb TMPDIR=/run/vm-tmp
if cd "$(cat $share/cwd)"; then
  bash "$share/command" > "$share/output" 2>&1
  echo $? > "$share/status"
else
  echo "guest: cannot enter $(cat $share/cwd)" > "$share/output"
  echo 125 > "$share/status"
fi
sync
echo o > /proc/sysrq-trigger
sleep 60
