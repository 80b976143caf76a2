// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/scenarios.hpp
//
// RunScenario<Impl>: runs Config::scenario against Impl. Each scenario is a
// file of its own (scenario_<name>.hpp; what they share and the invariants
// they check: scenario_common.hpp). Included by run_<impl>.cpp, which
// instantiates every scenario for one implementation.
#ifndef RCUSTATE_BENCH_SCENARIOS_HPP_
#define RCUSTATE_BENCH_SCENARIOS_HPP_

#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/driver.hpp"
#include "bench/scenario_groupby.hpp"
#include "bench/scenario_lookup.hpp"
#include "bench/scenario_partitions.hpp"
#include "bench/scenario_pinscan.hpp"
#include "bench/scenario_window.hpp"
#include "bench/workload.hpp"

namespace rcsbench {

template <class Impl>
RunResult RunScenario(const Config& cfg, const Workload& wl) {
  if (cfg.scenario == "groupby") {
    GroupBy sc(cfg);
    return Drive<Impl>(cfg, wl, sc);
  }
  if (cfg.scenario == "pinscan") {
    PinScan sc(cfg);
    return Drive<Impl>(cfg, wl, sc);
  }
  if (cfg.scenario == "window") {
    Window sc(cfg);
    return Drive<Impl>(cfg, wl, sc);
  }
  if (cfg.scenario == "lookup") {
    Lookup sc(cfg);
    return Drive<Impl>(cfg, wl, sc);
  }
  if (cfg.scenario == "partitions") return RunPartitions<Impl>(cfg, wl);
  Die("unknown scenario " + cfg.scenario);
}

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_SCENARIOS_HPP_
