// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fault/cpp_steps.cpp
//
// The steps of the sweep through the C++ API, in scenario order: open,
// create, changes through the thread delta and a WriteBatch, commits, flush,
// pins, TableReader, reads, list, stats, drop, close and destroy.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fault/sweep.hpp"

namespace rcustate::testing::fault {
namespace {

// ListPartitions' result, whether it is a vector or a StatusOr of one.
void TakeList(std::vector<uint32_t> got, std::vector<uint32_t>* ids, absl::Status*) {
  *ids = std::move(got);
}
[[maybe_unused]] void TakeList(absl::StatusOr<std::vector<uint32_t>> got,
                               std::vector<uint32_t>* ids, absl::Status* status) {
  *status = got.status();
  if (got.ok()) *ids = *std::move(got);
}

bool StepOpen(Ctx& c, int64_t n) {
  std::unique_ptr<Store> s;
  bool fired = false;
  OpenCpp(c, s, n, &fired);
  CheckNoReadSection(c);
  if (n == 0 || !fired) {
    c.store = std::move(s);
  } else if (s != nullptr && !s->Close().ok()) {
    c.log.Fail("closing a store opened with an injected failure");
  }
  return fired;
}

bool StepCreate(Ctx& c, int64_t n) {
  if (n == 0 && c.history.empty()) {
    if (!c.store->CreatePartition(kP).ok()) c.log.Fail("CreatePartition (disarmed)");
    c.history = {State{}};
    return false;
  }
  if (c.history.empty()) {  // the partition the checks read
    if (!c.store->CreatePartition(kP).ok()) c.log.Fail("CreatePartition (disarmed)");
    c.history = {State{}};
  }
  const uint32_t q = 1000 + static_cast<uint32_t>(n);
  absl::Status s;
  bool fired = Armed(c, n, [&] { s = c.store->CreatePartition(q); });
  ExpectOkOrNoMemory(c, s, fired, "CreatePartition");
  const bool ok = s.ok() && !c.threw;
  if (ok != c.store->HasPartition(q)) {
    c.log.Fail(ok ? "CreatePartition succeeded but the partition is missing"
                  : "a failed CreatePartition left the partition behind");
  }
  CheckAfter(c, "after CreatePartition");
  c.log.Progress("finish");
  if (c.store->HasPartition(q) && !c.store->DropPartition(q).ok()) c.log.Fail("drop (disarmed)");
  return fired;
}

bool StepPut(Ctx& c, int64_t n) { return DeltaOps(c, n, Puts(c, Scaled(24))); }

bool StepMerge(Ctx& c, int64_t n) { return DeltaOps(c, n, Merges(c, Scaled(8))); }

bool StepErase(Ctx& c, int64_t n) { return DeltaOps(c, n, Erases(c, 3)); }

bool StepCommit(Ctx& c, int64_t n) {
  DeltaOps(c, 0, Puts(c, 6));
  DeltaOps(c, 0, Merges(c, 2));
  return CommitDelta(c, n);
}

bool StepClearCommit(Ctx& c, int64_t n) {
  std::vector<Op> ops = {{Op::kClear, kPlainTable, "", ""}};
  for (Op& op : Puts(c, 3)) ops.push_back(op);
  bool fired = DeltaOps(c, n, ops);
  return CommitDelta(c, n) || fired;
}

bool StepBatch(Ctx& c, int64_t n) {
  bool fired = false;
  // The constructor's only error channel is std::bad_alloc (documented).
  if (!c.batch) fired = Armed(c, n, [&] { c.batch.emplace(*c.store); }, /*bad_alloc_allowed=*/true);
  if (fired && !c.batch) return true;  // the constructor threw: nothing to check
  if (!c.batch) c.batch.emplace(*c.store);
  std::vector<Op> ops = Puts(c, Scaled(12));
  for (Op& op : Merges(c, 3)) ops.push_back(op);
  size_t done = 0, before = 0;
  absl::Status failed;
  fired = Armed(c, fired ? 0 : n,
                [&] {
                  for (; done < ops.size(); ++done) {
                    before = c.batch->size();
                    failed = DoBatch(c, ops[done]);
                    if (!failed.ok()) return;
                  }
                }) ||
          fired;
  c.batch_ops.insert(c.batch_ops.end(), ops.begin(), ops.begin() + static_cast<ptrdiff_t>(done));
  ExpectOkOrNoMemory(c, failed, fired, "WriteBatch::Put/Merge");
  if (!failed.ok() && c.batch->size() != before) {
    c.log.Fail("a failed batch change changed the batch");
  }
  if (n != 0) CheckAfter(c, "after a failed batch change");
  c.log.Progress("finish");
  for (; done < ops.size(); ++done) {
    ExpectOkOrNoMemory(c, DoBatch(c, ops[done]), false, "WriteBatch change (disarmed)");
    c.batch_ops.push_back(ops[done]);
  }
  return fired;
}

bool StepBatchCommit(Ctx& c, int64_t n) {
  if (!c.batch) c.batch.emplace(*c.store);
  if (c.batch->empty()) {
    for (const Op& op : Puts(c, 4)) {
      ExpectOkOrNoMemory(c, DoBatch(c, op), false, "WriteBatch::Put (disarmed)");
      c.batch_ops.push_back(op);
    }
  }
  const size_t size = c.batch->size();
  absl::StatusOr<uint64_t> v;
  bool fired = Armed(c, n, [&] { v = c.batch->Commit(kP); });
  ExpectOkOrNoMemory(c, v.status(), fired, "WriteBatch::Commit");
  if (v.ok()) {
    State next = c.history.back();
    for (const Op& op : c.batch_ops) Apply(next, op);
    c.history.push_back(next);
    c.batch_ops.clear();
    if (*v != c.history.size() - 1) c.log.Fail("WriteBatch::Commit returned another version");
    if (!c.batch->empty()) c.log.Fail("a committed batch is not empty");
  } else if (c.batch->size() != size) {
    c.log.Fail("a failed WriteBatch::Commit changed the batch");
  }
  if (n != 0) CheckAfter(c, "after WriteBatch::Commit");
  if (!v.ok()) {
    c.log.Progress("finish");
    v = c.batch->Commit(kP);
    if (!v.ok()) c.log.Fail("WriteBatch::Commit (disarmed): " + v.status().ToString());
    State next = c.history.back();
    for (const Op& op : c.batch_ops) Apply(next, op);
    c.history.push_back(next);
    c.batch_ops.clear();
  }
  return fired;
}

bool StepFlush(Ctx& c, int64_t n) {
  DeltaOps(c, 0, Puts(c, 2));
  CommitDelta(c, 0);  // under group commit, sealed and maybe not published yet
  absl::StatusOr<uint64_t> v;
  bool fired = Armed(c, n, [&] { v = c.store->Flush(kP); });
  ExpectOkOrNoMemory(c, v.status(), fired, "Flush");
  if (v.ok() && *v != c.history.size() - 1) c.log.Fail("Flush returned an older version");
  if (n != 0) CheckAfter(c, "after Flush");
  return fired;
}

bool StepPin(Ctx& c, int64_t n) {
  absl::StatusOr<PinnedSnapshot> p;
  bool fired = Armed(c, n, [&] { p = c.store->Pin(kP); });
  ExpectOkOrNoMemory(c, p.status(), fired, "Pin");
  if (n != 0) CheckAfter(c, "after Pin");
  if (!p.ok()) {
    c.log.Progress("finish");
    p = c.store->Pin(kP);
  }
  if (p.ok()) c.pin = *std::move(p);
  return fired;
}

bool StepPinRead(Ctx& c, int64_t n) {
  // The pin reads its version whole. The lookups go by the model's keys so
  // that the test itself allocates nothing while armed.
  if (c.pin.empty()) c.pin = c.store->Pin(kP).value();
  const uint64_t v = c.pin.version();
  if (v >= c.history.size()) {
    c.log.Fail("the pin holds a version never committed");
    return false;
  }
  const State& want = c.history[v];
  int wrong = 0;
  bool fired = Armed(c, n, [&] {
    for (uint32_t t = 0; t < kTables; ++t) {
      absl::StatusOr<TableView> tv = c.pin.Table(t);
      if (!tv.ok() || tv->size() != want.t[t].size()) {
        ++wrong;
        continue;
      }
      for (const auto& [k, val] : want.t[t]) {
        std::optional<std::string_view> got = tv->Find(k);
        if (!got || *got != val) ++wrong;
      }
    }
  });
  if (wrong != 0) c.log.Fail("the pin does not read its version whole");
  if (n != 0) CheckAfter(c, "after reading a pin");
  return fired;
}

bool StepPinRelease(Ctx& c, int64_t n) {
  if (c.pin.empty()) c.pin = c.store->Pin(kP).value();
  bool fired = Armed(c, n, [&] { c.pin = PinnedSnapshot(); });
  if (n != 0) CheckAfter(c, "after releasing a pin");
  return fired;
}

bool StepReader(Ctx& c, int64_t n) {
  absl::StatusOr<TableReader> r;
  bool fired = Armed(c, n, [&] { r = c.store->Reader(kP, kPlainTable); });
  ExpectOkOrNoMemory(c, r.status(), fired, "Store::Reader");
  if (n != 0) CheckAfter(c, "after Store::Reader");
  if (!r.ok()) r = c.store->Reader(kP, kPlainTable);
  if (r.ok()) c.reader = *std::move(r);
  return fired;
}

bool StepReaderFind(Ctx& c, int64_t n) {
  // Under group commit the published version may be older than the last
  // commit: whichever it is, it must read whole.
  uint64_t v = 0;
  int wrong = 0;
  bool fired = Armed(c, n, [&] {
    ReadSection rs;
    // One version for all the lookups (each reader call reads afresh).
    SnapshotView snap = c.reader.Snapshot();
    TableView table = c.reader.Table(snap);
    v = snap.version();
    if (v >= c.history.size()) return;
    for (const auto& [k, val] : c.history[v].t[kPlainTable]) {
      std::optional<std::string_view> got = table.Find(k);
      if (!got || *got != val) ++wrong;
    }
    if (table.size() != c.history[v].t[kPlainTable].size()) ++wrong;
    if (c.reader.Find("absent-key").has_value()) ++wrong;
  });
  if (v >= c.history.size() || wrong != 0) {
    c.log.Fail("TableReader::Find does not read version " + std::to_string(v) + " whole");
  }
  if (n != 0) CheckAfter(c, "after TableReader::Find");
  return fired;
}

bool StepReaderRelease(Ctx& c, int64_t n) {
  if (c.reader.empty()) c.reader = c.store->Reader(kP, kPlainTable).value();
  bool fired = Armed(c, n, [&] { c.reader = TableReader(); });
  if (n != 0) CheckAfter(c, "after releasing a TableReader");
  return fired;
}

bool StepGetCopy(Ctx& c, int64_t n) {
  State want = c.Own();
  absl::Status failed;
  int wrong = 0;
  std::string out;
  out.reserve(256);  // the test's own buffer: no allocation while armed
  bool fired = Armed(c, n, [&] {
    int i = 0;
    for (const auto& [k, v] : want.t[kPlainTable]) {
      if (++i > 4) break;
      absl::StatusOr<bool> found = c.store->GetCopy(kP, kPlainTable, k, &out);
      if (!found.ok()) {
        failed = found.status();
        return;
      }
      if (!*found || out != v) ++wrong;
    }
  });
  ExpectOkOrNoMemory(c, failed, fired, "GetCopy");
  if (wrong != 0) c.log.Fail("GetCopy read another value");
  if (n != 0) CheckAfter(c, "after GetCopy");
  return fired;
}

bool StepList(Ctx& c, int64_t n) {
  std::vector<uint32_t> ids;
  absl::Status status;
  // Returning a plain vector, ListPartitions has no error channel: then
  // std::bad_alloc may escape it, but nothing may be left behind.
  bool fired = Armed(
      c, n, [&] { TakeList(c.store->ListPartitions(), &ids, &status); }, true);
  ExpectOkOrNoMemory(c, status, fired, "ListPartitions");
  if (!fired && (ids.empty() || ids[0] != kP)) c.log.Fail("ListPartitions lost the partition");
  if (n != 0) CheckAfter(c, "after ListPartitions");
  return fired;
}

bool StepStats(Ctx& c, int64_t n) {
  absl::StatusOr<PartitionStats> st;
  bool fired = Armed(c, n, [&] { st = c.store->Stats(kP); });
  ExpectOkOrNoMemory(c, st.status(), fired, "Stats");
  if (n != 0) CheckAfter(c, "after Stats");
  return fired;
}

bool StepDrop(Ctx& c, int64_t n) {
  const uint32_t q = 2000 + static_cast<uint32_t>(n);
  if (!c.store->CreatePartition(q).ok() || !c.store->Put(q, 0, "k", "v").ok() ||
      !c.store->Commit(q).ok()) {
    c.log.Fail("setting up a partition to drop failed");
    return false;
  }
  absl::Status s;
  bool fired = Armed(c, n, [&] { s = c.store->DropPartition(q); });
  ExpectOkOrNoMemory(c, s, fired, "DropPartition");
  const bool ok = s.ok() && !c.threw;
  if (ok == c.store->HasPartition(q)) {
    c.log.Fail(ok ? "a dropped partition is still there" : "a failed drop removed the partition");
  }
  if (!ok) {
    std::string out;
    absl::StatusOr<bool> found = c.store->GetCopy(q, 0, "k", &out);
    if (!found.ok() || !*found || out != "v") c.log.Fail("a failed drop changed the partition");
  }
  if (n != 0) CheckAfter(c, "after DropPartition");
  c.log.Progress("finish");
  if (c.store->HasPartition(q) && !c.store->DropPartition(q).ok()) c.log.Fail("drop (disarmed)");
  return fired;
}

bool StepClose(Ctx& c, int64_t n) { return CloseStep(c, n, false); }

bool StepDestroyStore(Ctx& c, int64_t n) { return CloseStep(c, n, true); }

}  // namespace

std::vector<Step> CppSteps() {
  return {
      {"open", false, StepOpen},
      {"create", false, StepCreate},
      {"put", false, StepPut},
      {"merge", false, StepMerge},
      {"erase", false, StepErase},
      {"commit", false, StepCommit},
      {"clear+commit", false, StepClearCommit},
      {"batch", false, StepBatch},
      {"batch commit", false, StepBatchCommit},
      {"flush", false, StepFlush},
      {"pin", false, StepPin},
      {"pin read", false, StepPinRead},
      {"pin release", true, StepPinRelease},
      {"reader", false, StepReader},
      {"reader find", false, StepReaderFind},
      {"reader release", true, StepReaderRelease},
      {"get copy", false, StepGetCopy},
      {"list", false, StepList},
      {"stats", false, StepStats},
      {"drop", false, StepDrop},
      {"close", false, StepClose},
      {"destroy store", true, StepDestroyStore},
  };
}

// The same scenario through the C ABI.

}  // namespace rcustate::testing::fault
