// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/stress/differential_test.cpp
//
// Differential test: a long random sequence of operations (puts, erases,
// merges, clears, aborts, thread-local deltas written through the store and
// through write handles, explicit batches, commits,
// flushes, pins, partition drops and re-creates) is applied to rcustate and
// to a simple model (a mutex-protected std::map per partition and table),
// under every publication policy.
//
// Checked after every commit: the committing thread's view (Store::Get for
// every key, read-your-writes) equals the model's committed state; the
// published snapshot, whatever its version v, equals the model's state after
// exactly v commits (so group commit may lag, never tear or reorder); pins
// still equal the state they pinned. After every Flush the published version
// is the committed one.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "rcustate/rcustate.hpp"
#include "test/common/test_env.hpp"

namespace rcustate {
namespace {

constexpr int kTables = 3;  // 0: plain, 1: add_i64, 2: append
constexpr uint32_t kPartitions = 4;
constexpr int kKeySpace = 48;

using TableState = std::map<std::string, std::string>;
using PartitionState = std::vector<TableState>;  // per table

// The model: committed state per partition, history of states by version,
// and the pending (uncommitted) changes of the thread-local delta and of the
// explicit batch, expressed as functions of the state.
class Model {
 public:
  struct Change {
    enum Kind { kPut, kErase, kMerge, kClear } kind;
    int table;
    std::string key, value;
  };

  void Create(uint32_t p) {
    std::lock_guard<std::mutex> l(mu_);
    parts_[p] = Partition{};
  }
  void Drop(uint32_t p) {
    std::lock_guard<std::mutex> l(mu_);
    parts_.erase(p);
  }
  bool Exists(uint32_t p) {
    std::lock_guard<std::mutex> l(mu_);
    return parts_.count(p) != 0;
  }
  // Applies a batch as one commit; returns the new version.
  uint64_t Commit(uint32_t p, const std::vector<Change>& batch) {
    std::lock_guard<std::mutex> l(mu_);
    Partition& part = parts_.at(p);
    for (const Change& c : batch) Apply(part.state, c);
    ++part.version;
    part.history[part.version] = part.state;
    return part.version;
  }
  PartitionState State(uint32_t p) {
    std::lock_guard<std::mutex> l(mu_);
    return parts_.at(p).state;
  }
  uint64_t Version(uint32_t p) {
    std::lock_guard<std::mutex> l(mu_);
    return parts_.at(p).version;
  }
  // State after exactly `version` commits, if still remembered.
  std::optional<PartitionState> StateAt(uint32_t p, uint64_t version) {
    std::lock_guard<std::mutex> l(mu_);
    Partition& part = parts_.at(p);
    auto it = part.history.find(version);
    if (it == part.history.end()) return std::nullopt;
    return it->second;
  }
  // Forgets history older than `version`.
  void Trim(uint32_t p, uint64_t version) {
    std::lock_guard<std::mutex> l(mu_);
    auto& h = parts_.at(p).history;
    h.erase(h.begin(), h.lower_bound(version));
  }

  static void Apply(PartitionState& s, const Change& c) {
    TableState& t = s[c.table];
    switch (c.kind) {
      case Change::kPut: t[c.key] = c.value; break;
      case Change::kErase: t.erase(c.key); break;
      case Change::kClear: t.clear(); break;
      case Change::kMerge: {
        auto it = t.find(c.key);
        if (c.table == 1) {
          int64_t base = it == t.end() ? 0 : DecodeInt64(it->second).value();
          int64_t add = DecodeInt64(c.value).value();
          t[c.key] = EncodeInt64(static_cast<int64_t>(static_cast<uint64_t>(base) +
                                                      static_cast<uint64_t>(add)));
        } else {
          t[c.key] = (it == t.end() ? std::string() : it->second) + c.value;
        }
        break;
      }
    }
  }

 private:
  struct Partition {
    uint64_t version = 0;
    PartitionState state = PartitionState(kTables);
    std::map<uint64_t, PartitionState> history{{0, PartitionState(kTables)}};
  };
  std::mutex mu_;
  std::map<uint32_t, Partition> parts_;
};

class DifferentialTest : public ::testing::TestWithParam<testing::Policy> {};

TEST_P(DifferentialTest, RandomOperationsMatchModel) {
  StoreOptions o;
  o.tables = {{"plain", nullptr, 0}, {"sum", AddInt64(), 0}, {"log", Append(), 0}};
  o.max_publish_delay = GetParam().max_publish_delay;
  o.read_flavor = GetParam().read_flavor;
  auto store = Store::Open(o).value();
  testing::ReaderThread online(*store);  // QSBR: online throughout, commits included
  Model model;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    ASSERT_TRUE(store->CreatePartition(p).ok());
    model.Create(p);
  }

