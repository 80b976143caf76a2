// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/runners.hpp
//
// One entry point per implementation: runs Config::scenario against it. Each
// is compiled in its own translation unit (run_<impl>.cpp), where the
// scenario templates are instantiated for that implementation.
#ifndef RCUSTATE_BENCH_RUNNERS_HPP_
#define RCUSTATE_BENCH_RUNNERS_HPP_

#include <string_view>
#include <vector>

#include "bench/config.hpp"
#include "bench/workload.hpp"

namespace rcsbench {

using RunFn = RunResult (*)(const Config&, const Workload&);

RunResult RunRcuState(const Config& cfg, const Workload& wl);  // rcustate and rcustate-gc
RunResult RunRcuStateC(const Config& cfg, const Workload& wl);  // rcustate-c: the C ABI only
RunResult RunLocked(const Config& cfg, const Workload& wl);
RunResult RunCopy(const Config& cfg, const Workload& wl);
RunResult RunLrSync(const Config& cfg, const Workload& wl);
RunResult RunLfht(const Config& cfg, const Workload& wl);
RunResult RunRaw(const Config& cfg, const Workload& wl);

struct ImplEntry {
  std::string_view name;
  RunFn run;
  std::string_view what;
  // Part of --impls=all. The durability variants are not: they write files
  // and answer another question (what durability costs rcustate); --smoke
  // and naming them run them.
  bool in_all = true;
  // Several writer threads may commit to one partition
  // (--writers_per_partition > 1; the others are skipped then).
  bool shared_partitions = false;
};
// Every implementation, in the order the table lists them.
const std::vector<ImplEntry>& Implementations();
// The implementation called `name` (a harness bug if there is none).
const ImplEntry& FindImplementation(std::string_view name);

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_RUNNERS_HPP_
