#!/usr/bin/env bash
# ensure-system.sh start|test -- makes sure what the console (start) or the test suite (test)
# needs from the system is installed and running: Node 20, the Docker engine, busybox-static
# (the demo and test images are built from it offline), and for tests Chromium, OpenStack
# Swift and docker-compose (to validate docker-compose.yml). As root it installs and starts what is missing; otherwise it says exactly what to run.
set -euo pipefail
want=${1:-start}

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need_pkgs+=(busybox-static)
if [ "$want" = test ]; then
  command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
  command -v swift-proxy-server >/dev/null 2>&1 || need_pkgs+=(swift swift-proxy swift-account swift-container swift-object)
  command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
  # The swarm tests' registry (scripts/swarm-lab): the nodes pull job images from it.
  command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

as_root() { [ "$(id -u)" = 0 ]; }

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if as_root; then
    echo "installing: ${need_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "Missing system packages. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${need_pkgs[*]}" >&2
    exit 1
  fi
fi

if ! docker info >/dev/null 2>&1; then
  if as_root; then
    echo "starting the Docker engine (log: /var/log/dockerd.log)"
    # apt's policy does not start services in containers and CI; start the daemon directly.
    (setsid dockerd >/var/log/dockerd.log 2>&1 &)
    for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { echo "the Docker engine did not start; see /var/log/dockerd.log" >&2; exit 1; }
  else
    echo "The Docker engine is not running or not reachable by $(id -un). Start it and allow access:" >&2
    echo "  sudo systemctl start docker   # or: sudo dockerd &" >&2
    echo "  sudo usermod -aG docker $(id -un) && newgrp docker" >&2
    exit 1
  fi
fi
