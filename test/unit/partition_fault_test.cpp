// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/partition_fault_test.cpp
//
// Partition under allocation failure and its publication policy:
//  - Commit sweeps: for both policies, with a pinned snapshot held across
//    each commit and without, a scenario of commits (puts, merges, erases, a
//    clear, values on the heap) runs once for every N with the Nth allocation
//    of the committing thread failing. The commit that saw the failure must
//    return kNoMemory with the caller's delta unchanged and the published
//    version whole; another thread must be able to flush (no lock held); the
//    retried commit must get the next version; at the end the contents equal
//    a fault-free run's. A reader thread checks every version it sees against
//    the fault-free run throughout.
//  - A store whose commit failed for lack of memory can still drop the
//    partition and close.
//  - Group commit: a commit never waits for a grace period (a reader holds its
//    section until the writer's commits returned).
//  - Group commit: a commit past the sealed-backlog bound publishes, waiting
//    for the grace period, instead of sealing more.
//  - Group commit: the publisher publishes a sealed batch once the (fake)
//    clock passed its deadline, and not before.
//  - ApproxBytes counts the deltas the partition keeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/alloc_fault.hpp"
#include "rcustate/merge.hpp"
#include "rcustate/status.hpp"
#include "rcustate/store.hpp"
#include "src/core/commit_policy.hpp"
#include "src/core/partition.hpp"
#include "src/core/schema.hpp"
#include "src/rcu/rcu.hpp"

