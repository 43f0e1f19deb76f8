#!/usr/bin/env bash
# A local Apache Fluss cluster on 127.0.0.1 for the integration tests and for
# trying `store = "fluss"`: ZooKeeper (the QuorumPeerMain shaded inside
# fluss-server), one coordinator and one tablet server, with capped heaps,
# in a fresh run directory per start (data, remote data, logs, configs).
#
#   tools/fluss/cluster.sh start [--dir DIR] [--port P] [--tablets N]
#                     P = coordinator port (default 9123); tablet server 0 on P+1, ZooKeeper P+2,
#                     tablet server K>0 on P+2+K. N tablet servers (default 1) and replication
#                     factor N: with N >= 2 a tablet server can die without losing acknowledged rows.
#   tools/fluss/cluster.sh wait   [--dir DIR]   waits until the ports listen and the
#                                               tablet server has registered in ZooKeeper
#   tools/fluss/cluster.sh status [--dir DIR]
#   tools/fluss/cluster.sh stop   [--dir DIR]   stops every process it started (and only those)
#   tools/fluss/cluster.sh kill-tablet|start-tablet [--dir DIR] [--id K]   for failure tests (K default 0)
#   tools/fluss/cluster.sh pause|resume [--dir DIR]   freeze / thaw every tablet server (a network cut)
#   tools/fluss/cluster.sh classpath
#
# The bootstrap address is printed by start and kept in DIR/bootstrap.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:-}"
shift || true
dir="${TE_FLUSS_DIR:-${TMPDIR:-/tmp}/te-fluss}"
port=9123
tablets=1
id=0
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) dir="$2"; shift 2 ;;
        --port) port="$2"; shift 2 ;;
        --tablets) tablets="$2"; shift 2 ;;
        --id) id="$2"; shift 2 ;;
        *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
die() { echo "cluster.sh: $*" >&2; exit 2; }
# shellcheck source=../lib/java-server.sh
. "$here/../lib/java-server.sh"

classpath() { maven_classpath "fluss-server"; }

JAVA_OPTS=(-Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ActiveProcessorCount=2
           --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
           --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)

launch() { # name main-class args...
    local name="$1" main="$2"
    shift 2
    nohup java "${JAVA_OPTS[@]}" -Dlog4j.configurationFile="$dir/conf/log4j2.properties" \
        -Dlog.file="$dir/log/$name.log" -cp "$(cat "$dir/classpath")" "$main" "$@" \
        >"$dir/log/$name.out" 2>&1 </dev/null &
    echo $! >"$dir/$name.pid"
}

stop_one() {
    local f="$dir/$1.pid"
    [ -s "$f" ] || return 0
    local pid
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
}

tablet_name() { if [ "$1" = 0 ]; then echo tablet; else echo "tablet$1"; fi; }
tablet_port() { if [ "$1" = 0 ]; then echo $(($2 + 1)); else echo $(($2 + 2 + $1)); fi; }

start_tablet() { # id
    local n name
    name=$(tablet_name "$1")
    n=$(cat "$dir/$name.starts" 2>/dev/null || echo 0)
    echo $((n + 1)) >"$dir/$name.starts"
    launch "$name" org.apache.fluss.server.tablet.TabletServer --configDir "$dir/conf/$name"
}

wait_ready() {
    local p zk k name
    p=$(cat "$dir/port")
    zk=$((p + 2))
    local n_tablets
    n_tablets=$(cat "$dir/tablets" 2>/dev/null || echo 1)
    for _ in $(seq 1 900); do
        for name in zookeeper coordinator $(for k in $(seq 0 $((n_tablets - 1))); do tablet_name "$k"; done); do
            if [ -s "$dir/$name.pid" ] && ! kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
                tail -n 30 "$dir/log/$name.out" >&2 || true
                die "$name exited (logs in $dir/log/)"
            fi
        done
        local ready=1
        port_open "$zk" && port_open "$p" || ready=0
        for k in $(seq 0 $((n_tablets - 1))); do
            [ "$ready" = 1 ] || break
            name=$(tablet_name "$k")
            [ -s "$dir/$name.pid" ] || continue # deliberately stopped
            port_open "$(tablet_port "$k" "$p")" || { ready=0; break; }
            # Ready once the tablet server has registered in ZooKeeper
            # (counted, so a restarted tablet server is waited for too).
            local seen
            seen=$(grep -cs "Registered tablet server $k " "$dir/log/$name.log" || true)
            [ "${seen:-0}" -ge "$(cat "$dir/$name.starts" 2>/dev/null || echo 1)" ] || ready=0
        done
        [ "$ready" = 1 ] && return 0
        sleep 0.1
    done
    die "the cluster was not ready within 90 s (logs in $dir/log/)"
}

