#!/usr/bin/env bash
# Private PostgreSQL cluster, the fallback when no server answers on
# 127.0.0.1:5432 and DATABASE_URL is not set.
#
#   deploy/local/postgres.sh start    initdb once, then start on $PG_PORT
#   deploy/local/postgres.sh stop     stop it, only if this script started it
#   deploy/local/postgres.sh status   print running/stopped (exit 0/3)
#
# Knobs: PG_PORT (54329), DATARUN_LOCAL_DIR (<repo>/.local).
# Layout: $DATARUN_LOCAL_DIR/pg/{data/, run/ (socket), postgres.log, started.pid}
# Trust auth, user postgres, listening on 127.0.0.1 only: a throwaway
# development cluster, never something to expose.
set -euo pipefail

# shellcheck source=deploy/local/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

PG_PORT="${PG_PORT:-54329}"
PG_HOST=127.0.0.1
PG_HOME="$DATARUN_LOCAL_DIR/pg"
PG_DATA="$PG_HOME/data"
PG_SOCKET_DIR="$PG_HOME/run"
PG_LOG="$PG_HOME/postgres.log"
# Exists only while a cluster that this script started is running; holds
# the postmaster pid. stop refuses to act without it.
STARTED_FILE="$PG_HOME/started.pid"

# PostgreSQL refuses to run as root. When we are root (containers, CI
# machines), run the server as the system 'postgres' user instead.
PG_RUN_USER=""
if [[ $EUID -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "postgres: running as root and there is no 'postgres' user to run the cluster as"
  PG_RUN_USER=postgres
fi

as_pg_user() {
  if [[ -n "$PG_RUN_USER" ]]; then
    runuser -u "$PG_RUN_USER" -- "$@"
  else
    "$@"
  fi
}

cluster_running() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && as_pg_user pg_ctl status -D "$PG_DATA" >/dev/null 2>&1
}

start() {
  if [[ -f "$STARTED_FILE" ]] && cluster_running; then
    echo "postgres: private cluster already running on $PG_HOST:$PG_PORT (data: $PG_DATA)"
    return 0
  fi
  rm -f "$STARTED_FILE"
  if pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    # Not ours (or started outside this script): use it, never stop it.
    echo "postgres: something already answers on $PG_HOST:$PG_PORT; not started by us, leaving it alone"
    return 0
  fi
  command -v initdb >/dev/null || die "postgres: initdb not found on PATH"

  mkdir -p "$PG_HOME" "$PG_SOCKET_DIR"
  if [[ -n "$PG_RUN_USER" ]]; then
    chown "$PG_RUN_USER" "$PG_HOME" "$PG_SOCKET_DIR"
    # The server user must be able to reach its data through our folder;
    # a mktemp'd or otherwise private .local would stop it.
    chmod o+x "$DATARUN_LOCAL_DIR"
    as_pg_user test -w "$PG_HOME" ||
      die "postgres: user $PG_RUN_USER cannot reach $PG_HOME (a parent folder is private); set DATARUN_LOCAL_DIR to a path it can traverse"
  fi

  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    echo "postgres: initdb $PG_DATA" >&2
    as_pg_user initdb -D "$PG_DATA" -A trust -U postgres -E UTF8 --no-instructions >"$PG_HOME/initdb.log" 2>&1 ||
      die "postgres: initdb failed; see $PG_HOME/initdb.log"
  fi

  # -k: the unix socket goes under .local instead of /var/run/postgresql,
  # which may not exist or belong to the system server. -w: return only when
  # the server accepts connections (or fail).
  as_pg_user pg_ctl start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
    -o "-p $PG_PORT -k '$PG_SOCKET_DIR' -c listen_addresses=$PG_HOST" >/dev/null ||
    die "postgres: private cluster did not start on $PG_HOST:$PG_PORT; see $PG_LOG"
  head -n1 "$PG_DATA/postmaster.pid" >"$STARTED_FILE"
  echo "postgres: started private cluster on $PG_HOST:$PG_PORT (data: $PG_DATA, log: $PG_LOG)"
}

stop() {
  if [[ ! -f "$STARTED_FILE" ]]; then
    echo "postgres: no private cluster started by us ($STARTED_FILE missing); nothing to stop"
    return 0
  fi
  if cluster_running; then
    # fast: roll back open transactions and disconnect clients; a dev cluster
    # has nothing worth waiting for.
    as_pg_user pg_ctl stop -D "$PG_DATA" -m fast -w -t 30 >/dev/null ||
      die "postgres: could not stop the private cluster; see $PG_LOG"
    echo "postgres: stopped private cluster on $PG_HOST:$PG_PORT"
  else
    echo "postgres: private cluster was not running; removed stale marker"
  fi
  rm -f "$STARTED_FILE"
}

status() {
  if [[ -f "$STARTED_FILE" ]] && cluster_running; then
    echo "running ($PG_HOST:$PG_PORT, private cluster started by us)"
  elif pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    echo "running ($PG_HOST:$PG_PORT, not started by us)"
  else
    echo "stopped ($PG_HOST:$PG_PORT)"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
