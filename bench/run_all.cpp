// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/run_all.cpp
#include "bench/run_all.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "bench/config.hpp"
#include "bench/flags.hpp"
#include "bench/runners.hpp"
#include "bench/workload.hpp"

namespace rcsbench {
namespace {

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
  if (cfg.writers_per_partition > 1 && !impl.shared_partitions) {
    r = ResultFor(cfg, wl.keys());
    r.skipped = true;
    r.note = "skipped: one writer per partition only (--writers_per_partition)";
    return r;
  }
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

// Which run of how many is starting, and the time since the first (stderr;
// one line each, so that a long prefill is not silence).
struct Progress {
  bool on;
  size_t total;
  size_t done = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  void Starting(const std::string& scenario, const std::string& impl, uint32_t rep,
                uint32_t repeat) {
    ++done;
    if (!on) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string round = repeat > 1 ? absl::StrFormat(" (round %d of %d)", rep + 1, repeat) : "";
    std::fprintf(stderr, "[%zu/%zu] %s %s%s, %.0fs elapsed\n", done, total, scenario.c_str(),
                 impl.c_str(), round.c_str(), elapsed);
    std::fflush(stderr);
  }
};

// Every implementation on one scenario at one point, `repeat` times
// interleaved; reports skips and violations on stderr as they happen.
void RunImplementations(const Options& opt, const std::string& sc, const Config& cfg,
                        const Workload& wl, Progress& progress, std::vector<RunResult>* results) {
  std::vector<std::vector<RunResult>> reps(opt.impls.size());
  for (uint32_t rep = 0; rep < opt.repeat; ++rep) {
    for (size_t i = 0; i < opt.impls.size(); ++i) {
      const std::string& name = opt.impls[i];
      progress.Starting(sc, name, rep, opt.repeat);
      RunResult r = RunOne(FindImplementation(name), cfg, wl);
      if (r.skipped && rep == 0) {
        std::fprintf(stderr, "%-10s %-12s %s\n", sc.c_str(), name.c_str(), r.note.c_str());
      }
      for (const std::string& v : r.violation_examples) {
        std::fprintf(stderr, "VIOLATION %s/%s: %s\n", sc.c_str(), name.c_str(), v.c_str());
      }
      reps[i].push_back(std::move(r));
    }
  }
  for (auto& runs : reps) results->push_back(Median(std::move(runs)));
}

}  // namespace

std::vector<RunResult> RunAll(const Options& opt) {
  std::vector<RunResult> results;
  Workloads workloads;
  const size_t scenarios = opt.scenarios.size() + (opt.smoke ? 1 : 0);
  Progress progress{opt.base.progress,
                    opt.sweep_values.size() * scenarios * opt.impls.size() * opt.repeat};
  for (double sv : opt.sweep_values) {
    Config point = opt.base;
    if (opt.sweep_param == "keys") point.keys = static_cast<uint64_t>(std::llround(sv));
    if (opt.sweep_param == "batch") point.batch = static_cast<uint32_t>(std::llround(sv));
    std::vector<std::pair<std::string, Distribution>> runs;
    for (const std::string& sc : opt.scenarios) runs.emplace_back(sc, point.dist);
    if (opt.smoke) runs.emplace_back("groupby", Distribution{true, 0.99});
    for (const auto& [sc, dist] : runs) {
      Config cfg = ForScenario(point, sc, opt.smoke);
      cfg.dist = dist;
      RunImplementations(opt, sc, cfg, workloads.For(cfg), progress, &results);
    }
    if (opt.smoke) {
      // Three writers on one partition with held read sections, on the
      // implementations that allow several writers per partition.
      Options shared = opt;
      shared.impls.clear();
      for (const std::string& name : opt.impls) {
        if (FindImplementation(name).shared_partitions) shared.impls.push_back(name);
      }
      Config three = point;
      three.writers = 3;
      three.writers_per_partition = 3;
      three.reader_section = absl::Milliseconds(2);
      for (const std::string sc : {"groupby", "lookup"}) {
        Config cfg = ForScenario(three, sc, opt.smoke);
        RunImplementations(shared, sc, cfg, workloads.For(cfg), progress, &results);
      }
    }
    workloads.Clear();
  }
  return results;
}

}  // namespace rcsbench
