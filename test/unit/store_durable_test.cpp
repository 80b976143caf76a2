// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/store_durable_test.cpp
//
// Checkpoints, restore, the changelog listener and replay through the
// public C++ API, under every publication policy: round trips of every kind
// of table, chains of increments, restore + replay reproducing the live
// partition bit for bit, and the errors each promises.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "unit_util.hpp"

namespace rcustate {
namespace {

using namespace testing;  // NOLINT: unit_util.hpp's helpers

// A fresh directory under the test's temporary directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base ? base : "/tmp") + "/rcs-durable-XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Every table of the partition as published, sorted: equal digests mean
// equal contents, byte for byte.
std::string Digest(const Store& s, uint32_t p) {
  std::string out;
  for (TableId t = 0; t < kNumTables; ++t) {
    out += "table " + std::to_string(t) + "\n";
    for (const auto& [k, v] : PublishedTable(s, p, t)) {
      out += std::to_string(k.size()) + ":" + k + "=" + std::to_string(v.size()) + ":" + v + "\n";
    }
  }
  return out;
}

uint64_t VersionOf(const Store& s, uint32_t p) {
  absl::StatusOr<uint64_t> v = s.Version(p);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : ~uint64_t{0};
}

// A random change to the thread's delta of partition p: puts, erases and
// merges into every kind of table, sometimes a clear.
void RandomChange(Store& s, uint32_t p, std::mt19937_64& rng) {
  const std::string key = "k" + std::to_string(rng() % 40);
  const TableId t = static_cast<TableId>(rng() % kNumTables);
  const int what = static_cast<int>(rng() % 100);
  absl::Status st;
  if (what < 2) {
    st = s.Clear(p, t);
  } else if (what < 15) {
    st = s.Erase(p, t, key);
  } else if (t == kPlain || what < 40) {
    switch (t) {
      case kPlain: st = s.Put(p, t, key, std::string(rng() % 20, 'a' + rng() % 26)); break;
      case kFsum: st = s.Put(p, t, key, D(static_cast<double>(rng() % 1000) / 7)); break;
      case kLog: st = s.Put(p, t, key, "put" + std::to_string(rng() % 9)); break;
      default: st = s.Put(p, t, key, I(static_cast<int64_t>(rng() % 1000) - 500)); break;
    }
  } else {
    switch (t) {
      case kFsum: st = s.Merge(p, t, key, D(static_cast<double>(rng() % 1000) / 3)); break;
      case kLog: st = s.Merge(p, t, key, "+" + std::to_string(rng() % 9)); break;
      default: st = s.Merge(p, t, key, I(static_cast<int64_t>(rng() % 1000) - 500)); break;
    }
  }
  ASSERT_TRUE(st.ok()) << st;
}

class DurableTest : public StoreTest {
 protected:
  std::unique_ptr<Store> OpenAnother() {
    return OpenOrDie(AllKindsOfTables(), GetParam().max_publish_delay);
  }
  // Commits and makes the commit visible (Flush under group commit).
  uint64_t CommitVisible(Store& s, uint32_t p) {
    absl::StatusOr<uint64_t> v = s.Commit(p);
    EXPECT_TRUE(v.ok()) << v.status();
    if (IsGroupCommit(GetParam())) {
      EXPECT_TRUE(s.Flush(p).ok());
    }
    return v.ok() ? *v : 0;
  }
  // Restores `dir` as partition p of a new store and returns it.
  std::unique_ptr<Store> RestoredCopy(const std::string& dir, uint32_t p,
                                      CheckpointInfo* info = nullptr) {
    std::unique_ptr<Store> b = OpenAnother();
    absl::StatusOr<CheckpointInfo> r = b->Restore(p, dir);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok() && info != nullptr) *info = *r;
    return b;
  }
};

TEST_P(DurableTest, FullCheckpointRoundTripsEveryKindOfTable) {
  TempDir tmp;
  ASSERT_TRUE(s().CreatePartition(7).ok());
  const std::string nul_key("a\0b\0", 4);
  const std::string big(std::size_t{1} << 20 | 17, 'x');
  ASSERT_TRUE(s().Put(7, kPlain, nul_key, "nul key").ok());
  ASSERT_TRUE(s().Put(7, kPlain, "empty value", "").ok());
  ASSERT_TRUE(s().Put(7, kPlain, "", "empty key").ok());
  ASSERT_TRUE(s().Put(7, kPlain, "big", big).ok());
  ASSERT_TRUE(s().Merge(7, kSum, "s", I(-5)).ok());
  ASSERT_TRUE(s().Merge(7, kMin, "m", I(3)).ok());
  ASSERT_TRUE(s().Merge(7, kMax, "M", I(9)).ok());
  ASSERT_TRUE(s().Merge(7, kFsum, "f", D(0.1)).ok());
  ASSERT_TRUE(s().Merge(7, kLog, "l", std::string("\0\1", 2)).ok());
  const uint64_t v = CommitVisible(s(), 7);
  ASSERT_TRUE(s().Merge(7, kFsum, "f", D(0.2)).ok());  // 0.1 + 0.2: rounding kept
  const uint64_t v2 = CommitVisible(s(), 7);
  EXPECT_EQ(v2, v + 1);

  absl::StatusOr<CheckpointInfo> c = s().Checkpoint(7, tmp.sub("p7"), CheckpointKind::kFull);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->partition, 7u);
  EXPECT_EQ(c->version, v2);
  EXPECT_EQ(c->base_version, 0u);
  EXPECT_EQ(c->entries, 9u);
  EXPECT_GT(c->bytes, big.size());

