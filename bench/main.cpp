// SPDX-License-Identifier: LGPL-2.1-or-later
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
// Exit status: 0; 1 if any invariant was violated, an output file could not
// be written or (with --smoke) an implementation did not run; 2 on bad flags.
//
// The parts: flags.cpp (flags -> Options), run_all.cpp (the runs),
// runners.hpp (the implementations), driver.hpp (one run), scenario_*.hpp
// (the scenarios), report.hpp (table, JSON, CSV, plots).
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench/config.hpp"
#include "bench/flags.hpp"
#include "bench/report.hpp"
#include "bench/run_all.hpp"

namespace rcsbench {
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

// The table on stdout, then the files the options ask for. Returns 1 if a
// file could not be written.
int Report(const Options& opt, const RunInfo& info, const std::vector<RunResult>& results) {
  std::printf("\n%u cpus, load average %.2f at start, %.2f at end (other processes compete for the "
              "cores: compare ratios within one run)\n",
              std::thread::hardware_concurrency(), info.load_start, info.load_end);
  PrintTable(stdout, results, opt.baseline, opt.wide);
  int rc = 0;
  if (!opt.json.empty() && !WriteJson(opt.json, info, results)) {
    std::fprintf(stderr, "rcustate-bench: cannot write %s\n", opt.json.c_str());
    rc = 1;
  }
  if (!opt.csv.empty() && !WriteCsv(opt.csv, results)) {
    std::fprintf(stderr, "rcustate-bench: cannot write %s\n", opt.csv.c_str());
    rc = 1;
  }
  if (!opt.plot.empty()) {
    bool failed = false;
    if (opt.sweep_param.empty()) {
      if (PlotComparison(opt.plot, results, opt.baseline)) {
        std::printf("plot: %s\n", opt.plot.c_str());
      } else {
        failed = true;
      }
    } else {
      for (const std::string& f : PlotSweep(opt.plot, opt.sweep_param, results, &failed)) {
        std::printf("plot: %s\n", f.c_str());
      }
    }
    if (failed) {
      std::fprintf(stderr, "rcustate-bench: cannot draw %s\n", opt.plot.c_str());
      rc = 1;
    }
  }
  return rc;
}

// Returns 1 (and says so) if any run violated an invariant.
int CheckViolations(const std::vector<RunResult>& results) {
  uint64_t violations = 0;
  for (const RunResult& r : results) violations += r.violations;
  if (violations == 0) return 0;
  std::fprintf(stderr, "rcustate-bench: %lu invariant violations\n",
               static_cast<unsigned long>(violations));
  return 1;
}

// --smoke: every implementation must have run every scenario and done work.
// Returns 1 if one did not; prints the verdict, which includes `rc` (the
// status so far).
int CheckSmoke(const std::vector<RunResult>& results, int rc) {
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
  return rc;
}

}  // namespace
}  // namespace rcsbench

int main(int argc, char** argv) {
  using namespace rcsbench;
  const Options opt = ParseFlags(argc, argv);
  const double load_start = LoadAverage();
  const std::vector<RunResult> results = RunAll(opt);
  const RunInfo info{opt.command_line, opt.baseline, opt.sweep_param, opt.base,
                     load_start,       LoadAverage()};
  int rc = Report(opt, info, results);
  if (CheckViolations(results) != 0) rc = 1;
  if (opt.smoke) rc = CheckSmoke(results, rc);
  return rc;
}
