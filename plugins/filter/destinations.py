# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: destinations
short_description: Resolve a sender's storescu_destinations into one normalised shape
version_added: 0.1.0
description:
  - Turns each entry of C(storescu_destinations) into a dictionary with C(name),
    C(receiver), C(host), C(port), C(aetitle), C(outbox) and C(peer_certificate).
  - An entry with C(receiver) takes host, port and called AE title from that inventory
    host (C(storescp_advertised_host) or C(ansible_host) or its name, C(storescp_port),
    C(storescp_aetitle)). An entry without it describes a peer outside the inventory and
    must give C(host), C(port), C(aetitle) and C(peer_certificate).
  - Fails with a message naming the entry and the key when an entry is invalid.
options:
  _input:
    description: The sender's C(storescu_destinations).
    type: list
    elements: dict
    required: true
  hostvars:
    description: The play's C(hostvars).
    type: dict
    required: true
  receivers:
    description: Inventory names of the receivers (usually C(groups.dicom_receivers)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Show where this sender sends
  ansible.builtin.debug:
    msg: >-
      {{ storescu_destinations
         | dicom.secure_transfer.destinations(hostvars, groups['dicom_receivers'] | default([])) }}
"""

RETURN = r"""
_value:
  description: The destinations, normalised, in the order given.
  type: list
  elements: dict
"""

import re

from ansible.errors import AnsibleFilterError

# storescp's defaults (roles/storescp/defaults/main.yml); a unit test keeps them in step.
STORESCP_DEFAULT_PORT = 2762
STORESCP_DEFAULT_AETITLE = "STORESCP"
OUTBOX_ROOT = "/srv/dicom/outbox"

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
KNOWN_KEYS = {"name", "receiver", "host", "port", "aetitle", "peer_certificate", "outbox"}


def check_aetitle(value, where):
    """A DICOM AE title: 1 to 16 characters, no backslash, no control characters."""
    text = "" if value is None else str(value)
    if not text.strip():
        raise AnsibleFilterError("%s: the AE title is empty" % where)
    if len(text) > 16:
        raise AnsibleFilterError(
            "%s: the AE title '%s' has %d characters; DICOM allows at most 16"
            % (where, text, len(text))
        )
    if "\\" in text or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise AnsibleFilterError(
            "%s: the AE title %r holds a backslash or a control character" % (where, text)
        )
    return text


def check_port(value, where):
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError("%s: the port %r is not a number" % (where, value))
    if not 1 <= port <= 65535:
        raise AnsibleFilterError("%s: the port %d is outside 1..65535" % (where, port))
    return port


def _receiver_endpoint(receiver, hostvars, where):
    facts = hostvars[receiver]
    host = facts.get("storescp_advertised_host") or facts.get("ansible_host") or receiver
    port = check_port(
        facts.get("storescp_port", STORESCP_DEFAULT_PORT), "%s (storescp_port of %s)" % (
            where, receiver)
    )
    aetitle = check_aetitle(
        facts.get("storescp_aetitle", STORESCP_DEFAULT_AETITLE),
        "%s (storescp_aetitle of %s)" % (where, receiver),
    )
    return str(host), port, aetitle


def resolve(entry, index, hostvars, receivers):
    where = "storescu_destinations[%d]" % index
    if not isinstance(entry, dict):
        raise AnsibleFilterError("%s: each destination must be a dictionary" % where)
    unknown = sorted(set(entry) - KNOWN_KEYS)
    if unknown:
        raise AnsibleFilterError(
            "%s: unknown key(s) %s; known keys are %s"
            % (where, ", ".join(unknown), ", ".join(sorted(KNOWN_KEYS)))
        )
    name = str(entry.get("name") or "")
    if not NAME.match(name):
        raise AnsibleFilterError(
            "%s: 'name' %r must be 1-64 letters, digits, '-' or '_' (it names the send "
            "job's units and files)" % (where, name)
        )
    where = "%s (%s)" % (where, name)
    receiver = entry.get("receiver") or ""

    if receiver:
        if receiver not in receivers:
            raise AnsibleFilterError(
                "%s: receiver '%s' is not a host of the group dicom_receivers; add it "
                "there, or describe an outside peer with host, port, aetitle and "
                "peer_certificate" % (where, receiver)
            )
        for key in ("host", "port", "aetitle", "peer_certificate"):
            if entry.get(key) not in (None, ""):
                raise AnsibleFilterError(
                    "%s: '%s' comes from receiver '%s'; remove it from the destination"
                    % (where, key, receiver)
                )
        host, port, aetitle = _receiver_endpoint(receiver, hostvars, where)
        peer_certificate = ""
    else:
        missing = [k for k in ("host", "port", "aetitle", "peer_certificate") if not entry.get(k)]
        if missing:
            raise AnsibleFilterError(
                "%s: a destination without 'receiver' needs %s" % (where, ", ".join(missing))
            )
        host = str(entry["host"])
        port = check_port(entry["port"], where)
        aetitle = check_aetitle(entry["aetitle"], where)
        peer_certificate = str(entry["peer_certificate"])

    outbox = str(entry.get("outbox") or "%s/%s" % (OUTBOX_ROOT, name))
    if not outbox.startswith("/"):
        raise AnsibleFilterError("%s: 'outbox' %r must be an absolute path" % (where, outbox))
    return dict(
        name=name,
        receiver=receiver,
        host=host,
        port=port,
        aetitle=aetitle,
        outbox=outbox.rstrip("/"),
        peer_certificate=peer_certificate,
    )


def destinations(entries, hostvars, receivers):
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise AnsibleFilterError("storescu_destinations must be a list of dictionaries")
    result = [resolve(entry, i, hostvars, list(receivers or [])) for i, entry in enumerate(entries)]
    seen = {}
    for item in result:
        for key in ("name", "outbox"):
            if item[key] in seen.get(key, ()):
                raise AnsibleFilterError(
                    "storescu_destinations: two destinations share the %s '%s'; each needs "
                    "its own" % (key, item[key])
                )
            seen.setdefault(key, set()).add(item[key])
    return result


class FilterModule:
    def filters(self):
        return {"destinations": destinations}
