#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares the dynamic symbols of librcustate.so with src/version.map and
include/rcustate/rcustate.h.

Checks:
  - the soname is librcustate.so.<soversion>;
  - every exported symbol carries a version node that version.map defines,
    and matches one of its global patterns;
  - every exported C symbol is rcs_* and declared RCS_API in the header, and
    every RCS_API function of the header is exported (nothing missing);
  - every exported C++ symbol belongs to rcustate's versioned inline
    namespace, rcustate::v<major>_<minor>_absl_<abseil's namespace>::
    (functions, or the vtable/typeinfo of its classes), and all to the same
    one; nothing of absl or std is exported.

usage: check_exports.py LIBRARY VERSION_MAP HEADER SOVERSION
"""
import fnmatch
import re
import subprocess
import sys


def fail(errors):
    for e in errors:
        print("FAIL:", e)
    sys.exit(1)


def dynamic_symbols(lib):
    """(name, demangled, version) of every defined dynamic symbol."""
    raw = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    dem = subprocess.run(["nm", "-D", "--defined-only", "-C", lib], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert len(raw) == len(dem)
    out = []
    for r, d in zip(raw, dem):
        r_parts, d_parts = r.split(None, 2), d.split(None, 2)
        if len(r_parts) < 3:
            continue
        kind, name = r_parts[1], r_parts[2]
        if kind == "A":  # the version node definitions themselves
            continue
        demangled = d_parts[2]
        version = None
        for s in ("@@", "@"):
            if s in name:
                name, version = name.split(s, 1)
                demangled = demangled.rsplit(s, 1)[0]
                break
        out.append((name, demangled, version))
    return out


def parse_version_map(path):
    """{node: (c_patterns, cxx_patterns)} from the global parts of the script."""
    text = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
    nodes = {}
    for m in re.finditer(r"(\w[\w.]*)\s*\{(.*?)\}\s*[\w.]*\s*;\s*(?=\w|$)", text, flags=re.S):
        node, body = m.group(1), m.group(2) + "}"
        c_pats, cxx_pats = [], []
        glob = re.search(r"global\s*:(.*?)(local\s*:|$)", body, flags=re.S)
        if glob:
            g = glob.group(1)
            for em in re.finditer(r'extern\s+"C\+\+"\s*\{(.*?)\}', g, flags=re.S):
                cxx_pats += [p.strip().strip('"') for p in em.group(1).split(";") if p.strip()]
            g = re.sub(r'extern\s+"C\+\+"\s*\{.*?\}\s*;?', "", g, flags=re.S)
            c_pats += [p.strip() for p in g.split(";") if p.strip()]
        nodes[node] = (c_pats, cxx_pats)
    return nodes


def header_functions(path):
    text = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
    return set(re.findall(r"RCS_API\s+[^;(]*?\b(rcs_\w+)\s*\(", text))


def main():
    lib, vmap, header, soversion = sys.argv[1:5]
    errors = []

    dyn = subprocess.run(["readelf", "-d", lib], check=True, capture_output=True,
                         text=True).stdout
    m = re.search(r"\(SONAME\)\s+Library soname: \[(.*?)\]", dyn)
    want = "librcustate.so." + soversion
    if not m or m.group(1) != want:
        errors.append("soname is %r, expected %r" % (m.group(1) if m else None, want))

    nodes = parse_version_map(vmap)
    if not nodes:
        errors.append("no version node parsed from " + vmap)
    declared = header_functions(header)
    if len(declared) < 40:
        errors.append("only %d RCS_API functions parsed from the header" % len(declared))

    exported_c = set()
    abi_namespaces = set()
    for name, demangled, version in dynamic_symbols(lib):
        if version not in nodes:
            errors.append("%s: version %r is not a node of version.map" % (demangled, version))
            continue
        c_pats, cxx_pats = nodes[version]
        if name.startswith("_Z"):
            if not any(fnmatch.fnmatchcase(demangled, p) for p in cxx_pats):
                errors.append("C++ symbol not matched by version.map: " + demangled)
            ok = re.match(r"((vtable|typeinfo|typeinfo name) for )?rcustate::"
                          r"(v[0-9]+_[0-9]+_absl_[A-Za-z0-9_]+)::", demangled)
            if not ok or "(anonymous namespace)" in demangled:
                errors.append("exported C++ symbol outside the rcustate API's versioned "
                              "namespace: " + demangled)
            else:
                abi_namespaces.add(ok.group(3))
        else:
            exported_c.add(name)
            if not any(fnmatch.fnmatchcase(name, p) for p in c_pats):
                errors.append("C symbol not matched by version.map: " + name)
            if not name.startswith("rcs_"):
                errors.append("exported C symbol without the rcs_ prefix: " + name)
            elif name not in declared:
                errors.append("exported but not declared RCS_API in rcustate.h: " + name)
        if re.match(r"(absl|std|__gnu_cxx)::", demangled) or " for absl::" in demangled or \
                " for std::" in demangled:
            errors.append("absl/std symbol exported: " + demangled)

    for f in sorted(declared - exported_c):
        errors.append("declared in rcustate.h but not exported: " + f)
    if len(abi_namespaces) > 1:
        errors.append("C++ symbols in several versioned namespaces: %s" % sorted(abi_namespaces))

    if errors:
        fail(errors)
    print("ok: %d C functions exported and declared, version nodes %s, C++ namespace %s" %
          (len(exported_c), ", ".join(sorted(nodes)), ", ".join(sorted(abi_namespaces))))


if __name__ == "__main__":
    main()
