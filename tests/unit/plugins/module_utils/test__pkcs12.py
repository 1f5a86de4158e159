# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""pkcs12_extract's logic on bundles made by the openssl CLI and by cryptography."""

import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.dicom.secure_transfer.plugins.module_utils import (
    _pkcs12,
    _x509,
)


def openssl_export(pki, out, passphrase, *args):
    """A bundle of leaf.key and leaf.crt exported with extra openssl arguments."""
    path = pki.dir / out
    subprocess.run(
        ["openssl", "pkcs12", "-export", "-passout", "pass:" + passphrase]
        + ["-inkey", str(pki.dir / "leaf.key"), "-in", str(pki.dir / "leaf.crt")]
        + list(args)
        + ["-out", str(path)],
        check=True,
        capture_output=True,
    )
    return path.read_bytes()


def crypto_bundle(key, leaf, cas, passphrase):
    return pkcs12.serialize_key_and_certificates(
        b"dicom test",
        key,
        leaf,
        cas,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )


def bundle_error(data, passphrase):
    with pytest.raises(_pkcs12.BundleError) as caught:
        _pkcs12.load_bundle(data, passphrase, "/etc/dicom-tls/host.pfx")
    return caught.value


class TestReadEnvelope:
    @pytest.mark.parametrize(
        "name, digest",
        [("aes.p12", "sha256"), ("3des.p12", "sha256"), ("legacy.p12", "sha1")],
    )
    def test_reads_the_mac_of_real_bundles(self, pki, name, digest):
        envelope = _pkcs12.read_envelope(pki.read(name))
        assert envelope.mac_digest == digest
        assert envelope.mac_iterations == 2048
        assert len(envelope.mac_salt) == 8
        assert len(envelope.mac_value) == {"sha1": 20, "sha256": 32}[digest]
        assert envelope.auth_safe.startswith(b"\x30")

    def test_bundle_without_mac(self, pki):
        envelope = _pkcs12.read_envelope(pki.read("nomac.p12"))
        assert envelope.auth_safe is not None
        assert envelope.mac_digest is None

    def test_mac_without_iteration_count_means_one(self, pki):
        data = openssl_export(pki, "nomaciter.p12", pki.passphrase, "-nomaciter")
        assert _pkcs12.read_envelope(data).mac_iterations == 1

    @pytest.mark.parametrize(
        "data",
        [
            b"",
            b"\x30",
            b"garbage that is not DER",
            b"\x30\x03\x02\x01\x03",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x85\x01\x01\x01\x01\x01",
        ],
        ids=["empty", "one-byte", "text", "no-content-info", "overlong", "huge-length"],
    )
    def test_garbage_is_refused(self, data):
        with pytest.raises((ValueError, IndexError)):
            _pkcs12.read_envelope(data)

    def test_certificate_in_der_is_refused(self, pki):
        der = pki.cert("leaf.crt").public_bytes(serialization.Encoding.DER)
        with pytest.raises(ValueError, match="version 3"):
            _pkcs12.read_envelope(der)

    def test_truncated_bundle_is_refused(self, pki):
        with pytest.raises(ValueError, match="not a DER sequence|truncated"):
            _pkcs12.read_envelope(pki.read("aes.p12")[:-40])

    def test_trailing_bytes_are_refused(self, pki):
        with pytest.raises(ValueError, match="not a DER sequence"):
            _pkcs12.read_envelope(pki.read("aes.p12") + b"\x00")


