// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/run_all.hpp
//
// RunAll: every run the options ask for, in order: for each sweep point, each
// scenario (with --smoke also groupby under zipf:0.99), each implementation
// (--repeat times, interleaved, the median kept), each on a thread of its
// own. Workloads are generated once per shape and shared by every
// implementation.
#ifndef RCUSTATE_BENCH_RUN_ALL_HPP_
#define RCUSTATE_BENCH_RUN_ALL_HPP_

#include <vector>

#include "bench/config.hpp"
#include "bench/flags.hpp"

namespace rcsbench {

std::vector<RunResult> RunAll(const Options& opt);

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_RUN_ALL_HPP_