  CheckpointInfo r;
  std::unique_ptr<Store> b = RestoredCopy(tmp.sub("p7"), 7, &r);
  EXPECT_EQ(r.version, v2);
  EXPECT_EQ(r.entries, 9u);
  EXPECT_EQ(VersionOf(*b, 7), v2);
  EXPECT_EQ(Digest(*b, 7), Digest(s(), 7));
  EXPECT_EQ(Published(*b, 7, kPlain, nul_key), "nul key");
  EXPECT_EQ(Published(*b, 7, kPlain, "big"), big);
  // The restored partition goes on at version + 1, merges on the restored values.
  ASSERT_TRUE(b->Merge(7, kSum, "s", I(6)).ok());
  EXPECT_EQ(CommitVisible(*b, 7), v2 + 1);
  EXPECT_EQ(AsInt(Published(*b, 7, kSum, "s")), 1);
  EXPECT_TRUE(b->Close().ok());
}

TEST_P(DurableTest, EmptyPartitionRoundTrips) {
  TempDir tmp;
  ASSERT_TRUE(s().CreatePartition(0).ok());
  absl::StatusOr<CheckpointInfo> c = s().Checkpoint(0, tmp.path(), CheckpointKind::kFull);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, 0u);
  EXPECT_EQ(c->entries, 0u);
  std::unique_ptr<Store> b = RestoredCopy(tmp.path(), 0);
  EXPECT_EQ(VersionOf(*b, 0), 0u);
  EXPECT_EQ(Digest(*b, 0), Digest(s(), 0));
  EXPECT_TRUE(b->Close().ok());
}

