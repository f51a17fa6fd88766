#!/usr/bin/env bash
# `npm test`: infrastructure (if missing), type-check, lint, then the whole suite against the real
# PostgreSQL and Kafka. Tests isolate themselves by schema and topic names; the fault tests,
# which stop brokers of their own, run afterwards one at a time. Last line: `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/require-node.sh
export DATARUN_DB_NAME="${DATARUN_DB_NAME:-datarun_test}"
bash deploy/local/up.sh
set -a; . ./.local/infra.env; set +a
export NODE_ENV=test LOG_LEVEL="${LOG_LEVEL:-silent}"
export NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning ${NODE_OPTIONS:-}"
mkdir -p .local/test-results
rm -f .local/test-results/*.json

status=0
echo "test: Node $(node --version) ($(command -v node))"
echo "test: type-check"
npx tsc -p tsconfig.json --noEmit || status=1
echo "test: lint (boundaries, floating promises)"
npx eslint . || status=1
echo "test: format (Prettier; npx prettier --write . fixes it)"
npx prettier --check --log-level warn . || status=1
echo "test: OpenAPI lint (Redocly; redocly.yaml)"; REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx redocly lint --format=stylish docs/openapi/*.json || status=1
npx jest --selectProjects unit e2e --maxWorkers=2 --json --outputFile=.local/test-results/main.json "$@" || status=1
echo "test: build (the fault tests run apps as processes and kill them)"
npx nest build gateway >/dev/null || status=1
# No --forceExit: Jest must exit by itself once every handle is closed (a kafkajs consumer that
# restarted after shutdown kept it alive; KafkaMessaging now stops restarts of a closed client).
npx jest --selectProjects fault --runInBand --json --outputFile=.local/test-results/fault.json "$@" || status=1
node scripts/test-summary.mjs .local/test-results/main.json .local/test-results/fault.json
exit $status
