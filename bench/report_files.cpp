// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/report_files.cpp
//
// The result files: JSON (every field of every run, and what the run was:
// command, host, revision, configuration) and CSV (the main columns).
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/report.hpp"
#include "bench_version.h"
#include "nlohmann/json.hpp"
#include "rcustate/rcustate.h"

namespace rcsbench {
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
      {"writers_per_partition", r.writers_per_partition},
      {"reader_section_us", r.reader_section_us},
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
      {"backlog_publications", r.backlog_publications},
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
  if (r.ckpt_full + r.ckpt_incr > 0) {
    j["checkpoints"] = {
        {"full", {{"count", r.ckpt_full}, {"bytes", r.ckpt_full_bytes},
                  {"ms_mean", r.ckpt_full_ms_mean}, {"ms_max", r.ckpt_full_ms_max}}},
        {"incremental", {{"count", r.ckpt_incr}, {"bytes", r.ckpt_incr_bytes},
                         {"entries", r.ckpt_incr_entries}, {"ms_mean", r.ckpt_incr_ms_mean},
                         {"ms_max", r.ckpt_incr_ms_max}}}};
  }
  if (r.changelog_records > 0) {
    j["changelog"] = {{"records", r.changelog_records}, {"bytes", r.changelog_bytes}};
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

// A text field as RFC 4180 has it: quoted, quotes doubled (commas, quotes
// and line breaks then stay inside the field).
std::string CsvField(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
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
      {"library_version", absl::StrFormat("%d.%d.%d", RCS_VERSION_MAJOR, RCS_VERSION_MINOR,
                                          RCS_VERSION_PATCH)},
      {"build_type", RCSBENCH_BUILDTYPE},
#ifdef NDEBUG
      {"assertions", false},
#else
      {"assertions", true},
#endif
      {"reader_tls", RCSBENCH_TLS},
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
    f << absl::StrFormat(
        "%s,%s,%d,%d,%d,%d,%d,%d,%s,%.3f,%.1f,%.1f,%.1f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.4f,%d,%d,%d,"
        "%d,%d,%d,%d,%d,%d,%d,%.1f,%.3f,%.3f,%s\n",
        CsvField(r.scenario), CsvField(r.impl), r.skipped, r.keys, r.batch, r.readers, r.writers,
        r.partitions, CsvField(r.dist),
        r.seconds, r.records_per_s, r.reads_per_s, r.commits_per_s, r.read_p50_ns, r.read_p99_ns,
        r.read_p999_ns, r.commit_p50_ns, r.commit_p99_ns, r.commit_p999_ns, r.commit_wait_frac,
        r.grace_periods, r.async_reclaims, r.publications, r.rss_peak, r.rss_end, r.rss_pinned,
        r.live_bytes, r.impl_bytes, r.violations, r.torn_reads, r.reads_alone_per_s, r.isolation,
        r.partition_scaling, CsvField(r.note));
  }
  return static_cast<bool>(f);
}

}  // namespace rcsbench
