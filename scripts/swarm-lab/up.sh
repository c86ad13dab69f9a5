#!/usr/bin/env bash
# Copied from the team tool ../shared/tools/swarm-lab so a clean clone (CI) has it; see README.md here.
# up.sh [NODES] [DIR] -- a real multi-host Docker Swarm on this one machine: NODES Docker engines
# (default 3), each in its own network namespace with its own IP, data root and socket, joined by
# a Linux bridge; node 1 is the manager. Beside them a real image registry (Debian's
# docker-registry) that every node can pull from. Needs root, dockerd (docker.io) and
# docker-registry (apt). Prints the variables to reach it; down.sh DIR tears it all down.
set -euo pipefail
nodes=${1:-3}
dir=${2:-/tmp/swarm-lab}
net=${SWARM_LAB_NET:-10.231.0}          # /24 on the bridge; .1 is the host side
br=${SWARM_LAB_BRIDGE:-swlab0}
reg="$net.1:5000"
mkdir -p "$dir"

command -v dockerd >/dev/null || { echo "dockerd missing: apt-get install -y docker.io" >&2; exit 1; }
command -v docker-registry >/dev/null || { echo "docker-registry missing: apt-get install -y docker-registry" >&2; exit 1; }

ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge
ip addr show "$br" | grep -q "$net.1/" || ip addr add "$net.1/24" dev "$br"
ip link set "$br" up
# The host engine sets FORWARD to DROP; let the lab's nodes talk to each other across the bridge.
if iptables -L DOCKER-USER >/dev/null 2>&1; then
  iptables -C DOCKER-USER -i "$br" -o "$br" -j ACCEPT 2>/dev/null || iptables -I DOCKER-USER -i "$br" -o "$br" -j ACCEPT
else
  iptables -C FORWARD -i "$br" -o "$br" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$br" -o "$br" -j ACCEPT
fi

# The registry, on the bridge address (plain HTTP; the nodes list it as insecure).
if ! curl -fsS "http://$reg/v2/" >/dev/null 2>&1; then
  mkdir -p "$dir/registry"
  cat >"$dir/registry/config.yml" <<YML
version: 0.1
storage:
  filesystem: { rootdirectory: $dir/registry/data }
  delete: { enabled: true }
http: { addr: "$reg" }
YML
  (setsid docker-registry serve "$dir/registry/config.yml" >"$dir/registry/log" 2>&1 & echo $! >"$dir/registry/pid")
  for _ in $(seq 1 50); do curl -fsS "http://$reg/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
fi

sock() { echo "unix://$dir/node$1/docker.sock"; }
for i in $(seq 1 "$nodes"); do
  ns=swlab-node$i; ip=$net.$((10 + i)); d=$dir/node$i
  ip netns list | grep -qw "$ns" || ip netns add "$ns"
  if ! ip netns exec "$ns" ip link show eth0 >/dev/null 2>&1; then
    ip link add "swlab$i" type veth peer name eth0 netns "$ns"
    ip link set "swlab$i" master "$br"; ip link set "swlab$i" up
    ip netns exec "$ns" ip addr add "$ip/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip route add default via "$net.1"
  fi
  mkdir -p "$d"
  if ! docker -H "$(sock "$i")" info >/dev/null 2>&1; then
    # nsenter, not `ip netns exec`: the latter remounts /sys and hides the cgroup mount from dockerd.
    # unshare --uts: each node has a hostname of its own, as separate hosts would.
    (nsenter --net="/var/run/netns/$ns" unshare --uts sh -c "hostname swlab-node$i; exec setsid dockerd \
      --data-root '$d/data' --exec-root '$d/exec' --pidfile '$d/dockerd.pid' -H '$(sock "$i")' \
      --insecure-registry '$reg' --cgroup-parent swlab-node$i.slice" >"$d/dockerd.log" 2>&1 &)
  fi
done
for i in $(seq 1 "$nodes"); do
  for _ in $(seq 1 120); do docker -H "$(sock "$i")" info >/dev/null 2>&1 && break; sleep 0.5; done
  docker -H "$(sock "$i")" info >/dev/null 2>&1 || { echo "node$i's engine did not start: $dir/node$i/dockerd.log" >&2; exit 1; }
done

m="docker -H $(sock 1)"
[ "$($m info --format '{{.Swarm.LocalNodeState}}')" = active ] || $m swarm init --advertise-addr "$net.11" >/dev/null
token=$($m swarm join-token -q worker)
for i in $(seq 2 "$nodes"); do
  w="docker -H $(sock "$i")"
  [ "$($w info --format '{{.Swarm.LocalNodeState}}')" = active ] || $w swarm join --token "$token" "$net.11:2377" >/dev/null 2>&1 || true
done
for _ in $(seq 1 60); do
  [ "$($m node ls --format '{{.Status}}' | grep -c Ready)" = "$nodes" ] && break; sleep 0.5
done
$m node ls
cat <<TXT

Swarm lab up: $nodes nodes, manager node1.
  export DOCKER_HOST=$(sock 1)          # the manager's API (swarm services, nodes, tasks)
  node i's own engine: unix://$dir/node<i>/docker.sock, address $net.<10+i>
  registry: $reg (plain HTTP; every node trusts it). Push from the manager:
    docker -H $(sock 1) tag IMAGE $reg/NAME:TAG && docker -H $(sock 1) push $reg/NAME:TAG
Tear down: $(dirname "$0")/down.sh $dir
TXT
