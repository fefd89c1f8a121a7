#!/usr/bin/env bash
# Runs a command in a throw-away copy of this machine, for the documentation examples: they use
# default ports (8443, 6379, ...), absolute paths (/etc/tls, /logs, ...) and host names (redis,
# web, ...) exactly as printed, which must neither clash with other tests nor change the machine.
#
#   unshare --mount --net --pid --fork --mount-proc --kill-child bash test/docs/sandbox.sh WORKDIR CMD...
#
# Inside: a private network namespace (loopback up, 10.0.0.1-3 on it for the shard examples), the
# root filesystem as an overlay whose writes land in a tmpfs (gone with the namespace), the real
# /proc, /sys, /dev and podman's storage, and WORKDIR shared with the caller. Every process dies
# with the PID namespace when CMD ends.
set -euo pipefail
work="$1"
shift
mount --make-rprivate /
layers="$work/.layers"
mkdir -p "$layers"
mount -t tmpfs -o mode=0755 tmpfs "$layers"
mkdir -p "$layers/upper" "$layers/work" "$layers/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$layers/upper,workdir=$layers/work" "$layers/root"
root="$layers/root"
for d in /proc /sys /dev; do mount --rbind "$d" "$root$d"; done
# podman's image store and run state are the machine's (images are used, never built here)
for d in /var/lib/containers /run/containers /run/libpod /run/netns /run/runc; do
  if [[ -d "$d" ]]; then mount --bind "$d" "$root$d"; fi
done
mount --bind "$work" "$root$work"
ip link set lo up
for i in 1 2 3; do ip addr add "10.0.0.$i/32" dev lo; done
exec chroot "$root" "$@"