// Chains of 1, 2 and 20 increments with random puts, erases, merges and
// clears: after every increment the chain restores to the live partition.
TEST_P(DurableTest, ChainsOfIncrementsRestoreTheLivePartition) {
  for (int increments : {1, 2, 20}) {
    SCOPED_TRACE(increments);
    TempDir tmp;
    const uint32_t p = static_cast<uint32_t>(increments);
    ASSERT_TRUE(s().CreatePartition(p).ok());
    std::mt19937_64 rng(increments);
    for (int i = 0; i < 30; ++i) RandomChange(s(), p, rng);
    CommitVisible(s(), p);
    absl::StatusOr<CheckpointInfo> full = s().Checkpoint(p, tmp.path(), CheckpointKind::kFull);
    ASSERT_TRUE(full.ok()) << full.status();
    uint64_t previous = full->version;
    for (int n = 0; n < increments; ++n) {
      for (int c = 0; c < 3; ++c) {
        for (int i = 0; i < 8; ++i) RandomChange(s(), p, rng);
        CommitVisible(s(), p);
      }
      absl::StatusOr<CheckpointInfo> inc =
          s().Checkpoint(p, tmp.path(), CheckpointKind::kIncremental);
      ASSERT_TRUE(inc.ok()) << inc.status();
      EXPECT_TRUE(inc->incremental);
      EXPECT_EQ(inc->base_version, previous);
      EXPECT_EQ(inc->version, VersionOf(s(), p));
      previous = inc->version;
      CheckpointInfo r;
      std::unique_ptr<Store> b = RestoredCopy(tmp.path(), p, &r);
      EXPECT_EQ(r.version, previous);
      EXPECT_EQ(VersionOf(*b, p), previous);
      EXPECT_EQ(Digest(*b, p), Digest(s(), p)) << "after increment " << n;
      EXPECT_TRUE(b->Close().ok());
    }
  }
}

// An increment holds the keys changed since the base, not the state.
TEST_P(DurableTest, IncrementSizeFollowsTheChangedKeys) {
  TempDir tmp;
  ASSERT_TRUE(s().CreatePartition(1).ok());
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(s().Put(1, kPlain, "key" + std::to_string(i), std::string(32, 'v')).ok());
  }
  CommitVisible(s(), 1);
  absl::StatusOr<CheckpointInfo> full = s().Checkpoint(1, tmp.path(), CheckpointKind::kFull);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->entries, 20000u);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(s().Put(1, kPlain, "key" + std::to_string(i * 7), "changed").ok());
  }
  ASSERT_TRUE(s().Erase(1, kPlain, "key19999").ok());
  CommitVisible(s(), 1);
  absl::StatusOr<CheckpointInfo> inc = s().Checkpoint(1, tmp.path(), CheckpointKind::kIncremental);
  ASSERT_TRUE(inc.ok()) << inc.status();
  EXPECT_TRUE(inc->incremental);
  EXPECT_EQ(inc->entries, 11u);
  EXPECT_LT(inc->bytes, full->bytes / 100);
  // Nothing committed since: nothing written.
  absl::StatusOr<CheckpointInfo> again =
      s().Checkpoint(1, tmp.path(), CheckpointKind::kIncremental);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->version, inc->version);
  EXPECT_EQ(again->bytes, 0u);
}

// An incremental checkpoint into a directory this store did not write (or
// an empty one) is a full one.
TEST_P(DurableTest, IncrementalIsFullWithoutABaseOfOurs) {
  TempDir tmp;
  ASSERT_TRUE(s().CreatePartition(2).ok());
  ASSERT_TRUE(s().Put(2, kPlain, "a", "1").ok());
  CommitVisible(s(), 2);
  absl::StatusOr<CheckpointInfo> first = s().Checkpoint(2, tmp.sub("x"), CheckpointKind::kIncremental);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->incremental);
  EXPECT_EQ(first->base_version, 0u);
  // Another directory: its newest checkpoint is not the base of our record.
  ASSERT_TRUE(s().Put(2, kPlain, "b", "2").ok());
  CommitVisible(s(), 2);
  absl::StatusOr<CheckpointInfo> other = s().Checkpoint(2, tmp.sub("y"), CheckpointKind::kIncremental);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->incremental);
  std::unique_ptr<Store> b = RestoredCopy(tmp.sub("y"), 2);
  EXPECT_EQ(Digest(*b, 2), Digest(s(), 2));
  EXPECT_TRUE(b->Close().ok());
}

