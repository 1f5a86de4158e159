# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CRL checks that run before DCMTK reads a CRL file (+crl): dicom-tls-check before
storescp starts, and the send job's setup check before each run. DCMTK only warns about
a CRL file it cannot load (3.6.7 then refuses every peer, 3.6.9 checks no revocation at
all), and OpenSSL refuses every peer once a CRL is past its next update."""

import datetime
import importlib.machinery
import importlib.util
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROLES = Path(__file__).resolve().parents[3] / "roles"


def _load(name, path):
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


tls_check = _load("dicom_tls_check", ROLES / "storescp" / "files" / "dicom-tls-check")
send_job = _load("dicom_send_crl", ROLES / "storescu" / "files" / "dicom-send")

CHECKS = {"storescp": tls_check.crls_problem, "storescu": send_job.check_crls}


def crl_pem(common_name, next_update_days):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .last_update(now - datetime.timedelta(days=10))
        .next_update(now + datetime.timedelta(days=next_update_days))
        .sign(key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("side", sorted(CHECKS))
def test_current_crls_pass(tmp_path, side):
    path = tmp_path / "crls.pem"
    path.write_bytes(crl_pem("Issuing CA", 30) + crl_pem("Root CA", 300))

    assert CHECKS[side](str(path)) == ""


@pytest.mark.parametrize("side", sorted(CHECKS))
def test_an_expired_crl_is_named(tmp_path, side):
    path = tmp_path / "crls.pem"
    path.write_bytes(crl_pem("Root CA", 300) + crl_pem("Issuing CA", -1))

    problem = CHECKS[side](str(path))

    assert "CN=Issuing CA" in problem and "refused" in problem, problem


@pytest.mark.parametrize("side", sorted(CHECKS))
@pytest.mark.parametrize(
    "content, expected",
    [(b"", "empty"), (b"not a CRL\n", "no usable CRL"), (None, "cannot read")],
)
def test_a_file_without_a_crl_is_refused(tmp_path, side, content, expected):
    path = tmp_path / "crls.pem"
    if content is not None:
        path.write_bytes(content)

    problem = CHECKS[side](str(path))

    assert problem, "accepted %r" % content
    if side == "storescp" or expected != "empty":
        assert expected in problem, problem


def test_a_certificate_is_not_a_crl(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    for check in CHECKS.values():
        assert "holds no CRL" in check(str(path))
