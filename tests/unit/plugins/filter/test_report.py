# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""identity_report and report_table, from real certificates read by certificate_info's
code: days left, trusted-by, and every problem that fails the report playbook."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from ansible.errors import AnsibleFilterError

from ansible_collections.dicom.secure_transfer.plugins.filter.report import (
    identity_report,
    report_table,
)
from ansible_collections.dicom.secure_transfer.plugins.filter.trust import trust_bundle
from ansible_collections.dicom.secure_transfer.plugins.module_utils import (
    _certificate_files,
    _x509,
)

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
# Ten days after the certificates were issued: a 365-day certificate has 355 days left.
NOW = START + datetime.timedelta(days=10)


def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(key, subject, days=365, issuer=None, ca=False):
    """A certificate valid from START for days; self-signed unless issuer=(name, key)."""
    issuer_name, issuer_key = issuer or (name(subject), key)
    return (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(START)
        .not_valid_after(START + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def pem(*certs):
    return _x509.certificates_pem(certs).decode()


def receiver_bundle(tx_anchor):
    """trusted-senders.pem of rx1, as trust_exchange renders it."""
    return trust_bundle(["tx1"], {"tx1": pem(tx_anchor)})


def destination_file(rx_anchor):
    """destinations/archive.pem of tx1, as trust_exchange renders it."""
    return trust_bundle([], {}, {"rx1": pem(rx_anchor)})


class Fleet:
    """Hosts as the report playbook sees them: files written under tmp_path, read with
    certificate_info's code, and the result registered as the playbook registers it."""

    def __init__(self, tmp_path):
        self.root = tmp_path
        self.hosts = {}

    def add(self, host, chain=None, anchor=None, trust=None):
        """chain, anchor: certificates (None: no file); trust: {relative path: PEM}."""
        directory = self.root / host
        (directory / "destinations").mkdir(parents=True)
        files = {"host.crt": pem(*chain) if chain else None}
        files["anchor.crt"] = pem(anchor) if anchor is not None else None
        files.update(trust or {})
        for relative, content in files.items():
            if content is not None:
                (directory / relative).write_text(content)
        paths = [str(directory / p) for p in ("host.crt", "anchor.crt")]
        paths += [str(directory / p) for p in (trust or {}) if "*" in p or "/" not in p]
        paths.append(str(directory / "destinations" / "*.pem"))
        self.hosts[host] = dict(
            cert_file=paths[0],
            anchor_file=paths[1],
            read=dict(
                changed=False,
                files=[
                    _certificate_files.inspect(p)
                    for p in _certificate_files.expand(paths)
                ],
            ),
        )
        return self.hosts[host]

    def report(self, min_days_left=30, now=NOW):
        return identity_report(self.hosts, now=now, min_days_left=min_days_left)


@pytest.fixture
def pair(keys, tmp_path):
    """rx1 and tx1, self-signed for 365 days, each trusting the other as site.yml does."""
    rx = certificate(keys.get("p256", 20), "rx1")
    tx = certificate(keys.get("p256", 21), "tx1")
    fleet = Fleet(tmp_path)
    fleet.add(
        "rx1",
        [rx],
        rx,
        {"trusted-senders.pem": trust_bundle(["tx1"], {"tx1": pem(tx)})},
    )
    fleet.add(
        "tx1",
        [tx],
        tx,
        {"destinations/archive.pem": trust_bundle([], {}, {"rx1": pem(rx)})},
    )
    return fleet, rx, tx


def row(report, host):
    return next(r for r in report["rows"] if r["host"] == host)


class TestPair:
    def test_rows_days_left_and_trusted_by(self, pair):
        fleet, rx, tx = pair
        report = fleet.report()

        assert report["problems"] == [] and report["failed_hosts"] == []
        assert [r["host"] for r in report["rows"]] == ["rx1", "tx1"]
        receiver = row(report, "rx1")
        assert receiver["status"] == "ok"
        assert receiver["subject"] == receiver["issuer"] == "CN=rx1"
        assert receiver["not_after"] == "2027-01-01T00:00:00Z"
        assert receiver["days_left"] == 355
        assert receiver["fingerprint_sha256"] == _x509.fingerprint_sha256(rx)
        assert receiver["trusted_by"] == ["tx1 (archive)"]
        assert row(report, "tx1")["trusted_by"] == ["rx1"]
        assert report["now"] == "2026-01-11T00:00:00Z"

    def test_a_minimum_above_the_days_left_fails_both_hosts(self, pair):
        fleet, _rx, _tx = pair
        report = fleet.report(min_days_left=400)

        assert report["failed_hosts"] == ["rx1", "tx1"]
        assert [r["status"] for r in report["rows"]] == ["expiring", "expiring"]
        assert report["problems"][0] == (
            "rx1: certificate CN=rx1 expires on 2027-01-01T00:00:00Z, in 355 days "
            "(fewer than 400)"
        )
        assert len(report["problems"]) == 2, "a self-signed anchor is not counted twice"

    def test_the_minimum_is_a_strict_bound(self, pair):
        fleet, _rx, _tx = pair
        assert fleet.report(min_days_left=355)["problems"] == []
        assert fleet.report(min_days_left=356)["failed_hosts"] == ["rx1", "tx1"]
        assert fleet.report(min_days_left="356")["failed_hosts"] == ["rx1", "tx1"]

    def test_expired(self, pair):
        fleet, _rx, _tx = pair
        later = START + datetime.timedelta(days=368)
        report = fleet.report(min_days_left=0, now=later)

        assert [r["status"] for r in report["rows"]] == ["expired", "expired"]
        assert row(report, "rx1")["days_left"] == -3
        assert report["problems"][0] == (
            "rx1: certificate CN=rx1 expired on 2027-01-01T00:00:00Z (3 days ago)"
        )

    @pytest.mark.parametrize(
        "now",
        ["2026-01-11T00:00:00Z", "2026-01-11 00:00:00", datetime.datetime(2026, 1, 11)],
    )
    def test_now_as_string_or_naive_utc(self, pair, now):
        fleet, _rx, _tx = pair
        assert row(fleet.report(now=now), "rx1")["days_left"] == 355

    def test_trust_that_was_not_exchanged_shows_as_trusted_by_no_one(self, pair):
        fleet, rx, tx = pair
        fleet.add("tx2", [tx], tx)
        del fleet.hosts["tx1"]
        report = fleet.report()
        assert row(report, "rx1")["trusted_by"] == []
        assert row(report, "tx2")["trusted_by"] == ["rx1"]


class TestHostsThatCannotBeRead:
    def test_missing_identity_files_name_the_host_and_the_file(self, pair):
        fleet, _rx, _tx = pair
        entry = fleet.add("tx2")
        report = fleet.report()

        broken = row(report, "tx2")
        assert broken["status"] == "missing"
        assert broken["subject"] is None and broken["trusted_by"] == []
        assert report["failed_hosts"] == ["tx2"]
        assert report["problems"] == [
            "tx2: its certificate file %s is missing; run dicom.secure_transfer.site"
            % entry["cert_file"],
            "tx2: its trust anchor file %s is missing; run dicom.secure_transfer.site"
            % entry["anchor_file"],
        ]

    def test_missing_receiver_bundle(self, pair, tmp_path):
        fleet, _rx, _tx = pair
        (tmp_path / "rx1" / "trusted-senders.pem").unlink()
        fleet.hosts["rx1"]["read"]["files"][2] = _certificate_files.inspect(
            str(tmp_path / "rx1" / "trusted-senders.pem")
        )
        report = fleet.report()
        assert row(report, "rx1")["status"] == "missing"
        assert report["problems"] == [
            "rx1: its trust file %s is missing; run dicom.secure_transfer.site"
            % (tmp_path / "rx1" / "trusted-senders.pem")
        ]
        assert row(report, "tx1")["trusted_by"] == []

    def test_damaged_anchor(self, pair, tmp_path):
        fleet, _rx, tx = pair
        anchor = tmp_path / "tx1" / "anchor.crt"
        anchor.write_text("garbage\n")
        fleet.hosts["tx1"]["read"]["files"][1] = _certificate_files.inspect(str(anchor))
        report = fleet.report()

        broken = row(report, "tx1")
        assert broken["status"] == "error"
        assert broken["fingerprint_sha256"] == _x509.fingerprint_sha256(tx)
        assert broken["trusted_by"] == []
        assert report["problems"] == [
            "tx1: its trust anchor file is unusable: %s holds no PEM certificate"
            % anchor
        ]

    def test_unreachable_and_failed_hosts(self, pair):
        fleet, _rx, _tx = pair
        fleet.hosts["tx2"] = dict(
            cert_file="/etc/dicom-tls/host.crt",
            anchor_file="/etc/dicom-tls/anchor.crt",
            read=dict(unreachable=True, msg="Failed to connect to the host via ssh"),
        )
        fleet.hosts["tx3"] = dict(
            read=dict(failed=False, msg="the Python library 'cryptography' is missing")
        )
        fleet.hosts["tx4"] = None
        report = fleet.report()

        assert [row(report, h)["status"] for h in ("tx2", "tx3", "tx4")] == [
            "unreachable",
            "error",
            "error",
        ]
        assert report["failed_hosts"] == ["tx2", "tx3", "tx4"]
        assert report["problems"] == [
            "tx2 is unreachable: Failed to connect to the host via ssh",
            "tx3: its TLS files could not be read: the Python library 'cryptography' "
            "is missing",
            "tx4: its TLS files could not be read: the read task did not run",
        ]


class TestCertificateAuthority:
    @pytest.fixture
    def issued(self, keys, tmp_path):
        """rx1 and tx1 issued by one intermediate under one root, which both trust."""
        root_key, issuing_key = keys.get("p256", 30), keys.get("p256", 31)
        root = certificate(root_key, "Root CA", days=3650, ca=True)
        issuing = certificate(
            issuing_key, "Issuing CA", days=39, ca=True, issuer=(root.subject, root_key)
        )
        by_issuing = (issuing.subject, issuing_key)
        rx = certificate(keys.get("p256", 32), "rx1", issuer=by_issuing)
        tx = certificate(keys.get("p256", 33), "tx1", issuer=by_issuing)
        fleet = Fleet(tmp_path)
        fleet.add(
            "rx1", [rx, issuing], root, {"trusted-senders.pem": receiver_bundle(root)}
        )
        fleet.add(
            "tx1",
            [tx, issuing],
            root,
            {"destinations/archive.pem": destination_file(root)},
        )
        return fleet, root

    def test_trusted_by_follows_the_root(self, issued):
        fleet, root = issued
        report = fleet.report(min_days_left=0)
        receiver = row(report, "rx1")
        assert receiver["issuer"] == "CN=Issuing CA"
        assert receiver["anchor_fingerprint_sha256"] == _x509.fingerprint_sha256(root)
        assert receiver["trusted_by"] == ["rx1", "tx1 (archive)"]
        assert report["problems"] == []

    def test_an_intermediate_that_expires_first_fails_the_report(self, issued):
        fleet, _root = issued
        report = fleet.report()
        assert row(report, "rx1")["days_left"] == 355
        assert row(report, "rx1")["status"] == "expiring"
        assert report["problems"] == [
            "%s: intermediate CA CN=Issuing CA expires on 2026-02-09T00:00:00Z, in 29 "
            "days (fewer than 30)" % host
            for host in ("rx1", "tx1")
        ]


class TestOtherTrustedCertificates:
    def test_outside_peer_gets_a_row_and_its_expiry_blames_who_trusts_it(
        self, pair, keys, tmp_path
    ):
        fleet, _rx, tx = pair
        modality = certificate(keys.get("p256", 40), "ct1", days=20)
        bundle = trust_bundle(["tx1"], {"tx1": pem(tx)}, {"ct1.pem": pem(modality)})
        path = tmp_path / "rx1" / "trusted-senders.pem"
        path.write_text(bundle)
        fleet.hosts["rx1"]["read"]["files"][2] = _certificate_files.inspect(str(path))
        report = fleet.report()

        outside = row(report, "(trusted for ct1.pem)")
        assert outside["kind"] == "trusted"
        assert outside["status"] == "expiring"
        assert outside["trusted_by"] == ["rx1"]
        assert outside["days_left"] == 10
        assert report["failed_hosts"] == ["rx1"]
        assert report["problems"] == [
            "rx1: trusted certificate CN=ct1 expires on 2026-01-21T00:00:00Z, in 10 days "
            "(fewer than 30) (trusted for ct1.pem)"
        ]
        assert row(report, "tx1")["trusted_by"] == ["rx1"]


class TestInput:
    @pytest.mark.parametrize("days", [-1, "thirty", 1.5, None])
    def test_min_days_left_must_be_whole_days(self, pair, days):
        fleet, _rx, _tx = pair
        with pytest.raises(AnsibleFilterError, match="min_days_left must be a whole"):
            fleet.report(min_days_left=days)

    def test_now_must_be_a_moment(self, pair):
        fleet, _rx, _tx = pair
        with pytest.raises(AnsibleFilterError, match="now 'soon' is not a moment"):
            fleet.report(now="soon")

    def test_input_must_be_a_mapping(self):
        with pytest.raises(AnsibleFilterError, match="must map host names"):
            identity_report(["rx1"], now=NOW)


class TestTable:
    def test_columns_line_up_and_problems_stand_out(self, pair):
        fleet, _rx, _tx = pair
        fleet.add("tx2")
        lines = report_table(fleet.report(min_days_left=400)["rows"])

        assert lines[0].split("  ")[0] == "HOST"
        assert lines[0].startswith("HOST  STATUS    SUBJECT")
        assert [line.split()[:2] for line in lines[1:]] == [
            ["rx1", "EXPIRING"],
            ["tx1", "EXPIRING"],
            ["tx2", "MISSING"],
        ]
        column = lines[0].index("TRUSTED BY")
        assert [line[column:] for line in lines[1:]] == ["tx1 (archive)", "rx1", "-"]
        assert all(line == line.rstrip() for line in lines)

    def test_no_rows_is_a_header(self):
        assert report_table([]) == [
            "HOST  STATUS  SUBJECT  ISSUER  NOT AFTER  DAYS LEFT  SHA-256 FINGERPRINT  "
            "TRUSTED BY"
        ]
