#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every benchmark, one table of ratios against a baseline measured in the same run. As root:
#   bench/run-all.sh BUILD_DIR [LOG]
# Runs the benchmarks listed below (bench/run-*.sh, querystatus-bench.sh), collects their
# "RESULT metric ours baseline ratio target" lines and prints the machine, then the table.
# ratio > 1 always means we are better than the baseline (baseline/ours for times and
# memory, ours/baseline for throughput). The full output of each benchmark goes to LOG
# (default: a file in /var/tmp, named at the end).
set -eu
build=${1:?usage: run-all.sh BUILD_DIR [LOG]}
here=$(dirname "$0")
log=${2:-$(mktemp /var/tmp/ldmd-bench-XXXXXX.log)}
if [ "$(id -u)" -ne 0 ]; then
        echo "$0: needs root (loop devices, drop_caches)" >&2
        exit 77
fi
: >"$log"
if ! ninja -C "$build" bench/volume-read bench/scan-bench bench/scan-floor bench/machine-costs bench/daemon-bench daemon/ldmd tools/mkldm >>"$log" 2>&1; then
        cat "$log" >&2
        echo "$0: build failed" >&2
        exit 1
fi
# Optional programs: xor-bench needs libisal-dev, ldm-testtool (which damages the packs of the
# repair and job benchmarks) a build with tests enabled; the scripts exit 77 without them.
ninja -C "$build" bench/repair-bench bench/querystatus-bench >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
ninja -C "$build" bench/xor-bench >>"$log" 2>&1 || echo "(no xor-bench: libisal-dev missing?)" >>"$log"
ninja -C "$build" tests/ldm-testtool >>"$log" 2>&1 || echo "(no ldm-testtool: tests disabled?)" >>"$log"

# name:command; each prints RESULT lines on stdout.
benches="volume:$here/run-volume.sh $build 1024
scan:$here/run-scan.sh $build 7 buffered
scan-dio:$here/run-scan.sh $build 7 dio
daemon-udev:$here/run-daemon.sh $build 5 udev
daemon-images:$here/run-daemon.sh $build 5 images
xor:$here/run-xor.sh $build 11
repair:$here/run-repair.sh $build 1024 3
repair-ram:$here/run-repair.sh $build 1024 5 /dev/shm
repair-disks:$here/run-repair.sh $build 1024 3 /var/tmp 150
querystatus:$here/querystatus-bench.sh $build 512 16 10"
# Done for issue 6: xor (ldm/xor.h vs ISA-L xor_gen), repair (Recover's data phase in
# process, mirror resync and RAID-5 column rebuild vs dd O_DIRECT bs=4M, and the Verify
# scrub vs dd reading the same extents), querystatus (QueryStatus latency with 16 clients
# while two Recover jobs run, RSS idle and under load, the jobs' progress signals per second
# and ldmd's CPU meanwhile). A new script must print "RESULT metric ours baseline ratio
# target" lines like the others.

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
results=""
failed=""
oldifs=$IFS
IFS='
'
for b in $benches; do
        IFS=$oldifs
        name=${b%%:*}
        cmd=${b#*:}
        echo "== $name: $cmd" | tee -a "$log" >&2
        # shellcheck disable=SC2086
        rc=0
        out=$(sh $cmd 2>>"$log") || rc=$?
        if [ "$rc" -eq 0 ]; then
                echo "$out" >>"$log"
                results="$results$(echo "$out" | grep '^RESULT ' || true)
"
        elif [ "$rc" -eq 77 ]; then
                echo "$out" >>"$log"
                echo "   $name skipped (a program or a privilege is missing; see $log)" >&2
        else
                echo "$out" >>"$log"
                failed="$failed $name"
                echo "   $name FAILED (see $log)" >&2
        fi
        IFS='
'
done
IFS=$oldifs

echo
echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'))," \
     "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)," \
     "$(date -u '+%Y-%m-%d %H:%M UTC'), load average $load_start at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
# What a new page and a system call cost here: the scan rows follow them (bench/README.md).
"$build/bench/machine-costs" || true
echo
# Units come from the metric's suffix: -s shown in ms, -kib in MiB, -MBps as MB/s.
echo "$results" | awk '
        BEGIN { printf "%-34s %12s %12s %8s %8s\n", "metric", "ours", "baseline", "ratio", "target" }
        $1 == "RESULT" {
                m = $2; o = $3; b = $4
                if (m ~ /-s$/)        { sub(/-s$/, " (ms)", m); if (o != "-") o = sprintf("%.1f", o * 1e3); if (b != "-") b = sprintf("%.1f", b * 1e3) }
                else if (m ~ /-kib$/) { sub(/-kib$/, " (MiB)", m); if (o != "-") o = sprintf("%.1f", o / 1024); if (b != "-") b = sprintf("%.1f", b / 1024) }
                else if (m ~ /-MBps$/) sub(/-MBps$/, " (MB/s)", m)
                else if (m ~ /-GBps$/) sub(/-GBps$/, " (GB/s)", m)
                printf "%-34s %12s %12s %8s %8s\n", m, o, b, $5, $6
        }'
echo
echo "baselines: volume = dd of the same extents; scan = ldmtool scan of the same devices;"
echo "daemon = ldmtool scan of the same devices, cold (a one-shot reader of the same metadata);"
echo "xor = ISA-L xor_gen on the same buffers; repair = dd iflag=direct oflag=direct conv=fdatasync"
echo "bs=4M between the same devices; verify = dd iflag=direct reading what the scrub reads (MB/s read);"
echo "querystatus = the same clients with no job running; rss-2jobs = ldmd idle."
echo "full output: $log"
[ -z "$failed" ] || { echo "failed:$failed" >&2; exit 1; }
