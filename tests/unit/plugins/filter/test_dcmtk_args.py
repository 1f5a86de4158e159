# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dicom.secure_transfer.plugins.filter import dcmtk_args
from ansible_collections.dicom.secure_transfer.plugins.filter.dcmtk_args import (
    dcmtk_tls_args,
)

KEY = "/etc/dicom-tls/host.key"
CERT = "/etc/dicom-tls/host.crt"
TRUST = "/etc/dicom-tls/trusted-senders.pem"


def test_receiver_on_dcmtk_367_gets_the_non_downgrading_profile():
    assert dcmtk_tls_args(KEY, CERT, TRUST, dcmtk_version="3.6.7") == [
        "+tls", KEY, CERT, "+cf", TRUST, "+py", "-rc",
    ]


@pytest.mark.parametrize("version", ["3.6.8", "3.6.9", "3.6.9-1+b1", "3.7.0"])
def test_dcmtk_368_and_later_get_the_rfc8996_profile(version):
    assert "+pg" in dcmtk_tls_args(KEY, CERT, TRUST, dcmtk_version=version)


@pytest.mark.parametrize(
    "profile, version, option",
    [
        ("bcp195-nd", "3.6.9", "+py"),
        ("bcp195-ex", "3.6.7", "+pz"),
        ("8996", "3.6.9", "+pg"),
        ("8996-mod", "3.6.9", "+pm"),
    ],
)
def test_an_explicit_profile_gives_its_option(profile, version, option):
    args = dcmtk_tls_args(KEY, CERT, TRUST, profile=profile, dcmtk_version=version)
    assert args[5] == option


def test_profiles_of_all_versions_need_no_version():
    assert dcmtk_tls_args(KEY, CERT, TRUST, profile="bcp195-nd")[5] == "+py"


def test_rfc8996_profile_on_dcmtk_367_names_the_version_that_has_it():
    message = r"DCMTK 3\.6\.7 has no TLS profile '8996'.*3\.6\.8"
    with pytest.raises(AnsibleFilterError, match=message):
        dcmtk_tls_args(KEY, CERT, TRUST, profile="8996", dcmtk_version="3.6.7")


@pytest.mark.parametrize("profile", ["bcp195", "aes", "null", "+px", "strong"])
def test_weak_or_unknown_profiles_are_refused(profile):
    with pytest.raises(AnsibleFilterError, match="is not one of auto"):
        dcmtk_tls_args(KEY, CERT, TRUST, profile=profile, dcmtk_version="3.6.7")


@pytest.mark.parametrize("version", ["", None, "latest", "3.6"])
def test_auto_profile_needs_a_version(version):
    with pytest.raises(AnsibleFilterError, match="dcmtk_version"):
        dcmtk_tls_args(KEY, CERT, TRUST, dcmtk_version=version)


@pytest.mark.parametrize(
    "verification, side, option",
    [
        ("require", "scp", "-rc"),
        ("verify", "scp", "-vc"),
        ("ignore", "scp", "-ic"),
        ("require", "scu", "-rc"),
        ("ignore", "scu", "-ic"),
    ],
)
def test_peer_verification_options(verification, side, option):
    args = dcmtk_tls_args(
        KEY, CERT, TRUST, peer_verification=verification, dcmtk_version="3.6.9", side=side
    )
    assert args[-1] == option


def test_storescu_has_no_verify_if_present():
    with pytest.raises(AnsibleFilterError, match="'verify' exists only for storescp"):
        dcmtk_tls_args(KEY, CERT, TRUST, peer_verification="verify", side="scu",
                       dcmtk_version="3.6.9")


def test_unknown_peer_verification_and_side_are_refused():
    with pytest.raises(AnsibleFilterError, match="peer_verification 'none'"):
        dcmtk_tls_args(KEY, CERT, TRUST, peer_verification="none", dcmtk_version="3.6.9")
    with pytest.raises(AnsibleFilterError, match="side 'client'"):
        dcmtk_tls_args(KEY, CERT, TRUST, side="client", dcmtk_version="3.6.9")


def test_several_trust_files_give_one_cf_each():
    args = dcmtk_tls_args(KEY, CERT, ["/a.pem", "/b.pem"], dcmtk_version="3.6.9")
    assert args[3:7] == ["+cf", "/a.pem", "+cf", "/b.pem"]


def test_trust_file_is_required_unless_peers_are_ignored():
    with pytest.raises(AnsibleFilterError, match="trust_file is empty"):
        dcmtk_tls_args(KEY, CERT, "", dcmtk_version="3.6.9")
    args = dcmtk_tls_args(KEY, CERT, "", peer_verification="ignore", dcmtk_version="3.6.9")
    assert args == ["+tls", KEY, CERT, "+pg", "-ic"]


@pytest.mark.parametrize("key, cert", [("", CERT), (KEY, None), ("host.key", CERT)])
def test_key_and_certificate_must_be_absolute_paths(key, cert):
    with pytest.raises(AnsibleFilterError, match="(key_file|cert_file)"):
        dcmtk_tls_args(key, cert, TRUST, dcmtk_version="3.6.9")


def test_crl_comes_last():
    args = dcmtk_tls_args(KEY, CERT, TRUST, dcmtk_version="3.6.9", crl_file="/etc/ca.crl")
    assert args[-2:] == ["+crl", "/etc/ca.crl"]


def test_the_filter_is_registered():
    assert dcmtk_args.FilterModule().filters()["dcmtk_tls_args"] is dcmtk_tls_args
