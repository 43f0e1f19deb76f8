#!/usr/bin/env bash
# A local Apache Fluss cluster on 127.0.0.1 for the integration tests and for
# trying `store = "fluss"`: ZooKeeper (the QuorumPeerMain shaded inside
# fluss-server), one coordinator and one tablet server, with capped heaps,
# in a fresh run directory per start (data, remote data, logs, configs).
#
#   tools/fluss/cluster.sh start [--dir DIR] [--port P]   P = coordinator port (default 9123);
#                                                          tablet server P+1, ZooKeeper P+2
#   tools/fluss/cluster.sh wait   [--dir DIR]   waits until the ports listen and the
#                                               tablet server has registered in ZooKeeper
#   tools/fluss/cluster.sh status [--dir DIR]
#   tools/fluss/cluster.sh stop   [--dir DIR]   stops every process it started (and only those)
#   tools/fluss/cluster.sh kill-tablet|start-tablet [--dir DIR]   for failure tests
#   tools/fluss/cluster.sh classpath
#
# The bootstrap address is printed by start and kept in DIR/bootstrap.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:-}"
shift || true
dir="${TE_FLUSS_DIR:-${TMPDIR:-/tmp}/te-fluss}"
port=9123
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) dir="$2"; shift 2 ;;
        --port) port="$2"; shift 2 ;;
        *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
die() { echo "cluster.sh: $*" >&2; exit 2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

classpath() {
    command -v java >/dev/null || die "no java on PATH (install a JDK 17, e.g. Debian default-jdk-headless)"
    command -v mvn >/dev/null || die "no mvn on PATH (install Maven, e.g. Debian maven)"
    local cache="$here/target/classpath.txt"
    if [ ! -s "$cache" ] || [ "$here/pom.xml" -nt "$cache" ]; then
        mkdir -p "$here/target"
        if ! mvn -q -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cache" >"$here/target/mvn.log" 2>&1; then
            tail -n 20 "$here/target/mvn.log" >&2
            die "Maven could not resolve fluss-server (see $here/target/mvn.log)"
        fi
    fi
    cat "$cache"
}

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

start_tablet() {
    local n
    n=$(cat "$dir/tablet.starts" 2>/dev/null || echo 0)
    echo $((n + 1)) >"$dir/tablet.starts"
    launch tablet org.apache.fluss.server.tablet.TabletServer --configDir "$dir/conf/tablet"
}

wait_ready() {
    local p zk
    p=$(cat "$dir/port")
    zk=$((p + 2))
    for _ in $(seq 1 600); do
        for n in zookeeper coordinator tablet; do
            if [ -s "$dir/$n.pid" ] && ! kill -0 "$(cat "$dir/$n.pid")" 2>/dev/null; then
                tail -n 30 "$dir/log/$n.out" >&2 || true
                die "$n exited (logs in $dir/log/)"
            fi
        done
        if port_open "$zk" && port_open "$p" && port_open "$((p + 1))"; then
            # Ready once the tablet server has registered in ZooKeeper
            # (counted, so a restarted tablet server is waited for too).
            local seen
            seen=$(grep -cs "Registered tablet server 0 " "$dir/log/tablet.log" || true)
            if [ "${seen:-0}" -ge "$(cat "$dir/tablet.starts" 2>/dev/null || echo 1)" ]; then
                return 0
            fi
        fi
        sleep 0.1
    done
    die "the cluster was not ready within 60 s (logs in $dir/log/)"
}

case "$cmd" in
    classpath) classpath ;;
    start)
        cp=$(classpath)
        p=$port
        for q in "$p" "$((p + 1))" "$((p + 2))"; do
            port_open "$q" && die "port $q is already taken on 127.0.0.1"
        done
        if [ -d "$dir" ] && [ -s "$dir/coordinator.pid" ] && kill -0 "$(cat "$dir/coordinator.pid")" 2>/dev/null; then
            die "a cluster is already running in $dir (stop it first)"
        fi
        rm -rf "$dir"
        mkdir -p "$dir"/{conf/coordinator,conf/tablet,log,data/zk,data/coordinator,data/tablet,remote}
        echo "$cp" >"$dir/classpath"
        echo "$p" >"$dir/port"
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
default.replication.factor: 1
default.bucket.number: 1
CFG
        cat >"$dir/conf/tablet/server.yaml" <<CFG
zookeeper.address: 127.0.0.1:$((p + 2))
bind.listeners: FLUSS://127.0.0.1:$((p + 1))
remote.data.dir: $dir/remote
data.dir: $dir/data/tablet
tablet-server.id: 0
default.replication.factor: 1
CFG
        launch zookeeper org.apache.fluss.shaded.zookeeper3.org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/conf/zoo.cfg"
        for _ in $(seq 1 300); do port_open "$((p + 2))" && break; sleep 0.1; done
        launch coordinator org.apache.fluss.server.coordinator.CoordinatorServer --configDir "$dir/conf/coordinator"
        start_tablet
        wait_ready
        t1=$(date +%s.%N)
        echo "127.0.0.1:$p" >"$dir/bootstrap"
        echo "fluss cluster ready at 127.0.0.1:$p in $(echo "$t1 - $t0" | bc 2>/dev/null || echo '?') s ($dir)" >&2
        echo "127.0.0.1:$p"
        ;;
    wait) wait_ready ;;
    status)
        ok=0
        for n in zookeeper coordinator tablet; do
            if [ -s "$dir/$n.pid" ] && kill -0 "$(cat "$dir/$n.pid")" 2>/dev/null; then
                echo "$n: running (pid $(cat "$dir/$n.pid"))"
            else
                echo "$n: stopped"; ok=1
            fi
        done
        exit $ok
        ;;
    stop)
        for n in tablet coordinator zookeeper; do stop_one "$n"; done
        ;;
    kill-tablet)
        [ -s "$dir/tablet.pid" ] && kill -9 "$(cat "$dir/tablet.pid")" 2>/dev/null || true
        rm -f "$dir/tablet.pid"
        ;;
    start-tablet)
        start_tablet
        wait_ready
        ;;
    *) echo "usage: cluster.sh start|wait|status|stop|kill-tablet|start-tablet|classpath [--dir DIR] [--port P]" >&2; exit 2 ;;
esac
