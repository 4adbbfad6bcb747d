#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft: broker + controller in one JVM) on 127.0.0.1,
# for the tests and benchmarks. Called by scripts/services.sh (up|down kafka).
#   broker.sh up     starts it unless it already answers; prints the bootstrap address when ready
#   broker.sh down   stops it
# EVMESH_KAFKA_PORT (default 19092) picks the client port (the controller listens on port+1),
# so a test can run a broker of its own (the fault test stops and restarts one).
# Jars: scripts/kafka/pom.xml resolved by Maven from Maven Central into $CACHE/jars-<version>.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${EVMESH_KAFKA_PORT:-19092}
cache=${EVMESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/evmesh}
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
jars=$cache/kafka-jars-$version
run=$cache/kafka-$port
addr=127.0.0.1:$port

apt_install() {
  [ -f "$cache/apt-updated" ] || { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq; mkdir -p "$cache"; touch "$cache/apt-updated"; }
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}

# True when something answers Kafka metadata requests on $addr.
answers() { kcat -L -b "$addr" -m 2 -t __evmesh_probe >/dev/null 2>&1; }

broker_pid() { [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null && cat "$run/pid"; }

up() {
  command -v kcat >/dev/null || apt_install kcat
  if answers; then echo "$addr"; return; fi
  command -v java >/dev/null || apt_install default-jre-headless
  command -v mvn >/dev/null || apt_install maven
  if [ ! -f "$jars/.complete" ]; then
    rm -rf "$jars"
    mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$jars" >&2
    touch "$jars/.complete"
  fi
  mkdir -p "$run"
  # A previous JVM of this port that does not answer (hung, half started): stop it first.
  if pid=$(broker_pid); then kill "$pid" 2>/dev/null || true; sleep 1; fi
  sed -e "s/@PORT@/$port/g" -e "s/@CPORT@/$((port + 1))/g" -e "s:@DATA@:$run/data:g" "$here/server.properties" > "$run/server.properties"
  # Heap and JIT kept small: a test broker on a shared 2-core machine (starts in ~3 s).
  local jvm=(java -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.awt.headless=true -cp "$jars/*")
  if [ ! -f "$run/data/meta.properties" ]; then
    "${jvm[@]}" kafka.tools.StorageTool format -t "$("${jvm[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null)" -c "$run/server.properties" --ignore-formatted > "$run/format.log" 2>&1 \
      || { cat "$run/format.log" >&2; exit 1; }
  fi
  setsid nohup "${jvm[@]}" kafka.Kafka "$run/server.properties" > "$run/broker.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$run/pid"
  for _ in $(seq 1 600); do
    if answers; then echo "$addr"; return; fi
    if ! kill -0 "$(cat "$run/pid")" 2>/dev/null; then
      echo "kafka broker on $addr exited during start-up; last log lines:" >&2; tail -30 "$run/broker.log" >&2; exit 1
    fi
    sleep 0.2
  done
  echo "kafka broker on $addr not ready after 120 s; last log lines:" >&2; tail -30 "$run/broker.log" >&2; exit 1
}

down() {
  local pid
  pid=$(broker_pid) || return 0
  kill "$pid"
  # A clean shutdown (SIGTERM) takes a few seconds; SIGKILL after 30 s.
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || { rm -f "$run/pid"; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true; rm -f "$run/pid"
}

# One up/down at a time per port (test files started together all call `up`).
mkdir -p "$cache"
exec 9>"$cache/kafka-$port.lock"
flock 9
case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
