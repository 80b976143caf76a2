// File: bench/main.cpp
//
// rcustate-bench: runs stream-shaped scenarios against rcustate and the
// baselines, one implementation after another in the same process, and
// prints one table whose ratio column compares each implementation with a
// baseline measured in the same run.
//
//   rcustate-bench                                  # groupby, window, lookup; all implementations
//   rcustate-bench --scenarios=groupby --keys=1e6 --batch=100 --dist=zipf:0.99
//   rcustate-bench --sweep=keys:1e3,1e4,1e5,1e6 --scenarios=groupby --plot=results/sweep.png
//   rcustate-bench --smoke                          # tiny sizes, every scenario and implementation
//
// Exit status: 0, or 1 if any invariant was violated (or, with --smoke, an
// implementation did not run), 2 on bad flags.
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "bench/config.hpp"
#include "bench/report.hpp"
#include "bench/runners.hpp"
#include "bench/workload.hpp"

ABSL_FLAG(std::string, scenarios, "groupby,window,lookup",
          "comma-separated: groupby, window, lookup, pinscan, partitions (or 'all')");
ABSL_FLAG(std::string, impls, "all",
          "comma-separated implementations (rcustate, rcustate-gc, locked, copy, lr-sync, lfht, "
          "raw) or 'all'");
ABSL_FLAG(std::string, baseline, "lr-sync", "implementation the ratio columns compare with");
ABSL_FLAG(double, keys, 1e5, "distinct keys, all partitions together (window: see --groups1/2)");
ABSL_FLAG(uint32_t, batch, 1000, "records per commit");
ABSL_FLAG(std::string, dist, "uniform", "key distribution: uniform or zipf:THETA (0 < THETA < 1)");
ABSL_FLAG(uint32_t, readers, 1, "reader threads");
ABSL_FLAG(uint32_t, writers, 1, "writer threads (each owns its partitions)");
ABSL_FLAG(uint32_t, partitions, 0,
          "partitions; 0 = the scenario's default (partitions: 64, window: --writers, else 1)");
ABSL_FLAG(uint32_t, value_size, 8, "lookup: bytes per value");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(2), "timed phase of each run");
ABSL_FLAG(bool, prefill, true, "insert every key before the timed phase (steady state)");
ABSL_FLAG(uint32_t, inv_keys, 4, "K: keys per table of the batch-atomicity invariant (<= 64)");
ABSL_FLAG(uint32_t, reads_per_section, 0,
          "point lookups per read section; 0 = scenario default (groupby 4, lookup 1)");
ABSL_FLAG(double, write_rate, 0, "lookup: writer records/s, 0 = full speed");
ABSL_FLAG(double, lookup_alone, 0.5,
          "lookup: readers-only phase before the writer starts, as a fraction of --duration "
          "(gives the isolation ratio); 0 = none");
ABSL_FLAG(uint32_t, groupby_aggs, 4, "groupby: aggregates per record, 1..4 (count, sum, min, max)");
ABSL_FLAG(uint32_t, groups1, 20, "window: distinct values of the first GROUP BY key");
ABSL_FLAG(uint32_t, groups2, 10, "window: distinct values of the second GROUP BY key");
ABSL_FLAG(double, window_records, 1e6, "window: records per one-minute window");
ABSL_FLAG(absl::Duration, pin_interval, absl::Seconds(1), "pinscan: time between pins");
ABSL_FLAG(absl::Duration, pin_hold, absl::Milliseconds(500), "pinscan: how long a pin is held");
ABSL_FLAG(uint32_t, ref_partitions, 1, "partitions: partition count of the reference run");
ABSL_FLAG(bool, ref_same_total, true,
          "partitions: the reference run keeps --keys (true: same total state, so its maps are "
          "P times larger) or has the partitioned run's keys per partition (false)");
ABSL_FLAG(absl::Duration, gc_delay, absl::Milliseconds(10),
          "rcustate-gc: StoreOptions::max_publish_delay");
