#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Job.QueryStatus latency with 16 polling clients while two Recover jobs run, and ldmd's RSS
# idle and under that load. As root:
#   bench/querystatus-bench.sh BUILD_DIR [MIB] [CLIENTS] [INTERVAL_MS]
# Two packs of three loop devices (`losetup --direct-io=on`, images in /var/tmp written full
# of zeros first so that every read reaches the disk), each with a MIB-MiB mirror and a RAID-5
# of three MIB-MiB columns; in each, mirror plex 1 and RAID-5 column 2 are marked stale and
# overwritten (tests' ldm-testtool). ldmd runs on a private dbus-daemon (session-type
# configuration, everything allowed), `--no-udev --image=` the six devices, WorkerThreads=2,
# its own state directory. build/bench/querystatus-bench starts it, calls Pack.Recover() on
# both packs and has CLIENTS (default 16) connections call Job.QueryStatus(), each every
# INTERVAL_MS (default 10: 1 600 calls/s in all; 0: back to back, which on a 2-CPU machine
# measures the CPU the 16 clients take from the daemon and dbus-daemon more than the daemon)
# until both jobs end (each must end in S_OK), then for 3 s more against the finished jobs
# (the idle baseline) and as long calling the bus daemon's own Peer.Ping (what the bus and
# the machine cost without ldmd, printed for reference); while the jobs run, one more client
# calls Peer.Ping at the same interval (what the bus and the machine cost under that load).
# The clients sleep INTERVAL_MS after each reply and, started together, call in bursts
# ("lockstep", the default); "spread" gives each a fixed schedule of its own phase.
# Needs ~6 × (2 × MIB + 64) MiB in /var/tmp.
# Last lines: "RESULT metric ours baseline ratio target" for bench/run-all.sh: latency in
# seconds (baseline: the same clients with no job running; ratio = idle p99 / busy p99),
# RSS in KiB (under load against idle, ratio = idle / load); the jobs' progress signals
# (PropertiesChanged with Percent: the most in any whole second, against dbus-api.md's ~4;
# the first one's delay after Recover() returned) and ldmd's CPU while they ran (% of one
# CPU), no baseline.
set -eu
build=${1:?usage: querystatus-bench.sh BUILD_DIR [MIB] [CLIENTS] [INTERVAL_MS] [lockstep|spread]}
mib=${2:-512}
clients=${3:-16}
interval=${4:-10}
schedule=${5:-lockstep}
case $schedule in
lockstep) spread="" ;;
spread) spread="--spread" ;;
*) echo "$0: schedule must be lockstep or spread, not '$schedule'" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
        echo "$0: needs root (loop devices)" >&2
        exit 77
fi
command -v dbus-daemon >/dev/null || { echo "$0: dbus-daemon not installed" >&2; exit 77; }
qb="$build/bench/querystatus-bench"
ldmd="$build/daemon/ldmd"
mkldm="$build/tools/mkldm"
tool="$build/tests/ldm-testtool"
for p in "$qb" "$ldmd" "$mkldm"; do
        [ -x "$p" ] || { echo "$0: $p not built" >&2; exit 1; }
done
[ -x "$tool" ] || { echo "$0: $tool not built (configure with tests enabled: it damages the packs)" >&2; exit 77; }

