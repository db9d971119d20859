#!/usr/bin/env bash
# Makes sure the servers the test suite starts are installed: PostgreSQL, Redis,
# Prometheus (with promtool), Alertmanager and Chromium, and curl and jq (the README's deploy-gate
# pipeline steps run in the suite). Installs the missing ones with apt-get when running as root; otherwise
# stops and names the packages to install.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "Installing test servers: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The package starts a cluster of its own; the suite runs its own servers.
    if command -v service >/dev/null; then
        service postgresql stop >/dev/null 2>&1 || true
        for unit in redis-server prometheus prometheus-alertmanager prometheus-node-exporter; do
            service "$unit" stop >/dev/null 2>&1 || true
        done
    fi
    exit 0
fi

echo "The test suite needs these system packages: ${missing[*]}" >&2
echo "Install them (e.g. sudo apt-get install ${missing[*]}) and run make test again." >&2
exit 1
