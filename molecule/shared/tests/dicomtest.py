# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest plugin shared by the Molecule scenarios: the pair's topology read from the
Molecule inventory, and helpers that act on the containers through testinfra.

Scenarios load it with PYTEST_PLUGINS=dicomtest and PYTHONPATH pointing here (see
their molecule.yml). It parametrizes three fixtures from the inventory:

- ``link``: one per sender destination that names an inventory receiver;
- ``receiver_name``: one per host of dicom_receivers;
- ``pair_host_name``: one per host of dicom_receivers or dicom_senders.

Tests act on a container with ``hosts(name).run(...)``. Cross-host checks run a
DICOM or TLS client on one container against another by its name on the scenario's
Docker network, so traffic goes through the same path as a real deployment.
"""

import json
import os
import re
import shlex
import time
import uuid
from dataclasses import dataclass, field

import pytest
import testinfra
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from testinfra.utils.ansible_runner import AnsibleRunner

# Where molecule/shared/prepare-test-tools.yml puts tests/tools on every container.
TOOLS = "/usr/local/lib/dicom-st-tests"
STAGING = "/var/tmp/dicom-st-tests"

# The contract between the roles (docs/architecture.md).
TLS_DIR = "/etc/dicom-tls"
HOST_KEY = TLS_DIR + "/host.key"
HOST_CERT = TLS_DIR + "/host.crt"
ANCHOR = TLS_DIR + "/anchor.crt"
TRUSTED_SENDERS = TLS_DIR + "/trusted-senders.pem"
# storescp runs as one service, or, for a port below 1024, as one instance of a
# template per association behind a socket unit that systemd listens on.
STORESCP_SERVICE = "dicom-storescp.service"
STORESCP_SOCKET = "dicom-storescp.socket"
# Its log, in both modes. Not by unit: a line from a short-lived instance can reach
# journald after the process is gone, and then carries no unit name.
STORESCP_LOG_IDENTIFIER = "storescp"
OUTBOX_ROOT = "/srv/dicom/outbox"
SEND_STATE_ROOT = "/var/lib/dicom-send"

PROJECT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

# How long a file may take from outbox to the receiver's disk in these tests. The
# requirement is seconds; the margin covers a loaded CI machine.
ARRIVAL_TIMEOUT = 90

# Timeouts for every DICOM client the tests run: connect, association, DIMSE.
CLIENT_TIMEOUTS = ["-to", "15", "-ta", "15", "-td", "30"]


def role_default(role, name, fallback):
    """A role's default for a variable the inventory leaves unset."""
    path = os.path.join(PROJECT, "roles", role, "defaults", "main.yml")
    try:
        with open(path) as handle:
            return (yaml.safe_load(handle) or {}).get(name, fallback)
    except OSError:
        return fallback


def setting(hostvars, role, name, fallback):
    """The inventory's value of a role variable, else the role's default."""
    if name in hostvars:
        return hostvars[name]
    return role_default(role, name, fallback)


@dataclass
class Destination:
    name: str
    receiver: str
    aetitle: str
    port: int
    outbox: str

    @property
    def anchor_file(self):
        return "%s/destinations/%s.pem" % (TLS_DIR, self.name)


@dataclass
class Sender:
    name: str
    aetitle: str
    destinations: list = field(default_factory=list)


@dataclass
class Receiver:
    name: str
    aetitle: str
    port: int
    output_dir: str
    # A relay's output directory is the outbox of one of its own send jobs, which moves
    # what it forwarded into its sent/ directory: there received images stay.
    forwarded_dir: str = ""

    @property
    def socket_activated(self):
        """storescp binds no port below 1024 unless it is root (roles/storescp)."""
        return self.port < 1024

    @property
    def kept_dir(self):
        """Where a received image stays: the output directory, or a relay's sent/."""
        return self.forwarded_dir or self.output_dir


@dataclass
class Link:
    """One sender destination that points at an inventory receiver."""

    sender: Sender
    destination: Destination

    @property
    def receiver(self):
        return self.destination.receiver

    @property
    def id(self):
        return "%s-%s" % (self.sender.name, self.destination.name)


