#!/bin/sh
# setup.sh - Gradescope runs this once, as root, when it builds the
# autograder's image (this zip unpacked in /autograder/source). It installs
# the Debian/Ubuntu packages of socklab's tools/deps.sh (the list below is
# copied from there when the zip is built) and builds the grader's sandbox
# (slrun) and capture analyzer (pcapcheck), so that each submission is only
# graded, not set up. Choose a base image with Python 3.11 or later
# (Ubuntu 24.04 or Debian 12): the grader reads TOML with tomllib.
set -eu

PACKAGES="@PACKAGES@"

cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086  # word splitting of the package list is wanted
if ! apt-get install -y -q --no-install-recommends $PACKAGES; then
	# One package missing from this distribution (say chromium on Ubuntu, a
	# snap there) must not stop the others: grading needs only some of them,
	# and the checks below say whether those are here.
	for p in $PACKAGES; do
		apt-get install -y -q --no-install-recommends "$p" ||
			echo "setup.sh: package $p is not available here; skipped" >&2
	done
fi

/usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
	echo "setup.sh: the grader needs Python 3.11 or later (tomllib): choose Ubuntu 24.04 or Debian 12" >&2
	exit 1
}
/usr/bin/python3 -c 'import pytest, xdist, pytest_timeout' || {
	echo "setup.sh: python3-pytest, python3-pytest-xdist or python3-pytest-timeout did not install" >&2
	exit 1
}
make -s -C grader/sandbox
make -s -C grader/pcapcheck
chmod 755 run_autograder
echo "setup.sh: socklab autograder for lab @LAB@ is ready"
