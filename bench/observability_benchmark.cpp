// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/observability_benchmark.cpp
//
// rcustate-observability: what the statistics cost (Google Benchmark).
//   commit             Put of one key + Commit on a store of one partition (default
//                      policy): the operation the commit-latency histogram times
//   commit_timing      what the statistics add to it: two steady_clock reads, one
//                      LatencyRecorder::Record (the library's own class) and the
//                      atomic addition to a store counter its publication makes
//   stats/N            Store::Stats() over N partitions of 100 keys each
//   metrics_text/N     Store::MetricsText() over N partitions (a scrape)
//   partition_stats    Store::Stats(p) of one partition, for comparison
//   commit_scraped/N/S a commit (as `commit`) on a store of N empty partitions while
//                      S threads scrape it in a loop (MetricsText); worst_us is the
//                      slowest commit: a scrape must not hold commits up for long
// The ratio that matters: commit_timing / commit (the histogram's share of a
// commit), and metrics_text/N per partition (the cost of a scrape).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/common.hpp"
#include "rcustate/rcustate.hpp"
#include "src/core/store_metrics.hpp"

namespace rcsbench {
namespace {

std::unique_ptr<rcustate::Store> OpenWith(int partitions, int keys = 100) {
  rcustate::StoreOptions o;
  o.tables = {{"t", nullptr, 0}, {"n", rcustate::AddInt64(), 0}};
  auto store = rcustate::Store::Open(o).value();
  for (int p = 0; p < partitions; ++p) {
    if (!store->CreatePartition(p).ok()) Die("CreatePartition");
    for (int k = 0; k < keys; ++k) {
      if (!store->Put(p, 0, "key-" + std::to_string(k), "value").ok()) Die("Put");
    }
    if (!store->Commit(p).ok()) Die("Commit");
  }
  return store;
}

void BM_commit(benchmark::State& state) {
  auto store = OpenWith(1);
  uint64_t i = 0;
  for (auto _ : state) {
    if (!store->Put(0, 0, "key-" + std::to_string(i++ % 100), "value").ok()) Die("Put");
    auto v = store->Commit(0);
    benchmark::DoNotOptimize(v);
  }
  if (!store->Close().ok()) Die("Close");
}
BENCHMARK(BM_commit)->Name("commit");

void BM_commit_timing(benchmark::State& state) {
  static rcustate::detail::StoreMetrics metrics;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    benchmark::ClobberMemory();
    metrics.publications.fetch_add(1, std::memory_order_relaxed);
    metrics.commit_latency.RecordSince(start);
  }
  benchmark::DoNotOptimize(metrics.commit_latency.count());
}
BENCHMARK(BM_commit_timing)->Name("commit_timing");

void BM_stats(benchmark::State& state) {
  auto store = OpenWith(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto s = store->Stats();
    benchmark::DoNotOptimize(s);
  }
  if (!store->Close().ok()) Die("Close");
}
BENCHMARK(BM_stats)->Name("stats")->Arg(1)->Arg(100)->Arg(1000);

void BM_metrics_text(benchmark::State& state) {
  auto store = OpenWith(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    auto s = store->MetricsText();
    bytes = s.ok() ? s->size() : 0;
    benchmark::DoNotOptimize(s);
  }
  state.counters["text_bytes"] = static_cast<double>(bytes);
  if (!store->Close().ok()) Die("Close");
}
BENCHMARK(BM_metrics_text)->Name("metrics_text")->Arg(1)->Arg(100)->Arg(1000);

void BM_partition_stats(benchmark::State& state) {
  auto store = OpenWith(1);
  for (auto _ : state) {
    auto s = store->Stats(0);
    benchmark::DoNotOptimize(s);
  }
  if (!store->Close().ok()) Die("Close");
}
BENCHMARK(BM_partition_stats)->Name("partition_stats");

void BM_commit_scraped(benchmark::State& state) {
  auto store = OpenWith(static_cast<int>(state.range(0)), 0);
  std::atomic<bool> stop{false};
  std::vector<std::thread> scrapers;
  for (int64_t i = 0; i < state.range(1); ++i) {
    scrapers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        auto t = store->MetricsText();
        benchmark::DoNotOptimize(t);
      }
    });
  }
  int64_t worst_ns = 0;
  uint64_t i = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!store->Put(0, 0, "key-" + std::to_string(i++ % 100), "value").ok()) Die("Put");
    auto v = store->Commit(0);
    benchmark::DoNotOptimize(v);
    worst_ns = std::max<int64_t>(
        worst_ns, std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now() - t0).count());
  }
  stop.store(true);
  for (auto& t : scrapers) t.join();
  state.counters["worst_us"] = static_cast<double>(worst_ns) / 1000.0;
  if (!store->Close().ok()) Die("Close");
}
BENCHMARK(BM_commit_scraped)->Name("commit_scraped")->Args({100000, 0})->Args({100000, 1})
    ->Iterations(5000)->UseRealTime();

}  // namespace
}  // namespace rcsbench

BENCHMARK_MAIN();
