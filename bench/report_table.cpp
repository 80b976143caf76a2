// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/report_table.cpp
//
// The table rcustate-bench prints: one line per run, grouped by scenario and
// point, with ratios against the baseline of the same point.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/report.hpp"

namespace rcsbench {
namespace {

// The parameters that make results comparable: one table group per key.
std::string GroupKey(const RunResult& r) {
  return absl::StrFormat("%s/%d/%d/%s/%d/%d/%d/%g", r.scenario, r.keys, r.batch, r.dist,
                         r.partitions, r.writers, r.writers_per_partition, r.reader_section_us);
}

std::string Si(double v) {
  if (v <= 0) return "-";
  if (v >= 1e9) return absl::StrFormat("%.2fG", v / 1e9);
  if (v >= 1e6) return absl::StrFormat("%.2fM", v / 1e6);
  if (v >= 1e3) return absl::StrFormat("%.1fk", v / 1e3);
  return absl::StrFormat("%.0f", v);
}

std::string Ns(double ns) {
  if (ns <= 0) return "-";
  if (ns >= 1e9) return absl::StrFormat("%.1fs", ns / 1e9);
  if (ns >= 1e6) return absl::StrFormat("%.1fms", ns / 1e6);
  if (ns >= 1e4) return absl::StrFormat("%.0fus", ns / 1e3);
  if (ns >= 1e3) return absl::StrFormat("%.1fus", ns / 1e3);
  return absl::StrFormat("%.0fns", ns);
}

std::string Mb(uint64_t bytes) {
  if (bytes == 0) return "-";
  return absl::StrFormat("%.0fM", static_cast<double>(bytes) / 1048576.0);
}

std::string Ratio(double v, double base) {
  if (v <= 0 || base <= 0) return "-";
  const double r = v / base;
  if (r >= 100) return absl::StrFormat("%.0fx", r);
  if (r >= 0.01) return absl::StrFormat("%.2fx", r);
  return absl::StrFormat("%.1ex", r);
}

std::string Extra(const RunResult& r) {
  std::vector<std::string> parts;
  if (r.skipped) return r.note;
  if (r.scenario == "lookup" && r.reads_alone_per_s > 0) {
    parts.push_back(absl::StrFormat(
        "isolation %.2f (alone %s/s; per reader CPU-s %.2f; reader CPU %.2f alone, %.2f with writer)",
        r.isolation, Si(r.reads_alone_per_s), r.isolation_per_cpu, r.reader_cpu_share_alone,
        r.reader_cpu_share));
  }
  if (r.scenario == "partitions") {
    parts.push_back(absl::StrFormat("vs 1 partition %.2f (%s/s)", r.partition_scaling,
                                    Si(r.ref_records_per_s)));
  }
  if (r.scenario == "pinscan" && r.pins > 0) {
    parts.push_back(absl::StrFormat("pins %d, scan %.2fms, pinned RSS %s (%.2fx live)", r.pins,
                                    r.scan_ms, Mb(r.rss_pinned),
                                    r.live_bytes ? static_cast<double>(r.rss_pinned) /
                                                       static_cast<double>(r.live_bytes)
                                                 : 0.0));
  }
  if (r.ckpt_full + r.ckpt_incr > 0) {
    parts.push_back(absl::StrFormat("ckpt full %d (%s, %.0fms), incr %d (%s, %.0fms)", r.ckpt_full,
                                    Mb(r.ckpt_full_bytes), r.ckpt_full_ms_mean,
                                    r.ckpt_incr, Mb(r.ckpt_incr_bytes), r.ckpt_incr_ms_mean));
  }
  if (r.changelog_records > 0) {
    parts.push_back(absl::StrFormat("changelog %d records, %s", r.changelog_records,
                                    Mb(r.changelog_bytes)));
  }
  if (r.writers_per_partition > 1) {
    parts.push_back(absl::StrFormat("%d writers per partition: %s commits/s",
                                    r.writers_per_partition, Si(r.commits_per_s)));
  }
  if (r.reader_section_us > 0) {
    parts.push_back(absl::StrFormat("read sections held %s", Ns(r.reader_section_us * 1e3)));
  }
  if (r.scenario == "window") parts.push_back(absl::StrFormat("windows %d", r.windows_closed));
  if (r.torn_reads > 0) parts.push_back(absl::StrFormat("torn %d", r.torn_reads));
  if (r.standby_copies > 0) parts.push_back(absl::StrFormat("standby copies %d", r.standby_copies));
  if (r.catch_ups > 0) parts.push_back(absl::StrFormat("%d catch-ups off the commit path", r.catch_ups));
  if (r.publications > 0 && r.publications < r.commits) {
    parts.push_back(absl::StrFormat("published %d of %d commits", r.publications, r.commits));
  }
  if (r.backlog_publications > 0) {
    parts.push_back(absl::StrFormat("%d commits past the backlog bound", r.backlog_publications));
  }
  if (r.rep_records_per_s.size() > 1) {
    const bool rec = r.records > 0;
    const auto& v = rec ? r.rep_records_per_s : r.rep_reads_per_s;
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    parts.push_back(absl::StrFormat("median of %d (%s/s %s..%s)", v.size(), rec ? "rec" : "reads",
                                    Si(*lo), Si(*hi)));
  }
  if (!r.note.empty()) parts.push_back(r.note);
  return absl::StrJoin(parts, "; ");
}

}  // namespace

const RunResult* FindRun(const std::vector<RunResult>& results, const RunResult& like,
                      const std::string& impl) {
  for (const RunResult& r : results) {
    if (r.impl == impl && r.scenario == like.scenario && r.keys == like.keys &&
        r.batch == like.batch && r.dist == like.dist && r.partitions == like.partitions &&
        r.writers_per_partition == like.writers_per_partition &&
        r.reader_section_us == like.reader_section_us && !r.skipped) {
      return &r;
    }
  }
  return nullptr;
}

namespace {

// Breaks `text` into lines of at most `width` characters (at spaces), each
// indented by `indent` spaces.
std::string Wrap(const std::string& text, size_t indent, size_t width) {
  std::string out, line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      out += std::string(indent, ' ') + line + "\n";
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += std::string(word);
  }
  if (!line.empty()) out += std::string(indent, ' ') + line + "\n";
  return out;
}

// The default table: the columns a reader compares, within 120 columns;
// the notes go below each line, wrapped.
void PrintNarrow(std::FILE* out, const std::vector<RunResult>& results,
                 const std::string& baseline) {
  const std::string x = absl::StrCat("x", baseline.substr(0, 6));
  const std::string hdr =
      absl::StrFormat("%-10s %-12s %9s %7s %9s %7s %8s %8s %8s %6s %4s", "scenario", "impl",
                      "records/s", x, "reads/s", x, "read p99", "cmt p50", "cmt p99", "RSS/lv",
                      "viol");
  std::fprintf(out, "%s\n%s\n", hdr.c_str(), std::string(hdr.size(), '-').c_str());
  std::string last_group;
  for (const RunResult& r : results) {
    const std::string group = GroupKey(r);
    if (group != last_group) {
      std::fprintf(out, "%s[%s: keys=%d batch=%d dist=%s partitions=%d writers=%d readers=%d]\n",
                   last_group.empty() ? "" : "\n", r.scenario.c_str(),
                   static_cast<int>(r.keys), static_cast<int>(r.batch), r.dist.c_str(),
                   static_cast<int>(r.partitions), static_cast<int>(r.writers),
                   static_cast<int>(r.readers));
    }
    last_group = group;
    if (r.skipped) {
      std::fprintf(out, "%-10s %-12s skipped\n%s", r.scenario.c_str(), r.impl.c_str(),
                   Wrap(r.note, 11, 120).c_str());
      continue;
    }
    const RunResult* base = FindRun(results, r, baseline);
    const double rss_live = r.live_bytes ? static_cast<double>(r.rss_peak) /
                                               static_cast<double>(r.live_bytes)
                                         : 0.0;
    std::fprintf(
        out, "%-10s %-12s %9s %7s %9s %7s %8s %8s %8s %6s %4s\n", r.scenario.c_str(),
        r.impl.c_str(), Si(r.records_per_s).c_str(),
        base ? Ratio(r.records_per_s, base->records_per_s).c_str() : "-",
        Si(r.reads_per_s).c_str(), base ? Ratio(r.reads_per_s, base->reads_per_s).c_str() : "-",
        r.read_samples == 0 ? "-" : Ns(r.read_p99_ns).c_str(), Ns(r.commit_p50_ns).c_str(),
        Ns(r.commit_p99_ns).c_str(), rss_live > 0 ? absl::StrFormat("%.2f", rss_live).c_str() : "-",
        r.invariant_checked ? absl::StrFormat("%d", r.violations).c_str() : "n/a");
    const std::string extra = Extra(r);
    if (!extra.empty()) std::fprintf(out, "%s", Wrap(extra, 11, 120).c_str());
  }
  std::fflush(out);
}

}  // namespace

