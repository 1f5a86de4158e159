# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report playbook against this pair, run as a scheduled job would run it: from the
controller, on Molecule's inventory. It passes below the days left, fails above them,
names hosts it cannot read, and changes nothing."""

import datetime
import json
import os
import subprocess
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from dicomtest import HOST_CERT, TLS_DIR, read

PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
RECEIVER, SENDER = "def-rx", "def-tx"


@pytest.fixture(scope="module")
def inventory(pytestconfig):
    """Molecule's inventory directory: the hosts file with its group_vars and host_vars."""
    path = pytestconfig.option.ansible_inventory or os.environ.get(
        "MOLECULE_INVENTORY_FILE"
    )
    if not path:
        pytest.skip("no Molecule inventory: run these tests through Molecule")
    return path if os.path.isdir(path) else os.path.dirname(path)


def report(inventories, *args, callback=None):
    """Run the report playbook; returns the CompletedProcess."""
    # Molecule asks for colour; the assertions read plain text.
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    if callback:
        env["ANSIBLE_STDOUT_CALLBACK"] = callback
    command = [PLAYBOOK, "dicom.secure_transfer.report", *args]
    for path in inventories:
        command += ["-i", path]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def task_results(completed, name):
    """{host: result} of the task called name, from the ansible.posix.json callback."""
    run = json.loads(completed.stdout)
    for play in run["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == name:
                return task["hosts"]
    raise AssertionError("no task %r in the run:\n%s" % (name, completed.stdout))


def table(completed):
    """The printed table as {first column: line}, and its header."""
    results = task_results(completed, "Print the identities")
    (msg,) = [r["msg"] for r in results.values()]
    # A list of lines, or one string with result_format yaml (see playbooks/report.yml).
    lines = msg.splitlines() if isinstance(msg, str) else msg
    header, rows = lines[0], lines[1:]
    return header, {line.split()[0]: line for line in rows}


def cell(header, line, title):
    """The text of a column, found by the position of its title in the header."""
    titles = [
        "HOST",
        "STATUS",
        "SUBJECT",
        "ISSUER",
        "NOT AFTER",
        "DAYS LEFT",
        "SHA-256 FINGERPRINT",
        "TRUSTED BY",
    ]
    start = header.index(title)
    following = titles.index(title) + 1
    end = header.index(titles[following]) if following < len(titles) else None
    return line[start:end].strip()


def identity(host):
    cert = x509.load_pem_x509_certificate(read(host, HOST_CERT).encode())
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    not_after = getattr(
        cert, "not_valid_after_utc", None
    ) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)), not_after


def tls_files(host):
    """sha256sum of every file in the TLS directory, the key's included."""
    return host.run("find %s -type f -exec sha256sum {} + | sort" % TLS_DIR).stdout


def test_below_the_days_left_it_passes_with_both_hosts_and_who_trusts_them(
    inventory, hosts
):
    completed = report(
        [inventory], "-e", "report_min_days_left=30", callback="ansible.posix.json"
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr

    header, rows = table(completed)
    assert sorted(rows) == [RECEIVER, SENDER]
    trusted_by = {RECEIVER: "%s (archive)" % SENDER, SENDER: RECEIVER}
    now = datetime.datetime.now(datetime.timezone.utc)
    for name, line in rows.items():
        fingerprint, not_after = identity(hosts(name))
        assert cell(header, line, "STATUS") == "ok"
        assert cell(header, line, "SUBJECT") == "CN=" + name
        assert cell(header, line, "ISSUER") == "CN=" + name
        assert cell(header, line, "NOT AFTER") == not_after.strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        assert int(cell(header, line, "DAYS LEFT")) == (not_after - now).days
        assert cell(header, line, "SHA-256 FINGERPRINT") == fingerprint
        assert cell(header, line, "TRUSTED BY") == trusted_by[name]


def test_in_check_mode_it_prints_the_table_and_changes_nothing(inventory, hosts):
    before = {name: tls_files(hosts(name)) for name in (RECEIVER, SENDER)}
    completed = report([inventory], "--check")
    after = {name: tls_files(hosts(name)) for name in (RECEIVER, SENDER)}

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr
    assert "SHA-256 FINGERPRINT" in completed.stdout
    assert "2 host(s) read; every certificate has at least 30 days" in completed.stdout
    for name in (RECEIVER, SENDER):
        assert "%s (archive)" % SENDER in completed.stdout
        recap = [
            line for line in completed.stdout.splitlines() if line.startswith(name)
        ]
        assert recap and "changed=0" in recap[-1] and "failed=0" in recap[-1]
    assert after == before


def test_above_the_days_left_it_fails_and_names_both_hosts(inventory):
    completed = report([inventory], "-e", "report_min_days_left=400")

    assert completed.returncode == 2, completed.stdout[-3000:] + completed.stderr
    output = " ".join((completed.stdout + completed.stderr).split())
    assert "TLS identities need attention on %s, %s." % (RECEIVER, SENDER) in output
    for name in (RECEIVER, SENDER):
        assert "%s: certificate CN=%s expires on " % (name, name) in output
    assert "(fewer than 400)" in output


def test_hosts_it_cannot_read_are_rows_and_fail_the_run(inventory, tmp_path):
    # A sender whose container does not exist, and the real sender looked for in a
    # directory without identity files.
    extra = tmp_path / "extra.yml"
    extra.write_text(
        yaml.safe_dump(
            {
                "dicom_senders": {
                    "hosts": {
                        "def-gone": {"ansible_connection": "community.docker.docker"},
                        SENDER: {"tls_identity_dir": "/etc/dicom-tls-nowhere"},
                    }
                }
            }
        )
    )
    completed = report([inventory, str(extra)], callback="ansible.posix.json")

    assert completed.returncode == 2, completed.stderr
    header, rows = table(completed)
    # The sender's anchor in the receiver's bundle is now no reported host's anchor.
    assert sorted(rows) == ["(trusted", "def-gone", RECEIVER, SENDER]
    assert cell(header, rows["(trusted"], "HOST") == "(trusted for %s)" % SENDER
    assert cell(header, rows["def-gone"], "STATUS") == "UNREACHABLE"
    assert cell(header, rows[SENDER], "STATUS") == "MISSING"
    assert cell(header, rows[RECEIVER], "STATUS") == "ok"
    assert cell(header, rows[RECEIVER], "TRUSTED BY") == "-"

    (result,) = task_results(
        completed, "Ensure every host was read and nothing expires within the minimum"
    ).values()
    assert result["msg"].startswith(
        "TLS identities need attention on def-gone, %s. def-gone is unreachable"
        % SENDER
    )
    assert (
        "%s: its certificate file /etc/dicom-tls-nowhere/host.crt is missing" % (SENDER)
        in result["msg"]
    )