TEST_P(DurableTest, RestoreRefusesAndLeavesNoPartition) {
  TempDir tmp;
  ASSERT_TRUE(s().CreatePartition(3).ok());
  ASSERT_TRUE(s().Put(3, kPlain, "a", "1").ok());
  CommitVisible(s(), 3);
  ASSERT_TRUE(s().Checkpoint(3, tmp.path(), CheckpointKind::kFull).ok());
  // The partition exists.
  EXPECT_EQ(CodeOf(s().Restore(3, tmp.path())), ErrorCode::kExists);
  // No checkpoint there.
  std::unique_ptr<Store> b = OpenAnother();
  EXPECT_EQ(CodeOf(b->Restore(3, tmp.sub("missing"))), ErrorCode::kIo);
  EXPECT_FALSE(b->HasPartition(3));
  // Another partition's checkpoint.
  EXPECT_EQ(CodeOf(b->Restore(4, tmp.path())), ErrorCode::kCorrupt);
  EXPECT_FALSE(b->HasPartition(4));
  EXPECT_TRUE(b->Close().ok());
  // Another schema: the message names the difference.
  std::vector<TableSpec> tables = AllKindsOfTables();
  tables[kMax].merge = MinInt64();
  std::unique_ptr<Store> c = OpenOrDie(tables, GetParam().max_publish_delay);
  absl::StatusOr<CheckpointInfo> r = c->Restore(3, tmp.path());
  EXPECT_EQ(CodeOf(r), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("max"), std::string_view::npos) << r.status();
  EXPECT_FALSE(c->HasPartition(3));
  EXPECT_TRUE(c->Close().ok());
}

// Records of store A applied to store B, with duplicates and two records
// swapped, give B the contents of A at every version, bit for bit (AddDouble
// rounding included: records hold results, not operands).
TEST_P(DurableTest, ChangelogReplayReproducesEveryVersion) {
  std::vector<std::string> records;
  std::vector<uint64_t> versions;
  ASSERT_TRUE(s().SetChangelog([&](uint32_t p, uint64_t v, std::string_view rec) {
                   EXPECT_EQ(p, 5u);
                   records.emplace_back(rec);
                   versions.push_back(v);
                   return absl::OkStatus();
                 }).ok());
  ASSERT_TRUE(s().CreatePartition(5).ok());
  std::unique_ptr<Store> b = OpenAnother();
  ASSERT_TRUE(b->CreatePartition(5).ok());
  std::mt19937_64 rng(5);
  std::map<uint64_t, std::string> digest_at;
  for (int c = 0; c < 60; ++c) {
    for (int i = 0; i < 1 + static_cast<int>(rng() % 12); ++i) RandomChange(s(), 5, rng);
    const uint64_t v = CommitVisible(s(), 5);
    digest_at[v] = Digest(s(), 5);
  }
  ASSERT_EQ(records.size(), 60u);
  for (size_t i = 0; i < versions.size(); ++i) ASSERT_EQ(versions[i], i + 1) << "version order";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i + 1 < records.size() && i % 10 == 3) {
      // The later one first: a gap, refused, nothing applied.
      absl::StatusOr<uint64_t> gap = b->Apply(5, records[i + 1]);
      EXPECT_EQ(CodeOf(gap), ErrorCode::kState);
      EXPECT_NE(gap.status().message().find(std::to_string(i + 1)), std::string_view::npos)
          << gap.status();
    }
    absl::StatusOr<uint64_t> v = b->Apply(5, records[i]);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, i + 1);
    if (IsGroupCommit(GetParam())) {
      ASSERT_TRUE(b->Flush(5).ok());
    }
    EXPECT_EQ(Digest(*b, 5), digest_at[i + 1]) << "version " << i + 1;
    // A duplicate (this one and an older one) is skipped.
    absl::StatusOr<uint64_t> dup = b->Apply(5, records[i]);
    ASSERT_TRUE(dup.ok()) << dup.status();
    EXPECT_EQ(*dup, i + 1);
    ASSERT_TRUE(b->Apply(5, records[i / 2]).ok());
    if (IsGroupCommit(GetParam())) {
      ASSERT_TRUE(b->Flush(5).ok());
    }
    EXPECT_EQ(Digest(*b, 5), digest_at[i + 1]);
  }
  EXPECT_TRUE(b->Close().ok());
  ASSERT_TRUE(s().SetChangelog(nullptr).ok());
}

