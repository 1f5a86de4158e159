# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tls_identity's logic: alt names, the renewal decision, the issued certificate."""

import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.dicom.secure_transfer.plugins.module_utils import (
    _identity,
    _x509,
)

# Certificates carry whole seconds; a whole-second "now" makes boundaries exact.
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


def make_spec(**overrides):
    params = dict(
        key_type="rsa",
        key_size=2048,
        curve="P-256",
        valid_days=365,
        renew_before_days=30,
        common_name="rx1.example.org",
        subject_alt_names=["IP:192.0.2.10"],
        country=None,
        state_or_province=None,
        locality=None,
        organization=None,
        organizational_unit=None,
    )
    params.update(overrides)
    return _identity.IdentitySpec(params)


def pem_key(key):
    return _x509.private_key_pem(key)


def pem_cert(cert):
    return _x509.certificates_pem([cert])


class TestNormaliseAltNames:
    @pytest.mark.parametrize(
        "entry, expected",
        [
            ("RX1.Example.org", "DNS:rx1.example.org"),
            ("  rx1.example.org  ", "DNS:rx1.example.org"),
            ("192.0.2.10", "IP:192.0.2.10"),
            ("2001:DB8::1", "IP:2001:db8::1"),
            ("::1", "IP:::1"),
            ("dns:Host.Example.org", "DNS:host.example.org"),
            ("ip:192.0.2.10", "IP:192.0.2.10"),
            ("IP:2001:db8:0:0::1", "IP:2001:db8::1"),
            ("DNS:192.0.2.10", "DNS:192.0.2.10"),
            ("*.example.org", "DNS:*.example.org"),
        ],
    )
    def test_classifies_and_normalises(self, entry, expected):
        assert _identity.normalise_alt_names([entry], "cn.example.org") == [
            expected,
            "DNS:cn.example.org",
        ]

    def test_common_name_is_added_once_and_last(self):
        names = _identity.normalise_alt_names(
            ["DNS:cn.example.org", "other.example.org", "OTHER.example.org"],
            "CN.example.org",
        )
        assert names == ["DNS:cn.example.org", "DNS:other.example.org"]

    def test_ip_common_name_is_an_ip_entry(self):
        assert _identity.normalise_alt_names([], "192.0.2.1") == ["IP:192.0.2.1"]

    @pytest.mark.parametrize(
        "entry, message",
        [
            (
                "IP:not-an-address",
                "subject_alt_names: 'IP:not-an-address' is not an IP",
            ),
            ("IP:192.0.2.300", "is not an IP address"),
            ("DNS:", "subject_alt_names: 'DNS:' is not a DNS name"),
            ("two words", "subject_alt_names: 'two words' is not a DNS name"),
            ("URI:https://rx1.example.org", "is not a DNS name"),
            ("email:admin@example.org", "is not a DNS name"),
        ],
    )
    def test_refuses_bad_entries(self, entry, message):
        with pytest.raises(ValueError, match=message):
            _identity.normalise_alt_names([entry], "cn.example.org")

    def test_refusal_of_the_common_name_names_that_option(self):
        with pytest.raises(ValueError, match="^common_name: 'DICOM Receiver' is not"):
            _identity.normalise_alt_names([], "DICOM Receiver")


@pytest.fixture(scope="module")
def rsa_identity(keys):
    """(spec, key, cert) of a fresh RSA identity issued now."""
    spec = make_spec()
    key = keys.get("rsa2048")
    return spec, key, _identity.issue_certificate(spec, key, NOW)


def run_plan(
    spec, key_data, cert_data, force=False, now=NOW, key_error=None, cert_error=None
):
    return _identity.plan(spec, key_data, key_error, cert_data, cert_error, force, now)