class Topology:
    """Receivers, senders and their links, as the inventory declares them."""

    def __init__(self, inventory):
        runner = AnsibleRunner(inventory)
        self.receivers = {}
        for name in sorted(self._group(runner, "dicom_receivers")):
            self.receivers[name] = self._receiver(name, runner.get_variables(name))
        self.senders = {}
        for name in sorted(self._group(runner, "dicom_senders")):
            self.senders[name] = self._sender(name, runner.get_variables(name))
        for name, receiver in self.receivers.items():
            hostvars = runner.get_variables(name)
            receiver.forwarded_dir = self._forwarded_dir(receiver, hostvars)
        pairs = set(self.receivers) | set(self.senders)
        self.others = sorted(set(self._group(runner, "all")) - pairs)

    @staticmethod
    def _receiver(name, hostvars):
        def get(var, fallback):
            return setting(hostvars, "storescp", var, fallback)

        return Receiver(
            name=name,
            aetitle=str(get("storescp_aetitle", "STORESCP")),
            port=int(get("storescp_port", 2762)),
            output_dir=str(get("storescp_output_dir", "/srv/dicom/incoming")),
        )

    def _sender(self, name, hostvars):
        aetitle = setting(hostvars, "storescu", "storescu_aetitle", "STORESCU")
        sender = Sender(name=name, aetitle=str(aetitle))
        for entry in hostvars.get("storescu_destinations", []):
            receiver = self.receivers.get(entry.get("receiver", ""))
            if receiver is None:
                continue
            outbox = entry.get("outbox") or "%s/%s" % (OUTBOX_ROOT, entry["name"])
            sender.destinations.append(
                Destination(
                    name=entry["name"],
                    receiver=receiver.name,
                    aetitle=receiver.aetitle,
                    port=receiver.port,
                    outbox=outbox,
                )
            )
        return sender

    def _forwarded_dir(self, receiver, hostvars):
        """The sent/ directory of the send job whose outbox is the receiver's output
        directory, when the receiver is also a sender (a relay) that keeps what it
        sent; else ''."""
        if receiver.name not in self.senders:
            return ""
        if setting(hostvars, "storescu", "storescu_after_send", "move") != "move":
            return ""
        for entry in hostvars.get("storescu_destinations", []):
            outbox = entry.get("outbox") or "%s/%s" % (OUTBOX_ROOT, entry["name"])
            if outbox.rstrip("/") == receiver.output_dir.rstrip("/"):
                return "%s/%s/sent" % (SEND_STATE_ROOT, entry["name"])
        return ""

    @staticmethod
    def _group(runner, group):
        try:
            return runner.get_hosts(group)
        except RuntimeError:
            return []

    @property
    def links(self):
        return [Link(s, d) for s in self.senders.values() for d in s.destinations]

    def senders_of(self, receiver):
        return sorted(
            {link.sender.name for link in self.links if link.receiver == receiver}
        )


def _inventory(config):
    inventory = config.option.ansible_inventory or os.environ.get(
        "MOLECULE_INVENTORY_FILE"
    )
    if not inventory:
        raise pytest.UsageError(
            "no Ansible inventory: run these tests through Molecule"
        )
    return inventory


def pytest_generate_tests(metafunc):
    wanted = {"link", "receiver_name", "pair_host_name"} & set(metafunc.fixturenames)
    if not wanted:
        return
    topology = Topology(_inventory(metafunc.config))
    if "link" in wanted:
        links = topology.links
        metafunc.parametrize("link", links, ids=[link.id for link in links])
    if "receiver_name" in wanted:
        metafunc.parametrize("receiver_name", sorted(topology.receivers))
    if "pair_host_name" in wanted:
        metafunc.parametrize(
            "pair_host_name", sorted(set(topology.receivers) | set(topology.senders))
        )


@pytest.fixture(scope="session")
def topology(pytestconfig):
    return Topology(_inventory(pytestconfig))


@pytest.fixture(scope="session")
def hosts(pytestconfig):
    """hosts(name) -> the testinfra Host of that container."""
    inventory = _inventory(pytestconfig)

    def get(name):
        return testinfra.get_host("ansible://" + name, ansible_inventory=inventory)

    return get


# Commands ------------------------------------------------------------------------


def run(host, argv, timeout=120):
    """Run argv on host under a time limit; returns testinfra's CommandResult."""
    return host.run("timeout %d %s" % (timeout, shlex.join(str(a) for a in argv)))


def check(host, argv, timeout=120):
    result = run(host, argv, timeout)
    assert result.rc == 0, "%s failed (rc %d) on %s:\n%s\n%s" % (
        shlex.join(argv),
        result.rc,
        host.backend.get_pytest_id(),
        result.stdout,
        result.stderr,
    )
    return result.stdout


def dicom_client(tool, calling, peer, port, called, tls, extra=()):
    """Arguments for echoscu or storescu with the given TLS arguments."""
    return [
        tool,
        *CLIENT_TIMEOUTS,
        *tls,
        "-aet",
        calling,
        "-aec",
        called,
        peer,
        str(port),
        *extra,
    ]


def sender_tls(destination, key=HOST_KEY, cert=HOST_CERT, verify=True):
    """TLS arguments as the sender's send job uses them: its own key and
    certificate, and the destination's trust anchor (or none: -ic)."""
    args = ["+tls", key, cert]
    return args + (["+cf", destination.anchor_file] if verify else ["-ic"])


def echo(host, link, tls):
    """C-ECHO from host to the receiver of link, with the given TLS arguments."""
    return run(
        host,
        dicom_client(
            "echoscu",
            link.sender.aetitle,
            link.receiver,
            link.destination.port,
            link.destination.aetitle,
            tls,
        ),
    )


