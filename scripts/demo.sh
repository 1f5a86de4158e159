#!/usr/bin/env bash
# A sender and a receiver as local systemd containers, provisioned by the collection's
# site playbook; one sample CT image goes from the sender's outbox to the receiver.
#
#   scripts/demo.sh          bring the pair up (or reuse it), send a sample, show it
#   scripts/demo.sh clean    remove the containers, their network and the inventory
#
# `make demo` and `make demo-clean` run these with the project's virtualenv. Running
# it again reuses the containers; the playbook then changes nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${DEMO_IMAGE:-dicom-st-debian:12}
NETWORK=dicom-demo
RX=dicom-demo-rx
TX=dicom-demo-tx
STATE=$ROOT/.build/demo
INVENTORY=$STATE/inventory.yml
OUTBOX=/srv/dicom/outbox/archive
INCOMING=/srv/dicom/incoming
WAIT_SECONDS=60

log() { printf '\n\033[1mdemo: %s\033[0m\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

clean() {
  for name in "$TX" "$RX"; do
    if docker container inspect "$name" >/dev/null 2>&1; then
      docker rm -f "$name" >/dev/null
      echo "demo: removed container $name"
    fi
  done
  if docker network inspect "$NETWORK" >/dev/null 2>&1; then
    docker network rm "$NETWORK" >/dev/null
    echo "demo: removed network $NETWORK"
  fi
  rm -rf "$STATE"
}

check_tools() {
  command -v docker >/dev/null || die "docker is missing; run 'make docker' first"
  docker info >/dev/null 2>&1 || die "no Docker engine answers; run 'make docker' first"
  docker image inspect "$IMAGE" >/dev/null 2>&1 \
    || die "image $IMAGE is missing; run 'make images' first"
  command -v ansible-playbook >/dev/null \
    || die "ansible-playbook is missing; run 'make venv' and use 'make demo'"
  export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$ROOT/.build/collections}
  ansible-doc -t module dicom.secure_transfer.tls_identity >/dev/null 2>&1 \
    || die "the collection is not on ANSIBLE_COLLECTIONS_PATH; run 'make collection-link'"
}

# The settings that let systemd run as PID 1 without --privileged.
start_container() {
  local name=$1
  if docker container inspect "$name" >/dev/null 2>&1; then
    if [ "$(docker container inspect -f '{{.State.Running}}' "$name")" != true ]; then
      docker start "$name" >/dev/null
    fi
    echo "demo: reusing container $name"
    return
  fi
  docker run -d --name "$name" --hostname "$name" --network "$NETWORK" \
    --cap-add SYS_ADMIN --cgroupns host --security-opt seccomp=unconfined \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    --label dicom-secure-transfer=demo \
    "$IMAGE" /lib/systemd/systemd >/dev/null
  echo "demo: started container $name ($IMAGE)"
}

wait_for_systemd() {
  local name=$1 state
  state=$(docker exec "$name" systemctl is-system-running --wait 2>/dev/null || true)
  case "$state" in
    running|degraded) ;;
    *) die "systemd in $name did not boot (state: ${state:-none})" ;;
  esac
}

write_inventory() {
  mkdir -p "$STATE"
  cat >"$INVENTORY" <<EOF
# Written by scripts/demo.sh: the demo pair, reached through 'docker exec'.
all:
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
    # The demo images have no sudo; su from root to root asks for no password.
    ansible_become_method: su
dicom_receivers:
  hosts:
    $RX:
      storescp_aetitle: RECEIVER
      storescp_port: 2762
      storescp_output_dir: $INCOMING
dicom_senders:
  hosts:
    $TX:
      storescu_aetitle: SENDER
      storescu_destinations:
        - name: archive
          receiver: $RX
          outbox: $OUTBOX
EOF
}

