// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/report_plot.cpp
//
// The PNG charts, drawn by gnuplot. The data goes into the script as inline
// data blocks and the script into gnuplot's standard input: nothing is
// written beside the PNG, and no path passes through a shell.
//
// The comparison chart has one row per scenario and three panels per row,
// each kind of panel with the same y-range in every row: throughput as a
// ratio to the baseline (records/s and reads/s), p99 latency (commit and
// read, microseconds) and peak memory (peak RSS / live data).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "bench/report.hpp"

namespace rcsbench {
namespace {

// A string literal for a gnuplot script (single quotes, '' inside).
std::string Quoted(const std::string& s) {
  return "'" + absl::StrReplaceAll(s, {{"'", "''"}}) + "'";
}

// Runs gnuplot with `script` on its standard input; false (and says why on
// stderr) if it cannot start or fails.
bool RunGnuplot(const std::string& script) {
  int in[2];
  if (pipe(in) != 0) return false;
  const pid_t pid = fork();
  if (pid < 0) {
    close(in[0]);
    close(in[1]);
    std::fprintf(stderr, "rcustate-bench: cannot start gnuplot: %s\n", std::strerror(errno));
    return false;
  }
  if (pid == 0) {
    dup2(in[0], 0);
    close(in[0]);
    close(in[1]);
    execlp("gnuplot", "gnuplot", static_cast<char*>(nullptr));
    std::fprintf(stderr, "rcustate-bench: cannot run gnuplot: %s\n", std::strerror(errno));
    _exit(127);
  }
  close(in[0]);
  // A gnuplot that exits early must not kill us with SIGPIPE.
  void (*old)(int) = std::signal(SIGPIPE, SIG_IGN);
  size_t done = 0;
  while (done < script.size()) {
    const ssize_t n = write(in[1], script.data() + done, script.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(in[1]);
  std::signal(SIGPIPE, old);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "rcustate-bench: gnuplot failed (status %d)\n", status);
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

std::string Num(double v) { return v > 0 && std::isfinite(v) ? absl::StrFormat("%.6g", v) : "NaN"; }

// The y-range of a log-scale panel that holds every positive value in
// `values` (a decade of room around them).
std::string LogRange(const std::vector<double>& values) {
  double lo = 0, hi = 0;
  for (double v : values) {
    if (!(v > 0) || !std::isfinite(v)) continue;
    lo = lo == 0 ? v : std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (hi == 0) return "[0.1:10]";
  return absl::StrFormat("[%.3g:%.3g]", std::pow(10, std::floor(std::log10(lo))),
                         std::pow(10, std::ceil(std::log10(hi)) + 0.01));
}

}  // namespace

bool PlotComparison(const std::string& png, const std::vector<RunResult>& results,
                    const std::string& baseline) {
  const std::vector<std::string> scenarios = Scenarios(results);
  if (scenarios.empty()) return false;
  // The data of every panel first, to give each kind of panel one y-range.
  struct Row {
    std::string impl;
    double rec_ratio, read_ratio, commit_p99_us, read_p99_us, memory;
  };
  std::map<std::string, std::vector<Row>> rows;
  std::vector<double> ratios, latencies, memories;
  for (const RunResult& r : results) {
    if (r.skipped) continue;
    const RunResult* b = FindRun(results, r, baseline);
    Row row{r.impl,
            b && b->records_per_s > 0 ? r.records_per_s / b->records_per_s : 0,
            b && b->reads_per_s > 0 ? r.reads_per_s / b->reads_per_s : 0,
            r.commit_p99_ns / 1e3,
            r.read_p99_ns / 1e3,
            r.live_bytes > 0 ? static_cast<double>(r.rss_peak) / r.live_bytes : 0};
    ratios.insert(ratios.end(), {row.rec_ratio, row.read_ratio});
    latencies.insert(latencies.end(), {row.commit_p99_us, row.read_p99_us});
    memories.push_back(row.memory);
    rows[r.scenario].push_back(row);
  }
  std::string script = absl::StrFormat(
      "set terminal pngcairo size 1500,%d noenhanced font ',10'\n"
      "set output %s\n",
      std::max<size_t>(420, 360 * scenarios.size()), Quoted(png));
  for (const std::string& sc : scenarios) {
    // Columns: impl, records/s and reads/s ratios, commit and read p99 (us),
    // peak RSS / live.
    script += absl::StrFormat("$%s << EOD\n", sc);
    for (const Row& row : rows[sc]) {
      script += absl::StrFormat("\"%s\" %s %s %s %s %s\n", row.impl, Num(row.rec_ratio),
                                Num(row.read_ratio), Num(row.commit_p99_us),
                                Num(row.read_p99_us), Num(row.memory));
    }
    script += "EOD\n";
  }
  script += absl::StrFormat(
      "set multiplot layout %d,3 title %s\n"
      "set style data histogram\nset style histogram clustered gap 1\n"
      "set style fill solid 0.8 border -1\nset logscale y\nset grid ytics\n"
      "set xtics rotate by 30 right\nset key above horizontal\n",
      scenarios.size(),
      Quoted("rcustate-bench: each implementation against " + baseline +
             " in the same run (log scales; throughput: higher is better; latency and memory: "
             "lower is better)"));
  const std::string ratio_range = LogRange(ratios), latency_range = LogRange(latencies),
                    memory_range = LogRange(memories);
  for (const std::string& sc : scenarios) {
    script += absl::StrFormat(
        "set title %s\nset ylabel %s\nset yrange %s\n"
        "plot $%s using 2:xtic(1) title 'records/s', '' using 3 title 'reads/s'\n",
        Quoted(sc + ": throughput"), Quoted("x " + baseline), ratio_range, sc);
    script += absl::StrFormat(
        "set title %s\nset ylabel 'microseconds'\nset yrange %s\n"
        "plot $%s using 4:xtic(1) title 'commit p99', '' using 5 title 'read p99'\n",
        Quoted(sc + ": p99 latency"), latency_range, sc);
    script += absl::StrFormat(
        "set title %s\nset ylabel 'peak RSS / live data'\nset yrange %s\n"
        "plot $%s using 6:xtic(1) title 'memory'\n",
        Quoted(sc + ": memory"), memory_range, sc);
  }
  script += "unset multiplot\n";
  return RunGnuplot(script);
}

std::vector<std::string> PlotSweep(const std::string& prefix, const std::string& param,
                                   const std::vector<RunResult>& results, bool* failed) {
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
    std::string script = absl::StrFormat(
        "set terminal pngcairo size 1100,460 noenhanced font ',10'\nset output %s\n", Quoted(png));
    for (size_t i = 0; i < order.size(); ++i) {
      script += absl::StrFormat("$d%d << EOD\n", i);
      for (const RunResult* r : by_impl[order[i]]) {
        const double x = param == "batch" ? r->batch : static_cast<double>(r->keys);
        script += absl::StrFormat("%.6g %s %s\n", x, Num(r->records_per_s), Num(r->reads_per_s));
      }
      script += "EOD\n";
    }
    script += absl::StrFormat(
        "set multiplot layout 1,2 title %s\n"
        "set logscale xy\nset grid\nset key outside right\nset xlabel %s\n",
        Quoted("rcustate-bench " + sc + ": sweep over " + param), Quoted(param));
    for (int col = 2; col <= 3; ++col) {
      script += absl::StrFormat("set ylabel '%s'\nplot ", col == 2 ? "records/s" : "reads/s");
      for (size_t i = 0; i < order.size(); ++i) {
        script += absl::StrFormat("%s$d%d using 1:%d with linespoints lw 2 title %s",
                                  i ? ", " : "", i, col, Quoted(order[i]));
      }
      script += "\n";
    }
    script += "unset multiplot\n";
    if (RunGnuplot(script)) {
      written.push_back(png);
    } else {
      *failed = true;
    }
  }
  return written;
}

}  // namespace rcsbench
