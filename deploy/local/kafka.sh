#!/usr/bin/env bash
# Local single-node Kafka (KRaft, combined broker+controller) without Docker.
#
#   deploy/local/kafka.sh fetch            download broker jars (once, shared)
#   deploy/local/kafka.sh start            start a broker on $KAFKA_PORT
#   deploy/local/kafka.sh stop [--hard]    stop the broker this script started
#   deploy/local/kafka.sh status           print running/stopped (exit 0/3)
#
# Knobs: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
#        DATARUN_LOCAL_DIR (<repo>/.local), KAFKA_START_TIMEOUT (60 s).
# As one node of a cluster (deploy/local/kafka-cluster.sh sets these):
#        KAFKA_NODE_ID (1), KAFKA_VOTERS (id@host:port,… of every controller;
#        unset: a single node), KAFKA_CLUSTER_ID (the same on every node),
#        KAFKA_REPLICATION (1: replicas of internal and new topics; their
#        min ISR is one less, at least 1).
# With authentication: KAFKA_SASL_PORT adds a SASL_PLAINTEXT listener
#        (SCRAM-SHA-512) there, and KAFKA_SASL_USERS (name:password,…) are
#        its users, created when the storage is formatted (the first start).
# Behind a proxy: KAFKA_ADVERTISED_PORT (default KAFKA_PORT) is the port the
#        broker tells clients to connect to, e.g. a fault test's TCP proxy.
#
# Layout under $DATARUN_LOCAL_DIR/kafka:
#   libs/                     jars, shared by every broker (from Maven Central)
#   broker-$KAFKA_PORT/       one folder per broker, so several can run at once:
#     server.properties, data/, kafka.pid, logs/server.log, logs/stdout.log
set -euo pipefail

# shellcheck source=deploy/local/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_HOST=127.0.0.1
KAFKA_NODE_ID="${KAFKA_NODE_ID:-1}"
KAFKA_VOTERS="${KAFKA_VOTERS:-}"
KAFKA_REPLICATION="${KAFKA_REPLICATION:-1}"
KAFKA_MIN_ISR=$((KAFKA_REPLICATION > 1 ? KAFKA_REPLICATION - 1 : 1))
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-}"
KAFKA_SASL_USERS="${KAFKA_SASL_USERS:-}"
KAFKA_ADVERTISED_PORT="${KAFKA_ADVERTISED_PORT:-$KAFKA_PORT}"

KAFKA_HOME="$DATARUN_LOCAL_DIR/kafka"
LIBS_DIR="$KAFKA_HOME/libs"
BROKER_DIR="$KAFKA_HOME/broker-$KAFKA_PORT"
DATA_DIR="$BROKER_DIR/data"
LOG_DIR="$BROKER_DIR/logs"
PROPS="$BROKER_DIR/server.properties"
PID_FILE="$BROKER_DIR/kafka.pid"
SERVER_LOG="$LOG_DIR/server.log"
STDOUT_LOG="$LOG_DIR/stdout.log"
KAFKA_CONF_DIR="$LOCAL_SCRIPTS_DIR/kafka"

# What Kafka 4.x logs (from KafkaRaftServer) once the broker and the
# controller have both finished starting and the listeners accept requests.
READY_MARKER="Kafka Server started"

# --- fetch -------------------------------------------------------------------

# The jars are complete iff libs/ exists: it only ever appears through an
# atomic rename of a finished download (see fetch).
libs_present() {
  [[ -d "$LIBS_DIR" ]] && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null
}

fetch() {
  if libs_present; then
    return 0
  fi
  command -v mvn >/dev/null || die "kafka: mvn not found; it is needed once to fetch the broker jars"
  mkdir -p "$KAFKA_HOME"
  # Two processes may race here (e.g. two test runs starting brokers). The
  # lock makes the second wait for the first instead of downloading into the
  # same ~/.m2 at once; the temp dir + rename means nobody ever sees a half
  # filled libs/, even if a download is killed midway.
  exec 9>"$KAFKA_HOME/.fetch.lock"
  flock 9
  if libs_present; then # the other process finished while we waited
    exec 9>&-
    return 0
  fi
  local tmp
  tmp="$(mktemp -d "$KAFKA_HOME/libs.tmp.XXXXXX")"
  echo "kafka: fetching broker jars from Maven Central into $LIBS_DIR ..." >&2
  if ! mvn -q -B -f "$KAFKA_CONF_DIR/pom.xml" package -Dkafka.libs.dir="$tmp" >"$KAFKA_HOME/fetch.log" 2>&1; then
    rm -rf "$tmp"
    die "kafka: fetching jars failed; see $KAFKA_HOME/fetch.log"
  fi
  mv -T "$tmp" "$LIBS_DIR"
  exec 9>&-
}

