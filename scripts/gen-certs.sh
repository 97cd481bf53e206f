#!/usr/bin/env bash
# Makes what opctl's TLS needs, with openssl (Debian's):
#   DIR/ca.crt, ca.key                 a CA of this installation's own
#   DIR/controller.crt, controller.key the controller's certificate (SANs: localhost, 127.0.0.1,
#                                      10.231.0.1 for the test bed, and $OPCTL_CERT_SANS, e.g.
#                                      "DNS:ctl.example,IP:10.0.0.5"); also its client certificate
#                                      toward agents (CN=opctl-controller)
#   DIR/etcd.crt, etcd.key             the etcd members' certificate, toward clients and each other
#                                      (scripts/etcd.sh; SANs: localhost, 127.0.0.1)
#   DIR/agent-NODE.crt, agent-NODE.key one per node, CN = its node name: the agent's client certificate
#                                      (the controller takes the node's identity from it) and the one
#                                      its operations port serves (SAN DNS:NODE.node.opctl, which the
#                                      controller checks whatever the address: a name no host has, so a
#                                      node's certificate never passes for the controller's host)
#   DIR/tokens.csv                     token,user,role lines for the controller (--tokens); made once,
#                                      with an admin token, a view token and an edit token
#   DIR/admin.token                    the admin token, for the CLI
#
#   scripts/gen-certs.sh DIR [NODE...]
#
# Idempotent: what exists is kept (a new NODE gets its certificate from the existing CA). Keys are
# EC P-256: quick to make and small. Safe to run concurrently on one DIR: runs take turns (a lock
# beside DIR), since signing rewrites the CA's serial file, which a second signer would read half
# written; a first run builds the CA in a temporary directory and moves it into place whole.
set -euo pipefail
dir=${1:?usage: scripts/gen-certs.sh DIR [NODE...]}
shift
days=825
umask 077
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9

sign() {  # sign NAME SUBJECT EXTENSIONS: NAME.key and NAME.crt in the working directory, from ca.*
  local name=$1 subject=$2 extensions=$3
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subject" \
    -keyout "$name.key" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
    -extfile <(printf '%s\n' "$extensions") -out "$name.crt" 2>/dev/null
  rm -f "$name.csr"
}

sign_controller() {
  local sans="DNS:localhost,IP:127.0.0.1,IP:10.231.0.1${OPCTL_CERT_SANS:+,$OPCTL_CERT_SANS}"
  sign controller "/CN=opctl-controller" "subjectAltName=$sans
extendedKeyUsage=serverAuth,clientAuth"
  chmod 644 controller.crt
}

# Whether certificate $1 lacks extended key usage $2: one made by an older version of this script.
lacks() { ! openssl x509 -in "$1" -noout -ext extendedKeyUsage 2>/dev/null | grep -q "$2"; }
# Whether agent certificate $1 names its node the old way (SAN DNS:NODE, which a host may also be).
old_san() { ! openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | grep -q '\.node\.opctl'; }

if [[ ! -s $dir/ca.crt ]]; then
  work=$(mktemp -d "$dir.partial.XXXXXX")
  (
    cd "$work"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
      -subj "/CN=opctl CA" -keyout ca.key -out ca.crt 2>/dev/null
    sign_controller
    admin=$(openssl rand -hex 24)
    {
      echo "# token,user,role (view, edit or admin); read by opctl-controller --tokens"
      echo "$admin,admin,admin"
      echo "$(openssl rand -hex 24),viewer,view"
      echo "$(openssl rand -hex 24),editor,edit"
    } >tokens.csv
    echo "$admin" >admin.token
    chmod 644 ca.crt
  )
  # Whole or not at all: a concurrent run may have won, and then its CA stays.
  mv -T "$work" "$dir" 2>/dev/null || rm -rf "$work"
fi
# The controller also shows its certificate to agents now: remake an older one (same CA and tokens).
if lacks "$dir/controller.crt" "Client Authentication"; then
  (cd "$dir" && sign_controller)
fi

if [[ ! -s $dir/etcd.crt ]]; then
  (
    cd "$dir"
    tmp=$(mktemp -u "etcd.XXXXXX")
    sign "$tmp" "/CN=opctl-etcd" "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
    mv "$tmp.key" etcd.key
    mv "$tmp.crt" etcd.crt
  )
fi

for node in "$@"; do
  [[ -s $dir/agent-$node.crt ]] && ! lacks "$dir/agent-$node.crt" "Server Authentication" &&
    ! old_san "$dir/agent-$node.crt" && continue
  (
    cd "$dir"
    tmp=$(mktemp -u "agent-$node.XXXXXX")
    sign "$tmp" "/O=opctl:agents/CN=$node" "subjectAltName=DNS:$node.node.opctl
extendedKeyUsage=clientAuth,serverAuth"
    mv "$tmp.key" "agent-$node.key"
    mv "$tmp.crt" "agent-$node.crt"
  )
done
