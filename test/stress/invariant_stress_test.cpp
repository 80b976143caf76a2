// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/stress/invariant_stress_test.cpp
//
// Concurrency stress tests whose invariants are checked on every read, under
// every publication policy (and, through scripts/test.sh, under ASan+UBSan
// and TSan).
//
// Invariant 1 (batch atomicity + version order): commit number c of the
// writer sets K keys of table "a" and K keys of table "b" to c, so the
// snapshot of version v holds exactly 2K keys all equal to v (none at v=0).
// Every reader, inside one read section or through one pin, checks all 2K
// values equal the snapshot's version, none is poison, and versions it sees
// never go backwards. A pin is re-checked after the writer moved on: its
// values and version must not have changed.
//
// Invariant 2 (merge commutes across writers): W threads each commit batches
// that add 1 to all K keys of table "sum" (through the store, a batch or a
// write handle); in every snapshot all K sums are
// equal, never decrease, and after all writers finished and flushed each is
// the total number of commits.
//
// Invariant 4 (read-your-writes while publications run concurrently): a
// writer adds 1 to K sums per commit (every other round through a write
// handle) and, after every commit and between its
// merges, reads its own sums with Store::Get: each must be exactly the number
// of merges it made, whatever another thread's Flush() and the call_rcu
// worker publish meanwhile (under
// group commit its committed batches are split between sealed groups and
// publications in progress, and none may count twice or be missed).
//
// Invariant 1 again under group commit with the sealed backlog past its
// bound (long read sections stall publications; large batches fill the
// backlog; commits then publish themselves).
//
// Invariant 3 (partition churn): a thread creates and drops partitions while
// readers read them; a read either finds no partition or a consistent
// snapshot (invariant 1 on that partition's own counter).
//
// Readers through TableReader handles (made once) check invariant 1 in two
// ways: on one snapshot (TableReader::Snapshot, every table of one version),
// and lookup by lookup (each Find loads the published snapshot again): every
// value lies between the versions read before and after, values never
// decrease in read order, and when both versions agree all values equal them.
// Under churn, handles are kept across drops and must keep reading their
// partition's last snapshot, consistent, without poison.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "rcustate/rcustate.hpp"
#include "src/core/map_set.hpp"
#include "src/core/partition.hpp"
#include "test/common/test_env.hpp"

