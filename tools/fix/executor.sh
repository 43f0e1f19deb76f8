#!/usr/bin/env bash
# The QuickFIX/J example Executor as a local FIX 4.4 counterparty (acceptor)
# on loopback, for the integration tests and for trying `tradeengine run`.
#
#   tools/fix/executor.sh start [--port P] [--dir DIR] [--price PX]
#       starts it in a fresh run directory (store, logs, settings), prints the
#       directory; waits until the port accepts connections
#   tools/fix/executor.sh stop   --dir DIR     stops it (and its stdin keeper)
#   tools/fix/executor.sh status --dir DIR     running or not
#   tools/fix/executor.sh classpath            resolves the jars (Maven), prints the classpath
#
# Sessions: SenderCompID=EXEC, TargetCompID=TE, FIX.4.4. Market orders fill at
# --price (DefaultMarketPrice, default 12.30), marketable limit orders fill in
# full, OrderCancelRequest is answered with a BusinessMessageReject. The
# Executor exits when its stdin closes, so a FIFO keeps stdin open.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:-}"
shift || true
port=9880
dir=""
price="12.30"
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --dir) dir="$2"; shift 2 ;;
        --price) price="$2"; shift 2 ;;
        *) echo "executor.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

die() { echo "executor.sh: $*" >&2; exit 2; }
# shellcheck source=../lib/java-server.sh
. "$here/../lib/java-server.sh"

classpath() { maven_classpath "the QuickFIX/J Executor"; }

case "$cmd" in
    classpath)
        classpath
        ;;
    start)
        cp=$(classpath)
        if port_open "$port"; then
            die "port $port is already taken on 127.0.0.1"
        fi
        [ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/te-executor.XXXXXX")
        rm -rf "$dir"
        mkdir -p "$dir/store" "$dir/log"
        cat >"$dir/executor.cfg" <<CFG
[default]
FileStorePath=$dir/store
FileLogPath=$dir/log
ConnectionType=acceptor
StartTime=00:00:00
EndTime=00:00:00
HeartBtInt=30
ValidOrderTypes=1,2
SenderCompID=EXEC
TargetCompID=TE
UseDataDictionary=Y
DefaultMarketPrice=$price
SocketAcceptAddress=127.0.0.1

[session]
BeginString=FIX.4.4
SocketAcceptPort=$port
CFG
        mkfifo "$dir/stdin"
        # Keeps the FIFO's write end open: the Executor exits when stdin closes.
        nohup sleep 2147483647 >"$dir/stdin" 2>/dev/null &
        echo $! >"$dir/keeper.pid"
        nohup java -Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
            -cp "$cp" quickfix.examples.executor.Executor "$dir/executor.cfg" \
            <"$dir/stdin" >"$dir/executor.out" 2>&1 &
        echo $! >"$dir/executor.pid"
        for _ in $(seq 1 300); do
            if port_open "$port"; then
                echo "$dir"
                exit 0
            fi
            if ! kill -0 "$(cat "$dir/executor.pid")" 2>/dev/null; then
                tail -n 20 "$dir/executor.out" >&2
                die "the Executor exited during start-up (see $dir/executor.out)"
            fi
            sleep 0.1
        done
        "$0" stop --dir "$dir" || true
        die "the Executor did not listen on 127.0.0.1:$port within 30 s"
        ;;
    stop)
        [ -n "$dir" ] || die "stop needs --dir DIR"
        for f in executor keeper; do
            if [ -s "$dir/$f.pid" ]; then
                pid=$(cat "$dir/$f.pid")
                kill "$pid" 2>/dev/null || true
                for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -9 "$pid" 2>/dev/null || true
                rm -f "$dir/$f.pid"
            fi
        done
        ;;
    status)
        [ -n "$dir" ] || die "status needs --dir DIR"
        if [ -s "$dir/executor.pid" ] && kill -0 "$(cat "$dir/executor.pid")" 2>/dev/null; then
            echo "running (pid $(cat "$dir/executor.pid"), $dir)"
        else
            echo "stopped"
            exit 1
        fi
        ;;
    *)
        echo "usage: executor.sh start [--port P] [--dir DIR] [--price PX] | stop --dir DIR | status --dir DIR | classpath" >&2
        exit 2
        ;;
esac
