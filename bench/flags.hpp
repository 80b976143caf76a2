// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/flags.hpp
//
// The command line of rcustate-bench, parsed and validated once: Options
// holds everything main.cpp and run_all.cpp need, so no other file reads a
// flag. A bad flag ends the process with status 2 (Usage).
#ifndef RCUSTATE_BENCH_FLAGS_HPP_
#define RCUSTATE_BENCH_FLAGS_HPP_

#include <cstdint>
#include <string>
#include <vector>

#include "bench/config.hpp"

namespace rcsbench {

struct Options {
  std::string command_line;            // argv joined, for the JSON file
  bool smoke = false;                  // --smoke: tiny sizes, every scenario and implementation
  Config base;                         // the flags' values; scenario defaults not yet applied
  std::vector<std::string> scenarios;  // in the order given
  std::vector<std::string> impls;      // in the order given
  std::string baseline;                // implementation the ratio columns compare with
  uint32_t repeat = 1;                 // runs per implementation (the median is reported)
  std::string sweep_param;             // "" (one point), "keys" or "batch"
  std::vector<double> sweep_values;    // {0} without --sweep
  std::string json, csv, plot;         // output files ("" = none)
  bool wide = false;                   // every column of the table
};

// Parses argv (absl flags) into Options; exits with status 2 on a bad flag.
Options ParseFlags(int argc, char** argv);

// `base` with the defaults of `scenario` filled in (partitions, reads per
// section); exits with status 2 if the combination is invalid.
Config ForScenario(Config base, const std::string& scenario, bool smoke);

// Prints "rcustate-bench: <msg> (see --help)" and exits with status 2.
[[noreturn]] void Usage(const std::string& msg);

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_FLAGS_HPP_
