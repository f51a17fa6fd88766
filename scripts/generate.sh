#!/usr/bin/env bash
# `npm run generate`: every committed file that is made from the code, in dependency order: the
# OpenAPI documents (docs/openapi/, from the controllers), the client's types
# (libs/client/src/generated/, from those documents) and the generated parts of docs/ (from the
# documents, the config schema, the problem codes and the recorded benchmark). `npm test` fails,
# naming this command, when any of them is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/require-node.sh
# The exporter runs from the build (Nest's decorators need it). A new route that the CLI already
# calls fails type-checking until the client types are regenerated below, but tsc still emits, so
# carry on: the type-check at the end is the one that counts.
npx nest build gateway >/dev/null 2>&1 || echo "generate: the build reported type errors (stale client types?); type-checking again at the end" >&2
node dist/scripts/openapi-export.js
node --experimental-strip-types --no-warnings=ExperimentalWarning libs/client/codegen/generate.ts
node --experimental-transform-types --no-warnings=ExperimentalWarning --import ./scripts/ts-hooks.mjs scripts/docs.ts
npx tsc -p tsconfig.json --noEmit
echo "generate: done; commit what changed"
