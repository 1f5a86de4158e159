#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_identity
short_description: Ensure a private key and a self-signed TLS certificate for a DICOM host
version_added: 0.1.0
description:
  - Ensures, on the managed host, an unencrypted PEM private key and a self-signed X.509 v3
    certificate made with the Python C(cryptography) library. It is what
    C(openssl req -x509 -nodes -days 365 -newkey rsa:2048) does by hand, made idempotent
    and safe.
  - The certificate serves DCMTK as TLS server (C(storescp)) and TLS client
    (C(storescu)), and as its own trust anchor when a peer loads it with C(+cf). It
    carries a subject alternative name, matching subject and authority key identifiers,
    key usage, and the extended key usages serverAuth and clientAuth.
  - The key is issued again only when it is missing, unreadable, or of another type, size
    or curve than asked for. The certificate is issued again when it is missing,
    unreadable, does not match the key, has another subject or other subject alternative
    names, or expires within O(renew_before_days). The result says why in RV(reason).
  - The private key is written through a temporary file in the same directory that is
    created with its final mode and renamed into place, so it is never readable by
    others, not even for an instant. The key never appears in results, diffs or logs.
author:
  - dicom.secure_transfer maintainers (@dicom-secure-transfer)
requirements:
  - cryptography >= 38.0 on the managed host (Debian package C(python3-cryptography))
attributes:
  check_mode:
    support: full
    description: Writes nothing and reports what would change and why.
  diff_mode:
    support: full
    description: Shows subject, validity and fingerprint of the certificate before and after.
  safe_file_operations:
    support: full
    description: Files are written to a temporary file and renamed into place.
options:
  state:
    description:
      - V(present) ensures the key and certificate; V(absent) removes both files.
    type: str
    choices: [present, absent]
    default: present
  key_path:
    description:
      - Where the private key lives. Its directory must exist.
    type: path
    required: true
  cert_path:
    description:
      - Where the certificate lives. Its directory must exist.
    type: path
    required: true
  common_name:
    description:
      - The subject's common name (CN). Also added to the subject alternative names.
      - Required when O(state=present).
    type: str
  subject_alt_names:
    description:
      - DNS names and IP addresses the certificate is valid for, as V(DNS:name),
        V(IP:address) or a bare name or address (classified automatically).
      - The common name is always included.
    type: list
    elements: str
    default: []
  country:
    description: Two-letter country code (C) of the subject.
    type: str
  state_or_province:
    description: State or province (ST) of the subject.
    type: str
  locality:
    description: Locality (L) of the subject.
    type: str
  organization:
    description: Organization (O) of the subject.
    type: str
  organizational_unit:
    description: Organizational unit (OU) of the subject.
    type: str
  key_type:
    description:
      - V(rsa) works with every TLS profile of DCMTK 3.6.7 and later.
      - V(ecdsa) gets no TLS 1.2 cipher suite under DCMTK 3.6.7's default profile; it works
        where both ends negotiate TLS 1.3.
    type: str
    choices: [rsa, ecdsa]
    default: rsa
  key_size:
    description: Size of an RSA key in bits. Ignored for ECDSA.
    type: int
    choices: [2048, 3072, 4096]
    default: 2048
  curve:
    description: Curve of an ECDSA key. Ignored for RSA.
    type: str
    choices: [P-256, P-384]
    default: P-256
  valid_days:
    description: How many days a newly issued certificate is valid.
    type: int
    default: 365
  renew_before_days:
    description:
      - Issue the certificate again when it expires within this many days. The key is kept.
      - Must be smaller than O(valid_days).
    type: int
    default: 30
  owner:
    description: Owner of both files (name or number). Default is the user running the module.
    type: str
  group:
    description: Group of both files (name or number). Default is that user's group.
    type: str
  key_mode:
    description:
      - Mode of the private key, as an octal string. Modes that let every user read the
        key are refused; V('0640') with the service's group is the most a key may allow.
    type: raw
    default: '0600'
  cert_mode:
    description: Mode of the certificate, as an octal string.
    type: raw
    default: '0644'
  force:
    description: Issue a new key and certificate even when the existing ones fit.
    type: bool
    default: false
