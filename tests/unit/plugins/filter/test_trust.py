# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dicom.secure_transfer.plugins.filter.trust import (
    senders_of,
    trust_bundle,
)


def pem(body):
    return "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % body


A, B, ROOT = pem("QUFB"), pem("QkJC"), pem("Uk9PVA==")

HOSTVARS = {
    "tx1": {"storescu_destinations": [{"name": "a", "receiver": "rx1"}]},
    "tx2": {"storescu_destinations": [{"name": "a", "receiver": "rx2"}]},
    "tx3": {
        "storescu_destinations": [
            {"name": "x", "host": "h", "port": 1, "aetitle": "X", "peer_certificate": "p"},
            {"name": "b", "receiver": "rx1"},
        ]
    },
    "tx4": {},
}


def test_senders_of_lists_exactly_the_senders_that_name_the_receiver():
    senders = ["tx3", "tx2", "tx1", "tx4"]
    assert senders_of("rx1", HOSTVARS, senders) == ["tx1", "tx3"]
    assert senders_of("rx2", HOSTVARS, senders) == ["tx2"]
    assert senders_of("rx9", HOSTVARS, senders) == []


def test_senders_of_refuses_destinations_that_are_no_list():
    with pytest.raises(AnsibleFilterError, match="storescu_destinations of tx1"):
        senders_of("rx1", {"tx1": {"storescu_destinations": "rx1"}}, ["tx1"])


def test_bundle_keeps_order_and_labels_each_anchor():
    bundle = trust_bundle(["tx2", "tx1"], {"tx1": A, "tx2": B})
    assert bundle.index("QkJC") < bundle.index("QUFB")
    assert "# trusted for: tx2\n-----BEGIN" in bundle


def test_shared_root_appears_once_with_every_label():
    bundle = trust_bundle(["tx1", "tx2"], {"tx1": ROOT, "tx2": ROOT}, {"ct1.pem": A})
    assert bundle.count("BEGIN CERTIFICATE") == 2
    assert "# trusted for: tx1, tx2\n" in bundle
    assert bundle.rstrip().endswith("-----END CERTIFICATE-----")


def test_bundle_is_deterministic_and_normalises_whitespace():
    messy = "  -----BEGIN CERTIFICATE-----\r\n  QUFB  \r\n-----END CERTIFICATE-----  "
    assert trust_bundle(["t"], {"t": messy}) == trust_bundle(["t"], {"t": A})
    assert trust_bundle(["t"], {"t": A}) == trust_bundle(["t"], {"t": A})


def test_bundle_splits_files_with_several_certificates():
    bundle = trust_bundle([], {}, {"chain.pem": A + B})
    assert len(re.findall("BEGIN CERTIFICATE", bundle)) == 2


@pytest.mark.parametrize(
    "labels, anchors, message",
    [
        (["tx1"], {}, "no trust anchor is known for tx1"),
        (["tx1"], {"tx1": "not a certificate"}, "the anchor of tx1 holds no PEM"),
    ],
)
def test_bundle_errors_name_the_peer(labels, anchors, message):
    with pytest.raises(AnsibleFilterError, match=message):
        trust_bundle(labels, anchors)
