#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""For meson.build, which has no glob: the library's sources of a Google
Benchmark release tree, or its version.

usage: list_sources.py sources   (src/*.cc but benchmark_main.cc, one a line)
       list_sources.py version   (from CMakeLists.txt's project() call)
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "sources"
    if what == "version":
        with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
            m = re.search(r"project\s*\(\s*benchmark\s+VERSION\s+([0-9][0-9.]*)", f.read())
        if not m:
            sys.exit("no 'project (benchmark VERSION x.y.z' in CMakeLists.txt")
        print(m.group(1))
        return
    src = os.path.join(ROOT, "src")
    for name in sorted(os.listdir(src)):
        if name.endswith(".cc") and name != "benchmark_main.cc":
            print("src/" + name)


if __name__ == "__main__":
    main()
