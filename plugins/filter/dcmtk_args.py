# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dcmtk_tls_args
short_description: Turn TLS settings into DCMTK command-line arguments
version_added: 0.1.0
description:
  - The one place that turns a host's TLS settings into the arguments of DCMTK's network
    tools (C(storescp), C(storescu), C(echoscu)), so the receiver's service and the
    sender's send job always speak the same TLS.
  - Returns a list of arguments, one element per word, ready for a systemd unit or for
    a program's argument vector. In this order, C(+tls KEY CERT), one C(+cf FILE) per
    trust file, the TLS profile option, the peer verification option and, when given,
    C(+crl FILE).
  - O(profile=auto) picks the strongest profile the installed DCMTK offers, C(+py) for
    DCMTK 3.6.7 and C(+pg) for 3.6.8 and later. Both were measured with RSA 2048 keys to
    offer TLS 1.2 (ECDHE or DHE with AES-GCM only) and TLS 1.3, to refuse TLS 1.0 and
    1.1, and to interoperate in both directions between DCMTK 3.6.7 and 3.6.9.
  - Profiles that accept TLS below 1.2 or connections without encryption (C(+px),
    C(+pa), C(+pn)) are refused.
  - Fails with a message naming the setting when a value is missing or invalid.
options:
  _input:
    description: Absolute path of the private key (PEM, unencrypted).
    type: path
    required: true
  cert_file:
    description:
      - Absolute path of the certificate (PEM), followed by its intermediates if any.
    type: path
    required: true
  trust_file:
    description:
      - Absolute path of the PEM file with the trust anchors of the peers, or a list of
        such paths. Each becomes one C(+cf).
      - Required unless O(peer_verification=ignore).
    type: raw
    default: ''
  peer_verification:
    description:
      - V(require) refuses a peer without a certificate the trust file vouches for
        (C(-rc)); V(verify) checks a certificate only when the peer sends one (C(-vc),
        C(storescp) only); V(ignore) accepts any peer (C(-ic)).
    type: str
    choices: [require, verify, ignore]
    default: require
  profile:
    description:
      - TLS profile. V(auto) is the strongest the installed DCMTK offers.
      - V(bcp195-nd) (C(+py)) and V(bcp195-ex) (C(+pz), TLS 1.2 only) exist in every
        supported version; V(8996) (C(+pg)) and V(8996-mod) (C(+pm)) from DCMTK 3.6.8.
    type: str
    choices: [auto, bcp195-nd, bcp195-ex, '8996', 8996-mod]
    default: auto
  dcmtk_version:
    description:
      - The installed DCMTK version, for example V(3.6.7) (the fact C(dcmtk_version)).
      - Required with O(profile=auto) and with the profiles of DCMTK 3.6.8.
    type: str
    default: ''
  crl_file:
    description: Absolute path of a certificate revocation list (PEM); empty for none.
    type: path
    default: ''
  side:
    description:
      - V(scp) for C(storescp), V(scu) for C(storescu) and C(echoscu), which have no
        C(-vc).
    type: str
    choices: [scp, scu]
    default: scp
"""

EXAMPLES = r"""
- name: Arguments of a receiver that requires a trusted client certificate
  ansible.builtin.set_fact:
    receiver_tls_args: >-
      {{ '/etc/dicom-tls/host.key'
         | dicom.secure_transfer.dcmtk_tls_args('/etc/dicom-tls/host.crt',
             '/etc/dicom-tls/trusted-senders.pem', dcmtk_version=dcmtk_version) }}
  # With DCMTK 3.6.7: ['+tls', '/etc/dicom-tls/host.key', '/etc/dicom-tls/host.crt',
  #   '+cf', '/etc/dicom-tls/trusted-senders.pem', '+py', '-rc']

- name: Arguments of a send job
  ansible.builtin.set_fact:
    sender_tls_args: >-
      {{ tls_identity_key_file
         | dicom.secure_transfer.dcmtk_tls_args(tls_identity_cert_file,
             trust_exchange_destination_anchor_files['archive'],
             dcmtk_version=dcmtk_version, side='scu') }}
"""

RETURN = r"""
_value:
  description: The arguments, one list element per command-line word.
  type: list
  elements: str
  sample: ['+tls', '/etc/dicom-tls/host.key', '/etc/dicom-tls/host.crt',
           '+cf', '/etc/dicom-tls/trusted-senders.pem', '+pg', '-rc']
