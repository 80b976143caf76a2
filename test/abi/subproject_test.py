#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rcustate as a meson subproject: a parent project that takes the library
gets the libraries and nothing else (no tests, examples, bench, fuzzers or
tools), unless it asks for them with a subproject option.

usage: subproject_test.py SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

PARENT = """
project('parent', 'c', 'cpp', default_options: ['cpp_std=c++20'])
rcustate_dep = subproject('rcustate').get_variable('rcustate_dep')
executable('app', 'app.c', dependencies: rcustate_dep)
"""
APP = """
#include "rcustate/rcustate.h"
int main(void) { return rcs_in_read_section(); }
"""
# What a parent may see of rcustate: its libraries (librcustate-kafka only
# when librdkafka is found).
LIBRARIES = {"rcustate", "rcustate-kafka"}


def setup(parent, build, *options):
    cmd = ["meson", "setup", "--wrap-mode=nodownload", build, parent] + list(options)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("FAIL: %s\n%s%s" % (" ".join(cmd), out.stdout[-3000:], out.stderr[-3000:]))


def introspect(build, what):
    out = subprocess.run(["meson", "introspect", build, what], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def main():
    source_dir = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="rcustate-subproject-")
    try:
        parent = os.path.join(tmp, "parent")
        os.makedirs(os.path.join(parent, "subprojects"))
        os.symlink(source_dir, os.path.join(parent, "subprojects", "rcustate"))
        with open(os.path.join(parent, "meson.build"), "w") as f:
            f.write(PARENT)
        with open(os.path.join(parent, "app.c"), "w") as f:
            f.write(APP)

        build = os.path.join(tmp, "build")
        setup(parent, build)
        tests = introspect(build, "--tests")
        if tests:
            sys.exit("FAIL: the parent got rcustate's tests: %s" %
                     sorted(t["name"] for t in tests)[:10])
        targets = {t["name"] for t in introspect(build, "--targets")
                   if t.get("subproject") == "rcustate" and t.get("build_by_default", True)}
        if not targets <= LIBRARIES or "rcustate" not in targets:
            sys.exit("FAIL: the parent builds more of rcustate than its libraries: %s" %
                     sorted(targets - LIBRARIES))
        steps = subprocess.run(["ninja", "-C", build, "-n"], capture_output=True, text=True,
                               check=True).stdout.count("\n")
        print("ok: as a subproject rcustate builds %s (%d build steps with the parent's app),"
              " no test" % (sorted(targets), steps))

        # A parent that asks for the tests gets them.
        asked = os.path.join(tmp, "build-asked")
        setup(parent, asked, "-Drcustate:tests=enabled", "-Drcustate:examples=enabled")
        names = {t["name"] for t in introspect(asked, "--tests")}
        if "quickstart_cpp" not in names or len(names) < 10:
            sys.exit("FAIL: -Drcustate:tests=enabled did not bring the tests: %s" % sorted(names))
        print("ok: asked for, the parent gets %d of rcustate's tests" % len(names))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
