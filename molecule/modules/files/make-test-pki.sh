#!/usr/bin/env bash
# Test PKI of the modules scenario, made with the openssl CLI the way a hospital CA
# hands out identities: a root CA, an intermediate CA and a leaf for localhost, packed
# into two passphrase-protected PKCS#12 bundles:
#   aes.p12     OpenSSL 3's default encryption (AES-256-CBC, PBKDF2), chain given with -certfile
#   legacy.p12  -legacy (RC2-40 certificates, 3DES key), as older Windows exports are;
#               chain built by openssl with -chain
#
#   make-test-pki.sh DIR PASSPHRASE
set -euo pipefail

dir=$1
passphrase=$2
mkdir -p "$dir"
cd "$dir"

cat >extensions.cnf <<'CNF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

# certificate NAME SUBJECT [ISSUER]: a new RSA key and a certificate with the extensions
# section NAME, signed by ISSUER, or by its own key when no issuer is given.
certificate() {
  local name=$1 subject=$2 issuer=${3:-}
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  local signer=(-key "$name.key")
  [ -z "$issuer" ] || signer=(-CA "$issuer.crt" -CAkey "$issuer.key")
  openssl x509 -req -in "$name.csr" "${signer[@]}" -days 30 \
    -set_serial "0x$(openssl rand -hex 16)" \
    -extfile extensions.cnf -extensions "$name" -out "$name.crt" 2>/dev/null
  rm "$name.csr"
}

certificate root "/O=dicom.secure_transfer tests/CN=Molecule Test Root CA"
certificate intermediate "/O=dicom.secure_transfer tests/CN=Molecule Test Issuing CA" root
certificate leaf "/O=dicom.secure_transfer tests/CN=localhost" intermediate

cat intermediate.crt root.crt >chain.pem

openssl pkcs12 -export -passout "pass:$passphrase" -name localhost \
  -inkey leaf.key -in leaf.crt -certfile chain.pem -out aes.p12
openssl pkcs12 -export -legacy -passout "pass:$passphrase" -name localhost \
  -inkey leaf.key -in leaf.crt -chain -CAfile chain.pem -out legacy.p12
