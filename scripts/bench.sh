#!/usr/bin/env bash
# Benchmark (make bench): 400 synthetic 512x512 16-bit CT images (~200 MB) from a sender
# container to a receiver container over mutual TLS, on the Molecule scenario 'delivery'.
#   (a) the manual recipe: one storescu call, default settings, into a single-process
#       storescp started with the manual's options (no TCP_NODELAY);
#   (b) the send job with the collection's defaults, from the moment the files are
#       renamed into the outbox to the moment the last one is on the receiver's disk.
# Then the latency of one file. Prints figures; asserts nothing about them.
# BENCH_KEEP=1 leaves the containers running, BENCH_CONVERGE=0 uses them as they are;
# BENCH_COUNT changes the number of images.
set -euo pipefail

cd "$(dirname "$0")/.."
SCENARIO=delivery
TX=dlv-tx
RX=dlv-rx
COUNT=${BENCH_COUNT:-400}
TOOLS=/usr/local/lib/dicom-st-tests
WORK=/var/tmp/dicom-bench
OUTBOX=/srv/dicom/outbox/archive
INCOMING=/srv/dicom/incoming
MANUAL_DIR=$WORK/manual
MANUAL_PORT=13000

tx() { docker exec "$TX" "$@"; }
rx() { docker exec "$RX" "$@"; }

cleanup() {
  if [ "${BENCH_KEEP:-0}" != 1 ]; then
    molecule destroy -s "$SCENARIO" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

echo "bench: converging the scenario '$SCENARIO' (two containers)"
converge_log="${TMPDIR:-/tmp}/dicom-bench-converge.log"
[ "${BENCH_CONVERGE:-1}" = 0 ] || molecule converge -s "$SCENARIO" >"$converge_log" 2>&1 || {
  tail -40 "$converge_log"
  exit 1
}

echo "bench: writing $COUNT images twice on $TX"
tx rm -rf "$WORK"
for set in a b; do
  tx python3 "$TOOLS/make_dicom.py" --out "$WORK/$set" --count "$COUNT" \
    --rows 512 --cols 512 --seed "bench-$set-$$" --prefix "$set-" >/dev/null
done
BYTES=$(tx sh -c "cat $WORK/a/* | wc -c")

# Waits on the receiver until DIR holds N more files than now; prints the time then.
# Prints "ready" first, so that the caller starts the clock after the count is taken.
# shellcheck disable=SC2016  # expanded by the receiver's shell, not this one
watch_script='dir=$1; n=$2; before=$(ls -1 "$dir" | wc -l); echo ready;
  while [ $(ls -1 "$dir" | wc -l) -lt $((before + n)) ]; do sleep 0.01; done; date +%s.%N'

# Runs the watcher on the receiver in the background; its output goes to FILE.
start_watch() {
  local dir=$1 n=$2 file=$3
  docker exec "$RX" sh -c "$watch_script" sh "$dir" "$n" >"$file" &
  until grep -q ready "$file" 2>/dev/null; do sleep 0.05; done
}


# (a) The manual recipe.
echo "bench: (a) the manual recipe, one storescu call into storescp on port $MANUAL_PORT"
rx rm -rf "$MANUAL_DIR"
rx install -d "$MANUAL_DIR"
rx systemd-run --quiet --unit dicom-bench-manual --collect \
  storescp +xa +uf -od "$MANUAL_DIR" --aetitle receiver "$MANUAL_PORT" -fe .dcm \
  +tls /etc/dicom-tls/host.key /etc/dicom-tls/host.crt +cf /etc/dicom-tls/trusted-senders.pem
sleep 1
start_ms=$(date +%s%N)
tx sh -c "cd $WORK/a && storescu $RX $MANUAL_PORT ./* \
  +tls /etc/dicom-tls/host.key /etc/dicom-tls/host.crt \
  +cf /etc/dicom-tls/destinations/archive.pem -aet sender"
end_ms=$(date +%s%N)
rx systemctl stop dicom-bench-manual
arrived_a=$(rx sh -c "ls -1 $MANUAL_DIR | wc -l")
seconds_a=$(python3 -c "print(($end_ms - $start_ms) / 1e9)")

# (b) The send job with the collection's defaults.
echo "bench: (b) the send job, $COUNT files renamed into its outbox"
watch_file=$(mktemp)
start_watch "$INCOMING" "$COUNT" "$watch_file"
watcher=$!
start_b=$(tx date +%s.%N)
tx sh -c "mv $WORK/b/* $OUTBOX/"
wait "$watcher"
end_b=$(tail -1 "$watch_file")
seconds_b=$(python3 -c "print($end_b - $start_b)")

# One file, written by its producer just before it is renamed into the outbox (it waits
# storescu_settle_seconds), and one written a while before.
latency() {
  local label=$1 age=$2
  tx python3 "$TOOLS/make_dicom.py" --out "$WORK/$label" --count 1 --rows 512 --cols 512 \
    --prefix "$label-" >/dev/null
  sleep "$age"
  start_watch "$INCOMING" 1 "$watch_file"
  local pid=$! start end
  start=$(tx date +%s.%N)
  tx sh -c "mv $WORK/$label/* $OUTBOX/"
  wait "$pid"
  end=$(tail -1 "$watch_file")
  python3 -c "print('%.2f' % ($end - $start))"
}
sleep 2
latency_fresh=$(latency one-fresh 0)
latency_old=$(latency one-old 3)
rm -f "$watch_file"

settings=$(tx python3 -c "import json; c = json.load(open('/etc/dicom-send/archive.json'));
print('parallel %s, batch %s, max PDU %s, settle %s s'
      % (c['parallel'], c['batch_size'], c['max_pdu'], c['settle_seconds']))")
python3 - "$BYTES" "$seconds_a" "$seconds_b" "$COUNT" "$arrived_a" <<'EOF'
import sys
size, a, b, count, arrived = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), \
    sys.argv[4], sys.argv[5]
mb = size / 1e6
print("bench: %s images, %.1f MB, mutual TLS, container to container" % (count, mb))
print("bench: (a) manual recipe: %6.2f s  %7.1f MB/s  (%s files arrived)" % (a, mb / a, arrived))
print("bench: (b) send job:      %6.2f s  %7.1f MB/s" % (b, mb / b))
print("bench: ratio (b)/(a):     %6.1fx" % (a / b))
EOF
echo "bench: job settings: $settings"
echo "bench: one file, written just before its rename: $latency_fresh s"
echo "bench: one file, written 3 s before its rename:  $latency_old s"
