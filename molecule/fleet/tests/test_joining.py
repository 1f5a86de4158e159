# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adding a sender changes only that sender and its receivers; removing it again
changes only its receivers.

The first test runs the site playbook on the scenario's inventory plus
inventory/join.yml, which puts flt-tx3 (a container of the scenario, in no group so
far) into dicom_senders; the second runs it on the scenario's inventory alone, which
takes flt-tx3 out again. Both read what changed where from the JSON callback."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from dicomtest import (
    ANCHOR,
    TRUSTED_SENDERS,
    assert_intact,
    certificates,
    drop,
    make_images,
    read,
    wait_for_arrival,
)

JOIN_INVENTORY = os.path.join(
    os.path.dirname(__file__), os.pardir, "inventory", "join.yml"
)
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


@pytest.fixture(scope="module")
def inventory(pytestconfig):
    return (
        pytestconfig.option.ansible_inventory or os.environ["MOLECULE_INVENTORY_FILE"]
    )


@pytest.fixture(scope="module")
def joining():
    """(name, its destinations, the receivers it names) from inventory/join.yml."""
    with open(JOIN_INVENTORY) as handle:
        senders = yaml.safe_load(handle)["dicom_senders"]["hosts"]
    ((name, settings),) = senders.items()
    destinations = settings["storescu_destinations"]
    return name, destinations, sorted({d["receiver"] for d in destinations})


def site(*inventories):
    """Run the site playbook; returns the JSON callback's document."""
    argv = [PLAYBOOK]
    for path in inventories:
        argv += ["-i", path]
    env = dict(
        os.environ,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    result = subprocess.run(
        argv + ["dicom.secure_transfer.site"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    start = result.stdout.find("{")
    assert start >= 0, "no JSON from ansible-playbook:\n%s\n%s" % (
        result.stdout,
        result.stderr,
    )
    report = json.loads(result.stdout[start:])
    failed = {
        host: stats
        for host, stats in report["stats"].items()
        if stats["failures"] or stats["unreachable"]
    }
    assert result.returncode == 0 and not failed, "site failed on %s:\n%s" % (
        failed,
        result.stderr[-3000:],
    )
    return report


def changed_tasks(report):
    """{host: [names of the tasks that changed it]} for every host that changed."""
    changed = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("changed"):
                    changed.setdefault(host, []).append(task["task"]["name"])
    counted = {host for host, s in report["stats"].items() if s["changed"]}
    assert counted == set(changed), (counted, changed)
    return changed


def test_a_new_sender_changes_only_itself_and_its_receivers(
    hosts, topology, inventory, joining
):
    name, destinations, receivers = joining
    assert name in topology.others, "%s is in the fleet already" % name

    report = site(inventory, JOIN_INVENTORY)

    changed = changed_tasks(report)
    others = {h: tasks for h, tasks in changed.items() if h not in [name, *receivers]}
    assert not others, "adding %s changed other hosts: %s" % (name, others)
    assert set(report["stats"]) >= set(topology.receivers) | set(topology.senders)
    for host in [name, *receivers]:
        assert host in changed, "%s did not change" % host

    # The new sender works: its receivers trust it, and what it sends arrives.
    anchor = certificates(read(hosts(name), ANCHOR))
    for receiver in receivers:
        assert set(anchor) <= set(certificates(read(hosts(receiver), TRUSTED_SENDERS)))
    sender = hosts(name)
    for destination in destinations:
        paths, expected = make_images(sender, 2)
        drop(sender, paths, destination["outbox"])
        target = topology.receivers[destination["receiver"]]
        assert_intact(
            expected, wait_for_arrival(hosts(target.name), target.kept_dir, expected)
        )


def test_removing_the_sender_changes_only_its_receivers(
    hosts, topology, inventory, joining
):
    name, _destinations, receivers = joining

    report = site(inventory)

    changed = changed_tasks(report)
    assert name not in report["stats"], "%s is still in the play" % name
    others = {h: tasks for h, tasks in changed.items() if h not in receivers}
    assert not others, "removing %s changed other hosts: %s" % (name, others)
    anchor = certificates(read(hosts(name), ANCHOR))
    for receiver in receivers:
        trusted = certificates(read(hosts(receiver), TRUSTED_SENDERS))
        assert not set(anchor) & set(trusted), "%s still trusts %s" % (receiver, name)
