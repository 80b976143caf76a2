# SPDX-License-Identifier: LGPL-2.1-or-later
"""Encoding of the numeric values of merge tables: 8 bytes, little-endian
(int64 for Merge.ADD_I64/MIN_I64/MAX_I64, IEEE-754 double for Merge.ADD_F64)."""
import struct

_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1


def encode_i64(n):
    """The 8-byte value or operand of an int64 table."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"rcustate: encode_i64 takes an int, not {type(n).__name__}")
    if not _I64_MIN <= n <= _I64_MAX:
        raise ValueError(f"rcustate: {n} does not fit in a signed 64-bit integer")
    return _I64.pack(n)


def decode_i64(value):
    """The int of an int64 table's value (8 bytes)."""
    return _I64.unpack(_eight(value, "decode_i64"))[0]


def encode_f64(x):
    """The 8-byte value or operand of a double table."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"rcustate: encode_f64 takes a float, not {type(x).__name__}")
    return _F64.pack(float(x))


def decode_f64(value):
    """The float of a double table's value (8 bytes)."""
    return _F64.unpack(_eight(value, "decode_f64"))[0]


def _eight(value, fn):
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"rcustate: {fn} takes bytes, not {type(value).__name__}")
    if len(value) != 8:
        raise ValueError(f"rcustate: {fn}: a numeric value is 8 bytes, not {len(value)}")
    return value