class TestPlanKey:
    def test_missing_key_issues_both(self, rsa_identity):
        spec, _key, cert = rsa_identity
        plan, key, loaded = run_plan(spec, None, pem_cert(cert))
        assert (plan.new_key, plan.new_certificate) == (True, True)
        assert plan.reason == "the key does not exist"
        assert key is None and loaded is None

    def test_key_that_cannot_be_read(self, rsa_identity):
        spec, _key, cert = rsa_identity
        plan, _key, _cert = run_plan(
            spec, None, pem_cert(cert), key_error="cannot read /k: Permission denied"
        )
        assert (plan.new_key, plan.new_certificate) == (True, True)
        assert (
            plan.reason == "the key is unreadable (cannot read /k: Permission denied)"
        )

    def test_key_that_is_not_a_key(self, rsa_identity):
        spec, _key, cert = rsa_identity
        plan, _key, _cert = run_plan(
            spec, b"-----BEGIN PRIVATE KEY-----\nAAAA\n", pem_cert(cert)
        )
        assert plan.new_key and plan.new_certificate
        assert plan.reason.startswith("the key is unreadable (")

    def test_encrypted_key_is_unreadable(self, rsa_identity):
        spec, key, cert = rsa_identity
        encrypted = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
        plan, _key, _cert = run_plan(spec, encrypted, pem_cert(cert))
        assert plan.new_key
        assert plan.reason == "the key is unreadable (the private key is encrypted)"

    def test_key_of_another_type(self, keys):
        spec = make_spec(key_type="rsa")
        key = keys.get("p256")
        plan, loaded, _cert = run_plan(spec, pem_key(key), None)
        assert plan.new_key and plan.new_certificate
        assert plan.reason == "the key is ecdsa, rsa was asked for"
        assert loaded is not None

    def test_rsa_key_of_another_size(self, keys):
        spec = make_spec(key_size=3072)
        plan, _key, _cert = run_plan(spec, pem_key(keys.get("rsa2048")), None)
        assert plan.new_key
        assert plan.reason == "the key has 2048 bits, 3072 were asked for"

    def test_ecdsa_key_on_another_curve(self, keys):
        spec = make_spec(key_type="ecdsa", curve="P-384")
        plan, _key, _cert = run_plan(spec, pem_key(keys.get("p256")), None)
        assert plan.new_key
        assert plan.reason == "the key is on curve P-256, P-384 was asked for"

    def test_key_size_is_ignored_for_ecdsa(self, keys):
        spec = make_spec(key_type="ecdsa", curve="P-256", key_size=4096)
        key = keys.get("p256")
        cert = _identity.issue_certificate(spec, key, NOW)
        plan, _key, _cert = run_plan(spec, pem_key(key), pem_cert(cert))
        assert plan.reason is None


