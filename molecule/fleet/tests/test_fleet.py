# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet scenario: many senders into one receiver, one sender to two receivers,
and a stranger the receiver refuses. The stranger has DCMTK and a valid self-signed
identity of its own; it is in neither group, so nobody was told to trust it. The relay
has tests of its own (test_relay.py), and so has a sender joining (test_joining.py)."""

import pytest

from dicomtest import (
    TRUSTED_SENDERS,
    Journal,
    assert_intact,
    certificates,
    dicom_client,
    drop,
    make_images,
    read,
    run,
    wait_for_arrival,
    wait_until_gone,
)

RECEIVER = "flt-rx"
STRANGER = "flt-stranger"
STRANGER_KEY = "/etc/stranger-tls/host.key"
STRANGER_CERT = "/etc/stranger-tls/host.crt"


@pytest.fixture(scope="module")
def receiver(topology):
    return topology.receivers[RECEIVER]


def client(tool, host_name, receiver, key, cert, extra=()):
    """A DICOM client on host_name towards the receiver. -ic: the client does not
    check the receiver, so a refusal can only come from the receiver's side."""
    return dicom_client(
        tool,
        "STRANGER",
        receiver.name,
        receiver.port,
        receiver.aetitle,
        ["+tls", key, cert, "-ic"],
        extra,
    )


def test_the_stranger_is_outside_the_pairs(topology):
    assert STRANGER in topology.others


def test_the_stranger_is_not_trusted(hosts, receiver):
    stranger = certificates(read(hosts(STRANGER), STRANGER_CERT))
    trusted = certificates(read(hosts(receiver.name), TRUSTED_SENDERS))
    assert len(stranger) == 1
    assert stranger[0] not in trusted


def test_the_stranger_is_refused(hosts, topology, receiver):
    # A sender running the very same command gets in: only the identity differs.
    sender = topology.senders_of(receiver.name)[0]
    control = run(
        hosts(sender),
        client(
            "echoscu",
            sender,
            receiver,
            "/etc/dicom-tls/host.key",
            "/etc/dicom-tls/host.crt",
        ),
    )
    assert control.rc == 0, control.stderr

    journal = Journal(hosts(receiver.name))
    result = run(
        hosts(STRANGER),
        client("echoscu", STRANGER, receiver, STRANGER_KEY, STRANGER_CERT),
    )

    assert result.rc != 0, "the receiver accepted the stranger's certificate"
    assert journal.wait_for(r"certificate verify failed|unknown ca"), journal.text()


def test_the_stranger_cannot_store(hosts, receiver):
    stranger = hosts(STRANGER)
    paths, expected = make_images(stranger, 1, rows=64, cols=64)

    result = run(
        stranger,
        client("storescu", STRANGER, receiver, STRANGER_KEY, STRANGER_CERT, paths),
    )

    assert result.rc != 0
    assert not wait_for_arrival(
        hosts(receiver.name), receiver.output_dir, expected, timeout=3
    )


def test_many_senders_deliver_at_once(hosts, topology, receiver):
    links = [link for link in topology.links if link.receiver == receiver.name]
    assert len({link.sender.name for link in links}) >= 3, "the fleet shrank"
    batches = []
    for link in links:
        sender = hosts(link.sender.name)
        paths, expected = make_images(sender, 10)
        batches.append((link, sender, paths, expected))

    for link, sender, paths, _images in batches:
        drop(sender, paths, link.destination.outbox)

    expected = {}
    for batch in batches:
        expected.update(batch[3])
    assert len(expected) == 10 * len(batches), "the senders' images share UIDs"
    arrived = wait_for_arrival(hosts(receiver.name), receiver.output_dir, expected)
    assert_intact(expected, arrived)
    for link, sender, paths, _images in batches:
        names = [p.rsplit("/", 1)[1] for p in paths]
        left = wait_until_gone(sender, link.destination.outbox, names)
        assert not left, "%s kept delivered files: %s" % (link.id, left)


def test_one_sender_delivers_to_each_of_its_receivers_at_once(hosts, topology):
    by_sender = {}
    for link in topology.links:
        by_sender.setdefault(link.sender.name, []).append(link)
    name, links = max(by_sender.items(), key=lambda item: len(item[1]))
    assert len({link.receiver for link in links}) >= 2, "no sender has two receivers"
    sender = hosts(name)
    batches = []
    for link in links:
        paths, expected = make_images(sender, 5)
        batches.append((link, expected))
        drop(sender, paths, link.destination.outbox)

    for link, expected in batches:
        target = topology.receivers[link.receiver]
        arrived = wait_for_arrival(hosts(target.name), target.kept_dir, expected)
        assert_intact(expected, arrived)
