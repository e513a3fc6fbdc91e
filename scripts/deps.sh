#!/usr/bin/env bash
#
# deps.sh
#	  Installs the Debian 12 packages that building, testing and demonstrating
#	  ledger need, and only those that are missing.
#
# NOTES
#	  Idempotent: when everything is installed it only asks dpkg and returns.
#	  "apt-get update" runs at most once, and only when something is missing.
#	  Needs root (or sudo) only when something must be installed.
#
# IDENTIFICATION
#	  scripts/deps.sh
#
set -euo pipefail

# server, headers and PGXS, libraries we link, TAP test modules, toolchain,
# and clang's libFuzzer runtime for test/fuzz
PACKAGES=(
	postgresql-15
	postgresql-client-15
	postgresql-server-dev-15
	libroaring-dev
	libzstd-dev
	libipc-run-perl
	perl
	make
	gcc
	libc6-dev
	clang
	libclang-rt-14-dev
)

# prints the packages of PACKAGES that are not installed
missing_packages()
{
	local pkg status
	for pkg in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		if [ "$status" != "installed" ]; then
			echo "$pkg"
		fi
	done
}

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

echo "deps.sh: installing ${missing[*]}"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "deps.sh: missing packages (${missing[*]}) and not root; install them as root" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"

# (postgresql-15 may create and start a default cluster on port 5432; the
# tests and the demo never use it: they run their own clusters)
mapfile -t still < <(missing_packages)
if [ "${#still[@]}" -ne 0 ]; then
	echo "deps.sh: could not install ${still[*]}" >&2
	exit 1
fi