seealso:
  - module: dicom.secure_transfer.pkcs12_extract
  - name: DCMTK storescp manual page
    description: The TLS options C(+tls), C(+cf) and C(+ic) this identity is made for.
    link: https://support.dcmtk.org/docs/storescp.html
"""

EXAMPLES = r"""
- name: Ensure the receiver's TLS identity
  dicom.secure_transfer.tls_identity:
    key_path: /etc/dicom-tls/host.key
    cert_path: /etc/dicom-tls/host.crt
    common_name: rx1.example.org
    subject_alt_names:
      - DNS:rx1.example.org
      - IP:192.0.2.10
    country: BE
    organization: Example Hospital
    group: storescp
    key_mode: '0640'
  register: identity

- name: Use ECDSA P-384 for peers that speak TLS 1.3
  dicom.secure_transfer.tls_identity:
    key_path: /etc/dicom-tls/host.key
    cert_path: /etc/dicom-tls/host.crt
    common_name: tx1.example.org
    key_type: ecdsa
    curve: P-384

- name: Remove an identity
  dicom.secure_transfer.tls_identity:
    key_path: /etc/dicom-tls/host.key
    cert_path: /etc/dicom-tls/host.crt
    state: absent
"""

RETURN = r"""
reason:
  description: Why the key or certificate was (or in check mode would be) issued or changed.
  returned: always
  type: str
  sample: the certificate expires on 2027-01-02T10:00:00Z, within 30 days
key_changed:
  description: Whether a new private key was (or would be) generated.
  returned: always
  type: bool
  sample: false
certificate_changed:
  description: Whether a new certificate was (or would be) issued.
  returned: always
  type: bool
  sample: true
certificate:
  description: The certificate in PEM. Public material, safe to publish to peers.
  returned: when state is present
  type: str
  sample: "-----BEGIN CERTIFICATE-----\nMIID...\n-----END CERTIFICATE-----\n"
fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate, colon-separated hex.
  returned: when state is present
  type: str
  sample: "3A:F1:...:09"
subject:
  description: Subject of the certificate (RFC 4514).
  returned: when state is present
  type: str
  sample: CN=rx1.example.org,O=Example Hospital,C=BE
not_before:
  description: Start of the certificate's validity (UTC, ISO 8601).
  returned: when state is present
  type: str
  sample: "2026-12-03T10:00:00Z"
not_after:
  description: End of the certificate's validity (UTC, ISO 8601).
  returned: when state is present
  type: str
  sample: "2027-12-03T10:00:00Z"
subject_alt_names:
  description: Subject alternative names of the certificate.
  returned: when state is present
  type: list
  elements: str
  sample: [DNS:rx1.example.org, IP:192.0.2.10]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dicom.secure_transfer.plugins.module_utils import (
    _common,
    _files,
    _identity,
    _x509,
)

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["present", "absent"], default="present"),
    key_path=dict(type="path", required=True, no_log=False),
    cert_path=dict(type="path", required=True),
    common_name=dict(type="str"),
    subject_alt_names=dict(type="list", elements="str", default=[]),
    country=dict(type="str"),
    state_or_province=dict(type="str"),
    locality=dict(type="str"),
    organization=dict(type="str"),
    organizational_unit=dict(type="str"),
    key_type=dict(type="str", choices=["rsa", "ecdsa"], default="rsa"),
    key_size=dict(type="int", choices=[2048, 3072, 4096], default=2048),
    curve=dict(type="str", choices=["P-256", "P-384"], default="P-256"),
    valid_days=dict(type="int", default=365),
    renew_before_days=dict(type="int", default=30),
    owner=dict(type="str"),
    group=dict(type="str"),
    key_mode=dict(type="raw", default="0600", no_log=False),
    cert_mode=dict(type="raw", default="0644"),
    force=dict(type="bool", default=False),
)


