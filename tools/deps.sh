#!/bin/sh
# deps.sh - install the Debian packages socklab needs, when some are missing.
# Quick when everything is present (one dpkg-query); needs root to install.
#   tools/deps.sh         what grading and the kit's tests need
#   tools/deps.sh bench   that, plus the named peers the benchmarks measure against
set -eu

PACKAGES="gcc make libc6-dev libcunit1-dev libssl-dev libpcap-dev
python3 python3-pytest python3-pytest-xdist python3-pytest-timeout
iproute2 util-linux tshark chromium curl similarity-tester
python3-aiosmtpd openssl"
# nginx is the web server the webserver lab is measured against; wrk puts the load.
BENCH_PACKAGES="nginx wrk"

case "${1:-}" in
"") ;;
bench) PACKAGES="$PACKAGES $BENCH_PACKAGES" ;;
*) echo "usage: tools/deps.sh [bench]" >&2; exit 2 ;;
esac

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root:  apt-get install -y$missing   (or run 'make' as root)" >&2
	exit 1
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086  # word splitting of the package list is wanted
apt-get install -y -q --no-install-recommends $missing >&2
