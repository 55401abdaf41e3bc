#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Recover's data phase against dd between the same devices. As root:
#   bench/run-repair.sh BUILD_DIR [MIB] [ROUNDS] [DIR] [MBPS]
# One pack of three disks made by mkldm: a MIB-MiB mirror (disks 1, 2) and a RAID-5 of three
# columns of MIB MiB each (disks 1, 2, 3), both filled with data through the volume writer
# (parity consistent). Each round marks mirror plex 1 (disk 2) and RAID-5 column 2 (disk 3)
# stale and overwrites them (tests' ldm-testtool), then times
#   ours: build/bench/repair-bench, i.e. repair_run(Recover) with ldmd's defaults (4 MiB
#         chunks, reader thread + writer, O_DIRECT, flush + checkpoint every 2 s or 256 MiB), per
#         target from its first to its last progress call (final flush included);
#   dd:   `dd iflag=direct oflag=direct conv=fdatasync bs=4M` between the same devices,
#         same byte ranges (mirror: plex 0's extent → plex 1's; RAID-5: column 0's extent →
#         column 2's: the bytes the rebuild writes, read from one healthy disk instead of
#         XOR-ing two). conv=fdatasync: dd's copy, like ours, ends with its bytes on stable
#         storage (one flush of the target at the end; ours flushes at every checkpoint
#         too). Without it dd stops timing while the device may still hold the bytes in a
#         volatile cache; where a flush is slow (a VM whose host syncs a file for it,
#         ~0.4 s) that alone made dd look ~20 % faster than the same copy made durable;
#   dd making the rebuild's transfers: the two healthy columns' extents read and the stale
#         column's written (from /dev/zero, conv=fdatasync), three dd at once, direct I/O,
#         bs=4M: the same bytes in and out as the rebuild, without its XOR. Where the three devices share one
#         bandwidth (one disk, or RAM) the copy above moves 2 bytes per byte rebuilt and the
#         rebuild 3, so the copy sets a bar no rebuild can reach there; this one does not.
# Rounds alternate which side goes first; medians are reported. The last round also runs a
# Verify scrub after the Recover and fails unless mirror and parity are consistent; that
# scrub is timed against dd reading the same extents with direct I/O (a volume's plexes or
# columns at once, as the scrub reads them; volumes one after the other), once.
#
# Devices: loop devices with `losetup --direct-io=on` over image files in DIR, by default
# /var/tmp (not /tmp, which can be a tmpfs). All three then share one disk's bandwidth, which
# a rebuild (reads two columns, writes one: 3 bytes moved per byte rebuilt) feels more than
# dd (2 bytes): the last line says how many bytes per second each moved. DIR=/dev/shm puts
# the images in RAM, where the three devices no longer share a disk (as three disks would
# not) and the engine's own cost shows. MBPS (e.g. 150) caps each loop device at MBPS MB/s of
# reads and MBPS MB/s of writes (the block layer's throttle, cgroup v1 blkio, reset at exit),
# well under what their shared disk does for all three together: each then behaves as a disk
# of its own with its own bandwidth, which is what a RAID-5 rebuild runs on in a real machine.
# (dd reads then writes, yet reaches the cap too: the throttle lets a direction that idled
# catch up, which a real disk would not, so the capped comparison leans toward dd.)
# Loop devices, not the image files themselves: ldmd works on
# block devices (O_EXCL) and that is the path being measured; direct I/O on the loop device
# sends O_DIRECT through to the backing file instead of caching every byte twice. The
# images are sparse when made and fully written by the fill, so no read is of a hole.
# Needs ~3 × (2 × MIB + 64) MiB free in /var/tmp.
#
# BENCH_REPAIR_ARGS is passed to repair-bench (e.g. "--buffer-kib 4096 --checkpoint-mib 256")
# to try other settings than the daemon's. Last lines: "RESULT metric ours baseline ratio
# target" (MB/s; ratio = ours/dd) for bench/run-all.sh.
set -eu
build=${1:?usage: run-repair.sh BUILD_DIR [MIB] [ROUNDS] [DIR] [MBPS]}
mib=${2:-1024}
rounds=${3:-3}
imgdir=${4:-/var/tmp}
mbps=${5:-}
throttle=/sys/fs/cgroup/blkio/blkio.throttle
extra=${BENCH_REPAIR_ARGS:-}
if [ "$(id -u)" -ne 0 ]; then
        echo "$0: needs root (loop devices)" >&2
        exit 77
