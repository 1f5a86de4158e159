# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dicom.secure_transfer.plugins.filter.destinations import (
    destinations,
)

HOSTVARS = {
    "rx1": {"ansible_host": "192.0.2.10", "storescp_port": 11112, "storescp_aetitle": "RX1"},
    "rx2": {},
    "rx3": {"storescp_advertised_host": "rx3.example.org", "ansible_host": "10.0.0.3"},
}
RECEIVERS = ["rx1", "rx2", "rx3"]
OUTSIDE = {
    "name": "ext",
    "host": "pacs.example.org",
    "port": 2762,
    "aetitle": "PACS",
    "peer_certificate": "files/pacs.crt",
    "outbox": "/srv/out/ext/",
}


def test_an_inventory_receiver_gives_host_port_and_aetitle():
    assert destinations([{"name": "a", "receiver": "rx1"}], HOSTVARS, RECEIVERS) == [
        dict(
            name="a",
            receiver="rx1",
            host="192.0.2.10",
            port=11112,
            aetitle="RX1",
            outbox="/srv/dicom/outbox/a",
            peer_certificate="",
        )
    ]


def test_receiver_defaults_and_advertised_host():
    result = destinations(
        [{"name": "b", "receiver": "rx2"}, {"name": "c", "receiver": "rx3"}],
        HOSTVARS,
        RECEIVERS,
    )
    assert [(d["host"], d["port"], d["aetitle"]) for d in result] == [
        ("rx2", 2762, "STORESCP"),
        ("rx3.example.org", 2762, "STORESCP"),
    ]


def test_an_outside_peer_keeps_its_settings():
    (result,) = destinations([OUTSIDE], HOSTVARS, RECEIVERS)
    assert result["receiver"] == ""
    assert result["outbox"] == "/srv/out/ext"
    assert result["peer_certificate"] == "files/pacs.crt"


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"name": "x", "receiver": "rx9"}, "receiver 'rx9' is not a host of the group"),
        ({"name": "x", "receiver": "rx1", "port": 1}, "'port' comes from receiver 'rx1'"),
        ({"name": "x", "host": "h", "port": 1, "aetitle": "A"}, "needs peer_certificate"),
        ({"name": "bad name", "receiver": "rx1"}, "'name'"),
        ({"name": "x", "receiver": "rx1", "colour": "red"}, "unknown key(s) colour"),
        (dict(OUTSIDE, port=70000), "outside 1..65535"),
        (dict(OUTSIDE, port="http"), "is not a number"),
        (dict(OUTSIDE, aetitle=""), "needs aetitle"),
        (dict(OUTSIDE, aetitle="   "), "the AE title is empty"),
        (dict(OUTSIDE, aetitle="A" * 17), "has 17 characters"),
        (dict(OUTSIDE, aetitle="A\\B"), "backslash or a control character"),
        (dict(OUTSIDE, aetitle="A\tB"), "backslash or a control character"),
        (dict(OUTSIDE, outbox="relative/dir"), "must be an absolute path"),
    ],
)
def test_invalid_entries_name_the_entry_and_the_key(entry, message):
    with pytest.raises(AnsibleFilterError) as caught:
        destinations([entry], HOSTVARS, RECEIVERS)
    assert message in str(caught.value)
    assert "storescu_destinations[0]" in str(caught.value)


def test_a_receivers_invalid_aetitle_names_its_variable():
    hostvars = {"rx1": {"storescp_aetitle": "X" * 20}}
    with pytest.raises(AnsibleFilterError, match="storescp_aetitle of rx1"):
        destinations([{"name": "a", "receiver": "rx1"}], hostvars, ["rx1"])


@pytest.mark.parametrize("key", ["name", "outbox"])
def test_two_destinations_cannot_share_a_name_or_outbox(key):
    first = {"name": "a", "receiver": "rx1", "outbox": "/srv/o/a"}
    second = {"name": "b", "receiver": "rx2", "outbox": "/srv/o/b"}
    second[key] = first[key]
    with pytest.raises(AnsibleFilterError, match="share the %s" % key):
        destinations([first, second], HOSTVARS, RECEIVERS)


def test_no_destinations_is_an_empty_list():
    assert destinations(None, HOSTVARS, RECEIVERS) == []
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        destinations({"name": "a"}, HOSTVARS, RECEIVERS)
