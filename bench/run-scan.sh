#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Metadata scan of 64 loop devices (8 packs × 8 disks, MBR and GPT): ours against
# `ldmtool scan` on the same devices, in the same run. As root:
#   bench/run-scan.sh BUILD_DIR [RUNS] [buffered|dio]
# Both sides are timed as whole processes (fork to exit, stdout to /dev/null) by
# build/bench/scan-bench --exec: ours is `scan-bench --runs 1 $SCAN_ARGS DEVICES` in a fresh
# process, by default `--threads auto --light`: the devices probed by as many threads as ldmd
# takes (one per online CPU, 2 to 8) without keeping the raw regions, then one
# ldm_scan_build(), which is what ldmd does (daemon/probe.c);
# SCAN_ARGS= (empty) measures plain ldm_scan_paths() instead (one thread, raw regions kept,
# as the repair engine and the tools scan). The runs of the two alternate so drift hits both
# alike. Hot, a third process, scan-floor, does the least any reader does (opens each
# device, reads the three places Windows keeps the metadata, closes it; no parsing, no
# hints): ldmtool's time over its time is the most a reader could show there. (Cold and
# warm it is no floor: one read after the other, with the kernel's readahead, it waits
# longer than a probe that hints its places.)
#   cold: page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every run:
#     every read goes to the disk under the image files;
#   warm: the image files are in the page cache, but the kernel drops a block device's own
#     cache on its last close, so every read still goes through the loop driver (as a daemon
#     or tool opening an otherwise unused disk sees it);
#   hot: another process (`scan-bench --hold`) keeps all 64 devices open, so their page
#     cache survives between runs: no I/O at all, the CPU cost of opening, reading from the
#     page cache and parsing alone.
# The in-process times of the same scan and of plain ldm_scan_paths() are printed for
# information.
# Last lines: "RESULT metric ours baseline ratio target" for bench/run-all.sh, where ratio is
# baseline time / our time (> 1: we are faster).
set -eu
build=${1:?usage: run-scan.sh BUILD_DIR [RUNS]}
runs=${2:-7}
case "${3:-buffered}" in
buffered) ;;
dio) BENCH_LOOP_ARGS=--direct-io=on ;;
*) echo "$0: the loop kind is buffered or dio" >&2; exit 2 ;;
esac
here=$(dirname "$0")
# shellcheck source=bench/lib-loops.sh
. "$here/lib-loops.sh"
bench_require_root
command -v ldmtool >/dev/null || { echo "$0: ldmtool not installed" >&2; exit 77; }
sb="$build/bench/scan-bench"
sf="$build/bench/scan-floor"
ours_args=${SCAN_ARGS---threads auto --light}
# dio (BENCH_LOOP_ARGS=--direct-io=on): the loop devices read their image files with O_DIRECT, so a
# read of the device reads those bytes from the disk and nothing more, as a real disk does.
# buffered (the default): each loop device reads its file through the page cache, whose
# readahead turns every small read into ~128 KiB from the disk: both tools pay it, we pay it
# on more of our bytes.
loop_kind=buffered
case "${BENCH_LOOP_ARGS:-}" in *direct-io=on*) loop_kind=dio ;; esac
for p in "$sb" "$sf"; do
        [ -x "$p" ] || { echo "$0: $p not built" >&2; exit 1; }
done

