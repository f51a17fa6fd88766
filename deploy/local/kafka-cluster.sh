#!/usr/bin/env bash
# A local three-node Kafka cluster (KRaft, each node broker + controller), from
# the same Maven jars as deploy/local/kafka.sh, which runs each node: for tests
# that must survive losing a broker, and to try production's replication
# settings on one machine.
#
#   deploy/local/kafka-cluster.sh start [--fresh]        start the three nodes (formatting them once;
#                                                        --fresh: stop them and drop their data first)
#   deploy/local/kafka-cluster.sh stop [--hard]          stop every node
#   deploy/local/kafka-cluster.sh kill <node id>         SIGKILL one node, as a crash would
#   deploy/local/kafka-cluster.sh start-node <node id>   start one node again
#   deploy/local/kafka-cluster.sh brokers                print the bootstrap list (host:port,…)
#
# Knobs: KAFKA_CLUSTER_PORT (19292): node n listens on base + 2(n-1), its
# controller on the port after; DATARUN_LOCAL_DIR (<repo>/.local).
# Topics get three replicas, of which two must acknowledge a write
# (min.insync.replicas 2): one node may be lost without losing a write.
set -euo pipefail

# shellcheck source=deploy/local/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

NODES=(1 2 3)
BASE="${KAFKA_CLUSTER_PORT:-19292}"
HOST=127.0.0.1
ID_FILE="$DATARUN_LOCAL_DIR/kafka/cluster-$BASE.id"

broker_port() { echo $((BASE + 2 * ($1 - 1))); }
controller_port() { echo $(($(broker_port "$1") + 1)); }

voters() {
  local n list=()
  for n in "${NODES[@]}"; do list+=("$n@$HOST:$(controller_port "$n")"); done
  (IFS=,; echo "${list[*]}")
}

brokers() {
  local n list=()
  for n in "${NODES[@]}"; do list+=("$HOST:$(broker_port "$n")"); done
  (IFS=,; echo "${list[*]}")
}

# The cluster's id, made once: every node is formatted with it.
cluster_id() {
  if [[ ! -s "$ID_FILE" ]]; then
    bash "$LOCAL_SCRIPTS_DIR/kafka.sh" fetch >/dev/null
    mkdir -p "$(dirname "$ID_FILE")"
    java -cp "$DATARUN_LOCAL_DIR/kafka/libs/*" kafka.tools.StorageTool random-uuid >"$ID_FILE"
  fi
  cat "$ID_FILE"
}

node() {
  local n="$1"
  shift
  [[ " ${NODES[*]} " == *" $n "* ]] || die "kafka-cluster: no node $n (nodes: ${NODES[*]})"
  KAFKA_PORT="$(broker_port "$n")" KAFKA_CONTROLLER_PORT="$(controller_port "$n")" KAFKA_NODE_ID="$n" \
    KAFKA_VOTERS="$(voters)" KAFKA_CLUSTER_ID="$(cluster_id)" KAFKA_REPLICATION=3 \
    bash "$LOCAL_SCRIPTS_DIR/kafka.sh" "$@"
}

start() {
  local id n pids=() failed=0
  if [[ "${1:-}" == "--fresh" ]]; then
    # A test's cluster: nothing of earlier runs, whose thousands of partitions a node would
    # otherwise recover at every start after a hard stop.
    stop --hard
    for n in "${NODES[@]}"; do rm -rf "$DATARUN_LOCAL_DIR/kafka/broker-$(broker_port "$n")"; done
  fi
  id="$(cluster_id)"
  # All at once: a node is ready only once a majority of the controllers answer.
  for n in "${NODES[@]}"; do
    node "$n" start &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  ((failed == 0)) || die "kafka-cluster: a node did not start; see the logs under $DATARUN_LOCAL_DIR/kafka/broker-*/logs"
  echo "kafka-cluster: $id on $(brokers)"
}

stop() {
  local n
  for n in "${NODES[@]}"; do node "$n" stop "$@"; done
}

usage() {
  echo "usage: $0 start [--fresh]|stop [--hard]|kill <node id>|start-node <node id>|brokers" >&2
  exit 2
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  kill) node "${1:?which node}" stop --hard ;;
  start-node) node "${1:?which node}" start ;;
  brokers) brokers ;;
  *) usage ;;
esac
