# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Option handling both certificate modules share. Private to dicom.secure_transfer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dicom.secure_transfer.plugins.module_utils import _x509


def parse_mode(value, option):
    """A file mode from an octal string ('0600') or a number (YAML reads 0600 as 384)."""
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip()
        try:
            mode = int(text, 8)
        except ValueError:
            raise ValueError("%s: '%s' is not an octal file mode such as '0600'" % (option, value))
    if mode < 0 or mode > 0o7777:
        raise ValueError("%s: '%s' is not a file mode" % (option, value))
    return mode


def check_key_mode(mode, option):
    """Refuse modes that would let anyone but the owner and group read a private key."""
    if mode & 0o007:
        raise ValueError(
            "%s: %04o would let every user on the host read the private key; "
            "use 0600, or 0640 with the service's group" % (option, mode)
        )


def require_cryptography(module):
    if not _x509.HAS_CRYPTOGRAPHY:
        module.fail_json(
            msg="the Python library 'cryptography' is missing on %s; install it "
            "(Debian: apt-get install python3-cryptography)" % _host(),
            exception=str(_x509.CRYPTOGRAPHY_IMPORT_ERROR),
        )


def diff_text(label, facts):
    """A short readable block for diff mode: one 'key: value' line per fact."""
    if not facts:
        return "%s: (none)\n" % label
    lines = ["%s:" % label] + ["  %s: %s" % (k, facts[k]) for k in sorted(facts)]
    return "\n".join(lines) + "\n"


def certificate_diff(path, before, after):
    """Ansible's diff result for a certificate file: its public facts before and after."""
    return dict(
        before_header=path,
        after_header=path,
        before=diff_text("certificate", before),
        after=diff_text("certificate", after),
    )


def _host():
    import socket

    return socket.gethostname()
