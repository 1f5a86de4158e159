# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pkcs12 scenario: identities from PKCS#12 bundles issued by two test CAs, a
mixed pair (a self-signed sender to the CA-issued receiver), and DCMTK 3.6.9 on the
receiver talking to 3.6.7 on the senders. The shared tests prove the links; these
prove the identities are the ones the CAs issued, and that no bundle or passphrase
stayed on a host."""

import os

import pytest
from testinfra.utils.ansible_runner import AnsibleRunner

from dicomtest import ANCHOR, HOST_CERT, certificates, read

PKI_DIR = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "pki")

# host -> the label of the CA that issued its bundle (see prepare.yml)
ISSUED_BY = {"p12-rx": "a", "p12-tx": "b"}

DCMTK_VERSIONS = {"p12-rx": "3.6.9", "p12-tx": "3.6.7", "p12-self": "3.6.7"}


def controller_certificates(name):
    with open(os.path.join(PKI_DIR, name)) as handle:
        return certificates(handle.read())


@pytest.fixture(scope="module")
def passphrase(pytestconfig):
    runner = AnsibleRunner(pytestconfig.option.ansible_inventory)
    return runner.get_variables("p12-rx")["test_pkcs12_passphrase"]


@pytest.mark.parametrize("name", sorted(DCMTK_VERSIONS))
def test_dcmtk_versions_meet(hosts, name):
    version = hosts(name).run("storescp --version")
    assert version.rc == 0
    assert "v%s " % DCMTK_VERSIONS[name] in version.stdout


@pytest.mark.parametrize("name", sorted(ISSUED_BY))
def test_certificate_is_the_issued_leaf_then_its_intermediate(hosts, name):
    label = ISSUED_BY[name]
    expected = controller_certificates(name + ".crt") + controller_certificates(
        "ca-%s-intermediate.crt" % label
    )
    assert certificates(read(hosts(name), HOST_CERT)) == expected


@pytest.mark.parametrize("name", sorted(ISSUED_BY))
def test_anchor_is_the_issuing_root(hosts, name):
    expected = controller_certificates("ca-%s-root.crt" % ISSUED_BY[name])
    assert certificates(read(hosts(name), ANCHOR)) == expected


def test_the_two_cas_are_distinct():
    # Otherwise the receiver could pass the trust tests by trusting itself.
    assert controller_certificates("ca-a-root.crt") != controller_certificates(
        "ca-b-root.crt"
    )


@pytest.mark.parametrize("name", sorted(ISSUED_BY))
def test_no_bundle_left_on_the_host(hosts, name):
    found = hosts(name).run(
        "find / -xdev -type f \\( -iname '*.pfx' -o -iname '*.p12' \\) -print"
    )
    assert found.rc == 0, found.stderr
    assert found.stdout.strip() == ""


@pytest.mark.parametrize("name", sorted(ISSUED_BY))
def test_passphrase_is_not_stored_on_the_host(hosts, name, passphrase):
    found = hosts(name).run(
        "grep -rlsF -D skip -- %s /etc /srv /var/lib /var/tmp /tmp /root /usr/local",
        passphrase,
    )
    assert found.rc == 1, "the passphrase is in: %s" % found.stdout
