// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fault/c_steps.cpp
//
// The steps of the sweep through the C ABI (rcustate.h), in scenario order.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fault/sweep.hpp"

namespace rcustate::testing::fault {

namespace {

bool StepCOpen(Ctx& c, int64_t n) {
  rcs_store* s = nullptr;
  bool fired = false;
  OpenC(c, &s, n, &fired);
  CheckNoReadSection(c);
  if (n == 0 || !fired) {
    c.cs = s;
  } else if (s != nullptr) {
    rcs_store_close(s);
  }
  return fired;
}

bool StepCCreate(Ctx& c, int64_t n) {
  if (n == 0 && c.history.empty()) {
    if (rcs_partition_create(c.cs, kP) != RCS_OK) c.log.Fail("rcs_partition_create (disarmed)");
    c.history = {State{}};
    return false;
  }
  if (c.history.empty()) {  // the partition the checks read
    if (rcs_partition_create(c.cs, kP) != RCS_OK) c.log.Fail("rcs_partition_create (disarmed)");
    c.history = {State{}};
  }
  const uint32_t q = 1000 + static_cast<uint32_t>(n);
  int rc = RCS_OK;
  bool fired = Armed(c, n, [&] { rc = rcs_partition_create(c.cs, q); });
  ExpectCOkOrNoMemory(c, rc, fired, "rcs_partition_create");
  uint64_t v = 0;
  const bool exists = rcs_version(c.cs, q, &v) == RCS_OK;
  if ((rc == RCS_OK) != exists) c.log.Fail("rcs_partition_create did half its work");
  CheckAfter(c, "after rcs_partition_create");
  c.log.Progress("finish");
  if (exists && rcs_partition_drop(c.cs, q) != RCS_OK) c.log.Fail("drop (disarmed)");
  return fired;
}

bool StepCPut(Ctx& c, int64_t n) { return DeltaOps(c, n, Puts(c, Scaled(24))); }

bool StepCMerge(Ctx& c, int64_t n) { return DeltaOps(c, n, Merges(c, Scaled(8))); }

bool StepCDelete(Ctx& c, int64_t n) { return DeltaOps(c, n, Erases(c, 3)); }

bool StepCCommit(Ctx& c, int64_t n) {
  DeltaOps(c, 0, Puts(c, 6));
  DeltaOps(c, 0, Merges(c, 2));
  return CommitDelta(c, n);
}

bool StepCClearCommit(Ctx& c, int64_t n) {
  std::vector<Op> ops = {{Op::kClear, kPlainTable, "", ""}};
  for (Op& op : Puts(c, 3)) ops.push_back(op);
  bool fired = DeltaOps(c, n, ops);
  return CommitDelta(c, n) || fired;
}

bool StepCBatch(Ctx& c, int64_t n) {
  bool fired = false;
  if (c.cbatch == nullptr) {
    int rc = RCS_OK;
    fired = Armed(c, n, [&] { rc = rcs_batch_create(c.cs, &c.cbatch); });
    ExpectCOkOrNoMemory(c, rc, fired, "rcs_batch_create");
    if (rc != RCS_OK) {
      c.cbatch = nullptr;
      if (rcs_batch_create(c.cs, &c.cbatch) != RCS_OK) c.log.Fail("rcs_batch_create (disarmed)");
      return fired;
    }
  }
  std::vector<Op> ops = Puts(c, Scaled(12));
  for (Op& op : Merges(c, 3)) ops.push_back(op);
  size_t done = 0, before = 0;
  int failed = RCS_OK;
  fired = Armed(c, fired ? 0 : n,
                [&] {
                  for (; done < ops.size(); ++done) {
                    before = rcs_batch_size(c.cbatch);
                    failed = DoCBatch(c, ops[done]);
                    if (failed != RCS_OK) return;
                  }
                }) ||
          fired;
  c.batch_ops.insert(c.batch_ops.end(), ops.begin(), ops.begin() + static_cast<ptrdiff_t>(done));
  ExpectCOkOrNoMemory(c, failed, fired, "rcs_batch_put/merge");
  if (failed != RCS_OK && rcs_batch_size(c.cbatch) != before) {
    c.log.Fail("a failed batch change changed the batch");
  }
  if (n != 0) CheckAfter(c, "after a failed batch change");
  c.log.Progress("finish");
  for (; done < ops.size(); ++done) {
    ExpectCOkOrNoMemory(c, DoCBatch(c, ops[done]), false, "batch change (disarmed)");
    c.batch_ops.push_back(ops[done]);
  }
  return fired;
}

bool StepCBatchCommit(Ctx& c, int64_t n) {
  if (c.cbatch == nullptr && rcs_batch_create(c.cs, &c.cbatch) != RCS_OK) {
    c.log.Fail("rcs_batch_create (disarmed)");
    return false;
  }
  if (rcs_batch_size(c.cbatch) == 0) {
    for (const Op& op : Puts(c, 4)) {
      ExpectCOkOrNoMemory(c, DoCBatch(c, op), false, "rcs_batch_put (disarmed)");
      c.batch_ops.push_back(op);
    }
  }
  const size_t size = rcs_batch_size(c.cbatch);
  int rc = RCS_OK;
  uint64_t v = 0;
  bool fired = Armed(c, n, [&] { rc = rcs_batch_commit(c.cbatch, kP, &v); });
  ExpectCOkOrNoMemory(c, rc, fired, "rcs_batch_commit");
  auto committed = [&] {
    State next = c.history.back();
    for (const Op& op : c.batch_ops) Apply(next, op);
    c.history.push_back(next);
    c.batch_ops.clear();
  };
  if (rc == RCS_OK) {
    committed();
    if (v != c.history.size() - 1) c.log.Fail("rcs_batch_commit returned another version");
  } else if (rcs_batch_size(c.cbatch) != size) {
    c.log.Fail("a failed rcs_batch_commit changed the batch");
  }
  if (n != 0) CheckAfter(c, "after rcs_batch_commit");
  if (rc != RCS_OK) {
    c.log.Progress("finish");
    if (rcs_batch_commit(c.cbatch, kP, &v) != RCS_OK) c.log.Fail("rcs_batch_commit (disarmed)");
    committed();
  }
  return fired;
}

bool StepCBatchDestroy(Ctx& c, int64_t n) {
  if (c.cbatch == nullptr && rcs_batch_create(c.cs, &c.cbatch) != RCS_OK) return false;
  rcs_batch_put(c.cbatch, 0, "x", 1, "y", 1);
  bool fired = Armed(c, n, [&] { rcs_batch_destroy(c.cbatch); });
  c.cbatch = nullptr;
  if (n != 0) CheckAfter(c, "after rcs_batch_destroy");
  return fired;
}

bool StepCFlush(Ctx& c, int64_t n) {
  DeltaOps(c, 0, Puts(c, 2));
  CommitDelta(c, 0);
  int rc = RCS_OK;
  uint64_t v = 0;
  bool fired = Armed(c, n, [&] { rc = rcs_flush(c.cs, kP, &v); });
  ExpectCOkOrNoMemory(c, rc, fired, "rcs_flush");
  if (rc == RCS_OK && v != c.history.size() - 1) c.log.Fail("rcs_flush returned an older version");
  if (n != 0) CheckAfter(c, "after rcs_flush");
  return fired;
}

bool StepCSnapshotOpen(Ctx& c, int64_t n) {
  rcs_snapshot* s = nullptr;
  int rc = RCS_OK;
  bool fired = Armed(c, n, [&] { rc = rcs_snapshot_open(c.cs, kP, &s); });
  ExpectCOkOrNoMemory(c, rc, fired, "rcs_snapshot_open");
  if (n != 0) CheckAfter(c, "after rcs_snapshot_open");
  if (rc != RCS_OK) rc = rcs_snapshot_open(c.cs, kP, &s);
  if (rc == RCS_OK) {
    if (c.csnap != nullptr) rcs_snapshot_close(c.csnap);
    c.csnap = s;
  }
  return fired;
}

bool StepCSnapshotClose(Ctx& c, int64_t n) {
  if (c.csnap == nullptr && rcs_snapshot_open(c.cs, kP, &c.csnap) != RCS_OK) return false;
  bool fired = Armed(c, n, [&] { rcs_snapshot_close(c.csnap); });
  c.csnap = nullptr;
  if (n != 0) CheckAfter(c, "after rcs_snapshot_close");
  return fired;
}

bool StepCView(Ctx& c, int64_t n) {
  int rc = RCS_OK;
  uint64_t v = 0;
  bool fired = Armed(c, n, [&] {
    rcs_read_lock();
    const rcs_view* view = nullptr;
    rc = rcs_view_current(c.cs, kP, &view);
    if (rc == RCS_OK) v = rcs_view_version(view);
    rcs_read_unlock();
  });
  ExpectCOkOrNoMemory(c, rc, fired, "rcs_view_current");
  if (rc == RCS_OK && v >= c.history.size())
    c.log.Fail("rcs_view_current: a version never committed");
  if (n != 0) CheckAfter(c, "after rcs_view_current");
  return fired;
}

bool StepCList(Ctx& c, int64_t n) {
  uint32_t ids[8];
  size_t count = 0;
  int rc = RCS_OK;
  bool fired = Armed(c, n, [&] { rc = rcs_partition_list(c.cs, ids, 8, &count); });
  ExpectCOkOrNoMemory(c, rc, fired, "rcs_partition_list");
  if (rc == RCS_OK && (count == 0 || ids[0] != kP))
    c.log.Fail("rcs_partition_list lost the partition");
  if (n != 0) CheckAfter(c, "after rcs_partition_list");
  return fired;
}

bool StepCDrop(Ctx& c, int64_t n) {
  const uint32_t q = 2000 + static_cast<uint32_t>(n);
  uint64_t v = 0;
  if (rcs_partition_create(c.cs, q) != RCS_OK || rcs_put(c.cs, q, 0, "k", 1, "v", 1) != RCS_OK ||
      rcs_commit(c.cs, q, &v) != RCS_OK) {
    c.log.Fail("setting up a partition to drop failed");
    return false;
  }
  int rc = RCS_OK;
  bool fired = Armed(c, n, [&] { rc = rcs_partition_drop(c.cs, q); });
  ExpectCOkOrNoMemory(c, rc, fired, "rcs_partition_drop");
  const bool exists = rcs_version(c.cs, q, &v) == RCS_OK;
  if ((rc == RCS_OK) == exists) c.log.Fail("rcs_partition_drop did half its work");
  if (n != 0) CheckAfter(c, "after rcs_partition_drop");
  c.log.Progress("finish");
  if (exists && rcs_partition_drop(c.cs, q) != RCS_OK) c.log.Fail("drop (disarmed)");
  return fired;
}

bool StepCClose(Ctx& c, int64_t n) { return CloseStep(c, n, false); }

}  // namespace

std::vector<Step> CSteps() {
  return {
      {"c open", false, StepCOpen},
      {"c create", false, StepCCreate},
      {"c put", false, StepCPut},
      {"c merge", false, StepCMerge},
      {"c delete", false, StepCDelete},
      {"c commit", false, StepCCommit},
      {"c clear+commit", false, StepCClearCommit},
      {"c batch", false, StepCBatch},
      {"c batch commit", false, StepCBatchCommit},
      {"c batch destroy", true, StepCBatchDestroy},
      {"c flush", false, StepCFlush},
      {"c snapshot open", false, StepCSnapshotOpen},
      {"c snapshot close", true, StepCSnapshotClose},
      {"c view", false, StepCView},
      {"c list", false, StepCList},
      {"c drop", false, StepCDrop},
      {"c close", true, StepCClose},
  };
}

}  // namespace rcustate::testing::fault
