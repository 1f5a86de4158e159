#!/bin/sh
# Build the test PKI with the openssl CLI: a root CA, an intermediate CA, leaf
# certificates and the PKCS#12 bundles the tests read. Usage: make-test-pki.sh DIR PASS
# Used by the unit tests (tests/unit) and the integration targets alike.
set -eu

dir=$1
pass=$2
mkdir -p "$dir"
cd "$dir"

cat > openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder

[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[v3_intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = newcerts
serial = serial.txt
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[any_name]
commonName = supplied
CNF

# key NAME rsa|ec: RSA for the chain DCMTK uses, P-256 elsewhere (faster to make).
key() {
    case $2 in
    rsa) set -- "$1" -algorithm RSA -pkeyopt rsa_keygen_bits:2048 ;;
    ec) set -- "$1" -algorithm EC -pkeyopt ec_paramgen_curve:P-256 ;;
    esac
    name=$1
    shift
    openssl genpkey "$@" -out "$name.key" 2>/dev/null
}

# self_signed NAME CN EXTENSIONS KEYTYPE
self_signed() {
    key "$1" "$4"
    openssl req -config openssl.cnf -new -x509 -key "$1.key" -subj "/CN=$2" \
        -days 30 -extensions "$3" -out "$1.crt"
}

# issue NAME CN ISSUER EXTENSIONS KEYTYPE
issue() {
    key "$1" "$5"
    openssl req -config openssl.cnf -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial \
        -days 30 -extfile openssl.cnf -extensions "$4" -out "$1.crt" 2>/dev/null
}

self_signed root "DICOM Test Root CA" v3_root rsa
issue intermediate "DICOM Test Issuing CA" root v3_intermediate rsa
issue leaf localhost intermediate v3_leaf rsa
self_signed selfsigned localhost v3_leaf ec
self_signed unrelated "Unrelated Root CA" v3_root ec
key other ec

# The leaf's key in a certificate whose validity ended in the past, as only
# `openssl ca` can date one.
cp leaf.key expired.key
openssl req -config openssl.cnf -new -key expired.key -subj /CN=localhost \
    -out expired.csr
: > index.txt
mkdir -p newcerts
openssl ca -config openssl.cnf -batch -notext -rand_serial -cert intermediate.crt \
    -keyfile intermediate.key -in expired.csr -startdate 20200101000000Z \
    -enddate 20200201000000Z -extensions v3_leaf -extfile openssl.cnf \
    -out expired.crt 2>/dev/null

# The root deliberately comes before the intermediate: the module must sort them.
cat root.crt intermediate.crt > chain.pem
cat root.crt intermediate.crt unrelated.crt > chain-and-unrelated.pem

export_bundle() {
    out=$1
    shift
    openssl pkcs12 -export -passout "pass:$pass" -out "$out" "$@" 2>/dev/null
}

export_bundle aes.p12 -inkey leaf.key -in leaf.crt -certfile chain.pem
export_bundle legacy.p12 -legacy -inkey leaf.key -in leaf.crt -certfile chain.pem
export_bundle 3des.p12 -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES \
    -inkey leaf.key -in leaf.crt -certfile chain.pem
export_bundle noroot.p12 -inkey leaf.key -in leaf.crt -certfile intermediate.crt
export_bundle unrelated.p12 -inkey leaf.key -in leaf.crt \
    -certfile chain-and-unrelated.pem
export_bundle selfsigned.p12 -inkey selfsigned.key -in selfsigned.crt
export_bundle expired.p12 -inkey expired.key -in expired.crt -certfile chain.pem
export_bundle nokeys.p12 -nokeys -in leaf.crt -certfile chain.pem
export_bundle nocerts.p12 -nocerts -inkey leaf.key
# openssl refuses a key that matches no certificate, except with -nocerts, which
# still packs the -certfile certificates: the key of 'other' next to leaf's chain.
export_bundle mismatch.p12 -nocerts -inkey other.key -certfile leaf.crt
openssl pkcs12 -export -passout pass: -out nopass.p12 -inkey leaf.key -in leaf.crt \
    -certfile chain.pem 2>/dev/null
openssl pkcs12 -export -nomac -passout "pass:$pass" -out nomac.p12 \
    -inkey leaf.key -in leaf.crt 2>/dev/null
rm -rf ./*.csr ./*.srl index.txt* serial.txt* newcerts