fi
rb="$build/bench/repair-bench"
mkldm="$build/tools/mkldm"
tool="$build/tests/ldm-testtool"
for p in "$rb" "$mkldm"; do
        [ -x "$p" ] || { echo "$0: $p not built" >&2; exit 1; }
done
[ -x "$tool" ] || { echo "$0: $tool not built (configure with tests enabled: it damages the pack)" >&2; exit 77; }

dir=""
loops=""
throttled=""
# set_throttle DEV BYTES_PER_SECOND (0: no limit)
set_throttle() {
        majmin=$(cat "/sys/block/${1#/dev/}/dev")
        echo "$majmin $2" >"$throttle.read_bps_device"
        echo "$majmin $2" >"$throttle.write_bps_device"
}
cleanup() {
        for dev in $throttled; do
                set_throttle "$dev" 0 || echo "warning: could not lift the throttle of $dev" >&2
        done
        throttled=""
        for dev in $loops; do
                losetup -d "$dev" 2>/dev/null || echo "warning: could not detach $dev" >&2
        done
        loops=""
        [ -n "$dir" ] && rm -rf "$dir"
        dir=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM
dir=$(mktemp -d "$imgdir/ldmd-repair-bench.XXXXXX")

now() { date +%s.%N; }

size=$((2 * mib + 64))
"$mkldm" --name BenchRepair --create "${size}M" --volume "mirror:${mib}M:BenchMirror@1,2" \
        --volume "raid5:$((2 * mib))M:BenchRaid5@1,2,3" "$dir/d1.img" "$dir/d2.img" "$dir/d3.img" >"$dir/mkldm.out"
for i in 1 2 3; do
        dev=$(losetup --direct-io=on -f --show "$dir/d$i.img")
        loops="$loops $dev"
done
# shellcheck disable=SC2086
set -- $loops
dio=""
for dev in "$@"; do dio="$dio $(cat "/sys/block/${dev#/dev/}/loop/dio" 2>/dev/null || echo ?)"; done
echo "devices:$loops (direct-io:$dio), images in $dir, ${size} MiB each"

t0=$(now)
"$tool" fill BenchMirror 1 "$@"
"$tool" fill BenchRaid5 2 "$@"
sync
echo 3 >/proc/sys/vm/drop_caches
echo "fill: $(echo "$t0 $(now)" | awk '{ printf "%.1f s", $2 - $1 }') for $((3 * mib)) MiB of volume data"
# After the fill, which would otherwise take minutes.
if [ -n "$mbps" ]; then
        [ -w "$throttle.read_bps_device" ] || { echo "$0: no cgroup v1 blkio throttle here ($throttle.*): cannot cap the devices" >&2; exit 77; }
        for dev in "$@"; do
                set_throttle "$dev" $((mbps * 1000000))
                throttled="$throttled $dev"
        done
        echo "each device capped at $mbps MB/s read and $mbps MB/s write"
fi

damage() {
        "$tool" stale-plex BenchMirror 1 "$@"
        "$tool" stale-column BenchRaid5 2 "$@"
        sync
}

# dd_target KIND: copies every "dd KIND …" range of the plan; prints the bytes per second.
dd_target() {
        start=$(now)
        grep "^dd $1:" "$dir/plan" | while read -r _ _ src soff dst doff len; do
                dd if="$src" of="$dst" bs=4M iflag=direct,skip_bytes,count_bytes oflag=direct,seek_bytes \
                   conv=fdatasync skip="$soff" seek="$doff" count="$len" 2>>"$dir/dd.err"
        done
        end=$(now)
        bytes=$(awk -v k="$1:" '$1 == "dd" && index($2, k) == 1 { s += $7 } END { print s }' "$dir/plan")
        echo "$bytes $start $end" | awk '{ printf "%.0f\n", $1 / ($3 - $2) }'
}

# dd_volume_at_once VOL [STALE_DEVS]: one dd per extent of VOL (its "read" lines in the
# plan), all at once, direct I/O, bs=4M: a read to /dev/null, or, on a device listed in the
# file STALE_DEVS, a write from /dev/zero flushed at its end. A failed dd would make the baseline look fast:
# each one must succeed.
dd_volume_at_once() {
        awk -v v="$1" '$1 == "read" && $2 == v { print $3, $4, $5 }' "$dir/plan" >"$dir/extents"
        pids=""
        while read -r dev off len; do
                if [ -n "${2:-}" ] && grep -qx "$dev" "$2"; then
                        dd if=/dev/zero of="$dev" bs=4M iflag=count_bytes oflag=direct,seek_bytes \
                           conv=fdatasync seek="$off" count="$len" 2>>"$dir/dd.err" &
                else
                        dd if="$dev" of=/dev/null bs=4M iflag=direct,skip_bytes,count_bytes \
                           skip="$off" count="$len" 2>>"$dir/dd.err" &
                fi
                pids="$pids $!"
        done <"$dir/extents"
        for p in $pids; do
                wait "$p" || { cat "$dir/dd.err" >&2; echo "$0: dd over volume $1 failed" >&2; exit 1; }
        done
}

# dd_rebuild_io: the transfers a rebuild of the stale RAID-5 column makes, by dd, all at
# once: the healthy columns' extents read while the stale column's are written. Prints the
# rebuilt bytes per second: what the devices allow that I/O pattern, with no XOR and no
# pipeline.
dd_rebuild_io() {
        vol=$(awk '$1 == "dd" && index($2, "column:") == 1 { print substr($2, 8); exit }' "$dir/plan")
        awk '$1 == "dd" && index($2, "column:") == 1 { print $5 }' "$dir/plan" | sort -u >"$dir/stale-devs"
        start=$(now)
        dd_volume_at_once "$vol" "$dir/stale-devs"
        end=$(now)
        bytes=$(awk '$1 == "dd" && index($2, "column:") == 1 { s += $7 } END { print s }' "$dir/plan")
        echo "$bytes $start $end" | awk '{ printf "%.0f\n", $1 / ($3 - $2) }'
}

run_dd() {
        m=$(dd_target mirror)
        c=$(dd_target column)
        io=$(dd_rebuild_io)
        echo "$m" >>"$dir/dd-mirror"
        echo "$c" >>"$dir/dd-column"
        echo "$io" >>"$dir/dd-rebuild-io"
        echo "  dd:   mirror $(echo "$m" | awk '{ printf "%.0f MB/s", $1 / 1e6 }'), column $(echo "$c" | awk '{ printf "%.0f MB/s", $1 / 1e6 }')," \
             "the rebuild's reads and write at once $(echo "$io" | awk '{ printf "%.0f MB/s", $1 / 1e6 }') rebuilt"
}

# dd_verify: reads what the Verify scrub reads (every "read" line of the plan) with
# `dd iflag=direct bs=4M`, a volume's extents all at once (as the scrub reads a volume's
# plexes or columns together), one volume after the other; prints the seconds.
dd_verify() {
        start=$(now)
        for vol in $(awk '$1 == "read" { print $2 }' "$dir/plan" | uniq); do
                dd_volume_at_once "$vol"
        done
        end=$(now)
        echo "$start $end" | awk '{ printf "%.6f\n", $2 - $1 }'
}

run_ours() {
        verify=""
        [ "$1" = last ] && verify="--verify"
        # shellcheck disable=SC2086
        if ! "$rb" $verify $extra --state-dir "$dir/state" $loops >"$dir/ours.out" 2>&1; then
                cat "$dir/ours.out" >&2
                echo "$0: repair-bench failed" >&2
                exit 1
        fi
        m=$(awk '$1 == "target" && $2 ~ /^mirror:/ { print $5 }' "$dir/ours.out")
        c=$(awk '$1 == "target" && $2 ~ /^column:/ { print $5 }' "$dir/ours.out")
        [ -n "$m" ] && [ -n "$c" ] || { cat "$dir/ours.out" >&2; echo "$0: no timing in the output" >&2; exit 1; }
        echo "$m" >>"$dir/ours-mirror"
        echo "$c" >>"$dir/ours-column"
        echo "  ours: mirror $(echo "$m" | awk '{ printf "%.0f MB/s", $1 / 1e6 }'), column $(echo "$c" | awk '{ printf "%.0f MB/s", $1 / 1e6 }');" \
             "whole job $(awk '$1 == "job" { printf "%.2f s", $2 }' "$dir/ours.out")"
        grep '^verify' "$dir/ours.out" | awk '{ printf "  verify after the last Recover: %.2f s, %s mirror and %s parity mismatches\n", $2, $3, $4 }'
}

median() {
        sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

damage "$@"
"$rb" --plan-only "$@" >"$dir/plan"
sed 's/^/  plan: /' "$dir/plan"
r=1
while [ "$r" -le "$rounds" ]; do
        [ "$r" -gt 1 ] && damage "$@"
        last=""
        [ "$r" -eq "$rounds" ] && last=last
        echo "round $r ($([ $((r % 2)) -eq 1 ] && echo "ours first" || echo "dd first"))"
        if [ $((r % 2)) -eq 1 ]; then
                run_ours "$last"
                run_dd
        else
                run_dd
                run_ours "$last"
        fi
        r=$((r + 1))
done

# The scrub ran once, after the last Recover; its baseline once, right after it.
vs=$(awk '$1 == "verify" { print $2 }' "$dir/ours.out")
vd=$(dd_verify)
vbytes=$(awk '$1 == "read" { s += $5 } END { print s }' "$dir/plan")
echo "verify scrub (once): ours $(echo "$vbytes $vs" | awk '{ printf "%.0f MB/s (%.2f s)", $1 / $2 / 1e6, $2 }')," \
     "dd reading the same extents $(echo "$vbytes $vd" | awk '{ printf "%.0f MB/s (%.2f s)", $1 / $2 / 1e6, $2 }')," \
     "$(echo "$vbytes" | awk '{ printf "%.0f MiB", $1 / 1048576 }') read"

om=$(median <"$dir/ours-mirror")
oc=$(median <"$dir/ours-column")
dm=$(median <"$dir/dd-mirror")
dc=$(median <"$dir/dd-column")
dio=$(median <"$dir/dd-rebuild-io")
echo "median of $rounds: mirror resync $(echo "$om $dm" | awk '{ printf "%.0f MB/s vs dd %.0f MB/s, ratio %.2f", $1 / 1e6, $2 / 1e6, $1 / $2 }');" \
     "RAID-5 column rebuild $(echo "$oc $dc" | awk '{ printf "%.0f MB/s vs dd %.0f MB/s, ratio %.2f", $1 / 1e6, $2 / 1e6, $1 / $2 }')"
echo "RAID-5 column rebuild against dd making the same transfers (the other columns read while the stale one is written):" \
     "$(echo "$oc $dio" | awk '{ printf "%.0f MB/s vs %.0f MB/s rebuilt, ratio %.2f", $1 / 1e6, $2 / 1e6, $1 / $2 }')"
echo "bytes moved per second (read + written): mirror ours $(echo "$om" | awk '{ printf "%.0f", 2 * $1 / 1e6 }') MB/s," \
     "dd $(echo "$dm" | awk '{ printf "%.0f", 2 * $1 / 1e6 }') MB/s; RAID-5 rebuild ours $(echo "$oc" | awk '{ printf "%.0f", 3 * $1 / 1e6 }') MB/s," \
     "dd $(echo "$dc" | awk '{ printf "%.0f", 2 * $1 / 1e6 }') MB/s"
sfx=""
[ "$imgdir" = /var/tmp ] || sfx="-$(basename "$imgdir")"
[ -z "$mbps" ] || sfx="$sfx-cap${mbps}"
echo "$om $dm" | awk -v m="resync-mirror-${mib}MiB${sfx}-MBps" '{ printf "RESULT %s %.0f %.0f %.2f >=1.0\n", m, $1 / 1e6, $2 / 1e6, $1 / $2 }'
echo "$oc $dc" | awk -v m="rebuild-raid5-3col-${mib}MiB${sfx}-MBps" '{ printf "RESULT %s %.0f %.0f %.2f >=0.9\n", m, $1 / 1e6, $2 / 1e6, $1 / $2 }'
echo "$oc $dio" | awk -v m="rebuild-raid5-3col-${mib}MiB${sfx}-vs-same-io-MBps" '{ printf "RESULT %s %.0f %.0f %.2f >=0.9\n", m, $1 / 1e6, $2 / 1e6, $1 / $2 }'
echo "$vbytes $vs $vd" | awk -v m="verify-$((3 * mib))MiB${sfx}-MBps" '{ printf "RESULT %s %.0f %.0f %.2f -\n", m, $1 / $2 / 1e6, $1 / $3 / 1e6, $3 / $2 }'
