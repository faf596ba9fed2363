"""A pytest plugin for tests/labs/test_loaded_machine.py: runs every
collected lab case SOCKLAB_ROUNDS times, in rounds (all cases once, then
all again, ...), as items of their own: test_x[round2], test_x[round3], ...
Load it with `-p repeat_cases` (this folder on PYTHONPATH)."""
import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    rounds = int(os.environ.get("SOCKLAB_ROUNDS", "1"))
    firsts = list(items)
    for k in range(2, rounds + 1):
        for item in firsts:
            items.append(pytest.Function.from_parent(item.parent, name=f"{item.name}[round{k}]",
                                                     originalname=item.originalname, callobj=item.obj))
