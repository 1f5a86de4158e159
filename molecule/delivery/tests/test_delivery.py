# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delivery under failure: nothing is lost, nothing arrives twice, a bad file waits in
quarantine with its reason, and eight send jobs share one receiver."""

import collections
import json
import shlex
import time

import pytest
from dicomtest import (
    STORESCP_SERVICE,
    TOOLS,
    assert_intact,
    check,
    drop,
    make_images,
    run,
    wait_for_arrival,
    wait_until_gone,
)

SENDER = "dlv-tx"
RECEIVER = "dlv-rx"
STATE_ROOT = "/var/lib/dicom-send"


@pytest.fixture(scope="module")
def tx(hosts):
    return hosts(SENDER)


@pytest.fixture(scope="module")
def rx(hosts):
    return hosts(RECEIVER)


@pytest.fixture(scope="module")
def output_dir(topology):
    return topology.receivers[RECEIVER].output_dir


@pytest.fixture(scope="module")
def outboxes(topology):
    return {d.name: d.outbox for d in topology.senders[SENDER].destinations}


def status(host, name):
    result = run(host, ["cat", "%s/%s/status.json" % (STATE_ROOT, name)])
    return json.loads(result.stdout) if result.rc == 0 else {}


def wait_for_status(host, name, result, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        current = status(host, name)
        if current.get("result") == result or time.monotonic() > deadline:
            return current
        time.sleep(1)


def copies_on_disk(host, output_dir, uids):
    """How many files of the output directory hold each SOP Instance UID."""
    result = run(host, ["python3", TOOLS + "/dicom_summary.py", output_dir])
    counts = collections.Counter()
    for line in result.stdout.splitlines():
        item = json.loads(line)
        if item.get("sop_instance_uid") in uids:
            counts[item["sop_instance_uid"]] += 1
    return counts


def broken_files(host, output_dir):
    """Files of the output directory that are not complete DICOM images."""
    result = run(host, ["python3", TOOLS + "/dicom_summary.py", output_dir])
    return [item for item in map(json.loads, result.stdout.splitlines()) if "error" in item]


def stores_logged(host, since, uids):
    """How often storescp logged storing each UID since a time (journalctl --since)."""
    out = check(host, ["journalctl", "--no-pager", "-q", "-o", "cat", "-t", "storescp",
                       "--since", since])
    counts = collections.Counter()
    for line in out.splitlines():
        if "storing DICOM file" in line:
            for uid in uids:
                if uid in line:
                    counts[uid] += 1
    return counts


def now_on(host):
    return check(host, ["date", "+%Y-%m-%d %H:%M:%S"]).strip()


def names_of(paths):
    return [path.rsplit("/", 1)[1] for path in paths]


def test_receiver_down_while_files_wait_loses_nothing(tx, rx, output_dir, outboxes):
    paths, expected = make_images(tx, 50, rows=64, cols=64)
    since = now_on(rx)
    check(rx, ["systemctl", "stop", STORESCP_SERVICE])
    try:
        drop(tx, paths, outboxes["archive"])
        waiting = wait_for_status(tx, "archive", "retrying")
        assert waiting.get("result") == "retrying", waiting
        assert waiting["waiting"] == 50, waiting
        present = check(tx, ["ls", "-1A", outboxes["archive"]]).split()
        assert sorted(present) == sorted(names_of(paths)), "the outbox lost files"
        assert not copies_on_disk(rx, output_dir, expected)
    finally:
        check(rx, ["systemctl", "start", STORESCP_SERVICE])

    # The retry timer (30 s after the failed run) takes them, without any help.
    arrived = wait_for_arrival(rx, output_dir, expected)
    assert_intact(expected, arrived)
    assert not wait_until_gone(tx, outboxes["archive"], names_of(paths))
    assert set(copies_on_disk(rx, output_dir, expected).values()) == {1}
    stored = stores_logged(rx, since, expected)
    assert sorted(stored) == sorted(expected) and set(stored.values()) == {1}, stored
    done = wait_for_status(tx, "archive", "ok")
    assert done["failed_runs_in_a_row"] == 0 and done["totals"]["failed_runs"] >= 1


def test_corrupt_file_is_quarantined_and_the_good_ones_arrive(tx, rx, output_dir, outboxes):
    outbox = outboxes["lane1"]
    paths, expected = make_images(tx, 5, rows=64, cols=64)
    staging = paths[0].rsplit("/", 1)[0]
    check(tx, ["sh", "-c", "echo 'not an image' > %s/notes.dcm" % shlex.quote(staging)])
    check(tx, ["sh", "-c", "head -c 400 %s > %s/truncated.dcm"
               % (shlex.quote(paths[0]), shlex.quote(staging))])
    bad = [staging + "/notes.dcm", staging + "/truncated.dcm"]
    drop(tx, paths[:2] + bad + paths[2:], outbox)

    assert_intact(expected, wait_for_arrival(rx, output_dir, expected))
    assert not wait_until_gone(tx, outbox, names_of(paths + bad))
    quarantine = "%s/lane1/quarantine" % STATE_ROOT
    reasons = {
        name: check(tx, ["cat", "%s/%s.reason" % (quarantine, name)])
        for name in ("notes.dcm", "truncated.dcm")
    }
    assert "not a DICOM file" in reasons["notes.dcm"]
    assert "storescu cannot read it" in reasons["truncated.dcm"], reasons
    assert status(tx, "lane1")["last_run"]["quarantined"] >= 1


def test_storescp_killed_mid_batch_restarts_and_every_file_arrives(
    tx, rx, output_dir, outboxes
):
    outbox = outboxes["lane2"]
    paths, expected = make_images(tx, 300)
    restarts = int(check(rx, ["systemctl", "show", "-P", "NRestarts", STORESCP_SERVICE]))
    # On the receiver: as soon as the first new image is on disk, SIGKILL storescp and
    # every association process it forked.
    watcher = (
        "before=$(ls -1 {d} | wc -l); "
        "while [ $(ls -1 {d} | wc -l) -le $before ]; do sleep 0.05; done; "
        "systemctl kill -s KILL {unit}; echo killed > /run/dlv-killed"
    ).format(d=shlex.quote(output_dir), unit=STORESCP_SERVICE)
    check(rx, ["rm", "-f", "/run/dlv-killed"])
    check(rx, ["systemd-run", "--unit", "dlv-killer", "--collect", "sh", "-c", watcher])
    drop(tx, paths, outbox)

    arrived = wait_for_arrival(rx, output_dir, expected, timeout=150)
    assert check(rx, ["cat", "/run/dlv-killed"]).strip() == "killed"
    after = int(check(rx, ["systemctl", "show", "-P", "NRestarts", STORESCP_SERVICE]))
    assert after > restarts, "systemd did not restart storescp"
    assert_intact(expected, arrived)
    assert not wait_until_gone(tx, outbox, names_of(paths))
    assert set(copies_on_disk(rx, output_dir, expected).values()) == {1}
    assert status(tx, "lane2")["totals"]["failed_runs"] >= 1, "the kill was not noticed"
    assert not broken_files(rx, output_dir), "storescp left an incomplete file"


def test_eight_send_jobs_into_one_receiver_lose_nothing(tx, rx, output_dir, outboxes):
    assert len(outboxes) == 8
    paths, expected = make_images(tx, 160, rows=256, cols=256)
    shares = {name: paths[index::8] for index, name in enumerate(sorted(outboxes))}
    # All at once: every job starts within the same moment.
    moves = " ".join(
        "mv -t %s %s &" % (shlex.quote(outboxes[name]), shlex.join(files))
        for name, files in shares.items()
    )
    check(tx, ["sh", "-c", moves + " wait"])

    assert_intact(expected, wait_for_arrival(rx, output_dir, expected))
    for name, files in shares.items():
        assert not wait_until_gone(tx, outboxes[name], names_of(files)), name
    assert set(copies_on_disk(rx, output_dir, expected).values()) == {1}
