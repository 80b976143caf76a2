# SPDX-License-Identifier: LGPL-2.1-or-later
"""The changelog: a callback that receives every commit's record before the
commit is visible, and replay of the records into another store."""
import pytest

import rcustate
from rcustate import decode_f64, encode_f64, encode_i64

from conftest import TABLES


def tables_of(store, partition):
    out = {}
    with store.snapshot(partition) as snap:
        for name, _ in TABLES:
            out[name] = dict(snap.table(name))
    return out


def test_records_replay_into_another_store(store):
    records = []
    store.set_changelog(lambda p, v, rec: records.append((p, v, rec)))
    store.put(0, "kv", b"a", b"1")
    store.merge(0, "sums", b"x", encode_f64(0.1))
    store.merge(0, "sums", b"x", encode_f64(0.2))  # grouped in one delta: rounding
    assert store.commit(0) == 1
    with store.batch(0) as b:
        b.merge("adds", b"n", encode_i64(5))
        b.merge("log", b"l", b"ab")
        b.delete("kv", b"a")
    store.clear(0, "kv")
    store.put(0, "kv", b"b", b"2")
    store.commit(0)
    assert [(p, v) for p, v, _ in records] == [(0, 1), (0, 2), (0, 3)]
    assert all(isinstance(rec, bytes) and rec for _, _, rec in records)

    with rcustate.Store(TABLES) as replica:
        replica.create_partition(0)
        for p, v, rec in records:
            assert replica.apply_changelog(p, rec) == v
        assert replica.apply_changelog(0, records[0][2]) == 3  # a duplicate is skipped
        assert replica.version(0) == 3
        assert tables_of(replica, 0) == tables_of(store, 0)  # bit for bit
        assert decode_f64(replica.get(0, "sums", b"x")) == decode_f64(store.get(0, "sums", b"x"))

    with rcustate.Store(TABLES) as gap:
        gap.create_partition(0)
        with pytest.raises(rcustate.StateError) as e:
            gap.apply_changelog(0, records[1][2])  # version 2 before 1
        assert str(e.value).startswith("rcs_changelog_apply:")
        with pytest.raises(rcustate.CorruptError):
            gap.apply_changelog(0, b"not a record")
        gap.create_partition(1)
        with pytest.raises(rcustate.InvalidArgumentError):
            gap.apply_changelog(1, records[0][2])  # another partition's record
        assert gap.version(0) == 0
    store.set_changelog(None)
    store.commit(0)
    assert len(records) == 3  # removed: no more records


def test_a_raising_callback_refuses_the_commit(store):
    def refuse(p, v, rec):
        raise OSError("log disk full")

    store.set_changelog(refuse)
    store.put(0, "kv", b"a", b"1")
    with pytest.raises(rcustate.IOFailure) as e:
        store.commit(0)
    assert isinstance(e.value.__cause__, OSError)
    assert str(e.value).startswith("rcs_commit:")
    assert store.version(0) == 0  # nothing published, no version consumed
    with pytest.raises(rcustate.IOFailure):
        with store.batch(0) as b:
            b.put("kv", b"b", b"2")
    store.set_changelog(lambda p, v, rec: None)
    assert store.commit(0) == 1  # the changes were kept: the retry commits them
    assert store.get(0, "kv", b"a") == b"1"
    assert store.get(0, "kv", b"b") is None  # the batch was discarded by its block


def test_callback_may_read_but_not_commit(store):
    seen = []

    def callback(p, v, rec):
        seen.append(store.version(p))  # reading is fine
        for call in (lambda: store.commit(p), lambda: store.flush(p),
                     lambda: store.drop_partition(p), store.close,
                     lambda: store.apply_changelog(p, rec),
                     lambda: store.checkpoint(p, "/nonexistent"),
                     lambda: store.restore(9, "/nonexistent")):
            with pytest.raises(rcustate.StateError, match="changelog callback"):
                call()

    store.set_changelog(callback)
    store.put(0, "kv", b"a", b"1")
    assert store.commit(0) == 1
    assert seen == [0]  # before the commit became visible
    assert not store.closed


def test_set_changelog_checks(store):
    with pytest.raises(TypeError):
        store.set_changelog("not callable")
    store.close()
    with pytest.raises(rcustate.ClosedError):
        store.set_changelog(None)
    with pytest.raises(rcustate.ClosedError):
        store.apply_changelog(0, b"")
