#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Scrapes the metrics_http example over loopback, as Prometheus would.

Usage: scrape_test.py METRICS_HTTP_EXECUTABLE

Starts the example on an ephemeral port for four requests, scrapes
/metrics three times with urllib, checks every scrape against the Prometheus
text format (HELP and TYPE before a family's samples, families contiguous,
counters ending in _total, histograms cumulative with +Inf equal to _count,
no series twice), checks that the commit counter grows between scrapes and
that another path is a 404, then expects the example to exit 0.
"""
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse(text):
    """Returns {(name, labels): value}; raises AssertionError on a format error."""
    assert text.endswith("\n"), "the text must end with a line feed"
    types, helps, done = {}, set(), set()
    current = None
    samples = {}
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert NAME.match(name) and help_text, line
            assert name not in helps, "HELP twice: " + line
            helps.add(name)
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert NAME.match(name), line
            assert kind in ("counter", "gauge", "histogram"), line
            assert name in helps and name not in types, line
            assert (kind == "counter") == name.endswith("_total"), "counter naming: " + line
            types[name] = kind
            if current:
                done.add(current)
            current = name
        else:
            assert not line.startswith("#"), "unknown comment: " + line
            m = SAMPLE.match(line)
            assert m, "not a sample: " + repr(line)
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            float(value)  # raises on a bad number
            family = name
            for suffix in ("_bucket", "_sum", "_count"):
                base = name[: -len(suffix)]
                if name.endswith(suffix) and types.get(base) == "histogram":
                    family = base
            assert family == current and family not in done, "family not contiguous: " + line
            key = (name, tuple(LABEL.findall(labels)))
            assert key not in samples, "series twice: " + line
            samples[key] = float(value)
    for family, kind in types.items():
        if kind != "histogram":
            continue
        buckets = [(dict(k[1])["le"], v) for k, v in samples.items() if k[0] == family + "_bucket"]
        assert buckets and buckets[-1][0] == "+Inf", family
        bounds = [float(le) for le, _ in buckets[:-1]]
        assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), family
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), family + ": buckets not cumulative"
        assert counts[-1] == samples[(family + "_count", ())], family
        assert (family + "_sum", ()) in samples, family
    return types, samples


def main():
    exe = sys.argv[1]
    proc = subprocess.Popen([exe, "0", "4"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert m, "unexpected first line: " + repr(line)
        url = "http://127.0.0.1:%s" % m.group(1)
        commits = []
        for _ in range(3):
            with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
                assert r.status == 200
                assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                text = r.read().decode("utf-8")
            types, samples = parse(text)
            assert types["rcustate_commits_total"] == "counter"
            assert types["rcustate_commit_latency_seconds"] == "histogram"
            assert samples[("rcustate_partitions", ())] == 4
            for p in range(4):
                assert ("rcustate_partition_version", (("partition", str(p)),)) in samples
                key = ("rcustate_partition_entries", (("partition", str(p)), ("table", "clicks")))
                assert key in samples
            commits.append(samples[("rcustate_commits_total", ())])
            time.sleep(0.05)
        assert commits == sorted(commits) and commits[-1] > commits[0], commits
        try:
            urllib.request.urlopen(url + "/other", timeout=30)
            raise AssertionError("/other answered 200")
        except urllib.error.HTTPError as e:
            assert e.code == 404
        assert proc.wait(timeout=30) == 0, "the example failed"
    finally:
        if proc.poll() is None:
            proc.kill()
    print("scraped 3 times: commits", commits)


if __name__ == "__main__":
    main()
