#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""For meson.build, which has no glob: the library sources of an abseil-cpp
release tree, one a line, relative to the tree's root.

usage: list_sources.py library SYSTEM   every absl/**/*.cc that belongs to the
                                        library on SYSTEM (meson's host_machine.system())
       list_sources.py randen SYSTEM    of those, the AES (randen_hwaes*) ones, which
                                        want the CPU's AES flags

Left out: tests, benchmarks and their helpers (by name: *test*, *benchmark*,
*mock*, *matchers*, *_testing.cc, and a few helpers named below), and by
content any file with a main() or that includes GoogleTest, GoogleMock or
Google Benchmark. Windows-only files (*_win.cc, *win32*.cc) are left out on
other systems; the rest of absl/ guards its platform code with #if.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
NAME_WORDS = ("test", "benchmark", "mock", "matchers")
HELPERS = {
    "chi_square.cc",                      # random: statistics for tests
    "distribution_test_util.cc",
    "gaussian_distribution_gentables.cc",  # a generator with a main()
    "pow10_helper.cc",                    # strings: a test helper
    "print_hash_of.cc",                   # hash: a tool with a main()
    "stack_consumption.cc",               # debugging: a test helper
}
MAIN = re.compile(r"^\s*int\s+main\s*\(", re.M)
TEST_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](gtest|gmock|benchmark)/', re.M)


def library_sources(system):
    windows = system in ("windows", "cygwin")
    out = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, "absl")):
        dirnames[:] = sorted(d for d in dirnames if d not in ("testdata", "copts"))
        for name in sorted(filenames):
            if not name.endswith(".cc") or name in HELPERS:
                continue
            if any(word in name for word in NAME_WORDS):
                continue
            if not windows and (name.endswith("_win.cc") or "win32" in name):
                continue
            path = os.path.join(dirpath, name)
            with open(path, errors="replace") as f:
                text = f.read()
            if MAIN.search(text) or TEST_INCLUDE.search(text):
                continue
            out.append(os.path.relpath(path, ROOT).replace(os.sep, "/"))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: list_sources.py library|randen SYSTEM")
    what, system = sys.argv[1], sys.argv[2]
    sources = library_sources(system)
    if what == "randen":
        sources = [s for s in sources if os.path.basename(s).startswith("randen_hwaes")]
    elif what != "library":
        sys.exit("usage: list_sources.py library|randen SYSTEM")
    print("\n".join(sources))


if __name__ == "__main__":
    main()