class TestPlanCertificate:
    def test_missing_certificate_keeps_the_key(self, rsa_identity):
        spec, key, _cert = rsa_identity
        plan, loaded, cert = run_plan(spec, pem_key(key), None)
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert plan.reason == "the certificate does not exist"
        assert _x509.key_matches_certificate(
            key, _identity.issue_certificate(spec, loaded, NOW)
        )
        assert cert is None

    def test_certificate_that_cannot_be_read(self, rsa_identity):
        spec, key, _cert = rsa_identity
        plan, _key, _cert = run_plan(
            spec, pem_key(key), None, cert_error="cannot read /c: EIO"
        )
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert plan.reason == "the certificate is unreadable (cannot read /c: EIO)"

    def test_damaged_certificate(self, rsa_identity):
        spec, key, _cert = rsa_identity
        damaged = b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n"
        plan, _key, _cert = run_plan(spec, pem_key(key), damaged)
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert plan.reason.startswith("the certificate is unreadable (")

    @pytest.mark.parametrize("copies", [0, 2])
    def test_certificate_file_must_hold_exactly_one(self, rsa_identity, copies):
        spec, key, cert = rsa_identity
        plan, _key, _cert = run_plan(
            spec, pem_key(key), b"junk\n" + pem_cert(cert) * copies
        )
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert (
            plan.reason == "the certificate file holds %d certificates, not 1" % copies
        )

    def test_certificate_of_another_key(self, rsa_identity, keys):
        spec, key, _cert = rsa_identity
        foreign = _identity.issue_certificate(spec, keys.get("rsa2048", 1), NOW)
        plan, _key, _cert = run_plan(spec, pem_key(key), pem_cert(foreign))
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert plan.reason == "the key and the certificate do not match"

    def test_subject_differs(self, rsa_identity):
        _spec, key, cert = rsa_identity
        spec = make_spec(organization="Example Hospital")
        plan, _key, _cert = run_plan(spec, pem_key(key), pem_cert(cert))
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert plan.reason == (
            "the subject is CN=rx1.example.org, "
            "CN=rx1.example.org,O=Example Hospital was asked for"
        )

    def test_alt_names_differ(self, rsa_identity):
        _spec, key, cert = rsa_identity
        spec = make_spec(subject_alt_names=["IP:192.0.2.10", "rx1.local"])
        plan, _key, _cert = run_plan(spec, pem_key(key), pem_cert(cert))
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert plan.reason == (
            "the subject alternative names are DNS:rx1.example.org, IP:192.0.2.10, "
            "DNS:rx1.example.org, DNS:rx1.local, IP:192.0.2.10 were asked for"
        )

    def test_certificate_issued_by_a_ca(self, rsa_identity, root_ca):
        spec, key, _cert = rsa_identity
        cert = (
            x509.CertificateBuilder()
            .subject_name(spec.subject_name())
            .issuer_name(root_ca.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - DAY)
            .not_valid_after(NOW + 300 * DAY)
            .add_extension(x509.SubjectAlternativeName(spec.general_names()), False)
            .sign(root_ca.key, hashes.SHA256())
        )
        plan, _key, _cert = run_plan(spec, pem_key(key), pem_cert(cert))
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert plan.reason == "the certificate is not self-signed"

    def test_expiry_within_renew_before_days(self, rsa_identity):
        spec, key, cert = rsa_identity
        # not_after is NOW + 365 days; 30 days before it the certificate is renewed.
        at_boundary = NOW + 335 * DAY
        plan, _key, _cert = run_plan(
            spec, pem_key(key), pem_cert(cert), now=at_boundary
        )
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert plan.reason == "the certificate expires on %s, within 30 days" % (
            _x509.isoformat(NOW + 365 * DAY)
        )

        a_second_earlier = at_boundary - datetime.timedelta(seconds=1)
        plan, _key, _cert = run_plan(
            spec, pem_key(key), pem_cert(cert), now=a_second_earlier
        )
        assert plan.reason is None

    def test_short_lived_certificate_is_renewed(self, keys):
        short = make_spec(valid_days=10, renew_before_days=2)
        key = keys.get("rsa2048")
        cert = _identity.issue_certificate(short, key, NOW - 9 * DAY)
        plan, _key, _cert = run_plan(short, pem_key(key), pem_cert(cert))
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert "within 2 days" in plan.reason

    def test_expired_certificate_is_renewed(self, rsa_identity):
        spec, key, cert = rsa_identity
        plan, _key, _cert = run_plan(
            spec, pem_key(key), pem_cert(cert), now=NOW + 400 * DAY
        )
        assert plan.new_certificate and not plan.new_key
        assert plan.reason.startswith("the certificate expires on ")

    def test_not_yet_valid(self, rsa_identity):
        spec, key, _cert = rsa_identity
        future = _identity.issue_certificate(spec, key, NOW + 2 * DAY)
        plan, _key, _cert = run_plan(spec, pem_key(key), pem_cert(future))
        assert (plan.new_key, plan.new_certificate) == (False, True)
        assert plan.reason == "the certificate is not valid before %s" % (
            _x509.isoformat(NOW + 2 * DAY - _identity.BACKDATE)
        )

    def test_backdating_keeps_a_fresh_certificate_valid(self, rsa_identity):
        spec, key, cert = rsa_identity
        behind = NOW - datetime.timedelta(minutes=4)
        plan, _key, _cert = run_plan(spec, pem_key(key), pem_cert(cert), now=behind)
        assert plan.reason is None

    def test_force_issues_both(self, rsa_identity):
        spec, key, cert = rsa_identity
        plan, _key, _cert = run_plan(spec, pem_key(key), pem_cert(cert), force=True)
        assert (plan.new_key, plan.new_certificate) == (True, True)
        assert plan.reason == "force is set"

    def test_nothing_to_do(self, rsa_identity):
        spec, key, cert = rsa_identity
        plan, loaded_key, loaded_cert = run_plan(spec, pem_key(key), pem_cert(cert))
        assert (plan.new_key, plan.new_certificate, plan.reason) == (False, False, None)
        assert loaded_cert == cert
        assert _x509.key_matches_certificate(loaded_key, cert)

    def test_nothing_to_do_with_a_full_subject(self, keys):
        spec = make_spec(
            country="BE",
            state_or_province="Brabant",
            locality="Leuven",
            organization="Hôpital Érasme",
            organizational_unit="Radiology",
        )
        key = keys.get("rsa2048")
        cert = _identity.issue_certificate(spec, key, NOW)
        plan, _key, _cert = run_plan(spec, pem_key(key), pem_cert(cert))
        assert plan.reason is None
        assert _x509.subject_string(cert) == (
            "CN=rx1.example.org,OU=Radiology,O=Hôpital Érasme,"
            "L=Leuven,ST=Brabant,C=BE"
        )


