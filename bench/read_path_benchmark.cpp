// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/read_path_benchmark.cpp
//
// rcustate-readpath: the read path in isolation (Google Benchmark), one
// lookup per iteration of a random existing key, at 1e3, 1e5 and 1e6 keys:
//   raw_find          absl::flat_hash_map<std::string, std::string>::find (rcustate's map type)
//   raw_find_u64      absl::flat_hash_map<uint64_t, uint64_t>::find (what the keys would cost as integers)
//   urcu_find         urcu_memb_read_lock + rcu_dereference + find + unlock (the bare mechanism)
//   section_find      rcustate::ReadSection + Store::Snapshot(p)->Table(t)->Find(key), one section per lookup
//   section_find_x16  the same, 16 lookups per section
//   store_get         rcustate::ReadSection + Store::Get(p, t, key)
//   reader_find       rcustate::ReadSection + TableReader::Find(key) (a handle made once by
//                     Store::Reader), one section per lookup
//   reader_find_x16   the same, 16 lookups per section
//   inline_reader_find      rcustate::InlineReadSection (rcustate/inline_read.hpp) + TableReader::Find
//   inline_reader_find_x16  the same, 16 lookups per section
//   qsbr_reader_find  a QSBR store read by an online thread: TableReader::Find, then
//                     InlineQuiescentState() after every lookup (the "section" of QSBR)
//   qsbr_reader_find_ool  the same with the out-of-line rcustate::QuiescentState()
//   section_only, inline_section_only, qsbr_qs_only: the fixed per-section costs, without the probe
//   section_snapshot_table: a section plus Store::Snapshot and Table, without the probe
//   apply1000, apply1000_prefetch: not reads: a commit's replay of 1000 puts, without and with
//                     absl prefetch() 8 keys ahead (evidence for tuning the commit path)
// Targets: reader_find <= 1.3x raw_find at 1e3..1e5 keys (1.4x at 1e6); with
// the inline section <= 1.3x; QSBR, one lookup per quiescent state, <= 1.05x.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "bench/common.hpp"
#include "bench/urcu.hpp"
#include "rcustate/inline_read.hpp"
#include "rcustate/rcustate.hpp"

