# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The receiver under attack: its TLS posture measured with openssl and sslscan, and
hostile clients that must be refused while storescp stays up and keeps serving the
configured sender. Every probe runs on the sender's container against the receiver
over the scenario's network. Both identities are CA-issued (prepare.yml), and both
sides check the CA's CRL, which revokes one certificate of each side.

Each refusal has a counterpart that is accepted (the configured sender, or a
certificate that differs from the refused one only in what is tested), so a receiver
that refused everything would fail these tests too."""

import json
import re
import shlex
import time
import xml.etree.ElementTree as ET

import pytest
from dicomtest import (
    HOST_CERT,
    HOST_KEY,
    STAGING,
    STORESCP_SERVICE,
    TRUSTED_SENDERS,
    Journal,
    check,
    dicom_client,
    echo,
    run,
    sender_tls,
    throwaway_identity,
)

RECEIVER = "sec-rx"
SENDER = "sec-tx"
PORT = 2762

# Where the role puts the CRLs it copies from storescp_tls_crl_src.
RECEIVER_CRLS = "/etc/dicom-tls/storescp-crl.pem"
# Copied there by prepare.yml: keys and certificates (with the issuing CA) the CA revoked.
REVOKED = STAGING + "/revoked"
REVOKED_SENDER = (REVOKED + "/sec-tx-revoked.key", REVOKED + "/sec-tx-revoked.crt")
REVOKED_RECEIVER = (REVOKED + "/sec-rx-revoked.key", REVOKED + "/sec-rx-revoked.crt")


@pytest.fixture(scope="module")
def rx(hosts):
    return hosts(RECEIVER)


@pytest.fixture(scope="module")
def tx(hosts):
    return hosts(SENDER)


@pytest.fixture(scope="module")
def the_link(topology):
    (link,) = topology.links
    return link


def main_pid(rx):
    return check(rx, ["systemctl", "show", "-p", "MainPID", "--value", STORESCP_SERVICE]).strip()


@pytest.fixture(scope="module")
def first_pid(rx):
    return main_pid(rx)


def assert_still_serving(rx, tx, link, pid):
    """storescp is the same process as before and the configured sender gets through."""
    assert main_pid(rx) == pid, "storescp restarted or died"
    result = echo(tx, link, sender_tls(link.destination))
    assert result.rc == 0, "the configured sender was refused:\n%s%s" % (
        result.stdout,
        result.stderr,
    )


def s_client(tx, *args, key=HOST_KEY, cert=HOST_CERT):
    """openssl s_client with the sender's identity (its certificate followed by the
    issuing CA, which s_client sends only as -cert_chain); stdout and stderr together."""
    argv = [
        "openssl",
        "s_client",
        "-brief",
        "-connect",
        "%s:%d" % (RECEIVER, PORT),
        "-cert",
        cert,
        "-cert_chain",
        cert,
        "-key",
        key,
        *args,
    ]
    result = tx.run("timeout 30 %s </dev/null 2>&1" % shlex.join(argv))
    return result.rc, result.stdout


# TLS posture ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["-tls1", "-tls1_1"])
def test_tls_below_1_2_is_refused(tx, version):
    # Security level 0 lets this client offer the old versions: the refusal must come
    # from the receiver.
    rc, out = s_client(tx, version, "-cipher", "ALL:@SECLEVEL=0")

    assert rc != 0, out
    assert "no protocols available" not in out, "the client did not offer it:\n" + out
    assert not re.search(r"Protocol version: TLSv1(\.1)?$", out, re.M), out


@pytest.mark.parametrize("version, name", [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
def test_tls_1_2_and_1_3_are_accepted(tx, version, name):
    rc, out = s_client(tx, version)

    assert rc == 0, out
    assert re.search(r"Protocol version: %s$" % re.escape(name), out, re.M), out


def test_tls_1_2_suites_without_aead_or_forward_secrecy_are_refused(tx):
    weak = (
        "ALL:COMPLEMENTOFALL:!kECDHE+AESGCM:!kDHE+AESGCM:!kECDHE+CHACHA20:"
        "!kDHE+CHACHA20:!kECDHE+AESCCM:!kDHE+AESCCM:!kECDHE+ARIAGCM:!kDHE+ARIAGCM:"
        "@SECLEVEL=0"
    )
    rc, out = s_client(tx, "-tls1_2", "-cipher", weak)

    assert rc != 0, out
    assert "no ciphers available" not in out, out
    assert "Ciphersuite" not in out, out


def test_sslscan_finds_only_tls_1_2_and_1_3_with_aead_and_forward_secrecy(
    tx, test_ca_trusted
):
    # sslscan sends no intermediate CA; the sender's certificate needs one, the test
    # CA's leaves do not.
    result = run(
        tx,
        [
            "sslscan",
            "--no-colour",
            "--no-heartbleed",
            "--certs=" + CERTS + "/valid.crt",
            "--pk=" + CERTS + "/valid.key",
            "--xml=-",
            "%s:%d" % (RECEIVER, PORT),
        ],
        timeout=180,
    )
    assert result.rc == 0, result.stdout + result.stderr
    root = ET.fromstring(result.stdout[result.stdout.index("<?xml") :])

    enabled = {
        "%s%s" % (p.get("type"), p.get("version"))
        for p in root.iter("protocol")
        if p.get("enabled") == "1"
    }
    assert enabled <= {"tls1.2", "tls1.3"}, enabled
    accepted = [
        (c.get("sslversion"), c.get("cipher"))
        for c in root.iter("cipher")
        if c.get("status") in ("accepted", "preferred")
    ]
    tls12 = [name for version, name in accepted if version == "TLSv1.2"]
    assert tls12, "sslscan found no TLS 1.2 suite at all: %s" % accepted
    for name in tls12:
        assert re.match(r"^(ECDHE|DHE)-", name), "no forward secrecy: " + name
        assert re.search(r"GCM|CHACHA20|CCM", name), "not AEAD: " + name
    assert {entry[0] for entry in accepted} <= {"TLSv1.2", "TLSv1.3"}, accepted


# Hostile clients ------------------------------------------------------------------

# Runs on the sender's container: what a hostile client does, and what it saw.
RAW_CLIENT = r"""
import os, socket, subprocess, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "random":
    s = socket.create_connection((host, port), timeout=60)
    try:
        s.sendall(os.urandom(65536))
        while s.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    print("closed")
