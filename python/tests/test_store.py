# SPDX-License-Identifier: LGPL-2.1-or-later
"""Store, partitions, writes, merges, batches, read sections and views, and
the release of every C handle."""
import gc
import os
import threading
import warnings

import pytest

import rcustate
from rcustate import Merge, Table, decode_f64, decode_i64, encode_f64, encode_i64
from rcustate import _ffi

from conftest import TABLES


def in_thread(fn):
    """Runs fn on a new thread and returns its result (or raises its error)."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 -- re-raised on the caller's thread
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


# ---- opening and tables

def test_table_forms_and_ids():
    tables = [Table("a"), "b", ("c", Merge.ADD_I64), ("d", Merge.APPEND, 100)]
    with rcustate.Store(tables) as s:
        assert [t.name for t in s.tables] == ["a", "b", "c", "d"]
        assert [t.merge for t in s.tables] == [Merge.NONE, Merge.NONE, Merge.ADD_I64,
                                               Merge.APPEND]
        assert s.tables[3].expected_entries == 100
        assert [s.table_id(n) for n in "abcd"] == [0, 1, 2, 3]
        assert s.table_id(2) == 2
        with pytest.raises(rcustate.NoTableError) as e:
            s.table_id("nope")
        assert str(e.value).startswith("rcs_table_id:")
        with pytest.raises(rcustate.NoTableError):
            s.table_id(4)


def test_open_options_reach_the_library():
    with pytest.raises(rcustate.InvalidArgumentError) as e:
        rcustate.Store(["x", "x"])  # duplicate name: refused by rcs_store_open
    assert str(e.value).startswith("rcs_store_open:")
    with pytest.raises(rcustate.InvalidArgumentError):
        rcustate.Store([])
    with pytest.raises(rcustate.InvalidArgumentError) as e:
        rcustate.Store([("x", 99)])  # not a merge operator
    assert "99 is not a merge operator" in str(e.value)
    # Group commit: commits are sealed, flush publishes them.
    with rcustate.Store(["kv"], max_publish_delay_ns=10**9, memory_budget_bytes=1 << 20,
                        stall_threshold_ns=10**9) as s:
        s.create_partition(0)
        s.put(0, "kv", b"k", b"v")
        assert s.commit(0) == 1
        assert s.flush(0) == 1
        assert s.version(0) == 1
        assert in_thread(lambda: s.get(0, "kv", b"k")) == b"v"


def test_context_manager_and_close():
    s = rcustate.Store(["kv"])
    assert rcustate.live_handles() == {"store": 1}
    with s:
        assert not s.closed
    assert s.closed
    assert rcustate.live_handles() == {}
    s.close()  # idempotent
    with pytest.raises(rcustate.ClosedError):
        with s:
            pass
    assert "closed" in repr(s)


# ---- partitions

def test_partitions(store):
    assert store.partitions() == [0]
    for p in (7, 3, 2**32 - 1):
        store.create_partition(p)
    assert store.partitions() == [0, 3, 7, 2**32 - 1]
    with pytest.raises(rcustate.PartitionExistsError) as e:
        store.create_partition(3)
    assert str(e.value).startswith("rcs_partition_create:")
    store.drop_partition(3)
    assert store.partitions() == [0, 7, 2**32 - 1]
    with pytest.raises(rcustate.NoPartitionError):
        store.drop_partition(3)
    with pytest.raises(rcustate.NoPartitionError):
        store.put(3, "kv", b"k", b"v")
    assert store.version(7) == 0


# ---- writes and reads

def test_put_get_delete_commit(store):
    assert store.get(0, "kv", b"k") is None
    assert store.get(0, "kv", b"k", b"dflt") == b"dflt"
    store.put(0, "kv", b"k", b"v1")
    store.put(0, "kv", b"", b"")  # the empty key and the empty value are valid
    store.put(0, 0, b"\x00bin\x00", bytearray(b"\x00\xff"))
    # Read-your-writes: this thread sees its pending changes, others do not.
    assert store.get(0, "kv", b"k") == b"v1"
    assert in_thread(lambda: store.get(0, "kv", b"k")) is None
    assert store.commit(0) == 1
    assert in_thread(lambda: store.get(0, "kv", b"k")) == b"v1"
    assert store.get(0, "kv", b"") == b""
    assert store.get(0, "kv", memoryview(b"\x00bin\x00")) == b"\x00\xff"
    store.delete(0, "kv", b"k")
    store.delete(0, "kv", b"absent")
    assert store.get(0, "kv", b"k") is None
    assert store.commit(0) == 2
    assert store.version(0) == 2
    assert store.count(0, "kv") == 2


def test_values_of_every_size(store):
    # Past the per-thread buffer (256 bytes) and past the size it keeps (64 KiB).
    for n in (0, 1, 255, 256, 257, 4096, 70000, 1 << 20):
        value = bytes(i % 251 for i in range(n))
        store.put(0, "kv", b"k%d" % n, value)
        assert store.get(0, "kv", b"k%d" % n) == value
    store.commit(0)
    for n in (1 << 20, 70000, 0, 257):
        expect = bytes(i % 251 for i in range(n))
        assert in_thread(lambda: store.get(0, "kv", b"k%d" % n)) == expect


def test_merge_operators(store):
    store.merge(0, "adds", b"k", encode_i64(5))
    store.merge(0, "adds", b"k", encode_i64(-7))
    for x in (4, -3, 9):
        store.merge(0, "mins", b"k", encode_i64(x))
        store.merge(0, "maxs", b"k", encode_i64(x))
    store.merge(0, "sums", b"k", encode_f64(0.5))
    store.merge(0, "sums", b"k", encode_f64(2))
    store.merge(0, "log", b"k", b"ab")
    store.merge(0, "log", b"k", b"cd")
    store.commit(0)
    store.merge(0, "adds", b"k", encode_i64(2**63 - 1))  # wraps
    store.merge(0, "log", b"k", b"e")
    store.commit(0)
    assert decode_i64(store.get(0, "adds", b"k")) == -2 + 2**63 - 1
    assert decode_i64(store.get(0, "mins", b"k")) == -3
    assert decode_i64(store.get(0, "maxs", b"k")) == 9
    assert decode_f64(store.get(0, "sums", b"k")) == 2.5
    assert store.get(0, "log", b"k") == b"abcde"
    with pytest.raises(rcustate.InvalidArgumentError) as e:
        store.merge(0, "kv", b"k", b"x")  # no operator
    assert str(e.value).startswith("rcs_merge:")
    with pytest.raises(rcustate.InvalidArgumentError):
        store.merge(0, "adds", b"k", b"1234567")  # not 8 bytes
    with pytest.raises(rcustate.InvalidArgumentError):
        store.put(0, "sums", b"k", b"123")


def test_clear_and_abort(store):
    for i in range(5):
        store.put(0, "kv", b"%d" % i, b"x")
    store.commit(0)
    store.clear(0, "kv")
    store.put(0, "kv", b"new", b"y")  # applies on top of the clear
    assert store.commit(0) == 2
    assert store.count(0, "kv") == 1
    assert store.get(0, "kv", b"new") == b"y"
    store.put(0, "kv", b"pending", b"z")
    store.abort(0)
    assert store.get(0, "kv", b"pending") is None
    assert store.commit(0) == 3  # an empty commit still makes a version


def test_stats_and_grace_stalls(store):
    store.put(0, "kv", b"k", b"v")
    store.commit(0)
    with store.snapshot(0):
        st = store.stats(0)
        assert st.pins_alive == 1
    assert st.version == 1 and st.committed_version == 1 and st.commits == 1
    assert st.num_tables == len(TABLES)
    assert st.approx_bytes > 0
    assert store.grace_stalls() == (0, 0)
    with pytest.raises(rcustate.NoPartitionError):
        store.stats(9)


# ---- batches

def test_batch_context_commits_atomically(store):
    with store.batch(0) as b:
        b.put("kv", b"a", b"1")
        b.merge("adds", b"n", encode_i64(3))
        b.delete("kv", b"gone")
        b.clear("log")
        assert len(b) == 4
        # Invisible to everybody, its maker included, until committed.
        assert store.get(0, "kv", b"a") is None
        assert store.version(0) == 0
    assert b.version == 1 and store.version(0) == 1
    assert store.get(0, "kv", b"a") == b"1"
    assert decode_i64(store.get(0, "adds", b"n")) == 3
    assert b.closed and "batch" not in rcustate.live_handles()


def test_batch_discarded_on_exception(store):
    with pytest.raises(RuntimeError):
        with store.batch(0) as b:
            b.put("kv", b"a", b"1")
            raise RuntimeError("stop")
    assert store.version(0) == 0 and store.get(0, "kv", b"a") is None
    assert b.closed and b.version is None


def test_batch_empty_block_makes_no_version(store):
    with store.batch(0):
        pass
    assert store.version(0) == 0


def test_batch_explicit_use(store):
    store.create_partition(1)
    b = store.batch()
    try:
        b.put("kv", b"a", b"1")
        with pytest.raises(rcustate.InvalidArgumentError):
            b.commit()  # no partition given anywhere
        assert b.commit(1) == 1
        assert len(b) == 0  # emptied by the commit
        b.put("kv", b"b", b"2")
        b.reset()
        assert len(b) == 0
        with pytest.raises(rcustate.NoPartitionError):
            b.put("kv", b"c", b"3") or b.commit(5)
        assert len(b) == 1  # a failed commit leaves the batch intact
        with pytest.raises(rcustate.InvalidArgumentError):
            b.merge("kv", b"k", b"x")
    finally:
        b.close()
    assert store.get(1, "kv", b"a") == b"1"
    with pytest.raises(rcustate.ClosedError):
        b.put("kv", b"a", b"1")
    with pytest.raises(rcustate.ClosedError):
        len(b)


def test_batch_outlives_store():
    s = rcustate.Store(["kv"])
    b = s.batch(0)
    b.put("kv", b"a", b"1")
    s.close()
    with pytest.raises(rcustate.StateError):
        b.put("kv", b"b", b"2")
    with pytest.raises(rcustate.StateError):
        b.commit()
    b.close()


def test_batch_is_used_by_one_thread_at_a_time(store):
    b = store.batch(0)
    b._lock.acquire()  # as if another thread were inside a call on it
    try:
        with pytest.raises(rcustate.StateError):
            b.put("kv", b"a", b"1")
        with pytest.raises(rcustate.StateError):
            b.close()
    finally:
        b._lock.release()
    b.close()


# ---- read sections and views

def test_read_section_reads_and_views(store):
    store.put(0, "kv", b"a", b"1")
    store.merge(0, "adds", b"n", encode_i64(2))
    store.commit(0)
    store.put(0, "kv", b"a", b"pending")
    with store.read() as r:
        assert rcustate.in_read_section()
        assert r.get(0, "kv", b"a") == b"pending"  # this thread's own write
        assert r.get(0, "kv", b"zz") is None
        assert r.get(0, "kv", b"zz", b"d") == b"d"
        v = r.view(0)
        assert v.version == 1 and v.partition == 0
        assert v.get("kv", b"a") == b"1"  # a view shows the published version only
        assert decode_i64(v.get(1, b"n")) == 2
        assert v.get("kv", b"zz") is None
        assert v.count("kv") == 1
        with store.read() as inner:  # sections nest
            assert inner.view(0).version == 1
        assert rcustate.in_read_section()
        assert v.get("kv", b"a") == b"1"  # the outer section still holds
    assert not rcustate.in_read_section()
    store.abort(0)


def test_read_section_refuses_grace_period_calls(store):
    with store.read():
        for call in (lambda: store.commit(0), lambda: store.flush(0),
                     lambda: store.drop_partition(0), store.close,
                     rcustate.detach_thread):
            with pytest.raises(rcustate.StateError) as e:
                call()
            assert str(e.value).startswith("rcs_")  # the library's own message
        with pytest.raises(rcustate.StateError):
            with store.batch(0) as b:
                b.put("kv", b"a", b"1")
    # Nothing changed: the store is open and usable after the section.
    assert not store.closed
    store.put(0, "kv", b"a", b"1")
    assert store.commit(0) == 1


def test_views_and_sections_do_not_escape(store):
    with store.read() as r:
        v = r.view(0)
    with pytest.raises(rcustate.StateError):
        v.get("kv", b"a")
    with pytest.raises(rcustate.StateError):
        v.count("kv")
    with pytest.raises(rcustate.StateError):
        r.get(0, "kv", b"a")
    with pytest.raises(rcustate.StateError):
        with r:  # a section object is entered once
            pass
    with pytest.raises(rcustate.StateError):
        r.__exit__(None, None, None)  # nor left twice
    with store.read() as r:
        v = r.view(0)
        with pytest.raises(rcustate.StateError):
            in_thread(lambda: r.get(0, "kv", b"a"))
        with pytest.raises(rcustate.StateError):
            in_thread(lambda: v.get("kv", b"a"))
        with pytest.raises(rcustate.StateError):
            in_thread(lambda: r.__exit__(None, None, None))  # nor by another thread
        assert r.get(0, "kv", b"a") is None  # still open here
        with pytest.raises(rcustate.NoPartitionError):
            r.view(5)
    # Every section was closed: an unbalanced unlock is refused.
    assert rcustate._lib.rcs_read_unlock() == -8


# ---- durability

def test_checkpoint_and_restore(store, tmp_path):
    store.put(0, "kv", b"a", b"1")
    store.merge(0, "adds", b"n", encode_i64(4))
    store.commit(0)
    info = store.checkpoint(0, tmp_path)
    assert info.version == 1 and info.base_version == 0 and info.entries == 2
    store.put(0, "kv", b"b", b"2")
    store.commit(0)
    inc = store.checkpoint(0, str(tmp_path), incremental=True)
    assert inc.version == 2 and inc.base_version == 1
    with rcustate.Store(TABLES) as other:
        got = other.restore(0, tmp_path)
        assert got.version == 2
        assert other.version(0) == 2
        assert other.get(0, "kv", b"b") == b"2"
        assert decode_i64(other.get(0, "adds", b"n")) == 4
    with pytest.raises(rcustate.IOFailure) as e:
        store.restore(5, tmp_path / "empty")
    assert str(e.value).startswith("rcs_restore:")


def test_restore_of_damaged_checkpoint_is_corrupt(store, tmp_path):
    store.put(0, "kv", b"a", b"1")
    store.commit(0)
    store.checkpoint(0, tmp_path)
    (f,) = [p for p in tmp_path.iterdir() if p.name.startswith("full-")]
    data = f.read_bytes()
    f.write_bytes(data[:-9] + bytes([data[-9] ^ 0xFF]) + data[-8:])
    with pytest.raises(rcustate.CorruptError) as e:
        store.restore(1, tmp_path)
    assert e.value.code == -10
    assert 1 not in store.partitions()


# ---- threads and the library

def test_thread_attach_detach(store):
    def work():
        rcustate.attach_thread()
        rcustate.attach_thread()  # idempotent
        store.put(0, "kv", b"t", b"1")
        v = store.commit(0)
        rcustate.detach_thread()
        return v
    assert in_thread(work) == 1


def header_version():
    """The release rcustate.h declares (RCS_VERSION_MAJOR.MINOR.PATCH)."""
    import re
    header = os.path.join(os.path.dirname(__file__), "..", "..", "include", "rcustate", "rcustate.h")
    with open(header) as f:
        text = f.read()
    return tuple(int(re.search(r"#define RCS_VERSION_%s (\d+)" % part, text).group(1))
                 for part in ("MAJOR", "MINOR", "PATCH"))


VERSION = "%d.%d.%d" % header_version()


def test_library_version_and_path():
    major, minor, patch = header_version()
    assert rcustate.library_version() == VERSION
    assert rcustate.__version__ == VERSION
    assert rcustate.library_path() == os.environ.get("RCUSTATE_LIBRARY", "librcustate.so.0")
    assert rcustate._lib.rcs_version_number() == major * 10000 + minor * 100 + patch


def test_library_candidates(tmp_path):
    def no_pkg():
        return None

    def pkg():
        return "/opt/rcs/lib"

    assert _ffi.library_candidates({"RCUSTATE_LIBRARY": "/x/lib.so"}, pkg) == [
        ("RCUSTATE_LIBRARY", "/x/lib.so")]
    assert _ffi.library_candidates({}, pkg) == [
        ("pkg-config", "/opt/rcs/lib/librcustate.so.0"), ("loader", "librcustate.so.0")]
    assert _ffi.library_candidates({}, no_pkg) == [("loader", "librcustate.so.0")]
    with pytest.raises(ImportError) as e:
        _ffi.load({"RCUSTATE_LIBRARY": str(tmp_path / "missing.so")}, no_pkg)
    assert "RCUSTATE_LIBRARY" in str(e.value) and "missing.so" in str(e.value)


def test_pkg_config_libdir(tmp_path, monkeypatch):
    # A fake pkg-config first in PATH: what it prints is the libdir used.
    fake = tmp_path / "pkg-config"
    fake.write_text("#!/bin/sh\necho /fake/libdir\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert _ffi._pkg_config_libdir() == "/fake/libdir"
    fake.write_text("#!/bin/sh\nexit 1\n")
    assert _ffi._pkg_config_libdir() is None
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert _ffi._pkg_config_libdir() is None


# ---- handles: released by close, by with, or by the finalizer

def test_finalizers_release_unclosed_handles():
    s = rcustate.Store(["kv"])
    s.create_partition(0)
    b = s.batch(0)
    snap = s.snapshot(0)
    assert rcustate.live_handles() == {"store": 1, "batch": 1, "snapshot": 1}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del s, b, snap
        gc.collect()
    assert rcustate.live_handles() == {}
    assert sum(issubclass(w.category, ResourceWarning) for w in caught) == 3


def test_store_collected_inside_a_read_section_is_closed_after_it(store):
    other = rcustate.Store(["kv"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with store.read():
            del other
            gc.collect()
            # rcs_store_close is refused inside a section: deferred.
            assert rcustate.live_handles() == {"store": 2}
    assert rcustate.live_handles() == {"store": 1}


def test_close_refused_while_another_thread_uses_the_store(store):
    # The other thread is as if inside a call (a read section counts as one:
    # see the next test); no read section here, so that a close which
    # ignored it would not wait for that thread but fail this test.
    inside, release = threading.Event(), threading.Event()

    def user():
        store._acquire()
        try:
            inside.set()
            release.wait()
        finally:
            store._leave()

    t = threading.Thread(target=user)
    t.start()
    inside.wait()
    try:
        with pytest.raises(rcustate.StateError) as e:
            store.close()
        assert "another thread" in str(e.value)
        assert not store.closed
        store.put(0, "kv", b"k", b"v")  # still usable
        assert store.commit(0) == 1
    finally:
        release.set()
        t.join()
    store.close()
    assert store.closed


def test_a_read_section_is_a_use_of_its_store(store):
    assert not store._calls
    with store.read():
        assert len(store._calls) == 1
    assert not store._calls


def test_import_finds_the_library_through_pkg_config_then_the_loader(tmp_path):
    # End to end, in a fresh interpreter without RCUSTATE_LIBRARY: a
    # pkg-config that knows rcustate gives the file; one that does not leaves
    # it to the loader's search (LD_LIBRARY_PATH here).
    import subprocess
    import sys
    built = os.environ["RCUSTATE_LIBRARY"]
    libdir = os.path.dirname(built)
    fake = tmp_path / "pkg-config"
    env = {k: v for k, v in os.environ.items() if k != "RCUSTATE_LIBRARY"}
    env["PATH"] = f"{tmp_path}:{env.get('PATH', '/usr/bin:/bin')}"
    probe = ["-c", "import rcustate; print(rcustate.library_path(), rcustate.library_version())"]

    fake.write_text(f"#!/bin/sh\necho {libdir}\n")
    fake.chmod(0o755)
    out = subprocess.run([sys.executable] + probe, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [os.path.join(libdir, "librcustate.so.0"), VERSION]

    fake.write_text("#!/bin/sh\nexit 1\n")
    env["LD_LIBRARY_PATH"] = libdir
    out = subprocess.run([sys.executable] + probe, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["librcustate.so.0", VERSION]

    env["RCUSTATE_LIBRARY"] = str(tmp_path / "nothing.so")
    out = subprocess.run([sys.executable] + probe, env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "ImportError" in out.stderr
    assert "nothing.so" in out.stderr and "RCUSTATE_LIBRARY" in out.stderr


def test_store_stats_and_metrics_text(store):
    store.create_partition(7)
    for p in (0, 7):
        store.merge(p, "adds", b"n", rcustate.encode_i64(2))
        store.commit(p)
    st = store.store_stats()
    assert st.partitions == 2 and st.commits == 2 and st.entries == 2
    assert st.commit_latency_count == 2 and st.commit_latency_sum_ns > 0
    assert store.stats(0).catch_ups >= 0
    text = store.metrics_text()
    assert text.endswith("\n")
    assert "# TYPE rcustate_commits_total counter\nrcustate_commits_total 2\n" in text
    assert 'rcustate_partition_entries{partition="7",table="adds"} 1\n' in text
    assert 'rcustate_commit_latency_seconds_bucket{le="+Inf"} 2\n' in text
    store.drop_partition(7)
    assert store.store_stats().commits == 2  # counters keep a dropped partition's counts
    assert 'partition="7"' not in store.metrics_text()
