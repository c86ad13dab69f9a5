#!/usr/bin/env bash
# scripts/swift-s3/stop.sh DIR [--purge] -- stop what start.sh DIR started
# (by the PIDs it recorded in DIR/run), optionally delete DIR's data.
set -uo pipefail
DIR=${1:?usage: $0 DIR [--purge]}
RUN=$DIR/run
pids=()
for f in "$RUN"/*.pid; do
  [ -e "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  fi
  rm -f "$f"
done
for _ in $(seq 1 50); do          # up to 5 s for a clean exit
  alive=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
  [ ${#alive[@]} -eq 0 ] && break
  sleep 0.1
done
for pid in "${alive[@]:-}"; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; done
echo "stopped ${#pids[@]} process(es)"
if [ "${2:-}" = "--purge" ]; then rm -rf "$DIR"; echo "removed $DIR"; fi