elif mode == "idle":
    held = [socket.create_connection((host, port), timeout=10) for _ in range(50)]
    time.sleep(2)
    rc = subprocess.call(sys.argv[4:])
    print("held %d, echo rc %d" % (len(held), rc))
"""


def raw_client(tx, *args):
    return tx.run(
        "timeout 120 python3 -c %s %s"
        % (shlex.quote(RAW_CLIENT), shlex.join(str(a) for a in args))
    )


def test_plain_dicom_is_refused(rx, tx, the_link, first_pid):
    result = echo(tx, the_link, [])

    assert result.rc != 0, result.stdout
    assert_still_serving(rx, tx, the_link, first_pid)


def test_random_bytes_are_refused(rx, tx, the_link, first_pid):
    result = raw_client(tx, "random", RECEIVER, PORT)

    assert result.rc == 0 and "closed" in result.stdout, result.stdout + result.stderr
    assert_still_serving(rx, tx, the_link, first_pid)


def test_tls_without_client_certificate_is_refused(rx, tx, the_link, first_pid):
    result = echo(tx, the_link, ["+tla", "+cf", the_link.destination.anchor_file])

    assert result.rc != 0, result.stdout
    assert_still_serving(rx, tx, the_link, first_pid)


def test_self_signed_stranger_is_refused(rx, tx, the_link, first_pid):
    key, cert = throwaway_identity(tx, "stranger")

    result = echo(tx, the_link, sender_tls(the_link.destination, key, cert))

    assert result.rc != 0, result.stdout
    assert_still_serving(rx, tx, the_link, first_pid)


def test_fifty_idle_connections_do_not_block_the_sender(rx, tx, the_link, first_pid):
    argv = dicom_client(
        "echoscu",
        the_link.sender.aetitle,
        RECEIVER,
        PORT,
        the_link.destination.aetitle,
        sender_tls(the_link.destination),
    )

    result = raw_client(tx, "idle", RECEIVER, PORT, *argv)

    assert "held 50, echo rc 0" in result.stdout, result.stdout + result.stderr
    assert_still_serving(rx, tx, the_link, first_pid)


# Certificates by date and issuer ---------------------------------------------------

# Runs on the sender's container (python3-cryptography comes with tls_identity): a CA
# the test will make the receiver trust, with its (empty) CRL, another one it never
# trusts, and leaves.
MAKE_CERTS = r"""
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)
def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
def write(base, key, cert):
    with open(out + "/" + base + ".key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(out + "/" + base + ".crt", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
def ca(cn):
    key = rsa.generate_private_key(65537, 2048)
    cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - day).not_valid_after(now + 30 * day)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
            False, False), critical=True)
        .sign(key, hashes.SHA256()))
    write(cn, key, cert)
    return key, cert