// Restore the checkpoint, then replay the records after its version:
// the live partition, bit for bit.
TEST_P(DurableTest, RestorePlusReplayIsTheLivePartition) {
  TempDir tmp;
  std::vector<std::string> records;
  ASSERT_TRUE(s().SetChangelog([&](uint32_t, uint64_t, std::string_view rec) {
                   records.emplace_back(rec);
                   return absl::OkStatus();
                 }).ok());
  ASSERT_TRUE(s().CreatePartition(6).ok());
  std::mt19937_64 rng(6);
  for (int c = 0; c < 20; ++c) {
    for (int i = 0; i < 10; ++i) RandomChange(s(), 6, rng);
    CommitVisible(s(), 6);
  }
  absl::StatusOr<CheckpointInfo> ck = s().Checkpoint(6, tmp.path(), CheckpointKind::kFull);
  ASSERT_TRUE(ck.ok()) << ck.status();
  for (int c = 0; c < 20; ++c) {
    for (int i = 0; i < 10; ++i) RandomChange(s(), 6, rng);
    CommitVisible(s(), 6);
  }
  std::unique_ptr<Store> b = RestoredCopy(tmp.path(), 6);
  for (size_t i = ck->version; i < records.size(); ++i) {
    absl::StatusOr<uint64_t> v = b->Apply(6, records[i]);
    ASSERT_TRUE(v.ok()) << v.status();
  }
  if (IsGroupCommit(GetParam())) {
    ASSERT_TRUE(b->Flush(6).ok());
  }
  EXPECT_EQ(VersionOf(*b, 6), VersionOf(s(), 6));
  EXPECT_EQ(Digest(*b, 6), Digest(s(), 6));
  EXPECT_TRUE(b->Close().ok());
  ASSERT_TRUE(s().SetChangelog(nullptr).ok());
}

