# SPDX-License-Identifier: LGPL-2.1-or-later
"""Store, Batch, ReadSection, View and Snapshot over the C ABI.

Handle lifetime. Every C handle belongs to exactly one Python object, which
releases it in close() (also called by its context manager) or, as a last
resort, in a weakref finalizer when the object is collected unclosed (with a
ResourceWarning, as Python does for files). A handle in use by a C call is
never released under it: each object counts the calls in progress on its
handle, and close() refuses (StateError) while another thread is inside one.
The library allows a Batch and a Snapshot to outlive their Store; they keep
working (a Snapshot) or fail with StateError (a Batch).

Values handed out are always Python bytes, copied from the library's memory
while that memory is guaranteed alive (inside the read section, before the
snapshot is closed): no pointer into the library ever escapes.

The GIL: ctypes releases it around every foreign call, so a thread blocked in
a commit (waiting for readers' sections to end) lets the readers run.
"""
import atexit
import collections
import collections.abc
import ctypes
import enum
import operator
import threading
import warnings
import weakref
from ctypes import byref, c_size_t, c_uint32, c_uint64, c_void_p, string_at

from . import _ffi
from ._errors import ClosedError, InvalidArgumentError, StateError, error_for

lib = _ffi.load()

_U32_MAX = 0xFFFFFFFF


class Merge(enum.IntEnum):
    """A table's merge operator (enum rcs_merge_op)."""
    NONE = 0      #: merge refused; values are any bytes
    ADD_I64 = 1   #: 8-byte little-endian int64, wrapping add
    MIN_I64 = 2   #: int64 minimum
    MAX_I64 = 3   #: int64 maximum
    ADD_F64 = 4   #: 8-byte little-endian IEEE-754 double, add
    APPEND = 5    #: bytes, operand appended


class Table(collections.namedtuple("Table", "name merge expected_entries")):
    """A table of a store: its name, merge operator and a size hint (slots to
    reserve per partition; 0 = none)."""
    __slots__ = ()

    def __new__(cls, name, merge=Merge.NONE, expected_entries=0):
        try:
            merge = Merge(merge)
        except ValueError:
            raise InvalidArgumentError(f"rcustate: table {name!r}: {merge!r} is not a merge "
                                       f"operator (rcustate.Merge)", _ffi.EINVAL) from None
        return super().__new__(cls, name, merge, expected_entries)


PartitionStats = collections.namedtuple("PartitionStats", [
    name for name, _ in _ffi.PartitionStats._fields_ if name != "struct_size"])
PartitionStats.__doc__ = "Statistics of one partition (struct rcs_partition_stats)."

StoreStats = collections.namedtuple("StoreStats", [
    name for name, _ in _ffi.StoreStats._fields_ if name != "struct_size"])
StoreStats.__doc__ = ("Statistics of the whole store (struct rcs_store_stats): counters since "
                      "it opened, gauges over the partitions now.")

CheckpointInfo = collections.namedtuple("CheckpointInfo", [
    name for name, _ in _ffi.CheckpointInfo._fields_ if name != "struct_size"])
CheckpointInfo.__doc__ = "What a checkpoint wrote or a restore read (rcs_checkpoint_info)."


# ---- errors and argument checks

# Per thread: how deep in changelog callbacks it is, and the exception the
# innermost one raised (the cause of the commit's IOFailure).
_changelog_state = threading.local()


def _raise(code):
    """Raises the exception for a failed call, with the calling thread's
    rcs_last_error() (read at once: it is per thread and the next failure
    on this thread replaces it), chained to what a changelog callback raised
    during the call, if anything."""
    error = error_for(code, lib.rcs_last_error().decode("utf-8", "replace"))
    cause = getattr(_changelog_state, "error", None)
    if cause is not None:
        _changelog_state.error = None
        raise error from cause
    raise error


def _not_in_changelog_callback(what):
    # The callback runs with the partition's commit locks held: these calls
    # would deadlock (the library aborts) or be refused; refuse them plainly.
    if getattr(_changelog_state, "depth", 0):
        raise StateError(f"rcustate: {what} is not allowed inside a changelog callback",
                         _ffi.ESTATE)


def _changelog_trampoline(fn):
    def call(_ctx, partition, version, record, length):
        _changelog_state.depth = getattr(_changelog_state, "depth", 0) + 1
        try:
            fn(partition, version, string_at(record, length) if length else b"")
            return 0
        except BaseException as e:  # noqa: BLE001 -- refuses the commit, raised by it
            _changelog_state.error = e
            return 1
        finally:
            _changelog_state.depth -= 1
    return _ffi.CHANGELOG_FN(call)


def _check(code):
    if code != 0:
        _raise(code)


