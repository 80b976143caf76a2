#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Installs the build into a temporary DESTDIR and uses it the way a user of
the installed library would: builds docs/examples/*.c (and a small C++
program) with `pkg-config --cflags --libs rcustate` only, then runs them
against the installed librcustate.so; then the same with CMake's
find_package(rcustate). Examples that include rcustate/kafka.h
are built with `pkg-config rcustate-kafka` (installed when librdkafka was
found) and not run here: they need a broker (test/kafka runs them).

usage: install_test.py BUILD_DIR SOURCE_DIR CC CXX SANITIZE
(CC/CXX: the compilers of the build; SANITIZE: its b_sanitize value, so that
programs linked against a sanitized library are sanitized too.)
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

# A CMake project that takes rcustate with find_package(), as documented: a C
# and a C++ program on the imported target, and version requests that must
# be refused: a newer release, and (while the major version is 0) an older
# minor release, whose C++ API may differ.
CMAKE_LISTS = r"""
cmake_minimum_required(VERSION 3.13)
project(rcustate_consumer C CXX)
find_package(rcustate @VERSION@ EXACT REQUIRED)
find_package(rcustate @MAJOR@.@MINOR@ REQUIRED)
find_package(rcustate @MAJOR@.@NEXT_MINOR@ QUIET)
if(rcustate_FOUND)
  message(FATAL_ERROR "find_package(rcustate @MAJOR@.@NEXT_MINOR@) accepted version ${rcustate_VERSION}")
endif()
if(@MAJOR@ EQUAL 0 AND @MINOR@ GREATER 0)
  find_package(rcustate @MAJOR@.@PREV_MINOR@ QUIET)
  if(rcustate_FOUND)
    message(FATAL_ERROR "find_package(rcustate @MAJOR@.@PREV_MINOR@) accepted version ${rcustate_VERSION}")
  endif()
endif()
find_package(rcustate @MAJOR@.@MINOR@ REQUIRED)
add_executable(c_app c_app.c)
target_link_libraries(c_app PRIVATE rcustate::rcustate)
add_executable(cxx_app cxx_app.cpp)
target_link_libraries(cxx_app PRIVATE rcustate::rcustate)
"""

CXX_PROGRAM = r"""
#include <cstdio>
#include "rcustate/rcustate.hpp"
int main() {
  rcustate::StoreOptions o;
  o.tables = {{"counts", rcustate::AddInt64(), 0}};
  auto store = rcustate::Store::Open(o).value();
  if (!store->CreatePartition(0).ok()) return 1;
  if (!store->Merge(0, 0, "k", rcustate::EncodeInt64(5)).ok()) return 1;
  if (store->Commit(0).value() != 1) return 1;
  std::string v;
  if (!store->GetCopy(0, 0, "k", &v).value() || rcustate::DecodeInt64(v) != 5) return 1;
  std::puts("C++ API through pkg-config: ok");
  return 0;
}
"""


def run(cmd, env=None, **kw):
    print("+", " ".join(shlex.quote(c) for c in cmd), flush=True)
    return subprocess.run(cmd, env=env, check=True, **kw)


def main():
    build_dir, source_dir, cc, cxx, sanitize = sys.argv[1:6]
    cc, cxx = shlex.split(cc), shlex.split(cxx)
    san = [] if sanitize in ("", "none") else ["-fsanitize=" + sanitize]
    tmp = tempfile.mkdtemp(prefix="rcustate-install-")
    # `meson install` records what it installed in meson-logs/install-log.txt,
    # which `ninja uninstall` reads. This test installs into a DESTDIR: keep
    # the user's own record (of a real install, or none) as it was.
    install_log = os.path.join(build_dir, "meson-logs", "install-log.txt")
    saved_log = None
    if os.path.exists(install_log):
        with open(install_log, "rb") as f:
            saved_log = f.read()
    try:
        destdir = os.path.join(tmp, "root")
        try:
            run(["meson", "install", "-C", build_dir, "--no-rebuild", "--destdir", destdir],
                stdout=subprocess.DEVNULL)
        finally:
            if saved_log is None:
                if os.path.exists(install_log):
                    os.remove(install_log)
            else:
                with open(install_log, "wb") as f:
                    f.write(saved_log)
        # `ninja uninstall` must still see the user's own install, not ours.
        now = open(install_log, "rb").read() if os.path.exists(install_log) else None
        if now != saved_log:
            sys.exit("FAIL: the DESTDIR install replaced meson-logs/install-log.txt")
        pcs = glob.glob(os.path.join(destdir, "**", "pkgconfig", "rcustate.pc"), recursive=True)
        libs = glob.glob(os.path.join(destdir, "**", "librcustate.so.*"), recursive=True)
        headers = glob.glob(os.path.join(destdir, "**", "rcustate", "rcustate.h"), recursive=True)
        if len(pcs) != 1 or not libs or len(headers) != 1:
            sys.exit("FAIL: install layout: pc=%s libs=%s headers=%s" % (pcs, libs, headers))
        libdir = os.path.dirname(libs[0])

        # The .pc holds absolute install paths; the sysroot relocates them into
        # DESTDIR (system paths of other packages are filtered out as usual).
        env = dict(os.environ)
        env["PKG_CONFIG_PATH"] = os.path.dirname(pcs[0])
        env["PKG_CONFIG_SYSROOT_DIR"] = destdir
        env.pop("PKG_CONFIG_LIBDIR", None)
        def pkg_flags(package):
            result = {}
            for what in ("--cflags", "--libs"):
                out = run(["pkg-config", what] + package.split(), env=env,
                          capture_output=True, text=True).stdout
                result[what] = shlex.split(out)
                print(" ", package, what, out.strip())
            return result

        flags = pkg_flags("rcustate")
        kafka_pcs = glob.glob(os.path.join(destdir, "**", "pkgconfig", "rcustate-kafka.pc"),
                              recursive=True)
        # The Kafka examples also call librdkafka themselves.
        kafka_flags = pkg_flags("rcustate-kafka rdkafka") if kafka_pcs else None
        if not any(f.startswith("-I" + destdir) for f in flags["--cflags"]):
            sys.exit("FAIL: pkg-config --cflags does not point into the install")
        if not any(f.startswith("-L" + destdir) for f in flags["--libs"]):
            sys.exit("FAIL: pkg-config --libs does not point into the install")

        run_env = dict(os.environ)
        run_env["LD_LIBRARY_PATH"] = libdir
        examples = sorted(glob.glob(os.path.join(source_dir, "docs", "examples", "*.c")))
        if not examples:
            sys.exit("FAIL: no examples found")
        programs = []
        for src in examples:
            exe = os.path.join(tmp, os.path.basename(src)[:-2])
            with open(src) as f:
                kafka = "rcustate/kafka.h" in f.read()
            if kafka and kafka_flags is None:
                print("  %s: librcustate-kafka is not installed (no librdkafka): not built" % src)
                continue
            build_flags = kafka_flags if kafka else flags
            # Only the installed header: -nostdinc is too blunt, so check the
            # preprocessor's include trace names the installed copy.
            cflags = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread"] + san
            if san:
                # A sanitized librcustate needs the sanitizers' C++ runtime
                # (clang's UBSan vptr checks), which only the C++ driver links.
                obj = exe + ".o"
                run(cc + cflags + ["-c", src, "-o", obj] + build_flags["--cflags"], env=env)
                run(cxx + ["-pthread"] + san + [obj, "-o", exe] + build_flags["--libs"], env=env)
            else:
                run(cc + cflags + [src, "-o", exe] + build_flags["--cflags"] +
                    build_flags["--libs"], env=env)
            if not kafka:
                programs.append(exe)
        deps = run(cc + ["-M", examples[0]] + flags["--cflags"], env=env, capture_output=True,
                   text=True).stdout
        if headers[0] not in deps:
            sys.exit("FAIL: the examples did not compile against the installed header")

        cxx_src = os.path.join(tmp, "cxx_api.cpp")
        with open(cxx_src, "w") as f:
            f.write(CXX_PROGRAM)
        cxx_exe = os.path.join(tmp, "cxx_api")
        run(cxx + ["-std=c++20"] + san + [cxx_src, "-o", cxx_exe] + flags["--cflags"] +
            flags["--libs"], env=env)
        programs.append(cxx_exe)

        # CMake: find_package(rcustate) against the install (DESTDIR + prefix).
        cmake_prefix = os.path.dirname(os.path.dirname(os.path.dirname(headers[0])))
        configs = glob.glob(os.path.join(destdir, "**", "cmake", "rcustate",
                                         "rcustateConfig.cmake"), recursive=True)
        if len(configs) != 1:
            sys.exit("FAIL: rcustateConfig.cmake is not installed: %s" % configs)
        version = re.search(r'PACKAGE_VERSION "([0-9.]+)"', open(os.path.join(
            os.path.dirname(configs[0]), "rcustateConfigVersion.cmake")).read()).group(1)
        major, minor = version.split(".")[:2]
        cmake_src = os.path.join(tmp, "cmake-consumer")
        os.makedirs(cmake_src)
        with open(os.path.join(cmake_src, "CMakeLists.txt"), "w") as f:
            f.write(CMAKE_LISTS.replace("@VERSION@", version).replace("@MAJOR@", major)
                    .replace("@MINOR@", minor).replace("@NEXT_MINOR@", str(int(minor) + 1))
                    .replace("@PREV_MINOR@", str(max(int(minor) - 1, 0))))
        shutil.copy(examples[0], os.path.join(cmake_src, "c_app.c"))
        shutil.copy(cxx_src, os.path.join(cmake_src, "cxx_app.cpp"))
        cmake_build = os.path.join(tmp, "cmake-build")
        cmake_env = dict(os.environ)
        cmake_env["CC"], cmake_env["CXX"] = cc[-1], cxx[-1]
        run(["cmake", "-S", cmake_src, "-B", cmake_build, "-DCMAKE_PREFIX_PATH=" + cmake_prefix,
             "-DCMAKE_C_FLAGS=" + " ".join(san), "-DCMAKE_CXX_FLAGS=" + " ".join(san),
             "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON"], env=cmake_env,
            stdout=subprocess.DEVNULL)
        run(["cmake", "--build", cmake_build], env=cmake_env, stdout=subprocess.DEVNULL)
        programs += [os.path.join(cmake_build, "c_app"), os.path.join(cmake_build, "cxx_app")]

        for exe in programs:
            ldd = run(["ldd", exe], env=run_env, capture_output=True, text=True).stdout
            line = [l for l in ldd.splitlines() if "librcustate" in l]
            if not line or libdir not in line[0]:
                sys.exit("FAIL: %s does not load the installed library: %s" % (exe, line))
            run([exe], env=run_env, stdout=subprocess.DEVNULL)
        print("ok: %d programs built through pkg-config and CMake against the install and run" %
              len(programs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
