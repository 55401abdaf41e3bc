#!/bin/sh
# pack-lines.sh: one sorted text line per disk, volume and extent of the single pack that a
# judge sees, in one format for every source, so that tests can compare them as strings.
#   pack-lines.sh ldmtool IMAGE...    what Debian's ldmtool reports
#   pack-lines.sh mkldm JSONFILE      what mkldm --json says it made
#   pack-lines.sh ldmcheck IMAGE...   what ldmcheck --json --strict --data reports (extent
#                                     byte offsets); fails unless the pack is healthy
#   pack-lines.sh mkldm-check JSONFILE   mkldm's document in ldmcheck's format
# Formats: "disk NAME GUID PATH DATA-START DATA-SIZE META-START META-SIZE",
# "volume NAME GUID TYPE SECTORS CHUNK PART,PART,...", "partition NAME START SECTORS DISK";
# ldmcheck format: "volume NAME GUID TYPE BYTES", "member VOLUME PLEX COLUMN NAME DISK OFFSET LENGTH".
set -eu
# ldmtool is a GLib program: the test environment's G_DEBUG=fatal-warnings would turn its
# harmless "Unable to determine sector size" warning on image files into an abort.
unset G_DEBUG
# One ldmtool process per question, each told (-d) to look at our images only: a bare
# `ldmtool scan` also reads every block device of the machine, loop devices with other
# tests' packs included.
ldmtool_lines() {
        args=""
        for f in "$@"; do args="$args -d $f"; done
        g=$(ldmtool $args scan 2>/dev/null | jq -r '.[0]')
        if [ -z "$g" ] || [ "$g" = null ]; then
                echo "pack-lines: ldmtool scan found no disk group on $*" >&2
                exit 1
        fi
        dg=$(ldmtool $args show diskgroup "$g" 2>/dev/null)
        for d in $(echo "$dg" | jq -r '.disks[]'); do
                ldmtool $args show disk "$g" "$d" 2>/dev/null | jq -r \
                  '"disk \(.name) \(.guid) \(.device) \(."data-start") \(."data-size") \(."metadata-start") \(."metadata-size")"'
        done
        for v in $(echo "$dg" | jq -r '.volumes[]'); do
                vj=$(ldmtool $args show volume "$g" "$v" 2>/dev/null)
                echo "$vj" | jq -r '"volume \(.name) \(.guid) \(.type) \(.size) \(."chunk-size") \(.partitions | join(","))"'
                for p in $(echo "$vj" | jq -r '.partitions[]'); do
                        ldmtool $args show partition "$g" "$p" 2>/dev/null | jq -r \
                          '"partition \(.name) \(.start) \(.size) \(.disk)"'
                done
        done
}

mode=$1; shift
case $mode in
ldmtool)
        out=$(ldmtool_lines "$@")
        case $out in *"disk "*) ;; *) echo "pack-lines: ldmtool gave no answer" >&2; exit 1 ;; esac
        echo "$out" ;;
mkldm)
        jq -r '
          def ltype: {"simple":"simple","span":"spanned","stripe":"striped","mirror":"mirrored","raid5":"RAID5"}[.];
          (.disks[] | "disk \(.name) \(.guid) \(.path) \(.public_start) \(.public_size) \(.private_start) 2048"),
          (.volumes[] | "volume \(.name) \(.guid) \(.type | ltype) \(.size / 512) \(if .type == "stripe" or .type == "raid5" then 128 else 0 end) \([.members[].name] | join(","))"),
          (.volumes[].members[] | "partition \(.name) \(.start) \(.length / 512) \(.disk)")' "$1" ;;
ldmcheck)
        ldmcheck=${LDMCHECK:-$(dirname "$0")/../../../shared/tools/ldmcheck}
        # Strict, with data checks; any finding fails (exit 1, the report on stderr).
        report=$("$ldmcheck" --json --strict --data "$@") || { echo "$report" >&2; exit 1; }
        echo "$report" | jq -r '.packs[0] |
          (.volumes[] | "volume \(.name) \(.guid) \(.type) \(.size)"),
          (.volumes[] | .name as $v | .members[] | "member \($v) \(.plex) \(.column) \(.partition) \(.disk) \(.offset) \(.length)")' ;;
mkldm-check)
        jq -r '
          def ctype: {"simple":"simple","span":"spanned","stripe":"striped","mirror":"mirror","raid5":"raid5"}[.];
          (.volumes[] | "volume \(.name) \(.guid) \(.type | ctype) \(.size)"),
          (.volumes[] | .name as $v | .members[] | "member \($v) \(.plex) \(.column) \(.name) \(.disk) \(.offset) \(.length)")' "$1" ;;
*)
        echo "unknown mode $mode" >&2; exit 2 ;;
esac > "${TMPDIR:-/tmp}/pack-lines.$$"
sort "${TMPDIR:-/tmp}/pack-lines.$$"
rm -f "${TMPDIR:-/tmp}/pack-lines.$$"
