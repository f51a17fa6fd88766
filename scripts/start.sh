#!/usr/bin/env bash
# `npm start`: infrastructure (if missing), build, migrations, development keys, then all apps.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/local/up.sh
set -a; . ./.local/infra.env; set +a
echo "start: building"
npx nest build gateway >/dev/null
node dist/scripts/migrate.js
exec node dist/scripts/run-apps.js
