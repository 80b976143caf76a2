// File: bench/report_plot.cpp
//
// The PNG charts, drawn by gnuplot from data and script files written beside
// the PNG.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/report.hpp"

namespace rcsbench {
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
      const RunResult* b = FindRun(results, r, baseline);
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