"""

import re

from ansible.errors import AnsibleFilterError

# Measured with RSA 2048: strongest are 3.6.7 +py and 3.6.9 +pg; they interoperate both ways.
PROFILES = {
    # name: (option, first DCMTK version that offers it)
    "bcp195-nd": ("+py", (3, 6, 0)),
    "bcp195-ex": ("+pz", (3, 6, 0)),
    "8996": ("+pg", (3, 6, 8)),
    "8996-mod": ("+pm", (3, 6, 8)),
}
FIRST_RFC8996_VERSION = (3, 6, 8)

PEER_VERIFICATION = {"require": "-rc", "verify": "-vc", "ignore": "-ic"}
SIDES = ("scp", "scu")


def parse_version(value):
    """'3.6.7' (or '3.6.9-1', 'v3.6.7') -> (3, 6, 7); raises on anything else."""
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", str(value or "").strip())
    if not match:
        raise AnsibleFilterError(
            "dcmtk_tls_args: dcmtk_version %r is not a DCMTK version such as 3.6.7; pass "
            "the fact dcmtk_version set by the role dicom.secure_transfer.dcmtk" % (value,)
        )
    return tuple(int(part) for part in match.groups())


def strongest_profile(version):
    """The name of the strongest TLS profile of a DCMTK version (a tuple)."""
    return "8996" if version >= FIRST_RFC8996_VERSION else "bcp195-nd"


def profile_option(profile, dcmtk_version):
    """The option of a profile name for the installed DCMTK ('auto' resolved)."""
    profile = str(profile or "auto")
    if profile != "auto" and profile not in PROFILES:
        raise AnsibleFilterError(
            "dcmtk_tls_args: profile %r is not one of auto, %s; profiles that accept TLS "
            "below 1.2 or no encryption are not offered" % (profile, ", ".join(PROFILES))
        )
    needs_version = profile == "auto" or PROFILES[profile][1] > (3, 6, 0)
    if not needs_version:
        return PROFILES[profile][0]

    version = parse_version(dcmtk_version)
    if profile == "auto":
        profile = strongest_profile(version)
    option, since = PROFILES[profile]
    if version < since:
        raise AnsibleFilterError(
            "dcmtk_tls_args: DCMTK %s has no TLS profile '%s' (%s came with DCMTK %s); use "
            "'auto' or 'bcp195-nd'"
            % (".".join(map(str, version)), profile, option, ".".join(map(str, since)))
        )
    return option


def _absolute(value, setting):
    text = "" if value is None else str(value).strip()
    if not text:
        raise AnsibleFilterError("dcmtk_tls_args: %s is empty; it must name a file" % setting)
    if not text.startswith("/"):
        raise AnsibleFilterError(
            "dcmtk_tls_args: %s %r must be an absolute path" % (setting, text)
        )
    return text


def _trust_files(trust_file, peer_verification):
    if trust_file in (None, ""):
        files = []
    elif isinstance(trust_file, (list, tuple)):
        files = list(trust_file)
    else:
        files = [trust_file]
    if not files and peer_verification != "ignore":
        raise AnsibleFilterError(
            "dcmtk_tls_args: trust_file is empty, but peer_verification is '%s'; give the "
            "PEM file with the peers' trust anchors, or set peer_verification to 'ignore'"
            % peer_verification
        )
    return [_absolute(item, "trust_file") for item in files]


def dcmtk_tls_args(
    key_file,
    cert_file,
    trust_file="",
    peer_verification="require",
    profile="auto",
    dcmtk_version="",
    crl_file="",
    side="scp",
):
    """Arguments for DCMTK's network tools, one list element per word."""
    if side not in SIDES:
        raise AnsibleFilterError(
            "dcmtk_tls_args: side %r is not one of %s" % (side, ", ".join(SIDES))
        )
    if peer_verification not in PEER_VERIFICATION:
        raise AnsibleFilterError(
            "dcmtk_tls_args: peer_verification %r is not one of %s"
            % (peer_verification, ", ".join(PEER_VERIFICATION))
        )
    if peer_verification == "verify" and side == "scu":
        raise AnsibleFilterError(
            "dcmtk_tls_args: peer_verification 'verify' exists only for storescp; a "
            "sender verifies its receiver with 'require' (or skips it with 'ignore')"
        )

    args = ["+tls", _absolute(key_file, "key_file"), _absolute(cert_file, "cert_file")]
    for path in _trust_files(trust_file, peer_verification):
        args += ["+cf", path]
    args.append(profile_option(profile, dcmtk_version))
    args.append(PEER_VERIFICATION[peer_verification])
    if crl_file not in (None, ""):
        args += ["+crl", _absolute(crl_file, "crl_file")]
    return args


class FilterModule:
    def filters(self):
        return {"dcmtk_tls_args": dcmtk_tls_args}
