# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet scenario: two senders into one receiver, and a stranger the receiver
refuses. The stranger has DCMTK and a valid self-signed identity of its own; it is in
neither group, so nobody was told to trust it."""

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

STRANGER = "flt-stranger"
STRANGER_KEY = "/etc/stranger-tls/host.key"
STRANGER_CERT = "/etc/stranger-tls/host.crt"


@pytest.fixture(scope="module")
def receiver(topology):
    (name,) = topology.receivers
    return topology.receivers[name]


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
    assert topology.others == [STRANGER]


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


def test_both_senders_deliver_at_once(hosts, topology, receiver):
    batches = []
    for link in topology.links:
        sender = hosts(link.sender.name)
        paths, expected = make_images(sender, 10)
        batches.append((link, sender, paths, expected))

    for link, sender, paths, _images in batches:
        drop(sender, paths, link.destination.outbox)

    expected = {}
    for batch in batches:
        expected.update(batch[3])
    assert len(expected) == 20, "the senders' images share UIDs"
    arrived = wait_for_arrival(hosts(receiver.name), receiver.output_dir, expected)
    assert_intact(expected, arrived)
    for link, sender, paths, _images in batches:
        names = [p.rsplit("/", 1)[1] for p in paths]
        left = wait_until_gone(sender, link.destination.outbox, names)
        assert not left, "%s kept delivered files: %s" % (link.id, left)
