# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exceptions: one class per RCS_E* status code, all under rcustate.Error.

Where a Python built-in exception means the same thing, the class derives
from it too (NotFoundError is a KeyError, InvalidArgumentError a ValueError,
OutOfMemoryError a MemoryError, NoPartitionError and NoTableError are
LookupErrors), so code that catches the built-in keeps working.
"""
from . import _ffi


class Error(Exception):
    """A failed rcustate call. `code` is the C status (RCS_E*, negative);
    `message` the library's description, which starts with the C function's
    name (for example "rcs_partition_create: partition 3 already exists")."""

    code = None

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self):
        # KeyError's str() would quote the message; keep it readable.
        return self.message


class NotFoundError(Error, KeyError):
    """RCS_ENOTFOUND: the key is absent."""
    code = _ffi.ENOTFOUND


class InvalidArgumentError(Error, ValueError):
    """RCS_EINVAL: a bad argument (key too long, a numeric value that is not
    8 bytes, a merge on a table without operator, bad options, ...)."""
    code = _ffi.EINVAL


class OutOfMemoryError(Error, MemoryError):
    """RCS_ENOMEM: the library could not allocate; the call changed nothing."""
    code = _ffi.ENOMEM


class NoPartitionError(Error, LookupError):
    """RCS_ENOPARTITION: unknown or dropped partition."""
    code = _ffi.ENOPARTITION


class PartitionExistsError(Error):
    """RCS_EEXIST: the partition already exists."""
    code = _ffi.EEXIST


class NoTableError(Error, LookupError):
    """RCS_ENOTABLE: unknown table name or id."""
    code = _ffi.ENOTABLE


class BufferTooSmallError(Error):
    """RCS_ERANGE: a caller's buffer was too small (the binding retries, so
    this is not normally seen)."""
    code = _ffi.ERANGE


class StateError(Error):
    """RCS_ESTATE: not allowed now (a commit, flush, drop or close inside a
    read section; a handle used after its store was closed; a read section
    used from another thread or after it ended)."""
    code = _ffi.ESTATE


class ClosedError(StateError):
    """A Store, Batch or Snapshot used after close() (raised by the binding,
    code RCS_ESTATE)."""


class IOFailure(Error):
    """RCS_EIO: an I/O failure (checkpoint, restore)."""
    code = _ffi.EIO


class CorruptError(Error):
    """RCS_ECORRUPT: a damaged checkpoint file or changelog record."""
    code = _ffi.ECORRUPT


class InternalError(Error):
    """RCS_EINTERNAL: a bug in the library; the message says what."""
    code = _ffi.EINTERNAL


_BY_CODE = {cls.code: cls for cls in (
    NotFoundError, InvalidArgumentError, OutOfMemoryError, NoPartitionError,
    PartitionExistsError, NoTableError, BufferTooSmallError, StateError, IOFailure,
    CorruptError, InternalError)}


def error_for(code, message):
    """The exception for a status code (Error itself for a code this binding
    does not know, so a newer library's codes still raise an Error)."""
    cls = _BY_CODE.get(code, Error)
    return cls(message, code)
