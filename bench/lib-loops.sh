# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by bench/run-scan.sh and bench/run-daemon.sh (POSIX sh): PACKS packs of DISKS disks
# each (default 8 × 8 = 64), made by mkldm on sparse image files, attached as loop devices.
# Packs alternate MBR and GPT; each holds a RAID-5 over all its disks, a mirror, a stripe, a
# span and a simple volume, so the databases are of a realistic size.
#
#   bench_setup BUILD_DIR    sets BENCH_DIR (temp dir), BENCH_IMAGES and BENCH_LOOPS; the
#                            losetup of each takes BENCH_LOOP_ARGS too (e.g. --direct-io=on)
#   bench_cleanup            detaches exactly the loop devices attached here, removes the dir
#
# The caller installs `trap bench_cleanup EXIT INT TERM` before bench_setup, so that a
# failure half-way still detaches what was attached.

BENCH_PACKS=${BENCH_PACKS:-8}
BENCH_DISKS=${BENCH_DISKS:-8}
BENCH_DIR=""
BENCH_IMAGES=""
BENCH_LOOPS=""

bench_cleanup() {
        for dev in $BENCH_LOOPS; do
                losetup -d "$dev" 2>/dev/null || echo "warning: could not detach $dev" >&2
        done
        BENCH_LOOPS=""
        if [ -n "$BENCH_DIR" ]; then
                rm -rf "$BENCH_DIR"
                BENCH_DIR=""
        fi
}

bench_require_root() {
        if [ "$(id -u)" -ne 0 ]; then
                echo "$0: needs root (loop devices, drop_caches)" >&2
                exit 77
        fi
}

# bench_make_pack BUILD_DIR P: the P-th pack's images (P counts from 0).
bench_make_pack() {
        p=$2
        files=""
        d=0
        while [ "$d" -lt "$BENCH_DISKS" ]; do
                files="$files $BENCH_DIR/pack$p-disk$d.img"
                d=$((d + 1))
        done
        gpt=""
        [ $((p % 2)) -eq 1 ] && gpt="--gpt"
        # Volumes on positions that exist whatever BENCH_DISKS (≥ 3) is.
        # shellcheck disable=SC2086
        "$1/tools/mkldm" $gpt --name "BenchPack$p" --create 64M \
                --volume raid5:16M --volume mirror:8M@1,2 --volume stripe:6M@1,2,3 \
                --volume span:8M@2,3 --volume simple:4M@3 $files >/dev/null
        BENCH_IMAGES="$BENCH_IMAGES$files"
}

bench_setup() {
        BENCH_DIR=$(mktemp -d /var/tmp/ldmd-bench.XXXXXX)
        p=0
        while [ "$p" -lt "$BENCH_PACKS" ]; do
                bench_make_pack "$1" "$p"
                p=$((p + 1))
        done
        for img in $BENCH_IMAGES; do
                # shellcheck disable=SC2086 # BENCH_LOOP_ARGS: extra losetup words
                dev=$(losetup ${BENCH_LOOP_ARGS:-} -f --show "$img")
                BENCH_LOOPS="$BENCH_LOOPS $dev"
        done
        # shellcheck disable=SC2034 # used by the scripts that source this file
        BENCH_N=$((BENCH_PACKS * BENCH_DISKS))
}

# Median of numbers on stdin.
bench_median() {
        sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