# Make one image on the sender outside the outbox, then rename it in: the producer
# contract (a half-written file must never be seen in an outbox).
send_sample() {
  docker exec "$TX" mkdir -p /var/tmp/demo
  docker cp "$ROOT/tests/tools/make_dicom.py" "$TX:/var/tmp/demo/make_dicom.py" >/dev/null
  local stage
  stage=/var/tmp/demo/$(date +%s)
  SAMPLE_UID=$(docker exec "$TX" python3 /var/tmp/demo/make_dicom.py --out "$stage" \
    --count 1 --rows 512 --cols 512 --prefix sample- 2>/dev/null)
  docker exec "$TX" sh -c "mv $stage/*.dcm $OUTBOX/ && rmdir $stage"
  echo "demo: dropped a 512x512 CT image into $TX:$OUTBOX"
  echo "demo: SOP Instance UID $SAMPLE_UID"
}

# Arrived: a file under the output directory that DCMTK reads whole, with that UID.
arrived() {
  local file
  for file in $(docker exec "$RX" grep -rlF -- "$SAMPLE_UID" "$INCOMING" 2>/dev/null); do
    if docker exec "$RX" dcmdump -q +P SOPInstanceUID "$file" 2>/dev/null \
        | grep -qF "[$SAMPLE_UID]"; then
      ARRIVED=$file
      return 0
    fi
  done
  return 1
}

wait_for_arrival() {
  local waited=0
  ARRIVED=""
  until arrived; do
    [ "$waited" -lt "$WAIT_SECONDS" ] || break
    sleep 1
    waited=$((waited + 1))
  done
  [ -n "$ARRIVED" ] || die "the image did not arrive within ${WAIT_SECONDS}s; see
  docker exec $TX journalctl -u 'dicom-send@archive.*' --no-pager
  docker exec $RX journalctl -t storescp --no-pager"
  echo "demo: arrived after ${waited}s"
}

show_arrival() {
  log "on the receiver: ls -l $INCOMING"
  docker exec "$RX" ls -l "$INCOMING"
  log "on the receiver: dcmdump of the key tags of $ARRIVED"
  docker exec "$RX" dcmdump -q +P SOPClassUID +P SOPInstanceUID +P StudyInstanceUID \
    +P PatientName +P Modality +P Rows +P Columns +P SourceApplicationEntityTitle \
    "$ARRIVED"
}

show_next_steps() {
  cat <<EOF

The pair keeps running. Look inside:
  docker exec -it $TX bash
  docker exec -it $RX bash
  docker exec $RX systemctl status dicom-storescp.service
  docker exec $RX journalctl -t storescp -f
  docker exec $TX systemctl list-units 'dicom-send@*'
  docker exec $TX journalctl -u 'dicom-send@archive.*' -f
  docker exec $TX ls -R /var/lib/dicom-send/archive

Check every link with a C-ECHO over TLS:
  ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH \\
    $(command -v ansible-playbook) -i $INVENTORY dicom.secure_transfer.verify

Send more: put DICOM files into $TX:$OUTBOX (write them elsewhere first,
then rename them in), or run 'make demo' again.
Tear down: make demo-clean (or scripts/demo.sh clean)
EOF
}

main() {
  case "${1:-up}" in
    clean) clean; return ;;
    up) ;;
    *) die "usage: $0 [up|clean]" ;;
  esac

  check_tools
  log "containers"
  docker network inspect "$NETWORK" >/dev/null 2>&1 \
    || docker network create --label dicom-secure-transfer=demo "$NETWORK" >/dev/null
  start_container "$RX"
  start_container "$TX"
  wait_for_systemd "$RX"
  wait_for_systemd "$TX"
  write_inventory

  log "ansible-playbook -i $INVENTORY dicom.secure_transfer.site"
  ansible-playbook -i "$INVENTORY" dicom.secure_transfer.site

  log "a sample image through the pair"
  send_sample
  wait_for_arrival
  show_arrival
  show_next_steps
}

main "$@"
