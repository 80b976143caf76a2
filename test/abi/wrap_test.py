#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The wrap fallbacks in subprojects/ are well-formed and cover what the
project asks for.

Every subprojects/*.wrap parses; a [wrap-file] names a directory, an https
source_url, a source_filename and a 64-hex-digit SHA-256 source_hash; a
patch_directory exists under subprojects/packagefiles/ with a meson.build
that defines every variable the wrap's [provide] names. Every dependency()
name in the project's meson.build files is either in some wrap's [provide]
or listed below as system-only, and every fallback: ['wrap', 'variable']
names a wrap that provides that variable.

usage: wrap_test.py SOURCE_DIR
"""
import configparser
import os
import re
import sys

# Dependencies with no fallback, on purpose (docs/dependencies.md says why).
SYSTEM_ONLY = {
    "liburcu-memb", "liburcu-qsbr", "liburcu-cds",  # no meson build; ABI shared with callers
    "rdkafka",                                     # the optional Kafka module
    "threads",                                     # meson's own
}
SKIP_DIRS = {"subprojects", "target", "__pycache__"}
DEP_CALL = re.compile(r"(?<![\w.])dependency\(\s*'([^']+)'", re.S)
FALLBACK = re.compile(r"fallback\s*:\s*\[\s*'([^']+)'\s*,\s*'([^']+)'\s*\]")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def project_dependencies(root):
    """{name: [where, ...]} and [(wrap, variable, where)] of the fallback: kwargs."""
    names, fallbacks = {}, []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")
                       and not d.startswith("build")]
        if "meson.build" not in filenames:
            continue
        path = os.path.join(dirpath, "meson.build")
        rel = os.path.relpath(path, root)
        with open(path) as f:
            text = "\n".join(line.split("#")[0] for line in f.read().split("\n"))
        for m in DEP_CALL.finditer(text):
            names.setdefault(m.group(1), []).append(rel)
            fb = FALLBACK.search(call_arguments(text, m.end()))
            if fb:
                fallbacks.append((fb.group(1), fb.group(2), rel))
    return names, fallbacks


def call_arguments(text, start):
    """The rest of a call's arguments from text[start:], up to its closing
    parenthesis (get_option('x') and the like nest)."""
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return text[start:]


def assigned_variables(meson_build):
    with open(meson_build) as f:
        return set(re.findall(r"^\s*(\w+)\s*=[^=]", f.read(), re.M))


def main():
    root = sys.argv[1]
    sub = os.path.join(root, "subprojects")
    errors = []
    provided = {}   # dependency name -> wrap
    variables = {}  # wrap -> set of [provide] variables
    wraps = sorted(n for n in os.listdir(sub) if n.endswith(".wrap")) if os.path.isdir(sub) else []
    if not wraps:
        errors.append("no subprojects/*.wrap")
    for name in wraps:
        wrap = name[:-len(".wrap")]
        cp = configparser.ConfigParser(interpolation=None)
        try:
            cp.read(os.path.join(sub, name))
        except configparser.Error as e:
            errors.append("%s: does not parse: %s" % (name, e))
            continue
        if not cp.has_section("wrap-file"):
            errors.append("%s: no [wrap-file] section" % name)
            continue
        wf = cp["wrap-file"]
        for key in ("directory", "source_url", "source_filename", "source_hash"):
            if not wf.get(key, "").strip():
                errors.append("%s: no %s" % (name, key))
        if not wf.get("source_url", "").startswith("https://"):
            errors.append("%s: source_url is not https" % name)
        if not HEX64.match(wf.get("source_hash", "")):
            errors.append("%s: source_hash is not 64 lowercase hex digits" % name)
        patch_dir = wf.get("patch_directory")
        build_file = None
        if patch_dir:
            build_file = os.path.join(sub, "packagefiles", patch_dir, "meson.build")
            if not os.path.isfile(build_file):
                errors.append("%s: patch_directory %s has no packagefiles/%s/meson.build"
                              % (name, patch_dir, patch_dir))
                build_file = None
        variables[wrap] = set()
        if not cp.has_section("provide"):
            errors.append("%s: no [provide] section" % name)
            continue
        defined = assigned_variables(build_file) if build_file else None
        for dep, var in cp["provide"].items():
            if dep in provided:
                errors.append("%s: %s is provided by %s.wrap too" % (name, dep, provided[dep]))
            provided[dep] = wrap
            variables[wrap].add(var)
            if defined is not None and var not in defined:
                errors.append("%s: [provide] %s = %s, but packagefiles/%s/meson.build "
                              "assigns no %s" % (name, dep, var, patch_dir, var))

    names, fallbacks = project_dependencies(root)
    for dep, where in sorted(names.items()):
        if dep in SYSTEM_ONLY:
            if dep in provided:
                errors.append("%s is system-only here but %s.wrap provides it" % (dep, provided[dep]))
        elif dep not in provided:
            errors.append("dependency('%s') (%s) is in no wrap's [provide] and not listed "
                          "as system-only" % (dep, ", ".join(sorted(set(where)))))
    for wrap, var, where in fallbacks:
        if wrap not in variables:
            errors.append("%s: fallback names %s, but there is no subprojects/%s.wrap"
                          % (where, wrap, wrap))
        elif var not in variables[wrap]:
            errors.append("%s: fallback names %s's %s, which %s.wrap does not provide"
                          % (where, wrap, var, wrap))
    if errors:
        sys.exit("FAIL:\n  " + "\n  ".join(errors))
    print("ok: %d wraps, %d dependency names asked for, %d provided by a wrap, "
          "%d explicit fallbacks" % (len(wraps), len(names),
                                     len([d for d in names if d in provided]), len(fallbacks)))


if __name__ == "__main__":
    main()