  std::mt19937_64 rng(0x5eed + GetParam().max_publish_delay / absl::Nanoseconds(1));
  auto pick = [&](uint64_t n) { return static_cast<uint64_t>(rng() % n); };
  const uint64_t kOps = static_cast<uint64_t>(120000 * testing::StressScale());

  // Pending changes per partition (thread-local delta) and one explicit batch.
  std::map<uint32_t, std::vector<Model::Change>> local;
  // Write handles on the thread-local deltas, one per (partition, table),
  // made once: they live through commits, aborts, drops and re-creations.
  std::vector<WriteHandle> handles;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    for (int t = 0; t < kTables; ++t) handles.push_back(store->Writer(p, t).value());
  }
  auto handle = [&](uint32_t p, int t) -> WriteHandle& { return handles[p * kTables + t]; };
  uint64_t handle_writes = 0;
  WriteBatch batch(*store);
  std::vector<Model::Change> batch_changes;
  struct Pinned {
    PinnedSnapshot pin;
    PartitionState state;
  };
  std::vector<Pinned> pins;
  uint64_t commits = 0, checks = 0;

  auto random_change = [&]() {
    Model::Change c;
    c.table = static_cast<int>(pick(kTables));
    c.key = "k" + std::to_string(pick(kKeySpace));
    const uint64_t r = pick(100);
    if (r < 45) {
      c.kind = Model::Change::kPut;
      c.value = c.table == 1 ? EncodeInt64(static_cast<int64_t>(pick(1000)) - 500)
                             : std::string(pick(24), static_cast<char>('a' + pick(26)));
    } else if (r < 60) {
      c.kind = Model::Change::kErase;
    } else if (r < 98) {
      c.kind = c.table == 0 ? Model::Change::kPut : Model::Change::kMerge;
      c.value = c.table == 1 ? EncodeInt64(static_cast<int64_t>(pick(100)))
                             : std::string(1 + pick(3), static_cast<char>('A' + pick(26)));
    } else {
      c.kind = Model::Change::kClear;
    }
    return c;
  };
  auto apply_to = [&](auto&& put, auto&& erase, auto&& merge, auto&& clear, const Model::Change& c) {
    switch (c.kind) {
      case Model::Change::kPut: return put(c.table, c.key, c.value);
      case Model::Change::kErase: return erase(c.table, c.key);
      case Model::Change::kMerge: return merge(c.table, c.key, c.value);
      case Model::Change::kClear: return clear(c.table);
    }
    return absl::InternalError("unreachable");
  };

  // The view of a partition as this thread sees it: committed + local delta.
  auto expected_view = [&](uint32_t p) {
    PartitionState s = model.State(p);
    for (const auto& c : local[p]) Model::Apply(s, c);
    return s;
  };
  auto check_thread_view = [&](uint32_t p) {
    PartitionState want = expected_view(p);
    testing::Section rs(*store);
    for (int t = 0; t < kTables; ++t) {
      for (int k = 0; k < kKeySpace; ++k) {
        std::string key = "k" + std::to_string(k);
        auto got = store->Get(p, t, key);
        ASSERT_TRUE(got.ok()) << got.status();
        auto it = want[t].find(key);
        if (it == want[t].end()) {
          ASSERT_FALSE(got->has_value()) << "p" << p << " t" << t << " " << key;
        } else {
          ASSERT_TRUE(got->has_value()) << "p" << p << " t" << t << " " << key;
          ASSERT_EQ(**got, it->second) << "p" << p << " t" << t << " " << key;
        }
      }
    }
    ++checks;
  };
  auto equal_to = [](const TableView& view, const TableState& want) {
    if (view.size() != want.size()) return false;
    bool same = true;
    view.ForEach([&](std::string_view k, std::string_view v) {
      auto it = want.find(std::string(k));
      if (it == want.end() || it->second != v) same = false;
      return same;
    });
    return same;
  };
  auto check_published = [&](uint32_t p) {
    testing::Section rs(*store);
    SnapshotView snap = store->Snapshot(p).value();
    std::optional<PartitionState> want = model.StateAt(p, snap.version());
    ASSERT_TRUE(want.has_value()) << "published version " << snap.version()
                                  << " is older than the last flush";
    for (int t = 0; t < kTables; ++t) {
      ASSERT_TRUE(equal_to(snap.Table(t).value(), (*want)[t]))
          << "partition " << p << " table " << t << " at version " << snap.version();
    }
  };

