#!/bin/sh
# pack-lines.sh: one sorted text line per disk, volume and extent of the single pack that a
# judge sees, in one format for every source, so that tests can compare them as strings.
#   pack-lines.sh ldmtool IMAGE...    what Debian's ldmtool reports
#   pack-lines.sh mkldm JSONFILE      what mkldm --json says it made
#   pack-lines.sh ldmcheck IMAGE...   what ldmcheck --json --strict --data reports (extent
#                                     byte offsets); fails unless the pack is healthy
#   pack-lines.sh mkldm-check JSONFILE   mkldm's document in ldmcheck's format
# Formats: "group NAME GUID", "disk NAME GUID PATH DATA-START DATA-SIZE META-START META-SIZE",
# "volume NAME GUID TYPE SECTORS CHUNK PART,PART,...", "partition NAME START SECTORS DISK";
# ldmcheck format: "group NAME GUID", "volume NAME GUID TYPE BYTES", "member VOLUME PLEX COLUMN NAME DISK OFFSET LENGTH".
set -eu
# ldmtool is a GLib program: the test environment's G_DEBUG=fatal-warnings would turn its
# harmless "Unable to determine sector size" warning on image files into an abort.
unset G_DEBUG
# ldmtool is asked in its shell mode, one process per round of questions (a process per
# question costs ~50 ms each, seconds for an 8-disk pack). Each round first scans exactly our
# images: a bare `ldmtool scan` would also read every block device of the machine, loop
# devices with other tests' packs included. The shell echoes "ldm> COMMAND" lines and prints
# one JSON document per answered question; a failed question prints no JSON, so each round
# checks it got as many documents as it asked questions.
# ldmtool_ask QUESTIONS IMAGE...: QUESTIONS is one question per line; prints the answers as
# one JSON array.
ldmtool_ask() {
        q=$1; shift
        n=$(printf '%s\n' "$q" | grep -c .)
        a=$(printf 'scan %s\n%s\n' "$*" "$q" | ldmtool 2>/dev/null | sed '/^ldm> /d' |
            jq -s '.[1:]') || { echo "pack-lines: ldmtool gave no JSON for: $q" >&2; exit 1; }
        if [ "$(echo "$a" | jq length)" != "$n" ]; then
                echo "pack-lines: ldmtool answered $(echo "$a" | jq length) of $n questions: $q" >&2
                exit 1
        fi
        echo "$a"
}

ldmtool_lines() {
        g=$(printf 'scan %s\n' "$*" | ldmtool 2>/dev/null | sed '/^ldm> /d' | jq -r '.[0]')
        if [ -z "$g" ] || [ "$g" = null ]; then
                echo "pack-lines: ldmtool scan found no disk group on $*" >&2
                exit 1
        fi
        dg=$(ldmtool_ask "show diskgroup $g" "$@" | jq '.[0]')
        echo "$dg" | jq -r '"group \(.name) \(.guid)"'
        q=$(echo "$dg" | jq -r --arg g "$g" '(.disks[] | "show disk \($g) \(.)"),
                                             (.volumes[] | "show volume \($g) \(.)")')
        dv=$(ldmtool_ask "$q" "$@")
        echo "$dv" | jq -r '.[] | select(has("data-start")) |
          "disk \(.name) \(.guid) \(.device) \(."data-start") \(."data-size") \(."metadata-start") \(."metadata-size")"'
        echo "$dv" | jq -r '.[] | select(has("partitions")) |
          "volume \(.name) \(.guid) \(.type) \(.size) \(."chunk-size") \(.partitions | join(","))"'
        q=$(echo "$dv" | jq -r --arg g "$g" '.[] | select(has("partitions")) | .partitions[] | "show partition \($g) \(.)"')
        [ -z "$q" ] && return 0
        ldmtool_ask "$q" "$@" | jq -r '.[] | "partition \(.name) \(.start) \(.size) \(.disk)"'
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
          "group \(.group.name) \(.group.guid)",
          (.disks[] | "disk \(.name) \(.guid) \(.path) \(.public_start) \(.public_size) \(.private_start) 2048"),
          (.volumes[] | "volume \(.name) \(.guid) \(.type | ltype) \(.size / 512) \(if .type == "stripe" or .type == "raid5" then 128 else 0 end) \([.members[].name] | join(","))"),
          (.volumes[].members[] | "partition \(.name) \(.start) \(.length / 512) \(.disk)")' "$1" ;;
ldmcheck)
        ldmcheck=${LDMCHECK:-$(dirname "$0")/../../../shared/tools/ldmcheck}
        # Strict, with data checks; any finding fails (exit 1, the report on stderr).
        report=$("$ldmcheck" --json --strict --data "$@") || { echo "$report" >&2; exit 1; }
        echo "$report" | jq -r '.packs[0] | "group \(.name) \(.guid)",
          (.volumes[] | "volume \(.name) \(.guid) \(.type) \(.size)"),
          (.volumes[] | .name as $v | .members[] | "member \($v) \(.plex) \(.column) \(.partition) \(.disk) \(.offset) \(.length)")' ;;
mkldm-check)
        jq -r '
          def ctype: {"simple":"simple","span":"spanned","stripe":"striped","mirror":"mirror","raid5":"raid5"}[.];
          "group \(.group.name) \(.group.guid)",
          (.volumes[] | "volume \(.name) \(.guid) \(.type | ctype) \(.size)"),
          (.volumes[] | .name as $v | .members[] | "member \($v) \(.plex) \(.column) \(.name) \(.disk) \(.offset) \(.length)")' "$1" ;;
*)
        echo "unknown mode $mode" >&2; exit 2 ;;
esac > "${TMPDIR:-/tmp}/pack-lines.$$"
sort "${TMPDIR:-/tmp}/pack-lines.$$"
rm -f "${TMPDIR:-/tmp}/pack-lines.$$"
