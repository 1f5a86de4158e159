# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the report playbook: every host's identity, its expiry and who trusts it.

identity_report
  From what the module certificate_info read on each host, one row per host (and per
  certificate in a trust file that is no host's current anchor), with the days left and
  the hosts that trust it, and the problems that should fail a scheduled run.
report_table
  Those rows as a plain-text table, one string per line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import posixpath
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Worst first: a row's status is the worst of its findings.
STATUSES = ("unreachable", "error", "missing", "expired", "expiring", "ok")

COLUMNS = (
    ("HOST", "host"),
    ("STATUS", "status"),
    ("SUBJECT", "subject"),
    ("ISSUER", "issuer"),
    ("NOT AFTER", "not_after"),
    ("DAYS LEFT", "days_left"),
    ("SHA-256 FINGERPRINT", "fingerprint_sha256"),
    ("TRUSTED BY", "trusted_by"),
)


def _utc(value, what):
    """An aware UTC datetime from a datetime (naive means UTC) or an ISO 8601 string."""
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        text = str(value or "").strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            raise AnsibleFilterError(
                "identity_report: %s %r is not a moment such as 2027-01-31T12:00:00Z"
                % (what, value)
            )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def _days(value):
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = -1
    if days < 0 or str(value).strip() != str(days):
        raise AnsibleFilterError(
            "identity_report: min_days_left must be a whole number of days, 0 or more, "
            "got %r" % (value,)
        )
    return days


def _worst(statuses):
    return min(statuses, key=STATUSES.index) if statuses else "ok"


def _trust_label(host, path):
    """'rx1' for a receiver's bundle, 'tx1 (archive)' for a sender's destination file."""
    directory, name = posixpath.split(path)
    if posixpath.basename(directory) == "destinations":
        return "%s (%s)" % (host, posixpath.splitext(name)[0])
    return host


class _Expiry:
    """Days left of certificates relative to one moment, against one minimum."""

    def __init__(self, now, min_days_left):
        self.now = now
        self.min_days_left = min_days_left

    def days_left(self, cert):
        remaining = _utc(cert["not_after"], "not_after") - self.now
        return remaining.days

    def status(self, cert):
        remaining = _utc(cert["not_after"], "not_after") - self.now
        if remaining <= datetime.timedelta(0):
            return "expired"
        if remaining < datetime.timedelta(days=self.min_days_left):
            return "expiring"
        return "ok"

    def problem(self, owner, what, cert):
        """A sentence for a certificate that expired or expires too soon, else None."""
        status = self.status(cert)
        days = self.days_left(cert)
        described = "%s: %s %s" % (owner, what, cert["subject"])
        if status == "expired":
            return "%s expired on %s (%s ago)" % (
                described, cert["not_after"], _plural(-days)
            )
        if status == "expiring":
            return "%s expires on %s, in %s (fewer than %d)" % (
                described, cert["not_after"], _plural(days), self.min_days_left
            )
        return None


def _plural(days):
    return "%d day%s" % (days, "" if days == 1 else "s")


class _Host:
    """What was read on one host, sorted into identity, anchor and trust files."""

    def __init__(self, name, data):
        data = data or {}
        self.name = name
        self.cert_file = data.get("cert_file") or ""
        self.anchor_file = data.get("anchor_file") or ""
        read = data.get("read") or {}
        self.unreachable = bool(read.get("unreachable"))
        self.failure = None
        if self.unreachable:
            message = str(read.get("msg") or "no answer").strip()
            self.failure = "%s is unreachable: %s" % (name, message)
        elif read.get("failed") or "files" not in read:
            message = str(read.get("msg") or "the read task did not run").strip()
            self.failure = "%s: its TLS files could not be read: %s" % (name, message)
        files = (read.get("files") or []) if self.failure is None else []
        self.files = {entry["path"]: entry for entry in files}
        self.trust_files = [
            entry for entry in files
            if entry["path"] not in (self.cert_file, self.anchor_file)
        ]

    def file(self, path):
        missing = dict(path=path, exists=False, error=None, certificates=[])
        return self.files.get(path) or missing


def _file_problems(host, entry, what):
    """(status, problem) for a missing or unusable identity file, else None."""
    if not entry["exists"]:
        message = "%s: its %s %s is missing; run dicom.secure_transfer.site"
        return "missing", message % (host.name, what, entry["path"])
    if entry["error"]:
        return "error", "%s: its %s is unusable: %s" % (host.name, what, entry["error"])
    return None


def _row(**values):
    """A row with every key, empty."""
    row = dict.fromkeys(
        ("subject", "issuer", "not_after", "days_left", "fingerprint_sha256",
         "anchor_fingerprint_sha256")
    )
    row.update(status="ok", trusted_by=[], held_by=[], problems=[])
    row.update(values)
    return row


def _host_row(host, expiry, trusted_by):
    row = _row(host=host.name, kind="host", held_by=[host.name])
    if host.failure:
        row["status"] = "unreachable" if host.unreachable else "error"
        row["problems"].append(host.failure)
        return row

    statuses = []
    cert_entry = host.file(host.cert_file)
    anchor_entry = host.file(host.anchor_file)
    files = [(cert_entry, "certificate file"), (anchor_entry, "trust anchor file")]
    files += [(entry, "trust file") for entry in host.trust_files]
    for entry, what in files:
        found = _file_problems(host, entry, what)
        if found:
            statuses.append(found[0])
            row["problems"].append(found[1])

    chain = cert_entry["certificates"]
    if chain:
        leaf = chain[0]
        row.update(
            subject=leaf["subject"],
            issuer=leaf["issuer"],
            not_after=leaf["not_after"],
            days_left=expiry.days_left(leaf),
            fingerprint_sha256=leaf["fingerprint_sha256"],
        )
    checked = set()
    anchors = anchor_entry["certificates"][:1]
    named = [(c, "certificate") for c in chain[:1]]
    named += [(c, "intermediate CA") for c in chain[1:]]
    named += [(c, "trust anchor") for c in anchors]
    for cert, what in named:
        if cert["fingerprint_sha256"] in checked:
            continue
        checked.add(cert["fingerprint_sha256"])
        statuses.append(expiry.status(cert))
        problem = expiry.problem(host.name, what, cert)
        if problem:
            row["problems"].append(problem)

    if anchors:
        row["anchor_fingerprint_sha256"] = anchors[0]["fingerprint_sha256"]
        row["trusted_by"] = trusted_by.get(anchors[0]["fingerprint_sha256"], [])
    row["status"] = _worst(statuses)
    return row


def _holders(hosts):
    """fingerprint -> [(trusting host, label, certificate)] over every trust file."""
    holders = {}
    for host in hosts:
        for entry in host.trust_files:
            for cert in entry["certificates"]:
                holders.setdefault(cert["fingerprint_sha256"], []).append(
                    (host, _trust_label(host.name, entry["path"]), cert)
                )
    return holders


def _other_rows(holders, anchors, expiry):
    """Rows of the trusted certificates that are no reported host's current anchor."""
    rows = []
    for fingerprint, held in holders.items():
        if fingerprint in anchors:
            continue
        cert = held[0][2]
        names = []
        for _host, _label, held_cert in held:
            names += [n for n in held_cert.get("trusted_for") or [] if n not in names]
        trusting = sorted({host.name for host, _label, _cert in held})
        problems = []
        for name in trusting:
            problem = expiry.problem(name, "trusted certificate", cert)
            if problem:
                problems.append(
                    "%s (trusted for %s)" % (problem, ", ".join(names) or "no one named")
                )
        rows.append(
            dict(
                _row(host="(trusted for %s)" % (", ".join(names) or "?"), kind="trusted"),
                status=expiry.status(cert),
                subject=cert["subject"],
                issuer=cert["issuer"],
                not_after=cert["not_after"],
                days_left=expiry.days_left(cert),
                fingerprint_sha256=fingerprint,
                anchor_fingerprint_sha256=fingerprint,
                trusted_by=sorted({label for _host, label, _cert in held}),
                held_by=trusting,
                problems=problems,
            )
        )
    return sorted(rows, key=lambda row: (row["host"], row["fingerprint_sha256"]))


def identity_report(hosts, now, min_days_left=30):
    """Rows, problems and the hosts to blame, from every host's certificate_info result.

    hosts maps an inventory name to a dict with cert_file and anchor_file (paths on that
    host) and read (the registered result of certificate_info, which may be unreachable
    or failed). Every file read that is neither the certificate nor the anchor is a
    trust file of that host.
    """
    if not isinstance(hosts, Mapping):
        raise AnsibleFilterError(
            "identity_report: the input must map host names to what was read on them"
        )
    expiry = _Expiry(_utc(now, "now"), _days(min_days_left))
    parsed = [_Host(name, hosts[name]) for name in sorted(hosts)]
    holders = _holders(parsed)
    trusted_by = {
        fingerprint: sorted({label for _host, label, _cert in held})
        for fingerprint, held in holders.items()
    }

    rows = [_host_row(host, expiry, trusted_by) for host in parsed]
    anchors = {row["anchor_fingerprint_sha256"] for row in rows} - {None}
    rows += _other_rows(holders, anchors, expiry)

    problems = [problem for row in rows for problem in row["problems"]]
    blamed = {name for row in rows if row["problems"] for name in row["held_by"]}
    return dict(
        now=expiry.now.strftime(ISO_FORMAT),
        min_days_left=expiry.min_days_left,
        rows=rows,
        problems=problems,
        failed_hosts=sorted(blamed),
    )


def _cell(value):
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def report_table(rows):
    """The rows of identity_report as aligned text, a header line first."""
    cells = [[title for title, _key in COLUMNS]]
    for row in rows or []:
        line = [_cell(row.get(key)) for _title, key in COLUMNS]
        line[1] = line[1] if line[1] == "ok" else line[1].upper()
        cells.append(line)
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return [
        "  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip()
        for line in cells
    ]


class FilterModule:
    def filters(self):
        return {"identity_report": identity_report, "report_table": report_table}
