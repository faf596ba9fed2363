"""Lets the proxy cases (visible and hidden) import proxylib and origin, and
gives each case that asks for it a scripted origin server, closed after the
case."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from origin import Origin  # noqa: E402
from proxylib import spare_port  # noqa: E402


@pytest.fixture
def origin(case):
    """The scripted origin server of the case, on a port of its own."""
    server = Origin(case, spare_port(case, 1))
    yield server
    server.close()