@pytest.fixture(
    scope="module",
    params=[
        ("rsa", "rsa2048", "P-256"),
        ("ecdsa", "p256", "P-256"),
        ("ecdsa", "p384", "P-384"),
    ],
    ids=["rsa", "p256", "p384"],
)
def issued(request, keys):
    key_type, key_kind, curve = request.param
    spec = make_spec(
        key_type=key_type,
        curve=curve,
        valid_days=90,
        subject_alt_names=["rx1.local", "IP:192.0.2.10", "2001:db8::10"],
    )
    key = keys.get(key_kind)
    return spec, key, _identity.issue_certificate(spec, key, NOW)


def extension(cert, kind):
    return cert.extensions.get_extension_for_class(kind)


class TestIssueCertificate:
    def test_is_version_3_with_the_asked_validity(self, issued):
        _spec, _key, cert = issued
        assert cert.version == x509.Version.v3
        assert _x509.not_before(cert) == NOW - datetime.timedelta(minutes=5)
        assert _x509.not_after(cert) == NOW + 90 * DAY

    def test_subject_alternative_names(self, issued):
        _spec, _key, cert = issued
        san = extension(cert, x509.SubjectAlternativeName)
        assert not san.critical
        assert sorted(_x509.subject_alt_names(cert)) == [
            "DNS:rx1.example.org",
            "DNS:rx1.local",
            "IP:192.0.2.10",
            "IP:2001:db8::10",
        ]

    def test_key_identifiers_match(self, issued):
        _spec, key, cert = issued
        ski = extension(cert, x509.SubjectKeyIdentifier).value
        aki = extension(cert, x509.AuthorityKeyIdentifier).value
        assert (
            ski.digest
            == x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
        )
        assert aki.key_identifier == ski.digest
        assert aki.authority_cert_issuer is None

    def test_key_usage(self, issued):
        spec, _key, cert = issued
        usage = extension(cert, x509.KeyUsage)
        assert usage.critical
        assert usage.value.digital_signature
        assert usage.value.key_encipherment == (spec.key_type == "rsa")
        assert usage.value.key_agreement == (spec.key_type == "ecdsa")
        assert not usage.value.key_cert_sign
        assert not usage.value.crl_sign

    def test_extended_key_usage(self, issued):
        _spec, _key, cert = issued
        usages = list(extension(cert, x509.ExtendedKeyUsage).value)
        assert usages == [
            ExtendedKeyUsageOID.SERVER_AUTH,
            ExtendedKeyUsageOID.CLIENT_AUTH,
        ]

    def test_is_not_a_ca(self, issued):
        _spec, _key, cert = issued
        constraints = extension(cert, x509.BasicConstraints)
        assert constraints.critical
        assert constraints.value.ca is False

    def test_is_self_signed(self, issued):
        spec, _key, cert = issued
        assert cert.issuer == cert.subject == spec.subject_name()
        cert.verify_directly_issued_by(cert)
        assert _x509.is_self_signed(cert)

    def test_signature_hash_follows_the_curve(self, issued):
        spec, _key, cert = issued
        expected = (
            hashes.SHA384
            if spec.curve == "P-384" and spec.key_type == "ecdsa"
            else (hashes.SHA256)
        )
        assert isinstance(cert.signature_hash_algorithm, expected)

    def test_openssl_accepts_it_as_its_own_anchor(self, issued, tmp_path):
        _spec, _key, cert = issued
        path = tmp_path / "identity.crt"
        path.write_bytes(pem_cert(cert))
        for purpose in ("sslserver", "sslclient"):
            result = subprocess.run(
                [
                    "openssl",
                    "verify",
                    "-purpose",
                    purpose,
                    "-CAfile",
                    str(path),
                    str(path),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert result.stdout.strip() == "%s: OK" % path

    def test_serial_numbers_differ(self, rsa_identity):
        spec, key, cert = rsa_identity
        assert (
            _identity.issue_certificate(spec, key, NOW).serial_number
            != cert.serial_number
        )


class TestGenerateKey:
    @pytest.mark.parametrize(
        "overrides, expected",
        [
            (dict(key_type="rsa", key_size=2048), ("rsa", 2048, None)),
            (dict(key_type="ecdsa", curve="P-256"), ("ecdsa", 256, "P-256")),
            (dict(key_type="ecdsa", curve="P-384"), ("ecdsa", 384, "P-384")),
        ],
    )
    def test_generates_what_was_asked(self, overrides, expected):
        key = _identity.generate_key(make_spec(**overrides))
        assert _x509.describe_key(key) == expected
