# SPDX-License-Identifier: LGPL-2.1-or-later
"""Threads reading while one thread commits.

Invariant, checked on every read: the writer only moves value between
accounts, in table "kv" (puts of new balances) and in table "adds" (merges of
-x and +x), and writes key "seq" = the version its commit creates, all in one
commit (alternately through its thread's pending changes and through a
Batch). So every read of one version -- a view inside a read section, or a
pinned snapshot -- must find both tables summing to TOTAL, and "seq" equal
to that version; versions seen by one reader never go back, nor do the
single-key reads of "seq" (store.get, ReadSection.get) made after them. A
reader that saw half a commit, or one table of one version and another of
the next, fails. Run under both publication policies (group commit: the
library's publisher thread publishes too).

This also needs ctypes to release the GIL: a commit waits for the readers'
sections to end, which they do only if they can run Python meanwhile.
"""
import random
import threading
import warnings

import pytest

import rcustate
from rcustate import decode_i64, encode_i64

from conftest import TABLES, stress_scale

ACCOUNTS = [b"acct%d" % i for i in range(8)]
START = 1000
TOTAL = START * len(ACCOUNTS)
READERS = 3


def check_version(get, version, last, where):
    kv = sum(decode_i64(get("kv", a)) for a in ACCOUNTS)
    adds = sum(decode_i64(get("adds", a)) for a in ACCOUNTS)
    seq = decode_i64(get("kv", b"seq"))
    assert kv == TOTAL, f"{where}: kv sums to {kv} at version {version}"
    assert adds == TOTAL, f"{where}: adds sums to {adds} at version {version}"
    assert seq == version, f"{where}: seq {seq} in version {version}"
    assert version >= last, f"{where}: version went back from {last} to {version}"


def test_calls_release_the_gil():
    # A library loaded with PyDLL would keep the GIL during calls: the test
    # below would then deadlock (a commit waiting for a reader's section,
    # the reader waiting for the GIL); this says why at once.
    import ctypes
    assert not rcustate._lib._func_flags_ & ctypes._FUNCFLAG_PYTHONAPI


@pytest.mark.parametrize("publish_delay_ns", [0, 1_000_000], ids=["default", "group_commit"])
def test_readers_see_whole_commits_while_one_thread_commits(publish_delay_ns):
    with rcustate.Store(TABLES, max_publish_delay_ns=publish_delay_ns) as store:
        store.create_partition(0)
        readers_check_every_read(store)


def readers_check_every_read(store):
    commits = 1000 * stress_scale()
    for a in ACCOUNTS:
        store.put(0, "kv", a, encode_i64(START))
        store.merge(0, "adds", a, encode_i64(START))
    store.put(0, "kv", b"seq", encode_i64(1))
    assert store.commit(0) == 1

    writer_done = threading.Event()
    errors = []
    reads = [0] * READERS
    last_seen = [0] * READERS

    def writer():
        try:
            rng = random.Random(12)
            balance = {a: START for a in ACCOUNTS}
            for version in range(2, commits + 2):
                a, b = rng.sample(ACCOUNTS, 2)
                x = rng.randrange(1, 50)
                balance[a] -= x
                balance[b] += x
                if version % 2:
                    store.put(0, "kv", a, encode_i64(balance[a]))
                    store.put(0, "kv", b, encode_i64(balance[b]))
                    store.merge(0, "adds", a, encode_i64(-x))
                    store.merge(0, "adds", b, encode_i64(x))
                    store.put(0, "kv", b"seq", encode_i64(version))
                    got = store.commit(0)
                else:
                    with store.batch(0) as batch:
                        batch.put("kv", a, encode_i64(balance[a]))
                        batch.put("kv", b, encode_i64(balance[b]))
                        batch.merge("adds", a, encode_i64(-x))
                        batch.merge("adds", b, encode_i64(x))
                        batch.put("kv", b"seq", encode_i64(version))
                    got = batch.version
                assert got == version, (got, version)
            # Group commit may leave the last commits sealed: publish them,
            # so that the readers' last read must find the last version.
            assert store.flush(0) == commits + 1
        except BaseException as e:  # noqa: BLE001 -- reported by the test
            errors.append(e)
        finally:
            writer_done.set()

    def reader(i):
        last = 0
        try:
            while True:
                finished = writer_done.is_set()
                if reads[i] % 2 == 0:
                    with store.read() as r:
                        view = r.view(0)
                        check_version(view.get, view.version, last, "view")
                        last = view.version
                        # A lookup of the latest version, after the view.
                        seq = decode_i64(r.get(0, "kv", b"seq"))
                        assert seq >= last, f"section get: seq {seq} after view {last}"
                    # A copying read outside any section: never goes back.
                    seq = decode_i64(store.get(0, "kv", b"seq"))
                    assert seq >= last, f"get: seq {seq} after version {last}"
                else:
                    with store.snapshot(0) as snap:
                        tables = {"kv": snap, "adds": snap.table("adds")}
                        check_version(lambda t, k: tables[t][k], snap.version, last,
                                      "snapshot")
                        # The mapping walk sees the same version as lookups.
                        assert sum(decode_i64(v) for k, v in snap.items()
                                   if k != b"seq") == TOTAL
                        last = snap.version
                reads[i] += 1
                if finished:  # one read at least after the last commit
                    break
        except BaseException as e:  # noqa: BLE001 -- reported by the test
            errors.append(e)
        finally:
            last_seen[i] = last

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(n > 0 for n in reads)
    # After the writer finished, every reader saw its last commit.
    assert last_seen == [commits + 1] * READERS
    assert store.version(0) == commits + 1



def test_a_section_left_by_another_thread_ends_at_its_owners_next_call(store):
    """A generator holding a read section, finalized on another thread: the
    section cannot end there (it is the owner's); it ends at the owner's next
    call, and meanwhile neither the owner nor other threads are stuck for good."""
    store.put(0, "kv", b"k", b"v")
    store.commit(0)

    def rows():
        with store.read() as section:
            yield section.get(0, "kv", b"k")
            yield None

    g = rows()
    assert next(g) == b"v"
    errors = []

    def finalize():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                g.close()
            except rcustate.StateError as e:
                errors.append(e)
            errors.extend(w.category for w in caught)

    t = threading.Thread(target=finalize)
    t.start()
    t.join()
    assert len(errors) == 2 and isinstance(errors[0], rcustate.StateError)
    assert errors[1] is ResourceWarning
    assert rcustate._lib.rcs_in_read_section() == 1  # still open: only this thread can end it
    # The owner's next call ends it: its commit is allowed again...
    store.put(0, "kv", b"k", b"w")
    assert store.commit(0) == 2
    assert rcustate._lib.rcs_in_read_section() == 0
    # ...and another thread's commit does not wait for it.
    done = []
    other = threading.Thread(target=lambda: (store.put(0, "kv", b"o", b"x"),
                                              done.append(store.commit(0))))
    other.start()
    other.join(timeout=60)
    assert done == [3]


def test_stats_is_refused_inside_a_changelog_callback(store):
    seen = []

    def callback(partition, version, record):
        try:
            store.stats(partition)
        except rcustate.StateError:
            seen.append("refused")
        seen.append(store.version(partition))

    store.set_changelog(callback)
    store.put(0, "kv", b"k", b"v")
    assert store.commit(0) == 1
    assert seen == ["refused", 0]
    store.set_changelog(None)
    assert store.stats(0).version == 1
