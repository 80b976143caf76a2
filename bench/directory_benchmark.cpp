// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/directory_benchmark.cpp
//
// rcustate-directory: the partition directory in isolation (Google
// Benchmark), with a store already holding N partitions (N = 1e3, 1e4, 1e5):
//   create       CreatePartition of one more partition (it is dropped again
//                outside the timing)
//   drop         DropPartition of one partition (re-created outside the timing)
//   first_write  a thread's first Put to a partition, after it wrote to N
//                others (its records for them live on)
//   has          HasPartition of a random existing id (the lookup readers pay)
// Create, drop and first write must not depend on N (O(1) amortized).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rcustate/rcustate.hpp"

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "rcustate-directory: %s failed\n", what);
  std::abort();
}

std::unique_ptr<rcustate::Store> StoreWith(uint32_t n) {
  rcustate::StoreOptions o;
  o.tables = {{"t", nullptr, 0}};
  auto store = rcustate::Store::Open(o).value();
  for (uint32_t p = 0; p < n; ++p) {
    if (!store->CreatePartition(p).ok()) Die("CreatePartition");
  }
  return store;
}

void BM_Create(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  auto store = StoreWith(n);
  uint32_t next = n;
  for (auto _ : state) {
    if (!store->CreatePartition(next).ok()) Die("CreatePartition");
    state.PauseTiming();
    if (!store->DropPartition(next).ok()) Die("DropPartition");
    ++next;
    state.ResumeTiming();
  }
  if (!store->Close().ok()) Die("Close");
}

void BM_Drop(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  auto store = StoreWith(n);
  std::mt19937 rng(n);
  for (auto _ : state) {
    state.PauseTiming();
    const uint32_t p = rng() % n;
    state.ResumeTiming();
    if (!store->DropPartition(p).ok()) Die("DropPartition");
    state.PauseTiming();
    if (!store->CreatePartition(p).ok()) Die("CreatePartition");
    state.ResumeTiming();
  }
  if (!store->Close().ok()) Die("Close");
}

void BM_FirstWrite(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  // n partitions written once, plus room for one first write per iteration.
  const uint32_t extra = static_cast<uint32_t>(state.max_iterations);
  auto store = StoreWith(n + extra);
  const std::string key(8, 'k');
  for (uint32_t p = 0; p < n; ++p) {
    if (!store->Put(p, 0, key, key).ok()) Die("Put");
  }
  uint32_t next = n;
  for (auto _ : state) {
    if (!store->Put(next++, 0, key, key).ok()) Die("Put");
  }
  if (!store->Close().ok()) Die("Close");
}

void BM_Has(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  auto store = StoreWith(n);
  std::mt19937 rng(n);
  std::vector<uint32_t> order(4096);
  for (uint32_t& o : order) o = rng() % n;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(store->HasPartition(order[i++ & 4095]));
  }
  if (!store->Close().ok()) Die("Close");
}

// Fixed iteration counts: every iteration of first_write needs a partition of
// its own, and the slow directory this replaces costs up to milliseconds.
BENCHMARK(BM_Create)->Name("create")->Arg(1000)->Arg(10000)->Arg(100000)->Iterations(2000);
BENCHMARK(BM_Drop)->Name("drop")->Arg(1000)->Arg(10000)->Arg(100000)->Iterations(2000);
BENCHMARK(BM_FirstWrite)->Name("first_write")->Arg(1000)->Arg(10000)->Arg(100000)->Iterations(2000);
BENCHMARK(BM_Has)->Name("has")->Arg(1000)->Arg(10000)->Arg(100000);

}  // namespace

BENCHMARK_MAIN();