namespace rcustate {
namespace {

using testing::Policy;

constexpr int kKeys = 16;

std::string Key(int i) { return "key-" + std::to_string(i); }

bool IsPoison(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (c != detail::MapSet::kPoison) return false;
  }
  return true;
}

// Counts and remembers the first few invariant violations.
struct Violations {
  std::atomic<uint64_t> count{0};
  std::atomic<int> printed{0};
  void Report(const std::string& what) {
    count.fetch_add(1, std::memory_order_relaxed);
    if (printed.fetch_add(1, std::memory_order_relaxed) < 10) {
      std::fprintf(stderr, "VIOLATION: %s\n", what.c_str());
    }
  }
};

// Checks invariant 1 on one table view pair; returns the version seen.
template <typename View>
void CheckCounterSnapshot(uint64_t version, const View& a, const View& b, Violations& v,
                          const char* where) {
  const int64_t want = static_cast<int64_t>(version);
  if (a.size() != (version == 0 ? 0u : size_t{kKeys}) ||
      b.size() != (version == 0 ? 0u : size_t{kKeys})) {
    v.Report(std::string(where) + ": table sizes " + std::to_string(a.size()) + "/" +
             std::to_string(b.size()) + " at version " + std::to_string(version));
    return;
  }
  for (int i = 0; i < kKeys && version != 0; ++i) {
    for (const View* t : {&a, &b}) {
      std::optional<std::string_view> val = t->Find(Key(i));
      if (!val) {
        v.Report(std::string(where) + ": missing " + Key(i));
        continue;
      }
      if (IsPoison(*val)) v.Report(std::string(where) + ": poison value read");
      std::optional<int64_t> got = DecodeInt64(*val);
      if (!got || *got != want) {
        v.Report(std::string(where) + ": " + Key(i) + " = " + (got ? std::to_string(*got) : "?") +
                 " at version " + std::to_string(version));
      }
    }
  }
}

std::chrono::milliseconds Duration(int base_ms) {
  return std::chrono::milliseconds(static_cast<int64_t>(base_ms * testing::StressScale()));
}

class StressTest : public ::testing::TestWithParam<Policy> {
 protected:
  std::unique_ptr<Store> Open() {
    StoreOptions o;
    o.tables = {{"a", nullptr, 0}, {"b", nullptr, 0}, {"sum", AddInt64(), 0}};
    o.max_publish_delay = GetParam().max_publish_delay;
    o.read_flavor = GetParam().read_flavor;
    return Store::Open(o).value();
  }
};

TEST_P(StressTest, BatchesAreAtomicAndVersionsMonotonic) {
  auto store = Open();
  ASSERT_TRUE(store->CreatePartition(0).ok());
  Violations v;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> commits{0}, reads{0}, pin_checks{0};

  std::thread writer([&] {
    testing::ReaderThread online(*store);
    uint64_t c = 0;
    const auto end = std::chrono::steady_clock::now() + Duration(1500);
    while (std::chrono::steady_clock::now() < end) {
      ++c;
      for (int i = 0; i < kKeys; ++i) {
        ASSERT_TRUE(store->Put(0, 0, Key(i), EncodeInt64(static_cast<int64_t>(c))).ok());
        ASSERT_TRUE(store->Put(0, 1, Key(i), EncodeInt64(static_cast<int64_t>(c))).ok());
      }
      {
        // The writer reads its own uncommitted writes, and everything it
        // committed, whatever the policy.
        testing::Section rs(*store);
        auto own = store->Get(0, 0, Key(0));
        if (!own.ok() || !own->has_value() || DecodeInt64(**own) != int64_t(c)) {
          v.Report("writer does not read its own write");
        }
      }
      auto r = store->Commit(0);
      if (!r.ok() || *r != c) v.Report("commit returned wrong version");
      {
        testing::Section rs(*store);
        auto own = store->Get(0, 1, Key(kKeys - 1));
        if (!own.ok() || !own->has_value() || DecodeInt64(**own) != int64_t(c)) {
          v.Report("writer does not read its own committed write");
        }
      }
      if (c % 64 == 0) {
        ASSERT_TRUE(store->Flush(0).ok());
      }
      commits.store(c, std::memory_order_relaxed);
    }
    ASSERT_TRUE(store->Flush(0).ok());
    stop.store(true);
  });

  auto section_reader = [&] {
    testing::ReaderThread online(*store);
    uint64_t last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      testing::Section rs(*store);
      auto snap = store->Snapshot(0);
      if (!snap.ok()) {
        v.Report("snapshot failed: " + std::string(snap.status().message()));
        continue;
      }
      const uint64_t version = snap->version();
      if (version < last) v.Report("version went backwards");
      last = version;
      CheckCounterSnapshot(version, snap->Table(0).value(), snap->Table(1).value(), v, "section");
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  };

  auto pin_reader = [&] {
    uint64_t last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      auto pin = store->Pin(0);
      if (!pin.ok()) {
        v.Report("pin failed");
        continue;
      }
      const uint64_t version = pin->version();
      if (version < last) v.Report("pinned version went backwards");
      last = version;
      CheckCounterSnapshot(version, pin->Table(0).value(), pin->Table(1).value(), v, "pin");
      // Let the writer move on by a few commits, then check the pin again:
      // its maps must not have been reused.
      const uint64_t seen = commits.load();
      while (commits.load() < seen + 3 && !stop.load()) std::this_thread::yield();
      if (pin->version() != version) v.Report("pin version changed");
      CheckCounterSnapshot(version, pin->Table(0).value(), pin->Table(1).value(), v, "pin-later");
      pin_checks.fetch_add(1, std::memory_order_relaxed);
    }
  };

