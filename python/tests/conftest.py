# SPDX-License-Identifier: LGPL-2.1-or-later
import gc
import os

import pytest

import rcustate
from rcustate import Merge

# Every table kind the C ABI offers, in this order (ids 0..5).
TABLES = [
    ("kv", Merge.NONE),
    ("adds", Merge.ADD_I64),
    ("mins", Merge.MIN_I64),
    ("maxs", Merge.MAX_I64),
    ("sums", Merge.ADD_F64),
    ("log", Merge.APPEND),
]


def stress_scale():
    try:
        return max(1, int(os.environ.get("RCUSTATE_STRESS_SCALE", "1")))
    except ValueError:
        return 1


@pytest.fixture
def store():
    with rcustate.Store(TABLES) as s:
        s.create_partition(0)
        yield s


@pytest.fixture(autouse=True)
def no_leaked_handles():
    """Every test releases every C handle it made (explicitly or through the
    objects' finalizers): none is open once its objects are gone."""
    yield
    gc.collect()
    assert rcustate.live_handles() == {}
    assert not rcustate.in_read_section()