def leaf(cn, issuer, start, end):
    key = rsa.generate_private_key(65537, 2048)
    cert = (x509.CertificateBuilder().subject_name(name(cn))
        .issuer_name(issuer[1].subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
            ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(issuer[0], hashes.SHA256()))
    write(cn, key, cert)
def crl(cn, issuer):
    crl = (x509.CertificateRevocationListBuilder().issuer_name(issuer[1].subject)
        .last_update(now - day).next_update(now + 30 * day)
        .sign(issuer[0], hashes.SHA256()))
    with open(out + "/" + cn + ".crl", "wb") as f:
        f.write(crl.public_bytes(serialization.Encoding.PEM))
trusted, other = ca("test-ca"), ca("other-ca")
crl("test-ca", trusted)
leaf("valid", trusted, now - day, now + 30 * day)
leaf("expired", trusted, now - 30 * day, now - day)
leaf("not-yet-valid", trusted, now + 10 * day, now + 30 * day)
leaf("other-ca-leaf", other, now - day, now + 30 * day)
"""

CERTS = STAGING + "/certs"


def wait_for_new_pid(rx, old, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = main_pid(rx)
        active = run(rx, ["systemctl", "is-active", STORESCP_SERVICE]).stdout.strip()
        listening = ":%d " % PORT in run(rx, ["ss", "-Hltn"]).stdout
        if pid not in ("", "0", old) and active == "active" and listening:
            return pid
        run(rx, ["sleep", "1"])
    raise AssertionError("storescp did not restart after its TLS files changed")


def rewrite(rx, path, content):
    """Replace the content of path in place, as an editor would, and wait for the
    restart of storescp that dicom-storescp-tls.path makes of it."""
    pid = main_pid(rx)
    write = "cat > %s.new && cat %s.new > %s && rm %s.new" % ((path,) * 4)
    rx.run("printf %%s %s | sh -c %s" % (shlex.quote(content), shlex.quote(write)))
    wait_for_new_pid(rx, pid)


@pytest.fixture(scope="module")
def test_ca_trusted(rx, tx):
    """The receiver trusts test-ca besides its sender's CA for the tests that use this,
    and has its CRL, without which it would refuse every leaf of test-ca (see the
    revocation tests). Both files are restored afterwards."""
    check(tx, ["mkdir", "-p", CERTS])
    check(tx, ["python3", "-c", MAKE_CERTS, CERTS])
    files = (RECEIVER_CRLS, TRUSTED_SENDERS)
    original = {path: check(rx, ["cat", path]) for path in files}
    added = {
        RECEIVER_CRLS: check(tx, ["cat", CERTS + "/test-ca.crl"]),
        TRUSTED_SENDERS: check(tx, ["cat", CERTS + "/test-ca.crt"]),
    }

    for path in files:
        rewrite(rx, path, original[path] + added[path])
    yield
    for path in reversed(files):
        rewrite(rx, path, original[path])
        assert check(rx, ["cat", path]) == original[path]


def echo_as(tx, link, base):
    key, cert = "%s/%s.key" % (CERTS, base), "%s/%s.crt" % (CERTS, base)
    return echo(tx, link, sender_tls(link.destination, key, cert))


def test_valid_certificate_from_a_trusted_ca_is_accepted(tx, the_link, test_ca_trusted):
    result = echo_as(tx, the_link, "valid")

    assert result.rc == 0, result.stdout + result.stderr


@pytest.mark.parametrize("base", ["expired", "not-yet-valid", "other-ca-leaf"])
def test_certificate_out_of_date_or_from_another_ca_is_refused(
    rx, tx, the_link, test_ca_trusted, base
):
    pid = main_pid(rx)

    result = echo_as(tx, the_link, base)

    assert result.rc != 0, result.stdout
    assert_still_serving(rx, tx, the_link, pid)


# Source addresses (storescp_source_restriction: auto, on in CA mode) --------------


def test_only_the_senders_addresses_are_allowed(rx, tx):
    sender_ip = check(tx, ["hostname", "-I"]).split()[0]

    allow = check(rx, ["cat", "/etc/hosts.allow"])
    deny = check(rx, ["cat", "/etc/hosts.deny"])

    assert re.search(r"^storescp: .*\b%s\b" % re.escape(sender_ip), allow, re.M), allow
    assert re.search(r"^storescp: ALL$", deny, re.M), deny


def test_certificate_from_the_same_ca_on_another_host_is_refused(rx, tx, the_link):
    # The receiver's own identity comes from the sender's CA, so TLS alone would let it
    # in; from the receiver's address it must be refused. The sender's certificate from
    # that CA gets through from the sender's address (assert_still_serving).
    pid = main_pid(rx)
    tls = ["+tls", HOST_KEY, HOST_CERT, "-ic"]
    journal = Journal(rx)

    result = run(
        rx,
        dicom_client("echoscu", "STRANGER", RECEIVER, PORT, the_link.destination.aetitle, tls),
    )

    assert result.rc != 0, result.stdout
    assert journal.wait_for(r"TCP wrapper: denied connection"), journal.text()
    assert_still_serving(rx, tx, the_link, pid)


# Revocation (storescp_tls_crl_src, storescu_tls_crl_src) --------------------------


def test_both_sides_check_the_crl_from_the_controller(rx, tx, the_link):
    unit = check(rx, ["systemctl", "cat", STORESCP_SERVICE])
    job = json.loads(check(tx, ["cat", "/etc/dicom-send/%s.json" % the_link.destination.name]))

    assert "+crl %s" % RECEIVER_CRLS in unit, unit
    assert job["tls_args"][-2:] == ["+crl", "/etc/dicom-tls/storescu-crl.pem"], job
    serial = check(tx, ["openssl", "x509", "-noout", "-serial", "-in", REVOKED_SENDER[1]])
    crl_text = check(rx, ["openssl", "crl", "-noout", "-text", "-in", RECEIVER_CRLS])
    assert serial.strip().split("=")[1] in crl_text.replace(":", "").upper(), crl_text


def test_revoked_sender_certificate_is_refused(rx, tx, the_link):
    # Issued by the same CA as the configured sender's certificate, from the same
    # address: only the CRL tells them apart.
    pid = main_pid(rx)
    journal = Journal(rx)

    result = echo(tx, the_link, sender_tls(the_link.destination, *REVOKED_SENDER))

    assert result.rc != 0, result.stdout
    # DCMTK logs only that verification failed; the reason is in the alert the
    # receiver sends (TLS 1.2, where it comes within the handshake).
    assert journal.wait_for(r"certificate verify failed"), journal.text()
    rc, out = s_client(tx, "-tls1_2", key=REVOKED_SENDER[0], cert=REVOKED_SENDER[1])
    assert rc != 0 and "alert certificate revoked" in out, out
    assert_still_serving(rx, tx, the_link, pid)


def job_echo(job, port):
    """echoscu with the TLS arguments and AE titles of a send job's configuration."""
    aetitles = job["calling_aetitle"], job["called_aetitle"]
    return dicom_client("echoscu", aetitles[0], RECEIVER, port, aetitles[1], job["tls_args"])


def test_send_job_refuses_a_revoked_receiver_certificate(rx, tx, the_link):
    # A second storescp on the receiver shows a certificate the CA revoked; the send
    # job's TLS arguments (with its CRL) must refuse it and still reach the real one.
    job = json.loads(check(tx, ["cat", "/etc/dicom-send/%s.json" % the_link.destination.name]))
    impostor_port = PORT + 1
    check(
        rx,
        [
            "systemd-run",
            "--unit=dicom-st-revoked-receiver",
            "--collect",
            "storescp",
            "--log-level",
            "info",
            "--aetitle",
            the_link.destination.aetitle,
            "+tls",
            *REVOKED_RECEIVER,
            "-ic",
            str(impostor_port),
        ],
    )
    try:
        deadline = time.monotonic() + 30
        while ":%d " % impostor_port not in run(rx, ["ss", "-Hltn"]).stdout:
            assert time.monotonic() < deadline, "the second storescp does not listen"
            time.sleep(0.5)
        journal = Journal(rx)

        refused = run(tx, job_echo(job, impostor_port))
        served = run(tx, job_echo(job, PORT))
    finally:
        run(rx, ["systemctl", "stop", "dicom-st-revoked-receiver"])

    assert refused.rc != 0, refused.stdout + refused.stderr
    assert journal.wait_for(r"alert certificate revoked"), journal.text()
    assert served.rc == 0, served.stdout + served.stderr


# AE titles ------------------------------------------------------------------------


def test_storescp_checks_no_ae_title(rx, tx, the_link):
    # What docs/security.md states: storescp has no option to refuse an unexpected
    # called or calling AE title, so the collection relies on the TLS peer and the
    # source address. Should a DCMTK release change this, the docs need to follow.
    pid = main_pid(rx)

    called = "NOT-" + the_link.destination.aetitle
    tls = sender_tls(the_link.destination)

    result = run(tx, dicom_client("echoscu", "NOT-A-SENDER", RECEIVER, PORT, called, tls))

    assert result.rc == 0, result.stdout + result.stderr
    assert_still_serving(rx, tx, the_link, pid)