holder=""
cleanup() {
        if [ -n "$holder" ]; then
                kill "$holder" 2>/dev/null || true
                wait "$holder" 2>/dev/null || true
                holder=""
        fi
        bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_setup "$build"
log="$BENCH_DIR/stderr.log"

# Both must see the same thing before their times mean anything.
# shellcheck disable=SC2086
found=$("$sb" --runs 1 $ours_args $BENCH_LOOPS | awk '$1 == "found"')
# shellcheck disable=SC2086
groups=$(ldmtool scan $BENCH_LOOPS 2>>"$log" | jq length)
echo "devices: $BENCH_N loop devices ($BENCH_PACKS packs × $BENCH_DISKS disks, $loop_kind loops)"
echo "ours: $found; ldmtool: $groups disk groups"
# A fresh process's scan is mostly new pages and system calls: what they cost on this machine.
if [ -x "$build/bench/machine-costs" ]; then "$build/bench/machine-costs" || true; fi
if [ "$found" != "found packs $BENCH_PACKS devices $BENCH_N invalid 0" ] || [ "$groups" != "$BENCH_PACKS" ]; then
        echo "$0: the two scans disagree with what was made; times would not be comparable" >&2
        exit 1
fi

# one_run MODE CMD...: one timed run of CMD (cold: caches dropped first); prints seconds.
# (sh has no local variables: the names here are one_run's own.)
one_run() {
        or_drop=""
        [ "$1" = cold ] && or_drop="--drop-caches"
        shift
        # shellcheck disable=SC2086
        "$sb" --exec --runs 1 $or_drop -- "$@" 2>>"$log" | awk '$1 == "median" { print $2 }'
}

# The disk under the image files, whose reads a cold run counts (none when it is not a block
# device of its own, e.g. on tmpfs).
image_disk_stat=""
image_disk=$(findmnt -no SOURCE --target "$BENCH_DIR" 2>/dev/null || true)
case "$image_disk" in
/dev/*) image_disk_stat="/sys/class/block/$(basename "$(readlink -f "$image_disk")")/stat"
        [ -r "$image_disk_stat" ] || image_disk_stat="" ;;
esac
# Sectors read so far from that disk (0 when there is none).
disk_sectors_read() {
        if [ -n "$image_disk_stat" ]; then awk '{ print $3 }' "$image_disk_stat"; else echo 0; fi
}
# counted_run MODE FILE CMD...: one_run, its time appended to FILE and, cold, the sectors
# read from the disk under the images during it to FILE.sectors.
counted_run() {
        cr_mode=$1 cr_file=$2
        shift 2
        cr_before=$(disk_sectors_read)
        one_run "$cr_mode" "$@" >>"$cr_file"
        echo $(($(disk_sectors_read) - cr_before)) >>"$cr_file.sectors"
}

measure() {
        mode=$1
        : >"$BENCH_DIR/$mode.ours"
        : >"$BENCH_DIR/$mode.base"
        : >"$BENCH_DIR/$mode.floor"
        : >"$BENCH_DIR/$mode.ours.sectors"
        : >"$BENCH_DIR/$mode.base.sectors"
        if [ "$mode" != cold ]; then
                # shellcheck disable=SC2086
                one_run warm "$sb" --runs 1 $ours_args $BENCH_LOOPS >/dev/null
                # shellcheck disable=SC2086
                one_run warm ldmtool scan $BENCH_LOOPS >/dev/null
        fi
        i=0
        while [ "$i" -lt "$runs" ]; do
                # shellcheck disable=SC2086
                counted_run "$mode" "$BENCH_DIR/$mode.base" ldmtool scan $BENCH_LOOPS
                # shellcheck disable=SC2086
                counted_run "$mode" "$BENCH_DIR/$mode.ours" "$sb" --runs 1 $ours_args $BENCH_LOOPS
                if [ "$mode" = hot ]; then
                        # shellcheck disable=SC2086
                        one_run "$mode" "$sf" $BENCH_LOOPS >>"$BENCH_DIR/$mode.floor"
                fi
                i=$((i + 1))
        done
        ours=$(bench_median <"$BENCH_DIR/$mode.ours")
        base=$(bench_median <"$BENCH_DIR/$mode.base")
        ratio=$(echo "$base $ours" | awk '{ printf "%.2f", $1 / $2 }')
        echo "$mode ($runs runs, median): ours $(echo "$ours" | awk '{ printf "%.1f ms", $1 * 1e3 }')," \
             "ldmtool scan $(echo "$base" | awk '{ printf "%.1f ms", $1 * 1e3 }'), ldmtool/ours $ratio"
        if [ -s "$BENCH_DIR/$mode.floor" ]; then
                floor=$(bench_median <"$BENCH_DIR/$mode.floor")
                echo "$mode, scan-floor (open, 3 reads, close; nothing parsed): $(echo "$floor" | awk '{ printf "%.1f ms", $1 * 1e3 }')," \
                     "ldmtool/floor $(echo "$base $floor" | awk '{ printf "%.2f", $1 / $2 }'): the most a reader could show here"
        fi
        if [ "$mode" = cold ] && [ -n "$image_disk_stat" ]; then
                # Whole processes: the programs' own pages count too, alike for both.
                echo "cold, read from $image_disk per run (median): ours" \
                     "$(bench_median <"$BENCH_DIR/$mode.ours.sectors" | awk '{ printf "%.1f MB", $1 * 512 / 1e6 }'), ldmtool scan" \
                     "$(bench_median <"$BENCH_DIR/$mode.base.sectors" | awk '{ printf "%.1f MB", $1 * 512 / 1e6 }')"
        fi
        echo "RESULT scan-$BENCH_N-$loop_kind-$mode-s $ours $base $ratio >=10" >>"$BENCH_DIR/results"
}

: >"$BENCH_DIR/results"
measure cold
measure warm
# Hot: hold every device open; "held" on the fifo means all are open.
mkfifo "$BENCH_DIR/held"
# shellcheck disable=SC2086
"$sb" --hold $BENCH_LOOPS >"$BENCH_DIR/held" &
holder=$!
read -r _ <"$BENCH_DIR/held"
measure hot
kill "$holder"
wait "$holder" 2>/dev/null || true
holder=""

# shellcheck disable=SC2086
inproc_cold=$("$sb" --runs "$runs" --drop-caches $ours_args $BENCH_LOOPS | awk '$1 == "median" { print $2 }')
# shellcheck disable=SC2086
inproc_warm=$("$sb" --runs "$runs" $ours_args $BENCH_LOOPS | awk '$1 == "median" { print $2 }')
echo "scan-bench $ours_args, in process: cold $(echo "$inproc_cold" | awk '{ printf "%.1f ms", $1 * 1e3 }')," \
     "warm $(echo "$inproc_warm" | awk '{ printf "%.1f ms", $1 * 1e3 }')"
# shellcheck disable=SC2086
plain_cold=$("$sb" --runs "$runs" --drop-caches $BENCH_LOOPS | awk '$1 == "median" { print $2 }')
# shellcheck disable=SC2086
plain_warm=$("$sb" --runs "$runs" $BENCH_LOOPS | awk '$1 == "median" { print $2 }')
echo "plain ldm_scan_paths(), in process: cold $(echo "$plain_cold" | awk '{ printf "%.1f ms", $1 * 1e3 }')," \
     "warm $(echo "$plain_warm" | awk '{ printf "%.1f ms", $1 * 1e3 }')"
# The floor under every process time above: starting and reaping a process that does nothing.
floor=$("$sb" --exec --runs "$runs" -- true 2>>"$log" | awk '$1 == "median" { print $2 }')
echo "fork + exec + wait of true(1), median: $(echo "$floor" | awk '{ printf "%.1f ms", $1 * 1e3 }')"
# shellcheck disable=SC2086
rss=$("$sb" --exec --runs 1 -- ldmtool scan $BENCH_LOOPS 2>>"$log" | awk '$1 == "maxrss" { print $2 }')
echo "ldmtool scan peak RSS: $rss KiB"

cat "$BENCH_DIR/results"