ABSL_FLAG(std::string, rcustate_read, "reader",
          "how rcustate readers look keys up: reader (TableReader handles made once: "
          "ReadSection + TableReader::Find), snapshot (Store::Snapshot(p)->Table(t)->Find(key)) "
          "or get (Store::Get per lookup: successive Gets may see different versions, so the "
          "batch-atomicity checks of groupby/window/lookup report violations; for timing only)");
ABSL_FLAG(std::string, json, "", "write every result to this JSON file");
ABSL_FLAG(std::string, csv, "", "write every result to this CSV file");
ABSL_FLAG(std::string, plot, "",
          "write a PNG (gnuplot): the comparison chart, or with --sweep the prefix of one chart "
          "per scenario");
ABSL_FLAG(std::string, sweep, "",
          "keys:V1,V2,... or batch:V1,V2,...: run everything once per value");
ABSL_FLAG(bool, progress, true, "print a progress line while running (stderr)");
ABSL_FLAG(bool, smoke, false,
          "tiny sizes, every scenario and implementation for a fraction of a second; fails if an "
          "invariant breaks or an implementation does not run (asserts no timing)");
ABSL_FLAG(uint64_t, seed, 42, "workload seed");
ABSL_FLAG(double, records, 0,
          "stop each writer after this many timed records (0: run for --duration); with "
          "--readers=0 gives a fixed amount of work, e.g. for callgrind");
ABSL_FLAG(uint32_t, repeat, 1,
          "run every implementation N times, interleaved (impl A, B, ..., A, B, ...), and report "
          "the run with the median throughput (noisy machines); violations of any run count");

namespace rcsbench {

const std::vector<ImplEntry>& Implementations() {
  static const std::vector<ImplEntry> v = {
      {"rcustate", &RunRcuState, "the library, default policy (publish every commit)"},
      {"rcustate-gc", &RunRcuState, "the library, group commit (max_publish_delay = --gc_delay)"},
      {"locked", &RunLocked, "std::shared_mutex + absl::flat_hash_map, batch applied under the lock"},
      {"copy", &RunCopy, "whole map set copied per batch, rcu_assign_pointer, call_rcu free"},
      {"lr-sync", &RunLrSync, "two map sets, synchronize_rcu inline on every commit"},
      {"lfht", &RunLfht, "liburcu cds_lfht, per-key replace + call_rcu (no batch atomicity)"},
      {"raw", &RunRaw, "one thread, plain flat_hash_map, no synchronization"},
  };
  return v;
}

namespace {

// The 1-minute load average: other processes compete for the cores.
double LoadAverage() {
  double l = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1;
    std::fclose(f);
  }
  return l;
}

const std::vector<std::string> kAllScenarios = {"groupby", "window", "lookup", "pinscan",
                                                "partitions"};

[[noreturn]] void Usage(const std::string& msg) {
  std::fprintf(stderr, "rcustate-bench: %s (see --help)\n", msg.c_str());
  std::exit(2);
}

Distribution ParseDist(const std::string& s) {
  Distribution d;
  if (s == "uniform") return d;
  double theta = 0;
  if (s.rfind("zipf:", 0) == 0 && absl::SimpleAtod(s.substr(5), &theta) && theta > 0 &&
      theta < 1) {
    d.zipf = true;
    d.theta = theta;
    return d;
  }
  Usage("bad --dist " + s);
}

std::vector<std::string> ParseList(const std::string& s, const std::vector<std::string>& all) {
  if (s == "all") return all;
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    std::string name(part);
    if (std::find(all.begin(), all.end(), name) == all.end()) Usage("unknown name " + name);
    out.push_back(name);
  }
  return out;
}

