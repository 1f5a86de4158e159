# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading PKCS#12 bundles (.pfx/.p12) with failures a user can act on.

Private to dicom.secure_transfer. OpenSSL reports a wrong passphrase, an unsupported
legacy cipher and a damaged file alike. To tell them apart, this file reads the bundle's
outer DER structure itself and checks the passphrase against the bundle's MAC (RFC 7292,
appendix B) before cryptography decrypts anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac

from ansible_collections.dicom.secure_transfer.plugins.module_utils import _x509

try:
    from cryptography.hazmat.primitives.serialization import pkcs12
except ImportError:  # pragma: no cover - reported by the module
    pass

OID_DATA = "1.2.840.113549.1.7.1"
MAC_DIGESTS = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}


class BundleError(Exception):
    """The bundle cannot be used; kind is a short word tests and callers can check."""

    def __init__(self, kind, message):
        super(BundleError, self).__init__(message)
        self.kind = kind


# A minimal DER reader: enough for PFX, ContentInfo and MacData.


def _read_tlv(data, offset=0):
    """(tag, value, next_offset) of the DER element at offset; ValueError when malformed."""
    if offset + 2 > len(data):
        raise ValueError("truncated element")
    tag = data[offset]
    length = data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise ValueError("unsupported length encoding")
        length = int.from_bytes(data[offset:offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise ValueError("truncated element")
    return tag, data[offset:offset + length], offset + length


def _children(value):
    items = []
    offset = 0
    while offset < len(value):
        tag, content, offset = _read_tlv(value, offset)
        items.append((tag, content))
    return items


def _oid(value):
    first = value[0]
    parts = [first // 40 if first < 80 else 2, first % 40 if first < 80 else first - 80]
    number = 0
    for byte in value[1:]:
        number = (number << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(number)
            number = 0
    return ".".join(str(part) for part in parts)


class Envelope:
    """The outer structure of a PFX: the authenticated content and the MAC over it."""

    def __init__(self, auth_safe, mac_digest, mac_value, mac_salt, mac_iterations):
        self.auth_safe = auth_safe
        self.mac_digest = mac_digest
        self.mac_value = mac_value
        self.mac_salt = mac_salt
        self.mac_iterations = mac_iterations


def read_envelope(data):
    """Parse PFX { version 3, authSafe ContentInfo, macData }; ValueError if not PKCS#12."""
    tag, pfx, end = _read_tlv(data)
    if tag != 0x30 or end != len(data):
        raise ValueError("not a DER sequence")
    items = _children(pfx)
    if len(items) < 2 or items[0] != (0x02, b"\x03"):
        raise ValueError("not a PKCS#12 version 3 structure")
    content_info = _children(items[1][1])
    if len(content_info) != 2 or content_info[0][0] != 0x06:
        raise ValueError("no ContentInfo")
    if _oid(content_info[0][1]) != OID_DATA:
        # Public-key integrity mode: no passphrase MAC to check.
        return Envelope(None, None, None, None, None)
    tag, octets = _read_tlv(content_info[1][1])[:2]
    if tag != 0x04:
        return Envelope(None, None, None, None, None)
    if len(items) < 3:
        return Envelope(octets, None, None, None, None)

    mac_data = _children(items[2][1])
    digest_info = _children(mac_data[0][1])
    algorithm = _children(digest_info[0][1])
    digest = MAC_DIGESTS.get(_oid(algorithm[0][1]))
    iterations = int.from_bytes(mac_data[2][1], "big") if len(mac_data) > 2 else 1
    return Envelope(octets, digest, digest_info[1][1], mac_data[1][1], iterations)


def _kdf(password, salt, purpose, iterations, digest, size):
    """PKCS#12 key derivation (RFC 7292, B.2)."""
    u = hashlib.new(digest).digest_size
    v = hashlib.new(digest).block_size

    def stretch(value):
        if not value:
            return b""
        count = -(-len(value) // v) * v
        return (value * (count // len(value) + 1))[:count]

    buffer = bytearray(stretch(salt) + stretch(password))
    out = b""
    while len(out) < size:
        block = bytes([purpose]) * v + bytes(buffer)
        for _round in range(iterations):
            block = hashlib.new(digest, block).digest()
        out += block
        b = int.from_bytes((block * (v // u + 1))[:v], "big")
        for start in range(0, len(buffer), v):
            chunk = int.from_bytes(bytes(buffer[start:start + v]), "big")
            buffer[start:start + v] = ((chunk + b + 1) % (1 << (v * 8))).to_bytes(v, "big")
    return out[:size]


def _bmp_passwords(passphrase):
    """The encodings OpenSSL tries: BMPString with terminator; for '' also no bytes."""
    encoded = passphrase.encode("utf-16-be") + b"\x00\x00"
    return [encoded, b""] if passphrase == "" else [encoded]


def passphrase_matches(envelope, passphrase):
    """True or False when the MAC can be checked; None when it cannot (no MAC, PBMAC1...)."""
    if envelope.auth_safe is None or envelope.mac_digest is None:
        return None
    size = hashlib.new(envelope.mac_digest).digest_size
    for password in _bmp_passwords(passphrase):
        key = _kdf(
            password, envelope.mac_salt, 3, envelope.mac_iterations, envelope.mac_digest, size
        )
        mac = hmac.new(key, envelope.auth_safe, envelope.mac_digest).digest()
        if hmac.compare_digest(mac, envelope.mac_value):
            return True
    return False


class Identity:
    """What a bundle holds, sorted the way DCMTK needs it."""

    def __init__(self, key, certificate, intermediates, root, ignored):
        self.key = key
        self.certificate = certificate
        self.intermediates = intermediates
        self.root = root
        self.ignored = ignored

    @property
    def anchor(self):
        """What a peer must trust to accept this identity: the root, or a self-signed leaf."""
        if self.root is not None:
            return self.root
        if _x509.is_self_signed(self.certificate):
            return self.certificate
        return None

    @property
    def top_of_chain(self):
        return (self.intermediates or [self.certificate])[-1]


def load_bundle(data, passphrase, src):
    """Open the bundle in data; returns an Identity or raises BundleError."""
    if data.lstrip().startswith(b"-----BEGIN"):
        raise BundleError(
            "format", "src: %s is a PEM file, not a PKCS#12 bundle (.pfx/.p12)" % src
        )
    try:
        envelope = read_envelope(data)
    except (ValueError, IndexError):
        raise BundleError("format", "src: %s is not a PKCS#12 bundle (.pfx/.p12)" % src)

    matches = passphrase_matches(envelope, passphrase)
    if matches is False:
        raise BundleError(
            "passphrase",
            "passphrase: wrong passphrase for %s (the bundle's integrity check failed)" % src,
        )

    bundle = None
    errors = []
    for password in ([passphrase.encode("utf-8")] if passphrase else [b"", None]):
        try:
            bundle = pkcs12.load_pkcs12(data, password)
            break
        except (ValueError, TypeError) as exc:
            errors.append(str(exc))
    if bundle is None:
        if matches:
            raise BundleError(
                "unsupported",
                "src: the passphrase of %s is right, but the OpenSSL used by Python's "
                "cryptography on this host cannot decrypt the bundle (%s). Legacy bundles "
                "(RC2-40, 3DES) need OpenSSL's legacy provider; or export the bundle again "
                "with AES-256" % (src, "; ".join(errors)),
            )
        raise BundleError(
            "passphrase",
            "passphrase: cannot open %s: the passphrase is wrong or the bundle is damaged"
            % src,
        )

    return _sort(bundle, src)


def _sort(bundle, src):
    key = bundle.key
    others = [item.certificate for item in bundle.additional_certs]
    cert = bundle.cert.certificate if bundle.cert is not None else None
    if key is None:
        raise BundleError("no_key", "src: %s holds no private key" % src)
    if cert is None:
        if not others:
            raise BundleError("no_certificate", "src: %s holds no certificate" % src)
        cert = next((c for c in others if _x509.key_matches_certificate(key, c)), None)
        if cert is None:
            raise BundleError(
                "mismatch",
                "src: the private key in %s matches none of its %d certificates"
                % (src, len(others)),
            )
        others = [c for c in others if c is not cert]
    elif not _x509.key_matches_certificate(key, cert):
        raise BundleError(
            "mismatch",
            "src: the private key in %s does not match its certificate %s"
            % (src, _x509.subject_string(cert)),
        )

    intermediates, root = _x509.build_chain(cert, others)
    used = intermediates + ([root] if root is not None else [])
    ignored = [c for c in others if c not in used]
    return Identity(key, cert, intermediates, root, ignored)
