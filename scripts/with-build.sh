#!/usr/bin/env bash
# Runs a command from the build, building first when there is none, with the local
# infrastructure's addresses when `npm start`/`npm test` wrote them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d dist/scripts ] || npx nest build gateway >/dev/null
if [ -f .local/infra.env ]; then set -a; . ./.local/infra.env; set +a; fi
exec "$@"