// A listener that refuses: the commit fails with kIo, nothing is published,
// no version is consumed, the thread's delta is kept; the retry commits it.
TEST_P(DurableTest, RefusedCommitPublishesNothingAndLosesNothing) {
  std::atomic<bool> refuse{true};
  std::vector<uint64_t> accepted;
  ASSERT_TRUE(s().SetChangelog([&](uint32_t, uint64_t v, std::string_view) {
                   if (refuse.load()) return absl::UnavailableError("disk full");
                   accepted.push_back(v);
                   return absl::OkStatus();
                 }).ok());
  ASSERT_TRUE(s().CreatePartition(8).ok());
  ASSERT_TRUE(s().Merge(8, kSum, "n", I(5)).ok());
  ASSERT_TRUE(s().Put(8, kPlain, "a", "1").ok());
  absl::StatusOr<uint64_t> v = s().Commit(8);
  EXPECT_EQ(CodeOf(v), ErrorCode::kIo);
  EXPECT_NE(v.status().message().find("disk full"), std::string_view::npos) << v.status();
  if (IsGroupCommit(GetParam())) {
    ASSERT_TRUE(s().Flush(8).ok());
  }
  EXPECT_EQ(VersionOf(s(), 8), 0u);
  EXPECT_EQ(s().Stats(8)->committed_version, 0u);
  EXPECT_EQ(Published(s(), 8, kPlain, "a"), std::nullopt);
  EXPECT_EQ(AsInt(Own(s(), 8, kSum, "n")), 5);  // the delta is kept
  // A WriteBatch is kept too.
  WriteBatch batch(s());
  ASSERT_TRUE(batch.Put(kPlain, "b", "2").ok());
  EXPECT_EQ(CodeOf(batch.Commit(8)), ErrorCode::kIo);
  EXPECT_EQ(batch.size(), 1u);
  refuse = false;
  EXPECT_EQ(CommitVisible(s(), 8), 1u);
  ASSERT_TRUE(batch.Commit(8).ok());
  if (IsGroupCommit(GetParam())) {
    ASSERT_TRUE(s().Flush(8).ok());
  }
  EXPECT_EQ(accepted, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(AsInt(Published(s(), 8, kSum, "n")), 5);
  EXPECT_EQ(Published(s(), 8, kPlain, "b"), "2");
  ASSERT_TRUE(s().SetChangelog(nullptr).ok());
}

TEST_P(DurableTest, ApplyRefusesWhatIsNotItsNextRecord) {
  std::vector<std::string> records;
  ASSERT_TRUE(s().SetChangelog([&](uint32_t, uint64_t, std::string_view rec) {
                   records.emplace_back(rec);
                   return absl::OkStatus();
                 }).ok());
  ASSERT_TRUE(s().CreatePartition(9).ok());
  ASSERT_TRUE(s().Put(9, kPlain, "a", "1").ok());
  CommitVisible(s(), 9);
  ASSERT_TRUE(s().SetChangelog(nullptr).ok());
  ASSERT_EQ(records.size(), 1u);
  std::unique_ptr<Store> b = OpenAnother();
  ASSERT_TRUE(b->CreatePartition(9).ok());
  ASSERT_TRUE(b->CreatePartition(10).ok());
  EXPECT_EQ(CodeOf(b->Apply(10, records[0])), ErrorCode::kInvalidArgument);  // another partition
  EXPECT_EQ(CodeOf(b->Apply(11, records[0])), ErrorCode::kInvalidArgument);
  std::string bad = records[0];
  bad[bad.size() - 1] ^= 1;
  EXPECT_EQ(CodeOf(b->Apply(9, bad)), ErrorCode::kCorrupt);
  EXPECT_EQ(CodeOf(b->Apply(9, records[0].substr(0, 10))), ErrorCode::kCorrupt);
  EXPECT_EQ(CodeOf(b->Apply(9, "")), ErrorCode::kCorrupt);
  EXPECT_EQ(VersionOf(*b, 9), 0u);
  // A store whose table 0 has another name.
  std::vector<TableSpec> tables = AllKindsOfTables();
  tables[kPlain].name = "other";
  std::unique_ptr<Store> c = OpenOrDie(tables, GetParam().max_publish_delay);
  ASSERT_TRUE(c->CreatePartition(9).ok());
  absl::StatusOr<uint64_t> r = c->Apply(9, records[0]);
  EXPECT_EQ(CodeOf(r), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("other"), std::string_view::npos) << r.status();
  {
    ReadSection rs;
    EXPECT_EQ(CodeOf(b->Apply(9, records[0])), ErrorCode::kState);
  }
  ASSERT_TRUE(b->Apply(9, records[0]).ok());
  EXPECT_TRUE(b->Close().ok());
  EXPECT_TRUE(c->Close().ok());
}

// A checkpoint taken while a writer commits holds one whole version: every
// commit writes its version number into the partition, so the restored
// partition must say the version it was restored at, and hold that
// version's counter.
TEST_P(DurableTest, CheckpointDuringCommitsHoldsOneWholeVersion) {
  TempDir tmp;
  ASSERT_TRUE(s().CreatePartition(11).ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int64_t i = 1; !stop.load(); ++i) {
      ASSERT_TRUE(s().Put(11, kPlain, "version", std::to_string(i)).ok());
      ASSERT_TRUE(s().Merge(11, kSum, "count", I(1)).ok());
      ASSERT_TRUE(s().Put(11, kPlain, "k" + std::to_string(i % 500), std::to_string(i)).ok());
      ASSERT_TRUE(s().Commit(11).ok());
    }
  });
  for (int n = 0; n < 12; ++n) {
    absl::StatusOr<CheckpointInfo> ck = s().Checkpoint(
        11, tmp.path(), n % 3 == 0 ? CheckpointKind::kFull : CheckpointKind::kIncremental);
    ASSERT_TRUE(ck.ok()) << ck.status();
    CheckpointInfo r;
    std::unique_ptr<Store> b = RestoredCopy(tmp.path(), 11, &r);
    EXPECT_EQ(r.version, ck->version);
    if (r.version > 0) {
      EXPECT_EQ(Published(*b, 11, kPlain, "version"), std::to_string(r.version));
      EXPECT_EQ(AsInt(Published(*b, 11, kSum, "count")), static_cast<int64_t>(r.version));
    }
    EXPECT_TRUE(b->Close().ok());
  }
  stop = true;
  writer.join();
}

