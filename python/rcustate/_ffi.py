# SPDX-License-Identifier: LGPL-2.1-or-later
"""Finds and loads librcustate and declares the C ABI (rcustate.h) for ctypes.

Every function gets its argtypes and restype here, so a wrong argument is a
TypeError in Python instead of a crash in C. The declarations follow
include/rcustate/rcustate.h of version 0.1; the layout of the structs that may
grow is pinned by their struct_size (a newer library fills only the fields an
older caller's struct has room for).
"""
import ctypes
import os
import subprocess
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_size_t, c_uint32,
                    c_uint64, c_void_p)

SONAME = "librcustate.so.0"

# Status codes (enum rcs_status); the values are pinned by the ABI.
OK = 0
ENOTFOUND = -1
EINVAL = -2
ENOMEM = -3
ENOPARTITION = -4
EEXIST = -5
ENOTABLE = -6
ERANGE = -7
ESTATE = -8
EIO = -9
ECORRUPT = -10
EINTERNAL = -100

MAX_KEY_SIZE = 64 * 1024


class TableSpec(Structure):
    _fields_ = [("name", c_char_p), ("merge_op", c_int), ("expected_entries", c_size_t)]


class Options(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("tables", POINTER(TableSpec)),
        ("num_tables", c_size_t),
        ("memory_budget_bytes", c_size_t),
        ("max_publish_delay_ns", c_uint64),
        ("read_flavor", c_int),
        ("stall_threshold_ns", c_uint64),
    ]


class OptionsBuffer(Structure):
    """Room for rcs_options_init of a newer library, whose struct may be
    larger than ours: it writes its own sizeof, and we then set struct_size
    back to the layout we know (every later library accepts it)."""
    _fields_ = [("options", Options), ("_reserve", ctypes.c_char * 512)]


class PartitionStats(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("version", c_uint64),
        ("committed_version", c_uint64),
        ("commits", c_uint64),
        ("publications", c_uint64),
        ("commit_wait_ns", c_uint64),
        ("grace_waits", c_uint64),
        ("standby_copies", c_uint64),
        ("approx_bytes", c_uint64),
        ("pins_alive", c_uint32),
        ("num_tables", c_uint32),
        ("backlog_publications", c_uint64),
        ("stalled_grace_periods", c_uint64),
        ("grace_wait_age_ns", c_uint64),
        ("catch_ups", c_uint64),  # since 0.2
    ]


class StoreStats(Structure):
    _fields_ = [("struct_size", c_size_t)] + [(name, c_uint64) for name in (
        "partitions", "entries", "approx_bytes", "pins_alive", "oldest_grace_wait_ns",
        "reclamation_callbacks", "reclamation_bytes", "commits", "publications",
        "grace_waits", "commit_wait_ns", "standby_copies", "catch_ups",
        "backlog_publications", "stalled_grace_periods", "commit_latency_count",
        "commit_latency_sum_ns", "grace_wait_count", "grace_wait_sum_ns")]


class CheckpointInfo(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("partition", c_uint32),
        ("version", c_uint64),
        ("base_version", c_uint64),
        ("bytes", c_uint64),
        ("entries", c_uint64),
    ]


# int (*rcs_entry_fn)(const void *key, size_t key_len, const void *value,
#                     size_t value_len, void *ctx)
ENTRY_FN = CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p, c_size_t, c_void_p)

# int (*rcs_changelog_fn)(void *ctx, uint32_t partition, uint64_t version,
#                         const void *record, size_t record_len)
CHANGELOG_FN = CFUNCTYPE(c_int, c_void_p, c_uint32, c_uint64, c_void_p, c_size_t)

_P = c_void_p          # opaque handles
_B = c_char_p          # byte strings passed in (bytes or None; length passed apart)
_SZ = c_size_t
_U32 = c_uint32
_PSZ = POINTER(c_size_t)
_PU64 = POINTER(c_uint64)
_PP = POINTER(c_void_p)