def validate(params):
    """Check the options together; returns (key_mode, cert_mode) or raises ValueError."""
    key_mode = _common.parse_mode(params["key_mode"], "key_mode")
    _common.check_key_mode(key_mode, "key_mode")
    cert_mode = _common.parse_mode(params["cert_mode"], "cert_mode")
    if params["state"] == "absent":
        return key_mode, cert_mode
    if not params["common_name"]:
        raise ValueError("common_name is required when state is present")
    if params["valid_days"] < 1:
        raise ValueError("valid_days must be at least 1")
    if not 0 <= params["renew_before_days"] < params["valid_days"]:
        raise ValueError(
            "renew_before_days (%d) must be at least 0 and smaller than valid_days (%d), "
            "or every run would issue a new certificate"
            % (params["renew_before_days"], params["valid_days"])
        )
    country = params.get("country")
    if country and (len(country) != 2 or not country.isalpha()):
        raise ValueError("country must be a two-letter code such as BE, got '%s'" % country)
    return key_mode, cert_mode


def read_file(path):
    """(content, error): content None when missing, error set when unreadable."""
    try:
        return _files.read_bytes(path), None
    except _files.FileError as exc:
        return None, str(exc)


def remove_identity(module, params):
    paths = [params["key_path"], params["cert_path"]]
    present = [path for path in paths if read_file(path) != (None, None)]
    if present and not module.check_mode:
        for path in present:
            _files.remove(path)
    return dict(
        changed=bool(present),
        reason="removing %s" % ", ".join(present) if present else None,
        key_changed=params["key_path"] in present,
        certificate_changed=params["cert_path"] in present,
    )


def ensure_identity(module, params, key_mode, cert_mode):
    spec = _identity.IdentitySpec(params)
    uid, gid = _files.resolve_owner(params["owner"], params["group"])
    _files.check_parent_directory(params["key_path"], "key_path")
    _files.check_parent_directory(params["cert_path"], "cert_path")

    key_data, key_error = read_file(params["key_path"])
    cert_data, cert_error = read_file(params["cert_path"])
    now = _x509.utcnow()
    plan, key, cert = _identity.plan(
        spec, key_data, key_error, cert_data, cert_error, params["force"], now
    )
    before = _x509.summary(cert) if cert is not None else {}

    if plan.new_key:
        key = _identity.generate_key(spec)
    if plan.new_certificate:
        cert = _identity.issue_certificate(spec, key, now)

    key_file = _files.PlannedFile(
        params["key_path"], _x509.private_key_pem(key) if plan.new_key else key_data,
        key_mode, uid, gid,
    )
    cert_file = _files.PlannedFile(
        params["cert_path"], _x509.certificates_pem([cert]), cert_mode, uid, gid
    )
    reason = plan.reason
    if reason is None and (key_file.changed or cert_file.changed):
        reason = "owner, group or mode of %s differs" % " and ".join(
            f.path for f in (key_file, cert_file) if f.changed
        )
    changed = key_file.changed or cert_file.changed

    if changed and not module.check_mode:
        # The key first: a certificate is never left on disk without its key.
        key_file.apply()
        cert_file.apply()

    after = _x509.summary(cert)
    if module.check_mode and plan.new_certificate:
        after["fingerprint_sha256"] = "(assigned when issued)"
        after["serial_number"] = "(assigned when issued)"
    result = dict(
        changed=changed,
        reason=reason,
        key_changed=plan.new_key,
        certificate_changed=plan.new_certificate,
        certificate=_x509.certificates_pem([cert]).decode("ascii"),
        fingerprint_sha256=after["fingerprint_sha256"],
        subject=after["subject"],
        not_before=after["not_before"],
        not_after=after["not_after"],
        subject_alt_names=_x509.subject_alt_names(cert),
    )
    if module._diff:
        result["diff"] = _common.certificate_diff(params["cert_path"], before, after)
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    _common.require_cryptography(module)
    params = module.params

    try:
        key_mode, cert_mode = validate(params)
        if params["state"] == "absent":
            result = remove_identity(module, params)
        else:
            result = ensure_identity(module, params, key_mode, cert_mode)
    except (ValueError, _files.FileError) as exc:
        module.fail_json(msg=str(exc))

    module.exit_json(**result)


if __name__ == "__main__":
    main()