// The flags, as the base configuration of every run.
Config BaseConfig() {
  Config c;
  const double keys = absl::GetFlag(FLAGS_keys);
  if (!(keys >= 1 && keys < 4e9)) Usage("--keys must be in [1, 4e9)");
  c.keys = static_cast<uint64_t>(std::llround(keys));
  c.batch = absl::GetFlag(FLAGS_batch);
  c.dist = ParseDist(absl::GetFlag(FLAGS_dist));
  c.readers = absl::GetFlag(FLAGS_readers);
  c.writers = absl::GetFlag(FLAGS_writers);
  c.partitions = absl::GetFlag(FLAGS_partitions);
  c.value_size = absl::GetFlag(FLAGS_value_size);
  c.duration = absl::GetFlag(FLAGS_duration);
  c.prefill = absl::GetFlag(FLAGS_prefill);
  c.inv_keys = absl::GetFlag(FLAGS_inv_keys);
  c.reads_per_section = absl::GetFlag(FLAGS_reads_per_section);
  c.write_rate = absl::GetFlag(FLAGS_write_rate);
  c.lookup_alone = absl::GetFlag(FLAGS_lookup_alone);
  c.groupby_aggs = absl::GetFlag(FLAGS_groupby_aggs);
  c.groups1 = absl::GetFlag(FLAGS_groups1);
  c.groups2 = absl::GetFlag(FLAGS_groups2);
  c.window_records = static_cast<uint64_t>(std::llround(absl::GetFlag(FLAGS_window_records)));
  c.pin_interval = absl::GetFlag(FLAGS_pin_interval);
  c.pin_hold = absl::GetFlag(FLAGS_pin_hold);
  c.ref_partitions = absl::GetFlag(FLAGS_ref_partitions);
  c.ref_same_total = absl::GetFlag(FLAGS_ref_same_total);
  c.gc_delay = absl::GetFlag(FLAGS_gc_delay);
  c.rcustate_read = absl::GetFlag(FLAGS_rcustate_read);
  if (c.rcustate_read != "reader" && c.rcustate_read != "snapshot" && c.rcustate_read != "get") {
    Usage("--rcustate_read must be reader, snapshot or get");
  }
  c.progress = absl::GetFlag(FLAGS_progress);
  c.max_records = static_cast<uint64_t>(std::llround(absl::GetFlag(FLAGS_records)));
  c.seed = absl::GetFlag(FLAGS_seed);
  if (absl::GetFlag(FLAGS_smoke)) {
    c.keys = 2000;
    c.batch = 100;
    c.duration = absl::Milliseconds(150);
    c.window_records = 3000;
    c.pin_interval = absl::Milliseconds(30);
    c.pin_hold = absl::Milliseconds(20);
    c.progress = false;
  }
  if (c.batch == 0) Usage("--batch must be > 0");
  if (c.writers == 0) Usage("--writers must be > 0");
  if (c.inv_keys > 64) Usage("--inv_keys must be <= 64");
  if (c.groupby_aggs < 1 || c.groupby_aggs > 4) Usage("--groupby_aggs must be 1..4");
  if (c.groups1 == 0 || c.groups2 == 0) Usage("--groups1/2 must be > 0");
  if (c.window_records == 0) Usage("--window_records must be > 0");
  if (c.lookup_alone < 0 || c.lookup_alone > 10) Usage("--lookup_alone must be in [0, 10]");
  if (c.duration <= absl::ZeroDuration()) Usage("--duration must be > 0");
  if (c.ref_partitions == 0) Usage("--ref_partitions must be > 0");
  return c;
}

// Fills in the scenario's defaults.
Config ForScenario(Config c, const std::string& scenario) {
  c.scenario = scenario;
  if (c.partitions == 0) {
    c.partitions = scenario == "partitions" ? 64 : scenario == "window" ? c.writers : 1;
  }
  if (c.partitions < c.writers) Usage("--partitions must be >= --writers (one writer per partition)");
  if (scenario == "window" && c.partitions != c.writers) {
    Usage("window runs one partition per writer: leave --partitions at 0");
  }
  if (c.reads_per_section == 0) c.reads_per_section = scenario == "lookup" ? 1 : 4;
  if (scenario == "partitions" && absl::GetFlag(FLAGS_smoke)) c.partitions = 8;
  return c;
}

