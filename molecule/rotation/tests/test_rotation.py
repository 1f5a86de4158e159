# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/rotate.yml replaces the identities of every host (a self-signed sender, a
self-signed receiver, and a receiver whose bundle moves from CA a to CA b) while the
sender drops one file per second into each outbox. Every file must reach its receiver
intact, the old anchors must be gone from every trust file, and the links must work
with the new identities only.

The producers run on the sender itself (transient systemd units), so the pace of one
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
    echo,
    make_images,
    read,
    run,
    sender_tls,
    wait_for_arrival,
    wait_until_gone,
)

# More images per outbox than seconds the rotation can take; the test fails if a
# producer runs dry before the rotation ends, since files would then not flow throughout.
IMAGES = 600
OLD_DIR = STAGING + "/old-identity"
NEXT_BUNDLE = "rot-ca-next.pfx"


def ansible_playbook(*args):
    """Run a playbook of the collection against the Molecule inventory."""
    command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], *args]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=1500,
                          env=env)


@pytest.fixture(scope="module")
def links(topology):
    assert len({link.sender.name for link in topology.links}) == 1
    return topology.links


@pytest.fixture(scope="module")
def tx(hosts, links):
    return hosts(links[0].sender.name)


@pytest.fixture(scope="module")
def receivers(hosts, links):
    return {link.receiver: hosts(link.receiver) for link in links}


def identity(host):
    """Fingerprints of the host's certificate chain and anchor, and its key's digest."""
    return {
        "cert": certificates(read(host, HOST_CERT)),
        "anchor": certificates(read(host, ANCHOR)),
        "key": check(host, ["sha256sum", HOST_KEY]).split()[0],
    }


def everything(tx, receivers, links):
    """Identities and trust files of every host: what a failed rotation must not touch."""
    state = {name: identity(host) for name, host in receivers.items()}
    state["sender"] = identity(tx)
    for name, host in receivers.items():
        state["trusted by " + name] = certificates(read(host, TRUSTED_SENDERS))
    for link in links:
        state["trusted for " + link.id] = certificates(read(tx, link.destination.anchor_file))
    return state


class Producer:
    """Stages IMAGES small images on the sender, then moves one per second into an outbox."""

    def __init__(self, tx, link):
        self.tx = tx
        self.unit = "dicom-st-producer-" + link.destination.name
        self.directory = STAGING + "/" + self.unit
        check(tx, ["rm", "-rf", self.directory])
        paths, self.images = make_images(tx, IMAGES, rows=64, cols=64)
        check(tx, ["mkdir", "-p", self.directory])
        check(tx, ["mv", "-t", self.directory, *paths])
        self.names = {os.path.basename(item["path"]): uid for uid, item in self.images.items()}
        script = 'for f in "$1"/*; do mv -- "$f" "$2"/; sleep 1; done'
        check(tx, ["systemd-run", "--unit", self.unit, "--collect", "sh", "-c", script, "sh",
                   self.directory, link.destination.outbox])

    def stop(self):
        """Stops the producer; returns {name: uid} of the files it dropped, and whether it
        still had files left (it did not run dry)."""
        run(self.tx, ["systemctl", "stop", self.unit])
        left = set(check(self.tx, ["ls", "-1A", self.directory]).split())
        dropped = {name: uid for name, uid in self.names.items() if name not in left}
        return dropped, bool(left)


@pytest.mark.parametrize(
    "args, message",
    [
        (["-e", "dicom_rotate_hosts=nosuchhost"], "selects no host of dicom_receivers or dicom_senders"),
        # rot-rx alone: its sender would never learn to trust its next identity.
        (["--limit", "rot-rx"], "rot-rx gets a new identity, but its peers rot-tx"),
    ],
    ids=["selects-nothing", "peer-outside-limit"],
)
def test_bad_selection_changes_nothing(tx, receivers, links, args, message):
    before = everything(tx, receivers, links)

    result = ansible_playbook("dicom.secure_transfer.rotate", *args)

    assert result.returncode != 0
    # Failures go to stdout or stderr, depending on the callback's settings.
    output = " ".join((result.stdout + result.stderr).split())
    assert message in output, output[-3000:]
    assert everything(tx, receivers, links) == before


def test_rotating_every_host_loses_no_file(tx, receivers, links, topology):
    old = everything(tx, receivers, links)
    # The sender's identity as it was, to show afterwards that the receivers dropped it.
    check(tx, ["install", "-d", "-m", "0700", OLD_DIR])
    check(tx, ["cp", "-p", HOST_KEY, HOST_CERT, OLD_DIR])
    next_bundle = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki", NEXT_BUNDLE)

    producers = {link.id: Producer(tx, link) for link in links}
    try:
        time.sleep(5)  # files are flowing before the rotation starts
        result = ansible_playbook(
            "dicom.secure_transfer.rotate", "-e", "tls_identity_pkcs12_src=" + next_bundle
        )
        time.sleep(5)  # and after it ends
    finally:
        stopped = {link_id: producer.stop() for link_id, producer in producers.items()}
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

    for link in links:
        dropped, kept_flowing = stopped[link.id]
        assert kept_flowing, "the producer of %s ran dry before the rotation ended" % link.id
        images = producers[link.id].images
        expected = {uid: images[uid] for uid in dropped.values()}
        output_dir = topology.receivers[link.receiver].output_dir
        arrived = wait_for_arrival(receivers[link.receiver], output_dir, expected, timeout=300)
        print("rotation: %s: %d files dropped at one per second, %d arrived"
              % (link.id, len(expected), len(arrived)))
        assert_intact(expected, arrived)
        assert wait_until_gone(tx, link.destination.outbox, list(dropped), timeout=60) == []

    new = everything(tx, receivers, links)
    for name in list(receivers) + ["sender"]:
        assert new[name]["key"] != old[name]["key"], name + ": the key was not replaced"
        assert new[name]["cert"] != old[name]["cert"], name + ": the certificate stayed"
        assert new[name]["anchor"] != old[name]["anchor"], name + ": the anchor stayed"
    # Only the new anchors are trusted now, each exactly once.
    for name in receivers:
        assert new["trusted by " + name] == new["sender"]["anchor"], name
        assert not receivers[name].file("/etc/dicom-tls/next").exists
    for link in links:
        assert new["trusted for " + link.id] == new[link.receiver]["anchor"], link.id
    assert not tx.file("/etc/dicom-tls/next").exists

    for link in links:
        result = echo(tx, link, sender_tls(link.destination))
        assert result.rc == 0, "%s with the new identities: %s" % (link.id, result.stderr)
        result = echo(tx, link, sender_tls(link.destination, key=OLD_DIR + "/host.key",
                                           cert=OLD_DIR + "/host.crt"))
        assert result.rc != 0, "%s still accepts the sender's old certificate" % link.receiver