class TestPassphraseMatches:
    @pytest.mark.parametrize("name", ["aes.p12", "3des.p12", "legacy.p12"])
    def test_right_and_wrong(self, pki, name):
        envelope = _pkcs12.read_envelope(pki.read(name))
        assert _pkcs12.passphrase_matches(envelope, pki.passphrase) is True
        assert _pkcs12.passphrase_matches(envelope, pki.passphrase + " ") is False
        assert _pkcs12.passphrase_matches(envelope, "") is False

    def test_empty_passphrase(self, pki):
        envelope = _pkcs12.read_envelope(pki.read("nopass.p12"))
        assert _pkcs12.passphrase_matches(envelope, "") is True
        assert _pkcs12.passphrase_matches(envelope, pki.passphrase) is False

    def test_empty_passphrase_of_a_cryptography_bundle(self, pki):
        data = pkcs12.serialize_key_and_certificates(
            None,
            pki.key("leaf.key"),
            pki.cert("leaf.crt"),
            None,
            serialization.NoEncryption(),
        )
        envelope = _pkcs12.read_envelope(data)
        assert _pkcs12.passphrase_matches(envelope, "") is True
        assert _pkcs12.passphrase_matches(envelope, "x") is False
        assert _pkcs12.load_bundle(data, "", "b.p12").certificate == pki.cert(
            "leaf.crt"
        )

    @pytest.mark.parametrize("digest", ["sha1", "sha512"])
    def test_other_mac_digests(self, pki, digest):
        data = openssl_export(pki, "mac-%s.p12" % digest, "secret", "-macalg", digest)
        envelope = _pkcs12.read_envelope(data)
        assert envelope.mac_digest == digest
        assert _pkcs12.passphrase_matches(envelope, "secret") is True
        assert _pkcs12.passphrase_matches(envelope, "Secret") is False

    def test_single_iteration_mac(self, pki):
        data = openssl_export(pki, "nomaciter.p12", pki.passphrase, "-nomaciter")
        envelope = _pkcs12.read_envelope(data)
        assert _pkcs12.passphrase_matches(envelope, pki.passphrase) is True
        assert _pkcs12.passphrase_matches(envelope, "wrong") is False

    def test_non_ascii_passphrase(self, pki):
        passphrase = "Pässwört €"
        data = openssl_export(pki, "utf8.p12", passphrase)
        envelope = _pkcs12.read_envelope(data)
        assert _pkcs12.passphrase_matches(envelope, passphrase) is True
        assert _pkcs12.passphrase_matches(envelope, "Passwort €") is False
        identity = _pkcs12.load_bundle(data, passphrase, "utf8.p12")
        assert identity.certificate == pki.cert("leaf.crt")

    def test_no_mac_cannot_be_checked(self, pki):
        envelope = _pkcs12.read_envelope(pki.read("nomac.p12"))
        assert _pkcs12.passphrase_matches(envelope, pki.passphrase) is None


class TestLoadBundle:
    @pytest.mark.parametrize("name", ["aes.p12", "3des.p12", "legacy.p12"])
    def test_key_certificate_and_sorted_chain(self, pki, name):
        identity = _pkcs12.load_bundle(pki.read(name), pki.passphrase, name)
        assert _x509.private_key_pem(identity.key) == _x509.private_key_pem(
            pki.key("leaf.key")
        )
        assert identity.certificate == pki.cert("leaf.crt")
        # chain.pem puts the root first; the intermediate must come first after sorting.
        assert identity.intermediates == [pki.cert("intermediate.crt")]
        assert identity.root == pki.cert("root.crt")
        assert identity.anchor == pki.cert("root.crt")
        assert identity.ignored == []

    def test_empty_passphrase(self, pki):
        identity = _pkcs12.load_bundle(pki.read("nopass.p12"), "", "nopass.p12")
        assert identity.certificate == pki.cert("leaf.crt")

    def test_bundle_without_root(self, pki):
        identity = _pkcs12.load_bundle(pki.read("noroot.p12"), pki.passphrase, "n")
        assert identity.intermediates == [pki.cert("intermediate.crt")]
        assert identity.root is None
        assert identity.anchor is None
        assert identity.top_of_chain == pki.cert("intermediate.crt")

    def test_leaf_alone(self, pki):
        data = openssl_export(pki, "leafonly.p12", pki.passphrase)
        identity = _pkcs12.load_bundle(data, pki.passphrase, "leafonly.p12")
        assert (identity.intermediates, identity.root, identity.anchor) == (
            [],
            None,
            None,
        )
        assert identity.top_of_chain == pki.cert("leaf.crt")

    def test_unrelated_certificates_are_ignored(self, pki):
        identity = _pkcs12.load_bundle(pki.read("unrelated.p12"), pki.passphrase, "u")
        assert identity.intermediates == [pki.cert("intermediate.crt")]
        assert identity.root == pki.cert("root.crt")
        assert identity.ignored == [pki.cert("unrelated.crt")]

    def test_self_signed_leaf_is_its_own_anchor(self, pki):
        identity = _pkcs12.load_bundle(pki.read("selfsigned.p12"), pki.passphrase, "s")
        assert identity.root is None
        assert identity.intermediates == []
        assert identity.anchor == pki.cert("selfsigned.crt")

    def test_chain_sorting_of_a_cryptography_bundle(self, pki):
        scrambled = [
            pki.cert("unrelated.crt"),
            pki.cert("root.crt"),
            pki.cert("intermediate.crt"),
        ]
        data = crypto_bundle(
            pki.key("leaf.key"), pki.cert("leaf.crt"), scrambled, pki.passphrase
        )
        identity = _pkcs12.load_bundle(data, pki.passphrase, "c.p12")
        assert identity.intermediates == [pki.cert("intermediate.crt")]
        assert identity.root == pki.cert("root.crt")
        assert identity.ignored == [pki.cert("unrelated.crt")]

    def test_certificate_found_among_the_others(self, pki):
        """The host certificate sits among the CA certificates, not next to the key."""
        data = crypto_bundle(
            pki.key("leaf.key"),
            None,
            [pki.cert("root.crt"), pki.cert("leaf.crt"), pki.cert("intermediate.crt")],
            pki.passphrase,
        )
        identity = _pkcs12.load_bundle(data, pki.passphrase, "c.p12")
        assert identity.certificate == pki.cert("leaf.crt")
        assert identity.intermediates == [pki.cert("intermediate.crt")]
        assert identity.root == pki.cert("root.crt")