// Workloads are generated once per shape and shared by every implementation.
class Workloads {
 public:
  const Workload& For(const Config& c) {
    const bool window = c.scenario == "window";
    const std::string key =
        window ? absl::StrFormat("w/%d/%d/%s", c.groups1, c.groups2, c.dist.ToString())
               : absl::StrFormat("k/%d/%s", c.keys, c.dist.ToString());
    auto it = cache_.find(key);
    if (it != cache_.end()) return *it->second;
    std::unique_ptr<Workload> w =
        window ? std::make_unique<Workload>(
                     Workload::ForGroups(c.groups1, c.groups2, c.dist, c.readers, c.seed))
               : std::make_unique<Workload>(c.keys, c.dist, c.readers, c.seed);
    return *cache_.emplace(key, std::move(w)).first->second;
  }
  void Clear() { cache_.clear(); }

 private:
  std::map<std::string, std::unique_ptr<Workload>> cache_;
};

// Runs one implementation on a thread of its own (its threads, RCU
// registrations and teardown never touch the main thread).
RunResult RunOne(const ImplEntry& impl, Config cfg, const Workload& wl) {
  cfg.impl = std::string(impl.name);
  RunResult r;
  std::thread t([&] { r = impl.run(cfg, wl); });
  t.join();
  return r;
}

// The repetition with the median throughput (records/s, or reads/s when
// nothing was written), carrying every repetition's throughput and the
// violations of all of them.
RunResult Median(std::vector<RunResult> runs) {
  if (runs.size() == 1) return std::move(runs[0]);
  auto key = [](const RunResult& r) { return r.records > 0 ? r.records_per_s : r.reads_per_s; };
  std::vector<size_t> idx(runs.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return key(runs[a]) < key(runs[b]); });
  RunResult m = runs[idx[idx.size() / 2]];
  m.violations = 0;
  m.violation_examples.clear();
  for (const RunResult& r : runs) {
    m.rep_records_per_s.push_back(r.records_per_s);
    m.rep_reads_per_s.push_back(r.reads_per_s);
    m.violations += r.violations;
    for (const std::string& e : r.violation_examples) m.violation_examples.push_back(e);
  }
  return m;
}

}  // namespace
}  // namespace rcsbench

