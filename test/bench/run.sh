#!/usr/bin/env bash
# `npm run bench [-- --people 1000000 ...]`: PostgreSQL and Kafka (if missing) with the dedicated
# database datarun_bench, a build, then test/bench/bench.ts from dist (it starts the apps it needs
# when they are not answering and stops them at the end). Not part of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/require-node.sh
# --help: the options, without infrastructure (and without a build when one is there).
for arg in "$@"; do
  if [[ "$arg" == --help || "$arg" == -h ]]; then
    [[ -f dist/test/bench/bench.js ]] || npx nest build gateway >/dev/null
    exec node dist/test/bench/bench.js --help
  fi
done
export DATARUN_DB_NAME="${DATARUN_DB_NAME:-datarun_bench}"
# up.sh rewrites .local/infra.env for the database it was given; keep the bench's settings to
# this run and put back what `npm start`/`npm test` wrote before.
saved=""
if [[ -f .local/infra.env ]]; then saved="$(mktemp)"; cp .local/infra.env "$saved"; fi
bash deploy/local/up.sh
set -a; . ./.local/infra.env; set +a
if [[ -n "$saved" ]]; then cp "$saved" .local/infra.env; rm -f "$saved"; fi
echo "bench: building"
npx nest build gateway >/dev/null
exec node dist/test/bench/bench.js "$@"
