# SPDX-License-Identifier: LGPL-2.1-or-later
"""rcustate: partitioned in-memory state with lock-free readers (Python binding).

    import rcustate
    from rcustate import Merge, encode_i64, decode_i64

    with rcustate.Store([("clicks", Merge.ADD_I64)]) as store:
        store.create_partition(0)
        store.merge(0, "clicks", b"home", encode_i64(1))
        store.commit(0)
        decode_i64(store.get(0, "clicks", b"home"))   # 1

The shared library is found through $RCUSTATE_LIBRARY (its path), else
`pkg-config --variable=libdir rcustate`, else the loader's search for
librcustate.so.0. See docs/python.md.
"""
from ._codec import decode_f64, decode_i64, encode_f64, encode_i64
from ._errors import (BufferTooSmallError, ClosedError, CorruptError, Error, InternalError,
                      InvalidArgumentError, IOFailure, NoPartitionError, NoTableError,
                      NotFoundError, OutOfMemoryError, PartitionExistsError, StateError)
from ._ffi import MAX_KEY_SIZE
from ._store import (Batch, CheckpointInfo, Merge, PartitionStats, ReadSection, Snapshot,
                     SnapshotTable, Store, StoreStats, Table, View, lib as _lib,
                     live_handles)

__version__ = "0.2.0"


def library_version():
    """The version of the loaded librcustate, "MAJOR.MINOR.PATCH"."""
    return _lib.rcs_version_string().decode()


def library_path():
    """The file the library was loaded from (as given to the loader)."""
    return _lib._name


def in_read_section():
    """True if the calling thread is inside a read section."""
    return bool(_lib.rcs_in_read_section())


def attach_thread():
    """Registers the calling thread with RCU now rather than on its first
    call (threads register and unregister by themselves otherwise)."""
    rc = _lib.rcs_thread_attach()
    if rc:
        from ._store import _raise
        _raise(rc)


def detach_thread():
    """Unregisters the calling thread early (it re-registers on next use).
    StateError inside a read section."""
    rc = _lib.rcs_thread_detach()
    if rc:
        from ._store import _raise
        _raise(rc)


__all__ = [
    "Store", "Table", "Merge", "Batch", "ReadSection", "View", "Snapshot", "SnapshotTable",
    "PartitionStats", "StoreStats", "CheckpointInfo",
    "encode_i64", "decode_i64", "encode_f64", "decode_f64",
    "Error", "NotFoundError", "InvalidArgumentError", "OutOfMemoryError", "NoPartitionError",
    "PartitionExistsError", "NoTableError", "BufferTooSmallError", "StateError", "ClosedError",
    "IOFailure", "CorruptError", "InternalError",
    "MAX_KEY_SIZE", "library_version", "library_path", "in_read_section", "attach_thread",
    "detach_thread", "live_handles",
]