def certificates(pem_text):
    """SHA-256 fingerprints (hex) of every certificate in a PEM text, in order."""
    certs = x509.load_pem_x509_certificates(pem_text.encode())
    return [c.fingerprint(hashes.SHA256()).hex() for c in certs]


def read(host, path):
    remote = host.file(path)
    assert remote.exists, "%s is missing on %s" % (path, host.backend.get_pytest_id())
    return remote.content_string


def throwaway_identity(host, label):
    """A fresh self-signed key and certificate on host, trusted by nobody."""
    base = "%s/%s" % (STAGING, label)
    check(host, ["mkdir", "-p", STAGING])
    check(
        host,
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=" + label,
            "-keyout",
            base + ".key",
            "-out",
            base + ".crt",
            "-addext",
            "extendedKeyUsage=serverAuth,clientAuth",
        ],
    )
    return base + ".key", base + ".crt"


# The receiver's log -------------------------------------------------------------


class Journal:
    """Reads what storescp logged after the moment this object was made."""

    def __init__(self, host, identifier=STORESCP_LOG_IDENTIFIER):
        self.host = host
        self.filters = ["--no-pager", "-q", "-o", "cat", "-t", identifier]
        # No cursor (nothing logged yet): everything logged from now on is new.
        out = run(host, ["journalctl", "-n", "1", "--show-cursor", *self.filters])
        found = re.search(r"^-- cursor: (\S+)", out.stdout, re.M)
        self.cursor = found.group(1) if found else None

    def text(self):
        after = ["--after-cursor=" + self.cursor] if self.cursor else []
        return run(self.host, ["journalctl", *self.filters, *after]).stdout

    def wait_for(self, pattern, timeout=15):
        """The first line matching pattern, or None when none came within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.text().splitlines():
                if re.search(pattern, line):
                    return line
            if time.monotonic() > deadline:
                return None
            time.sleep(1)


# DICOM files --------------------------------------------------------------------


def summaries(host, path):
    """dicom_summary.py over path on host: {SOP Instance UID: summary}."""
    result = run(host, ["python3", TOOLS + "/dicom_summary.py", path])
    found = {}
    for line in result.stdout.splitlines():
        item = json.loads(line)
        if "error" not in item:
            found[item["sop_instance_uid"]] = item
    return found


def make_images(host, count, rows=512, cols=512):
    """Synthetic CT images staged on host (outside any outbox).
    Returns (paths, {uid: summary})."""
    seed = uuid.uuid4().hex[:12]
    directory = "%s/%s" % (STAGING, seed)
    check(
        host,
        [
            "python3",
            TOOLS + "/make_dicom.py",
            "--out",
            directory,
            "--count",
            count,
            "--rows",
            rows,
            "--cols",
            cols,
            "--seed",
            seed,
            "--prefix",
            seed + "-",
        ],
    )
    images = summaries(host, directory)
    assert len(images) == count, "make_dicom.py wrote %d of %d images" % (
        len(images),
        count,
    )
    return sorted(i["path"] for i in images.values()), images


def drop(host, paths, outbox):
    """Rename staged files into an outbox, as the producer contract asks."""
    check(host, ["mv", "-t", outbox, *paths])


def wait_for_arrival(host, output_dir, expected, timeout=ARRIVAL_TIMEOUT):
    """Poll the receiver's output directory until every expected image is there with
    the same pixel data, or the time is up. Returns {uid: summary} of what arrived."""
    deadline = time.monotonic() + timeout
    while True:
        arrived = {
            uid: item
            for uid, item in summaries(host, output_dir).items()
            if uid in expected
        }
        complete = all(
            arrived.get(uid, {}).get("pixel_sha256") == item["pixel_sha256"]
            for uid, item in expected.items()
        )
        if complete or time.monotonic() > deadline:
            return arrived
        time.sleep(1)


def wait_until_gone(host, directory, names, timeout=ARRIVAL_TIMEOUT):
    """Names (of files directly in directory) still there when the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        present = set(check(host, ["ls", "-1A", directory]).split())
        left = sorted(set(names) & present)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(1)


def dcmdump_uid(host, path):
    """The SOP Instance UID as DCMTK reads it: a second opinion on dicom_summary."""
    out = check(host, ["dcmdump", "-q", "+P", "SOPInstanceUID", path])
    found = re.search(r"\[([0-9.]+)\]", out)
    return found.group(1) if found else None


def assert_intact(expected, arrived):
    missing = sorted(set(expected) - set(arrived))
    assert not missing, "%d of %d image(s) never arrived: %s" % (
        len(missing),
        len(expected),
        ", ".join(missing),
    )
    for uid, item in expected.items():
        got = arrived[uid]
        assert got["sop_class_uid"] == item["sop_class_uid"], uid
        assert got["pixel_sha256"] == item["pixel_sha256"], "pixel data differ: " + uid
        assert got["dataset_sha256"] == item["dataset_sha256"], (
            "data set differs: " + uid
        )
