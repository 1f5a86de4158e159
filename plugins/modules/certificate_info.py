#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: certificate_info
short_description: Describe the certificates in PEM files on a DICOM host
version_added: 0.1.0
description:
  - Reads PEM files on the managed host and returns, for each certificate in them, its
    subject, issuer, validity and SHA-256 fingerprint, in the formats the module
    M(dicom.secure_transfer.tls_identity) returns.
  - A file may hold several certificates, such as a certificate followed by its
    intermediates, or a trust bundle; each is described, in the order of the file.
  - Changes nothing. A file that is missing, unreadable, holds no certificate or a
    damaged one does not fail the module; its entry in RV(files) says what is wrong, so a
    caller can report every host and file in one run.
  - Returns only public facts. Text outside the certificate blocks is never returned,
    except the C(# trusted for:) comment lines the role C(trust_exchange) writes before
    each anchor of a bundle. Do not point it at private keys; it has no use for them.
author:
  - dicom.secure_transfer maintainers (@dicom-secure-transfer)
requirements:
  - cryptography >= 38.0 on the managed host (Debian package C(python3-cryptography))
attributes:
  check_mode:
    support: full
    description: Reads the files in check mode too, since it changes nothing.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  safe_file_operations:
    support: none
    description: Writes no file.
options:
  paths:
    description:
      - The PEM files to read, absolute paths on the managed host.
      - An entry with shell wildcards (V(*), V(?), V([)) stands for the files it matches,
        in sorted order, or for none. A plain path is always reported, with
        RV(files[].exists=false) when the file is missing.
    type: list
    elements: path
    required: true
seealso:
  - module: dicom.secure_transfer.tls_identity
  - module: dicom.secure_transfer.pkcs12_extract
"""

EXAMPLES = r"""
- name: Read a host's identity and trust files
  dicom.secure_transfer.certificate_info:
    paths:
      - /etc/dicom-tls/host.crt
      - /etc/dicom-tls/anchor.crt
      - /etc/dicom-tls/trusted-senders.pem
      - /etc/dicom-tls/destinations/*.pem
  become: true
  register: tls_files

- name: Show when the host's certificate expires
  ansible.builtin.debug:
    msg: "{{ tls_files.files[0].certificates[0].not_after }}"
  when: tls_files.files[0].certificates | length > 0
"""

RETURN = r"""
files:
  description: One entry per file read, in the order of O(paths), wildcards expanded.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file's path.
      type: str
      sample: /etc/dicom-tls/host.crt
    exists:
      description: Whether the file exists.
      type: bool
      sample: true
    error:
      description:
        - Why the file could not be used (unreadable, no PEM certificate in it, a damaged
          certificate), or null.
      type: str
      sample: /etc/dicom-tls/anchor.crt holds no PEM certificate
    certificates:
      description: The certificates of the file, in order; empty when it has an error.
      type: list
      elements: dict
      contains:
        subject:
          description: Subject (RFC 4514).
          type: str
          sample: CN=rx1.example.org,O=Example Hospital,C=BE
        issuer:
          description: Issuer (RFC 4514).
          type: str
          sample: CN=rx1.example.org,O=Example Hospital,C=BE
        serial_number:
          description: Serial number, upper-case hex.
          type: str
          sample: 4F1A09C2
        not_before:
          description: Start of the validity (UTC, ISO 8601).
          type: str
          sample: "2026-12-03T10:00:00Z"
        not_after:
          description: End of the validity (UTC, ISO 8601).
          type: str
          sample: "2027-12-03T10:00:00Z"
        fingerprint_sha256:
          description: SHA-256 fingerprint, colon-separated upper-case hex.
          type: str
          sample: "3A:F1:...:09"
        self_signed:
          description: Whether the certificate is signed by its own key.
          type: bool
          sample: true
        ca:
          description: Whether its basic constraints make it a CA.
          type: bool
          sample: false
        trusted_for:
          description:
            - The names of the C(# trusted for:) line right before the certificate in a
              trust bundle; empty when there is none.
          type: list
          elements: str
          sample: [tx1, tx2]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dicom.secure_transfer.plugins.module_utils import (
    _certificate_files,
    _common,
)

ARGUMENT_SPEC = dict(
    paths=dict(type="list", elements="path", required=True),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    _common.require_cryptography(module)

    relative = [path for path in module.params["paths"] if not path.startswith("/")]
    if relative:
        module.fail_json(msg="paths must be absolute, got %s" % ", ".join(relative))

    files = [
        _certificate_files.inspect(path)
        for path in _certificate_files.expand(module.params["paths"])
    ]
    module.exit_json(changed=False, files=files)


if __name__ == "__main__":
    main()
