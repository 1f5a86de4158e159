# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The identities pkcs12_extract took out of an AES-256 and a legacy RC2-40 bundle."""

from __future__ import annotations

import pytest

from conftest import (
    PASSPHRASE,
    PKI_DIR,
    TLS_DIR,
    dcmtk_echo,
    file_certificates,
    fingerprint,
    pem_certificates,
    public_key,
    recorded,
    run_ok,
)

BUNDLES = ["aes", "legacy"]
ENCRYPTION = {
    "aes": "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC",
    "legacy": "PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC",
}


def paths(bundle):
    directory = "%s/pkcs12-%s" % (TLS_DIR, bundle)
    return directory + "/host.key", directory + "/host.crt", directory + "/ca.crt"


@pytest.mark.parametrize("bundle", BUNDLES)
def test_bundle_is_encrypted_as_claimed(host, bundle):
    # -legacy lets openssl read RC2 and changes nothing for AES; -info writes to stderr.
    info = host.run(
        "openssl pkcs12 -legacy -info -noout -in %s -passin %s",
        "%s/%s.p12" % (PKI_DIR, bundle), "pass:" + PASSPHRASE,
    )
    assert info.rc == 0, info.stderr
    assert ENCRYPTION[bundle] in info.stderr


@pytest.mark.parametrize("bundle", BUNDLES)
def test_file_owners_and_modes(host, bundle):
    key, cert, ca = paths(bundle)
    for path, mode in ((key, 0o600), (cert, 0o644), (ca, 0o644)):
        found = host.file(path)
        assert found.is_file, path
        assert (found.user, found.group, found.mode) == ("root", "root", mode), path


@pytest.mark.parametrize("bundle", BUNDLES)
def test_certificate_file_holds_leaf_then_intermediate(host, bundle):
    _key, cert, _ca = paths(bundle)
    expected = file_certificates(host, PKI_DIR + "/leaf.crt")
    expected += file_certificates(host, PKI_DIR + "/intermediate.crt")

    assert file_certificates(host, cert) == expected


@pytest.mark.parametrize("bundle", BUNDLES)
def test_ca_file_holds_the_root_only(host, bundle):
    _key, _cert, ca = paths(bundle)

    assert file_certificates(host, ca) == file_certificates(host, PKI_DIR + "/root.crt")


@pytest.mark.parametrize("bundle", BUNDLES)
def test_key_is_the_leaf_key(host, bundle):
    key, cert, _ca = paths(bundle)
    leaf_key = public_key(host, PKI_DIR + "/leaf.key", "key")

    assert public_key(host, key, "key") == leaf_key
    assert public_key(host, cert, "cert") == leaf_key


@pytest.mark.parametrize("bundle", BUNDLES)
def test_chain_verifies_against_the_extracted_root(host, bundle):
    _key, cert, ca = paths(bundle)
    out = run_ok(host, "openssl verify -CAfile %s -untrusted %s %s", ca, cert, cert)

    assert out.strip() == cert + ": OK"


@pytest.mark.parametrize("bundle", BUNDLES)
def test_results_describe_the_files(host, bundle):
    _key, cert, ca = paths(bundle)
    result = recorded(host, "pkcs12_extract-" + bundle)

    assert result["fingerprint_sha256"] == fingerprint(host, PKI_DIR + "/leaf.crt")
    # The bundle holds the intermediate and the root; the root is the anchor.
    assert (result["ca_count"], result["intermediate_count"]) == (2, 1)
    assert "CN=localhost" in result["subject"]
    assert "CN=Molecule Test Issuing CA" in result["issuer"]
    assert "CN=Molecule Test Root CA" in result["anchor_subject"]
    assert pem_certificates(result["certificate"]) == file_certificates(host, cert)[:1]
    assert pem_certificates(result["ca_certificates"]) == file_certificates(host, ca)


@pytest.mark.parametrize("bundle,port", [("aes", 11122), ("legacy", 11123)])
def test_dcmtk_association_with_the_extracted_identity(host, bundle, port):
    # storescp sends the intermediate from the certificate file; the peer trusts the root.
    key, cert, ca = paths(bundle)
    tls = ["+tls", key, cert, "+cf", ca]
    echo = dcmtk_echo(host, port, tls, tls)

    assert echo.rc == 0, echo.stdout + echo.stderr
    assert "Received Echo Response (Success)" in echo.stdout + echo.stderr