namespace rcsbench {
namespace {

struct Fixture {
  explicit Fixture(uint64_t n) {
    keys.resize(n);
    for (uint64_t i = 0; i < n; ++i) keys[i].assign(reinterpret_cast<const char*>(&i), 8);
    std::mt19937_64 rng(n);
    order.resize(size_t{1} << 16);
    for (uint32_t& o : order) o = static_cast<uint32_t>(rng() % n);
    for (uint64_t i = 0; i < n; ++i) {
      raw.emplace(keys[i], keys[i]);
      raw_u64.emplace(i, i);
    }
    published = &raw;
    rcustate::StoreOptions o;
    o.tables = {{"t", nullptr, 0}};
    store = rcustate::Store::Open(o).value();
    if (!store->CreatePartition(0).ok()) Die("CreatePartition");
    for (uint64_t i = 0; i < n; ++i) {
      if (!store->Put(0, 0, keys[i], keys[i]).ok()) Die("Put");
      if ((i + 1) % 65536 == 0 && !store->Commit(0).ok()) Die("Commit");
    }
    if (!store->Commit(0).ok()) Die("Commit");
    if (!store->Commit(0).ok()) Die("Commit");  // both map sets complete
    reader = store->Reader(0, 0).value();
    o.read_flavor = rcustate::ReadFlavor::kQsbr;
    qsbr_store = rcustate::Store::Open(o).value();
    if (!qsbr_store->CreatePartition(0).ok()) Die("CreatePartition");
    for (uint64_t i = 0; i < n; ++i) {
      if (!qsbr_store->Put(0, 0, keys[i], keys[i]).ok()) Die("Put");
      if ((i + 1) % 65536 == 0 && !qsbr_store->Commit(0).ok()) Die("Commit");
    }
    if (!qsbr_store->Commit(0).ok()) Die("Commit");
    if (!qsbr_store->Commit(0).ok()) Die("Commit");
    qsbr_reader = qsbr_store->Reader(0, 0).value();
  }
  std::vector<std::string> keys;
  std::vector<uint32_t> order;
  StrMap raw;
  StrMap* published;  // what urcu_find dereferences
  absl::flat_hash_map<uint64_t, uint64_t> raw_u64;
  std::unique_ptr<rcustate::Store> store;
  rcustate::TableReader reader;  // declared after the store: destroyed first
  std::unique_ptr<rcustate::Store> qsbr_store;
  rcustate::TableReader qsbr_reader;
};

template <typename Lookup>
void Loop(benchmark::State& state, const Fixture& f, Lookup&& lookup) {
  size_t i = 0;
  const size_t mask = f.order.size() - 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(lookup(f.order[i++ & mask]));
  }
  state.SetItemsProcessed(state.iterations());
}

void Register(const std::shared_ptr<Fixture>& f, uint64_t n) {
  auto name = [n](const char* what) { return absl::StrFormat("%s/%d", what, n); };
  benchmark::RegisterBenchmark(name("raw_find").c_str(), [f](benchmark::State& s) {
    Loop(s, *f, [&](uint32_t id) {
      auto it = f->raw.find(std::string_view(f->keys[id]));
      return it == f->raw.end() ? size_t{0} : it->second.size();
    });
  });
  benchmark::RegisterBenchmark(name("raw_find_u64").c_str(), [f](benchmark::State& s) {
    Loop(s, *f, [&](uint32_t id) {
      auto it = f->raw_u64.find(id);
      return it == f->raw_u64.end() ? uint64_t{0} : it->second;
    });
  });
  benchmark::RegisterBenchmark(name("urcu_find").c_str(), [f](benchmark::State& s) {
    if (!rcustate::AttachThread().ok()) Die("AttachThread");  // registers with liburcu-memb
    Loop(s, *f, [&](uint32_t id) {
      UrcuReadGuard g;
      const StrMap* m = rcu_dereference(f->published);
      auto it = m->find(std::string_view(f->keys[id]));
      return it == m->end() ? size_t{0} : it->second.size();
    });
  });
  benchmark::RegisterBenchmark(name("section_find").c_str(), [f](benchmark::State& s) {
    Loop(s, *f, [&](uint32_t id) {
      rcustate::ReadSection rs;
      auto v = f->store->Snapshot(0)->Table(0)->Find(f->keys[id]);
      return v.has_value() ? v->size() : size_t{0};
    });
  });
  benchmark::RegisterBenchmark(name("section_find_x16").c_str(), [f](benchmark::State& s) {
    size_t i = 0;
    const size_t mask = f->order.size() - 1;
    for (auto _ : s) {
      rcustate::ReadSection rs;
      auto table = *f->store->Snapshot(0)->Table(0);
      size_t acc = 0;
      for (int j = 0; j < 16; ++j) {
        auto v = table.Find(f->keys[f->order[i++ & mask]]);
        acc += v.has_value() ? v->size() : 0;
      }
      benchmark::DoNotOptimize(acc);
    }
    s.SetItemsProcessed(s.iterations() * 16);
  });
  // One lookup per section, and 16, through ReadSection and through the
  // inline section.
  auto reader_finds = [&]<typename Section>(const char* one, const char* x16) {
    benchmark::RegisterBenchmark(name(one).c_str(), [f](benchmark::State& s) {
      const rcustate::TableReader& reader = f->reader;
      Loop(s, *f, [&](uint32_t id) {
        Section rs;
        auto v = reader.Find(f->keys[id]);
        return v.has_value() ? v->size() : size_t{0};
      });
    });
    benchmark::RegisterBenchmark(name(x16).c_str(), [f](benchmark::State& s) {
      const rcustate::TableReader& reader = f->reader;
      size_t i = 0;
      const size_t mask = f->order.size() - 1;
      for (auto _ : s) {
        Section rs;
        size_t acc = 0;
        for (int j = 0; j < 16; ++j) {
          auto v = reader.Find(f->keys[f->order[i++ & mask]]);
          acc += v.has_value() ? v->size() : 0;
        }
        benchmark::DoNotOptimize(acc);
      }
      s.SetItemsProcessed(s.iterations() * 16);
    });
  };
  reader_finds.operator()<rcustate::ReadSection>("reader_find", "reader_find_x16");
  reader_finds.operator()<rcustate::InlineReadSection>("inline_reader_find",
                                                       "inline_reader_find_x16");
  // QSBR: the thread is online for the whole run; a quiescent state after
  // every lookup is what a worker that reads once per record pays.
  benchmark::RegisterBenchmark(name("qsbr_reader_find").c_str(), [f](benchmark::State& s) {
    const rcustate::TableReader& reader = f->qsbr_reader;
    rcustate::ThreadOnline();
    Loop(s, *f, [&](uint32_t id) {
      auto v = reader.Find(f->keys[id]);
      const size_t r = v.has_value() ? v->size() : size_t{0};
      rcustate::InlineQuiescentState();
      return r;
    });
    rcustate::ThreadOffline();
  });
  benchmark::RegisterBenchmark(name("qsbr_reader_find_ool").c_str(), [f](benchmark::State& s) {
    const rcustate::TableReader& reader = f->qsbr_reader;
    rcustate::ThreadOnline();
    Loop(s, *f, [&](uint32_t id) {
      auto v = reader.Find(f->keys[id]);
      const size_t r = v.has_value() ? v->size() : size_t{0};
      rcustate::QuiescentState();
      return r;
    });
    rcustate::ThreadOffline();
  });
  benchmark::RegisterBenchmark(name("inline_section_only").c_str(), [f](benchmark::State& s) {
    for (auto _ : s) {
      rcustate::InlineReadSection rs;
      benchmark::ClobberMemory();
    }
    s.SetItemsProcessed(s.iterations());
  });
  benchmark::RegisterBenchmark(name("qsbr_qs_only").c_str(), [f](benchmark::State& s) {
    rcustate::ThreadOnline();
    for (auto _ : s) {
      rcustate::InlineQuiescentState();
      benchmark::ClobberMemory();
    }
    rcustate::ThreadOffline();
    s.SetItemsProcessed(s.iterations());
  });
  // The fixed cost of a section, without the probe.
  benchmark::RegisterBenchmark(name("section_only").c_str(), [f](benchmark::State& s) {
    for (auto _ : s) {
      rcustate::ReadSection rs;
      benchmark::ClobberMemory();
    }
    s.SetItemsProcessed(s.iterations());
  });
  benchmark::RegisterBenchmark(name("section_snapshot_table").c_str(), [f](benchmark::State& s) {
    for (auto _ : s) {
      rcustate::ReadSection rs;
      auto t = f->store->Snapshot(0)->Table(0);
      benchmark::DoNotOptimize(t->size());
    }
    s.SetItemsProcessed(s.iterations());
  });
  // Not the read path: what a commit's replay costs per key (1000 random
  // puts into the table), plain and with absl's prefetch() issued 8 keys
  // ahead, so the misses of a batch overlap.
  for (int ahead : {0, 8}) {
    benchmark::RegisterBenchmark(name(ahead ? "apply1000_prefetch" : "apply1000").c_str(),
                                 [f, ahead](benchmark::State& s) {
      size_t i = 0;
      const size_t mask = f->order.size() - 1;
      const std::string value(8, 'x');
      for (auto _ : s) {
        for (int j = 0; j < 1000; ++j) {
          if (ahead) f->raw.prefetch(std::string_view(f->keys[f->order[(i + ahead) & mask]]));
          auto it = f->raw.try_emplace(std::string_view(f->keys[f->order[i++ & mask]])).first;
          it->second.assign(value);
        }
      }
      s.SetItemsProcessed(s.iterations() * 1000);
    });
  }
  benchmark::RegisterBenchmark(name("store_get").c_str(), [f](benchmark::State& s) {
    Loop(s, *f, [&](uint32_t id) {
      rcustate::ReadSection rs;
      auto v = f->store->Get(0, 0, f->keys[id]);
      return v->has_value() ? (*v)->size() : size_t{0};
    });
  });
}

}  // namespace
}  // namespace rcsbench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::vector<uint64_t> sizes = {1000, 100000, 1000000};
  if (const char* s = std::getenv("RCUSTATE_READPATH_SIZES")) {  // e.g. "1000" for the smoke test
    sizes.clear();
    for (const char* p = s; *p;) {
      char* end;
      sizes.push_back(std::strtoull(p, &end, 10));
      p = *end == ',' ? end + 1 : end;
      if (end == p && *p) break;
    }
  }
  // One fixture at a time: each size's benchmarks are registered together and
  // run in registration order; the fixture is built on first use.
  for (uint64_t n : sizes) {
    auto f = std::make_shared<rcsbench::Fixture>(n);
    rcsbench::Register(f, n);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
