#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Volume read throughput of ldmd's reader vs dd of the same extents on the same files.
#   bench/run-volume.sh BUILD_DIR [MIB]
# Creates sparse image files in a temporary directory, runs build/bench/volume-read for
# RAID-5 (3 and 5 columns), stripe, mirror and span, then reads every extent with dd
# (iflag=skip_bytes,count_bytes; page cache warm, like the reader) and prints ratios
# reader/dd (1.0 = as fast as dd reading the raw extents; RAID-5 reads n-1 of n columns).
# Also "RESULT metric ours baseline ratio target" lines (MB/s) for bench/run-all.sh.
set -eu
build=${1:?usage: run-volume.sh BUILD_DIR [MIB]}
mib=${2:-256}
bin="$build/bench/volume-read"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

run() {
        layout=$1 n=$2 stripe=$3
        files=""
        i=0
        while [ $i -lt "$n" ]; do files="$files $dir/$layout$n-$i.img"; i=$((i + 1)); done
        # shellcheck disable=SC2086
        out=$("$bin" "$layout" "$n" "$stripe" "$mib" 1024 $files)
        vol=$(echo "$out" | awk '$1 == "rate" && $2 == "volume-read" { print $3 }')
        deg=$(echo "$out" | awk '$1 == "rate" && $2 == "volume-read-degraded" { print $3 }')
        bytes=$(echo "$out" | awk '$1 == "volume" { print $4 }')
        start=$(date +%s.%N)
        echo "$out" | awk '$1 == "extent" { print $2, $3, $4 }' | while read -r f off len; do
                dd if="$f" of=/dev/null bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$len" 2>/dev/null
        done
        end=$(date +%s.%N)
        raw=$(echo "$out" | awk '$1 == "extent" { s += $4 } END { print s }')
        dd_rate=$(echo "$raw $start $end" | awk '{ printf "%.0f", $1 / ($3 - $2) }')
        echo "$layout n=$n: volume $(echo "$vol" | awk '{ printf "%.0f MB/s", $1 / 1e6 }')" \
             "${deg:+degraded $(echo "$deg" | awk '{ printf "%.0f MB/s", $1 / 1e6 }') }" \
             "dd $(echo "$dd_rate" | awk '{ printf "%.0f MB/s", $1 / 1e6 }')" \
             "ratio $(echo "$vol $dd_rate" | awk '{ printf "%.2f", $1 / $2 }')" \
             "${deg:+degraded-ratio $(echo "$deg $dd_rate" | awk '{ printf "%.2f", $1 / $2 }')}" \
             "(volume $bytes bytes)"
        echo "RESULT volume-$layout$n-MBps $vol $dd_rate" | awk '{ printf "%s %.0f %.0f %.2f -\n", $1 " " $2, $3 / 1e6, $4 / 1e6, $3 / $4 }'
        if [ -n "$deg" ]; then
                echo "RESULT volume-$layout$n-degraded-MBps $deg $dd_rate" | awk '{ printf "%s %.0f %.0f %.2f -\n", $1 " " $2, $3 / 1e6, $4 / 1e6, $3 / $4 }'
        fi
        # shellcheck disable=SC2086
        rm -f $files   # one layout's files at a time: 1024 MiB volumes need ~2 GiB, not ~7
}

run raid5 3 128
run raid5 5 128
run stripe 2 128
run mirror 2 128
run span 3 128
