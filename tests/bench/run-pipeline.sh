#!/usr/bin/env bash
# run-pipeline.sh: start a fresh zchannel path on free loopback ports, load it
# with zch_bench (P=1 S=1 B=64), print the result, stop the servers.
#
# Usage: run-pipeline.sh [OPTIONS] [MESSAGES] [-- BENCH-ARGS...]
#   MESSAGES          messages to publish (default 1000000)
#   --separate        three processes (zchannel-broker, -source, -subscriber)
#                     instead of the all-in-one `zchannel run`
#   --runs K          run the bench K times against the same servers (default 1)
#   --history N       the broker's --history-per-topic (0: history off)
#   --build-dir DIR   where the binaries are (default <repo>/build)
#   --bench PATH      the zch_bench binary (default DIR/tests/bench/zch_bench)
#   --no-build        do not configure or build, only use what is there
#   --server-arg ARG  pass ARG to `zchannel run` (repeatable; e.g. plugins)
#   -h, --help        show this help
# Anything after -- goes to zch_bench (e.g. --json, --rate 100000).
# Exit status: the bench's (0 = nothing lost or reordered), or 1 when the
# servers did not start or died during the run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build
bench=""
separate=0
do_build=1
runs=1
messages=1000000
extra=()
history=()
server_args=()

usage () { sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
die () { echo "run-pipeline: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --separate) separate=1 ;;
        --runs) runs=${2:?--runs needs a value}; shift ;;
        --history) history=(--history-per-topic "${2:?--history needs a value}"); shift ;;
        --build-dir) build=${2:?--build-dir needs a value}; shift ;;
        --bench) bench=${2:?--bench needs a value}; shift ;;
        --no-build) do_build=0 ;;
        --server-arg) server_args+=("${2:?--server-arg needs a value}"); shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; extra=("$@"); break ;;
        [0-9]*) messages=$1 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done
[[ $messages =~ ^[0-9]+$ && $runs =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }
bench=${bench:-$build/tests/bench/zch_bench}
zchannel=$build/launcher/zchannel
broker=$build/broker/zchannel-broker
source_bin=$build/source/zchannel-source
subscriber=$build/subscriber/zchannel-subscriber
if [ $separate = 1 ]; then needed=("$broker" "$source_bin" "$subscriber" "$bench")
else needed=("$zchannel" "$bench"); fi

# Build: configure once, then an incremental build (a no-op when up to date)
if [ $do_build = 1 ]; then
    [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" >/dev/null
    cmake --build "$build" -j2 >/dev/null
fi
for bin in "${needed[@]}"; do
    [ -x "$bin" ] || die "missing $bin (build first, or drop --no-build)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zch-bench.XXXXXX")
pids=()

# Stops the servers we started (SIGTERM, then SIGKILL after 10 s) and
# removes the scratch directory.
cleanup () {
    local pid i
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "run-pipeline: server $pid ignored SIGTERM for 10 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Shows the end of every server log, for a failure.
show_logs () {
    local log
    for log in "$tmp"/*.log; do
        [ -s "$log" ] || continue
        echo "--- $(basename "$log") (last 20 lines)" >&2
        tail -n 20 "$log" >&2
    done
}

# Starts one server in the background with its output in NAME.log.
start () {
    local name=$1; shift
    "$@" >"$tmp/$name.log" 2>&1 &
    pids+=($!)
}

# True when every server we started is still running.
alive () {
    local pid
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || return 1; done
}

# Waits until each port accepts TCP connections (10 s at most).
wait_ports () {
    local port i
    for port in "$@"; do
        for i in $(seq 100); do
            alive || { show_logs; die "a server exited during start-up"; }
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue 2; fi
            sleep 0.1
        done
        show_logs; die "nothing listens on 127.0.0.1:$port after 10 s"
    done
}

read -r p_source p_sub p_in p_out p_ctl < <("$bench" --free-ports 5)
if [ $separate = 1 ]; then
    mode="separate (zchannel-broker + zchannel-source + zchannel-subscriber)"
    start broker "$broker" --ingress "tcp://127.0.0.1:$p_in" --egress "tcp://127.0.0.1:$p_out" \
        --control "tcp://127.0.0.1:$p_ctl" ${history[@]+"${history[@]}"}
    wait_ports "$p_in" "$p_out" "$p_ctl"
    start source "$source_bin" --listen "127.0.0.1:$p_source" --broker "tcp://127.0.0.1:$p_in"
    start subscriber "$subscriber" --listen "127.0.0.1:$p_sub" --broker "tcp://127.0.0.1:$p_out" \
        --control "tcp://127.0.0.1:$p_ctl"
else
    mode="embedded (zchannel run)"
    start zchannel "$zchannel" run --source-listen "127.0.0.1:$p_source" \
        --subscriber-listen "127.0.0.1:$p_sub" --ingress "tcp://127.0.0.1:$p_in" \
        --egress "tcp://127.0.0.1:$p_out" --control "tcp://127.0.0.1:$p_ctl" \
        ${history[@]+"${history[@]}"} ${server_args[@]+"${server_args[@]}"}
fi
wait_ports "$p_source" "$p_sub"

echo "run-pipeline: $mode, source :$p_source, subscriber :$p_sub, $messages messages, $runs run(s)"
status=0
for run in $(seq "$runs"); do
    [ "$runs" = 1 ] || echo "run-pipeline: run $run of $runs"
    rc=0
    "$bench" --source "127.0.0.1:$p_source" --subscriber "127.0.0.1:$p_sub" \
        --publishers 1 --subscribers 1 --size 64 --messages "$messages" \
        --topic "bench.run$run" ${extra[@]+"${extra[@]}"} || rc=$?
    [ $rc = 0 ] || status=$rc
    if ! alive; then show_logs; die "a server died during the run"; fi
done
[ $status = 0 ] || show_logs
exit $status
