#!/usr/bin/env bash
# `npm start`: infrastructure (if missing), build, migrations, development keys and the demo
# registry, then all apps. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/local/up.sh
set -a; . ./.local/infra.env; set +a
echo "start: building"
npx nest build gateway >/dev/null
node dist/scripts/migrate.js
node dist/scripts/seed-demo.js
echo "start: mint a token with: npm run token -- --member datarun.admin --key .local/keys/admin.key.pem"
exec node dist/scripts/run-apps.js