  for (uint64_t i = 0; i < kOps; ++i) {
    const uint32_t p = static_cast<uint32_t>(pick(kPartitions));
    const uint64_t r = pick(1000);
    if (r < 350) {  // a change to the thread-local delta through the store
      Model::Change c = random_change();
      absl::Status s = apply_to(
          [&](int t, auto& k, auto& v) { return store->Put(p, t, k, v); },
          [&](int t, auto& k) { return store->Erase(p, t, k); },
          [&](int t, auto& k, auto& v) { return store->Merge(p, t, k, v); },
          [&](int t) { return store->Clear(p, t); }, c);
      ASSERT_TRUE(s.ok()) << s;
      local[p].push_back(c);
    } else if (r < 700) {  // the same through the partition's write handles
      Model::Change c = random_change();
      absl::Status s = apply_to(
          [&](int t, auto& k, auto& v) { return handle(p, t).Put(k, v); },
          [&](int t, auto& k) { return handle(p, t).Erase(k); },
          [&](int t, auto& k, auto& v) { return handle(p, t).Merge(k, v); },
          [&](int t) { return store->Clear(p, t); }, c);
      ASSERT_TRUE(s.ok()) << s;
      local[p].push_back(c);
      ++handle_writes;
    } else if (r < 800) {  // a change to the explicit batch
      Model::Change c = random_change();
      absl::Status s = apply_to(
          [&](int t, auto& k, auto& v) { return batch.Put(t, k, v); },
          [&](int t, auto& k) { return batch.Erase(t, k); },
          [&](int t, auto& k, auto& v) { return batch.Merge(t, k, v); },
          [&](int t) { return batch.Clear(t); }, c);
      ASSERT_TRUE(s.ok()) << s;
      batch_changes.push_back(c);
    } else if (r < 930) {  // commit the thread-local delta
      auto v = store->Commit(p);
      ASSERT_TRUE(v.ok()) << v.status();
      ASSERT_EQ(*v, model.Commit(p, local[p]));
      local[p].clear();
      ++commits;
      check_thread_view(p);
      check_published(p);
    } else if (r < 950) {  // commit the batch
      auto v = batch.Commit(p);
      ASSERT_TRUE(v.ok()) << v.status();
      ASSERT_EQ(*v, model.Commit(p, batch_changes));
      ASSERT_TRUE(batch.empty());
      batch_changes.clear();
      ++commits;
      check_thread_view(p);
      check_published(p);
    } else if (r < 965) {  // flush: everything committed becomes visible
      ASSERT_EQ(store->Flush(p).value(), model.Version(p));
      model.Trim(p, model.Version(p));
      check_published(p);
    } else if (r < 975) {
      ASSERT_TRUE(store->Abort(p).ok());
      local[p].clear();
      check_thread_view(p);
    } else if (r < 990) {  // pin now, check old pins
      auto pin = store->Pin(p);
      ASSERT_TRUE(pin.ok());
      auto state = model.StateAt(p, pin->version());
      ASSERT_TRUE(state.has_value());
      pins.push_back(Pinned{*std::move(pin), *state});
      for (Pinned& pd : pins) {
        for (int t = 0; t < kTables; ++t) {
          ASSERT_TRUE(equal_to(pd.pin.Table(t).value(), pd.state[t])) << "pin changed";
        }
      }
      if (pins.size() > 3) pins.erase(pins.begin());
    } else {  // drop and re-create: version 0, empty, pending changes gone
      ASSERT_TRUE(store->DropPartition(p).ok());
      model.Drop(p);
      if (pick(2) == 0) {
        auto lost = store->Commit(p);
        ASSERT_EQ(ErrorCodeOf(lost.status()), ErrorCode::kNoPartition);
      } else {  // a handle notices first
        absl::Status lost = handle(p, 0).Put("k0", "x");
        ASSERT_EQ(ErrorCodeOf(lost), ErrorCode::kNoPartition) << lost;
      }
      ASSERT_TRUE(store->CreatePartition(p).ok());
      model.Create(p);
      local[p].clear();
      ASSERT_EQ(store->Version(p).value(), 0u);
      check_thread_view(p);
    }
  }
  std::printf("[%s] ops=%lu commits=%lu full-view checks=%lu handle writes=%lu\n",
              GetParam().name.c_str(), (unsigned long)kOps, (unsigned long)commits,
              (unsigned long)checks, (unsigned long)handle_writes);
  EXPECT_GT(commits, kOps / 10);
}

INSTANTIATE_TEST_SUITE_P(Policies, DifferentialTest, ::testing::ValuesIn(testing::AllPoliciesAndFlavors()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rcustate
