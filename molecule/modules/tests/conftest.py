# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers of the modules scenario's testinfra tests: openssl and DCMTK in the container."""

from __future__ import annotations

import base64
import json
import re

TLS_DIR = "/etc/dicom-tls"
PKI_DIR = "/root/pki"
RESULTS_DIR = "/root/molecule-results"
PASSPHRASE = "molecule-only-passphrase"

# Exit status of dcmtk_echo() when storescp never listened: the test setup broke.
SERVER_DOWN = 99

PEM_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL
)

ECHO_SCRIPT = r"""
set -u
port=$1
shift
client=()
while [ "$1" != -- ]; do client+=("$1"); shift; done
shift
work=$(mktemp -d)
timeout 60 storescp --log-level info "$@" --output-directory "$work" "$port" \
  >"$work/storescp.log" 2>&1 &
server=$!
listening=no
for _ in $(seq 1 100); do
  if ss -Hltn "sport = :$port" | grep -q .; then listening=yes; break; fi
  sleep 0.1
done
if [ "$listening" = yes ]; then
  timeout 30 echoscu -v "${client[@]}" localhost "$port"
  rc=$?
else
  echo "storescp did not listen on port $port" >&2
  rc=99
fi
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
sed 's/^/storescp: /' "$work/storescp.log" >&2
rm -rf "$work"
exit "$rc"
"""


def run_ok(host, command, *args):
    """Run a command in the container, fail the test unless it exits 0; return stdout."""
    result = host.run(command, *args)
    assert result.rc == 0, "%s failed (%d): %s" % (result.command, result.rc, result.stderr)
    return result.stdout


def pem_certificates(text):
    """The DER bytes of each PEM certificate in text, in order."""
    return [base64.b64decode("".join(body.split())) for body in PEM_BLOCK.findall(text)]


def file_certificates(host, path):
    return pem_certificates(host.file(path).content_string)


def public_key(host, path, kind):
    """The SubjectPublicKeyInfo of a private key (kind 'key') or certificate ('cert')."""
    if kind == "key":
        return run_ok(host, "openssl pkey -in %s -pubout", path)
    return run_ok(host, "openssl x509 -in %s -noout -pubkey", path)


def fingerprint(host, path):
    """SHA-256 fingerprint of the first certificate in path, as AA:BB:... hex."""
    out = run_ok(host, "openssl x509 -in %s -noout -fingerprint -sha256", path)
    return out.strip().split("=", 1)[1]


def recorded(host, name):
    """What a module returned during converge (see converge.yml)."""
    return json.loads(host.file("%s/%s.json" % (RESULTS_DIR, name)).content_string)


def dcmtk_echo(host, port, client_args, server_args):
    """Start storescp with server_args, send one C-ECHO with echoscu and client_args.

    Both run inside the container over loopback; storescp stops afterwards. Returns the
    result of echoscu (rc SERVER_DOWN when storescp never listened). storescp's log is
    appended to stderr.
    """
    words = ["bash", "-c", ECHO_SCRIPT, "dcmtk-echo", str(port)]
    words += list(client_args) + ["--"] + list(server_args)
    return host.run(" ".join(["%s"] * len(words)), *words)
