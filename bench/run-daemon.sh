#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ldmd with 64 LDM loop devices attached (8 packs × 8 disks): coldplug time (start until it owns
# org.ldmd1, which it requests only after coldplug) and idle RSS. As root:
#   bench/run-daemon.sh BUILD_DIR [RUNS] [udev|images]
# A private dbus-daemon (session-type configuration, everything allowed: the policy is not
# what is measured) in a temporary directory; ldmd started by build/bench/daemon-bench with
# the page cache dropped before each start (cold, as at boot).
#   udev (default): ldmd finds the disks by libudev enumeration of the block subsystem, i.e.
#     the real coldplug path. It sees every block device on the machine, so its disk count
#     can be higher than ours if other LDM loop devices are attached; `ours` counts only the
#     64 made here. Works without a running systemd-udevd (enumeration reads sysfs).
#   images: `--no-udev --image=/dev/loopN` for each of the 64 devices.
# For reference, in the same run: `ldmtool scan` of the same 64 devices, cold (time and peak
# RSS), a one-shot tool reading the same metadata. No target is set by the issue.
# Last lines: "RESULT metric ours baseline ratio target" for bench/run-all.sh (ratio > 1: we
# are better: baseline/ours for times and memory).
set -eu
build=${1:?usage: run-daemon.sh BUILD_DIR [RUNS] [udev|images]}
runs=${2:-5}
mode=${3:-udev}
here=$(dirname "$0")
# shellcheck source=bench/lib-loops.sh
. "$here/lib-loops.sh"
bench_require_root
command -v dbus-daemon >/dev/null || { echo "$0: dbus-daemon not installed" >&2; exit 77; }
ldmd="$build/daemon/ldmd"
db="$build/bench/daemon-bench"
sb="$build/bench/scan-bench"
for p in "$ldmd" "$db" "$sb"; do
        [ -x "$p" ] || { echo "$0: $p not built" >&2; exit 1; }
done
case $mode in udev|images) ;; *) echo "$0: mode is udev or images" >&2; exit 2 ;; esac

bus_pid=""
cleanup() {
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
        bus_pid=""
        bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_setup "$build"

socket="$BENCH_DIR/bus"
cat >"$BENCH_DIR/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
# --fork returns once the bus listens.
bus_pid=$(dbus-daemon --config-file="$BENCH_DIR/bus.conf" --fork --print-pid)
address="unix:path=$socket"

set -- "$ldmd" --bus="$address" --config=/dev/null
if [ "$mode" = images ]; then
        set -- "$@" --no-udev
        for dev in $BENCH_LOOPS; do set -- "$@" --image="$dev"; done
fi
log="$BENCH_DIR/ldmd.log"
# shellcheck disable=SC2086
if ! "$db" --bus="$address" --runs="$runs" --drop-caches $BENCH_LOOPS -- "$@" >"$BENCH_DIR/daemon.out" 2>"$log"; then
        cat "$BENCH_DIR/daemon.out" "$log" >&2
        echo "$0: daemon-bench failed" >&2
        exit 1
fi
out=$(cat "$BENCH_DIR/daemon.out")
echo "$out" | grep '^run' | sed 's/^/  /'
last=$(echo "$out" | grep '^run' | tail -n 1)
ours=$(echo "$last" | awk '{ for (i = 1; i < NF; i++) if ($i == "ours") print $(i + 1) }')
if [ "$ours" != "$BENCH_N" ]; then
        echo "$0: ldmd shows $ours of the $BENCH_N disks made here" >&2
        exit 1
fi
cold=$(echo "$out" | awk '$1 == "median" && $2 == "coldplug" { print $3 }')
rss=$(echo "$out" | awk '$1 == "median" && $2 == "rss" { print $3 }')
rssq=$(echo "$out" | awk '$1 == "median" && $2 == "rss-after-query" { print $3 }')
hwm=$(echo "$out" | awk '$1 == "max" && $2 == "hwm" { print $3 }')

# The one-shot reference on the same devices, cold too.
# shellcheck disable=SC2086
ref=$("$sb" --exec --runs "$runs" --drop-caches -- ldmtool scan $BENCH_LOOPS 2>>"$log")
ref_t=$(echo "$ref" | awk '$1 == "median" { print $2 }')
ref_rss=$(echo "$ref" | awk '$1 == "maxrss" { print $2 }')

echo "ldmd ($mode coldplug, $BENCH_N disks, $runs runs, median): coldplug" \
     "$(echo "$cold" | awk '{ printf "%.1f ms", $1 * 1e3 }'), idle RSS $rss KiB," \
     "RSS after a client read every disk $rssq KiB, peak (VmHWM) $hwm KiB"
echo "reference: ldmtool scan, cold: $(echo "$ref_t" | awk '{ printf "%.1f ms", $1 * 1e3 }'), peak RSS $ref_rss KiB"
echo "RESULT coldplug-$BENCH_N-$mode-s $cold $ref_t $(echo "$ref_t $cold" | awk '{ printf "%.2f", $1 / $2 }') -"
echo "RESULT idle-rss-$BENCH_N-$mode-kib $rss $ref_rss $(echo "$ref_rss $rss" | awk '{ printf "%.2f", $1 / $2 }') -"
echo "RESULT peak-rss-$BENCH_N-$mode-kib $hwm $ref_rss $(echo "$ref_rss $hwm" | awk '{ printf "%.2f", $1 / $2 }') -"
