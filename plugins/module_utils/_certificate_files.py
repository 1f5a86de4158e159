# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read PEM certificate files and describe what they hold, without changing anything.

Private to dicom.secure_transfer. Only public facts about certificates leave this
module: text outside the certificate blocks is never returned, except the labels of
the trust bundles (``# trusted for: tx1, tx2``) that trust_exchange writes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import re

from ansible_collections.dicom.secure_transfer.plugins.module_utils import _files, _x509

PATTERN_CHARACTERS = re.compile(r"[*?[]")
TRUSTED_FOR = re.compile(r"^#\s*trusted for:\s*(.*?)\s*$", re.MULTILINE)


def expand(paths):
    """The paths in order, each shell pattern replaced by the files it matches, sorted.

    A pattern that matches nothing stands for no file; a plain path is kept even when
    the file does not exist, so its absence is reported.
    """
    result = []
    for path in paths:
        if PATTERN_CHARACTERS.search(path):
            matches = sorted(glob.glob(path))
        else:
            matches = [path]
        result.extend(match for match in matches if match not in result)
    return result


def labels_before(text):
    """The names of the last '# trusted for:' line in text, or []."""
    found = TRUSTED_FOR.findall(text)
    if not found:
        return []
    return [name.strip() for name in found[-1].split(",") if name.strip()]


def describe(cert):
    """Public facts about one certificate."""
    facts = _x509.summary(cert)
    facts["self_signed"] = _x509.is_self_signed(cert)
    facts["ca"] = _x509.is_ca(cert)
    return facts


def certificates_with_labels(data):
    """[(certificate, labels)] for every PEM certificate block in data, in order.

    Raises ValueError naming the block that cannot be parsed.
    """
    found = []
    previous_end = 0
    for number, match in enumerate(_x509.PEM_CERTIFICATE.finditer(data), start=1):
        before = data[previous_end:match.start()].decode("utf-8", "replace")
        previous_end = match.end()
        try:
            cert = _x509.load_certificates(match.group(0))[0]
        except ValueError as exc:
            raise ValueError("certificate %d cannot be parsed: %s" % (number, exc))
        found.append((cert, labels_before(before)))
    return found


def inspect(path):
    """What the file at path holds: exists, error, and its certificates in order."""
    entry = dict(path=path, exists=False, error=None, certificates=[])
    try:
        data = _files.read_bytes(path)
    except _files.FileError as exc:
        entry.update(exists=True, error=str(exc))
        return entry
    if data is None:
        return entry

    entry["exists"] = True
    try:
        found = certificates_with_labels(data)
    except ValueError as exc:
        entry["error"] = "%s: %s" % (path, exc)
        return entry
    if not found:
        entry["error"] = "%s holds no PEM certificate" % path
        return entry
    for cert, labels in found:
        facts = describe(cert)
        facts["trusted_for"] = labels
        entry["certificates"].append(facts)
    return entry
