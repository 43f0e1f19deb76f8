# Shared by the scripts that run Java servers from jars Maven Central serves
# (tools/fix/executor.sh, tools/fluss/cluster.sh). Source it after setting
# `here` (the script's folder, which holds the pom.xml) and defining `die`.

# port_open P: whether something accepts connections on 127.0.0.1:P.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# maven_classpath WHAT: the classpath of $here/pom.xml's dependencies,
# resolved by Maven once and cached in $here/target/classpath.txt (again
# when the pom changes); WHAT names them in the error when Maven fails.
maven_classpath() {
    command -v java >/dev/null || die "no java on PATH (install a JDK 17, e.g. Debian default-jdk-headless)"
    command -v mvn >/dev/null || die "no mvn on PATH (install Maven, e.g. Debian maven)"
    local cache="$here/target/classpath.txt"
    if [ ! -s "$cache" ] || [ "$here/pom.xml" -nt "$cache" ]; then
        mkdir -p "$here/target"
        if ! mvn -q -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cache" >"$here/target/mvn.log" 2>&1; then
            tail -n 20 "$here/target/mvn.log" >&2
            die "Maven could not resolve $1 (see $here/target/mvn.log)"
        fi
    fi
    cat "$cache"
}
