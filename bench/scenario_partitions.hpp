// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/scenario_partitions.hpp
//
// `partitions`: groupby on --partitions partitions (64 by default), compared
// with a reference run of the same stream on --ref_partitions partitions, one
// after the other on the same implementation: partition_scaling is the
// partitioned run's records/s over the reference's.
#ifndef RCUSTATE_BENCH_SCENARIO_PARTITIONS_HPP_
#define RCUSTATE_BENCH_SCENARIO_PARTITIONS_HPP_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "bench/config.hpp"
#include "bench/driver.hpp"
#include "bench/scenario_groupby.hpp"
#include "bench/workload.hpp"

namespace rcsbench {

template <class Impl>
RunResult RunPartitions(const Config& cfg, const Workload& wl) {
  // The reference: the same stream on --ref_partitions partitions.
  Config ref = cfg;
  ref.partitions = cfg.ref_partitions;
  // Same total state (maps P times larger than in the partitioned run) or
  // the same state per partition (keys / P per partition, as in the
  // partitioned run): the first is what a user re-partitioning sees, the
  // second isolates the cost of many partitions.
  std::optional<Workload> small;
  if (!cfg.ref_same_total) {
    ref.keys = std::max<uint64_t>(1, wl.keys() / cfg.partitions) * cfg.ref_partitions;
    small.emplace(ref.keys, cfg.dist, std::max<uint32_t>(cfg.readers, 1), cfg.seed);
  }
  GroupBy ref_sc(ref);
  RunResult one = Drive<Impl>(ref, small ? *small : wl, ref_sc);
  GroupBy sc(cfg);
  RunResult r = Drive<Impl>(cfg, wl, sc);
  r.ref_records_per_s = one.records_per_s;
  if (one.records_per_s > 0) r.partition_scaling = r.records_per_s / one.records_per_s;
  r.violations += one.violations;
  for (auto& e : one.violation_examples) r.violation_examples.push_back(e);
  return r;
}

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_SCENARIO_PARTITIONS_HPP_