case "$cmd" in
    classpath) classpath ;;
    start)
        cp=$(classpath)
        p=$port
        case "$tablets" in ''|*[!0-9]*|0) die "--tablets must be a positive number" ;; esac
        for q in "$p" "$((p + 2))" $(for k in $(seq 0 $((tablets - 1))); do tablet_port "$k" "$p"; done); do
            port_open "$q" && die "port $q is already taken on 127.0.0.1"
        done
        if [ -d "$dir" ] && [ -s "$dir/coordinator.pid" ] && kill -0 "$(cat "$dir/coordinator.pid")" 2>/dev/null; then
            die "a cluster is already running in $dir (stop it first)"
        fi
        rm -rf "$dir"
        mkdir -p "$dir"/{conf/coordinator,log,data/zk,data/coordinator,remote}
        echo "$cp" >"$dir/classpath"
        echo "$p" >"$dir/port"
        echo "$tablets" >"$dir/tablets"
        t0=$(date +%s.%N)
        cat >"$dir/conf/zoo.cfg" <<CFG
dataDir=$dir/data/zk
clientPort=$((p + 2))
clientPortAddress=127.0.0.1
admin.enableServer=false
tickTime=2000
initLimit=10
syncLimit=5
maxClientCnxns=0
CFG
        cat >"$dir/conf/log4j2.properties" <<'CFG'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = File
appender.file.type = File
appender.file.name = File
appender.file.fileName = ${sys:log.file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} - %m%n
CFG
        cat >"$dir/conf/coordinator/server.yaml" <<CFG
zookeeper.address: 127.0.0.1:$((p + 2))
bind.listeners: FLUSS://127.0.0.1:$p
remote.data.dir: $dir/remote
data.dir: $dir/data/coordinator
default.replication.factor: $tablets
default.bucket.number: 1
CFG
        for k in $(seq 0 $((tablets - 1))); do
            name=$(tablet_name "$k")
            mkdir -p "$dir/conf/$name" "$dir/data/$name"
            cat >"$dir/conf/$name/server.yaml" <<CFG
zookeeper.address: 127.0.0.1:$((p + 2))
bind.listeners: FLUSS://127.0.0.1:$(tablet_port "$k" "$p")
remote.data.dir: $dir/remote
data.dir: $dir/data/$name
tablet-server.id: $k
default.replication.factor: $tablets
CFG
        done
        launch zookeeper org.apache.fluss.shaded.zookeeper3.org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/conf/zoo.cfg"
        for _ in $(seq 1 300); do port_open "$((p + 2))" && break; sleep 0.1; done
        launch coordinator org.apache.fluss.server.coordinator.CoordinatorServer --configDir "$dir/conf/coordinator"
        for k in $(seq 0 $((tablets - 1))); do start_tablet "$k"; done
        wait_ready
        t1=$(date +%s.%N)
        echo "127.0.0.1:$p" >"$dir/bootstrap"
        echo "fluss cluster ready at 127.0.0.1:$p in $(echo "$t1 - $t0" | bc 2>/dev/null || echo '?') s ($dir)" >&2
        echo "127.0.0.1:$p"
        ;;
    wait) wait_ready ;;
    status)
        ok=0
        for n in zookeeper coordinator $(for k in $(seq 0 $(($(cat "$dir/tablets" 2>/dev/null || echo 1) - 1))); do tablet_name "$k"; done); do
            if [ -s "$dir/$n.pid" ] && kill -0 "$(cat "$dir/$n.pid")" 2>/dev/null; then
                echo "$n: running (pid $(cat "$dir/$n.pid"))"
            else
                echo "$n: stopped"; ok=1
            fi
        done
        exit $ok
        ;;
    stop)
        for f in "$dir"/tablet*.pid; do [ -e "$f" ] && stop_one "$(basename "$f" .pid)"; done
        for n in coordinator zookeeper; do stop_one "$n"; done
        ;;
    kill-tablet)
        name=$(tablet_name "$id")
        [ -s "$dir/$name.pid" ] && kill -9 "$(cat "$dir/$name.pid")" 2>/dev/null || true
        rm -f "$dir/$name.pid"
        ;;
    start-tablet)
        start_tablet "$id"
        wait_ready
        ;;
    pause|resume)
        # Freeze (SIGSTOP) or thaw (SIGCONT) every tablet server: the cluster
        # stops answering writes without losing anything, as in a network cut.
        sig=STOP; [ "$cmd" = resume ] && sig=CONT
        for f in "$dir"/tablet*.pid; do [ -s "$f" ] && kill -"$sig" "$(cat "$f")" 2>/dev/null || true; done
        ;;
    *) echo "usage: cluster.sh start|wait|status|stop|kill-tablet|start-tablet|pause|resume|classpath [--dir DIR] [--port P] [--tablets N] [--id K]" >&2; exit 2 ;;
esac
