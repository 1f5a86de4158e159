# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd's own measure of the sandbox: `systemd-analyze security` rates the
exposure of storescp's unit and of each send job's unit at 2.0 or lower (0 is fully
sandboxed, 10 is not at all), on whichever Debian release the scenario runs."""

import re

from dicomtest import STORESCP_SERVICE, check

MAX_EXPOSURE = 2.0


def exposure(host, unit):
    out = check(host, ["systemd-analyze", "security", "--no-pager", unit])
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
    assert found, "no exposure level for %s:\n%s" % (unit, out)
    return float(found.group(1))


def test_storescp_exposure(hosts, topology, receiver_name):
    receiver = topology.receivers[receiver_name]
    unit = "dicom-storescp@probe.service" if receiver.socket_activated else STORESCP_SERVICE

    level = exposure(hosts(receiver_name), unit)

    print("%s on %s: exposure %.1f" % (unit, receiver_name, level))
    assert level <= MAX_EXPOSURE, "%s on %s: exposure %.1f" % (unit, receiver_name, level)


def test_send_job_exposure(hosts, link):
    unit = "dicom-send@%s.service" % link.destination.name

    level = exposure(hosts(link.sender.name), unit)

    print("%s on %s: exposure %.1f" % (unit, link.sender.name, level))
    assert level <= MAX_EXPOSURE, "%s on %s: exposure %.1f" % (unit, link.sender.name, level)
