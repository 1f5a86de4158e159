# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures for the unit tests: the collection on sys.path, keys, a small CA.

The collection's modules import themselves as ansible_collections.dicom.secure_transfer,
so that package must be importable. Inside a checkout at
.../ansible_collections/dicom/secure_transfer (ansible-test) it already is; in a plain
clone a symlink tree under .build/collections provides it.
"""

import datetime
import os
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKI_SCRIPT = os.path.join(
    ROOT,
    "tests",
    "integration",
    "targets",
    "setup_test_pki",
    "files",
    "make-test-pki.sh",
)
PKI_PASSPHRASE = "test passphrase"


def _collections_dir():
    """The directory that holds ansible_collections/dicom/secure_transfer for ROOT."""
    parent = os.path.dirname(ROOT)
    grandparent = os.path.dirname(parent)
    if (
        os.path.basename(ROOT) == "secure_transfer"
        and os.path.basename(parent) == "dicom"
        and os.path.basename(grandparent) == "ansible_collections"
    ):
        return os.path.dirname(grandparent)

    collections = os.path.join(ROOT, ".build", "collections")
    namespace = os.path.join(collections, "ansible_collections", "dicom")
    link = os.path.join(namespace, "secure_transfer")
    if os.path.realpath(link) != os.path.realpath(ROOT):
        os.makedirs(namespace, exist_ok=True)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.relpath(ROOT, namespace), link)
    return collections


sys.path.insert(0, _collections_dir())


NOW = datetime.datetime.now(datetime.timezone.utc)


class KeyStore:
    """Keys are slow to make; each kind is generated once per session and numbered."""

    def __init__(self):
        self._keys = {}

    def get(self, kind="rsa2048", number=0):
        if (kind, number) not in self._keys:
            if kind.startswith("rsa"):
                key = rsa.generate_private_key(65537, int(kind[3:]))
            else:
                curve = {"p256": ec.SECP256R1, "p384": ec.SECP384R1}[kind]()
                key = ec.generate_private_key(curve)
            self._keys[(kind, number)] = key
        return self._keys[(kind, number)]


class TestCA:
    """A certificate authority made with cryptography, for certificates of any shape."""

    __test__ = False

    def __init__(self, keys, name, issuer=None, number=0):
        self.keys = keys
        self.key = keys.get("rsa2048", number)
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        signer = issuer or self
        self.certificate = signer._sign(
            x509.CertificateBuilder()
            .subject_name(self.name)
            .public_key(self.key.public_key())
            .add_extension(
                x509.BasicConstraints(ca=True, path_length=None), critical=True
            ),
            NOW - datetime.timedelta(days=1),
            NOW + datetime.timedelta(days=365),
        )

    def _sign(self, builder, not_before, not_after):
        return (
            builder.issuer_name(self.name)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .sign(self.key, hashes.SHA256())
        )

    def intermediate(self, name, number=1):
        return TestCA(self.keys, name, issuer=self, number=number)

    def issue(self, key, common_name="localhost", days=30, not_before=None):
        """An end-entity certificate for key; not_before defaults to a day ago."""
        start = not_before or NOW - datetime.timedelta(days=1)
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
            )
            .public_key(key.public_key())
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        return self._sign(builder, start, start + datetime.timedelta(days=days))


@pytest.fixture(scope="session")
def keys():
    return KeyStore()


@pytest.fixture(scope="session")
def root_ca(keys):
    return TestCA(keys, "Unit Test Root CA", number=10)


class PKI:
    """The files make-test-pki.sh wrote: CA certificates, leaves, keys and bundles."""

    def __init__(self, directory, passphrase):
        self.dir = directory
        self.passphrase = passphrase

    def read(self, name):
        return (self.dir / name).read_bytes()

    def cert(self, name):
        return x509.load_pem_x509_certificate(self.read(name))

    def key(self, name):
        return serialization.load_pem_private_key(self.read(name), password=None)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """The openssl-made PKI and bundles of tests/integration/targets/setup_test_pki."""
    directory = tmp_path_factory.mktemp("pki")
    subprocess.run(["sh", PKI_SCRIPT, str(directory), PKI_PASSPHRASE], check=True)
    return PKI(directory, PKI_PASSPHRASE)
