# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the trust_exchange role: who trusts whom, and the bundles it renders.

senders_of
  The inventory senders whose storescu_destinations name a given receiver.
trust_bundle
  A deterministic PEM bundle: one copy of each distinct anchor, in the order given, each
  preceded by a comment naming whom it stands for.
  OpenSSL, and so DCMTK's +cf, skips text outside the PEM blocks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----"
)


def senders_of(receiver, hostvars, senders):
    """Sorted names of the senders with a destination whose receiver is `receiver`."""
    result = []
    for sender in senders or []:
        entries = hostvars[sender].get("storescu_destinations") or []
        if not isinstance(entries, list):
            raise AnsibleFilterError(
                "storescu_destinations of %s must be a list of dictionaries" % sender
            )
        if any(isinstance(e, dict) and e.get("receiver") == receiver for e in entries):
            result.append(sender)
    return sorted(result)


def certificates_in(text, where):
    """The PEM certificate blocks in text, normalised; fails when there is none."""
    blocks = PEM_CERTIFICATE.findall(text or "")
    if not blocks:
        raise AnsibleFilterError(
            "%s holds no PEM certificate (expected '-----BEGIN CERTIFICATE-----')" % where
        )
    return ["\n".join(line.strip() for line in b.strip().splitlines()) for b in blocks]


def trust_bundle(labels, anchors, extra=None):
    """One bundle of the anchors of `labels` (looked up in `anchors`), then of `extra`.

    anchors and extra map a label (a host name, a file name) to PEM text. Identical
    anchors, such as the root CA several senders share, appear once.
    """
    entries = []
    for label in labels or []:
        if label not in anchors:
            raise AnsibleFilterError("no trust anchor is known for %s" % label)
        entries.append((label, anchors[label]))
    entries += sorted((extra or {}).items())

    order = []
    names = {}
    for label, pem in entries:
        for block in certificates_in(pem, "the anchor of %s" % label):
            if block not in names:
                order.append(block)
                names[block] = []
            if label not in names[block]:
                names[block].append(label)
    return "".join("# trusted for: %s\n%s\n" % (", ".join(names[b]), b) for b in order)


class FilterModule:
    def filters(self):
        return {"senders_of": senders_of, "trust_bundle": trust_bundle}
