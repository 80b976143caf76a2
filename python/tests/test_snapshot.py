# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pinned snapshots behave as read-only mappings of one version."""
import collections.abc

import pytest

import rcustate
from rcustate import decode_i64, encode_i64


@pytest.fixture
def filled(store):
    for i in range(100):
        store.put(0, "kv", b"key%03d" % i, b"value%d" % i)
        store.merge(0, "adds", b"key%03d" % i, encode_i64(i))
    store.put(0, "kv", b"", b"")
    store.commit(0)
    return store


def expected():
    d = {b"key%03d" % i: b"value%d" % i for i in range(100)}
    d[b""] = b""
    return d


def test_snapshot_is_a_mapping(filled):
    with filled.snapshot(0, "kv") as snap:
        assert isinstance(snap, collections.abc.Mapping)
        assert snap.version == 1
        assert snap[b"key007"] == b"value7"
        assert snap[bytearray(b"")] == b""
        with pytest.raises(KeyError):
            snap[b"absent"]
        assert snap.get(b"absent") is None
        assert snap.get(b"absent", b"d") == b"d"
        assert snap.get(b"key001") == b"value1"
        assert b"key099" in snap and b"" in snap
        assert b"key100" not in snap
        assert len(snap) == 101
        assert sorted(snap) == sorted(expected())
        assert sorted(snap.keys()) == sorted(expected())
        assert sorted(snap.values()) == sorted(expected().values())
        assert sorted(snap.items()) == sorted(expected().items())
        assert dict(snap) == expected()
        assert snap == expected()
        assert (b"key005", b"value5") in snap.items()
        assert len(snap.items()) == 101


def test_snapshot_tables_share_the_pin(filled):
    with filled.snapshot(0) as snap:  # table 0 by default
        assert snap.table_id == 0
        adds = snap.table("adds")
        assert adds.version == snap.version == 1
        assert len(adds) == 100
        assert sum(decode_i64(v) for v in adds.values()) == sum(range(100))
        assert decode_i64(adds[b"key042"]) == 42
        assert len(snap.table("log")) == 0
        with pytest.raises(rcustate.NoTableError):
            snap.table("nope")
    with pytest.raises(rcustate.ClosedError):
        adds[b"key042"]
    with pytest.raises(rcustate.ClosedError):
        len(adds)


def test_snapshot_pins_one_version(filled):
    snap = filled.snapshot(0, "kv")
    try:
        filled.clear(0, "kv")
        filled.put(0, "kv", b"key007", b"changed")
        filled.put(0, "kv", b"pending", b"x")
        assert filled.commit(0) == 2
        filled.put(0, "kv", b"uncommitted", b"x")  # never in a snapshot
        with filled.snapshot(0, "kv") as now:
            assert dict(now) == {b"key007": b"changed", b"pending": b"x"}
            assert now.version == 2
        assert snap.version == 1
        assert dict(snap) == expected()
        filled.drop_partition(0)  # still readable after a drop
        assert snap[b"key007"] == b"value7"
        filled.close()  # and after the store is closed
        assert len(snap) == 101
        value = snap[b"key001"]
    finally:
        snap.close()
    assert value == b"value1"  # bytes read before stay valid
    assert snap.closed


def test_closed_snapshot_refuses_every_use(filled):
    snap = filled.snapshot(0, "kv")
    snap.close()
    snap.close()  # idempotent
    for use in (lambda: snap[b"key001"], lambda: b"key001" in snap, lambda: len(snap),
                lambda: list(snap), lambda: list(snap.items()), lambda: list(snap.values()),
                lambda: snap.get(b"k")):
        with pytest.raises(rcustate.ClosedError):
            use()
    with pytest.raises(rcustate.ClosedError):
        with snap:
            pass
    assert "closed" in repr(snap)


def test_snapshot_errors(store):
    with pytest.raises(rcustate.NoPartitionError) as e:
        store.snapshot(5)
    assert str(e.value).startswith("rcs_snapshot_open:")
    with pytest.raises(rcustate.NoTableError):
        store.snapshot(0, "nope")  # the pin taken is released (no leak: conftest)
    with store.snapshot(0) as snap:
        assert len(snap) == 0 and list(snap) == [] and dict(snap.items()) == {}
        with pytest.raises(TypeError):
            snap["str key"]
        with pytest.raises(TypeError):
            snap[5]


def test_snapshot_walk_failure_is_raised(filled, monkeypatch):
    # An exception inside the walk's callback stops the walk and is raised
    # on the caller, not swallowed by ctypes.
    import rcustate._store as st

    def broken(ptr, n):
        raise MemoryError("simulated")
    monkeypatch.setattr(st, "string_at", broken)
    with filled.snapshot(0, "kv") as snap:
        with pytest.raises(MemoryError, match="simulated"):
            list(snap)


def test_snapshot_shared_by_threads(filled):
    import threading
    snap = filled.snapshot(0, "kv")
    results, errors = [], []

    def scan():
        try:
            for _ in range(20):
                results.append(dict(snap.items()) == expected() and len(snap) == 101)
        except BaseException as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 80 and all(results)
    # A close while another thread is inside a call on it is refused.
    snap._pin._acquire()
    try:
        with pytest.raises(rcustate.StateError, match="another thread"):
            snap.close()
        assert not snap.closed
    finally:
        snap._pin._leave()
    snap.close()
