# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The checks tls_identity makes on its options before touching any file."""

import pytest

from ansible_collections.dicom.secure_transfer.plugins.modules import tls_identity


def params(**overrides):
    values = {
        name: spec.get("default") for name, spec in tls_identity.ARGUMENT_SPEC.items()
    }
    values.update(key_path="/k", cert_path="/c", common_name="rx1.example.org")
    values.update(overrides)
    return values


def test_defaults_are_valid():
    assert tls_identity.validate(params()) == (0o600, 0o644)


def test_numeric_modes_from_yaml():
    assert tls_identity.validate(params(key_mode=0o640, cert_mode=0o444)) == (
        0o640,
        0o444,
    )


def test_world_readable_key_is_refused_even_when_removing():
    with pytest.raises(ValueError, match="^key_mode: 0644 would let every user"):
        tls_identity.validate(params(state="absent", key_mode="0644"))


def test_absent_needs_no_common_name():
    assert tls_identity.validate(params(state="absent", common_name=None)) == (
        0o600,
        0o644,
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(common_name=None), "common_name is required when state is present"),
        (dict(valid_days=0), "valid_days must be at least 1"),
        (
            dict(valid_days=30, renew_before_days=30),
            r"renew_before_days \(30\) must be",
        ),
        (dict(renew_before_days=-1), r"renew_before_days \(-1\) must be at least 0"),
        (
            dict(country="BEL"),
            "country must be a two-letter code such as BE, got 'BEL'",
        ),
        (dict(country="B1"), "country must be a two-letter code"),
        (dict(cert_mode="rw-r--r--"), "cert_mode: 'rw-r--r--' is not an octal"),
    ],
)
def test_refusals(overrides, message):
    with pytest.raises(ValueError, match=message):
        tls_identity.validate(params(**overrides))
