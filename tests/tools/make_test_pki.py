#!/usr/bin/env python3
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a throw-away PKI for tests: CAs (root and intermediate), leaf certificates
for DICOM hosts, and PKCS#12 bundles protected by a passphrase.

    make_test_pki.py --out DIR --passphrase PASS --leaf SPEC [--leaf SPEC ...]
                     [--revoked NAME:CA ...]

SPEC is NAME:CA:ENCRYPTION:CHAIN
  NAME        host name; the leaf's common name and DNS subject alternative name
  CA          label of the issuing CA; one root and one intermediate per label
  ENCRYPTION  aes     AES-256-CBC, PBKDF2, SHA-256 MAC (what OpenSSL 3 writes)
              legacy  RC2-40 certificates and 3DES key, SHA-1 MAC
                      (`openssl pkcs12 -export -legacy`, as older tools write)
  CHAIN       full    leaf, intermediate and root in the bundle
              no-root leaf and intermediate only; the root is given separately

--revoked NAME:CA issues one more leaf from that CA, written as <NAME>.key and <NAME>.crt
(the leaf followed by the intermediate, as DCMTK's +tls takes it), and revokes it.

Writes into DIR: ca-<CA>-root.crt (the trust anchor of that CA), ca-<CA>-root.key,
ca-<CA>-intermediate.{crt,key}, <NAME>.pfx, <NAME>.crt (the leaf, for checks), and the
CRLs (PEM) of each CA: ca-<CA>-intermediate.crl, which lists the revoked leaves, and
ca-<CA>-root.crl, which lists nothing. Both are valid for 30 days.
When DIR already holds a PKI built with the same arguments, nothing is rebuilt, so
the scenario's converge and idempotence runs see the same certificates.
The legacy bundles need the openssl command line tool.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ENCRYPTIONS = ("aes", "legacy")
CHAINS = ("full", "no-root")
SPEC_FILE = "pki-spec.json"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, "dicom.secure_transfer tests"
            ),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def issue(subject, subject_key, issuer, issuer_key, ca, path_length=None, dns=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length), critical=True
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                (issuer_key if issuer else subject_key).public_key()
            ),
            critical=False,
        )
    )
    if ca:
        usage = dict(
            key_cert_sign=True,
            crl_sign=True,
            digital_signature=False,
            key_encipherment=False,
        )
    else:
        usage = dict(
            key_cert_sign=False,
            crl_sign=False,
            digital_signature=True,
            key_encipherment=True,
        )
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        ).add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False
        )
    builder = builder.add_extension(
        x509.KeyUsage(
            content_commitment=False,
            data_encipherment=False,
            key_agreement=False,
            encipher_only=False,
            decipher_only=False,
            **usage
        ),
        critical=True,
    )
    return builder.sign(issuer_key if issuer else subject_key, hashes.SHA256())


def write(path, data, mode=0o644):
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_ca(out, label):
    root_key, inter_key = new_key(), new_key()
    root = issue(name("Test Root CA %s" % label), root_key, None, None, ca=True)
    inter = issue(
        name("Test Issuing CA %s" % label),
        inter_key,
        root,
        root_key,
        ca=True,
        path_length=0,
    )
    for part, cert, key in (
        ("root", root, root_key),
        ("intermediate", inter, inter_key),
    ):
        write(os.path.join(out, "ca-%s-%s.crt" % (label, part)), pem(cert))
        write(os.path.join(out, "ca-%s-%s.key" % (label, part)), key_pem(key), 0o600)
    return {
        "root": root,
        "root_key": root_key,
        "intermediate": inter,
        "intermediate_key": inter_key,
    }


def export_legacy(out, host, key, cert, chain, passphrase):
    """RC2-40 as `openssl pkcs12 -export -legacy` writes it; cryptography cannot."""
    base = os.path.join(out, host)
    write(base + ".key.tmp", key_pem(key), 0o600)
    write(base + ".chain.tmp", b"".join(pem(c) for c in chain))
    try:
        subprocess.run(
            [
                "openssl",
                "pkcs12",
                "-export",
                "-legacy",
                "-passout",
                "env:TEST_PKI_PASS",
                "-inkey",
                base + ".key.tmp",
                "-in",
                base + ".crt",
                "-certfile",
                base + ".chain.tmp",
                "-name",
                host,
                "-out",
                base + ".pfx",
            ],
            check=True,
            env=dict(os.environ, TEST_PKI_PASS=passphrase),
        )
    finally:
        os.unlink(base + ".key.tmp")
        os.unlink(base + ".chain.tmp")
    os.chmod(base + ".pfx", 0o600)