class TestLoadBundleErrors:
    @pytest.mark.parametrize(
        "data",
        [b"", b"PK\x03\x04 a zip file", b"\x30\x03\x02\x01\x03"],
        ids=["empty", "zip", "no-content-info"],
    )
    def test_not_pkcs12(self, data):
        error = bundle_error(data, "any")
        assert error.kind == "format"
        assert (
            str(error)
            == "src: /etc/dicom-tls/host.pfx is not a PKCS#12 bundle (.pfx/.p12)"
        )

    def test_truncated(self, pki):
        assert bundle_error(pki.read("aes.p12")[:100], pki.passphrase).kind == "format"

    def test_pem_file(self, pki):
        error = bundle_error(b"\n" + pki.read("leaf.crt"), pki.passphrase)
        assert error.kind == "format"
        assert "is a PEM file, not a PKCS#12 bundle" in str(error)

    @pytest.mark.parametrize(
        "name", ["aes.p12", "3des.p12", "legacy.p12", "nopass.p12"]
    )
    def test_wrong_passphrase(self, pki, name):
        error = bundle_error(pki.read(name), "wrong")
        assert error.kind == "passphrase"
        assert str(error).startswith("passphrase: wrong passphrase for ")

    def test_missing_passphrase(self, pki):
        assert bundle_error(pki.read("aes.p12"), "").kind == "passphrase"

    def test_wrong_passphrase_without_mac(self, pki):
        error = bundle_error(pki.read("nomac.p12"), "wrong")
        assert error.kind == "passphrase"
        assert "the passphrase is wrong or the bundle is damaged" in str(error)

    def test_no_key(self, pki):
        error = bundle_error(pki.read("nokeys.p12"), pki.passphrase)
        assert error.kind == "no_key"
        assert str(error) == "src: /etc/dicom-tls/host.pfx holds no private key"

    def test_no_certificate(self, pki):
        error = bundle_error(pki.read("nocerts.p12"), pki.passphrase)
        assert error.kind == "no_certificate"
        assert str(error) == "src: /etc/dicom-tls/host.pfx holds no certificate"

    def test_key_of_another_certificate_made_by_openssl(self, pki):
        error = bundle_error(pki.read("mismatch.p12"), pki.passphrase)
        assert error.kind == "mismatch"
        assert "matches none of its 1 certificates" in str(error)

    def test_key_of_another_certificate_made_by_cryptography(self, pki):
        data = crypto_bundle(
            pki.key("other.key"),
            None,
            [pki.cert("leaf.crt"), pki.cert("intermediate.crt"), pki.cert("root.crt")],
            pki.passphrase,
        )
        error = bundle_error(data, pki.passphrase)
        assert error.kind == "mismatch"
        assert "matches none of its 3 certificates" in str(error)

    def test_key_that_does_not_match_the_host_certificate(self, pki):
        # Neither openssl nor cryptography write such a bundle; build what they would
        # read from one.
        bundle = pkcs12.PKCS12KeyAndCertificates(
            pki.key("other.key"),
            pkcs12.PKCS12Certificate(pki.cert("leaf.crt"), None),
            [],
        )
        with pytest.raises(_pkcs12.BundleError) as caught:
            _pkcs12._sort(bundle, "h.pfx")
        assert caught.value.kind == "mismatch"
        assert str(caught.value) == (
            "src: the private key in h.pfx does not match its certificate CN=localhost"
        )

    def test_legacy_cipher_without_openssl_legacy_provider(self, pki):
        # cryptography reads this variable when it loads; a fresh interpreter is needed.
        script = (
            "import sys\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "from ansible_collections.dicom.secure_transfer.plugins.module_utils "
            "import _pkcs12\n"
            "try:\n"
            "    data = open(sys.argv[2], 'rb').read()\n"
            "    _pkcs12.load_bundle(data, sys.argv[3], 'l')\n"
            "except _pkcs12.BundleError as exc:\n"
            "    print(exc.kind)\n"
            "    print(exc)\n"
        )
        collections = _pkcs12.__file__.rsplit(
            os.sep + "ansible_collections" + os.sep, 1
        )[0]
        result = subprocess.run(
            [sys.executable, "-c", script, collections]
            + [str(pki.dir / "legacy.p12"), pki.passphrase],
            env=dict(os.environ, CRYPTOGRAPHY_OPENSSL_NO_LEGACY="1"),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        kind, message = result.stdout.split("\n", 1)
        assert kind == "unsupported"
        assert "the passphrase of l is right" in message
        assert "legacy provider" in message
