#!/usr/bin/env bash
# run-plugins.sh: the plugin cost in one run, through `zchannel run`: zero
# plugins, `uppercase` at the broker, and a three-plugin chain (source
# filter, broker uppercase, subscriber redact), each on fresh servers with
# the same load. Prints one summary line per configuration.
#
# Usage: run-plugins.sh [--build-dir DIR] [MESSAGES]   (default 500000)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "$here/../.." && pwd)/build
messages=500000
while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) build=${2:?}; shift ;;
        [0-9]*) messages=$1 ;;
        *) sed -n '2,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    esac
    shift
done
plugins=(--server-arg --plugin-path --server-arg "$build/plugins-out")
chain=("${plugins[@]}"
       --server-arg --source-plugin --server-arg "filter:regex=."
       --server-arg --broker-plugin --server-arg uppercase
       --server-arg --subscriber-plugin --server-arg "redact:regex=[0-9]{16},replacement=#")
run () {
    local name=$1; shift
    local out
    out=$(bash "$here/run-pipeline.sh" --no-build --build-dir "$build" "$@" "$messages")
    printf '%-28s %s | %s | %s\n' "$name" \
        "$(grep -E '^publish' <<<"$out" | tr -s ' ')" \
        "$(grep -E '^delivery' <<<"$out" | tr -s ' ')" \
        "$(grep -E '^lost' <<<"$out" | tr -s ' ')"
}
run "no plugins"
run "uppercase at the broker" "${plugins[@]}" --server-arg --broker-plugin --server-arg uppercase
run "three-plugin chain" "${chain[@]}"
