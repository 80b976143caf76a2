// File: bench/report.cpp
#include "bench/report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/runners.hpp"
#include "bench_version.h"
#include "nlohmann/json.hpp"

namespace rcsbench {
namespace {

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

const RunResult* Find(const std::vector<RunResult>& results, const RunResult& like,
                      const std::string& impl) {
  for (const RunResult& r : results) {
    if (r.impl == impl && r.scenario == like.scenario && r.keys == like.keys &&
        r.batch == like.batch && r.dist == like.dist && r.partitions == like.partitions &&
        !r.skipped) {
      return &r;
    }
  }
  return nullptr;
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
  if (r.scenario == "window") parts.push_back(absl::StrFormat("windows %d", r.windows_closed));
  if (r.torn_reads > 0) parts.push_back(absl::StrFormat("torn %d", r.torn_reads));
  if (r.standby_copies > 0) parts.push_back(absl::StrFormat("standby copies %d", r.standby_copies));
  if (r.catch_ups > 0) parts.push_back(absl::StrFormat("%d catch-ups off the commit path", r.catch_ups));
  if (r.publications > 0 && r.publications < r.commits) {
    parts.push_back(absl::StrFormat("published %d of %d commits", r.publications, r.commits));
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

void PrintTable(std::FILE* out, const std::vector<RunResult>& results, const std::string& baseline) {
  const std::string hdr = absl::StrFormat(
      "%-10s %-11s %9s %8s %9s %8s  %-22s %-22s %6s %9s %7s %7s %6s %7s %4s  %s", "scenario", "impl",
      "records/s", absl::StrCat("x", baseline.substr(0, 7)), "reads/s",
      absl::StrCat("x", baseline.substr(0, 7)),
      "read p50/p99/p999", "commit p50/p99/p999", "wait%", "CPU w/r", "peakRSS", "live", "RSS/lv",
      "syncGPs", "viol", "notes");
  std::fprintf(out, "%s\n%s\n", hdr.c_str(), std::string(hdr.size() + 10, '-').c_str());
  std::string last_group;
  for (const RunResult& r : results) {
    const std::string group = absl::StrFormat("%s/%d/%d/%s/%d", r.scenario, r.keys, r.batch,
                                              r.dist, r.partitions);
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
    const RunResult* base = Find(results, r, baseline);
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

namespace {

nlohmann::json ToJson(const RunResult& r) {
  nlohmann::json j = {
      {"scenario", r.scenario},
      {"impl", r.impl},
      {"skipped", r.skipped},
      {"note", r.note},
      {"keys", r.keys},
      {"batch", r.batch},
      {"readers", r.readers},
      {"writers", r.writers},
      {"partitions", r.partitions},
      {"dist", r.dist},
      {"seconds", r.seconds},
      {"records", r.records},
      {"commits", r.commits},
      {"reads", r.reads},
      {"read_sections", r.sections},
      {"records_per_s", r.records_per_s},
      {"reads_per_s", r.reads_per_s},
      {"commits_per_s", r.commits_per_s},
      {"read_latency_ns", {{"p50", r.read_p50_ns}, {"p99", r.read_p99_ns}, {"p999", r.read_p999_ns},
                           {"samples", r.read_samples}}},
      {"commit_latency_ns", {{"p50", r.commit_p50_ns}, {"p99", r.commit_p99_ns},
                             {"p999", r.commit_p999_ns}, {"max", r.commit_max_ns},
                             {"mean", r.commit_mean_ns}}},
      {"commit_wait_ns", r.commit_wait_ns},
      {"commit_wait_fraction", r.commit_wait_frac},
      {"grace_periods", r.grace_periods},
      {"async_reclaims", r.async_reclaims},
      {"publications", r.publications},
      {"standby_copies", r.standby_copies},
      {"catch_ups", r.catch_ups},
      {"rss_peak_bytes", r.rss_peak},
      {"rss_mid_bytes", r.rss_mid},
      {"rss_end_bytes", r.rss_end},
      {"rss_pinned_bytes", r.rss_pinned},
      {"live_bytes", r.live_bytes},
      {"impl_bytes", r.impl_bytes},
      {"entries", r.entries},
      {"violations", r.violations},
      {"invariant_checked", r.invariant_checked},
      {"violation_examples", r.violation_examples},
      {"torn_reads", r.torn_reads},
      {"records_per_cpu_s", r.records_per_cpu_s},
      {"reads_per_cpu_s", r.reads_per_cpu_s},
      {"writer_cpu_share", r.writer_cpu_share},
      {"reader_cpu_share", r.reader_cpu_share},
  };
  if (!r.rep_records_per_s.empty()) {
    j["repeats"] = {{"records_per_s", r.rep_records_per_s}, {"reads_per_s", r.rep_reads_per_s}};
  }
  if (r.scenario == "lookup") {
    j["reads_alone_per_s"] = r.reads_alone_per_s;
    j["isolation"] = r.isolation;
    j["isolation_per_cpu"] = r.isolation_per_cpu;
    j["reader_cpu_share_alone"] = r.reader_cpu_share_alone;
  }
  if (r.scenario == "partitions") {
    j["ref_records_per_s"] = r.ref_records_per_s;
    j["partition_scaling"] = r.partition_scaling;
  }
  if (r.scenario == "window") j["windows_closed"] = r.windows_closed;
  if (r.scenario == "pinscan") {
    j["pins"] = r.pins;
    j["scan_ms"] = r.scan_ms;
  }
  return j;
}

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

bool WriteJson(const std::string& path, const RunInfo& info, const std::vector<RunResult>& results) {
  struct utsname u;
  uname(&u);
  const Config& c = info.config;
  nlohmann::json meta = {
      {"command", info.command_line},
      {"date", absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone())},
      {"host", Hostname()},
      {"kernel", std::string(u.sysname) + " " + u.release},
      {"cpus", std::thread::hardware_concurrency()},
      {"compiler", __VERSION__},
      {"revision", RCSBENCH_REVISION},
      {"load_average", {info.load_start, info.load_end}},
      {"baseline", info.baseline},
      {"sweep", info.sweep},
      {"config",
       {{"keys", c.keys},
        {"batch", c.batch},
        {"dist", c.dist.ToString()},
        {"readers", c.readers},
        {"writers", c.writers},
        {"value_size", c.value_size},
        {"duration_s", absl::ToDoubleSeconds(c.duration)},
        {"prefill", c.prefill},
        {"inv_keys", c.inv_keys},
        {"write_rate", c.write_rate},
        {"lookup_alone", c.lookup_alone},
        {"groupby_aggs", c.groupby_aggs},
        {"groups", {c.groups1, c.groups2}},
        {"window_records", c.window_records},
        {"pin_interval_s", absl::ToDoubleSeconds(c.pin_interval)},
        {"pin_hold_s", absl::ToDoubleSeconds(c.pin_hold)},
        {"gc_delay_s", absl::ToDoubleSeconds(c.gc_delay)},
        {"rcustate_read", c.rcustate_read}}},
  };
  nlohmann::json runs = nlohmann::json::array();
  for (const RunResult& r : results) runs.push_back(ToJson(r));
  std::ofstream f(path);
  if (!f) return false;
  f << nlohmann::json{{"meta", meta}, {"runs", runs}}.dump(2) << "\n";
  return static_cast<bool>(f);
}

bool WriteCsv(const std::string& path, const std::vector<RunResult>& results) {
  std::ofstream f(path);
  if (!f) return false;
  f << "scenario,impl,skipped,keys,batch,readers,writers,partitions,dist,seconds,records_per_s,"
       "reads_per_s,commits_per_s,read_p50_ns,read_p99_ns,read_p999_ns,commit_p50_ns,"
       "commit_p99_ns,commit_p999_ns,commit_wait_fraction,grace_periods,async_reclaims,"
       "publications,rss_peak_bytes,rss_end_bytes,rss_pinned_bytes,live_bytes,impl_bytes,"
       "violations,torn_reads,reads_alone_per_s,isolation,partition_scaling,note\n";
  for (const RunResult& r : results) {
    std::string note = r.note;
    std::replace(note.begin(), note.end(), ',', ';');
    std::replace(note.begin(), note.end(), '"', '\'');
    f << absl::StrFormat(
        "%s,%s,%d,%d,%d,%d,%d,%d,%s,%.3f,%.1f,%.1f,%.1f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.4f,%d,%d,%d,"
        "%d,%d,%d,%d,%d,%d,%d,%.1f,%.3f,%.3f,\"%s\"\n",
        r.scenario, r.impl, r.skipped, r.keys, r.batch, r.readers, r.writers, r.partitions, r.dist,
        r.seconds, r.records_per_s, r.reads_per_s, r.commits_per_s, r.read_p50_ns, r.read_p99_ns,
        r.read_p999_ns, r.commit_p50_ns, r.commit_p99_ns, r.commit_p999_ns, r.commit_wait_frac,
        r.grace_periods, r.async_reclaims, r.publications, r.rss_peak, r.rss_end, r.rss_pinned,
        r.live_bytes, r.impl_bytes, r.violations, r.torn_reads, r.reads_alone_per_s, r.isolation,
        r.partition_scaling, note);
  }
  return static_cast<bool>(f);
}

namespace {

bool RunGnuplot(const std::string& script_path) {
  const std::string cmd = absl::StrFormat("gnuplot '%s' 2>&1", script_path);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  char buf[512];
  std::string output;
  while (std::fgets(buf, sizeof buf, p) != nullptr) output += buf;
  const int rc = pclose(p);
  if (rc != 0) {
    std::fprintf(stderr, "rcustate-bench: gnuplot failed (%d): %s\n", rc, output.c_str());
    return false;
  }
  return true;
}

std::string Stem(const std::string& png) {
  return png.size() > 4 && png.substr(png.size() - 4) == ".png" ? png.substr(0, png.size() - 4)
                                                                 : png;
}

std::vector<std::string> Scenarios(const std::vector<RunResult>& results) {
  std::vector<std::string> out;
  for (const RunResult& r : results) {
    if (std::find(out.begin(), out.end(), r.scenario) == out.end()) out.push_back(r.scenario);
  }
  return out;
}

}  // namespace

bool PlotComparison(const std::string& png, const std::vector<RunResult>& results,
                    const std::string& baseline) {
  const std::vector<std::string> scenarios = Scenarios(results);
  if (scenarios.empty()) return false;
  const std::string stem = Stem(png);
  std::string script = absl::StrFormat(
      "set terminal pngcairo size %d,520 noenhanced font ',10'\n"
      "set output '%s'\n"
      "set multiplot layout 1,%d title 'rcustate-bench: throughput relative to %s (same run; log "
      "scale)'\n"
      "set style data histogram\nset style histogram clustered gap 1\n"
      "set style fill solid 0.8 border -1\nset logscale y\nset grid ytics\n"
      "set xtics rotate by 30 right\nset key top left\nset yrange [*:*]\n",
      std::max<size_t>(560, 480 * scenarios.size()), png, scenarios.size(), baseline);
  for (const std::string& sc : scenarios) {
    const std::string dat = absl::StrFormat("%s_%s.dat", stem, sc);
    std::ofstream d(dat);
    d << "impl records_ratio reads_ratio\n";
    for (const RunResult& r : results) {
      if (r.scenario != sc || r.skipped) continue;
      const RunResult* b = Find(results, r, baseline);
      const double rec = b && b->records_per_s > 0 ? r.records_per_s / b->records_per_s : 0;
      const double rd = b && b->reads_per_s > 0 ? r.reads_per_s / b->reads_per_s : 0;
      auto num = [](double v) { return v > 0 ? absl::StrFormat("%.6g", v) : std::string("NaN"); };
      d << absl::StrFormat("%s %s %s\n", r.impl, num(rec), num(rd));
    }
    script += absl::StrFormat(
        "set title '%s'\nset ylabel 'x %s'\n"
        "plot '%s' using 2:xtic(1) title 'records/s', '' using 3 title 'reads/s'\n",
        sc, baseline, dat);
  }
  script += "unset multiplot\n";
  const std::string gp = stem + ".gp";
  std::ofstream(gp) << script;
  return RunGnuplot(gp);
}

std::vector<std::string> PlotSweep(const std::string& prefix, const std::string& param,
                                   const std::vector<RunResult>& results) {
  std::vector<std::string> written;
  const std::string stem = Stem(prefix);
  for (const std::string& sc : Scenarios(results)) {
    std::map<std::string, std::vector<const RunResult*>> by_impl;
    std::vector<std::string> order;
    for (const RunResult& r : results) {
      if (r.scenario != sc || r.skipped) continue;
      if (!by_impl.contains(r.impl)) order.push_back(r.impl);
      by_impl[r.impl].push_back(&r);
    }
    if (order.empty()) continue;
    const std::string png = absl::StrFormat("%s_%s.png", stem, sc);
    const std::string dat = absl::StrFormat("%s_%s.dat", stem, sc);
    std::ofstream d(dat);
    for (const std::string& impl : order) {
      d << "# " << impl << "\n";
      for (const RunResult* r : by_impl[impl]) {
        const double x = param == "batch" ? r->batch : static_cast<double>(r->keys);
        d << absl::StrFormat("%.6g %.6g %s\n", x, r->records_per_s,
                             r->reads_per_s > 0 ? absl::StrFormat("%.6g", r->reads_per_s)
                                                : std::string("NaN"));
      }
      d << "\n\n";
    }
    d.close();
    std::string script = absl::StrFormat(
        "set terminal pngcairo size 1100,460 noenhanced font ',10'\nset output '%s'\n"
        "set multiplot layout 1,2 title 'rcustate-bench %s: sweep over %s'\n"
        "set logscale xy\nset grid\nset key outside right\nset xlabel '%s'\n",
        png, sc, param, param);
    for (int col = 2; col <= 3; ++col) {
      script += absl::StrFormat("set ylabel '%s'\nplot ", col == 2 ? "records/s" : "reads/s");
      for (size_t i = 0; i < order.size(); ++i) {
        script += absl::StrFormat("%s'%s' index %d using 1:%d with linespoints lw 2 title '%s'",
                                  i ? ", " : "", dat, i, col, order[i]);
      }
      script += "\n";
    }
    script += "unset multiplot\n";
    const std::string gp = absl::StrFormat("%s_%s.gp", stem, sc);
    std::ofstream(gp) << script;
    if (RunGnuplot(gp)) written.push_back(png);
  }
  return written;
}

}  // namespace rcsbench
