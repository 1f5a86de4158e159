#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pkcs12_extract
short_description: Extract a key, a certificate chain and the CA certificate from a PKCS#12 bundle
version_added: 0.1.0
description:
  - Reads a PKCS#12 bundle (.pfx/.p12) on the managed host and writes the files DCMTK needs,
    like the three C(openssl pkcs12) commands of a manual setup (C(-nocerts -nodes),
    C(-clcerts -nokeys), C(-cacerts -nokeys)) in one idempotent step.
  - O(key_path) receives the unencrypted private key (PKCS#8 PEM).
  - O(cert_path) receives the host's certificate followed by its intermediate CA
    certificates, nearest first. DCMTK reads intermediates only from the certificate file
    given to C(+tls).
  - O(ca_path) receives the self-signed root CA certificate, the trust anchor a peer loads
    with C(+cf). DCMTK accepts only self-signed roots as anchors. When the bundle carries no
    root, the module warns, names the issuer to ask for, and leaves O(ca_path) alone.
  - Reads bundles exported by OpenSSL 3 (AES-256) and legacy ones (RC2-40, 3DES) as older
    Windows servers and CA portals produce them.
  - A wrong passphrase, a file that is not PKCS#12, a bundle without key or certificate, a
    key that does not match the certificate and an expired certificate each fail with their
    own message. On any failure nothing is written.
author:
  - dicom.secure_transfer maintainers (@dicom-secure-transfer)
requirements:
  - cryptography >= 38.0 on the managed host (Debian package C(python3-cryptography))
attributes:
  check_mode:
    support: full
    description: Writes nothing and reports what would change.
  diff_mode:
    support: full
    description: Shows subject, issuer, validity and fingerprint before and after.
  safe_file_operations:
    support: full
    description: Files are written to a temporary file and renamed into place.
options:
  src:
    description: The PKCS#12 bundle on the managed host.
    type: path
    required: true
  passphrase:
    description: The bundle's passphrase. Empty when the bundle has none.
    type: str
    default: ''
  key_path:
    description: Where the private key is written. Its directory must exist.
    type: path
    required: true
  cert_path:
    description: Where the certificate and its intermediates are written.
    type: path
    required: true
  ca_path:
    description:
      - Where the root CA certificate is written. Omit it to write no CA file.
      - When the host's certificate is self-signed, it is its own anchor and is written here.
    type: path
  owner:
    description: Owner of the written files (name or number).
    type: str
  group:
    description: Group of the written files (name or number).
    type: str
  key_mode:
    description:
      - Mode of the private key, as an octal string. Modes that let every user read the
        key are refused.
    type: raw
    default: '0600'
  cert_mode:
    description: Mode of the certificate file.
    type: raw
    default: '0644'
  ca_mode:
    description: Mode of the CA file.
    type: raw
    default: '0644'
  allow_expired:
    description:
      - Extract even when the host's certificate has expired. Peers will refuse it; this is
        for inspection and tests only.
    type: bool
    default: false
seealso:
  - module: dicom.secure_transfer.tls_identity
"""

EXAMPLES = r"""
- name: Extract the receiver's identity from the bundle the CA issued
  dicom.secure_transfer.pkcs12_extract:
    src: /etc/dicom-tls/incoming.pfx
    passphrase: "{{ vault_rx1_pfx_passphrase }}"
    key_path: /etc/dicom-tls/host.key
    cert_path: /etc/dicom-tls/host.crt
    ca_path: /etc/dicom-tls/anchor.crt
    group: storescp
    key_mode: '0640'
  register: extracted

- name: Show what a peer must trust
  ansible.builtin.debug:
    msg: "{{ extracted.ca_certificates }}"
"""

RETURN = r"""
subject:
  description: Subject of the host's certificate (RFC 4514).
  returned: success
  type: str
  sample: CN=rx1.example.org,O=Example Hospital
issuer:
  description: Issuer of the host's certificate (RFC 4514).
  returned: success
  type: str
  sample: CN=Example Issuing CA,O=Example Hospital
not_after:
  description: End of the certificate's validity (UTC, ISO 8601).
  returned: success
  type: str
  sample: "2027-12-03T10:00:00Z"
fingerprint_sha256:
  description: SHA-256 fingerprint of the host's certificate.
  returned: success
  type: str
  sample: "3A:F1:...:09"
certificate:
  description: The host's certificate in PEM, without intermediates.
  returned: success
  type: str
intermediate_count:
  description: How many intermediate CA certificates follow the host's certificate in O(cert_path).
  returned: success
  type: int
  sample: 1
ca_count:
  description:
    - How many CA certificates of the host certificate's chain the bundle holds
      (intermediates and root), what C(openssl pkcs12 -cacerts) would print of that chain.
  returned: success
  type: int
  sample: 1
ca_certificates:
  description:
    - The trust anchor in PEM, what peers must trust; empty when none was found.
    - This is the content of O(ca_path).
  returned: success
  type: str
anchor_subject:
  description: Subject of the trust anchor; empty when the bundle carries none.
  returned: success
  type: str
  sample: CN=Example Root CA,O=Example Hospital
changed_files:
  description: The paths that were (or in check mode would be) written or changed.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dicom.secure_transfer.plugins.module_utils import (
    _common,
    _files,
    _pkcs12,
    _x509,
)

ARGUMENT_SPEC = dict(
    src=dict(type="path", required=True),
    passphrase=dict(type="str", default="", no_log=True),
    key_path=dict(type="path", required=True, no_log=False),
    cert_path=dict(type="path", required=True),
    ca_path=dict(type="path"),
    owner=dict(type="str"),
    group=dict(type="str"),
    key_mode=dict(type="raw", default="0600", no_log=False),
    cert_mode=dict(type="raw", default="0644"),
    ca_mode=dict(type="raw", default="0644"),
    allow_expired=dict(type="bool", default=False),
)


def read_bundle(params):
    src = params["src"]
    try:
        data = _files.read_bytes(src)
    except _files.FileError as exc:
        raise _pkcs12.BundleError("unreadable", "src: %s" % exc)
    if data is None:
        raise _pkcs12.BundleError("missing", "src: %s does not exist on this host" % src)
    return _pkcs12.load_bundle(data, params["passphrase"] or "", src)


def check_validity(identity, params, warnings):
    cert = identity.certificate
    now = _x509.utcnow()
    if _x509.not_after(cert) <= now and not params["allow_expired"]:
        raise _pkcs12.BundleError(
            "expired",
            "src: the certificate %s in %s expired on %s; ask the CA for a new bundle "
            "(allow_expired extracts it anyway, but peers will refuse it)"
            % (_x509.subject_string(cert), params["src"], _x509.isoformat(_x509.not_after(cert))),
        )
    if _x509.not_before(cert) > now:
        warnings.append(
            "the certificate %s is not valid before %s; peers refuse it until then"
            % (_x509.subject_string(cert), _x509.isoformat(_x509.not_before(cert)))
        )


def plan_files(identity, params, uid, gid):
    key_mode = _common.parse_mode(params["key_mode"], "key_mode")
    _common.check_key_mode(key_mode, "key_mode")
    cert_mode = _common.parse_mode(params["cert_mode"], "cert_mode")
    ca_mode = _common.parse_mode(params["ca_mode"], "ca_mode")

    for option in ("key_path", "cert_path", "ca_path"):
        if params[option]:
            _files.check_parent_directory(params[option], option)

    files = [
        _files.PlannedFile(
            params["key_path"], _x509.private_key_pem(identity.key), key_mode, uid, gid
        ),
        _files.PlannedFile(
            params["cert_path"],
            _x509.certificates_pem([identity.certificate] + identity.intermediates),
            cert_mode,
            uid,
            gid,
        ),
    ]
    if params["ca_path"] and identity.anchor is not None:
        files.append(
            _files.PlannedFile(
                params["ca_path"], _x509.certificates_pem([identity.anchor]), ca_mode, uid, gid
            )
        )
    return files


def existing_summary(path):
    """Public facts about the first certificate in path, for the diff; {} when none."""
    try:
        certs = _x509.load_certificates(_files.read_bytes(path) or b"")
    except (ValueError, _files.FileError):
        return {}
    return _x509.summary(certs[0]) if certs else {}


def run(module):
    params = module.params
    warnings = []
    uid, gid = _files.resolve_owner(params["owner"], params["group"])
    identity = read_bundle(params)
    check_validity(identity, params, warnings)

    anchor = identity.anchor
    if anchor is None:
        top = identity.top_of_chain
        warnings.append(
            "%s carries no self-signed root CA certificate: the chain ends at %s, issued by "
            "%s. Peers must trust that root; get it from the CA and give it to them%s."
            % (
                params["src"],
                _x509.subject_string(top),
                _x509.issuer_string(top),
                " (%s was not written)" % params["ca_path"] if params["ca_path"] else "",
            )
        )
    if identity.ignored:
        warnings.append(
            "%d certificate(s) in %s are not on the host certificate's chain and were left "
            "out: %s"
            % (
                len(identity.ignored),
                params["src"],
                "; ".join(_x509.subject_string(c) for c in identity.ignored),
            )
        )

    before = existing_summary(params["cert_path"])
    files = plan_files(identity, params, uid, gid)
    changed_files = [f.path for f in files if f.changed]
    if changed_files and not module.check_mode:
        for planned in files:
            planned.apply()

    after = _x509.summary(identity.certificate)
    result = dict(
        changed=bool(changed_files),
        changed_files=changed_files,
        subject=after["subject"],
        issuer=after["issuer"],
        not_after=after["not_after"],
        fingerprint_sha256=after["fingerprint_sha256"],
        certificate=_x509.certificates_pem([identity.certificate]).decode("ascii"),
        intermediate_count=len(identity.intermediates),
        ca_count=len(identity.intermediates) + (1 if identity.root is not None else 0),
        ca_certificates=_x509.certificates_pem([anchor]).decode("ascii") if anchor else "",
        anchor_subject=_x509.subject_string(anchor) if anchor else "",
    )
    for warning in warnings:
        module.warn(warning)
    if module._diff:
        result["diff"] = _common.certificate_diff(params["cert_path"], before, after)
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    _common.require_cryptography(module)
    try:
        result = run(module)
    except _pkcs12.BundleError as exc:
        module.fail_json(msg=str(exc), failure=exc.kind)
    except (ValueError, _files.FileError) as exc:
        module.fail_json(msg=str(exc), failure="invalid")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