// Several writers commit merges to the same keys while publications run
// (under group commit, most commits seal and resolve their merges against
// the published set and the batches sealed before them): the records, in
// version order, replayed onto another store give the same partition.
TEST_P(DurableTest, ConcurrentWritersRecordsReplayToTheSamePartition) {
  absl::Mutex mu;
  std::map<uint64_t, std::string> records;  // by version
  ASSERT_TRUE(s().SetChangelog([&](uint32_t, uint64_t v, std::string_view rec) {
                   absl::MutexLock lock(&mu);
                   EXPECT_TRUE(records.emplace(v, std::string(rec)).second) << "version " << v;
                   return absl::OkStatus();
                 }).ok());
  ASSERT_TRUE(s().CreatePartition(12).ok());
  constexpr int kWriters = 3;
  const int commits = static_cast<int>(150 * StressScale());
  // What the merges must add up to, whatever order the commits took:
  // sums, maxima, and how many bytes each writer appended.
  std::vector<std::map<std::string, int64_t>> sums(kWriters), maxima(kWriters);
  std::vector<std::map<std::string, size_t>> appended(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(100 + w);
      for (int c = 0; c < commits; ++c) {
        for (int i = 0; i < 6; ++i) {
          const std::string key = "k" + std::to_string(rng() % 8);
          const int64_t n = static_cast<int64_t>(rng() % 100);
          const int64_t m = static_cast<int64_t>(rng() % 1000);
          ASSERT_TRUE(s().Merge(12, kSum, key, I(n)).ok());
          ASSERT_TRUE(s().Merge(12, kFsum, key, D(static_cast<double>(rng() % 1000) / 7)).ok());
          ASSERT_TRUE(s().Merge(12, kLog, key, std::to_string(w)).ok());
          ASSERT_TRUE(s().Merge(12, kMax, key, I(m)).ok());
          sums[w][key] += n;
          maxima[w][key] = std::max(maxima[w][key], m);
          ++appended[w][key];
        }
        ASSERT_TRUE(s().Commit(12).ok());
      }
    });
  }
  for (std::thread& t : writers) t.join();
  ASSERT_TRUE(s().Flush(12).ok());
  const uint64_t last = VersionOf(s(), 12);
  ASSERT_EQ(last, static_cast<uint64_t>(kWriters * commits));
  for (int k = 0; k < 8; ++k) {
    const std::string key = "k" + std::to_string(k);
    int64_t sum = 0, max = INT64_MIN;
    std::string log_bytes;
    for (int w = 0; w < kWriters; ++w) {
      sum += sums[w][key];
      if (maxima[w].count(key)) max = std::max(max, maxima[w][key]);
      log_bytes += std::string(appended[w][key], static_cast<char>('0' + w));
    }
    EXPECT_EQ(AsInt(Published(s(), 12, kSum, key)), sum) << key;
    EXPECT_EQ(AsInt(Published(s(), 12, kMax, key)), max) << key;
    std::optional<std::string> log = Published(s(), 12, kLog, key);
    ASSERT_TRUE(log.has_value()) << key;
    std::sort(log->begin(), log->end());
    EXPECT_EQ(*log, log_bytes) << key;
  }
  std::unique_ptr<Store> b = OpenAnother();
  ASSERT_TRUE(b->CreatePartition(12).ok());
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(records.size(), last);
    for (const auto& [v, rec] : records) {
      absl::StatusOr<uint64_t> got = b->Apply(12, rec);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(*got, v);
    }
  }
  ASSERT_TRUE(b->Flush(12).ok());
  EXPECT_EQ(Digest(*b, 12), Digest(s(), 12));
  EXPECT_TRUE(b->Close().ok());
  ASSERT_TRUE(s().SetChangelog(nullptr).ok());
}

INSTANTIATE_TEST_SUITE_P(Policies, DurableTest, ::testing::ValuesIn(AllPolicies()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rcustate
