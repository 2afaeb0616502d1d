#!/bin/busybox sh
# Stage 2: PID 1 in the guest, already on the host's userspace (read-only host root with a
# tmpfs overlay; /dev, /sys, /run, /tmp, shares, network and /lib/modules set up by the
# initramfs). Busybox only, since every exec is slow under TCG. Runs e2elab.cmd=PATH (written
# by run-guest.sh) with bash on the console ttyS0, reports its exit code on ttyS1 (a file on
# the host) and powers off.
B=/bin/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
$B mount -t proc proc /proc
# no kernel message mixes with the command's output (oopses and panics still print)
echo 0 > /proc/sys/kernel/printk
CMD=
for a in $($B cat /proc/cmdline); do case $a in e2elab.cmd=*) CMD=${a#*=};; esac; done
# virtio-net's carrier comes up asynchronously: wait up to 3 s so the first connect succeeds
if [ -e /sys/class/net/eth0 ]; then
  i=0; while [ "$($B cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 300 ]; do $B usleep 10000; i=$((i+1)); done
fi
$B stty -F /dev/ttyS0 -onlcr 2>/dev/null   # no \n -> \r\n: output reaches the host unchanged
cd /
$B setsid -c /bin/bash "$CMD" </dev/ttyS0 >/dev/ttyS0 2>&1
echo $? > /dev/ttyS1
$B sync
$B poweroff -f
