# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: aetitle
short_description: Whether a value is a valid DICOM AE title
version_added: 0.1.0
description:
  - True when the value has 1 to 16 characters, is not blank, and holds neither a
    backslash nor a control character. The filter
    P(dicom.secure_transfer.destinations#filter) applies the same rule to called AE
    titles.
  - Lets a role check its own AE title variables with the same rule before it changes
    anything.
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Ensure the AE title is valid before anything changes
  ansible.builtin.assert:
    that: storescp_aetitle is dicom.secure_transfer.aetitle
    fail_msg: storescp_aetitle must have 1-16 characters, no backslash, no control character
"""

RETURN = r"""
_value:
  description: Whether the value is a valid AE title.
  type: bool
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.dicom.secure_transfer.plugins.filter.destinations import (
    check_aetitle,
)


def aetitle(value):
    try:
        check_aetitle(value, "AE title")
    except AnsibleFilterError:
        return False
    return True


class TestModule:
    def tests(self):
        return {"aetitle": aetitle}
