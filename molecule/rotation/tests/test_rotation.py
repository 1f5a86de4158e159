# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/rotate.yml replaces the identities at both ends of a pair while the sender
drops one file per second into its outbox; every file must reach the receiver intact,
the old certificates must be gone from every trust file, and the link must work with
the new ones.

The producer runs on the sender itself (a transient systemd unit), so the pace of one
file per second does not depend on how busy the controller is.
"""

import os
import subprocess
import time

import pytest
from dicomtest import (
    ANCHOR,
    HOST_CERT,
    HOST_KEY,
    STAGING,
    TRUSTED_SENDERS,
    assert_intact,
    certificates,
    check,
    make_images,
    read,
    run,
    sender_tls,
    echo,
    wait_for_arrival,
    wait_until_gone,
)

# More images than seconds the rotation can take; the test fails if the producer runs
# dry before the rotation ends, since the files would then not flow throughout.
IMAGES = 600
PRODUCER = "dicom-st-producer"
PRODUCER_DIR = STAGING + "/producer"
OLD_DIR = STAGING + "/old-identity"


def ansible_playbook(*args):
    """Run a playbook of the collection against the Molecule inventory."""
    command = [
        "ansible-playbook",
        "-i",
        os.environ["MOLECULE_INVENTORY_FILE"],
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=1200)


@pytest.fixture(scope="module")
def pair(topology):
    (only,) = topology.links
    return only


@pytest.fixture(scope="module")
def tx(hosts, pair):
    return hosts(pair.sender.name)


@pytest.fixture(scope="module")
def rx(hosts, pair):
    return hosts(pair.receiver)


def identity(host):
    """The fingerprints of the host's certificate and anchor, and its key's digest."""
    return {
        "cert": certificates(read(host, HOST_CERT)),
        "anchor": certificates(read(host, ANCHOR)),
        "key": check(host, ["sha256sum", HOST_KEY]).split()[0],
    }


def trust(rx, tx, link):
    return {
        "receiver trusts": certificates(read(rx, TRUSTED_SENDERS)),
        "sender trusts": certificates(read(tx, link.destination.anchor_file)),
    }


def start_producer(tx, outbox):
    """Stage IMAGES small images on the sender and move one per second into the outbox."""
    check(tx, ["rm", "-rf", PRODUCER_DIR])
    paths, images = make_images(tx, IMAGES, rows=64, cols=64)
    check(tx, ["mkdir", "-p", PRODUCER_DIR])
    check(tx, ["mv", "-t", PRODUCER_DIR, *paths])
    script = 'for f in "$1"/*; do mv -- "$f" "$2"/; sleep 1; done'
    check(
        tx,
        ["systemd-run", "--unit", PRODUCER, "--collect", "sh", "-c", script, "sh",
         PRODUCER_DIR, outbox],
    )
    return {os.path.basename(path): uid for uid, path in
            ((uid, item["path"]) for uid, item in images.items())}, images


def stop_producer(tx):
    """Stop the producer; the names it never dropped."""
    run(tx, ["systemctl", "stop", PRODUCER])
    return set(check(tx, ["ls", "-1A", PRODUCER_DIR]).split())


def test_bad_selection_changes_nothing(rx, tx, pair):
    link = pair
    before = (identity(rx), identity(tx), trust(rx, tx, link))

    result = ansible_playbook("dicom.secure_transfer.rotate", "-e", "dicom_rotate_hosts=nosuchhost")

    assert result.returncode != 0
    assert "dicom_rotate_hosts" in result.stdout, result.stdout[-3000:]
    assert (identity(rx), identity(tx), trust(rx, tx, link)) == before


def test_rotating_both_ends_loses_no_file(rx, tx, pair, topology):
    link = pair
    old = {"rx": identity(rx), "tx": identity(tx)}
    # The sender's identity as it was, to show afterwards that the receiver dropped it.
    check(tx, ["install", "-d", "-m", "0700", OLD_DIR])
    check(tx, ["cp", "-p", HOST_KEY, HOST_CERT, OLD_DIR])
    names, images = start_producer(tx, link.destination.outbox)
    try:
        time.sleep(5)  # files are flowing before the rotation starts
        result = ansible_playbook("dicom.secure_transfer.rotate")
        time.sleep(5)  # and after it ends
    finally:
        never_dropped = stop_producer(tx)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert never_dropped, "the producer ran dry before the rotation ended"

    dropped = {name: uid for name, uid in names.items() if name not in never_dropped}
    expected = {uid: images[uid] for uid in dropped.values()}
    arrived = wait_for_arrival(rx, topology.receivers[link.receiver].output_dir, expected, timeout=300)
    print("rotation: %d files dropped at one per second, %d arrived"
          % (len(expected), len(arrived)))
    assert_intact(expected, arrived)
    assert wait_until_gone(tx, link.destination.outbox, list(dropped), timeout=60) == []

    new = {"rx": identity(rx), "tx": identity(tx)}
    for end in ("rx", "tx"):
        assert new[end]["key"] != old[end]["key"], end + ": the key was not replaced"
        assert new[end]["cert"] != old[end]["cert"], end + ": the certificate was not replaced"
    # Only the new anchors are trusted now.
    assert trust(rx, tx, link) == {
        "receiver trusts": new["tx"]["anchor"],
        "sender trusts": new["rx"]["anchor"],
    }
    # The staging directory is gone, and the new identities carry the link.
    assert not rx.file("/etc/dicom-tls/next").exists
    assert not tx.file("/etc/dicom-tls/next").exists
    result = echo(tx, link, sender_tls(link.destination))
    assert result.rc == 0, result.stderr
    # The receiver no longer lets the sender's previous certificate in.
    result = echo(tx, link, sender_tls(link.destination, key=OLD_DIR + "/host.key",
                                       cert=OLD_DIR + "/host.crt"))
    assert result.rc != 0, "the receiver still accepts the sender's old certificate"
