#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# RAID-5 parity XOR: ldm/xor.h against ISA-L's xor_gen() on the same buffers (no root needed).
#   bench/run-xor.sh BUILD_DIR [TRIALS]
# build/bench/xor-bench is only built when pkg-config finds libisal (Debian: libisal-dev).
# Prints its per-case lines and "RESULT metric ours baseline ratio target" lines (GB/s,
# best of TRIALS alternating trials; ratio > 1: ours faster) for bench/run-all.sh.
set -eu
build=${1:?usage: run-xor.sh BUILD_DIR [TRIALS]}
trials=${2:-11}
bin="$build/bench/xor-bench"
if [ ! -x "$bin" ]; then
        echo "$0: $bin not built (needs libisal-dev, then reconfigure)" >&2
        exit 77
fi
exec "$bin" --trials "$trials"
