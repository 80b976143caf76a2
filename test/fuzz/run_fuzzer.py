#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the libFuzzer target for a bounded time over the committed seed
corpus. New inputs go to a corpus directory in the build tree (the committed
seeds are only read); crash inputs to fuzz-artifacts/ next to it.

usage: run_fuzzer.py FUZZER SEED_DIR WORK_DIR
env:   RCUSTATE_FUZZ_SECONDS (default 60)
"""
import os
import subprocess
import sys


def main():
    fuzzer, seeds, work = sys.argv[1:4]
    seconds = int(os.environ.get("RCUSTATE_FUZZ_SECONDS", "60") or "60")
    corpus = os.path.join(work, "fuzz-corpus")
    artifacts = os.path.join(work, "fuzz-artifacts")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    cmd = [fuzzer, corpus, seeds,
           "-max_total_time=%d" % seconds,
           "-timeout=30",            # one input taking longer is a hang
           "-rss_limit_mb=4096",
           # Every input pays ~10 ms for rcs_store_close (it waits for the
           # call_rcu worker), so let inputs be long from the start rather
           # than growing their length limit slowly.
           "-max_len=2048",
           "-len_control=0",
           "-detect_leaks=1",
           "-print_final_stats=1",
           "-artifact_prefix=" + artifacts + os.sep]
    print(" ".join(cmd), flush=True)
    try:
        # libFuzzer stops itself after max_total_time; the timeout here only
        # guards against a fuzzer that cannot stop.
        rc = subprocess.run(cmd, timeout=2 * seconds + 300).returncode
    except subprocess.TimeoutExpired:
        print("FAIL: the fuzzer did not stop", flush=True)
        return 1
    if rc != 0:
        print("FAIL: fuzzer exit %d; crash inputs in %s (replay one with: %s FILE)" %
              (rc, artifacts, fuzzer), flush=True)
        # Never pass the fuzzer's own code on: 77 would mean "skipped" to meson.
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