def _int(value, what):
    # Any integer type (numpy's too, through __index__), but not bool.
    if isinstance(value, bool):
        raise TypeError(f"rcustate: {what} must be an int, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"rcustate: {what} must be an int, not {type(value).__name__}") from None


def _u32(value, what):
    if type(value) is int and 0 <= value <= _U32_MAX:
        return value
    value = _int(value, what)
    if not 0 <= value <= _U32_MAX:
        raise InvalidArgumentError(
            f"rcustate: {what} {value} is out of range (0 .. {_U32_MAX})", _ffi.EINVAL)
    return value


def _unsigned(value, what):
    # ctypes would wrap a negative number into a huge one.
    value = _int(value, what)
    if not 0 <= value < 1 << 64:
        raise InvalidArgumentError(f"rcustate: {what} {value} is out of range", _ffi.EINVAL)
    return value


def _bytes(value, what):
    """Keys, values and operands are byte strings: bytes, bytearray or
    memoryview (copied). str is refused rather than silently encoded, so a key
    written as str and read back as bytes cannot surprise anybody."""
    if type(value) is bytes:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    hint = " (encode it, e.g. s.encode())" if isinstance(value, str) else ""
    raise TypeError(f"rcustate: {what} must be bytes-like, not {type(value).__name__}{hint}")


# ---- handle bookkeeping

# Re-entrant: a finalizer (which takes them) may run on any allocation,
# including one made while this thread holds them.
_live = collections.Counter()     # open C handles per kind (for leak tests)
_live_lock = threading.RLock()
_deferred_stores = []             # store handles collected inside a read section
_deferred_lock = threading.RLock()


def _count(kind, delta):
    with _live_lock:
        _live[kind] += delta


def live_handles():
    """The number of C handles still open, per kind ("store", "batch",
    "snapshot"). For tests and leak hunting."""
    with _live_lock:
        return {k: v for k, v in _live.items() if v}


def _close_store_handle(handle):
    # rcs_store_close refuses inside a read section (it would wait for the
    # caller's own section). A finalizer may run anywhere, so there the close
    # is deferred to the end of the thread's outermost section (or exit).
    if lib.rcs_in_read_section():
        with _deferred_lock:
            _deferred_stores.append(handle)
        return
    if lib.rcs_store_close(handle) == 0:
        _count("store", -1)


def _close_deferred_stores():
    if not _deferred_stores or lib.rcs_in_read_section():
        return
    with _deferred_lock:
        handles = _deferred_stores[:]
        del _deferred_stores[:]
    for h in handles:
        _close_store_handle(h)


atexit.register(_close_deferred_stores)


def _finalize(kind, release, handle):
    warnings.warn(f"rcustate: unclosed {kind} released by the garbage collector",
                  ResourceWarning, stacklevel=2)
    release(handle)


def _release_batch(handle):
    lib.rcs_batch_destroy(handle)
    _count("batch", -1)


def _release_snapshot(handle):
    lib.rcs_snapshot_close(handle)
    _count("snapshot", -1)


# Read sections another thread tried to leave (a generator holding a
# `with store.read():` finalized on another thread): a section belongs to the
# thread that entered it, so it stays open until that thread's next call
# into the binding ends it.
_orphaned_lock = threading.Lock()
_orphaned = {}  # thread ident -> [ReadSection]


def _end_orphaned_sections():
    """Ends the calling thread's sections that another thread tried to leave."""
    with _orphaned_lock:
        sections = _orphaned.pop(threading.get_ident(), None)
    for section in sections or ():
        lib.rcs_read_unlock()
        section._store._leave()


class _Owned:
    """A C handle and the calls in progress on it, so that close() never
    frees it under another thread's call.

    Each call appends to a list before it reads the handle and pops after;
    close() clears the handle before it looks at the list. The GIL makes
    these steps sequentially consistent, so either close() sees the call (and
    refuses, putting the handle back) or the call sees the handle cleared (and
    raises ClosedError). Cheaper than taking a lock twice per call."""

    _kind = "handle"

    def _own(self, handle, release):
        self._close_lock = threading.Lock()  # one close() at a time
        self._calls = []
        self._handle = handle
        self._finalizer = weakref.finalize(self, _finalize, self._kind, release, handle)

    def _acquire(self):
        if _orphaned:
            _end_orphaned_sections()
        self._calls.append(None)
        handle = self._handle
        if handle is None:
            self._calls.pop()
            raise ClosedError(f"rcustate: the {self._kind} is closed", _ffi.ESTATE)
        return handle

    def _leave(self):
        self._calls.pop()

    @property
    def closed(self):
        return self._handle is None

    def _take_for_close(self):
        """Under self._close_lock: clears and returns the handle (None if
        already closed); StateError while another thread is inside a call."""
        handle = self._handle
        if handle is None:
            return None
        self._handle = None
        if self._calls:
            self._handle = handle
            raise StateError(f"rcustate: cannot close the {self._kind}: another thread is "
                             f"using it", _ffi.ESTATE)
        return handle

    def __enter__(self):
        self._acquire()
        self._leave()
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---- the store

def _table_specs(tables):
    specs = []
    for t in tables:
        if isinstance(t, Table):
            spec = t
        elif isinstance(t, str):
            spec = Table(t)
        elif isinstance(t, tuple):
            spec = Table(*t)
        else:
            raise TypeError("rcustate: a table is a Table, a name or a (name, merge[, "
                            f"expected_entries]) tuple, not {type(t).__name__}")
        if not isinstance(spec.name, str):
            raise TypeError(f"rcustate: a table name is a str, not {type(spec.name).__name__}")
        _unsigned(spec.expected_entries, "expected_entries")
        if "\0" in spec.name:
            raise InvalidArgumentError(f"rcustate: table name {spec.name!r} contains NUL",
                                       _ffi.EINVAL)
        specs.append(spec)
    return specs


class Store(_Owned):
    """A store: tables fixed at open, partitions created and dropped at run
    time. Use it as a context manager or close() it.

    ``tables``: Table objects, names (no merge operator) or
    ``(name, Merge.X[, expected_entries])`` tuples. Table ids are their
    indexes; every method taking a table accepts its name or its id.
    ``max_publish_delay_ns`` > 0 selects group commit (see docs/c-api.md);
    ``memory_budget_bytes`` bounds dropped partitions awaiting reclamation.

    Any method may be called from any thread. Writes (put, merge, delete,
    clear) go to the calling thread's own pending changes for the partition:
    that thread sees them at once, every other thread after its commit().
    """

    _kind = "store"

    def __init__(self, tables, *, memory_budget_bytes=0, max_publish_delay_ns=0,
                 stall_threshold_ns=0):
        _close_deferred_stores()
        if isinstance(tables, (str, bytes)):
            raise TypeError("rcustate: tables is a list of tables (a single name: [name])")
        specs = _table_specs(tables)
        if not specs:
            raise InvalidArgumentError("rcustate: a store needs at least one table", _ffi.EINVAL)
        c_specs = (_ffi.TableSpec * len(specs))()
        for i, spec in enumerate(specs):
            # The structure keeps the bytes alive; rcs_store_open copies them.
            c_specs[i].name = spec.name.encode("utf-8")
            c_specs[i].merge_op = int(spec.merge)
            c_specs[i].expected_entries = spec.expected_entries
        buf = _ffi.OptionsBuffer()
        lib.rcs_options_init(byref(buf))
        opts = buf.options
        opts.struct_size = ctypes.sizeof(_ffi.Options)
        opts.tables = c_specs
        opts.num_tables = len(specs)
        opts.memory_budget_bytes = _unsigned(memory_budget_bytes, "memory_budget_bytes")
        opts.max_publish_delay_ns = _unsigned(max_publish_delay_ns, "max_publish_delay_ns")
        opts.stall_threshold_ns = _unsigned(stall_threshold_ns, "stall_threshold_ns")
        handle = c_void_p()
        _check(lib.rcs_store_open(byref(buf), byref(handle)))
        _count("store", 1)
        self._own(handle.value, _close_store_handle)
        self.tables = tuple(specs)
        self._table_ids = {spec.name: i for i, spec in enumerate(specs)}
        self._scratch = threading.local()
        self._changelog_fns = []

    def close(self):
        """Drops every partition, waits until their memory is freed and
        releases the store. Idempotent. Raises StateError inside a read
        section (the store stays open: close it after the section) and while
        another thread is inside a call on this store. Batches and snapshots
        may outlive the store."""
        _not_in_changelog_callback("close")
        with self._close_lock:
            handle = self._handle
            if handle is None:
                return
            if lib.rcs_in_read_section():
                # The library refuses (RCS_ESTATE, with its message) and
                # changes nothing. Asked before counting calls in progress:
                # the caller's own section is one of them.
                _check(lib.rcs_store_close(handle))
            handle = self._take_for_close()
            # From now on new calls raise ClosedError; the close waits for
            # every read section, on threads which may still call this
            # store (and get ClosedError) meanwhile.
            rc = lib.rcs_store_close(handle)
            if rc != 0:
                self._handle = handle  # the library changed nothing
                _raise(rc)
            _count("store", -1)
            self._finalizer.detach()

    # -- tables

    def table_id(self, table):
        """The id of a table given by name or id (checked)."""
        if isinstance(table, str):
            tid = self._table_ids.get(table)
            if tid is None and "\0" in table:
                # C would see only the part before the NUL, maybe another table.
                raise error_for(_ffi.ENOTABLE, f"rcustate: no table named {table!r}")
            if tid is None:
                # Let the library say it, with its message.
                h = self._acquire()
                try:
                    out = c_uint32()
                    _check(lib.rcs_table_id(h, table.encode("utf-8"), byref(out)))
                    return out.value
                finally:
                    self._leave()
            return tid
        tid = _u32(table, "table id")
        if tid >= len(self.tables):
            raise error_for(_ffi.ENOTABLE, f"rcustate: no table with id {tid} "
                            f"(the store has {len(self.tables)})")
        return tid

    # -- partitions

    def create_partition(self, partition):
        """Creates an empty partition (version 0). PartitionExistsError if it exists."""
        p = _u32(partition, "partition")
        h = self._acquire()
        try:
            _check(lib.rcs_partition_create(h, p))
        finally:
            self._leave()

    def drop_partition(self, partition):
        """Removes a partition; snapshots of it stay readable. Not inside a
        read section (StateError)."""
        _not_in_changelog_callback("drop_partition")
        p = _u32(partition, "partition")
        h = self._acquire()
        try:
            _check(lib.rcs_partition_drop(h, p))
        finally:
            self._leave()

    def partitions(self):
        """The partition ids, ascending."""
        h = self._acquire()
        try:
            n = c_size_t()
            while True:
                ids = (c_uint32 * max(n.value, 1))()
                rc = lib.rcs_partition_list(h, ids, len(ids), byref(n))
                if rc == _ffi.ERANGE:
                    continue  # partitions were created meanwhile; n is the new count
                _check(rc)
                return list(ids[:n.value])
        finally:
            self._leave()

    def version(self, partition):
        """The published version of a partition (number of commits)."""
        p = _u32(partition, "partition")
        h = self._acquire()
        try:
            out = c_uint64()
            _check(lib.rcs_version(h, p, byref(out)))
            return out.value
        finally:
            self._leave()

    def count(self, partition, table):
        """Entries of a table in the partition's published version."""
        p = _u32(partition, "partition")
        t = self.table_id(table)
        h = self._acquire()
        try:
            out = c_size_t()
            _check(lib.rcs_partition_table_entries(h, p, t, byref(out)))
            return out.value
        finally:
            self._leave()

    def stats(self, partition):
        """A PartitionStats for the partition (it waits for a commit in
        progress: not inside a changelog callback)."""
        _not_in_changelog_callback("stats")
        p = _u32(partition, "partition")
        h = self._acquire()
        try:
            out = _ffi.PartitionStats()
            out.struct_size = ctypes.sizeof(out)
            _check(lib.rcs_partition_stats(h, p, byref(out)))
            return PartitionStats(*(getattr(out, f) for f in PartitionStats._fields))
        finally:
            self._leave()

    def store_stats(self):
        """A StoreStats for the whole store (never waits for a commit)."""
        h = self._acquire()
        try:
            out = _ffi.StoreStats()
            out.struct_size = ctypes.sizeof(out)
            _check(lib.rcs_store_stats(h, byref(out)))
            return StoreStats(*(getattr(out, f) for f in StoreStats._fields))
        finally:
            self._leave()

    def metrics_text(self):
        """The store's statistics in the Prometheus text format (a str), for a
        /metrics endpoint."""
        h = self._acquire()
        try:
            needed = c_size_t(0)
            rc = lib.rcs_metrics_text(h, None, 0, byref(needed))
            while rc == _ffi.ERANGE:  # the text grows with new partitions: ask again
                buf = ctypes.create_string_buffer(needed.value)
                rc = lib.rcs_metrics_text(h, buf, needed.value, byref(needed))
            _check(rc)
            return buf.value.decode("utf-8")
        finally:
            self._leave()

    def grace_stalls(self):
        """(stalled grace periods, age in ns of the oldest wait in progress)."""
        h = self._acquire()
        try:
            stalled, oldest = c_uint64(), c_uint64()
            _check(lib.rcs_grace_stalls(h, byref(stalled), byref(oldest)))
            return stalled.value, oldest.value
        finally:
            self._leave()

    # -- reads

    def get(self, partition, table, key, default=None):
        """The value of key as bytes (the committed state plus the calling
        thread's own uncommitted writes), or `default` if absent."""
        p = _u32(partition, "partition")
        t = self.table_id(table)
        k = _bytes(key, "key")
        h = self._acquire()
        try:
            # A per-thread buffer and length: one call for most values.
            scratch = self._scratch
            try:
                buf, n, n_ref = scratch.get
            except AttributeError:
                buf, n = ctypes.create_string_buffer(256), c_size_t()
                n_ref = byref(n)
                scratch.get = buf, n, n_ref
            while True:
                rc = lib.rcs_get(h, p, t, k, len(k), buf, len(buf), n_ref)
                if rc == 0:
                    return buf[:n.value]
                if rc == _ffi.ENOTFOUND:
                    return default
                if rc != _ffi.ERANGE:
                    _raise(rc)
                # Too small: grow (a thread keeps its buffer up to 64 KiB)
                # and retry; the value may have changed size meanwhile.
                buf = ctypes.create_string_buffer(max(n.value, 2 * len(buf)))
                if len(buf) <= 64 * 1024:
                    scratch.get = buf, n, n_ref
        finally:
            self._leave()

    def read(self):
        """A read section for the calling thread (context manager): inside
        it, ReadSection.get and views read without copying in the library and
        every read of one view sees one version. See ReadSection."""
        return ReadSection(self)

    def snapshot(self, partition, table=0):
        """Pins the partition's published version; the Snapshot is a
        read-only mapping over `table` (snap.table(other) for the others)."""
        return Snapshot(self, partition, table)

    # -- writes (the calling thread's pending changes)

    def put(self, partition, table, key, value):
        """Sets key to value (8 bytes in a numeric table) at the next commit."""
        p = _u32(partition, "partition")
        t = self.table_id(table)
        k = _bytes(key, "key")
        v = _bytes(value, "value")
        h = self._acquire()
        try:
            _check(lib.rcs_put(h, p, t, k, len(k), v, len(v)))
        finally:
            self._leave()

    def merge(self, partition, table, key, operand):
        """Merges operand into key with the table's operator at the next
        commit (encode_i64 / encode_f64 make numeric operands)."""
        p = _u32(partition, "partition")
        t = self.table_id(table)
        k = _bytes(key, "key")
        v = _bytes(operand, "operand")
        h = self._acquire()
        try:
            _check(lib.rcs_merge(h, p, t, k, len(k), v, len(v)))
        finally:
            self._leave()

    def delete(self, partition, table, key):
        """Removes key at the next commit (an absent key is fine)."""
        p = _u32(partition, "partition")
        t = self.table_id(table)
        k = _bytes(key, "key")
        h = self._acquire()
        try:
            _check(lib.rcs_delete(h, p, t, k, len(k)))
        finally:
            self._leave()

    def clear(self, partition, table):
        """Empties the table at the next commit; later writes apply on top."""
        p = _u32(partition, "partition")
        t = self.table_id(table)
        h = self._acquire()
        try:
            _check(lib.rcs_clear(h, p, t))
        finally:
            self._leave()

    def commit(self, partition):
        """Commits the calling thread's changes to the partition atomically
        and returns the new version. Not inside a read section (StateError).
        On error the changes are kept (retry, or abort)."""
        _not_in_changelog_callback("commit")
        return self._versioned(lib.rcs_commit, partition)

    def flush(self, partition):
        """Publishes every committed batch now (group commit) and returns the
        published version. Not inside a read section."""
        _not_in_changelog_callback("flush")
        return self._versioned(lib.rcs_flush, partition)

    def abort(self, partition):
        """Discards the calling thread's uncommitted changes to the partition."""
        p = _u32(partition, "partition")
        h = self._acquire()
        try:
            _check(lib.rcs_abort(h, p))
        finally:
            self._leave()

    def _versioned(self, fn, partition):
        p = _u32(partition, "partition")
        h = self._acquire()
        try:
            out = c_uint64()
            _check(fn(h, p, byref(out)))
            return out.value
        finally:
            self._leave()

    def batch(self, partition=None):
        """An explicit batch (see Batch): ``with store.batch(p) as b:``
        commits b to partition p when the block ends without an exception."""
        return Batch(self, partition)

    # -- durability

    def checkpoint(self, partition, directory, incremental=False):
        """Writes a checkpoint of the partition's published version into
        `directory` (full, or incremental: the changes since the newest
        checkpoint there) and returns a CheckpointInfo."""
        _not_in_changelog_callback("checkpoint")
        p = _u32(partition, "partition")
        d = _path(directory)
        h = self._acquire()
        try:
            info = _ffi.CheckpointInfo()
            info.struct_size = ctypes.sizeof(info)
            flags = 1 if incremental else 0
            _check(lib.rcs_checkpoint(h, p, d, flags, byref(info)))
            return CheckpointInfo(*(getattr(info, f) for f in CheckpointInfo._fields))
        finally:
            self._leave()

    def restore(self, partition, directory):
        """Creates the partition from the newest complete checkpoint chain in
        `directory` and returns a CheckpointInfo."""
        _not_in_changelog_callback("restore")
        p = _u32(partition, "partition")
        d = _path(directory)
        h = self._acquire()
        try:
            info = _ffi.CheckpointInfo()
            info.struct_size = ctypes.sizeof(info)
            _check(lib.rcs_restore(h, p, d, byref(info)))
            return CheckpointInfo(*(getattr(info, f) for f in CheckpointInfo._fields))
        finally:
            self._leave()

    # -- changelog

    def set_changelog(self, fn):
        """Calls fn(partition, version, record) for every commit that starts
        after this returns, in version order per partition, before the commit
        becomes visible to other threads; `record` is bytes, to keep (a log
        file, a topic) and replay with apply_changelog. If fn raises, the
        commit fails with IOFailure (chained to fn's exception), publishes
        nothing and keeps the changes. fn runs on the committing thread with
        the partition's commit locks held: it may read, but commit, flush,
        checkpoint, restore, apply_changelog, drop_partition and close raise
        StateError there. None removes the callback."""
        if fn is not None and not callable(fn):
            raise TypeError(f"rcustate: the changelog callback must be callable, not "
                            f"{type(fn).__name__}")
        c_fn = _ffi.CHANGELOG_FN() if fn is None else _changelog_trampoline(fn)  # () is NULL
        h = self._acquire()
        try:
            _check(lib.rcs_changelog_set(h, c_fn, None))
            # Commits that started before may still call an older callback:
            # every one stays alive until the store is closed.
            self._changelog_fns.append(c_fn)
        finally:
            self._leave()

    def apply_changelog(self, partition, record):
        """Applies a changelog record as one atomic commit of the partition
        and returns the partition's committed version: a record at or below
        it is skipped (replay is idempotent), the next one applied, a later
        one is StateError (a gap)."""
        _not_in_changelog_callback("apply_changelog")
        p = _u32(partition, "partition")
        r = _bytes(record, "record")
        h = self._acquire()
        try:
            out = c_uint64()
            _check(lib.rcs_changelog_apply(h, p, r, len(r), byref(out)))
            return out.value
        finally:
            self._leave()

    def __repr__(self):
        state = "closed" if self.closed else "open"
        return f"<rcustate.Store {state} tables={[t.name for t in self.tables]}>"


def _path(directory):
    import os
    d = os.fsencode(directory)
    if b"\0" in d:
        raise InvalidArgumentError("rcustate: a directory name cannot contain NUL", _ffi.EINVAL)
    return d


# ---- batches

class Batch(_Owned):
    """Changes collected apart from every thread's pending changes, invisible
    to everybody (the maker included) until commit(), then published
    atomically. One thread at a time uses it: a call while another thread
    is inside one raises StateError.

    As a context manager bound to a partition (``store.batch(p)``), the batch
    is committed to it when the block ends normally if it holds any change,
    and discarded when the block raises; the handle is released either way.
    `version` is the version of its last commit (None before one)."""

    _kind = "batch"

    def __init__(self, store, partition=None):
        self._store = store
        self.partition = None if partition is None else _u32(partition, "partition")
        self.version = None
        h = store._acquire()
        try:
            out = c_void_p()
            _check(lib.rcs_batch_create(h, byref(out)))
        finally:
            store._leave()
        _count("batch", 1)
        self._own(out.value, _release_batch)
        self._lock = threading.Lock()  # held by the one thread using the batch

    def _call(self, fn, *args):
        # The batch's lock, held during the call, keeps a second thread (the
        # library allows one at a time per batch) and close() out; the store's
        # count of calls keeps the store open during the call (the library
        # refuses a batch of a closed store too, but a call must not race
        # the close).
        if not self._lock.acquire(blocking=False):
            raise StateError("rcustate: the batch is in use by another thread (a batch is "
                             "used by one thread at a time)", _ffi.ESTATE)
        try:
            if self._handle is None:
                raise ClosedError("rcustate: the batch is closed", _ffi.ESTATE)
            try:
                self._store._acquire()
            except ClosedError:
                raise ClosedError("rcustate: the batch's store is closed", _ffi.ESTATE) from None
            try:
                return fn(self._handle, *args)
            finally:
                self._store._leave()
        finally:
            self._lock.release()

    def put(self, table, key, value):
        t = self._store.table_id(table)
        k = _bytes(key, "key")
        v = _bytes(value, "value")
        _check(self._call(lib.rcs_batch_put, t, k, len(k), v, len(v)))

    def merge(self, table, key, operand):
        t = self._store.table_id(table)
        k = _bytes(key, "key")
        v = _bytes(operand, "operand")
        _check(self._call(lib.rcs_batch_merge, t, k, len(k), v, len(v)))

    def delete(self, table, key):
        t = self._store.table_id(table)
        k = _bytes(key, "key")
        _check(self._call(lib.rcs_batch_delete, t, k, len(k)))

    def clear(self, table):
        t = self._store.table_id(table)
        _check(self._call(lib.rcs_batch_clear, t))

    def __len__(self):
        """Distinct keys changed plus tables cleared."""
        return self._call(lib.rcs_batch_size)

    def reset(self):
        """Drops every change."""
        self._call(lib.rcs_batch_reset)

    def commit(self, partition=None):
        """Commits the batch to `partition` (default: the one it was made
        for), empties it and returns the new version. On error the batch is
        unchanged. Not inside a read section (StateError)."""
        if partition is None:
            partition = self.partition
        _not_in_changelog_callback("Batch.commit")
        if partition is None:
            raise InvalidArgumentError("rcustate: Batch.commit needs a partition", _ffi.EINVAL)
        p = _u32(partition, "partition")
        out = c_uint64()
        _check(self._call(lib.rcs_batch_commit, p, byref(out)))
        self.version = out.value
        return out.value

    def close(self):
        """Releases the batch and its uncommitted changes. Idempotent."""
        if not self._lock.acquire(blocking=False):
            raise StateError("rcustate: cannot close the batch: another thread is using it",
                             _ffi.ESTATE)
        try:
            handle = self._take_for_close()
            if handle is None:
                return
            _release_batch(handle)
            self._finalizer.detach()
        finally:
            self._lock.release()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and self.partition is not None and not self.closed \
                    and len(self) > 0:
                self.commit()
        finally:
            self.close()
        return False


# ---- read sections and views

class ReadSection:
    """An RCU read section of the calling thread (``with store.read() as r``).

    Inside it, reads cost no lock and no copy in the library (the binding
    copies each value into bytes), and a View shows one version of a
    partition across all its keys and tables. The section belongs to the
    thread that entered it: using it, or a view taken in it, from another
    thread or after the block raises StateError. Sections nest. Keep them
    short: a commit waits for the sections open when it starts. Inside a
    section, commit, flush, drop_partition and close raise StateError."""

    __slots__ = ("_store", "_thread", "_open", "_handle")

    def __init__(self, store):
        self._store = store
        self._thread = None
        self._open = False

    def __enter__(self):
        if self._thread is not None:
            raise StateError("rcustate: a ReadSection is entered once", _ffi.ESTATE)
        self._handle = self._store._acquire()
        lib.rcs_read_lock()
        self._thread = threading.get_ident()
        self._open = True
        return self

    def __exit__(self, *exc):
        if self._open and threading.get_ident() != self._thread and exc[0] is GeneratorExit:
            # A generator holding the section, closed or finalized on another
            # thread: its frame ends here, but only the owner can end the
            # section. It does at its next call into the binding; until then
            # its commits are refused and other threads' wait, so say so.
            self._open = False
            with _orphaned_lock:
                _orphaned.setdefault(self._thread, []).append(self)
            warnings.warn("rcustate: a read section was left by another thread than the one "
                          "that entered it (a generator finalized elsewhere?); it ends at "
                          "that thread's next call into rcustate", ResourceWarning,
                          stacklevel=2)
            raise StateError("rcustate: a read section is left by the thread that entered "
                             "it", _ffi.ESTATE)
        if not self._open or threading.get_ident() != self._thread:
            raise StateError("rcustate: a read section is left once, by the thread that "
                             "entered it", _ffi.ESTATE)
        self._open = False
        try:
            _check(lib.rcs_read_unlock())
        finally:
            self._store._leave()
        _close_deferred_stores()
        return False

    def _check_usable(self):
        if not self._open:
            raise StateError("rcustate: the read section has ended", _ffi.ESTATE)
        if threading.get_ident() != self._thread:
            raise StateError("rcustate: a read section belongs to the thread that "
                             "entered it", _ffi.ESTATE)

    def get(self, partition, table, key, default=None):
        """The latest value of key (with this thread's uncommitted writes) as
        bytes, or `default`. Two gets may see two versions; use a view for a
        consistent read of several keys."""
        self._check_usable()
        p = _u32(partition, "partition")
        t = self._store.table_id(table)
        k = _bytes(key, "key")
        ptr, n = c_void_p(), c_size_t()
        rc = lib.rcs_get_ref(self._handle, p, t, k, len(k), byref(ptr), byref(n))
        if rc == _ffi.ENOTFOUND:
            return default
        _check(rc)
        return string_at(ptr.value, n.value) if n.value else b""

    def view(self, partition):
        """The published version of the partition, as a View valid until this
        section ends."""
        self._check_usable()
        p = _u32(partition, "partition")
        out = c_void_p()
        _check(lib.rcs_view_current(self._handle, p, byref(out)))
        return View(self, out.value, p)


class View:
    """One published version of a partition inside a read section (without
    the thread's uncommitted writes). Valid only inside that section, on its
    thread."""

    __slots__ = ("_section", "_view", "partition", "version")

    def __init__(self, section, view, partition):
        self._section = section
        self._view = view
        self.partition = partition
        self.version = lib.rcs_view_version(view)

    def get(self, table, key, default=None):
        """The value of key in this version as bytes, or `default`."""
        self._section._check_usable()
        t = self._section._store.table_id(table)
        k = _bytes(key, "key")
        ptr, n = c_void_p(), c_size_t()
        rc = lib.rcs_view_get(self._view, t, k, len(k), byref(ptr), byref(n))
        if rc == _ffi.ENOTFOUND:
            return default
        _check(rc)
        return string_at(ptr.value, n.value) if n.value else b""

    def count(self, table):
        """Entries of the table in this version."""
        self._section._check_usable()
        t = self._section._store.table_id(table)
        out = c_size_t()
        _check(lib.rcs_view_count(self._view, t, byref(out)))
        return out.value


# ---- pinned snapshots

class _Pin(_Owned):
    _kind = "snapshot"

    def __init__(self, store, partition):
        p = _u32(partition, "partition")
        h = store._acquire()
        try:
            out = c_void_p()
            _check(lib.rcs_snapshot_open(h, p, byref(out)))
        finally:
            store._leave()
        _count("snapshot", 1)
        self._own(out.value, _release_snapshot)
        self.version = lib.rcs_snapshot_version(out.value)

    def close(self):
        with self._close_lock:
            handle = self._take_for_close()
            if handle is None:
                return
            _release_snapshot(handle)
            self._finalizer.detach()


class SnapshotTable(collections.abc.Mapping):
    """One table of a pinned snapshot as a read-only mapping bytes -> bytes.
    Iteration order is unspecified; keys(), values() and items() each walk
    the table once. Valid until the snapshot is closed (then ClosedError)."""

    def __init__(self, pin, store, table):
        self._pin = pin
        self._store = store
        self.table_id = store.table_id(table)

    @property
    def version(self):
        """The partition version pinned."""
        return self._pin.version

    def __getitem__(self, key):
        k = _bytes(key, "key")
        h = self._pin._acquire()
        try:
            ptr, n = c_void_p(), c_size_t()
            rc = lib.rcs_snapshot_get(h, self.table_id, k, len(k), byref(ptr), byref(n))
            if rc == _ffi.ENOTFOUND:
                raise KeyError(key)
            _check(rc)
            return string_at(ptr.value, n.value) if n.value else b""
        finally:
            self._pin._leave()

    def __contains__(self, key):
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __len__(self):
        h = self._pin._acquire()
        try:
            out = c_size_t()
            _check(lib.rcs_snapshot_count(h, self.table_id, byref(out)))
            return out.value
        finally:
            self._pin._leave()

    def _walk(self, want_values):
        entries = []
        failure = []

        def visit(key, key_len, value, value_len, _ctx):
            try:
                k = string_at(key, key_len) if key_len else b""
                if want_values:
                    entries.append((k, string_at(value, value_len) if value_len else b""))
                else:
                    entries.append(k)
                return 0
            except BaseException as e:  # noqa: BLE001 -- re-raised below
                failure.append(e)
                return 1

        h = self._pin._acquire()
        try:
            rc = lib.rcs_snapshot_foreach(h, self.table_id, _ffi.ENTRY_FN(visit), None)
        finally:
            self._pin._leave()
        if failure:
            raise failure[0]
        _check(rc)
        return entries

    def __iter__(self):
        return iter(self._walk(False))

    def keys(self):
        return _SnapshotKeys(self)

    def items(self):
        return _SnapshotItems(self)

    def values(self):
        return _SnapshotValues(self)

    def __repr__(self):
        return f"<rcustate.SnapshotTable table={self.table_id} version={self.version}>"


class _SnapshotKeys(collections.abc.KeysView):
    def __iter__(self):
        return iter(self._mapping._walk(False))


class _SnapshotItems(collections.abc.ItemsView):
    def __iter__(self):
        return iter(self._mapping._walk(True))


class _SnapshotValues(collections.abc.ValuesView):
    def __iter__(self):
        return iter([v for _, v in self._mapping._walk(True)])


class Snapshot(SnapshotTable):
    """A pinned version of a partition, consistent across its tables,
    holding no read section: keep it as long as needed (writers copy instead
    of waiting). It is a read-only mapping over the table it was opened for;
    snap.table(name) gives the others at the same version. It stays readable
    after later commits, after the partition is dropped and after the store
    is closed. Close it (or use ``with``) to release the pin."""

    def __init__(self, store, partition, table=0):
        pin = _Pin(store, partition)
        try:
            super().__init__(pin, store, table)
        except BaseException:
            pin.close()
            raise

    def table(self, table):
        """Another table of this snapshot (same pin, same version)."""
        return SnapshotTable(self._pin, self._store, table)

    @property
    def closed(self):
        return self._pin.closed

    def close(self):
        """Releases the pin; tables and values read before stay valid bytes."""
        self._pin.close()

    def __enter__(self):
        self._pin._acquire()
        self._pin._leave()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self.closed else "open"
        return f"<rcustate.Snapshot {state} version={self.version}>"
