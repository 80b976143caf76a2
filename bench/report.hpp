// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/report.hpp
//
// Output of the harness: the final table (with a ratio column against a
// chosen baseline implementation measured in the same run; report_table.cpp),
// JSON and CSV files (report_files.cpp), and PNG plots drawn by gnuplot
// (report_plot.cpp).
#ifndef RCUSTATE_BENCH_REPORT_HPP_
#define RCUSTATE_BENCH_REPORT_HPP_

#include <cstdio>
#include <string>
#include <vector>

#include "bench/config.hpp"

namespace rcsbench {

// What the run was: printed into JSON so a result file explains itself.
struct RunInfo {
  std::string command_line;
  std::string baseline;
  std::string sweep;  // "" or "keys" / "batch"
  Config config;      // the flags' values (scenario and impl are per run)
  double load_start = 0, load_end = 0;  // 1-minute load average
};

// The run of `impl` at the same point (scenario, keys, batch, dist,
// partitions) as `like`, not skipped; nullptr if there is none.
const RunResult* FindRun(const std::vector<RunResult>& results, const RunResult& like,
                         const std::string& impl);

// The table of results: by default the main columns within 120 columns
// (notes wrapped below each line); `wide`: every column on one line.
void PrintTable(std::FILE* out, const std::vector<RunResult>& results, const std::string& baseline,
                bool wide);
bool WriteJson(const std::string& path, const RunInfo& info, const std::vector<RunResult>& results);
bool WriteCsv(const std::string& path, const std::vector<RunResult>& results);
// One row per scenario: throughput relative to the baseline, p99 commit
// and read latency, peak RSS / live data (log scales, one y-range per kind
// of panel). Needs gnuplot; false if it failed.
bool PlotComparison(const std::string& png, const std::vector<RunResult>& results,
                    const std::string& baseline);
// One PNG per scenario, `<prefix>_<scenario>.png`: records/s and reads/s
// against the swept parameter ("keys" or "batch"), one line per
// implementation. Returns the files written; sets *failed if one could not
// be drawn.
std::vector<std::string> PlotSweep(const std::string& prefix, const std::string& param,
                                   const std::vector<RunResult>& results, bool* failed);

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_REPORT_HPP_
