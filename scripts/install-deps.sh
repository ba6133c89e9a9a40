#!/usr/bin/env bash
# install-deps.sh -- install the Debian 12 packages dadns needs to build, test and benchmark.
#
# Idempotent and quick: packages already installed are detected with dpkg-query and apt is only
# called (apt-get update + install) for the missing ones. Works as root, or through sudo.
# Daemons that the packages would start (redis-server, named) are kept from starting by a
# temporary policy-rc.d; dadns's tests and `make run` start their own on their own ports.
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config
    libmicrohttpd-dev libhiredis-dev libyaml-dev libjansson-dev libknot-dev
    check libsubunit-dev
    redis-server bind9 bind9-utils dnsutils
    curl wrk clang-format iproute2 jq
    mariadb-server mariadb-client pdns-server pdns-backend-mysql default-libmysqlclient-dev
    libcurl4-openssl-dev chromium nettle-dev
    docker-compose # `docker-compose config` checks deploy/compose offline (tests/deploy)
)

# Node.js + npm validate the Kubernetes manifests (npm package kubernetes-models); a Node.js
# from elsewhere (e.g. NodeSource) is used as is, Debian's is installed only when none is there.
if ! command -v npm >/dev/null 2>&1; then
    PACKAGES+=(nodejs npm)
fi
# kubectl renders the kustomizations; it is not in Debian 12's own archive: installed when an
# apt source offers it (Kubernetes' or Google's repository), else the manifest test skips.
if ! command -v kubectl >/dev/null 2>&1 &&
    apt-cache policy kubectl 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    PACKAGES+=(kubectl)
fi

missing=()
for p in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    if [ "$status" != "install ok installed" ]; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-deps: not root and no sudo; install as root: ${missing[*]}" >&2
        exit 1
    fi
fi

# Keep the packages' init scripts from starting system daemons during the install (only when no
# policy is in place already; ours is removed again on exit).
policy=/usr/sbin/policy-rc.d
own_policy=0
cleanup() {
    if [ "$own_policy" -eq 1 ]; then
        "${SUDO[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    own_policy=1
fi

"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done"