# --- helpers -----------------------------------------------------------------

recorded_pid() {
  if [[ -f "$PID_FILE" ]]; then cat "$PID_FILE"; fi
}

# Our broker is identified by its own server.properties on the command line.
our_broker_alive() {
  local pid
  pid="$(recorded_pid)"
  [[ -n "$pid" ]] && pid_alive "$pid" "$PROPS"
}

write_properties() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  # Rewritten on every start so edits to this script take effect; the data
  # dir is kept.
  local quorum="controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT"
  # A cluster's nodes name every voter of the metadata quorum (a static quorum).
  [[ -n "$KAFKA_VOTERS" ]] && quorum="controller.quorum.voters=$KAFKA_VOTERS"
  local listeners="PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT" protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT" sasl=""
  local advertised="PLAINTEXT://$KAFKA_HOST:$KAFKA_ADVERTISED_PORT"
  if [[ -n "$KAFKA_SASL_PORT" ]]; then
    listeners="$listeners,SASL_PLAINTEXT://$KAFKA_HOST:$KAFKA_SASL_PORT"
    advertised="$advertised,SASL_PLAINTEXT://$KAFKA_HOST:$KAFKA_SASL_PORT"
    protocols="$protocols,SASL_PLAINTEXT:SASL_PLAINTEXT"
    sasl="sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required ;"
  fi
  cat >"$PROPS" <<EOF
# Generated by deploy/local/kafka.sh on each start; edits are overwritten.
# Combined KRaft node (broker + controller), loopback only: a single node, or
# one of a cluster's (KAFKA_VOTERS).
process.roles=broker,controller
node.id=$KAFKA_NODE_ID
$quorum
listeners=$listeners,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
$sasl
log.dirs=$DATA_DIR
num.partitions=3
# Topics are created explicitly by the apps; a typo must not make a topic.
auto.create.topics.enable=false
# Internal and new topics: one replica on a single node; on a cluster,
# KAFKA_REPLICATION replicas of which all but one must acknowledge a write.
default.replication.factor=$KAFKA_REPLICATION
min.insync.replicas=$KAFKA_MIN_ISR
offsets.topic.replication.factor=$KAFKA_REPLICATION
transaction.state.log.replication.factor=$KAFKA_REPLICATION
transaction.state.log.min.isr=$KAFKA_MIN_ISR
share.coordinator.state.topic.replication.factor=$KAFKA_REPLICATION
share.coordinator.state.topic.min.isr=$KAFKA_MIN_ISR
# Fast feedback for local runs and tests: no rebalance delay, and a dead
# broker session is noticed after 3 s. Kafka 4.4 logs an ERROR at every
# config load unless the heartbeat is at most half the session timeout
# (default heartbeat is 2000 ms), hence 1000 ms.
group.initial.rebalance.delay.ms=0
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=1000
EOF
}

