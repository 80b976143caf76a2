// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_durable_fault_test.cpp
//
// Allocation failure (test/common/alloc_fault.hpp) in every allocation of
// Checkpoint, Restore, Apply and of a commit with a changelog listener, one
// at a time, under the publication policies:
//  - each call returns OK or kNoMemory;
//  - the partition is then at its old version or its new one, whole
//    (versioned_state.hpp says exactly what each version holds);
//  - a checkpoint that failed left the previous chain restorable and no
//    temporary, and the next increment still holds every change (the failed
//    one gave its record of changed keys back);
//  - a restore that failed left no partition (nothing partial, nothing
//    leaked: Partition::Live());
//  - an apply that failed applied nothing, the next one works;
//  - a commit that failed was not accepted by the listener either (the log
//    never holds a version the store does not), kept the thread's delta, and
//    the retry commits it: the listener's records replay to the partition.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/alloc_fault.hpp"
#include "durable/child_process.hpp"
#include "durable/versioned_state.hpp"
#include "rcustate/rcustate.hpp"
#include "src/core/partition.hpp"
#include "unit/unit_util.hpp"

namespace rcustate::testing {
namespace {

constexpr uint32_t kP = 3;

size_t Temporaries(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".rcsckpt-tmp") ++n;
  }
  return n;
}

// A changelog listener that never allocates (the failing thread runs it):
// versions and records go to storage reserved up front.
class Log {
 public:
  static constexpr size_t kMax = 2048;
  Log() {
    records_.resize(kMax);
    for (std::string& r : records_) r.reserve(64 << 10);
  }
  ChangelogFn Listener() {
    return [this](uint32_t, uint64_t version, std::string_view record) {
      if (size_ == kMax || record.size() > records_[size_].capacity()) {
        return absl::ResourceExhaustedError("test log full");
      }
      versions_[size_] = version;
      records_[size_].assign(record.data(), record.size());  // within capacity: no allocation
      ++size_;
      return absl::OkStatus();
    };
  }
  size_t size() const { return size_; }
  uint64_t last() const { return size_ == 0 ? 0 : versions_[size_ - 1]; }
  uint64_t version(size_t i) const { return versions_[i]; }
  const std::string& record(size_t i) const { return records_[i]; }

 private:
  std::array<uint64_t, kMax> versions_{};
  std::vector<std::string> records_;
  size_t size_ = 0;
};

// The call's result; an exception escaping it (the API promises none) is
// kInternal with the exception's description.
template <typename Fn>
auto Call(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInternal, std::string("exception escaped: ") + e.what());
  }
}

class DurableFault : public ::testing::TestWithParam<Policy> {
 protected:
  void SetUp() override {
    store_ = OpenOrDie(AllKindsOfTables(), GetParam().max_publish_delay);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->CreatePartition(kP).ok());
  }
  void TearDown() override {
    if (store_ != nullptr) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }
  std::unique_ptr<Store> Open() { return OpenOrDie(AllKindsOfTables(), GetParam().max_publish_delay); }
  void Visible(Store& s) {
    if (IsGroupCommit(GetParam())) {
      ASSERT_TRUE(s.Flush(kP).ok());
    }
  }
  // Commits versions up to `to` (unarmed) and makes them visible.
  void CommitTo(uint64_t to) {
    for (uint64_t v = version_ + 1; v <= to; ++v) {
      ASSERT_TRUE(WriteVersion(*store_, kP, v).ok());
      absl::StatusOr<uint64_t> c = store_->Commit(kP);
      ASSERT_TRUE(c.ok()) << c.status();
      ASSERT_EQ(*c, v);
    }
    version_ = to;
    Visible(*store_);
  }
  // The chain of `dir` restores to exactly version v.
  void ExpectChainAt(const std::string& dir, uint64_t v) {
    std::unique_ptr<Store> b = Open();
    absl::StatusOr<CheckpointInfo> r = b->Restore(kP, dir);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->version, v);
    EXPECT_EQ(DiffFromExpected(*b, kP, r->version), "");
    EXPECT_TRUE(b->Close().ok());
  }

  std::unique_ptr<Store> store_;
  uint64_t version_ = 0;
};

