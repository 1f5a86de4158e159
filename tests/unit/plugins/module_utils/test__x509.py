# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Certificate helpers both modules share: PEM handling, signatures, chain order."""

import pytest

from ansible_collections.dicom.secure_transfer.plugins.module_utils import _x509


@pytest.fixture(scope="module")
def chain(keys, root_ca):
    """(leaf, intermediate, root, unrelated root) made with cryptography."""
    intermediate = root_ca.intermediate("Unit Test Issuing CA", number=11)
    unrelated = type(root_ca)(keys, "Unit Test Other Root", number=12)
    leaf = intermediate.issue(keys.get("p256"))
    return leaf, intermediate.certificate, root_ca.certificate, unrelated.certificate


class TestPem:
    def test_load_certificates_keeps_order_and_skips_text(self, chain):
        leaf, intermediate, root, _unrelated = chain
        data = b"Bag Attributes\n" + _x509.certificates_pem([root, leaf]) + b"trailer\n"
        assert _x509.load_certificates(data) == [root, leaf]
        assert _x509.load_certificates(b"no certificate here") == []

    def test_damaged_certificate_raises(self):
        with pytest.raises(ValueError):
            _x509.load_certificates(
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            )

    def test_private_key_round_trip(self, keys):
        key = keys.get("rsa2048")
        pem = _x509.private_key_pem(key)
        assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
        assert _x509.private_key_pem(_x509.load_private_key(pem)) == pem

    def test_not_a_key(self):
        with pytest.raises(ValueError):
            _x509.load_private_key(b"nothing")


class TestSignatures:
    def test_issued_by(self, chain):
        leaf, intermediate, root, unrelated = chain
        assert _x509.issued_by(leaf, intermediate)
        assert _x509.issued_by(intermediate, root)
        assert not _x509.issued_by(leaf, root)
        assert not _x509.issued_by(intermediate, unrelated)

    def test_same_name_other_key_is_not_the_issuer(self, keys, root_ca):
        impostor = type(root_ca)(keys, "Unit Test Root CA", number=13)
        intermediate = root_ca.intermediate("Unit Test Issuing CA", number=11)
        assert intermediate.certificate.issuer == impostor.certificate.subject
        assert not _x509.issued_by(intermediate.certificate, impostor.certificate)

    def test_self_signed_and_ca(self, chain):
        leaf, intermediate, root, _unrelated = chain
        assert _x509.is_self_signed(root)
        assert not _x509.is_self_signed(intermediate)
        assert _x509.is_ca(root) and _x509.is_ca(intermediate)
        assert not _x509.is_ca(leaf)


class TestBuildChain:
    def test_sorts_and_ignores_unrelated(self, chain):
        leaf, intermediate, root, unrelated = chain
        assert _x509.build_chain(leaf, [unrelated, root, leaf, intermediate]) == (
            [intermediate],
            root,
        )

    def test_no_root(self, chain):
        leaf, intermediate, _root, unrelated = chain
        assert _x509.build_chain(leaf, [unrelated, intermediate]) == (
            [intermediate],
            None,
        )

    def test_nothing_above_the_leaf(self, chain):
        leaf, _intermediate, root, _unrelated = chain
        assert _x509.build_chain(leaf, []) == ([], None)
        assert _x509.build_chain(leaf, [root]) == ([], None)

    def test_self_signed_leaf(self, chain):
        _leaf, _intermediate, root, unrelated = chain
        assert _x509.build_chain(root, [unrelated]) == ([], None)


class TestDescribe:
    @pytest.mark.parametrize(
        "kind, expected",
        [("rsa2048", ("rsa", 2048, None)), ("p384", ("ecdsa", 384, "P-384"))],
    )
    def test_describe_key(self, keys, kind, expected):
        assert _x509.describe_key(keys.get(kind)) == expected
        assert _x509.describe_key(keys.get(kind).public_key()) == expected

    def test_summary(self, chain):
        leaf, _intermediate, _root, _unrelated = chain
        facts = _x509.summary(leaf)
        assert facts["subject"] == "CN=localhost"
        assert facts["issuer"] == "CN=Unit Test Issuing CA"
        assert facts["serial_number"] == "%X" % leaf.serial_number
        assert len(facts["fingerprint_sha256"].split(":")) == 32
        assert facts["not_after"].endswith("Z")
