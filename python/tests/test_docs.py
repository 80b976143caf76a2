# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/python.md's example runs and prints what its comments say; every
name the page lists exists."""
import contextlib
import io
import os
import re

import rcustate

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "python.md")


def example():
    text = open(DOC, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "docs/python.md has no python example"
    return blocks[0]


def test_example_prints_what_it_says():
    code = example()
    assert len(code.splitlines()) <= 16  # short, as the page promises
    expected = [m.group(1) for line in code.splitlines()
                if (m := re.search(r"print\(.*\)\s+#\s*(.*)$", line))]
    assert expected
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/python.md", "exec"), {"__name__": "docs_example"})
    assert out.getvalue().splitlines() == expected


def test_listed_names_exist():
    text = open(DOC, encoding="utf-8").read()
    for name in ("Store", "Table", "Merge", "Batch", "ReadSection", "View", "Snapshot",
                 "PartitionStats", "CheckpointInfo", "encode_i64", "decode_i64",
                 "encode_f64", "decode_f64", "attach_thread", "detach_thread",
                 "in_read_section", "live_handles", "library_path", "library_version"):
        assert f"`{name}" in text or f"`rcustate.{name}" in text, name
        assert hasattr(rcustate, name), name
    builtins = {"ImportError", "TypeError", "KeyError", "ValueError", "MemoryError",
                "LookupError", "ResourceWarning"}
    for cls in set(re.findall(r"`(\w+Error|IOFailure)`", text)) - builtins:
        assert issubclass(getattr(rcustate, cls), rcustate.Error), cls
    for method in re.findall(r"`(?:store\.)?(\w+)\((?:p|fn)\b", text):
        assert hasattr(rcustate.Store, method), method
