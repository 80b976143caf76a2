#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every source file of the project states its license in its first lines
(SPDX-License-Identifier: LGPL-2.1-or-later), and LICENSE holds the text.

usage: spdx_test.py SOURCE_DIR
"""
import os
import sys

TAG = "SPDX-License-Identifier: LGPL-2.1-or-later"
DIRS = ["src", "include", "test", "bench", "tools", "docs/examples", "python", "rust",
        "scripts", "cmake", "subprojects/packagefiles"]
SUFFIXES = (".c", ".h", ".cpp", ".hpp", ".rs", ".py", ".sh", ".map", ".supp", ".toml",
            "meson.build", "meson_options.txt", ".c.in", ".cpp.in", ".cmake.in")
SKIP_DIRS = {"target", "__pycache__", "corpus", "corpus_changelog", "corpus_changelog_apply",
             "corpus_checkpoint"}


def main():
    root = sys.argv[1]
    missing, checked = [], 0
    for top in ["."] + DIRS:
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")
                           and not d.startswith("build")] if top != "." else []
            for name in filenames:
                if not name.endswith(SUFFIXES) or name == "Cargo.lock":
                    continue
                path = os.path.join(dirpath, name)
                with open(path, errors="replace") as f:
                    head = "".join(f.readline() for _ in range(5))
                checked += 1
                if TAG not in head:
                    missing.append(os.path.relpath(path, root))
    with open(os.path.join(root, "LICENSE")) as f:
        if "GNU LESSER GENERAL PUBLIC LICENSE" not in f.read(200):
            missing.append("LICENSE (not the LGPL text)")
    if missing:
        sys.exit("FAIL: no '%s' in the first lines of:\n  %s" % (TAG, "\n  ".join(sorted(missing))))
    print("ok: %d source files carry the SPDX line" % checked)


if __name__ == "__main__":
    main()
