#!/usr/bin/env bash
# Bring up what the apps need locally (PostgreSQL and Kafka), starting only
# what is missing, and write $DATARUN_LOCAL_DIR/infra.env for the npm
# scripts to source:
#
#   DATABASE_OWNER_URL=postgres://...
#   KAFKA_BROKERS=host:port[,host:port...]
#
# Rules:
#   PostgreSQL: DATABASE_OWNER_URL / DATABASE_URL if set (only checked);
#               else the server on 127.0.0.1:5432 if it answers
#               ($DATARUN_SHARED_PG_PORT, mainly to test the fallback);
#               else a private cluster via postgres.sh on $PG_PORT (54329).
#               In the last two cases the database ${DATARUN_DB_NAME:-datarun}
#               is created if missing.
#   Kafka:      KAFKA_BROKERS if set (first broker checked);
#               else a local broker via kafka.sh on $KAFKA_PORT (9092).
# Safe to run again: when everything runs it only checks and rewrites
# nothing (infra.env is replaced only when its content changes).
set -euo pipefail

# shellcheck source=deploy/local/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

DB_NAME="${DATARUN_DB_NAME:-datarun}"
PG_PORT="${PG_PORT:-54329}"
SHARED_PG_PORT="${DATARUN_SHARED_PG_PORT:-5432}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
INFRA_ENV="$DATARUN_LOCAL_DIR/infra.env"
# Fail fast instead of hanging on an unreachable server.
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}"

# The name is spliced into SQL and URLs below; keep it to a plain identifier
# rather than quoting everywhere.
[[ "$DB_NAME" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
  die "up: DATARUN_DB_NAME='$DB_NAME' must be a plain identifier (letters, digits, _)"

# ensure_db HOST PORT: create $DB_NAME as user postgres unless it exists.
ensure_db() {
  local host="$1" port="$2"
  local exists="select 1 from pg_database where datname = '$DB_NAME'"
  if [[ "$(psql -h "$host" -p "$port" -U postgres -d postgres -tAc "$exists")" == 1 ]]; then
    return 0
  fi
  # Another up.sh may create it at the same moment; only fail if it is
  # still missing afterwards.
  createdb -h "$host" -p "$port" -U postgres "$DB_NAME" 2>/dev/null ||
    [[ "$(psql -h "$host" -p "$port" -U postgres -d postgres -tAc "$exists")" == 1 ]] ||
    die "up: could not create database $DB_NAME on $host:$port"
  echo "postgres: created database $DB_NAME on $host:$port"
}

# --- PostgreSQL --------------------------------------------------------------

if [[ -n "${DATABASE_OWNER_URL:-}" || -n "${DATABASE_URL:-}" ]]; then
  db_url="${DATABASE_OWNER_URL:-$DATABASE_URL}"
  # psql rather than pg_isready alone: also proves the database exists and
  # the credentials work. The URL is not echoed (it may hold a password).
  if ! err="$(psql "$db_url" -tAc 'select 1' 2>&1 >/dev/null)"; then
    die "postgres: DATABASE_OWNER_URL/DATABASE_URL does not work: $(head -n1 <<<"$err")"
  fi
  echo "postgres: using DATABASE_OWNER_URL/DATABASE_URL as given"
elif pg_isready -q -h 127.0.0.1 -p "$SHARED_PG_PORT"; then
  ensure_db 127.0.0.1 "$SHARED_PG_PORT"
  db_url="postgres://postgres@127.0.0.1:$SHARED_PG_PORT/$DB_NAME"
  echo "postgres: using server at 127.0.0.1:$SHARED_PG_PORT (db $DB_NAME)"
else
  PG_PORT="$PG_PORT" "$LOCAL_SCRIPTS_DIR/postgres.sh" start
  ensure_db 127.0.0.1 "$PG_PORT"
  db_url="postgres://postgres@127.0.0.1:$PG_PORT/$DB_NAME"
  echo "postgres: using private cluster at 127.0.0.1:$PG_PORT (db $DB_NAME)"
fi

# --- Kafka -------------------------------------------------------------------

if [[ -n "${KAFKA_BROKERS:-}" ]]; then
  first="${KAFKA_BROKERS%%,*}"
  first="${first#*://}" # tolerate PLAINTEXT://host:port
  host="${first%:*}" port="${first##*:}"
  [[ "$host" != "$first" && "$port" =~ ^[0-9]+$ ]] ||
    die "kafka: KAFKA_BROKERS='$KAFKA_BROKERS' is not host:port[,host:port...]"
  port_open "$host" "$port" || die "kafka: $host:$port (first of KAFKA_BROKERS) does not accept connections"
  kafka_brokers="$KAFKA_BROKERS"
  echo "kafka: using KAFKA_BROKERS as given ($KAFKA_BROKERS)"
else
  # kafka.sh prints its own line: started / already running / not ours.
  KAFKA_PORT="$KAFKA_PORT" "$LOCAL_SCRIPTS_DIR/kafka.sh" start
  kafka_brokers="127.0.0.1:$KAFKA_PORT"
fi

# --- infra.env ---------------------------------------------------------------

# Single-quote a value only when a shell would need it, so the common case
# stays a plain KEY=value line that dotenv parsers and `source` both read.
env_line() {
  local key="$1" value="$2"
  if [[ "$value" =~ ^[A-Za-z0-9_@%+=:,./?-]*$ ]]; then
    printf '%s=%s\n' "$key" "$value"
  else
    printf "%s='%s'\n" "$key" "${value//\'/\'\\\'\'}"
  fi
}

mkdir -p "$DATARUN_LOCAL_DIR"
tmp="$(mktemp "$INFRA_ENV.XXXXXX")"
{
  echo "# Written by deploy/local/up.sh; load with: set -a; . $INFRA_ENV; set +a"
  env_line DATABASE_OWNER_URL "$db_url"
  env_line KAFKA_BROKERS "$kafka_brokers"
} >"$tmp"
if cmp -s "$tmp" "$INFRA_ENV"; then
  rm -f "$tmp"
  echo "infra.env unchanged ($INFRA_ENV)"
else
  mv -f "$tmp" "$INFRA_ENV" # atomic: readers never see half a file
  echo "wrote $INFRA_ENV"
fi
