#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The library loads with dlopen() (how Python, Go and Rust bindings load it)
and works: open a store, commit, read back. Fails, for example, if the library
needs static TLS that a dlopen() cannot provide."""
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
assert lib.rcs_version_number() > 0


class TableSpec(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("merge_op", ctypes.c_int),
                ("expected_entries", ctypes.c_size_t)]


class Options(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("tables", ctypes.POINTER(TableSpec)),
                ("num_tables", ctypes.c_size_t), ("memory_budget_bytes", ctypes.c_size_t),
                ("max_publish_delay_ns", ctypes.c_uint64)]


opts = Options()
lib.rcs_options_init(ctypes.byref(opts))
spec = (TableSpec * 1)(TableSpec(b"t", 0, 0))
opts.tables = spec
opts.num_tables = 1
store = ctypes.c_void_p()
assert lib.rcs_store_open(ctypes.byref(opts), ctypes.byref(store)) == 0
assert lib.rcs_partition_create(store, 0) == 0
assert lib.rcs_put(store, 0, 0, b"k", ctypes.c_size_t(1), b"value", ctypes.c_size_t(5)) == 0
version = ctypes.c_uint64()
assert lib.rcs_commit(store, 0, ctypes.byref(version)) == 0 and version.value == 1
buf = ctypes.create_string_buffer(16)
n = ctypes.c_size_t()
assert lib.rcs_get(store, 0, 0, b"k", ctypes.c_size_t(1), buf, ctypes.c_size_t(16), ctypes.byref(n)) == 0
assert buf.raw[: n.value] == b"value", buf.raw
lib.rcs_store_close(store)
print("dlopen ok")
