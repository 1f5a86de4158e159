# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A host's self-signed TLS identity: what to issue, and whether to issue it again.

Private to dicom.secure_transfer. The module tls_identity wires its options to this.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import re

from ansible_collections.dicom.secure_transfer.plugins.module_utils import _x509

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover - reported by the module
    pass

# Backdating covers clocks of peers that run a little behind this host's.
BACKDATE = datetime.timedelta(minutes=5)

# Dot-separated labels of letters, digits, hyphens and underscores; '*.' may lead.
DNS_NAME = re.compile(r"^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
_CN_HINT = (
    " or IP address; the common name is also added to the subject alternative names, "
    "so it must be the host's name or address"
)

SUBJECT_FIELDS = (
    ("country", "C"),
    ("state_or_province", "ST"),
    ("locality", "L"),
    ("organization", "O"),
    ("organizational_unit", "OU"),
    ("common_name", "CN"),
)


class IdentitySpec:
    """What the user asked for, normalised for comparison with what is on disk."""

    def __init__(self, params):
        self.key_type = params["key_type"]
        self.key_size = params["key_size"]
        self.curve = params["curve"]
        self.valid_days = params["valid_days"]
        self.renew_before_days = params["renew_before_days"]
        self.subject = [
            (short, params[option]) for option, short in SUBJECT_FIELDS if params.get(option)
        ]
        self.alt_names = normalise_alt_names(
            params.get("subject_alt_names") or [], params["common_name"]
        )

    def subject_name(self):
        oids = {
            "C": NameOID.COUNTRY_NAME,
            "ST": NameOID.STATE_OR_PROVINCE_NAME,
            "L": NameOID.LOCALITY_NAME,
            "O": NameOID.ORGANIZATION_NAME,
            "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
            "CN": NameOID.COMMON_NAME,
        }
        return x509.Name([x509.NameAttribute(oids[short], value) for short, value in self.subject])

    def general_names(self):
        names = []
        for entry in self.alt_names:
            kind, value = entry.split(":", 1)
            if kind == "IP":
                names.append(x509.IPAddress(ipaddress.ip_address(value)))
            else:
                names.append(x509.DNSName(value))
        return names

    def key_reason(self, key):
        """Why the existing key cannot be kept, or None when it fits."""
        key_type, size, curve = _x509.describe_key(key)
        if key_type != self.key_type:
            return "the key is %s, %s was asked for" % (key_type, self.key_type)
        if key_type == "rsa" and size != self.key_size:
            return "the key has %d bits, %d were asked for" % (size, self.key_size)
        if key_type == "ecdsa" and curve != self.curve:
            return "the key is on curve %s, %s was asked for" % (curve, self.curve)
        return None

    def certificate_reason(self, cert, key, now):
        """Why the existing certificate must be issued again, or None when it fits."""
        if not _x509.key_matches_certificate(key, cert):
            return "the key and the certificate do not match"
        if cert.subject != self.subject_name():
            return "the subject is %s, %s was asked for" % (
                cert.subject.rfc4514_string(),
                self.subject_name().rfc4514_string(),
            )
        current = sorted(_x509.subject_alt_names(cert))
        if current != sorted(self.alt_names):
            return "the subject alternative names are %s, %s were asked for" % (
                ", ".join(current) or "none",
                ", ".join(sorted(self.alt_names)),
            )
        if not _x509.is_self_signed(cert):
            return "the certificate is not self-signed"
        remaining = _x509.not_after(cert) - now
        if remaining <= datetime.timedelta(days=self.renew_before_days):
            return "the certificate expires on %s, within %d days" % (
                _x509.isoformat(_x509.not_after(cert)),
                self.renew_before_days,
            )
        if _x509.not_before(cert) > now:
            return "the certificate is not valid before %s" % _x509.isoformat(
                _x509.not_before(cert)
            )
        return None


def normalise_alt_names(entries, common_name):
    """SAN entries as 'DNS:name' or 'IP:address'; bare values are classified.

    The common name is always included as a DNS name or IP address, since TLS clients
    that check names look only at the SAN.
    """
    result = []
    sources = [("subject_alt_names", entry) for entry in entries]
    for option, entry in sources + [("common_name", common_name)]:
        entry = str(entry).strip()
        kind, sep, value = entry.partition(":")
        if sep and kind.upper() in ("DNS", "IP"):
            kind = kind.upper()
        else:
            kind, value = None, entry
        if kind in (None, "IP"):
            try:
                value = str(ipaddress.ip_address(value))
                kind = "IP"
            except ValueError:
                if kind == "IP":
                    raise ValueError("%s: '%s' is not an IP address" % (option, entry))
                kind = "DNS"
        if kind == "DNS":
            value = value.lower()
            if not DNS_NAME.match(value):
                raise ValueError(
                    "%s: '%s' is not a DNS name%s"
                    % (option, entry, _CN_HINT if option == "common_name" else "")
                )
        name = "%s:%s" % (kind, value)
        if name not in result:
            result.append(name)
    return result


def generate_key(spec):
    if spec.key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=spec.key_size)
    curve = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1}[spec.curve]()
    return ec.generate_private_key(curve)


def issue_certificate(spec, key, now):
    """A self-signed end-entity certificate that DCMTK accepts as its own trust anchor."""
    name = spec.subject_name()
    public_key = key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    is_rsa = spec.key_type == "rsa"
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=is_rsa,
        data_encipherment=False,
        key_agreement=not is_rsa,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=spec.valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(spec.general_names()), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
            critical=False,
        )
    )
    digest = hashes.SHA384() if spec.curve == "P-384" and not is_rsa else hashes.SHA256()
    return builder.sign(key, digest)


class Plan:
    """The outcome of comparing the host's files with the spec."""

    def __init__(self, new_key, new_certificate, reason):
        self.new_key = new_key
        self.new_certificate = new_certificate
        self.reason = reason


def plan(spec, key_data, key_error, cert_data, cert_error, force, now):
    """Decide what to issue again, and why. Returns a Plan; key and cert loaded or None.

    key_error and cert_error are messages from reading the files (None when readable).
    """
    key = cert = None
    if key_error:
        return Plan(True, True, "the key is unreadable (%s)" % key_error), None, None
    if key_data is None:
        return Plan(True, True, "the key does not exist"), None, None
    try:
        key = _x509.load_private_key(key_data)
    except ValueError as exc:
        return Plan(True, True, "the key is unreadable (%s)" % exc), None, None
    reason = spec.key_reason(key)
    if reason:
        return Plan(True, True, reason), key, None

    if cert_error:
        return Plan(False, True, "the certificate is unreadable (%s)" % cert_error), key, None
    if cert_data is None:
        return Plan(False, True, "the certificate does not exist"), key, None
    try:
        certs = _x509.load_certificates(cert_data)
    except ValueError as exc:
        return Plan(False, True, "the certificate is unreadable (%s)" % exc), key, None
    if len(certs) != 1:
        return (
            Plan(False, True, "the certificate file holds %d certificates, not 1" % len(certs)),
            key,
            None,
        )
    cert = certs[0]
    reason = spec.certificate_reason(cert, key, now)
    if reason:
        return Plan(False, True, reason), key, cert
    if force:
        return Plan(True, True, "force is set"), key, cert
    return Plan(False, False, None), key, cert