_SIGNATURES = {
    # name: (restype, argtypes)
    "rcs_options_init": (None, [c_void_p]),
    "rcs_store_open": (c_int, [c_void_p, _PP]),
    "rcs_store_close": (c_int, [_P]),
    "rcs_table_id": (c_int, [_P, c_char_p, POINTER(c_uint32)]),
    "rcs_table_count": (c_int, [_P, _PSZ]),
    "rcs_partition_create": (c_int, [_P, _U32]),
    "rcs_partition_drop": (c_int, [_P, _U32]),
    "rcs_partition_list": (c_int, [_P, POINTER(c_uint32), _SZ, _PSZ]),
    "rcs_version": (c_int, [_P, _U32, _PU64]),
    "rcs_partition_stats": (c_int, [_P, _U32, POINTER(PartitionStats)]),
    "rcs_partition_table_entries": (c_int, [_P, _U32, _U32, _PSZ]),
    "rcs_get": (c_int, [_P, _U32, _U32, _B, _SZ, c_void_p, _SZ, _PSZ]),
    "rcs_read_lock": (None, []),
    "rcs_read_unlock": (c_int, []),
    "rcs_in_read_section": (c_int, []),
    "rcs_get_ref": (c_int, [_P, _U32, _U32, _B, _SZ, _PP, _PSZ]),
    "rcs_view_current": (c_int, [_P, _U32, _PP]),
    "rcs_view_version": (c_uint64, [_P]),
    "rcs_view_get": (c_int, [_P, _U32, _B, _SZ, _PP, _PSZ]),
    "rcs_view_count": (c_int, [_P, _U32, _PSZ]),
    "rcs_snapshot_open": (c_int, [_P, _U32, _PP]),
    "rcs_snapshot_version": (c_uint64, [_P]),
    "rcs_snapshot_get": (c_int, [_P, _U32, _B, _SZ, _PP, _PSZ]),
    "rcs_snapshot_foreach": (c_int, [_P, _U32, ENTRY_FN, c_void_p]),
    "rcs_snapshot_count": (c_int, [_P, _U32, _PSZ]),
    "rcs_snapshot_close": (None, [_P]),
    "rcs_put": (c_int, [_P, _U32, _U32, _B, _SZ, _B, _SZ]),
    "rcs_delete": (c_int, [_P, _U32, _U32, _B, _SZ]),
    "rcs_merge": (c_int, [_P, _U32, _U32, _B, _SZ, _B, _SZ]),
    "rcs_clear": (c_int, [_P, _U32, _U32]),
    "rcs_commit": (c_int, [_P, _U32, _PU64]),
    "rcs_flush": (c_int, [_P, _U32, _PU64]),
    "rcs_abort": (c_int, [_P, _U32]),
    "rcs_batch_create": (c_int, [_P, _PP]),
    "rcs_batch_put": (c_int, [_P, _U32, _B, _SZ, _B, _SZ]),
    "rcs_batch_delete": (c_int, [_P, _U32, _B, _SZ]),
    "rcs_batch_merge": (c_int, [_P, _U32, _B, _SZ, _B, _SZ]),
    "rcs_batch_clear": (c_int, [_P, _U32]),
    "rcs_batch_commit": (c_int, [_P, _U32, _PU64]),
    "rcs_batch_reset": (None, [_P]),
    "rcs_batch_size": (c_size_t, [_P]),
    "rcs_batch_destroy": (None, [_P]),
    "rcs_checkpoint": (c_int, [_P, _U32, c_char_p, c_int, POINTER(CheckpointInfo)]),
    "rcs_restore": (c_int, [_P, _U32, c_char_p, POINTER(CheckpointInfo)]),
    "rcs_changelog_set": (c_int, [_P, CHANGELOG_FN, c_void_p]),
    "rcs_changelog_apply": (c_int, [_P, _U32, _B, _SZ, _PU64]),
    "rcs_thread_attach": (c_int, []),
    "rcs_thread_detach": (c_int, []),
    "rcs_grace_stalls": (c_int, [_P, _PU64, _PU64]),
    "rcs_store_stats": (c_int, [_P, POINTER(StoreStats)]),
    "rcs_metrics_text": (c_int, [_P, c_void_p, _SZ, _PSZ]),
    "rcs_strerror": (c_char_p, [c_int]),
    "rcs_last_error": (c_char_p, []),
    "rcs_version_number": (c_uint32, []),
    "rcs_version_string": (c_char_p, []),
}


def _pkg_config_libdir():
    """The libdir pkg-config reports for rcustate, or None."""
    try:
        out = subprocess.run(["pkg-config", "--variable=libdir", "rcustate"],
                             capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = out.stdout.strip()
    return libdir if out.returncode == 0 and libdir else None


def library_candidates(environ=None, pkg_config_libdir=_pkg_config_libdir):
    """Where to look for the library, in order, as (source, path-or-name):
    $RCUSTATE_LIBRARY (alone: set, it is the only candidate), else the libdir
    of `pkg-config rcustate`, else the dynamic loader's search for the soname."""
    environ = os.environ if environ is None else environ
    explicit = environ.get("RCUSTATE_LIBRARY")
    if explicit:
        return [("RCUSTATE_LIBRARY", explicit)]
    candidates = []
    libdir = pkg_config_libdir()
    if libdir:
        candidates.append(("pkg-config", os.path.join(libdir, SONAME)))
    candidates.append(("loader", SONAME))
    return candidates


def load(environ=None, pkg_config_libdir=_pkg_config_libdir):
    """Loads the library (see library_candidates) and declares its functions.
    Raises ImportError naming every place tried."""
    tried = []
    for source, where in library_candidates(environ, pkg_config_libdir):
        try:
            lib = ctypes.CDLL(where)
        except OSError as e:
            tried.append(f"{source}: {where} ({e})")
            continue
        # The version first: an older library lacks functions declare() needs.
        version = getattr(lib, "rcs_version_number", None)
        if version is not None:
            version.restype = ctypes.c_uint32
            version.argtypes = []
            number = version()
            if number // 10000 != 0 or number % 10000 < 200:
                raise ImportError(f"rcustate: {where} is version {number // 10000}."
                                  f"{number // 100 % 100}.{number % 100}; this binding needs "
                                  f"0.2 or a later 0.x")
        try:
            declare(lib)
        except AttributeError as e:
            raise ImportError(f"rcustate: {where} is not a usable librcustate: {e}") from None
        return lib
    raise ImportError("rcustate: cannot load librcustate; tried " + "; ".join(tried) +
                      ". Set RCUSTATE_LIBRARY to the library's path, or install it so that "
                      "`pkg-config --variable=libdir rcustate` finds it.")


def declare(lib):
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes

