#!/usr/bin/env bash
# npm start: the console on embedded defaults (SQLite and an S3-compatible store under ./data,
# the local Docker engine) with the demo image, code and data ready.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh start
bash scripts/install-deps.sh
npx vite build --logLevel warn
exec npx tsx apps/server/src/main.ts --demo