int main(int argc, char** argv) {
  using namespace rcsbench;
  absl::SetProgramUsageMessage(
      "rcustate-bench: stream-state benchmark and stress harness.\n"
      "  rcustate-bench [--scenarios=groupby,window,lookup] [--impls=all] [--keys=1e5] "
      "[--batch=1000] [--dist=uniform|zipf:0.99] [--json=FILE] [--csv=FILE] [--plot=FILE.png] "
      "[--sweep=keys:1e3,1e5]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) Usage(absl::StrFormat("unexpected argument %s", rest[1]));
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);

  const bool smoke = absl::GetFlag(FLAGS_smoke);
  const Config base = BaseConfig();
  std::vector<std::string> all_impls;
  for (const ImplEntry& e : Implementations()) all_impls.emplace_back(e.name);
  const std::vector<std::string> scenarios =
      ParseList(smoke ? "all" : absl::GetFlag(FLAGS_scenarios), kAllScenarios);
  const std::vector<std::string> impls =
      ParseList(smoke ? "all" : absl::GetFlag(FLAGS_impls), all_impls);
  const std::string baseline = absl::GetFlag(FLAGS_baseline);
  const uint32_t repeat = smoke ? 1 : std::max<uint32_t>(1, absl::GetFlag(FLAGS_repeat));

  // Sweep points: (parameter, values); without --sweep one point.
  std::string sweep_param;
  std::vector<double> sweep_values = {0};
  if (const std::string sw = absl::GetFlag(FLAGS_sweep); !sw.empty()) {
    std::vector<std::string> kv = absl::StrSplit(sw, absl::MaxSplits(':', 1));
    if (kv.size() != 2 || (kv[0] != "keys" && kv[0] != "batch")) Usage("bad --sweep " + sw);
    sweep_param = kv[0];
    sweep_values.clear();
    for (absl::string_view v : absl::StrSplit(kv[1], ',', absl::SkipEmpty())) {
      double d;
      if (!absl::SimpleAtod(v, &d) || d < 1) Usage("bad --sweep value " + std::string(v));
      sweep_values.push_back(d);
    }
    if (sweep_values.empty()) Usage("empty --sweep");
  }

  std::vector<RunResult> results;
  Workloads workloads;
  const double load_start = LoadAverage();
  for (double sv : sweep_values) {
    Config point = base;
    if (sweep_param == "keys") point.keys = static_cast<uint64_t>(std::llround(sv));
    if (sweep_param == "batch") point.batch = static_cast<uint32_t>(std::llround(sv));
    std::vector<std::pair<std::string, Distribution>> runs;
    for (const std::string& sc : scenarios) runs.emplace_back(sc, point.dist);
    if (smoke) runs.emplace_back("groupby", Distribution{true, 0.99});
    for (const auto& [sc, dist] : runs) {
      Config cfg = ForScenario(point, sc);
      cfg.dist = dist;
      const Workload& wl = workloads.For(cfg);
      std::vector<std::vector<RunResult>> reps(impls.size());
      for (uint32_t rep = 0; rep < repeat; ++rep) {
        for (size_t i = 0; i < impls.size(); ++i) {
          const std::string& name = impls[i];
          const ImplEntry& e = *std::find_if(Implementations().begin(), Implementations().end(),
                                             [&](const ImplEntry& x) { return x.name == name; });
          RunResult r = RunOne(e, cfg, wl);
          if (r.skipped && rep == 0) {
            std::fprintf(stderr, "%-10s %-12s %s\n", sc.c_str(), name.c_str(), r.note.c_str());
          }
          for (const std::string& v : r.violation_examples) {
            std::fprintf(stderr, "VIOLATION %s/%s: %s\n", sc.c_str(), name.c_str(), v.c_str());
          }
          reps[i].push_back(std::move(r));
        }
      }
      for (auto& runs : reps) results.push_back(Median(std::move(runs)));
    }
    workloads.Clear();
  }

  const double load_end = LoadAverage();
  std::printf("\n%u cpus, load average %.2f at start, %.2f at end (other processes compete for the "
              "cores: compare ratios within one run)\n",
              std::thread::hardware_concurrency(), load_start, load_end);
  PrintTable(stdout, results, baseline);

  RunInfo info{command_line, baseline, sweep_param, base, load_start, load_end};
  int rc = 0;
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    if (!WriteJson(path, info, results)) {
      std::fprintf(stderr, "rcustate-bench: cannot write %s\n", path.c_str());
      rc = 1;
    }
  }
  if (const std::string path = absl::GetFlag(FLAGS_csv); !path.empty()) {
    if (!WriteCsv(path, results)) {
      std::fprintf(stderr, "rcustate-bench: cannot write %s\n", path.c_str());
      rc = 1;
    }
  }
  if (const std::string path = absl::GetFlag(FLAGS_plot); !path.empty()) {
    if (sweep_param.empty()) {
      if (PlotComparison(path, results, baseline)) std::printf("plot: %s\n", path.c_str());
    } else {
      for (const std::string& f : PlotSweep(path, sweep_param, results)) {
        std::printf("plot: %s\n", f.c_str());
      }
    }
  }

  uint64_t violations = 0;
  for (const RunResult& r : results) violations += r.violations;
  if (violations > 0) {
    std::fprintf(stderr, "rcustate-bench: %lu invariant violations\n",
                 static_cast<unsigned long>(violations));
    rc = 1;
  }
  if (smoke) {
    // Every implementation must have run every scenario and done work.
    for (const RunResult& r : results) {
      std::string why;
      if (r.skipped) {
        why = r.note;
      } else if (r.records == 0 && !(r.scenario == "lookup" && r.impl == "raw")) {
        why = "no records written";
      } else if (r.reads == 0 && (r.readers > 0 || r.scenario == "lookup")) {
        why = "no reads";
      } else if (r.entries == 0) {
        why = "empty final state";
      } else if (r.scenario == "pinscan" && r.readers > 0 && r.pins == 0) {
        why = "no pin scan";
      }
      if (!why.empty()) {
        std::fprintf(stderr, "smoke: %s/%s did not run properly: %s\n", r.scenario.c_str(),
                     r.impl.c_str(), why.c_str());
        rc = 1;
      }
    }
    std::printf("smoke: %s (%zu runs)\n", rc == 0 ? "ok" : "FAILED", results.size());
  }
  return rc;
}
