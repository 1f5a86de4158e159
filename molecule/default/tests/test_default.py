# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The default scenario: self-signed identities, pinned by their peers."""

from dicomtest import ANCHOR, HOST_CERT, certificates, read


def test_self_signed_identity_is_its_own_anchor(hosts, pair_host_name):
    host = hosts(pair_host_name)
    cert = certificates(read(host, HOST_CERT))
    assert len(cert) == 1, "a self-signed identity has no chain"
    assert certificates(read(host, ANCHOR)) == cert


def test_dcmtk_is_the_debian_12_build(hosts, pair_host_name):
    version = hosts(pair_host_name).run("storescp --version")
    assert version.rc == 0
    assert "v3.6.7" in version.stdout
    assert "OpenSSL" in version.stdout