# Format the storage once. --standalone makes this node the single voter of
# the metadata quorum; the voter's controller endpoint is written into the
# data dir, which is why a changed controller port is refused below.
format_storage_once() {
  local port_file="$BROKER_DIR/.controller-port"
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    if [[ -f "$port_file" && "$(cat "$port_file")" != "$KAFKA_CONTROLLER_PORT" ]]; then
      die "kafka: $DATA_DIR was formatted for controller port $(cat "$port_file"), not $KAFKA_CONTROLLER_PORT; use that port or delete $BROKER_DIR"
    fi
    return 0
  fi
  local cluster_id="${KAFKA_CLUSTER_ID:-}"
  [[ -n "$cluster_id" ]] || cluster_id="$(java -cp "$LIBS_DIR/*" kafka.tools.StorageTool random-uuid 2>>"$STDOUT_LOG")"
  # A single node is the one voter of its quorum (--standalone); a cluster's
  # nodes find their voters in controller.quorum.voters.
  local standalone=(--standalone) user users scram=()
  [[ -n "$KAFKA_VOTERS" ]] && standalone=()
  # SCRAM users exist from the start: KRaft stores them in the metadata log.
  if [[ -n "$KAFKA_SASL_USERS" ]]; then
    IFS=, read -ra users <<<"$KAFKA_SASL_USERS"
    for user in "${users[@]}"; do scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%:*},password=${user#*:}]"); done
  fi
  java -Dlog4j2.configurationFile="$KAFKA_CONF_DIR/log4j2.properties" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$LIBS_DIR/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" "${standalone[@]}" "${scram[@]}" \
    >>"$STDOUT_LOG" 2>&1 || die "kafka: formatting storage failed; see $STDOUT_LOG"
  echo "$KAFKA_CONTROLLER_PORT" >"$port_file"
}

# Wait until the port accepts connections and the log says the server
# started. Fails (after stopping the half-started process) on timeout or
# when the java process dies.
wait_until_ready() {
  local pid="$1" deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      die "kafka: broker on $KAFKA_HOST:$KAFKA_PORT exited during startup; see $SERVER_LOG and $STDOUT_LOG"
    fi
    if port_open "$KAFKA_HOST" "$KAFKA_PORT" && grep -q "$READY_MARKER" "$SERVER_LOG" 2>/dev/null; then
      return 0
    fi
    sleep 0.25
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
  die "kafka: broker on $KAFKA_HOST:$KAFKA_PORT not ready after ${KAFKA_START_TIMEOUT}s (killed it); see $SERVER_LOG"
}

# --- commands ----------------------------------------------------------------

start() {
  if our_broker_alive; then
    # Started by us earlier (maybe still starting): just make sure it is up.
    wait_until_ready "$(recorded_pid)"
    echo "kafka: broker already running on $KAFKA_HOST:$KAFKA_PORT (pid $(recorded_pid), log: $SERVER_LOG)"
    return 0
  fi
  rm -f "$PID_FILE" # stale: the process it named is gone
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    # Someone else's broker (or something else entirely). Not ours to
    # manage, so no pid is recorded and stop will leave it alone.
    echo "kafka: something already listens on $KAFKA_HOST:$KAFKA_PORT; not started by us, leaving it alone"
    return 0
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
    die "kafka: controller port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT is taken; set KAFKA_CONTROLLER_PORT to a free port"
  fi
  command -v java >/dev/null || die "kafka: java not found (Java 17+ is needed)"
  fetch
  write_properties

  # A fresh log each start, so the readiness grep cannot match an old run.
  # (Done before formatting: the format step logs to server.log too, and
  # the broker truncates it when it opens the file.)
  if [[ -f "$SERVER_LOG" ]]; then mv -f "$SERVER_LOG" "$SERVER_LOG.prev"; fi
  : >"$STDOUT_LOG"
  format_storage_once
  rm -f "$PID_FILE.tmp"

  # setsid: own session, so the broker survives this script, its terminal
  # and Ctrl-C in the caller. The inner bash writes its own pid and then
  # execs java, so the recorded pid is the JVM's whether or not setsid
  # had to fork.
  # shellcheck disable=SC2016 # $$ and $@ are for the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE.tmp" \
    java -Xmx512m -Xms256m \
    -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j2.configurationFile="$KAFKA_CONF_DIR/log4j2.properties" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS" \
    </dev/null >>"$STDOUT_LOG" 2>&1 &
  local _
  for _ in $(seq 1 100); do
    [[ -s "$PID_FILE.tmp" ]] && break
    sleep 0.05
  done
  [[ -s "$PID_FILE.tmp" ]] || die "kafka: could not launch java; see $STDOUT_LOG"
  mv -f "$PID_FILE.tmp" "$PID_FILE"

  wait_until_ready "$(recorded_pid)"
  echo "kafka: started broker on $KAFKA_HOST:$KAFKA_PORT (pid $(recorded_pid), log: $SERVER_LOG)"
}

stop() {
  local hard=false
  [[ "${1:-}" == "--hard" ]] && hard=true
  if [[ ! -f "$PID_FILE" ]]; then
    echo "kafka: no broker started by us on port $KAFKA_PORT (no $PID_FILE); nothing to stop"
    return 0
  fi
  local pid
  pid="$(recorded_pid)"
  if ! our_broker_alive; then
    rm -f "$PID_FILE"
    echo "kafka: broker on port $KAFKA_PORT (pid $pid) was not running; removed stale pid file"
    return 0
  fi
  if $hard; then
    # For fault tests: no clean shutdown, like a crash.
    kill -KILL "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "kafka: broker (pid $pid) ignored TERM for 20 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # Wait for the process to be gone (KILL is asynchronous) so that a
  # following start does not see the port still bound.
  local _
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$PID_FILE"
  echo "kafka: stopped broker on $KAFKA_HOST:$KAFKA_PORT (pid $pid$($hard && echo ', killed'))"
}

status() {
  if our_broker_alive; then
    echo "running (pid $(recorded_pid), $KAFKA_HOST:$KAFKA_PORT, started by us)"
  elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    echo "running ($KAFKA_HOST:$KAFKA_PORT, not started by us)"
  else
    echo "stopped ($KAFKA_HOST:$KAFKA_PORT)"
    return 3
  fi
}

usage() {
  echo "usage: $0 fetch|start|stop [--hard]|status" >&2
  exit 2
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  fetch) fetch && echo "kafka: jars in $LIBS_DIR" ;;
  start) start ;;
  stop) stop "$@" ;;
  status) status ;;
  *) usage ;;
esac