TEST_P(DurableFault, CheckpointFailsWholeAndGivesItsChangesBack) {
  ScratchDir tmp("rcs-fault");
  const std::string dir = tmp.path() + "/p";
  // Every key exists from version kBulk on: each step of the sweep then
  // writes the same number of entries (the same allocations).
  CommitTo(kBulk + 10);
  ASSERT_TRUE(store_->Checkpoint(kP, dir, CheckpointKind::kFull).ok());
  uint64_t chain = version_;
  int injected = 0, failed = 0;
  for (CheckpointKind kind : {CheckpointKind::kIncremental, CheckpointKind::kFull}) {
    for (int64_t n = 1;; ++n) {
      SCOPED_TRACE("allocation " + std::to_string(n));
      CommitTo(version_ + 2);
      const std::string live = DigestOf(*store_, kP);
      AllocFault fault(n);
      absl::StatusOr<CheckpointInfo> r = Call([&] { return store_->Checkpoint(kP, dir, kind); });
      fault.Disarm();
      if (fault.fired()) ++injected;
      if (r.ok()) {
        EXPECT_EQ(r->version, version_);
        chain = r->version;
        // (A failure that cannot fail the checkpoint: the next one is full.)
      } else {
        ++failed;
        ASSERT_EQ(CodeOf(r.status()), ErrorCode::kNoMemory) << r.status();
      }
      // The store is unchanged, the directory holds a whole chain, no temporary.
      EXPECT_EQ(DigestOf(*store_, kP), live);
      EXPECT_EQ(*store_->Version(kP), version_);
      EXPECT_EQ(Temporaries(dir), 0u) << (r.ok() ? std::string("OK") : r.status().ToString());
      ExpectChainAt(dir, chain);
      if (::testing::Test::HasFailure()) return;
      if (!fault.fired()) break;
      if (r.ok()) {
        // Back to one file (a checkpoint that succeeded despite the failure
        // may have lengthened the chain, or skipped the deletion of the
        // older one): listing the directory costs the same allocations at
        // every step of the sweep.
        ASSERT_TRUE(store_->Checkpoint(kP, dir, CheckpointKind::kFull).ok());
        ASSERT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                                std::filesystem::directory_iterator()),
                  1);
      }
    }
  }
  EXPECT_GT(failed, 10);
  // The last (successful) increment after all those failures holds every
  // change since the chain's last good version.
  CommitTo(version_ + 5);
  absl::StatusOr<CheckpointInfo> inc = store_->Checkpoint(kP, dir, CheckpointKind::kIncremental);
  ASSERT_TRUE(inc.ok()) << inc.status();
  EXPECT_TRUE(inc->incremental);
  ExpectChainAt(dir, version_);
  std::printf("%d checkpoint allocations failed, %d checkpoints failed\n", injected, failed);
}

TEST_P(DurableFault, RestoreFailsWithoutLeavingAPartition) {
  ScratchDir tmp("rcs-fault");
  CommitTo(30);
  ASSERT_TRUE(store_->Checkpoint(kP, tmp.path(), CheckpointKind::kFull).ok());
  CommitTo(60);
  ASSERT_TRUE(store_->Checkpoint(kP, tmp.path(), CheckpointKind::kIncremental).ok());
  CommitTo(70);
  ASSERT_TRUE(store_->Checkpoint(kP, tmp.path(), CheckpointKind::kIncremental).ok());
  int failed = 0;
  for (int64_t n = 1;; ++n) {
    SCOPED_TRACE("allocation " + std::to_string(n));
    std::unique_ptr<Store> b = Open();
    const int64_t live = detail::Partition::Live();
    AllocFault fault(n);
    absl::StatusOr<CheckpointInfo> r = Call([&] { return b->Restore(kP, tmp.path()); });
    fault.Disarm();
    if (r.ok()) {
      EXPECT_EQ(r->version, 70u);
      EXPECT_EQ(DiffFromExpected(*b, kP, 70), "");
    } else {
      ++failed;
      ASSERT_EQ(CodeOf(r.status()), ErrorCode::kNoMemory) << r.status();
      EXPECT_FALSE(b->HasPartition(kP));
      EXPECT_EQ(b->ListPartitions().size(), 0u);
      EXPECT_EQ(detail::Partition::Live(), live) << "a failed restore left a partition";
      // The next restore works.
      absl::StatusOr<CheckpointInfo> again = b->Restore(kP, tmp.path());
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_EQ(DiffFromExpected(*b, kP, 70), "");
    }
    EXPECT_TRUE(b->Close().ok());
    if (::testing::Test::HasFailure()) return;
    if (!fault.fired()) break;
  }
  EXPECT_GT(failed, 10);
}

