# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What certificate_info reports about PEM files: certificates, labels, wildcards."""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from ansible_collections.dicom.secure_transfer.plugins.module_utils import (
    _certificate_files,
    _x509,
)


def self_signed(key, name, days=365):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )


def test_a_certificate_is_described_as_tls_identity_describes_it(keys, tmp_path):
    cert = self_signed(keys.get("p256", 1), "rx1", days=10)
    path = tmp_path / "host.crt"
    path.write_bytes(_x509.certificates_pem([cert]))

    entry = _certificate_files.inspect(str(path))

    assert entry["exists"] and entry["error"] is None
    (facts,) = entry["certificates"]
    assert facts["subject"] == facts["issuer"] == "CN=rx1"
    assert facts["not_before"] == "2026-01-01T00:00:00Z"
    assert facts["not_after"] == "2026-01-11T00:00:00Z"
    assert facts["fingerprint_sha256"] == _x509.fingerprint_sha256(cert)
    assert facts["self_signed"] and not facts["ca"]
    assert facts["trusted_for"] == []


def test_chain_and_ca_flags_in_file_order(keys, root_ca, tmp_path):
    intermediate = root_ca.intermediate("Unit Test Issuing CA", number=11)
    leaf = intermediate.issue(keys.get("p256", 2), common_name="tx1")
    path = tmp_path / "host.crt"
    path.write_bytes(_x509.certificates_pem([leaf, intermediate.certificate]))

    certs = _certificate_files.inspect(str(path))["certificates"]

    assert [c["subject"] for c in certs] == ["CN=tx1", "CN=Unit Test Issuing CA"]
    assert [c["ca"] for c in certs] == [False, True]
    assert [c["self_signed"] for c in certs] == [False, False]


def test_bundle_labels_belong_to_the_block_after_them(keys, tmp_path):
    first = self_signed(keys.get("p256", 3), "tx1")
    second = self_signed(keys.get("p256", 4), "ct1")
    pem = [_x509.certificates_pem([c]).decode() for c in (first, second)]
    path = tmp_path / "trusted-senders.pem"
    path.write_text(
        "# Ansible managed\n# trusted for: tx1, tx2\n%s\n# trusted for: ct1.pem\n%s"
        % (pem[0], pem[1])
    )

    certs = _certificate_files.inspect(str(path))["certificates"]

    assert [c["trusted_for"] for c in certs] == [["tx1", "tx2"], ["ct1.pem"]]


def test_a_block_without_label_gets_none_from_the_block_before(keys, tmp_path):
    certs = [self_signed(keys.get("p256", n), "h%d" % n) for n in (3, 4)]
    path = tmp_path / "bundle.pem"
    path.write_bytes(b"# trusted for: h3\n" + _x509.certificates_pem(certs))

    found = _certificate_files.inspect(str(path))["certificates"]

    assert [c["trusted_for"] for c in found] == [["h3"], []]


def test_missing_file_is_reported_not_raised(tmp_path):
    path = str(tmp_path / "anchor.crt")
    assert _certificate_files.inspect(path) == dict(
        path=path, exists=False, error=None, certificates=[]
    )


def test_unusable_files_say_why(tmp_path):
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificate here\n")
    damaged = tmp_path / "damaged.pem"
    damaged.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")

    assert _certificate_files.inspect(str(empty))["error"] == (
        "%s holds no PEM certificate" % empty
    )
    assert _certificate_files.inspect(str(damaged))["error"].startswith(
        "%s: certificate 1 cannot be parsed" % damaged
    )
    unreadable = _certificate_files.inspect(str(tmp_path))
    assert unreadable["exists"] and unreadable["error"].startswith("cannot read ")
    assert all(
        _certificate_files.inspect(str(p))["certificates"] == []
        for p in (empty, damaged, tmp_path)
    )


def test_wildcards_expand_sorted_and_plain_paths_stay(tmp_path):
    (tmp_path / "destinations").mkdir()
    for name in ("pacs.pem", "archive.pem", "notes.txt"):
        (tmp_path / "destinations" / name).write_text("")
    plain = str(tmp_path / "trusted-senders.pem")

    expanded = _certificate_files.expand(
        [plain, str(tmp_path / "destinations" / "*.pem"), str(tmp_path / "none" / "*")]
    )

    assert expanded == [
        plain,
        str(tmp_path / "destinations" / "archive.pem"),
        str(tmp_path / "destinations" / "pacs.pem"),
    ]
    assert _certificate_files.expand([plain, plain]) == [plain]
