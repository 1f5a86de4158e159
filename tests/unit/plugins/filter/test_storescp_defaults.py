# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The destinations filter's fallbacks match storescp's defaults and argument specs."""

from pathlib import Path

import yaml

from ansible_collections.dicom.secure_transfer.plugins.filter import destinations

ROLE = Path(__file__).resolve().parents[4] / "roles" / "storescp"


def _defaults():
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def _spec():
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    return specs["argument_specs"]["main"]["options"]


def test_default_port_matches_storescp_role():
    assert _defaults()["storescp_port"] == destinations.STORESCP_DEFAULT_PORT
    assert _spec()["storescp_port"]["default"] == destinations.STORESCP_DEFAULT_PORT


def test_default_aetitle_matches_storescp_role():
    assert _defaults()["storescp_aetitle"] == destinations.STORESCP_DEFAULT_AETITLE
    assert _spec()["storescp_aetitle"]["default"] == destinations.STORESCP_DEFAULT_AETITLE