// Apply of record k (of a log of 8) into a replica at version k, with a
// listener on the replica too.
TEST_P(DurableFault, ApplyFailsWhole) {
  Log log;
  ASSERT_TRUE(store_->SetChangelog(log.Listener()).ok());
  CommitTo(8);
  ASSERT_EQ(log.size(), 8u);
  int failed = 0;
  for (size_t k : {size_t{0}, size_t{4}}) {
    for (int64_t n = 1;; ++n) {
      SCOPED_TRACE("record " + std::to_string(k) + ", allocation " + std::to_string(n));
      std::unique_ptr<Store> b = Open();
      Log replica_log;
      ASSERT_TRUE(b->SetChangelog(replica_log.Listener()).ok());
      ASSERT_TRUE(b->CreatePartition(kP).ok());
      for (size_t i = 0; i < k; ++i) ASSERT_TRUE(b->Apply(kP, log.record(i)).ok());
      AllocFault fault(n);
      absl::StatusOr<uint64_t> r = Call([&] { return b->Apply(kP, log.record(k)); });
      fault.Disarm();
      Visible(*b);
      if (r.ok()) {
        EXPECT_EQ(*r, k + 1);
        EXPECT_EQ(DiffFromExpected(*b, kP, k + 1), "");
        EXPECT_EQ(replica_log.last(), k + 1);
      } else {
        ++failed;
        ASSERT_EQ(CodeOf(r.status()), ErrorCode::kNoMemory) << r.status();
        EXPECT_EQ(*b->Version(kP), k);
        EXPECT_EQ(b->Stats(kP)->committed_version, k);
        EXPECT_EQ(DiffFromExpected(*b, kP, k), "");
        EXPECT_EQ(replica_log.last(), k) << "the listener accepted a commit that failed";
        absl::StatusOr<uint64_t> again = b->Apply(kP, log.record(k));
        ASSERT_TRUE(again.ok()) << again.status();
        Visible(*b);
        EXPECT_EQ(DiffFromExpected(*b, kP, k + 1), "");
      }
      EXPECT_TRUE(b->Close().ok());
      if (::testing::Test::HasFailure()) return;
      if (!fault.fired()) break;
    }
  }
  EXPECT_GT(failed, 5);
  ASSERT_TRUE(store_->SetChangelog(nullptr).ok());
}

// Every allocation of a commit with a listener, failing in turn: a failed
// commit keeps the delta and is retried (not rewritten).
TEST_P(DurableFault, CommitWithAListenerFailsWhole) {
  Log log;
  ASSERT_TRUE(store_->SetChangelog(log.Listener()).ok());
  CommitTo(5);
  int failed = 0;
  bool pending = false;  // a failed commit's delta awaits its retry
  for (int64_t n = 1;; ++n) {
    SCOPED_TRACE("allocation " + std::to_string(n));
    if (!pending) {
      ASSERT_TRUE(WriteVersion(*store_, kP, version_ + 1).ok());
    }
    AllocFault fault(n);
    absl::StatusOr<uint64_t> c = Call([&] { return store_->Commit(kP); });
    fault.Disarm();
    if (c.ok()) {
      ASSERT_EQ(*c, version_ + 1);
      ++version_;
      pending = false;
      EXPECT_EQ(log.last(), version_);
    } else {
      ++failed;
      ASSERT_EQ(CodeOf(c.status()), ErrorCode::kNoMemory) << c.status();
      pending = true;
      EXPECT_EQ(log.last(), version_) << "the listener accepted a commit that failed";
      EXPECT_EQ(store_->Stats(kP)->committed_version, version_);
      // The delta is kept: this thread still reads its own version.
      EXPECT_EQ(Own(*store_, kP, kPlain, "version"), std::to_string(version_ + 1));
    }
    Visible(*store_);
    EXPECT_EQ(*store_->Version(kP), version_);
    EXPECT_EQ(DiffFromExpected(*store_, kP, version_), "");
    if (::testing::Test::HasFailure()) return;
    if (!fault.fired() && !pending) break;
  }
  EXPECT_GT(failed, 3);
  // The log: every version once, in order; replayed, the partition.
  ASSERT_EQ(log.size(), version_);
  std::unique_ptr<Store> b = Open();
  ASSERT_TRUE(b->CreatePartition(kP).ok());
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log.version(i), i + 1);
    ASSERT_TRUE(b->Apply(kP, log.record(i)).ok());
  }
  Visible(*b);
  EXPECT_EQ(DigestOf(*b, kP), DigestOf(*store_, kP));
  EXPECT_TRUE(b->Close().ok());
  ASSERT_TRUE(store_->SetChangelog(nullptr).ok());
}

INSTANTIATE_TEST_SUITE_P(Policies, DurableFault, ::testing::ValuesIn(AllPolicies()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rcustate::testing