def make_leaf(out, spec, cas, passphrase):
    host, label, encryption, chain_kind = spec
    ca = cas[label]
    key = new_key()
    cert = issue(
        name(host), key, ca["intermediate"], ca["intermediate_key"], ca=False, dns=host
    )
    write(os.path.join(out, host + ".crt"), pem(cert))
    chain = [ca["intermediate"]]
    if chain_kind == "full":
        chain.append(ca["root"])
    if encryption == "legacy":
        export_legacy(out, host, key, cert, chain, passphrase)
        return
    data = pkcs12.serialize_key_and_certificates(
        host.encode(),
        key,
        cert,
        chain,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    write(os.path.join(out, host + ".pfx"), data, 0o600)


def make_revoked(out, spec, cas):
    """A leaf of CA (key and chain as PEM files), returned for the CA's CRL."""
    host, label = spec
    ca = cas[label]
    key = new_key()
    cert = issue(
        name(host), key, ca["intermediate"], ca["intermediate_key"], ca=False, dns=host
    )
    write(os.path.join(out, host + ".key"), key_pem(key), 0o600)
    write(os.path.join(out, host + ".crt"), pem(cert) + pem(ca["intermediate"]))
    return cert


def write_crl(path, issuer, issuer_key, revoked):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - datetime.timedelta(minutes=5))
        .next_update(now + datetime.timedelta(days=30))
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - datetime.timedelta(minutes=1))
            .build()
        )
    crl = builder.sign(issuer_key, hashes.SHA256())
    write(path, crl.public_bytes(serialization.Encoding.PEM))


def parse_revoked(text):
    parts = text.split(":")
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError("expected NAME:CA, got %r" % text)
    return tuple(parts)


def parse_spec(text):
    parts = text.split(":")
    if len(parts) != 4 or not all(parts):
        raise argparse.ArgumentTypeError(
            "expected NAME:CA:ENCRYPTION:CHAIN, got %r" % text
        )
    if parts[2] not in ENCRYPTIONS:
        raise argparse.ArgumentTypeError(
            "encryption must be one of %s" % ", ".join(ENCRYPTIONS)
        )
    if parts[3] not in CHAINS:
        raise argparse.ArgumentTypeError("chain must be one of %s" % ", ".join(CHAINS))
    return tuple(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--passphrase", required=True)
    parser.add_argument("--leaf", type=parse_spec, action="append", required=True)
    parser.add_argument("--revoked", type=parse_revoked, action="append", default=[])
    args = parser.parse_args(argv)

    wanted = json.dumps(
        {"leaves": args.leaf, "passphrase": args.passphrase, "revoked": args.revoked}
    )
    spec_path = os.path.join(args.out, SPEC_FILE)
    if os.path.exists(spec_path):
        with open(spec_path) as handle:
            if handle.read() == wanted:
                print("make_test_pki: %s is up to date" % args.out)
                return 0
        os.unlink(spec_path)

    os.makedirs(args.out, exist_ok=True)
    cas = {}
    for spec in args.leaf:
        if spec[1] not in cas:
            cas[spec[1]] = make_ca(args.out, spec[1])
        make_leaf(args.out, spec, cas, args.passphrase)
    revoked = {label: [] for label in cas}
    for spec in args.revoked:
        if spec[1] not in cas:
            parser.error(
                "--revoked %s: no --leaf names the CA %s" % (":".join(spec), spec[1])
            )
        revoked[spec[1]].append(make_revoked(args.out, spec, cas))
    for label, ca in cas.items():
        base = os.path.join(args.out, "ca-%s-" % label)
        write_crl(
            base + "intermediate.crl",
            ca["intermediate"],
            ca["intermediate_key"],
            revoked[label],
        )
        write_crl(base + "root.crl", ca["root"], ca["root_key"], [])
    write(spec_path, wanted.encode(), 0o600)
    print(
        "make_test_pki: wrote %d CA(s) and %d bundle(s) into %s"
        % (len(cas), len(args.leaf), args.out)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