  // Through handles made once, before the writer's first commit or not.
  const TableReader ra = store->Reader(0, 0).value(), rb = store->Reader(0, 1).value();
  std::atomic<uint64_t> handle_reads{0}, handle_torn_checks{0};
  auto handle_reader = [&] {
    testing::ReaderThread online(*store);
    uint64_t last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      {
        testing::Section rs(*store);
        const SnapshotView snap = ra.Snapshot();
        const uint64_t version = snap.version();
        if (version < last) v.Report("handle: version went backwards");
        last = version;
        CheckCounterSnapshot(version, ra.Table(snap), rb.Table(snap), v, "handle snapshot");
      }
      {
        testing::Section rs(*store);
        const uint64_t before = ra.version();
        if (before < last) v.Report("handle: version went backwards");
        int64_t prev = static_cast<int64_t>(before);
        for (int i = 0; i < kKeys; ++i) {
          for (const TableReader* r : {&ra, &rb}) {
            std::optional<std::string_view> val = r->Find(Key(i));
            int64_t got = 0;  // absent: version 0
            if (val) {
              if (IsPoison(*val)) v.Report("handle: poison value read");
              got = DecodeInt64(*val).value_or(-1);
            }
            if (got < prev) {
              v.Report("handle: " + Key(i) + " = " + std::to_string(got) + " after " +
                       std::to_string(prev) + " (versions went backwards or a batch is torn)");
            }
            prev = got;
          }
        }
        const uint64_t after = rb.version();
        if (prev > static_cast<int64_t>(after)) v.Report("handle: value newer than the version after");
        last = after;
        if (before == after) handle_torn_checks.fetch_add(1, std::memory_order_relaxed);
      }
      handle_reads.fetch_add(1, std::memory_order_relaxed);
    }
  };

  std::vector<std::thread> readers;
  readers.emplace_back(section_reader);
  readers.emplace_back(handle_reader);
  readers.emplace_back(pin_reader);
  writer.join();
  for (auto& t : readers) t.join();

  auto stats = store->Stats(0).value();
  std::printf("[%s] commits=%lu publications=%lu section reads=%lu handle reads=%lu (%lu within "
              "one version) pin checks=%lu grace waits=%lu standby copies=%lu\n",
              GetParam().name.c_str(), (unsigned long)commits.load(),
              (unsigned long)stats.publications, (unsigned long)reads.load(),
              (unsigned long)handle_reads.load(), (unsigned long)handle_torn_checks.load(),
              (unsigned long)pin_checks.load(), (unsigned long)stats.grace_waits,
              (unsigned long)stats.standby_copies);
  EXPECT_EQ(v.count.load(), 0u);
  EXPECT_GT(commits.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GT(handle_reads.load(), 0u);
  EXPECT_GT(handle_torn_checks.load(), 0u);
  EXPECT_EQ(stats.version, commits.load());
  EXPECT_EQ(stats.pins_alive, 0u);
}

