#!/bin/sh
# deps.sh - install the Debian packages socklab needs, when some are missing.
# Quick when everything is present (one dpkg-query); needs root to install.
#   tools/deps.sh         what grading and the kit's own tests need (make grade, make test)
#   tools/deps.sh grade   what grading alone needs (students' copies, Gradescope's setup.sh)
#   tools/deps.sh bench   all of the first, plus the peers the benchmarks measure against
set -eu

# Building and running submissions, the sandbox, captures, the scripted
# peers (curl for the HTTP labs, aiosmtpd and openssl for the SMTP lab).
GRADE_PACKAGES="gcc make libc6-dev libssl-dev libpcap-dev
python3 python3-pytest python3-pytest-xdist python3-pytest-timeout
iproute2 util-linux curl python3-aiosmtpd openssl"
# The kit's own tests (CUnit, tshark's cross-checks, Chromium's screenshots)
# and the instructors' --similarity (sim_c).
TEST_PACKAGES="libcunit1-dev tshark chromium similarity-tester"
# nginx is the web server the webserver lab is measured against; wrk puts the load.
BENCH_PACKAGES="nginx wrk socat"

case "${1:-}" in
"") PACKAGES="$GRADE_PACKAGES $TEST_PACKAGES" ;;
grade) PACKAGES="$GRADE_PACKAGES" ;;
bench) PACKAGES="$GRADE_PACKAGES $TEST_PACKAGES $BENCH_PACKAGES" ;;
*) echo "usage: tools/deps.sh [grade|bench]" >&2; exit 2 ;;
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
