#!/usr/bin/env bash
# scripts/swift-s3/start.sh -- single-node OpenStack Swift (Debian 12 packages) serving
# the S3 API (s3api + tempauth) on 127.0.0.1, for integration tests.
# The project's own copy of the team's start-swift-s3.sh, so a fresh clone's tests
# need nothing outside the repository (apps/server/test/support/swift.ts runs it).
#
# Needs:  apt-get install -y --no-install-recommends \
#           swift swift-proxy swift-account swift-container swift-object
# Nothing is read from or written to /etc/swift; no memcached, no syslog, no
# systemd needed.
#
# Usage:  start.sh DIR [PORT]
#   DIR   working directory (created; config, rings, data, logs, pids go there;
#         previous config/data in DIR are wiped)
#   PORT  S3 endpoint port on 127.0.0.1 (default 8080)
# Optional env:
#   SWIFT_OBJ_PORT=6200 SWIFT_CONT_PORT=6201 SWIFT_ACCT_PORT=6202
#   SWIFT_S3_REGION=us-east-1  SWIFT_S3_ACCOUNT=test  SWIFT_S3_USER=tester
#   SWIFT_S3_SECRET=testing    SWIFT_S3_TIMEOUT=60 (s to wait for S3)
#   SWIFT_S3_MEMCACHE=1        also start a private memcached (Debian package
#                              memcached) on SWIFT_MEMCACHE_PORT=11211: not
#                              needed, but small requests get 2-3x faster
# Prints endpoint and keys; writes DIR/s3.env (source-able).
# Stop with:  stop.sh DIR [--purge]
#
# Client notes (Swift 2.30 s3api):
#  * path-style only (SDK v3: forcePathStyle: true); sign with region $REGION.
#  * aws-chunked uploads are refused (501): SDK v3 >= 3.729 uses them for
#    stream bodies unless requestChecksumCalculation: 'WHEN_REQUIRED' (or env
#    AWS_REQUEST_CHECKSUM_CALCULATION=when_required, which s3.env sets).
#  * DeleteObjects needs a Content-MD5 header, which new SDKs/CLIs no longer
#    send: add it with a middleware, or delete keys one by one.
#  * not implemented: object tagging, PutObject If-None-Match, SSE, ACL checks
#    (s3_acl = false), object lock; ListBuckets CreationDate is fixed (2009).
set -euo pipefail

DIR=${1:?usage: $0 DIR [PORT]}
PORT=${2:-${SWIFT_S3_PORT:-8080}}
OBJ_PORT=${SWIFT_OBJ_PORT:-6200}
CONT_PORT=${SWIFT_CONT_PORT:-6201}
ACCT_PORT=${SWIFT_ACCT_PORT:-6202}
REGION=${SWIFT_S3_REGION:-us-east-1}
ACCOUNT=${SWIFT_S3_ACCOUNT:-test}
USERNAME=${SWIFT_S3_USER:-tester}
SECRET=${SWIFT_S3_SECRET:-testing}
TIMEOUT=${SWIFT_S3_TIMEOUT:-60}
MEMCACHE=${SWIFT_S3_MEMCACHE:-0}
MC_PORT=${SWIFT_MEMCACHE_PORT:-11211}
ACCESS_KEY="${ACCOUNT}:${USERNAME}"
HERE=$(cd "$(dirname "$0")" && pwd)

for b in swift-proxy-server swift-account-server swift-container-server swift-object-server; do
  command -v "$b" >/dev/null || {
    echo "missing $b: apt-get install -y --no-install-recommends swift swift-proxy swift-account swift-container swift-object" >&2
    exit 1; }
