# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inventories stop the site playbook before any host changes, with a message
that names the variable.

Each case runs ansible-playbook dicom.secure_transfer.site on an inventory whose hosts
point at a closed port of 127.0.0.1: a run that gets past the checks tries to connect
and reports the hosts unreachable, so "nothing changed" is visible in the recap. The
first case shows that a valid inventory does get that far."""

import os
import re
import subprocess
import sys

import pytest
import yaml

PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

# conftest.py puts the directory that holds this collection on sys.path.
COLLECTIONS = next(
    p for p in sys.path if os.path.isdir(os.path.join(p, "ansible_collections", "dicom"))
)

# Nothing listens on the discard port: a connection attempt fails at once.
NOWHERE = {"ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_connection": "ssh"}


def inventory(receivers=None, senders=None):
    receivers = receivers if receivers is not None else {"rx1": {}}
    if senders is None:
        senders = {"tx1": {"storescu_destinations": [{"name": "archive", "receiver": "rx1"}]}}
    return {
        "dicom_receivers": {"hosts": {n: {**NOWHERE, **v} for n, v in receivers.items()}},
        "dicom_senders": {"hosts": {n: {**NOWHERE, **v} for n, v in senders.items()}},
    }


def site(tmp_path, inv):
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inv))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_SSH_ARGS="-o ConnectTimeout=3",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    result = subprocess.run(
        [PLAYBOOK, "-i", str(path), "dicom.secure_transfer.site"],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def recap(output):
    """{host: {'ok': n, 'changed': n, 'unreachable': n, 'failed': n, ...}}"""
    found = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        found[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return found


def test_valid_inventory_gets_past_the_checks(tmp_path):
    rc, output = site(tmp_path, inventory())

    assert rc != 0
    counts = recap(output)
    assert counts["rx1"]["unreachable"] == 1, output
    assert counts["tx1"]["unreachable"] == 1, output


def outside_peer(**changes):
    entry = {
        "name": "ext",
        "host": "pacs.example.org",
        "port": 2762,
        "aetitle": "PACS",
        "peer_certificate": "files/pacs.crt",
    }
    entry.update(changes)
    return {"tx1": {"storescu_destinations": [entry]}}


CASES = {
    "storescp-aetitle-empty": (
        inventory({"rx1": {"storescp_aetitle": ""}}),
        "storescp_aetitle of rx1",
    ),
    "storescp-aetitle-17": (
        inventory({"rx1": {"storescp_aetitle": "A" * 17}}),
        "storescp_aetitle of rx1",
    ),
    "storescp-aetitle-backslash": (
        inventory({"rx1": {"storescp_aetitle": "RX\\1"}}),
        "storescp_aetitle of rx1",
    ),
    "storescp-aetitle-control": (
        inventory({"rx1": {"storescp_aetitle": "RX\t1"}}),
        "storescp_aetitle of rx1",
    ),
    "storescu-aetitle-17": (
        inventory(senders={"tx1": {"storescu_aetitle": "S" * 17}}),
        "storescu_aetitle of tx1",
    ),
    "storescu-aetitle-empty": (
        inventory(senders={"tx1": {"storescu_aetitle": ""}}),
        "storescu_aetitle of tx1",
    ),
    "destination-aetitle-backslash": (
        inventory(senders=outside_peer(aetitle="PA\\CS")),
        "storescu_destinations[0] (ext)",
    ),
    "destination-aetitle-control": (
        inventory(senders=outside_peer(aetitle="PA\x01CS")),
        "storescu_destinations[0] (ext)",
    ),
    "storescp-port-0": (
        inventory({"rx1": {"storescp_port": 0}}),
        "storescp_port (0)",
    ),
    "storescp-port-65536": (
        inventory({"rx1": {"storescp_port": 65536}}),
        "storescp_port (65536)",
    ),
    "destination-port-70000": (
        inventory(senders=outside_peer(port=70000)),
        "storescu_destinations[0] (ext): the port 70000 is outside 1..65535",
    ),
    "destination-not-a-receiver": (
        inventory(
            senders={"tx1": {"storescu_destinations": [{"name": "a", "receiver": "tx1"}]}}
        ),
        "receiver 'tx1' is not a host of the group dicom_receivers",
    ),
    "two-receivers-one-port": (
        inventory(
            {"rx1": {"storescp_aetitle": "ONE"}, "rx2": {"storescp_aetitle": "TWO"}},
            senders={},
        ),
        "storescp_port 2762 of rx",
    ),
    "pfx-missing": (
        inventory(
            {
                "rx1": {
                    "tls_identity_source": "pkcs12",
                    "tls_identity_pkcs12_src": "/nonexistent/rx1.pfx",
                }
            }
        ),
        "tls_identity_pkcs12_src of rx1",
    ),
    "pfx-not-named": (
        inventory({"rx1": {"tls_identity_source": "pkcs12"}}),
        "tls_identity_pkcs12_src of rx1",
    ),
    "crl-src-missing": (
        inventory({"rx1": {"storescp_tls_crl_src": "/nonexistent/crl.pem"}}),
        "storescp_tls_crl_src of rx1",
    ),
    "crl-with-self-signed-sender": (
        inventory({"rx1": {"storescp_tls_crl_file": "/etc/dicom-tls/crl.pem"}}),
        "storescp_tls_crl_file is set on rx1, but tx1 send to it",
    ),
    "crl-with-self-signed-receiver": (
        inventory(
            senders={
                "tx1": {
                    "storescu_tls_crl_file": "/etc/dicom-tls/crl.pem",
                    "storescu_destinations": [{"name": "archive", "receiver": "rx1"}],
                }
            }
        ),
        "storescu_tls_crl_file is set on tx1, but the receivers rx1",
    ),
    "key-size-1024": (
        inventory({"rx1": {"tls_identity_key_size": 1024}}),
        "tls_identity_key_size",
    ),
}


def assert_stopped_untouched(rc, output, message):
    assert rc != 0, output
    assert message in output, output
    counts = recap(output)
    assert counts, output
    for host, numbers in counts.items():
        assert numbers["unreachable"] == 0, "%s was contacted:\n%s" % (host, output)
        assert numbers["changed"] == 0, output


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_stops_before_any_host_changes(tmp_path, case):
    inv, message = CASES[case]

    rc, output = site(tmp_path, inv)

    assert_stopped_untouched(rc, output, message)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 0000")
def test_unreadable_pfx_stops_before_any_host_changes(tmp_path):
    bundle = tmp_path / "rx1.pfx"
    bundle.write_bytes(b"not read")
    bundle.chmod(0)
    inv = inventory(
        {"rx1": {"tls_identity_source": "pkcs12", "tls_identity_pkcs12_src": str(bundle)}}
    )

    rc, output = site(tmp_path, inv)

    assert_stopped_untouched(rc, output, "not a readable file")
