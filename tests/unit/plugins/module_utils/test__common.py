# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Mode parsing, the refusal of world-readable keys, and the diff text."""

import pytest

from ansible_collections.dicom.secure_transfer.plugins.module_utils import _common


class TestParseMode:
    @pytest.mark.parametrize(
        "value, expected",
        [
            ("0600", 0o600),
            ("600", 0o600),
            (" 0640 ", 0o640),
            ("0o640", 0o640),
            ("2750", 0o2750),
            (384, 0o600),
            (0, 0),
        ],
    )
    def test_octal_strings_and_numbers(self, value, expected):
        assert _common.parse_mode(value, "key_mode") == expected

    @pytest.mark.parametrize("value", ["u=rw", "0800", "", "rw-------"])
    def test_not_octal(self, value):
        with pytest.raises(ValueError) as caught:
            _common.parse_mode(value, "cert_mode")
        assert str(caught.value) == (
            "cert_mode: '%s' is not an octal file mode such as '0600'" % value
        )

    @pytest.mark.parametrize("value", ["17777", 0o10000, -1])
    def test_out_of_range(self, value):
        with pytest.raises(
            ValueError, match="^ca_mode: '%s' is not a file mode$" % value
        ):
            _common.parse_mode(value, "ca_mode")


class TestCheckKeyMode:
    @pytest.mark.parametrize("mode", [0o600, 0o400, 0o640, 0o660, 0o440, 0o700])
    def test_owner_and_group_modes_pass(self, mode):
        assert _common.check_key_mode(mode, "key_mode") is None

    @pytest.mark.parametrize("mode", [0o644, 0o604, 0o602, 0o601, 0o666, 0o777])
    def test_modes_for_every_user_are_refused(self, mode):
        with pytest.raises(ValueError) as caught:
            _common.check_key_mode(mode, "key_mode")
        assert str(caught.value) == (
            "key_mode: %04o would let every user on the host read the private key; "
            "use 0600, or 0640 with the service's group" % mode
        )


class TestDiffText:
    def test_facts_sorted_one_per_line(self):
        text = _common.diff_text("certificate", {"subject": "CN=a", "issuer": "CN=b"})
        assert text == "certificate:\n  issuer: CN=b\n  subject: CN=a\n"

    def test_nothing(self):
        assert _common.diff_text("certificate", {}) == "certificate: (none)\n"
