#!/usr/bin/env bash
# Stop what deploy/local/up.sh started, and nothing else: the Kafka broker on
# $KAFKA_PORT (9092) and the private PostgreSQL cluster, each only if its
# script recorded that it started it (pid file / marker). Servers that were
# already running (5432, an external Kafka) are left alone.
# infra.env is kept; the next up.sh rewrites it if anything changes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

KAFKA_PORT="${KAFKA_PORT:-9092}" "$here/kafka.sh" stop
"$here/postgres.sh" stop
