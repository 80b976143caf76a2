#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints rcustate-bench JSON results as markdown tables (docs/benchmarks.md).

  bench/md_table.py results/figures/writes-1e5-uniform-B100.json [more.json ...] [--baseline=lr-sync]
"""
import json
import sys


def si(v):
    if v is None or v <= 0:
        return "-"
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.2f}{suf}" if div >= 1e6 else f"{v / div:.1f}{suf}"
    return f"{v:.0f}"


def ns(v):
    if not v:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.1f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.0f} µs" if v >= 1e4 else f"{v / 1e3:.1f} µs"
    return f"{v:.0f} ns"


def ratio(v, b):
    if not v or not b:
        return "-"
    r = v / b
    return f"{r:.0f}×" if r >= 100 else (f"{r:.2f}×" if r >= 0.01 else f"{r:.1e}×")


def main():
    baseline = "lr-sync"
    files = []
    for a in sys.argv[1:]:
        if a.startswith("--baseline="):
            baseline = a.split("=", 1)[1]
        else:
            files.append(a)
    for f in files:
        data = json.load(open(f))
        runs = [r for r in data["runs"] if not r["skipped"]]
        meta = data["meta"]
        groups = {}
        for r in runs:
            groups.setdefault((r["scenario"], r["keys"], r["batch"], r["dist"], r["partitions"]), []).append(r)
        for (sc, keys, batch, dist, parts), rs in groups.items():
            base = next((r for r in rs if r["impl"] == baseline), None)
            la = meta.get("load_average", [None, None])
            print(f"\n`{sc}`, keys={keys:g}, B={batch}, {dist}, partitions={parts}, "
                  f"readers={rs[0]['readers']} (load average {la[0]:.1f}→{la[1]:.1f})\n")
            print(f"| impl | records/s | ×{baseline} | reads/s | ×{baseline} | read p50 / p99 | "
                  "commit p50 / p99 / p999 | wait | CPU w/r | RSS/live | sync GPs | viol | notes |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for r in rs:
                rl = r["read_latency_ns"]
                cl = r["commit_latency_ns"]
                rss_live = r["rss_peak_bytes"] / r["live_bytes"] if r["live_bytes"] else 0
                notes = []
                if sc == "lookup" and r.get("reads_alone_per_s"):
                    notes.append(f"isolation {r['isolation']:.2f} (alone {si(r['reads_alone_per_s'])}/s)")
                    if r.get("isolation_per_cpu"):
                        notes.append(f"per reader CPU-s {r['isolation_per_cpu']:.2f}; reader CPU "
                                     f"{r['reader_cpu_share_alone']:.2f} alone, {r['reader_cpu_share']:.2f} with writer")
                if sc == "partitions":
                    notes.append(f"vs 1 partition {r['partition_scaling']:.2f}")
                if sc == "pinscan" and r.get("pins"):
                    pr = r["rss_pinned_bytes"] / r["live_bytes"] if r["live_bytes"] else 0
                    notes.append(f"pinned RSS {pr:.2f}× live, scan {r['scan_ms']:.0f} ms")
                if r.get("catch_ups"):
                    notes.append(f"{r['catch_ups']} catch-ups off the commit path")
                if r["publications"] and r["publications"] < r["commits"]:
                    notes.append(f"{r['publications']} publications / {r['commits']} commits")
                if r["torn_reads"]:
                    notes.append(f"{r['torn_reads']} torn reads seen")
                if r.get("repeats"):
                    v = r["repeats"]["records_per_s"] if r["records"] else r["repeats"]["reads_per_s"]
                    notes.append(f"{len(v)} runs {si(min(v))}–{si(max(v))}")
                cpu = "{:.2f}/{}".format(r.get("writer_cpu_share", 0),
                                         "{:.2f}".format(r["reader_cpu_share"]) if r.get("reader_cpu_share") else "-")
                print("| {} | {} | {} | {} | {} | {} / {} | {} / {} / {} | {:.1f}% | {} | {} | {} | {} | {} |".format(
                    r["impl"], si(r["records_per_s"]), ratio(r["records_per_s"], base and base["records_per_s"]),
                    si(r["reads_per_s"]), ratio(r["reads_per_s"], base and base["reads_per_s"]),
                    ns(rl["p50"]), ns(rl["p99"]), ns(cl["p50"]), ns(cl["p99"]), ns(cl["p999"]),
                    100 * r["commit_wait_fraction"], cpu, f"{rss_live:.2f}" if rss_live else "-",
                    si(r["grace_periods"]), r["violations"] if r["invariant_checked"] else "n/a",
                    "; ".join(notes)))


if __name__ == "__main__":
    main()
