# SPDX-License-Identifier: LGPL-2.1-or-later
"""Errors: RCS_E* codes mapped to exception classes carrying the library's
message; wrong types and ranges; use after close; the numeric helpers."""
import math

import pytest

import rcustate
from rcustate import (decode_f64, decode_i64, encode_f64, encode_i64)
from rcustate._errors import error_for

CLASSES = {
    -1: (rcustate.NotFoundError, KeyError),
    -2: (rcustate.InvalidArgumentError, ValueError),
    -3: (rcustate.OutOfMemoryError, MemoryError),
    -4: (rcustate.NoPartitionError, LookupError),
    -5: (rcustate.PartitionExistsError, rcustate.Error),
    -6: (rcustate.NoTableError, LookupError),
    -7: (rcustate.BufferTooSmallError, rcustate.Error),
    -8: (rcustate.StateError, rcustate.Error),
    -9: (rcustate.IOFailure, rcustate.Error),
    -10: (rcustate.CorruptError, rcustate.Error),
    -100: (rcustate.InternalError, rcustate.Error),
}


@pytest.mark.parametrize("code", sorted(CLASSES))
def test_every_code_has_its_class(code):
    cls, builtin = CLASSES[code]
    e = error_for(code, "rcs_x: what went wrong")
    assert type(e) is cls
    assert isinstance(e, rcustate.Error) and isinstance(e, builtin)
    assert e.code == code
    assert str(e) == e.message == "rcs_x: what went wrong"
    # The library's own description of the code agrees with the class.
    assert rcustate._lib.rcs_strerror(code) != b"unknown error"


def test_unknown_code_is_the_base_error():
    e = error_for(-55, "rcs_x: from a newer library")
    assert type(e) is rcustate.Error and e.code == -55


def test_library_messages_reach_the_exception(store):
    cases = [
        (lambda: store.put(0, "kv", b"k" * (rcustate.MAX_KEY_SIZE + 1), b""),
         rcustate.InvalidArgumentError, "rcs_put:"),
        (lambda: store.put(9, "kv", b"k", b""), rcustate.NoPartitionError, "rcs_put:"),
        (lambda: store.create_partition(0), rcustate.PartitionExistsError,
         "rcs_partition_create:"),
        (lambda: store.table_id("none"), rcustate.NoTableError, "rcs_table_id:"),
        (lambda: store.version(9), rcustate.NoPartitionError, "rcs_version:"),
        (lambda: store.count(9, 0), rcustate.NoPartitionError,
         "rcs_partition_table_entries:"),
    ]
    for call, cls, prefix in cases:
        with pytest.raises(cls) as e:
            call()
        assert e.value.code == cls.code
        assert str(e.value).startswith(prefix), str(e.value)
        assert str(e.value) != prefix  # says more than the function's name
    store.put(0, "kv", b"k" * rcustate.MAX_KEY_SIZE, b"longest key")  # accepted
    assert store.get(0, "kv", b"k" * rcustate.MAX_KEY_SIZE) == b"longest key"


def test_message_is_this_threads_last_error(store):
    # Two failures in a row: each exception has its own message.
    with pytest.raises(rcustate.NoPartitionError) as first:
        store.put(9, "kv", b"k", b"")
    with pytest.raises(rcustate.PartitionExistsError) as second:
        store.create_partition(0)
    assert "rcs_put" in str(first.value) and "rcs_partition_create" in str(second.value)


def test_wrong_types(store):
    with pytest.raises(TypeError, match="encode"):
        store.put(0, "kv", "str key", b"v")
    with pytest.raises(TypeError):
        store.put(0, "kv", b"k", "str value")
    with pytest.raises(TypeError):
        store.put(0, "kv", b"k", 5)
    with pytest.raises(TypeError):
        store.merge(0, "adds", b"k", 1)  # operands are bytes: encode_i64(1)
    with pytest.raises(TypeError):
        store.get(0, "kv", None)
    with pytest.raises(TypeError):
        store.get("0", "kv", b"k")
    with pytest.raises(TypeError):
        store.get(True, "kv", b"k")
    with pytest.raises(TypeError):
        store.get(0, 1.0, b"k")
    with pytest.raises(TypeError):
        rcustate.Store([42])
    with pytest.raises(TypeError):
        rcustate.Store([(b"bytes name",)])
    with pytest.raises(TypeError, match="list of tables"):
        rcustate.Store("kv")  # not the tables "k" and "v"
    with pytest.raises(TypeError):
        rcustate.Store(["kv"], max_publish_delay_ns=1.5)
    for option in ("max_publish_delay_ns", "memory_budget_bytes", "stall_threshold_ns"):
        with pytest.raises(rcustate.InvalidArgumentError, match=option):
            rcustate.Store(["kv"], **{option: -1})  # ctypes would wrap it
    with pytest.raises(rcustate.InvalidArgumentError, match="NUL"):
        rcustate.Store(["a\0b"])  # C would see "a"
    with pytest.raises(rcustate.NoTableError):
        store.table_id("kv\0x")  # not "kv"
    with pytest.raises(rcustate.InvalidArgumentError, match="NUL"):
        store.checkpoint(0, "dir\0name")
    with pytest.raises(TypeError):
        store.checkpoint(0, 5)
    with pytest.raises(rcustate.InvalidArgumentError, match="expected_entries"):
        rcustate.Store([("kv", rcustate.Merge.NONE, -1)])


