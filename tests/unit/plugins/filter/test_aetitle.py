# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AE title test plugin applies the destinations filter's rule."""

import pytest

from ansible_collections.dicom.secure_transfer.plugins.test import aetitle as plugin

aetitle = plugin.TestModule().tests()["aetitle"]


@pytest.mark.parametrize("value", ["STORESCP", "A", "X" * 16, "RX-1 ARCHIVE"])
def test_valid_ae_titles(value):
    assert aetitle(value)


@pytest.mark.parametrize("value", ["", "   ", None, "X" * 17, "A\\B", "A\tB", "A\x7fB"])
def test_invalid_ae_titles(value):
    assert not aetitle(value)
