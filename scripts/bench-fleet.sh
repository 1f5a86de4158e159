#!/usr/bin/env bash
# Fleet benchmark (make bench-fleet): converges the site playbook for N = 1, 2, 4 and 8
# sender containers against one receiver, each N on fresh containers, then converges
# once more (the idempotent run). Prints, for each N, the wall time of both runs, the
# time per host and the tasks per host. Prints figures; asserts nothing about them.
#
# The containers are plain `docker run` ones with the flags of the Molecule scenarios
# (systemd as PID 1), named bfl-*, reached with the community.docker.docker connection;
# they are removed at the end. The first converge includes installing DCMTK from the
# Debian archive on every host.
#   BENCH_FLEET_SIZES  the sender counts (default "1 2 4 8")
#   BENCH_FLEET_IMAGE  the image of every container (default dicom-st-debian:12)
#   ANSIBLE_FORKS      hosts Ansible works on at once (Ansible's default: 5)
set -euo pipefail

cd "$(dirname "$0")/.."
SIZES=${BENCH_FLEET_SIZES:-1 2 4 8}
IMAGE=${BENCH_FLEET_IMAGE:-dicom-st-debian:12}
FORKS=${ANSIBLE_FORKS:-5}
NETWORK=bfl-net
RECEIVER=bfl-rx
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-fleet.XXXXXX")
RESULTS=$WORK/results.tsv

containers=()

remove_containers() {
  if [ "${#containers[@]}" -gt 0 ]; then
    docker rm -f "${containers[@]}" >/dev/null 2>&1 || true
  fi
  containers=()
}

cleanup() {
  remove_containers
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# systemd as PID 1 without --privileged, as in molecule/*/molecule.yml.
start_container() {
  local name=$1
  docker rm -f "$name" >/dev/null 2>&1 || true
  containers+=("$name")
  docker run --detach --name "$name" --hostname "$name" --network "$NETWORK" \
    --cap-add SYS_ADMIN --cgroupns host --volume /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --security-opt seccomp=unconfined \
    "$IMAGE" /lib/systemd/systemd >/dev/null
}

# "degraded" (exit status 1) only means a unit of the minimal image failed. Until
# systemd's bus is up, systemctl answers nothing.
wait_for_boot() {
  local name=$1 state="" try
  for try in $(seq 1 120); do
    state=$(docker exec "$name" systemctl is-system-running --wait 2>/dev/null || true)
    case "$state" in
      running | degraded) return 0 ;;
    esac
    [ "$try" -eq 120 ] || sleep 0.5
  done
  echo "bench-fleet: systemd in $name did not boot (${state:-no answer})" >&2
  exit 1
}

# One receiver and senders bfl-tx1..N, each with one destination: the receiver.
write_inventory() {
  local senders=$1 file=$2 i
  {
    echo "all:"
    echo "  vars:"
    echo "    ansible_connection: community.docker.docker"
    echo "    ansible_python_interpreter: /usr/bin/python3"
    echo "    # The image has no sudo; su from root to root asks for no password."
    echo "    ansible_become_method: su"
    echo "  children:"
    echo "    dicom_receivers:"
    echo "      hosts:"
    echo "        $RECEIVER: {storescp_aetitle: BENCHRX}"
    echo "    dicom_senders:"
    echo "      hosts:"
    for i in $(seq 1 "$senders"); do
      echo "        bfl-tx$i:"
      echo "          storescu_aetitle: BENCHTX$i"
      echo "          storescu_destinations: [{name: archive, receiver: $RECEIVER}]"
    done
  } >"$file"
}

# Runs the site playbook with the JSON callback; prints the wall time in seconds.
converge() {
  local inventory=$1 report=$2 start end
  start=$(date +%s.%N)
  if ! ANSIBLE_STDOUT_CALLBACK=ansible.posix.json ANSIBLE_FORKS=$FORKS \
    ANSIBLE_PIPELINING=1 ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
    ansible-playbook -i "$inventory" dicom.secure_transfer.site >"$report" 2>"$report.err"; then
    echo "bench-fleet: the site playbook failed:" >&2
    tail -20 "$report.err" >&2
    python3 - "$report" >&2 <<'EOF' || tail -c 3000 "$report" >&2
import json, sys
text = open(sys.argv[1]).read()
for play in json.loads(text[text.index("{"):])["plays"]:
    for task in play["tasks"]:
        for host, result in task["hosts"].items():
            if result.get("failed") or result.get("unreachable"):
                print("%s: %s: %s" % (host, task["task"]["name"], result.get("msg", "")))
EOF
    exit 1
  fi
  end=$(date +%s.%N)
  python3 -c "print('%.1f' % ($end - $start))"
}

# Per host from the recap: tasks = ok + skipped + failures (Ansible counts a changed
# task as ok too, so changed is not added). Prints "tasks_rx tasks_tx_mean changed".
tasks_per_host() {
  python3 - "$1" "$RECEIVER" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
stats = json.loads(text[text.index("{"):])["stats"]
tasks = {h: s["ok"] + s["skipped"] + s["failures"] for h, s in stats.items()}
senders = [n for h, n in tasks.items() if h != sys.argv[2]]
changed = sum(s["changed"] for s in stats.values())
print(tasks[sys.argv[2]], "%.1f" % (sum(senders) / len(senders)), changed)
EOF
}

echo "bench-fleet: forks $FORKS (ANSIBLE_FORKS; Ansible's default is 5), image $IMAGE," \
  "$(nproc) CPUs, $(ansible --version | head -1)"
docker network rm "$NETWORK" >/dev/null 2>&1 || true
docker network create "$NETWORK" >/dev/null

for senders in $SIZES; do
  hosts=$((senders + 1))
  echo "bench-fleet: N=$senders: starting $hosts fresh containers"
  start_container "$RECEIVER"
  for i in $(seq 1 "$senders"); do start_container "bfl-tx$i"; done
  for name in "${containers[@]}"; do wait_for_boot "$name"; done

  inventory=$WORK/inventory-$senders.yml
  write_inventory "$senders" "$inventory"
  echo "bench-fleet: N=$senders: first converge"
  first=$(converge "$inventory" "$WORK/first-$senders.json")
  read -r first_rx first_tx first_changed < <(tasks_per_host "$WORK/first-$senders.json")
  echo "bench-fleet: N=$senders: second converge (idempotent)"
  second=$(converge "$inventory" "$WORK/second-$senders.json")
  read -r second_rx second_tx second_changed < <(tasks_per_host "$WORK/second-$senders.json")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$senders" "$hosts" "$first" \
    "$first_rx" "$first_tx" "$first_changed" "$second" "$second_rx" "$second_tx" \
    "$second_changed" >>"$RESULTS"
  remove_containers
done

python3 - "$RESULTS" "$FORKS" <<'EOF'
import sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
print("bench-fleet: senders+1 receiver; tasks per host: receiver / mean of the senders;")
print("bench-fleet: changed: tasks that changed something, summed over the hosts")
print("%7s %5s | %9s %9s %11s %7s | %9s %9s %11s %7s" % (
    "senders", "hosts", "converge", "per host", "tasks/host", "changed",
    "2nd run", "per host", "tasks/host", "changed"))
for n, hosts, first, frx, ftx, fch, second, srx, stx, sch in rows:
    h = int(hosts)
    print("%7s %5s | %8.1fs %8.1fs %5s/%-5s %7s | %8.1fs %8.1fs %5s/%-5s %7s" % (
        n, hosts, float(first), float(first) / h, frx, ftx, fch,
        float(second), float(second) / h, srx, stx, sch))
EOF
