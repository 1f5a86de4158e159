# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Certificate and key checks shared by the collection's modules.

Private to dicom.secure_transfer. Written for cryptography 38 (Debian 12) and later, so it
avoids the newer conveniences (load_pem_x509_certificates, not_valid_after_utc, ...).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, ed448, padding, rsa

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the managed host
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

PEM_CERTIFICATE = re.compile(
    b"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.DOTALL
)

CURVE_NAMES = {"P-256": "secp256r1", "P-384": "secp384r1"}


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)
    if value is None:
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def not_before(cert):
    value = getattr(cert, "not_valid_before_utc", None)
    if value is None:
        value = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return value


def isoformat(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint_sha256(cert):
    digest = cert.fingerprint(hashes.SHA256())
    return ":".join("%02X" % byte for byte in bytearray(digest))


def subject_string(cert):
    return cert.subject.rfc4514_string()


def issuer_string(cert):
    return cert.issuer.rfc4514_string()


def load_certificates(data):
    """Every PEM certificate in data, in order; raises ValueError on a damaged one."""
    return [x509.load_pem_x509_certificate(block) for block in PEM_CERTIFICATE.findall(data)]


def certificates_pem(certs):
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def private_key_pem(key):
    """Unencrypted PKCS#8 PEM, what `openssl pkcs12 -nocerts -nodes` writes."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(data):
    """The private key in data (unencrypted PEM); raises ValueError when it is not one."""
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ValueError("the private key is encrypted")


def _public_der(public_key):
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches_certificate(key, cert):
    return _public_der(key.public_key()) == _public_der(cert.public_key())


def describe_key(key):
    """(type, size, curve) of a private or public key, in this collection's words."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "rsa", key.key_size, None
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        curve = key.curve.name
        for public_name, openssl_name in CURVE_NAMES.items():
            if openssl_name == curve:
                curve = public_name
        return "ecdsa", key.curve.key_size, curve
    return type(key).__name__, None, None


def signed_by(cert, issuer_public_key):
    """True when cert's signature verifies with issuer_public_key."""
    algorithm = cert.signature_hash_algorithm
    try:
        if isinstance(issuer_public_key, rsa.RSAPublicKey):
            parameters = getattr(cert, "signature_algorithm_parameters", None)
            if not isinstance(parameters, (padding.PSS, padding.PKCS1v15)):
                parameters = padding.PKCS1v15()
            issuer_public_key.verify(
                cert.signature, cert.tbs_certificate_bytes, parameters, algorithm
            )
        elif isinstance(issuer_public_key, ec.EllipticCurvePublicKey):
            issuer_public_key.verify(
                cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm)
            )
        elif isinstance(issuer_public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            issuer_public_key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def issued_by(cert, issuer):
    return cert.issuer == issuer.subject and signed_by(cert, issuer.public_key())


def is_self_signed(cert):
    return issued_by(cert, cert)


def is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def subject_alt_names(cert):
    """The SAN entries of cert as strings: 'DNS:name' and 'IP:address'."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = ["DNS:%s" % name for name in san.get_values_for_type(x509.DNSName)]
    names += ["IP:%s" % addr for addr in san.get_values_for_type(x509.IPAddress)]
    return names


def summary(cert):
    """Public facts about cert, for results and diffs."""
    return {
        "subject": subject_string(cert),
        "issuer": issuer_string(cert),
        "serial_number": "%X" % cert.serial_number,
        "not_before": isoformat(not_before(cert)),
        "not_after": isoformat(not_after(cert)),
        "fingerprint_sha256": fingerprint_sha256(cert),
    }


def build_chain(leaf, candidates):
    """Order the certificates that issued leaf, nearest first.

    Returns (intermediates, root): intermediates are the non-self-signed issuers in
    order; root is the self-signed certificate at the top, or None when the candidates
    stop short of one. Candidates that are not on leaf's path are ignored.
    """
    chain = []
    current = leaf
    pool = [cert for cert in candidates if cert != leaf]
    while True:
        if is_self_signed(current):
            return chain[:-1] if chain else [], chain[-1] if chain else None
        issuer = next((cert for cert in pool if issued_by(current, cert)), None)
        if issuer is None:
            return chain, None
        pool.remove(issuer)
        chain.append(issuer)
        current = issuer
