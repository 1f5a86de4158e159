# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The self-signed identity tls_identity made: files, certificate, and DCMTK using it."""

from __future__ import annotations

from conftest import (
    SERVER_DOWN,
    TLS_DIR,
    dcmtk_echo,
    fingerprint,
    file_certificates,
    pem_certificates,
    public_key,
    recorded,
    run_ok,
)

KEY = TLS_DIR + "/host.key"
CERT = TLS_DIR + "/host.crt"
ECDSA_KEY = TLS_DIR + "/ecdsa.key"
ECDSA_CERT = TLS_DIR + "/ecdsa.crt"

# The host's own certificate is its trust anchor, on both ends of the association.
MUTUAL_TLS = ["+tls", KEY, CERT, "+cf", CERT]


def test_key_is_readable_by_root_only(host):
    key = host.file(KEY)
    assert key.is_file
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)


def test_certificate_is_world_readable(host):
    cert = host.file(CERT)
    assert cert.is_file
    assert (cert.user, cert.group, cert.mode) == ("root", "root", 0o644)


def test_certificate_verifies_as_its_own_anchor(host):
    assert run_ok(host, "openssl verify -CAfile %s %s", CERT, CERT).strip() == CERT + ": OK"


def test_key_matches_certificate(host):
    assert public_key(host, KEY, "key") == public_key(host, CERT, "cert")


def test_certificate_carries_what_was_asked(host):
    text = run_ok(host, "openssl x509 -in %s -noout -text", CERT)
    subject = run_ok(host, "openssl x509 -in %s -noout -subject -nameopt RFC2253", CERT)

    assert subject.strip() == "subject=CN=localhost,O=dicom.secure_transfer tests,C=BE"
    assert "Public-Key: (2048 bit)" in text
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in text
    assert "DNS:localhost" in text
    assert "IP Address:127.0.0.1" in text
    assert "DNS:%s" % host.backend.get_hostname() in text


def test_results_describe_the_files(host):
    result = recorded(host, "tls_identity-rsa")

    assert result["fingerprint_sha256"] == fingerprint(host, CERT)
    assert pem_certificates(result["certificate"]) == file_certificates(host, CERT)
    assert result["subject"] == "CN=localhost,O=dicom.secure_transfer tests,C=BE"
    end = run_ok(host, "openssl x509 -in %s -noout -enddate -dateopt iso_8601", CERT)
    assert end.strip() == "notAfter=" + result["not_after"].replace("T", " ")


def test_ecdsa_identity_has_a_p384_key_and_default_modes(host):
    text = run_ok(host, "openssl pkey -in %s -noout -text", ECDSA_KEY)

    assert "NIST CURVE: P-384" in text
    assert host.file(ECDSA_KEY).mode == 0o600
    assert host.file(ECDSA_CERT).mode == 0o644
    assert public_key(host, ECDSA_KEY, "key") == public_key(host, ECDSA_CERT, "cert")
    assert recorded(host, "tls_identity-ecdsa")["fingerprint_sha256"] == fingerprint(host, ECDSA_CERT)


def test_dcmtk_association_with_mutual_tls_succeeds(host):
    echo = dcmtk_echo(host, 11112, MUTUAL_TLS, MUTUAL_TLS)

    assert echo.rc == 0, echo.stdout + echo.stderr
    assert "Received Echo Response (Success)" in echo.stdout + echo.stderr


def test_dcmtk_refuses_a_client_without_certificate(host):
    echo = dcmtk_echo(host, 11113, ["+tla", "+cf", CERT], MUTUAL_TLS)

    assert echo.rc not in (0, SERVER_DOWN), echo.stdout + echo.stderr
    assert "Received Echo Response" not in echo.stdout + echo.stderr
    assert "peer did not return a certificate" in echo.stderr


def test_dcmtk_refuses_plain_tcp(host):
    echo = dcmtk_echo(host, 11114, [], MUTUAL_TLS)

    assert echo.rc not in (0, SERVER_DOWN), echo.stdout + echo.stderr
    assert "Received Echo Response" not in echo.stdout + echo.stderr
    assert "Receiving Association failed" in echo.stderr
    assert "TLS error" in echo.stderr