def test_integer_types(store):
    class Index:  # an integer type that is not int (numpy's are such)
        def __index__(self):
            return 0
    store.put(Index(), Index(), b"k", b"v")
    assert store.get(0, "kv", b"k") == b"v"
    with rcustate.Store(["kv"], max_publish_delay_ns=Index()):
        pass


def test_out_of_range_ids(store):
    # ctypes would wrap these silently; the binding refuses them.
    for bad in (-1, 2**32, 2**64):
        with pytest.raises(rcustate.InvalidArgumentError, match="out of range"):
            store.create_partition(bad)
        with pytest.raises(rcustate.InvalidArgumentError, match="out of range"):
            store.get(0, bad, b"k")
    assert store.partitions() == [0]


STORE_CALLS = [
    lambda s: s.create_partition(1), lambda s: s.drop_partition(0), lambda s: s.partitions(),
    lambda s: s.version(0), lambda s: s.count(0, "kv"), lambda s: s.stats(0),
    lambda s: s.grace_stalls(), lambda s: s.get(0, "kv", b"k"),
    lambda s: s.put(0, "kv", b"k", b"v"), lambda s: s.merge(0, "log", b"k", b"v"),
    lambda s: s.delete(0, "kv", b"k"), lambda s: s.clear(0, "kv"), lambda s: s.commit(0),
    lambda s: s.flush(0), lambda s: s.abort(0), lambda s: s.batch(0),
    lambda s: s.snapshot(0), lambda s: s.table_id("nope"),
    lambda s: s.checkpoint(0, "/nonexistent"), lambda s: s.restore(1, "/nonexistent"),
]


@pytest.mark.parametrize("call", STORE_CALLS)
def test_use_after_close(call):
    s = rcustate.Store(["kv", ("log", rcustate.Merge.APPEND)])
    s.create_partition(0)
    s.close()
    with pytest.raises(rcustate.ClosedError) as e:
        call(s)
    assert isinstance(e.value, rcustate.StateError) and e.value.code == -8
    assert "closed" in str(e.value)


def test_read_section_of_closed_store():
    s = rcustate.Store(["kv"])
    s.close()
    with pytest.raises(rcustate.ClosedError):
        with s.read():
            pass
    assert not rcustate.in_read_section()


# ---- numeric helpers

def test_i64_helpers():
    for n in (0, 1, -1, 2**63 - 1, -2**63, 123456789):
        assert decode_i64(encode_i64(n)) == n
    assert encode_i64(1) == b"\x01" + b"\x00" * 7  # little-endian, as the library wants
    assert encode_i64(-2) == b"\xfe" + b"\xff" * 7
    assert decode_i64(bytearray(encode_i64(7))) == 7
    with pytest.raises(ValueError):
        encode_i64(2**63)
    with pytest.raises(ValueError):
        encode_i64(-2**63 - 1)
    with pytest.raises(TypeError):
        encode_i64(1.5)
    with pytest.raises(TypeError):
        encode_i64(True)
    with pytest.raises(ValueError, match="8 bytes"):
        decode_i64(b"1234567")
    with pytest.raises(TypeError):
        decode_i64("12345678")


def test_f64_helpers():
    for x in (0.0, -0.0, 1.5, -2.25e300, math.inf):
        assert decode_f64(encode_f64(x)) == x
    assert math.isnan(decode_f64(encode_f64(math.nan)))
    assert encode_f64(3) == encode_f64(3.0)
    assert encode_f64(1.0) == b"\x00" * 6 + b"\xf0\x3f"
    with pytest.raises(TypeError):
        encode_f64("1")
    with pytest.raises(ValueError):
        decode_f64(b"\x00" * 9)


def test_helpers_agree_with_the_merge_operators(store):
    for x in (5, -9, 2**62):
        store.merge(0, "adds", b"a", encode_i64(x))
        store.merge(0, "mins", b"a", encode_i64(x))
        store.merge(0, "maxs", b"a", encode_i64(x))
        store.merge(0, "sums", b"a", encode_f64(x / 4))
    store.commit(0)
    assert decode_i64(store.get(0, "adds", b"a")) == 5 - 9 + 2**62
    assert decode_i64(store.get(0, "mins", b"a")) == -9
    assert decode_i64(store.get(0, "maxs", b"a")) == 2**62
    assert decode_f64(store.get(0, "sums", b"a")) == (5 - 9 + 2**62) / 4
