#!/usr/bin/env bash
# Runs a command from the build (`node dist/scripts/<x>.js …`), building first when that file is
# not there, with the local infrastructure's addresses when `npm start`/`npm test` wrote them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/require-node.sh
[ -f "${2:-dist/scripts}" ] || npx nest build gateway >/dev/null
user_db_url="${DATABASE_OWNER_URL:-${DATABASE_URL:-}}"
if [ -f .local/infra.env ]; then set -a; . ./.local/infra.env; set +a; fi
# .local/infra.env names the database of whoever ran last (npm test writes datarun_test): unless a
# URL was given, these commands work on the running system's database, like `npm start`.
db="${DATARUN_DB_NAME:-datarun}"
if [[ -z "$user_db_url" && -n "${DATABASE_OWNER_URL:-}" && "${DATABASE_OWNER_URL##*/}" != "$db" ]]; then
  export DATABASE_OWNER_URL="${DATABASE_OWNER_URL%/*}/$db"
fi
exec "$@"