void PrintTable(std::FILE* out, const std::vector<RunResult>& results, const std::string& baseline,
                bool wide) {
  if (!wide) {
    PrintNarrow(out, results, baseline);
    return;
  }
  const std::string hdr = absl::StrFormat(
      "%-10s %-11s %9s %8s %9s %8s  %-22s %-22s %6s %9s %7s %7s %6s %7s %4s  %s", "scenario", "impl",
      "records/s", absl::StrCat("x", baseline.substr(0, 7)), "reads/s",
      absl::StrCat("x", baseline.substr(0, 7)),
      "read p50/p99/p999", "commit p50/p99/p999", "wait%", "CPU w/r", "peakRSS", "live", "RSS/lv",
      "syncGPs", "viol", "notes");
  std::fprintf(out, "%s\n%s\n", hdr.c_str(), std::string(hdr.size() + 10, '-').c_str());
  std::string last_group;
  for (const RunResult& r : results) {
    const std::string group = GroupKey(r);
    if (group != last_group) {
      std::fprintf(out, "%s", absl::StrFormat(
                                  "%s[%s: keys=%d batch=%d dist=%s partitions=%d writers=%d "
                                  "readers=%d]\n",
                                  last_group.empty() ? "" : "\n", r.scenario, r.keys, r.batch,
                                  r.dist, r.partitions, r.writers, r.readers)
                                  .c_str());
    }
    last_group = group;
    if (r.skipped) {
      std::fprintf(out, "%-10s %-11s %s\n", r.scenario.c_str(), r.impl.c_str(), r.note.c_str());
      continue;
    }
    const RunResult* base = FindRun(results, r, baseline);
    const std::string read_lat = r.read_samples == 0
                                     ? "-"
                                     : absl::StrFormat("%s/%s/%s", Ns(r.read_p50_ns),
                                                       Ns(r.read_p99_ns), Ns(r.read_p999_ns));
    const std::string commit_lat = absl::StrFormat("%s/%s/%s", Ns(r.commit_p50_ns),
                                                   Ns(r.commit_p99_ns), Ns(r.commit_p999_ns));
    const double rss_live = r.live_bytes ? static_cast<double>(r.rss_peak) /
                                               static_cast<double>(r.live_bytes)
                                         : 0.0;
    std::fprintf(
        out, "%-10s %-11s %9s %8s %9s %8s  %-22s %-22s %5.1f%% %9s %7s %7s %6s %7s %4s  %s\n",
        r.scenario.c_str(), r.impl.c_str(), Si(r.records_per_s).c_str(),
        base ? Ratio(r.records_per_s, base->records_per_s).c_str() : "-", Si(r.reads_per_s).c_str(),
        base ? Ratio(r.reads_per_s, base->reads_per_s).c_str() : "-", read_lat.c_str(),
        commit_lat.c_str(), 100.0 * r.commit_wait_frac,
        absl::StrFormat("%.2f/%s", r.writer_cpu_share,
                        r.reader_cpu_share > 0 ? absl::StrFormat("%.2f", r.reader_cpu_share) : "-")
            .c_str(),
        Mb(r.rss_peak).c_str(),
        Mb(r.live_bytes).c_str(), rss_live > 0 ? absl::StrFormat("%.2f", rss_live).c_str() : "-",
        Si(static_cast<double>(r.grace_periods)).c_str(),
        r.invariant_checked ? absl::StrFormat("%d", r.violations).c_str() : "n/a",
        Extra(r).c_str());
  }
  std::fflush(out);
}

}  // namespace rcsbench
