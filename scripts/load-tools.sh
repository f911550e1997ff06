#!/usr/bin/env bash
# Installs the HTTP load generator that benches/techempower drives: `wrk` from Debian
# (apt-get, through sudo when not root and sudo is there). When apt-get cannot be used,
# falls back to `cargo install oha` and says so (the driver itself needs wrk).
#
#   bash scripts/load-tools.sh
#
# Idempotent: with wrk on the PATH it only prints its path.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
    echo "wrk: $(command -v wrk)" >&2
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo -n)
    else
        as_root=(false)
    fi
fi

if command -v apt-get >/dev/null 2>&1 && [ "${as_root[*]}" != false ]; then
    echo "installing wrk with apt-get" >&2
    if ! "${as_root[@]}" apt-get install -y wrk >&2; then
        "${as_root[@]}" apt-get update >&2
        "${as_root[@]}" apt-get install -y wrk >&2
    fi
    echo "wrk: $(command -v wrk)" >&2
    exit 0
fi

echo "apt-get is not usable here; installing oha with cargo instead" >&2
command -v oha >/dev/null 2>&1 || cargo install oha >&2
echo "oha: $(command -v oha) (benches/techempower drives wrk: install it to run the driver)" >&2
