# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""pkcs12_extract's validity check and file plan, on the openssl-made bundles."""

import datetime

import pytest

from ansible_collections.dicom.secure_transfer.plugins.module_utils import (
    _files,
    _pkcs12,
    _x509,
)
from ansible_collections.dicom.secure_transfer.plugins.modules import pkcs12_extract


def params(tmp_path, **overrides):
    values = {
        name: spec.get("default") for name, spec in pkcs12_extract.ARGUMENT_SPEC.items()
    }
    values.update(
        src="/bundle.p12",
        key_path=str(tmp_path / "host.key"),
        cert_path=str(tmp_path / "host.crt"),
        ca_path=str(tmp_path / "anchor.crt"),
    )
    values.update(overrides)
    return values


def identity(pki, name):
    return _pkcs12.load_bundle(pki.read(name), pki.passphrase, name)


class TestCheckValidity:
    def test_expired_certificate_fails(self, pki, tmp_path):
        with pytest.raises(_pkcs12.BundleError) as caught:
            pkcs12_extract.check_validity(
                identity(pki, "expired.p12"), params(tmp_path), []
            )
        assert caught.value.kind == "expired"
        assert "expired on 2020-02-01T00:00:00Z" in str(caught.value)
        assert "allow_expired" in str(caught.value)

    def test_expired_certificate_with_allow_expired(self, pki, tmp_path):
        warnings = []
        pkcs12_extract.check_validity(
            identity(pki, "expired.p12"), params(tmp_path, allow_expired=True), warnings
        )
        assert warnings == []

    def test_valid_certificate(self, pki, tmp_path):
        warnings = []
        pkcs12_extract.check_validity(
            identity(pki, "aes.p12"), params(tmp_path), warnings
        )
        assert warnings == []

    def test_not_yet_valid_certificate_warns(self, pki, tmp_path, keys, root_ca):
        later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            days=3
        )
        future = _pkcs12.Identity(
            keys.get("p256"),
            root_ca.issue(keys.get("p256"), not_before=later),
            [],
            None,
            [],
        )
        warnings = []
        pkcs12_extract.check_validity(future, params(tmp_path), warnings)
        assert len(warnings) == 1
        assert "is not valid before" in warnings[0]


class TestPlanFiles:
    def test_three_files_with_their_modes(self, pki, tmp_path):
        files = pkcs12_extract.plan_files(
            identity(pki, "aes.p12"), params(tmp_path), -1, -1
        )
        assert [(f.path, f.mode) for f in files] == [
            (str(tmp_path / "host.key"), 0o600),
            (str(tmp_path / "host.crt"), 0o644),
            (str(tmp_path / "anchor.crt"), 0o644),
        ]
        assert _x509.load_certificates(files[1].content) == [
            pki.cert("leaf.crt"),
            pki.cert("intermediate.crt"),
        ]
        assert _x509.load_certificates(files[2].content) == [pki.cert("root.crt")]
        assert all(f.changed for f in files)
        assert not (tmp_path / "host.key").exists()

    def test_no_root_plans_no_ca_file(self, pki, tmp_path):
        files = pkcs12_extract.plan_files(
            identity(pki, "noroot.p12"), params(tmp_path), -1, -1
        )
        assert [f.path for f in files] == [
            str(tmp_path / "host.key"),
            str(tmp_path / "host.crt"),
        ]

    def test_world_readable_key_is_refused(self, pki, tmp_path):
        with pytest.raises(ValueError, match="^key_mode: 0604 would let"):
            pkcs12_extract.plan_files(
                identity(pki, "aes.p12"), params(tmp_path, key_mode="0604"), -1, -1
            )

    def test_missing_directory_names_the_option(self, pki, tmp_path):
        missing = str(tmp_path / "missing" / "anchor.crt")
        with pytest.raises(
            _files.FileError, match="^ca_path: directory .*missing does not exist"
        ):
            pkcs12_extract.plan_files(
                identity(pki, "aes.p12"), params(tmp_path, ca_path=missing), -1, -1
            )
