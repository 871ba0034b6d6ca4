#!/usr/bin/env bash
# GENERATED test certificates for the benchmark capture generator (examples/gen-capture.rs).
# Not real CAs: every subject carries OU=GENERATED FOR TRAFFICDOC BENCHMARKS. Re-running
# makes new keys and serials; the committed DER files are what the generator embeds.
#   chain-inspection-*.der  leaf <- "Acme Corp SSL Inspection CA" <- "Acme Corp Root CA" (3)
#   chain-public-*.der      leaf <- "Example Public TLS RSA CA 2026" intermediate (2; root not sent)
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ou="OU=GENERATED FOR TRAFFICDOC BENCHMARKS"
san="subjectAltName=DNS:api.anthropic.com,DNS:statsig.anthropic.com,DNS:sentry.io,DNS:github.com,DNS:registry.npmjs.org"
ca_ext="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign"
leaf_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
$san"
printf '%s\n' "$ca_ext" >"$tmp/ca.ext"; printf '%s\n' "$leaf_ext" >"$tmp/leaf.ext"
key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/$1.key" 2>/dev/null; }
selfsigned() { # name subject days
  key "$1"; openssl req -new -x509 -key "$tmp/$1.key" -subj "$2" -days "$3" -sha256 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$tmp/$1.pem"
}
issue() { # name subject issuer days extfile
  key "$1"; openssl req -new -key "$tmp/$1.key" -subj "$2" -out "$tmp/$1.csr"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$3.pem" -CAkey "$tmp/$3.key" -CAcreateserial \
    -days "$4" -sha256 -extfile "$5" -out "$tmp/$1.pem" 2>/dev/null
}
selfsigned acme-root "/C=US/O=Acme Corp/$ou/CN=Acme Corp Root CA" 3650
issue acme-inspect "/C=US/O=Acme Corp/$ou/CN=Acme Corp SSL Inspection CA" acme-root 1825 "$tmp/ca.ext"
issue inspect-leaf "/C=US/O=Acme Corp/$ou/CN=api.anthropic.com" acme-inspect 30 "$tmp/leaf.ext"
selfsigned pub-root "/C=US/O=Example Public Trust/$ou/CN=Example Public Root R1" 3650
issue pub-int "/C=US/O=Example Public Trust/$ou/CN=Example Public TLS RSA CA 2026" pub-root 1825 "$tmp/ca.ext"
issue pub-leaf "/C=US/ST=California/O=Anthropic PBC/$ou/CN=api.anthropic.com" pub-int 90 "$tmp/leaf.ext"
der() { openssl x509 -in "$tmp/$1.pem" -outform DER -out "$2"; }
der inspect-leaf chain-inspection-1-leaf.der
der acme-inspect chain-inspection-2-intermediate.der
der acme-root    chain-inspection-3-root.der
der pub-leaf     chain-public-1-leaf.der
der pub-int      chain-public-2-intermediate.der
ls -l ./*.der