namespace rcustate::detail {
namespace {

using Contents = std::vector<std::map<std::string, std::string>>;
constexpr auto kBound = std::chrono::seconds(60);  // "did not hang", not a timing claim

Schema MakeSchema() {
  return Schema::Make({{"plain", nullptr, 0}, {"sum", AddInt64(), 0}, {"log", Append(), 0}})
      .value();
}

std::string Key(const char* prefix, int i) {
  return std::string(prefix) + "-a-key-long-enough-for-the-heap-" + std::to_string(i);
}

// Batch `step` of the scenario.
std::unique_ptr<Delta> MakeBatch(const Schema& schema, int step) {
  auto d = std::make_unique<Delta>(schema.tables.size());
  if (step == 3) {
    EXPECT_TRUE(d->Clear(schema, 0).ok());
  }
  for (int i = 0; i < 12; ++i) {
    const int k = (i + step * 5) % 20;
    EXPECT_TRUE(d->Put(schema, 0, Key("p", k), std::string(40, static_cast<char>('a' + step))).ok());
    EXPECT_TRUE(d->Merge(schema, 1, Key("s", k % 7), EncodeInt64(step * 100 + i)).ok());
    if (i % 3 == 0) {
      EXPECT_TRUE(d->Merge(schema, 2, Key("l", k % 5), std::string(30, 'x')).ok());
    }
  }
  if (step % 2 == 1) {
    EXPECT_TRUE(d->Erase(schema, 0, Key("p", (step * 5 + 3) % 20)).ok());
  }
  return d;
}
constexpr int kSteps = 5;

Contents Dump(const MapSet& set) {
  Contents c(set.tables.size());
  for (size_t t = 0; t < set.tables.size(); ++t) {
    for (const auto& [k, v] : set.tables[t]) c[t].emplace(k, v);
  }
  return c;
}

// A delta's ops, to check that a failed commit left the caller's delta as it was.
std::map<std::string, std::string> DumpDelta(const Delta& d) {
  std::map<std::string, std::string> out;
  for (size_t t = 0; t < d.tables().size(); ++t) {
    const TableDelta& td = d.tables()[t];
    if (td.cleared) out[std::to_string(t) + "!"] = "cleared";
    for (const auto& [k, op] : td.ops) {
      out[std::to_string(t) + "/" + k] = std::to_string(op.kind) + ":" + op.value;
    }
  }
  return out;
}

// Runs `fn` on another thread; false if it did not complete within kBound
// (the thread is then left behind: the test has failed anyway).
bool CompletesOnAnotherThread(std::function<void()> fn) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> f = done->get_future();
  std::thread([fn = std::move(fn), done] {
    fn();
    done->set_value();
  }).detach();
  return f.wait_for(kBound) == std::future_status::ready;
}

struct FakeClock final : Clock {
  std::atomic<TimePoint> now{TimePoint{} + std::chrono::hours(1)};
  TimePoint Now() const override { return now.load(); }
};

// A partition and what it needs, outside any store.
struct Fixture {
  explicit Fixture(std::chrono::nanoseconds delay)
      : schema(MakeSchema()),
        publisher(&clock),
        partition(new Partition(1, schema, &tracker, delay, &publisher)) {}
  ~Fixture() {
    partition->MarkDropped();
    partition->ReleaseSets();
    partition->Unref();
    tracker.Drain();
  }
  Contents Published() {
    rcu::ReadLock();
    Contents c = Dump(*partition->Published());
    rcu::ReadUnlock();
    return c;
  }
  uint64_t PublishedVersion() {
    rcu::ReadLock();
    const uint64_t v = partition->Published()->version;
    rcu::ReadUnlock();
    return v;
  }
  Schema schema;
  rcu::CallbackTracker tracker;
  FakeClock clock;
  Publisher publisher;
  Partition* partition;
};

// Pins the published set (as PinnedSnapshot does) until destroyed.
struct Pin {
  explicit Pin(Partition* p) {
    rcu::ReadLock();
    set = p->PinPublished();
    rcu::ReadUnlock();
  }
  ~Pin() {
    set->partition_pins->fetch_sub(1, std::memory_order_relaxed);
    set->pins.fetch_sub(1, std::memory_order_acq_rel);
    set->Unref();
  }
  MapSet* set;
};

// The contents after each version of a fault-free run (index: version).
std::vector<Contents> Reference() {
  Fixture f(std::chrono::nanoseconds(0));
  std::vector<Contents> out{f.Published()};
  for (int step = 0; step < kSteps; ++step) {
    std::unique_ptr<Delta> d = MakeBatch(f.schema, step);
    EXPECT_TRUE(f.partition->Commit(f.schema, d, false).ok());
    out.push_back(f.Published());
  }
  return out;
}

struct SweepParam {
  const char* name;
  std::chrono::nanoseconds delay;
  bool pin;
  bool hold_section;  // a reader holds a section across each commit: group commits seal
};

// Holds a read section on another thread until destroyed.
class HeldSection {
 public:
  HeldSection() {
    thread_ = std::thread([this] {
      rcu::ReadLock();
      in_ = true;
      while (!release_.load()) std::this_thread::yield();
      rcu::ReadUnlock();
    });
    while (!in_.load()) std::this_thread::yield();
  }
  ~HeldSection() {
    release_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> in_{false}, release_{false};
  std::thread thread_;
};

class PartitionFaultSweep : public ::testing::TestWithParam<SweepParam> {};

TEST_P(PartitionFaultSweep, CommitIsAllOrNothingUnderEveryAllocationFailure) {
  const SweepParam param = GetParam();
  const bool group = param.delay.count() > 0;
  const std::vector<Contents> expected = Reference();
  int64_t failures = 0;
  int64_t sealed_commits = 0;
  for (int64_t n = 1;; ++n) {
    Fixture f(param.delay);
    // A reader that checks every version it sees is whole.
    std::atomic<bool> stop{false};
    std::atomic<int64_t> bad{0};
    std::thread reader([&] {
      while (!stop.load()) {
        rcu::ReadLock();
        const MapSet* set = f.partition->Published();
        if (set->version >= expected.size() || Dump(*set) != expected[set->version]) ++bad;
        rcu::ReadUnlock();
      }
    });
    bool injected_in_run = false;
    for (int step = 0; step < kSteps; ++step) {
      std::unique_ptr<Delta> d = MakeBatch(f.schema, step);
      const auto before = DumpDelta(*d);
      const uint64_t published_before = f.PublishedVersion();
      std::unique_ptr<Pin> pin;
      if (param.pin) pin = std::make_unique<Pin>(f.partition);
      auto section = param.hold_section ? std::make_unique<HeldSection>() : nullptr;
      absl::StatusOr<CommitResult> r;
      bool fired;
      {
        testing::AllocFault fault(injected_in_run ? 0 : n);
        r = f.partition->Commit(f.schema, d, /*keep_sealed=*/group);
        fault.Disarm();
        fired = fault.fired();
      }
      if (param.hold_section && r.ok() && step > 0) sealed_commits += !r->visible;
      section.reset();
      injected_in_run |= fired;
      if (!r.ok()) {
        ++failures;
        ASSERT_TRUE(fired) << r.status();
        ASSERT_EQ(ErrorCodeOf(r.status()), ErrorCode::kNoMemory) << r.status();
        EXPECT_EQ(DumpDelta(*d), before) << "n=" << n << " step=" << step;
        const uint64_t v = f.PublishedVersion();
        EXPECT_EQ(v, published_before) << "n=" << n;
        EXPECT_EQ(f.Published(), expected[v]) << "n=" << n;
        // No lock left held: another thread publishes what is sealed.
        ASSERT_TRUE(CompletesOnAnotherThread([&] { EXPECT_TRUE(f.partition->Flush().ok()); }))
            << "n=" << n << " step=" << step << ": a lock was left held";
        // The retry gets the next version.
        r = f.partition->Commit(f.schema, d, group);
        ASSERT_TRUE(r.ok()) << r.status();
      }
      EXPECT_EQ(r->version, static_cast<uint64_t>(step + 1)) << "n=" << n;
    }
    ASSERT_TRUE(f.partition->Flush().ok());
    EXPECT_EQ(f.PublishedVersion(), static_cast<uint64_t>(kSteps));
    EXPECT_EQ(f.Published(), expected[kSteps]) << "n=" << n;
    stop = true;
    reader.join();
    EXPECT_EQ(bad.load(), 0) << "n=" << n;
    if (!injected_in_run) break;
  }
  EXPECT_GT(failures, 10);  // the sweep reached the publication
  if (param.hold_section) {
    EXPECT_GT(sealed_commits, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Policies, PartitionFaultSweep,
    ::testing::Values(SweepParam{"Immediate", std::chrono::nanoseconds(0), false, false},
                      SweepParam{"ImmediatePinned", std::chrono::nanoseconds(0), true, false},
                      SweepParam{"GroupCommit", std::chrono::milliseconds(1), false, false},
                      SweepParam{"GroupCommitPinned", std::chrono::milliseconds(1), true, false},
                      SweepParam{"GroupCommitSealing", std::chrono::milliseconds(1), false, true},
                      SweepParam{"GroupCommitSealingPinned", std::chrono::milliseconds(1), true,
                                 true}),
    [](const auto& info) { return std::string(info.param.name); });

// An allocation failure inside a commit must not leave the partition locked:
// dropping it and closing the store complete afterwards.
TEST(PartitionFault, DropAndCloseCompleteAfterAFailedCommit) {
  int64_t no_memory = 0;
  for (int64_t n = 1;; ++n) {
    StoreOptions o;
    o.tables = {{"t", nullptr, 0}};
    std::unique_ptr<Store> store = Store::Open(o).value();
    ASSERT_TRUE(store->CreatePartition(1).ok());
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(store->Put(1, 0, Key("k", i), Key("v", i)).ok());
    absl::StatusOr<uint64_t> r;
    bool fired;
    {
      testing::AllocFault fault(n);
      r = store->Commit(1);
      fault.Disarm();
      fired = fault.fired();
    }
    if (!r.ok()) {
      ASSERT_EQ(ErrorCodeOf(r.status()), ErrorCode::kNoMemory) << r.status();
      ++no_memory;
    }
    Store* raw = store.get();
    ASSERT_TRUE(CompletesOnAnotherThread([raw] {
      EXPECT_TRUE(raw->DropPartition(1).ok());
      EXPECT_TRUE(raw->Close().ok());
    })) << "n=" << n << ": drop or close hung after a failed commit";
    if (!fired) break;
  }
  EXPECT_GT(no_memory, 0);
}

// Group commit: a commit never waits for a grace period. A reader holds its
// section until the writer's K commits returned; if one of them waited for
// the grace period the reader holds up, it would wait until the bound.
TEST(PartitionGroupCommit, CommitsNeverWaitForAGracePeriod) {
  Fixture f(std::chrono::nanoseconds(1));  // every sealed batch is overdue at once
  constexpr int kCommits = 200;
  std::atomic<bool> in_section{false};
  std::atomic<bool> writer_done{false};
  std::atomic<bool> timed_out{false};
  std::thread reader([&] {
    rcu::ReadLock();
    in_section = true;
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    while (!writer_done.load()) {
      if (std::chrono::steady_clock::now() > deadline) {
        timed_out = true;
        break;
      }
      std::this_thread::yield();
    }
    rcu::ReadUnlock();
  });
  while (!in_section.load()) std::this_thread::yield();
  uint64_t sealed = 0;
  for (int i = 0; i < kCommits; ++i) {
    std::unique_ptr<Delta> d = MakeBatch(f.schema, i % kSteps);
    absl::StatusOr<CommitResult> r = f.partition->Commit(f.schema, d, true);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->version, static_cast<uint64_t>(i + 1));
    if (!r->visible) ++sealed;
    // Let the fake clock pass every deadline: the publisher must do the
    // waiting, not the commit.
    f.clock.now = f.clock.now.load() + std::chrono::seconds(1);
  }
  writer_done = true;
  reader.join();
  EXPECT_FALSE(timed_out.load()) << "a group commit waited for the reader's grace period";
  EXPECT_GT(sealed, 0u);
  EXPECT_EQ(f.partition->Stats().grace_waits, 0u);
  ASSERT_TRUE(f.partition->Flush().ok());
  EXPECT_EQ(f.PublishedVersion(), static_cast<uint64_t>(kCommits));
}

// Group commit: the sealed backlog is bounded. While a reader holds its
// section, no publication can complete and commits seal; once the sealed
// changes exceed SealedBacklogBound, the next commit publishes them itself,
// waiting for that reader, instead of sealing more. It returns only after the
// reader left, and nothing sealed is lost.
TEST(PartitionGroupCommit, CommitPastTheBacklogBoundPublishesItselfAndWaits) {
  Fixture f(std::chrono::hours(1));  // the publisher is never due
  constexpr size_t kBatch = kMinSealedBacklog / 4;
  constexpr int kCommits = 8;
  // Commit 1 publishes (the standby is reclaimed); 2-6 seal (5 batches, past
  // the bound of 4); commit 7 finds the backlog full and waits.
  constexpr int kBeforeFull = 6;
  ASSERT_EQ(SealedBacklogBound(kBatch), kMinSealedBacklog);
  auto section = std::make_unique<HeldSection>();
  std::atomic<int> done{0};
  std::thread writer([&] {
    for (int c = 0; c < kCommits; ++c) {
      auto d = std::make_unique<Delta>(f.schema.tables.size());
      for (size_t i = 0; i < kBatch; ++i) {
        ASSERT_TRUE(d->Put(f.schema, 0, Key("b", static_cast<int>(c * kBatch + i)), "v").ok());
      }
      absl::StatusOr<CommitResult> r = f.partition->Commit(f.schema, d, true);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->version, static_cast<uint64_t>(c + 1));
      done.fetch_add(1);
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  while (done.load() < kBeforeFull && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(done.load(), kBeforeFull) << "the commits before the bound did not return";
  // The next commit must not return while the reader holds its section: give
  // it time to (it would, in a few milliseconds, if it sealed).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(done.load(), kBeforeFull)
      << "a commit sealed past the backlog bound instead of publishing";
  // (Not Stats() here: the waiting commit holds the partition's mutex.)
  section.reset();  // the reader leaves: the waiting commit publishes
  writer.join();
  EXPECT_EQ(done.load(), kCommits);
  EXPECT_GE(f.partition->Stats().grace_waits, 1u);
  EXPECT_GE(f.partition->Stats().backlog_publications, 1u);
  ASSERT_TRUE(f.partition->Flush().ok());
  EXPECT_EQ(f.PublishedVersion(), static_cast<uint64_t>(kCommits));
  const Contents c = f.Published();
  EXPECT_EQ(c[0].size(), kCommits * kBatch);
}

// Group commit: the publisher publishes what was sealed once the clock passed
// the oldest sealed batch's deadline (plus the grace period it waits for),
// even if the writer never commits again, and not before the deadline.
TEST(PartitionGroupCommit, PublisherPublishesAtTheDeadlineAndNotBefore) {
  {
    const auto delay = std::chrono::milliseconds(5);
    Fixture f(delay);
    // While a reader holds its section, the set a publication retires cannot
    // be reclaimed: at the latest the second commit from now seals.
    auto section = std::make_unique<HeldSection>();
    uint64_t version = 0;
    absl::StatusOr<CommitResult> r;
    Clock::TimePoint sealed_at;
    for (int i = 0; i < 2; ++i) {
      std::unique_ptr<Delta> d = MakeBatch(f.schema, i);
      sealed_at = f.clock.Now();
      r = f.partition->Commit(f.schema, d, true);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->version, ++version);
      if (!r->visible) break;
    }
    ASSERT_FALSE(r->visible);
    const uint64_t published = f.PublishedVersion();
    EXPECT_EQ(published, version - 1);
    // Just before the deadline: the publisher does nothing (had it started
    // a round, it would wait for the held section and Poke with it).
    f.clock.now = sealed_at + delay - std::chrono::nanoseconds(1);
    ASSERT_TRUE(CompletesOnAnotherThread([&] { f.publisher.Poke(); }))
        << "the publisher started before the deadline";
    EXPECT_EQ(f.publisher.rounds(), 0u);
    EXPECT_EQ(f.PublishedVersion(), published);
    // At the deadline: it publishes, once the reader's section ended (the
    // grace period it waits for).
    f.clock.now = sealed_at + delay;
    section.reset();
    f.publisher.Poke();
    EXPECT_EQ(f.publisher.rounds(), 1u);
    EXPECT_EQ(f.PublishedVersion(), version);
    EXPECT_EQ(f.partition->Stats().grace_waits, 0u);  // no commit waited
  }
}

// ApproxBytes counts what the partition holds, including the deltas it keeps
// to replay onto its standby.
TEST(PartitionBytes, CountsTheDeltasItKeeps) {
  Fixture f(std::chrono::nanoseconds(0));
  EXPECT_GE(f.partition->ApproxBytes(), sizeof(Partition) + 2 * sizeof(MapSet));
  // A reader holds its section so that the old set's ticket cannot catch it
  // up: the batch stays in the partition's replay list.
  std::atomic<bool> in_section{false}, release{false};
  std::thread reader([&] {
    rcu::ReadLock();
    in_section = true;
    while (!release.load()) std::this_thread::yield();
    rcu::ReadUnlock();
  });
  while (!in_section.load()) std::this_thread::yield();
  auto d = std::make_unique<Delta>(f.schema.tables.size());
  constexpr size_t kValue = 1000;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(d->Put(f.schema, 0, Key("k", i), std::string(kValue, 'v')).ok());
  ASSERT_TRUE(f.partition->Commit(f.schema, d, false).ok());
  // The published set holds the values once, the replay list once more.
  EXPECT_GE(f.partition->ApproxBytes(), 2 * 200 * kValue);
  release = true;
  reader.join();
}

}  // namespace
}  // namespace rcustate::detail