done
# Swift's own interpreter: a pyenv/venv `python3` first on PATH has no swift module.
PY=$(sed -n '1s/^#! *//p' "$(command -v swift-proxy-server)")
PY=${PY:-/usr/bin/python3}

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
ETC=$DIR/etc RUN=$DIR/run LOG=$DIR/log DEV=$DIR/srv/node
for f in "$RUN"/*.pid; do
  [ -e "$f" ] || continue
  if kill -0 "$(cat "$f")" 2>/dev/null; then
    echo "already running ($f); run stop.sh $DIR first" >&2; exit 1
  fi
done
CHECK_PORTS="$PORT $OBJ_PORT $CONT_PORT $ACCT_PORT"
if [ "$MEMCACHE" = 1 ]; then
  command -v memcached >/dev/null || { echo "SWIFT_S3_MEMCACHE=1 but memcached is not installed" >&2; exit 1; }
  CHECK_PORTS="$CHECK_PORTS $MC_PORT"; MC_SERVERS=127.0.0.1:$MC_PORT
else
  # tempauth needs the cache filter but not a server; point it at a closed
  # port (refused at once) so it never shares someone else's memcached.
  MC_SERVERS=127.0.0.1:1
fi
for p in $CHECK_PORTS; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p on 127.0.0.1 is already in use" >&2; exit 1
  fi
done
rm -rf "$ETC" "$RUN" "$LOG" "$DIR/srv"
mkdir -p "$ETC" "$RUN" "$LOG" "$DEV/d1"
RUN_USER=$(id -un)

# ---- swift.conf: found through swift_dir, so /etc/swift/swift.conf is unused ----
cat > "$ETC/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = s3lab-suffix
swift_hash_path_prefix = s3lab-prefix

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
EOF

# ---- rings: 1 replica, one device d1, 2^6 partitions ----
# Same result as `swift-ring-builder X.builder create 6 1 1; ... add
# r1z1-127.0.0.1:PORT/d1 100; ... rebalance`, but in one Python process
# (~0.4 s instead of ~3.5 s for nine CLI calls).
"$PY" - "$ETC" "$ACCT_PORT" "$CONT_PORT" "$OBJ_PORT" <<'PYEOF'
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for kind, port in zip(('account', 'container', 'object'), sys.argv[2:5]):
    b = RingBuilder(6, 1, 1)      # part_power, replicas, min_part_hours
    b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1',
               'port': int(port), 'replication_ip': '127.0.0.1',
               'replication_port': int(port), 'device': 'd1', 'weight': 100,
               'meta': ''})
    b.rebalance()
    b.get_ring().save('%s/%s.ring.gz' % (etc, kind))
    b.save('%s/%s.builder' % (etc, kind))
PYEOF

# ---- account / container / object servers ----
write_backend() { # kind port
  cat > "$ETC/$1-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
# 0 = serve in this one process (no forked workers)
workers = 0
user = $RUN_USER
swift_dir = $ETC
devices = $DEV
mount_check = false
log_level = INFO

[pipeline:main]
pipeline = healthcheck $1-server

[app:$1-server]
use = egg:swift#$1

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
}
write_backend account "$ACCT_PORT"
write_backend container "$CONT_PORT"
write_backend object "$OBJ_PORT"

# ---- proxy with s3api + tempauth ----
cat > "$ETC/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PORT
workers = 0
user = $RUN_USER
swift_dir = $ETC
log_level = INFO

[pipeline:main]
# s3api before tempauth; slo after them (multipart upload); the cache
# (memcache) filter must be present or tempauth fails with 'Memcache required'
# -- a running memcached is NOT required. versioned_writes (with
# allow_object_versioning) + symlink give S3 bucket versioning.
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:tempauth]
use = egg:swift#tempauth
# S3 access key = "$ACCESS_KEY", secret = "$SECRET"
user_${ACCOUNT}_${USERNAME} = $SECRET .admin

[filter:s3api]
use = egg:swift#s3api
# Region clients must put in their SigV4 credential scope; also what
# GetBucketLocation reports (us-east-1 -> empty LocationConstraint).
location = $REGION
s3_acl = false
dns_compliant_bucket_names = true
allow_multipart_uploads = true
min_segment_size = 5242880
max_upload_part_num = 10000
allowable_clock_skew = 900

[filter:cache]
use = egg:swift#memcache
memcache_servers = $MC_SERVERS

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_object_versioning = true
[filter:symlink]
use = egg:swift#symlink
EOF

# ---- readiness probe: /healthcheck on every server, then a real
#      SigV4-signed S3 ListBuckets (stdlib only) ----
cat > "$ETC/s3probe.py" <<'PYEOF'
import datetime, hashlib, hmac, os, sys, time, urllib.request
port, region, ak, sk, timeout, ports, pids = sys.argv[1:8]
deadline = time.time() + float(timeout)


def alive():
    for pid in pids.split():
        try:
            os.kill(int(pid), 0)
        except OSError:
            sys.exit('process %s died during start-up' % pid)


def s3_list_buckets():
    host = '127.0.0.1:%s' % port
    now = datetime.datetime.now(datetime.timezone.utc)
    amzdate, day = now.strftime('%Y%m%dT%H%M%SZ'), now.strftime('%Y%m%d')
    ph = hashlib.sha256(b'').hexdigest()
    creq = '\n'.join(['GET', '/', '', 'host:' + host, 'x-amz-content-sha256:' + ph,
                      'x-amz-date:' + amzdate, '',
                      'host;x-amz-content-sha256;x-amz-date', ph])
    scope = '%s/%s/s3/aws4_request' % (day, region)
    sts = '\n'.join(['AWS4-HMAC-SHA256', amzdate, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = ('AWS4' + sk).encode()
    for m in (day, region, 's3', 'aws4_request'):
        k = hmac.new(k, m.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request('http://%s/' % host, headers={
        'x-amz-date': amzdate, 'x-amz-content-sha256': ph,
        'Authorization': 'AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders='
                         'host;x-amz-content-sha256;x-amz-date, Signature=%s'
                         % (ak, scope, sig)})
    return b'ListAllMyBucketsResult' in urllib.request.urlopen(req, timeout=5).read()


checks = [('healthcheck on :' + p, lambda p=p: urllib.request.urlopen(
    'http://127.0.0.1:%s/healthcheck' % p, timeout=2).status == 200)
    for p in ports.split()]
checks.append(('signed S3 ListBuckets on :' + port, s3_list_buckets))
last = None
for name, check in checks:
    while True:
        alive()
        try:
            if check():
                break
        except Exception as e:
            last = e
        if time.time() > deadline:
            sys.exit('timeout waiting for %s (%s)' % (name, last))
        time.sleep(0.1)
PYEOF

# ---- start (each server in the background; PIDs in DIR/run) ----
start() { # name cmd...
  local name=$1; shift
  nohup "$@" >"$LOG/$name.log" 2>&1 </dev/null &
  echo $! > "$RUN/$name.pid"
}
if [ "$MEMCACHE" = 1 ]; then
  start memcached memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 64 -u "$RUN_USER"
  # must listen before the proxy's first request, or the proxy error-limits
  # it (ignores it) for 60 s
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$MC_PORT") 2>/dev/null && break; sleep 0.1
  done
fi
# -v: log to the console (here DIR/log/*.log) as well; otherwise logs only go
# to syslog (/dev/log, or UDP 127.0.0.1:514 when /dev/log is missing).
start account-server   swift-account-server   "$ETC/account-server.conf"   -v
start container-server swift-container-server "$ETC/container-server.conf" -v
start object-server    swift-object-server    "$ETC/object-server.conf"    -v
start proxy-server     swift-proxy-server     "$ETC/proxy-server.conf"     -v

PIDS=$(cat "$RUN"/*.pid | tr '\n' ' ')
if ! "$PY" "$ETC/s3probe.py" "$PORT" "$REGION" "$ACCESS_KEY" "$SECRET" \
     "$TIMEOUT" "$ACCT_PORT $CONT_PORT $OBJ_PORT $PORT" "$PIDS"; then
  for f in "$LOG"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done
  if [ -f "$HERE/stop.sh" ]; then bash "$HERE/stop.sh" "$DIR" >/dev/null
  else for p in $PIDS; do kill "$p" 2>/dev/null || true; done; fi
  exit 1
fi

cat > "$DIR/s3.env" <<EOF
export S3_ENDPOINT=http://127.0.0.1:$PORT
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET
export AWS_REGION=$REGION
export AWS_DEFAULT_REGION=$REGION
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required
export AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
EOF
echo "S3 endpoint:       http://127.0.0.1:$PORT   (path-style only: forcePathStyle: true)"
echo "access key id:     $ACCESS_KEY"
echo "secret access key: $SECRET"
echo "region:            $REGION"
echo "env file:          $DIR/s3.env"
echo "logs:              $LOG    stop: $HERE/stop.sh $DIR"
