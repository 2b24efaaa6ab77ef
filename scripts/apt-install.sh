#!/usr/bin/env bash
# Installs the Debian packages named that are missing (make deps, make test-deps).
#
#   scripts/apt-install.sh [--no-services] PACKAGE...
#
# Runs apt-get as root, or through sudo. With --no-services, recommended packages are
# left out, the packages' services are not started on install (a policy-rc.d that
# denies starts, removed afterwards) and are disabled, so that no boot starts them
# either: prometheus's package would otherwise leave Prometheus on :9090 and its node
# exporter on :9100 listening on every interface. The tests run their own instances.
set -euo pipefail
no_services=
if [ "${1:-}" = --no-services ]; then no_services=1; shift; fi
missing=()
for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=
if [ "$(id -u)" != 0 ]; then
    command -v sudo > /dev/null || { echo "apt-install: run as root or install sudo: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
options=(-y -qq)
policy=/usr/sbin/policy-rc.d
made_policy=
if [ -n "$no_services" ]; then
    options+=(--no-install-recommends)
    if [ ! -e "$policy" ]; then
        trap '$sudo rm -f "$policy"' EXIT
        printf '#!/bin/sh\n# vigie scripts/apt-install.sh: no service starts while test packages install\nexit 101\n' \
            | $sudo tee "$policy" > /dev/null
        $sudo chmod 755 "$policy"
        made_policy=1
    fi
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install "${options[@]}" "${missing[@]}"
if [ -n "$made_policy" ]; then $sudo rm -f "$policy"; trap - EXIT; fi
if [ -n "$no_services" ] && command -v systemctl > /dev/null; then
    for package in "${missing[@]}"; do
        units=$(dpkg-query -L "$package" 2> /dev/null \
            | grep -E '^/(usr/)?lib/systemd/system/[^/@]+\.(service|socket|timer)$' || true)
        for unit in $units; do
            unit=${unit##*/}
            if [ "$(systemctl is-enabled "$unit" 2> /dev/null || true)" = enabled ]; then
                echo "disabling $unit (installed for the tests, which run their own)"
                $sudo systemctl disable --now "$unit" > /dev/null 2>&1 || true
            fi
        done
    done
fi