TEST_P(StressTest, ConcurrentMergeWritersCommute) {
  auto store = Open();
  ASSERT_TRUE(store->CreatePartition(7).ok());
  constexpr int kWriters = 3;
  Violations v;
  std::atomic<int> writers_left{kWriters};
  std::atomic<uint64_t> total_commits{0}, reads{0};
  const auto end = std::chrono::steady_clock::now() + Duration(1000);

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      testing::ReaderThread online(*store);
      uint64_t n = 0;
      // Writer 1 merges through a write handle made once (its delta is
      // swapped for a spare at every sealed commit under group commit).
      WriteHandle sums = store->Writer(7, 2).value();
      while (std::chrono::steady_clock::now() < end) {
        if (w == 0 && n % 2 == 1) {
          // Mix explicit batches with thread-local deltas.
          WriteBatch b(*store);
          for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(b.Merge(2, Key(i), EncodeInt64(1)).ok());
          ASSERT_TRUE(b.Commit(7).ok());
        } else if (w == 1) {
          for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(sums.Merge(Key(i), EncodeInt64(1)).ok());
          ASSERT_TRUE(sums.Commit().ok());
        } else {
          for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(store->Merge(7, 2, Key(i), EncodeInt64(1)).ok());
          ASSERT_TRUE(store->Commit(7).ok());
        }
        ++n;
      }
      total_commits.fetch_add(n);
      ASSERT_TRUE(store->Flush(7).ok());
      writers_left.fetch_sub(1);
    });
  }
  auto reader = [&] {
    testing::ReaderThread online(*store);
    int64_t last = 0;
    while (writers_left.load() > 0) {
      testing::Section rs(*store);
      auto snap = store->Snapshot(7).value();
      auto t = snap.Table(2).value();
      std::optional<int64_t> first;
      for (int i = 0; i < kKeys; ++i) {
        auto val = t.Find(Key(i));
        int64_t got = val ? DecodeInt64(*val).value_or(-1) : 0;
        if (val && IsPoison(*val)) v.Report("poison sum");
        if (!first) first = got;
        if (got != *first) v.Report("sums differ inside one snapshot");
      }
      if (*first < last) v.Report("sum went backwards");
      last = *first;
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  };
  threads.emplace_back(reader);
  threads.emplace_back(reader);
  for (auto& t : threads) t.join();

  testing::Section rs(*store);
  auto t = store->Snapshot(7).value().Table(2).value();
  for (int i = 0; i < kKeys; ++i) {
    auto val = t.Find(Key(i));
    ASSERT_TRUE(val.has_value());
    EXPECT_EQ(DecodeInt64(*val).value(), static_cast<int64_t>(total_commits.load())) << Key(i);
  }
  std::printf("[%s] merge commits=%lu reads=%lu\n", GetParam().name.c_str(),
              (unsigned long)total_commits.load(), (unsigned long)reads.load());
  EXPECT_EQ(v.count.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
}

TEST_P(StressTest, ReadYourWritesWhilePublicationsRun) {
  auto store = Open();
  ASSERT_TRUE(store->CreatePartition(3).ok());
  Violations v;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> flushes{0};
  // Another thread publishes now and then (liburcu's worker does too, but
  // the scheduler tends to run it on the writer's core, where it cannot
  // overlap with a commit).
  std::thread flusher([&] {
    while (!done.load()) {
      if (!store->Flush(3).ok()) v.Report("Flush failed");
      flushes.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  const auto end = std::chrono::steady_clock::now() + Duration(1000);
  int64_t merges = 0;
  uint64_t commits = 0;
  auto check_own = [&](int64_t want, const char* when) {
    testing::Section rs(*store);
    for (int i = 0; i < kKeys; i += 5) {
      absl::StatusOr<std::optional<std::string_view>> got = store->Get(3, 2, Key(i));
      std::optional<int64_t> n = got.ok() && got->has_value() ? DecodeInt64(**got) : std::nullopt;
      if (n.value_or(0) != want) {
        v.Report(std::string(when) + ": own sum of " + Key(i) + " = " +
                 (n ? std::to_string(*n) : "absent") + ", want " + std::to_string(want) +
                 " after commit " + std::to_string(commits));
      }
    }
  };
  // Every other round merges through a write handle made once: the same
  // delta, reached without a lookup.
  WriteHandle sums = store->Writer(3, 2).value();
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < kKeys; ++i) {
      absl::Status st = merges % 2 == 0 ? store->Merge(3, 2, Key(i), EncodeInt64(1))
                                        : sums.Merge(Key(i), EncodeInt64(1));
      ASSERT_TRUE(st.ok()) << st;
    }
    // Filler that makes each publication take a while, so that commits
    // often seal while a publication of their earlier batches is under way.
    for (int i = 0; i < 128; ++i) {
      ASSERT_TRUE(store->Put(3, 0, Key(static_cast<int>((merges * 128 + i) % 8192)), "x").ok());
    }
    ++merges;
    if (merges % 3 == 0) check_own(merges, "uncommitted");
    ASSERT_TRUE(store->Commit(3).ok());
    ++commits;
    check_own(merges, "committed");
  }
  done.store(true);
  flusher.join();
  ASSERT_TRUE(store->Flush(3).ok());
  check_own(merges, "flushed");
  PartitionStats stats = store->Stats(3).value();
  std::printf("[%s] own-read commits=%lu publications=%lu flushes=%lu\n", GetParam().name.c_str(),
              (unsigned long)commits, (unsigned long)stats.publications,
              (unsigned long)flushes.load());
  EXPECT_EQ(stats.version, commits);
  EXPECT_EQ(v.count.load(), 0u);
}

// The interleaving invariant 4 can only hit by chance, made to happen: a
// publication has taken the writer's sealed batch but not published it yet
// when the writer seals its next batch. The writer's reads must count each
// batch once before, during and after that publication.
std::atomic<int> hook_state{0};  // 0 idle, 1 armed, 2 holding a publisher, 3 released
void HoldPublication() {
  int armed = 1;
  if (!hook_state.compare_exchange_strong(armed, 2)) return;
  while (hook_state.load() != 3) std::this_thread::yield();
}

TEST(SealDuringPublication, OwnReadsCountEachBatchOnce) {
  StoreOptions o;
  o.tables = {{"sum", AddInt64(), 0}};
  o.max_publish_delay = absl::Hours(1);  // only tickets and Flush publish
  auto store = Store::Open(o).value();
  ASSERT_TRUE(store->CreatePartition(1).ok());
  auto own = [&]() -> int64_t {
    ReadSection rs;
    auto v = store->Get(1, 0, "k").value();
    return v ? DecodeInt64(*v).value_or(-1) : 0;
  };
  int64_t n = 0;
  // Tickets publish too, so a round does not always produce the interleaving
  // (the held publication may not be the one that took the writer's group):
  // repeat it.
  for (int round = 0; round < 20; ++round) {
    // Commit until one batch stays sealed (its standby was not reclaimed yet).
    for (int i = 0; i < 100000; ++i) {
      ASSERT_TRUE(store->Merge(1, 0, "k", EncodeInt64(1)).ok());
      ++n;
      ASSERT_TRUE(store->Commit(1).ok());
      PartitionStats st = store->Stats(1).value();
      if (st.committed_version > st.version) break;
    }
    hook_state.store(1);
    detail::publish_taken_hook.store(&HoldPublication);
    std::thread flusher([&] { ASSERT_TRUE(store->Flush(1).ok()); });
    // Wait until a publisher (the flusher or a ticket) holds a taken batch.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (hook_state.load() != 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_EQ(hook_state.load(), 2);
    ASSERT_TRUE(store->Merge(1, 0, "k", EncodeInt64(1)).ok());
    ++n;
    ASSERT_TRUE(store->Commit(1).ok());  // seals: the publisher holds the partition
    EXPECT_EQ(own(), n) << "round " << round << ", while the publication is held";
    hook_state.store(3);
    flusher.join();
    detail::publish_taken_hook.store(nullptr);
    EXPECT_EQ(own(), n) << "round " << round << ", after the publication";
    ASSERT_TRUE(store->Merge(1, 0, "k", EncodeInt64(1)).ok());
    ++n;
    EXPECT_EQ(own(), n) << "round " << round << ", with an uncommitted merge";
    ASSERT_TRUE(store->Commit(1).ok());
    EXPECT_EQ(own(), n) << "round " << round << ", after the next commit";
    if (::testing::Test::HasFailure()) break;
  }
  ASSERT_TRUE(store->Flush(1).ok());
  EXPECT_EQ(own(), n) << "after Flush";
  ReadSection rs;
  EXPECT_EQ(DecodeInt64(*store->Snapshot(1)->Table(0)->Find("k")).value(), n);
}

// Group commit past the sealed-backlog bound: a thread holds read sections
// back to back (40 ms, every eighth until the backlog filled), so publications stall and the
// writer's large batches seal until the backlog is full; then its commits
// publish themselves, waiting. Readers check on every read that a snapshot
// holds each batch whole (all of the batch's keys equal the version, in
// both tables), and the writer reads its own commits throughout.
TEST(SealedBacklogBound, BatchesStayWholeWhenCommitsPublishThemselves) {
  constexpr int kBig = 12000;  // keys per table per batch: 24000 changes
  StoreOptions o;
  o.tables = {{"a", nullptr, 0}, {"b", nullptr, 0}};
  o.max_publish_delay = absl::Milliseconds(1);
  auto store = Store::Open(o).value();
  ASSERT_TRUE(store->CreatePartition(0).ok());
  Violations v;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  // What a reader holds inside its section must not change under it: the
  // holder checks the snapshot it took at the start again at the end.
  auto check_whole = [&](const SnapshotView& snap, const char* where) {
    const uint64_t version = snap.version();
    const TableView a = snap.Table(0).value(), b = snap.Table(1).value();
    const size_t want_size = version == 0 ? 0 : kBig;
    if (a.size() != want_size || b.size() != want_size) {
      v.Report(std::string(where) + ": table sizes " + std::to_string(a.size()) + "/" +
               std::to_string(b.size()) + " at version " + std::to_string(version));
    }
    for (int i = 0; i < kBig && version > 0; i += 97) {
      for (const TableView* t : {&a, &b}) {
        auto val = t->Find(Key(i));
        if (!val || IsPoison(*val) || DecodeInt64(*val) != int64_t(version)) {
          v.Report(std::string(where) + ": " + Key(i) + " is not version " +
                   std::to_string(version));
        }
      }
    }
  };
  // Held sections of 40 ms; every eighth lasts until the writer committed 6
  // more batches (3 sealed batches fill the backlog), or 3 s when a commit
  // at the bound waits for this very section: in slow (sanitizer) builds
  // too the backlog reaches its bound while a section is held.
  std::atomic<uint64_t> committed{0};
  std::thread holder([&] {
    for (int n = 0; !stop.load(std::memory_order_relaxed); ++n) {
      ReadSection rs;
      auto snap = store->Snapshot(0);
      if (!snap.ok()) continue;
      const bool long_hold = n % 8 == 7;
      const uint64_t from = committed.load();
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(long_hold ? 3000 : 40);
      while (std::chrono::steady_clock::now() < until && !stop.load(std::memory_order_relaxed) &&
             !(long_hold && committed.load() >= from + 6)) {
        std::this_thread::yield();
      }
      check_whole(*snap, "held section, at its end");
    }
  });
  std::thread reader([&] {
    uint64_t last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      ReadSection rs;
      auto snap = store->Snapshot(0);
      if (!snap.ok()) {
        v.Report("snapshot failed");
        continue;
      }
      const uint64_t version = snap->version();
      if (version < last) v.Report("version went backwards");
      last = version;
      check_whole(*snap, "section");
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  });
  uint64_t c = 0;
  // At least the stress duration, and until commits reached the bound a few
  // times (at most 60 s: "did not hang", not a timing claim).
  const auto end = std::chrono::steady_clock::now() + Duration(1500);
  const auto cap = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto at_bound = [&] { return store->Stats(0).value().backlog_publications; };
  while ((std::chrono::steady_clock::now() < end || c < 12 || at_bound() < 1) &&
         std::chrono::steady_clock::now() < cap) {
    ++c;
    for (int i = 0; i < kBig; ++i) {
      ASSERT_TRUE(store->Put(0, 0, Key(i), EncodeInt64(static_cast<int64_t>(c))).ok());
      ASSERT_TRUE(store->Put(0, 1, Key(i), EncodeInt64(static_cast<int64_t>(c))).ok());
    }
    auto r = store->Commit(0);
    if (!r.ok() || *r != c) v.Report("commit returned the wrong version");
    committed.store(c);
    ReadSection rs;
    auto own = store->Get(0, 1, Key(kBig - 1));
    if (!own.ok() || !own->has_value() || DecodeInt64(**own) != int64_t(c)) {
      v.Report("the writer does not read its own commit");
    }
  }
  stop = true;
  holder.join();
  reader.join();
  ASSERT_TRUE(store->Flush(0).ok());
  EXPECT_EQ(store->Stats(0).value().version, c);
  const PartitionStats st = store->Stats(0).value();
  std::printf("[backlog] commits=%lu reads=%lu publications=%lu at the bound=%lu\n",
              (unsigned long)c, (unsigned long)reads.load(), (unsigned long)st.publications,
              (unsigned long)st.backlog_publications);
  EXPECT_GT(st.backlog_publications, 0u) << "the backlog never reached its bound";
  EXPECT_EQ(v.count.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_TRUE(store->Close().ok());
}

TEST_P(StressTest, PartitionChurnWhileReading) {
  const int64_t sets_before = detail::MapSet::Live();
  auto store = Open();
  constexpr uint32_t kFirst = 100, kParts = 4;
  Violations v;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, found{0}, churns{0};

  std::thread churn([&] {
    const auto end = std::chrono::steady_clock::now() + Duration(1000);
    uint32_t round = 0;
    while (std::chrono::steady_clock::now() < end) {
      const uint32_t id = kFirst + round % kParts;
      if (store->HasPartition(id)) {
        ASSERT_TRUE(store->DropPartition(id).ok());
      } else {
        ASSERT_TRUE(store->CreatePartition(id).ok());
        // A few commits, each writing the partition's counter into 2K keys.
        for (uint64_t c = 1; c <= 3; ++c) {
          for (int i = 0; i < kKeys; ++i) {
            ASSERT_TRUE(store->Put(id, 0, Key(i), EncodeInt64(int64_t(c))).ok());
            ASSERT_TRUE(store->Put(id, 1, Key(i), EncodeInt64(int64_t(c))).ok());
          }
          ASSERT_TRUE(store->Commit(id).ok());
        }
        ASSERT_TRUE(store->Flush(id).ok());
      }
      ++round;
      churns.fetch_add(1);
    }
    stop.store(true);
  });
  auto reader = [&] {
    testing::ReaderThread online(*store);
    uint32_t i = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      testing::Section rs(*store);
      auto snap = store->Snapshot(kFirst + i++ % kParts);
      reads.fetch_add(1, std::memory_order_relaxed);
      if (!snap.ok()) {
        if (ErrorCodeOf(snap.status()) != ErrorCode::kNoPartition) v.Report("unexpected error");
        continue;
      }
      found.fetch_add(1, std::memory_order_relaxed);
      CheckCounterSnapshot(snap->version(), snap->Table(0).value(), snap->Table(1).value(), v,
                           "churn");
    }
  };
  // Keeps handles on partitions across their drops and reads them; a
  // dropped partition's handle reads its last snapshot, which stays put.
  std::atomic<uint64_t> handle_reads{0}, dropped_reads{0};
  auto handle_reader = [&] {
    testing::ReaderThread online(*store);
    struct Held {
      TableReader a, b;
      uint64_t last = 0;
      bool dropped = false;
    };
    std::vector<Held> held(kParts);
    uint32_t i = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      Held& h = held[i % kParts];
      if (h.a.empty() || (h.dropped && i % 7 == 0)) {  // (re)acquire now and then
        auto a = store->Reader(kFirst + i % kParts, 0);
        auto b = store->Reader(kFirst + i % kParts, 1);
        if (a.ok() && b.ok()) {
          h = Held{*std::move(a), *std::move(b)};
        } else if ((!a.ok() && ErrorCodeOf(a.status()) != ErrorCode::kNoPartition) ||
                   (!b.ok() && ErrorCodeOf(b.status()) != ErrorCode::kNoPartition)) {
          v.Report("handle: unexpected error");
        }
      }
      ++i;
      if (h.a.empty()) continue;
      const bool dropped = h.a.dropped();  // before the read: the snapshot is final then
      testing::Section rs(*store);
      const SnapshotView snap = h.a.Snapshot();
      if (snap.version() < h.last) v.Report("handle: version went backwards");
      if (h.dropped && snap.version() != h.last) v.Report("handle: dropped partition changed");
      h.last = snap.version();
      h.dropped = dropped;
      CheckCounterSnapshot(snap.version(), h.a.Table(snap), h.b.Table(snap), v, "churn handle");
      handle_reads.fetch_add(1, std::memory_order_relaxed);
      if (dropped) dropped_reads.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread r1(reader), r2(handle_reader);
  churn.join();
  r1.join();
  r2.join();
  std::printf("[%s] churn rounds=%lu reads=%lu found=%lu handle reads=%lu (of dropped "
              "partitions %lu)\n",
              GetParam().name.c_str(), (unsigned long)churns.load(), (unsigned long)reads.load(),
              (unsigned long)found.load(), (unsigned long)handle_reads.load(),
              (unsigned long)dropped_reads.load());
  EXPECT_EQ(v.count.load(), 0u);
  EXPECT_GT(found.load(), 0u);
  EXPECT_GT(handle_reads.load(), 0u);
  EXPECT_GT(dropped_reads.load(), 0u);
  // Every handle is gone: closing frees every set the churn left.
  ASSERT_TRUE(store->Close().ok());
  EXPECT_EQ(detail::MapSet::Live(), sets_before);
}

INSTANTIATE_TEST_SUITE_P(Policies, StressTest, ::testing::ValuesIn(testing::AllPoliciesAndFlavors()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rcustate
