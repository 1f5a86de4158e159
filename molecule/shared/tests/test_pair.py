# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every scenario proves about each of its links (sender destination ->
inventory receiver) and each receiver. The topology comes from the inventory, so a
scenario gets these tests by listing this file in its verifier settings.

Each refusal is checked from both ends: the client fails, and the receiver logs the
TLS error that says why. A receiver that is down, or a client command that is wrong,
therefore fails the test instead of passing it.
"""

from dicomtest import (
    ANCHOR,
    HOST_CERT,
    HOST_KEY,
    STORESCP_SERVICE,
    STORESCP_SOCKET,
    TRUSTED_SENDERS,
    Journal,
    assert_intact,
    certificates,
    dcmdump_uid,
    dicom_client,
    drop,
    echo,
    make_images,
    read,
    run,
    sender_tls,
    throwaway_identity,
    wait_for_arrival,
    wait_until_gone,
)


def test_storescp_listens_and_never_runs_as_root(hosts, topology, receiver_name):
    receiver = topology.receivers[receiver_name]
    host = hosts(receiver_name)

    if receiver.socket_activated:
        listener, other = host.service(STORESCP_SOCKET), STORESCP_SERVICE
        service_unit = "dicom-storescp@probe.service"
    else:
        listener, other = host.service(STORESCP_SERVICE), STORESCP_SOCKET
        service_unit = STORESCP_SERVICE
    assert listener.is_enabled
    assert listener.is_running
    assert not host.service(other).is_running, "both listening modes are active"

    listening = host.run("ss -Hltn")
    assert ":%d " % receiver.port in listening.stdout, listening.stdout

    user = host.run("systemctl show -p User --value %s", service_unit)
    assert user.rc == 0 and user.stdout.strip() not in ("", "root"), user.stdout
    if not receiver.socket_activated:
        users = host.run("ps -o user= -C storescp").stdout.split()
        assert users, "no storescp process on %s" % receiver_name
        assert "root" not in users


def test_private_key_is_readable_by_the_service_group_only(hosts, pair_host_name):
    key = hosts(pair_host_name).file(HOST_KEY)
    assert key.exists
    assert key.user == "root"
    assert key.group == "dicom-tls"
    assert key.mode == 0o640, oct(key.mode)


def test_receiver_trusts_exactly_its_senders(hosts, topology, receiver_name):
    expected = set()
    for sender in topology.senders_of(receiver_name):
        expected.update(certificates(read(hosts(sender), ANCHOR)))
    trusted = certificates(read(hosts(receiver_name), TRUSTED_SENDERS))
    assert trusted, "%s trusts no sender" % receiver_name
    assert set(trusted) == expected
    assert len(trusted) == len(set(trusted)), "an anchor is listed twice"


def test_destination_trusts_exactly_its_receiver(hosts, link):
    expected = certificates(read(hosts(link.receiver), ANCHOR))
    trusted = certificates(read(hosts(link.sender.name), link.destination.anchor_file))
    assert trusted == expected


def test_echo_over_tls(hosts, link):
    result = echo(hosts(link.sender.name), link, sender_tls(link.destination))
    assert result.rc == 0, result.stderr


def test_file_dropped_into_outbox_arrives_intact(hosts, topology, link):
    sender = hosts(link.sender.name)
    receiver = hosts(link.receiver)
    # A relay forwards what arrives: look where it keeps images once they left.
    output_dir = topology.receivers[link.receiver].kept_dir
    paths, expected = make_images(sender, 3)

    drop(sender, paths, link.destination.outbox)
    arrived = wait_for_arrival(receiver, output_dir, expected)

    assert_intact(expected, arrived)
    for uid, item in arrived.items():
        assert dcmdump_uid(receiver, item["path"]) == uid
    names = [p.rsplit("/", 1)[1] for p in paths]
    left = wait_until_gone(sender, link.destination.outbox, names)
    assert not left, "delivered files are still in the outbox: %s" % left


def test_plain_tcp_is_refused(hosts, link):
    journal = Journal(hosts(link.receiver))

    result = echo(hosts(link.sender.name), link, [])

    assert result.rc != 0, "storescp accepted an association without TLS"
    assert journal.wait_for(r"TLS error"), journal.text()


def test_tls_without_client_certificate_is_refused(hosts, link):
    journal = Journal(hosts(link.receiver))

    result = echo(
        hosts(link.sender.name), link, ["+tla", "+cf", link.destination.anchor_file]
    )

    assert result.rc != 0, "storescp accepted a TLS client without a certificate"
    assert journal.wait_for(
        r"did not return a certificate|certificate required"
    ), journal.text()


def test_unknown_client_certificate_is_refused(hosts, link):
    sender = hosts(link.sender.name)
    key, cert = throwaway_identity(sender, "unknown-" + link.id)

    # The same command with the sender's own identity works: only the identity differs.
    control = echo(sender, link, sender_tls(link.destination, verify=False))
    assert control.rc == 0, control.stderr

    journal = Journal(hosts(link.receiver))
    result = echo(sender, link, sender_tls(link.destination, key, cert, verify=False))

    assert result.rc != 0, "storescp accepted a certificate it was never given"
    assert journal.wait_for(r"certificate verify failed|unknown ca"), journal.text()


def test_store_with_unknown_certificate_leaves_nothing(hosts, topology, link):
    sender = hosts(link.sender.name)
    receiver = hosts(link.receiver)
    # A relay's storescp writes into an outbox, from which images move on.
    target = topology.receivers[link.receiver]
    output_dirs = sorted({target.output_dir, target.kept_dir})
    key, cert = throwaway_identity(sender, "intruder-" + link.id)
    paths, expected = make_images(sender, 1, rows=64, cols=64)

    result = run(
        sender,
        dicom_client(
            "storescu",
            link.sender.aetitle,
            link.receiver,
            link.destination.port,
            link.destination.aetitle,
            sender_tls(link.destination, key, cert),
            paths,
        ),
    )

    assert result.rc != 0
    for output_dir in output_dirs:
        assert not wait_for_arrival(receiver, output_dir, expected, timeout=3)


def test_identity_certificate_matches_its_key(hosts, pair_host_name):
    host = hosts(pair_host_name)
    from_key = host.run("openssl pkey -in %s -pubout" % HOST_KEY)
    from_cert = host.run("openssl x509 -in %s -noout -pubkey" % HOST_CERT)
    assert from_key.rc == 0 and from_cert.rc == 0
    assert from_key.stdout == from_cert.stdout
