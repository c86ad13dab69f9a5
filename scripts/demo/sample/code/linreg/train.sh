#!/bin/sh
# Demo training job: linear regression y = w*x + b by full-batch gradient descent.
#
# Needs only a POSIX sh and awk (busybox is enough), no network, and runs as any user
# (the console runs it as UID 1101). Follows the console's container contract:
#   input   every *.csv file under $DATA_DIR (default /home/work/data), header "x,y"
#   output  $OUTPUT_DIR/model.json (default /home/work/outputs): {"w","b","epochs","loss"}
#   logs    stdout ("epoch N/M loss=…" per epoch) and stderr (errors)
# Knobs (environment): EPOCHS (default 20), LR (default 0.2).
#
# x is standardised before training, so one learning rate suits any data scale; the model is
# converted back to the original units at the end. Loss is the mean squared error.
# The awk program avoids sqrt() and ^ (Debian's busybox awk is built without math support).
set -eu

DATA_DIR="${DATA_DIR:-/home/work/data}"
OUTPUT_DIR="${OUTPUT_DIR:-/home/work/outputs}"
EPOCHS="${EPOCHS:-20}"
LR="${LR:-0.2}"

die() {
  echo "train.sh: $*" >&2
  exit 1
}

case "$EPOCHS" in
  '' | *[!0-9]*) die "EPOCHS must be a positive integer, got '$EPOCHS'" ;;
esac
[ "$EPOCHS" -ge 1 ] || die "EPOCHS must be a positive integer, got '$EPOCHS'"
echo "$LR" | awk '{ exit !($0 ~ /^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/ && $0 + 0 > 0) }' ||
  die "LR must be a positive number, got '$LR'"

[ -d "$DATA_DIR" ] || die "no training data: the data directory $DATA_DIR does not exist"
mkdir -p "$OUTPUT_DIR" || die "cannot create the output directory $OUTPUT_DIR"

FILES=$(find "$DATA_DIR" -type f -iname '*.csv' | sort)
[ -n "$FILES" ] || die "no training data: no .csv files in $DATA_DIR"

echo "linreg: job ${MA_JOB_NAME:-local}${MA_JOB_VERSION:+ $MA_JOB_VERSION} node ${DLS_TASK_INDEX:-0}/${DLS_TASK_NUMBER:-1}"
echo "linreg: epochs=$EPOCHS lr=$LR data=$DATA_DIR output=$OUTPUT_DIR"
echo "$FILES" | while IFS= read -r f; do echo "linreg: reading $f"; done

MODEL="$OUTPUT_DIR/model.json"
TMP="$MODEL.tmp.$$"
trap 'rm -f "$TMP"' EXIT

# One stream of all files; every line that is not two numbers (headers, blanks) is skipped.
status=0
echo "$FILES" | while IFS= read -r f; do cat "$f"; echo; done | awk -F, \
  -v epochs="$EPOCHS" -v lr="$LR" -v model="$TMP" '
  function isnum(s) { return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
  {
    sub(/\r$/, "")
    gsub(/[ \t]/, "")
    if ($0 == "") next
    if (NF == 2 && isnum($1) && isnum($2)) { n++; x[n] = $1 + 0; y[n] = $2 + 0 }
    else if (!($1 == "x" && $2 == "y")) bad++
  }
  # No sqrt() or ^: some busybox builds have awk without math support.
  function root(v,   r, i) {
    if (v <= 0) return 0
    r = v > 1 ? v : 1
    for (i = 0; i < 200; i++) r = (r + v / r) / 2
    return r
  }
  function mse(   i, e, s) {
    s = 0
    for (i = 1; i <= n; i++) { e = ws * z[i] + bs - y[i]; s += e * e }
    return s / n
  }
  END {
    if (n == 0) exit 3
    if (bad) printf "linreg: skipped %d malformed line(s)\n", bad
    printf "linreg: %d samples\n", n

    for (i = 1; i <= n; i++) mx += x[i]
    mx /= n
    for (i = 1; i <= n; i++) sx += (x[i] - mx) * (x[i] - mx)
    sx = root(sx / n)
    if (sx == 0) sx = 1
    for (i = 1; i <= n; i++) z[i] = (x[i] - mx) / sx

    ws = 0; bs = 0
    loss0 = mse()
    for (ep = 1; ep <= epochs; ep++) {
      gw = 0; gb = 0
      for (i = 1; i <= n; i++) { e = ws * z[i] + bs - y[i]; gw += e * z[i]; gb += e }
      ws -= lr * 2 * gw / n
      bs -= lr * 2 * gb / n
      loss = mse()
      if (loss != loss || loss > 1e6 * (loss0 + 1)) { print "linreg: training diverged; lower LR" > "/dev/stderr"; exit 4 }
      printf "epoch %d/%d loss=%.6f\n", ep, epochs, loss
    }

    w = ws / sx
    b = bs - ws * mx / sx
    printf "{\"w\":%.6f,\"b\":%.6f,\"epochs\":%d,\"loss\":%.6f}\n", w, b, epochs, loss > model
    close(model)
  }' || status=$?

case "$status" in
  0) ;;
  3) die "no training data: the .csv files in $DATA_DIR have no x,y rows" ;;
  4) die "training diverged with LR=$LR" ;;
  *) die "training failed (awk exit $status)" ;;
esac

mv "$TMP" "$MODEL"
echo "linreg: model written to $MODEL"
cat "$MODEL"
