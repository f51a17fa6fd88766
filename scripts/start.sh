#!/usr/bin/env bash
# `npm start`: infrastructure (if missing), build, migrations, development keys and the demo
# registry, then all apps. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/require-node.sh
# The running system's database is `datarun` (the tests use `datarun_test`, the benchmark
# `datarun_bench`); DATARUN_DB_NAME picks another one.
export DATARUN_DB_NAME="${DATARUN_DB_NAME:-datarun}"
user_db_url="${DATABASE_OWNER_URL:-${DATABASE_URL:-}}"
bash deploy/local/up.sh
set -a; . ./.local/infra.env; set +a
# .local/infra.env is shared with `npm test` and `npm run bench`, which rewrite it for their own
# database: one of them running at the same moment must not point this start at theirs. Unless
# the URL was given, keep the server up.sh chose and name our database.
if [[ -z "$user_db_url" && "${DATABASE_OWNER_URL##*/}" != "$DATARUN_DB_NAME" ]]; then
  DATABASE_OWNER_URL="${DATABASE_OWNER_URL%/*}/$DATARUN_DB_NAME"
fi
echo "start: Node $(node --version)"
echo "start: database ${DATABASE_OWNER_URL##*/}, Kafka $KAFKA_BROKERS"
echo "start: building"
npx nest build gateway >/dev/null
node dist/scripts/migrate.js
node dist/scripts/seed-demo.js
echo "start: mint a token with: npm run -s token -- --member datarun.admin --key .local/keys/admin.key.pem"
exec node dist/scripts/run-apps.js
