#!/usr/bin/env bash
# npm test: every check and test. Type check, lint and format; unit and integration tests
# (real Docker engine, the embedded S3 server and OpenStack Swift); jobs on a real 3-engine
# swarm (scripts/swarm-lab, started by the tests; needs root); Playwright in Chromium
# against the real console.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh test
bash scripts/install-deps.sh
echo "== type check";            npx tsc -p tsconfig.json
echo "== lint and format";       npx eslint . && npx prettier --check . --log-level warn
echo "== docker-compose.yml";    docker-compose -f docker-compose.yml config -q
echo "== unit and integration";  npx vitest run
echo "== engine faults";         npx vitest run --config apps/server/vitest.faults.config.ts
echo "== swarm (3 engines)";     npx vitest run --config apps/server/vitest.swarm.config.ts
echo "== build the console";     npx vite build --logLevel warn
echo "== end-to-end";            npx playwright test
