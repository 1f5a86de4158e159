# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relay: flt-relay is a receiver and a sender, and its storescp writes into the
outbox of its own destination 'forward', so that what flt-tx1 sends it goes on to
flt-rx. Nothing but the inventory makes it a relay (molecule.yml)."""

import json

import pytest

from dicomtest import (
    SEND_STATE_ROOT,
    assert_intact,
    check,
    drop,
    make_images,
    wait_for_arrival,
    wait_until_gone,
)

RELAY = "flt-relay"
FIRST_SENDER = "flt-tx1"
FINAL_RECEIVER = "flt-rx"
STORESCP_USER = "dicom-storescp"
SEND_USER = "dicom-send"
PRODUCER_GROUP = "dicom-outbox"

# Writes argv[1] to argv[2] in four pieces, 0.6 s apart, like a storescp that stores
# while it receives: the file keeps its final name and is never complete before the end.
SLOW_WRITER = """
import sys, time
data = open(sys.argv[1], "rb").read()
step = -(-len(data) // 4)
with open(sys.argv[2], "wb") as out:
    for start in range(0, len(data), step):
        out.write(data[start:start + step])
        out.flush()
        time.sleep(0.6)
"""


@pytest.fixture(scope="module")
def relay(topology):
    receiver = topology.receivers[RELAY]
    (forward,) = [
        d
        for d in topology.senders[RELAY].destinations
        if d.outbox == receiver.output_dir
    ]
    return receiver, forward


@pytest.fixture(scope="module")
def first_link(topology):
    (link,) = [
        link
        for link in topology.links
        if link.sender.name == FIRST_SENDER and link.receiver == RELAY
    ]
    return link


def totals(host, destination):
    status = check(host, ["cat", "%s/%s/status.json" % (SEND_STATE_ROOT, destination)])
    return json.loads(status)["totals"]


def test_the_relay_forwards_to_the_final_receiver(relay):
    _receiver, forward = relay
    assert forward.receiver == FINAL_RECEIVER


def test_storescp_writes_into_the_outbox_of_the_send_job(hosts, relay):
    receiver, _forward = relay
    host = hosts(RELAY)

    outbox = host.file(receiver.output_dir)
    assert outbox.is_directory
    assert (outbox.user, outbox.group) == (SEND_USER, PRODUCER_GROUP)
    assert outbox.mode == 0o2770, oct(outbox.mode)
    assert PRODUCER_GROUP in host.user(STORESCP_USER).groups

    # The running storescp got the group, and its sandbox lets it write there.
    units = check(host, ["systemctl", "cat", "dicom-storescp.service"])
    assert "ReadWritePaths=%s\n" % receiver.output_dir in units
    assert "--output-directory %s" % receiver.output_dir in units.replace("\\\n", "")


def test_an_image_reaches_the_final_receiver_through_the_relay(
    hosts, topology, relay, first_link
):
    receiver, _forward = relay
    sender = hosts(FIRST_SENDER)
    final = topology.receivers[FINAL_RECEIVER]
    paths, expected = make_images(sender, 3)

    drop(sender, paths, first_link.destination.outbox)
    arrived = wait_for_arrival(hosts(FINAL_RECEIVER), final.output_dir, expected)

    assert_intact(expected, arrived)
    names = [p.rsplit("/", 1)[1] for p in paths]
    assert not wait_until_gone(sender, first_link.destination.outbox, names)
    # storescp names files the same way on both receivers (SOP Instance UID).
    received = [item["path"].rsplit("/", 1)[1] for item in arrived.values()]
    left = wait_until_gone(hosts(RELAY), receiver.output_dir, received)
    assert not left, "the relay kept forwarded files in its outbox: %s" % left


def test_the_relay_holds_back_a_file_storescp_is_still_writing(hosts, topology, relay):
    receiver, forward = relay
    host = hosts(RELAY)
    final = topology.receivers[FINAL_RECEIVER]
    before = totals(host, forward.name)
    (path,), expected = make_images(host, 1)
    target = "%s/slow-%s" % (receiver.output_dir, path.rsplit("/", 1)[1])

    check(
        host,
        [
            "runuser",
            "-u",
            STORESCP_USER,
            "--",
            "python3",
            "-c",
            SLOW_WRITER,
            path,
            target,
        ],
    )
    arrived = wait_for_arrival(hosts(FINAL_RECEIVER), final.output_dir, expected)

    assert_intact(expected, arrived)
    assert not wait_until_gone(host, receiver.output_dir, [target.rsplit("/", 1)[1]])
    after = totals(host, forward.name)
    # Sent early, storescu would have read a truncated file and failed it.
    assert after["quarantined"] == before["quarantined"], after
    assert after["retried"] == before["retried"], after
    assert after["sent"] > before["sent"], after