dir=""
loops=""
bus_pid=""
cleanup() {
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
        bus_pid=""
        for dev in $loops; do
                losetup -d "$dev" 2>/dev/null || echo "warning: could not detach $dev" >&2
        done
        loops=""
        [ -n "$dir" ] && rm -rf "$dir"
        dir=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM
dir=$(mktemp -d /var/tmp/ldmd-querystatus-bench.XXXXXX)

size=$((2 * mib + 64))
for p in 1 2; do
        imgs=""
        for i in 1 2 3; do
                img="$dir/p$p-d$i.img"
                dd if=/dev/zero of="$img" bs=4M count=$((size / 4)) oflag=direct 2>/dev/null
                imgs="$imgs $img"
        done
        # shellcheck disable=SC2086
        "$mkldm" --name "BenchJobs$p" --volume "mirror:${mib}M:Mirror$p@1,2" \
                --volume "raid5:$((2 * mib))M:Raid$p@1,2,3" $imgs >/dev/null
        devs=""
        for img in $imgs; do
                dev=$(losetup --direct-io=on -f --show "$img")
                loops="$loops $dev"
                devs="$devs $dev"
        done
        # shellcheck disable=SC2086
        "$tool" stale-plex "Mirror$p" 1 $devs
        # shellcheck disable=SC2086
        "$tool" stale-column "Raid$p" 2 $devs
done
sync
echo "devices:$loops; per pack: mirror $mib MiB, RAID-5 3 × $mib MiB, both stale"

socket="$dir/bus"
cat >"$dir/bus.conf" <<EOF
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
printf '[Daemon]\nWorkerThreads=2\n' >"$dir/ldmd.conf"
bus_pid=$(dbus-daemon --config-file="$dir/bus.conf" --fork --print-pid)
address="unix:path=$socket"

set -- "$ldmd" --bus="$address" --config="$dir/ldmd.conf" --state-dir="$dir/state" --no-udev
for dev in $loops; do set -- "$@" --image="$dev"; done
# shellcheck disable=SC2086 # $spread: no word or one
if ! "$qb" --bus="$address" --clients="$clients" --interval-us=$((interval * 1000)) $spread BenchJobs1 BenchJobs2 -- "$@" >"$dir/out" 2>"$dir/ldmd.log"; then
        cat "$dir/out" "$dir/ldmd.log" >&2
        echo "$0: querystatus-bench failed" >&2
        exit 1
fi
out=$(cat "$dir/out")
echo "$out" | sed 's/^/  /'

get() { echo "$out" | awk -v a="$1" -v b="$2" -v f="$3" '$1 == a && $2 == b { for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }'; }
busy50=$(get latency busy p50)
busy99=$(get latency busy p99)
idle50=$(get latency idle p50)
idle99=$(get latency idle p99)
ping50=$(get latency bus-ping p50)
ping99=$(get latency bus-ping p99)
bping50=$(get latency busy-bus-ping p50)
bping99=$(get latency busy-bus-ping p99)
calls=$(get latency busy calls)
rss_idle=$(echo "$out" | awk '$1 == "rss" && $2 == "idle" { print $3 }')
rss_load=$(echo "$out" | awk '$1 == "rss" && $2 == "load-max" { print $3 }')
[ -n "$busy99" ] && [ "$calls" -gt 0 ] || { echo "$0: no QueryStatus call while both jobs ran" >&2; exit 1; }
echo "QueryStatus, $clients clients every $interval ms, both jobs running ($calls calls): p50 $(echo "$busy50" | awk '{ printf "%.3f ms", $1 * 1e3 }')," \
     "p99 $(echo "$busy99" | awk '{ printf "%.3f ms", $1 * 1e3 }'); idle: p50 $(echo "$idle50" | awk '{ printf "%.3f ms", $1 * 1e3 }')," \
     "p99 $(echo "$idle99" | awk '{ printf "%.3f ms", $1 * 1e3 }'); the bus daemon's own Peer.Ping, same clients:" \
     "p50 $(echo "$ping50" | awk '{ printf "%.3f ms", $1 * 1e3 }'), p99 $(echo "$ping99" | awk '{ printf "%.3f ms", $1 * 1e3 }');" \
     "one more client's Peer.Ping while both jobs ran: p50 $(echo "$bping50" | awk '{ printf "%.3f ms", $1 * 1e3 }')," \
     "p99 $(echo "$bping99" | awk '{ printf "%.3f ms", $1 * 1e3 }'); RSS idle $rss_idle KiB, under load (max) $rss_load KiB"
echo "RESULT querystatus-p50-${clients}x${interval}ms${spread:+-spread}-2jobs-s $busy50 $idle50 $(echo "$idle50 $busy50" | awk '{ printf "%.2f", ($2 > 0 ? $1 / $2 : 0) }') -"
echo "RESULT querystatus-p99-${clients}x${interval}ms${spread:+-spread}-2jobs-s $busy99 $idle99 $(echo "$idle99 $busy99" | awk '{ printf "%.2f", ($2 > 0 ? $1 / $2 : 0) }') <=2ms"
echo "RESULT rss-2jobs-kib $rss_load $rss_idle $(echo "$rss_idle $rss_load" | awk '{ printf "%.2f", $1 / $2 }') -"
sig_max=$(echo "$out" | awk '$1 == "signals" { if ($8 > m) m = $8 } END { print m + 0 }')
sig_first=$(echo "$out" | awk '$1 == "signals" { if ($10 > m) m = $10 } END { print m + 0 }')
cpu_pct=$(echo "$out" | awk '$1 == "cpu" { printf "%.1f", ($5 > 0 ? 100 * $3 / $5 : 0) }')
echo "job progress signals: at most $sig_max in a second (dbus-api.md: ~4), the first" \
     "$(echo "$sig_first" | awk '{ printf "%.1f ms", $1 * 1e3 }') after Recover() returned (the later of the two jobs);" \
     "ldmd CPU while they ran: $cpu_pct % of one CPU"
echo "RESULT job-signals-max-per-second $sig_max 4 $(echo "$sig_max" | awk '{ printf "%.2f", ($1 > 0 ? 4 / $1 : 0) }') <=4"
echo "RESULT job-first-signal-s $sig_first - - -"
echo "RESULT ldmd-cpu-2jobs-pct $cpu_pct - - -"
