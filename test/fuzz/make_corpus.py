#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of c_api_fuzzer into test/fuzz/corpus/ (or DIR).

The input format is the one c_api_fuzzer.cpp decodes: a header (policy byte,
then the merge operator of each of the 3 tables), then operations, each an
opcode byte followed by its arguments. The seeds below cover every operation
under every policy; the fuzzer mutates from there.

usage: make_corpus.py [DIR]
"""
import os
import struct
import sys

# policy byte % 4: 0, 1 immediate; 2 group commit 50 us; 3 group commit 1 s
IMMEDIATE, GROUP_50US, GROUP_1S = 0, 2, 3
NONE, ADD_I64, MIN_I64, MAX_I64, ADD_F64, APPEND = range(6)
BAD_TABLE = 250  # decodes to table id 3: unknown
K = list(range(9))  # key k0..k7; 8 is the empty key


def header(policy, ops):
    return bytes([policy] + list(ops))


def i64(v):
    return list(struct.pack("<q", v))


def f64(v):
    return list(struct.pack("<d", v))


def num(v):  # an 8-byte numeric value: a length byte < 240, then the bytes
    return [8] + v


def bad_num(n):  # a numeric value of the wrong size n: a length byte >= 240
    return [240 + (n - 6) % 13] + [0x11] * n


def raw(b):  # a value for a non-numeric table: length byte (< 13), bytes
    assert len(b) < 13
    return [len(b)] + list(b)


def create(p): return [0, p]
def drop(p): return [1, p]
def put(p, t, k, v): return [2, p, t, k] + v
def delete(p, t, k): return [3, p, t, k]
def merge(p, t, k, v): return [4, p, t, k] + v
def clear(p, t): return [5, p, t]
def commit(p): return [6, p]
def abort(p): return [7, p]
def bput(t, k, v): return [8, t, k] + v
def bdelete(t, k): return [9, t, k]
def bmerge(t, k, v): return [10, t, k] + v
def bclear(t): return [11, t]
def bcommit(p): return [12, p]
def breset(): return [13]
def get(p, t, k, cap=64): return [14, p, t, k, cap]
def section(p, t, k): return [15, p, t, k]
def pin(p): return [16, p]
def unpin(i): return [17, i]
def flush(p): return [18, p]
def read(p, t, k): return [19, p, t, k]
def stats(p): return [20, p]


def seq(*ops):
    out = []
    for o in ops:
        out += o
    return out


def aggregates(policy):
    # counts (add), text (append), plain (no operator)
    return header(policy, [ADD_I64, APPEND, NONE]) + bytes(seq(
        create(0), create(1),
        merge(0, 0, 1, num(i64(5))), merge(0, 0, 1, num(i64(-2))), get(0, 0, 1),
        merge(0, 1, 2, raw(b"ab")), put(0, 2, 3, raw(b"hello")), commit(0),
        merge(0, 0, 1, num(i64(10))), merge(0, 1, 2, raw(b"cd")), section(0, 0, 1),
        pin(0), commit(0), delete(0, 2, 3), commit(0), stats(0),
        merge(1, 0, 8, num(i64(1))), commit(1), get(0, 1, 2, 3), read(0, 1, 2),
        flush(0), unpin(0), commit(0), section(0, 1, 2)))


def numeric_ops(policy):
    return header(policy, [MIN_I64, MAX_I64, ADD_F64]) + bytes(seq(
        create(2),
        merge(2, 0, 0, num(i64(7))), merge(2, 1, 0, num(i64(7))), merge(2, 2, 0, num(f64(1.5))),
        commit(2),
        merge(2, 0, 0, num(i64(-3))), merge(2, 0, 0, num(i64(9))),
        merge(2, 1, 0, num(i64(-3))), merge(2, 1, 0, num(i64(9))),
        merge(2, 2, 0, num(f64(0.1))), merge(2, 2, 0, num(f64(0.2))),
        get(2, 2, 0), commit(2), put(2, 2, 0, num(f64(-0.0))), merge(2, 2, 0, num(f64(2.25))),
        commit(2), delete(2, 0, 0), merge(2, 0, 0, num(i64(4))), commit(2), read(2, 0, 0)))


def batches(policy):
    return header(policy, [ADD_I64, NONE, APPEND]) + bytes(seq(
        create(0), create(3),
        bput(1, 0, raw(b"x")), bmerge(0, 0, num(i64(3))), bmerge(0, 0, num(i64(4))),
        bdelete(1, 5), bclear(2), bmerge(2, 1, raw(b"tail")), get(0, 1, 0),
        bcommit(0), bcommit(3), get(3, 0, 0),
        bput(1, 7, raw(b"gone")), breset(), bcommit(0),
        put(0, 1, 0, raw(b"local")), bput(1, 0, raw(b"batch")), bcommit(0), get(0, 1, 0),
        commit(0), get(0, 1, 0), bcommit(2), pin(3), bclear(0), bcommit(3), unpin(0)))


def clears_and_aborts(policy):
    return header(policy, [APPEND, ADD_I64, NONE]) + bytes(seq(
        create(1),
        put(1, 2, 0, raw(b"a")), put(1, 2, 1, raw(b"b")), merge(1, 0, 0, raw(b"z")), commit(1),
        clear(1, 2), get(1, 2, 0), put(1, 2, 2, raw(b"c")), merge(1, 0, 0, raw(b"y")),
        clear(1, 0), merge(1, 0, 0, raw(b"w")), commit(1),
        put(1, 2, 3, raw(b"d")), clear(1, 1), abort(1), get(1, 2, 3), commit(1), stats(1)))


def drops_and_pins(policy):
    return header(policy, [ADD_I64, APPEND, NONE]) + bytes(seq(
        create(0), put(0, 2, 0, raw(b"v1")), commit(0), pin(0),
        put(0, 2, 0, raw(b"v2")), commit(0), pin(0),
        put(0, 2, 1, raw(b"pending")), drop(0), get(0, 2, 0), commit(0), abort(0),
        create(0), get(0, 2, 1), put(0, 2, 0, raw(b"v3")), commit(0), pin(0),
        drop(0), drop(0), unpin(1), create(0), commit(0), unpin(0), unpin(0)))


def errors(policy):
    return header(policy, [ADD_I64, MAX_I64, NONE]) + bytes(seq(
        put(0, 0, 0, num(i64(1))), commit(0), get(0, 0, 0), pin(0), flush(0), stats(0),
        create(0), create(0),
        put(0, 0, 0, bad_num(4)),                   # a 4-byte value into add_i64
        merge(0, 1, 0, bad_num(3)),                 # a 3-byte operand into max_i64
        merge(0, 1, 0, bad_num(0)),
        merge(0, 2, 0, raw(b"x")),                  # merge without operator
        put(0, BAD_TABLE, 0, raw(b"x")), get(0, BAD_TABLE, 0), section(0, BAD_TABLE, 0),
        bput(BAD_TABLE + 1, 0, raw(b"x")), bmerge(0, 0, bad_num(9)),
        bcommit(1), commit(0), get(0, 0, 0, 0), get(0, 0, 0, 7)))


def read_sections(policy):
    return header(policy, [ADD_I64, APPEND, NONE]) + bytes(seq(
        create(0), create(1), merge(0, 0, 2, num(i64(2))), section(0, 0, 2), commit(0),
        merge(0, 0, 2, num(i64(3))), section(0, 0, 2), section(1, 0, 2), section(2, 0, 2),
        merge(0, 1, 8, raw(b"")), merge(0, 1, 8, raw(b"q")), section(0, 1, 8), commit(0),
        section(0, 1, 8), read(0, 1, 8), read(3, 1, 8)))


SEEDS = {
    "aggregates_immediate": aggregates(IMMEDIATE),
    "aggregates_group_1s": aggregates(GROUP_1S),
    "aggregates_group_50us": aggregates(GROUP_50US),
    "numeric_ops_immediate": numeric_ops(IMMEDIATE),
    "numeric_ops_group_1s": numeric_ops(GROUP_1S),
    "batches_immediate": batches(IMMEDIATE),
    "batches_group_1s": batches(GROUP_1S),
    "clears_and_aborts_group_50us": clears_and_aborts(GROUP_50US),
    "drops_and_pins_immediate": drops_and_pins(IMMEDIATE),
    "drops_and_pins_group_1s": drops_and_pins(GROUP_1S),
    "errors_immediate": errors(IMMEDIATE),
    "read_sections_group_1s": read_sections(GROUP_1S),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
