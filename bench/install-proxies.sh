#!/usr/bin/env bash
# Installs nginx and HAProxy from Debian packages when they are missing, for
# the proxy comparison of `make bench` (make bench-proxies). The packages'
# own services are not started: the comparison runs its own instances on
# 127.0.0.1 ports with its own configurations.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
have nginx || missing+=(nginx)
have haproxy || missing+=(haproxy)
if [ ${#missing[@]} -eq 0 ]; then
	echo "bench: nginx and haproxy are installed"
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "bench: ${missing[*]} not installed and there is no apt-get; install them with your package manager, or run 'albmtls bench compare --servers albmtls,ceiling'" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "bench: installing ${missing[*]} needs root; run 'apt-get install nginx haproxy' as root" >&2
		exit 1
	fi
	sudo=sudo
fi

# A policy-rc.d that refuses every start keeps the packages from starting
# their system services (nginx would take port 80) during installation.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	trap '$sudo rm -f "$policy"' EXIT
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
fi

echo "bench: installing ${missing[*]} from Debian packages"
$sudo apt-get update -qq
RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bench: installed $(/usr/sbin/nginx -v 2>&1 | head -1); $(/usr/sbin/haproxy -v | head -1)"
