// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fault/sweep.cpp
//
// The building blocks of the sweep's steps (sweep.hpp): arming, the checks
// after an injected failure, the probe, changes and commits against the model.
#include "fault/sweep.hpp"

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "common/alloc_fault.hpp"
#include "common/test_env.hpp"

namespace rcustate::testing::fault {

std::string Key(const Ctx& c, const char* prefix, int i) {
  return prefix + std::to_string(c.attempt) + "_" + std::to_string(i);
}
// Longer than the small-string buffer: every value stored allocates.
std::string Value(const Ctx& c, int i) {
  return "value-of-attempt-" + std::to_string(c.attempt) + "-number-" + std::to_string(i);
}

StoreOptions Options(bool group) {
  StoreOptions o;
  o.tables = {{"plain", nullptr, 0}, {"sum", AddInt64(), 0}};
  o.max_publish_delay = group ? absl::Milliseconds(20) : absl::ZeroDuration();
  return o;
}

// Runs fn with the nth allocation of this thread failing (n == 0: disarmed).
// Returns whether the failure was injected. An exception that escapes the
// library is a failure (the API reports errors as a Status).
bool Armed(Ctx& c, int64_t n, const std::function<void()>& fn, bool bad_alloc_allowed) {
  c.log.Progress(n == 0 ? "disarmed" : "armed");
  c.threw = false;
  AllocFault fault(n);
  try {
    fn();
  } catch (const std::bad_alloc&) {
    fault.Disarm();
    c.threw = !bad_alloc_allowed;
    if (!bad_alloc_allowed) c.log.Fail("std::bad_alloc escaped the call (expected kNoMemory)");
  } catch (const std::exception& e) {
    fault.Disarm();
    c.threw = true;
    c.log.Fail(std::string("exception escaped the call: ") + e.what());
  }
  fault.Disarm();
  return n != 0 && fault.fired();
}

// The result of an armed call: OK, or kNoMemory after an injected failure.
void ExpectOkOrNoMemory(Ctx& c, const absl::Status& s, bool fired, const char* call) {
  if (s.ok() || c.threw) return;  // an escaped exception is reported already
  if (fired && ErrorCodeOf(s) == ErrorCode::kNoMemory) return;
  c.log.Fail(std::string(call) + " returned " + s.ToString() +
             (fired ? " (expected kNoMemory)" : " without an injected failure"));
}
void ExpectCOkOrNoMemory(Ctx& c, int rc, bool fired, const char* call) {
  if (rc == RCS_OK) return;
  if (fired && rc == RCS_ENOMEM) return;
  c.log.Fail(std::string(call) + " returned " + std::to_string(rc) + " (" + rcs_strerror(rc) +
             ": " + rcs_last_error() + ")" +
             (fired ? ", expected RCS_ENOMEM" : " without an injected failure"));
}

void CheckNoReadSection(Ctx& c) {
  if (ReadSection::Active() || rcs_in_read_section() != 0) {
    c.log.Fatal("a read section was left open on the calling thread");
  }
}

// ---------------------------------------------------------------- reading the store

State ReadPublished(Ctx& c, uint32_t p, uint64_t* version) {
  State s;
  if (c.c_api) {
    rcs_snapshot* snap = nullptr;
    int rc = rcs_snapshot_open(c.cs, p, &snap);
    if (rc != RCS_OK) {
      c.log.Fail("rcs_snapshot_open (disarmed): " + std::to_string(rc));
      return s;
    }
    *version = rcs_snapshot_version(snap);
    for (uint32_t t = 0; t < kTables; ++t) {
      rcs_snapshot_foreach(
          snap, t,
          [](const void* k, size_t kl, const void* v, size_t vl, void* ctx) {
            (*static_cast<Table*>(ctx))[std::string(static_cast<const char*>(k), kl)] =
                std::string(static_cast<const char*>(v), vl);
            return 0;
          },
          &s.t[t]);
    }
    rcs_snapshot_close(snap);
    return s;
  }
  ReadSection rs;
  absl::StatusOr<SnapshotView> snap = c.store->Snapshot(p);
  if (!snap.ok()) {
    c.log.Fail("Snapshot (disarmed): " + snap.status().ToString());
    return s;
  }
  *version = snap->version();
  for (uint32_t t = 0; t < kTables; ++t) {
    snap->Table(t)->ForEach([&](std::string_view k, std::string_view v) {
      s.t[t].emplace(std::string(k), std::string(v));
    });
  }
  return s;
}

// The published contents are those of the version they report, whole.
void CheckPublishedWhole(Ctx& c, const char* when) {
  uint64_t v = 0;
  State got = ReadPublished(c, kP, &v);
  if (v >= c.history.size()) {
    c.log.Fail(std::string(when) + ": published version " + std::to_string(v) +
               " was never committed (last " + std::to_string(c.history.size() - 1) + ")");
    return;
  }
  if (!(got == c.history[v])) {
    c.log.Fail(std::string(when) + ": version " + std::to_string(v) +
               " is not whole: " + Diff(got, c.history[v]));
  }
}

// What the writer thread sees (its own writes first) equals the model.
void CheckOwnView(Ctx& c, const char* when) {
  State want = c.Own();
  // Every key the model ever had in this partition: present or absent.
  State keys = want;
  for (const State& s : c.history) {
    for (uint32_t t = 0; t < kTables; ++t) keys.t[t].insert(s.t[t].begin(), s.t[t].end());
  }
  for (uint32_t t = 0; t < kTables; ++t) {
    for (const auto& [k, unused] : keys.t[t]) {
      std::optional<std::string> got;
      if (c.c_api) {
        char buf[256];
        size_t len = 0;
        int rc = rcs_get(c.cs, kP, t, k.data(), k.size(), buf, sizeof buf, &len);
        if (rc == RCS_OK) {
          got = std::string(buf, len);
        } else if (rc != RCS_ENOTFOUND) {
          c.log.Fail(std::string(when) + ": rcs_get: " + std::to_string(rc));
          return;
        }
      } else {
        std::string out;
        absl::StatusOr<bool> found = c.store->GetCopy(kP, t, k, &out);
        if (!found.ok()) {
          c.log.Fail(std::string(when) + ": GetCopy: " + found.status().ToString());
          return;
        }
        if (*found) got = out;
      }
      auto it = want.t[t].find(k);
      std::optional<std::string> expected;
      if (it != want.t[t].end()) expected = it->second;
      if (got != expected) {
        c.log.Fail(std::string(when) + ": the writer's own view of table " + std::to_string(t) +
                   " key " + k + " is " + (got ? "present" : "absent") + ", the model says " +
                   (expected ? "present" : "absent") + (got && expected ? " (other value)" : ""));
        return;
      }
    }
  }
}

// ---------------------------------------------------------------- the probe

// No lock is held and no grace period is blocked: another thread commits an
// empty delta to the partition, flushes it, and creates and drops a
// partition, within a bound. Then the published contents are the last
// committed version, whole.
void Probe(Ctx& c, uint32_t extra_partition) {
  c.log.Progress("probe");
  const bool c_api = c.c_api;
  Store* store = c.store.get();
  rcs_store* cs = c.cs;
  uint64_t committed = 0;
  std::string err = OnOtherThreadBounded(c.log, "probe", [&]() -> std::string {
    if (c_api) {
      int rc = rcs_commit(cs, kP, &committed);
      if (rc != RCS_OK) return "another thread's rcs_commit: " + std::to_string(rc);
      uint64_t v = 0;
      rc = rcs_flush(cs, kP, &v);
      if (rc != RCS_OK) return "another thread's rcs_flush: " + std::to_string(rc);
      rc = rcs_partition_create(cs, extra_partition);
      if (rc != RCS_OK) return "another thread's rcs_partition_create: " + std::to_string(rc);
      rc = rcs_partition_drop(cs, extra_partition);
      if (rc != RCS_OK) return "another thread's rcs_partition_drop: " + std::to_string(rc);
      return "";
    }
    absl::StatusOr<uint64_t> v = store->Commit(kP);
    if (!v.ok()) return "another thread's Commit: " + v.status().ToString();
    committed = *v;
    v = store->Flush(kP);
    if (!v.ok()) return "another thread's Flush: " + v.status().ToString();
    absl::Status s = store->CreatePartition(extra_partition);
    if (!s.ok()) return "another thread's CreatePartition: " + s.ToString();
    s = store->DropPartition(extra_partition);
    if (!s.ok()) return "another thread's DropPartition: " + s.ToString();
    return "";
  });
  if (!err.empty()) {
    c.log.Fail(err);
    return;
  }
  // The empty commit made a version with the same contents.
  if (committed != c.history.size()) {
    c.log.Fail("another thread's commit made version " + std::to_string(committed) +
               ", the model expected " + std::to_string(c.history.size()));
    while (c.history.size() <= committed) c.history.push_back(c.history.back());
  } else {
    c.history.push_back(c.history.back());
  }
  uint64_t v = 0;
  State got = ReadPublished(c, kP, &v);
  if (v != committed || !(got == c.history.back())) {
    c.log.Fail("after another thread's commit and flush, the partition reads version " +
               std::to_string(v) + " (expected " + std::to_string(committed) +
               "): " + Diff(got, c.history.back()));
  }
}

// Everything checked after an armed call.
void CheckAfter(Ctx& c, const char* when) {
  CheckNoReadSection(c);
  CheckPublishedWhole(c, when);
  CheckOwnView(c, when);
  Probe(c, 100000 + static_cast<uint32_t>(c.attempt));
}

// ---------------------------------------------------------------- changes

namespace {

absl::Status Do(Ctx& c, const Op& op) {
  switch (op.kind) {
    case Op::kPut:
      return c.store->Put(kP, op.table, op.key, op.value);
    case Op::kErase:
      return c.store->Erase(kP, op.table, op.key);
    case Op::kMerge:
      return c.store->Merge(kP, op.table, op.key, op.value);
    case Op::kClear:
      return c.store->Clear(kP, op.table);
  }
  return absl::InternalError("op");
}
int DoC(Ctx& c, const Op& op) {
  switch (op.kind) {
    case Op::kPut:
      return rcs_put(c.cs, kP, op.table, op.key.data(), op.key.size(), op.value.data(),
                     op.value.size());
    case Op::kErase:
      return rcs_delete(c.cs, kP, op.table, op.key.data(), op.key.size());
    case Op::kMerge:
      return rcs_merge(c.cs, kP, op.table, op.key.data(), op.key.size(), op.value.data(),
                       op.value.size());
    case Op::kClear:
      return rcs_clear(c.cs, kP, op.table);
  }
  return RCS_EINTERNAL;
}
}  // namespace

absl::Status DoBatch(Ctx& c, const Op& op) {
  switch (op.kind) {
    case Op::kPut:
      return c.batch->Put(op.table, op.key, op.value);
    case Op::kErase:
      return c.batch->Erase(op.table, op.key);
    case Op::kMerge:
      return c.batch->Merge(op.table, op.key, op.value);
    case Op::kClear:
      return c.batch->Clear(op.table);
  }
  return absl::InternalError("op");
}
int DoCBatch(Ctx& c, const Op& op) {
  switch (op.kind) {
    case Op::kPut:
      return rcs_batch_put(c.cbatch, op.table, op.key.data(), op.key.size(), op.value.data(),
                           op.value.size());
    case Op::kErase:
      return rcs_batch_delete(c.cbatch, op.table, op.key.data(), op.key.size());
    case Op::kMerge:
      return rcs_batch_merge(c.cbatch, op.table, op.key.data(), op.key.size(), op.value.data(),
                             op.value.size());
    case Op::kClear:
      return rcs_batch_clear(c.cbatch, op.table);
  }
  return RCS_EINTERNAL;
}

// Applies `ops` to the thread delta, the nth allocation failing; the call
// that fails must change nothing. Then applies the rest disarmed.
bool DeltaOps(Ctx& c, int64_t n, const std::vector<Op>& ops) {
  // Only the library's calls run armed: the test allocates nothing there.
  size_t done = 0;
  absl::Status failed;
  int failed_rc = RCS_OK;
  bool fired = Armed(c, n, [&] {
    for (; done < ops.size(); ++done) {
      if (c.c_api) {
        failed_rc = DoC(c, ops[done]);
        if (failed_rc != RCS_OK) return;
      } else {
        failed = Do(c, ops[done]);
        if (!failed.ok()) return;
      }
    }
  });
  c.delta.insert(c.delta.end(), ops.begin(), ops.begin() + static_cast<ptrdiff_t>(done));
  if (c.c_api) {
    ExpectCOkOrNoMemory(c, failed_rc, fired, "rcs_put/merge/delete/clear");
  } else {
    ExpectOkOrNoMemory(c, failed, fired, "Put/Merge/Erase/Clear");
  }
  if (n != 0) CheckAfter(c, "after a failed delta change");
  c.log.Progress("finish");
  for (; done < ops.size(); ++done) {
    if (c.c_api) {
      ExpectCOkOrNoMemory(c, DoC(c, ops[done]), false, "change (disarmed)");
    } else {
      ExpectOkOrNoMemory(c, Do(c, ops[done]), false, "change (disarmed)");
    }
    c.delta.push_back(ops[done]);
  }
  return fired;
}

// RCUSTATE_STRESS_SCALE makes the changes per step more (the delta crosses
// more of its growth points per sweep).
int Scaled(int count) { return static_cast<int>(count * StressScale()); }

std::vector<Op> Puts(Ctx& c, int count) {
  std::vector<Op> ops;
  for (int i = 0; i < count; ++i)
    ops.push_back({Op::kPut, kPlainTable, Key(c, "k", i), Value(c, i)});
  return ops;
}
std::vector<Op> Merges(Ctx& c, int count) {
  std::vector<Op> ops;
  for (int i = 0; i < count; ++i) {
    ops.push_back({Op::kMerge, kSumTable, Key(c, "m", i), EncodeInt64(i + 1)});
  }
  ops.push_back({Op::kMerge, kSumTable, "hot", EncodeInt64(1)});
  return ops;
}
std::vector<Op> Erases(Ctx& c, int count) {
  std::vector<Op> ops;
  State own = c.Own();
  for (const auto& [k, v] : own.t[kPlainTable]) {
    if (static_cast<int>(ops.size()) >= count) break;
    ops.push_back({Op::kErase, kPlainTable, k, ""});
  }
  ops.push_back({Op::kErase, kPlainTable, Key(c, "absent", 0), ""});
  return ops;
}

// Commits the thread delta, the nth allocation failing: either the whole
// batch is published as the next version, or nothing changed (the delta is
// still there), and the error is kNoMemory.
bool CommitDelta(Ctx& c, int64_t n) {
  absl::StatusOr<uint64_t> v;
  int rc = RCS_OK;
  uint64_t cv = 0;
  bool fired = Armed(c, n, [&] {
    if (c.c_api) {
      rc = rcs_commit(c.cs, kP, &cv);
    } else {
      v = c.store->Commit(kP);
      if (v.ok()) cv = *v;
    }
  });
  const bool ok = c.c_api ? rc == RCS_OK : v.ok();
  if (c.c_api) {
    ExpectCOkOrNoMemory(c, rc, fired, "rcs_commit");
  } else {
    ExpectOkOrNoMemory(c, v.status(), fired, "Commit");
  }
  if (ok) {
    if (cv != c.history.size()) {
      c.log.Fail("the commit returned version " + std::to_string(cv) + ", expected " +
                 std::to_string(c.history.size()));
    }
    c.history.push_back(c.Own());
    c.delta.clear();
  }
  if (n != 0)
    CheckAfter(c, ok ? "after a commit with a failed allocation" : "after a failed commit");
  if (!ok) {
    c.log.Progress("finish");
    return CommitDelta(c, 0) || fired;
  }
  return fired;
}

void OpenCpp(Ctx& c, std::unique_ptr<Store>& out, int64_t n, bool* fired) {
  absl::StatusOr<std::unique_ptr<Store>> s;
  // Built before arming: the options' own allocations are the test's, and
  // moving them into Open's by-value parameter allocates nothing.
  StoreOptions options = Options(c.group);
  *fired = Armed(c, n, [&] { s = Store::Open(std::move(options)); });
  ExpectOkOrNoMemory(c, s.status(), *fired, "Store::Open");
  if (s.ok()) out = *std::move(s);
}
void OpenC(Ctx& c, rcs_store** out, int64_t n, bool* fired) {
  rcs_table_spec specs[2] = {{"plain", RCS_MERGE_NONE, 0}, {"sum", RCS_MERGE_ADD_I64, 0}};
  rcs_options o;
  rcs_options_init(&o);
  o.tables = specs;
  o.num_tables = 2;
  o.max_publish_delay_ns = c.group ? 20000000 : 0;
  int rc = RCS_OK;
  *fired = Armed(c, n, [&] { rc = rcs_store_open(&o, out); });
  ExpectCOkOrNoMemory(c, rc, *fired, "rcs_store_open");
  if (rc != RCS_OK) *out = nullptr;
}

// A second store with one committed partition, to close or destroy.
bool CloseStep(Ctx& c, int64_t n, bool destroy) {
  bool fired = false;
  if (c.c_api) {
    rcs_store* s = nullptr;
    OpenC(c, &s, 0, &fired);
    uint64_t v = 0;
    if (s == nullptr || rcs_partition_create(s, 7) != RCS_OK ||
        rcs_put(s, 7, 0, "k", 1, "v", 1) != RCS_OK || rcs_commit(s, 7, &v) != RCS_OK) {
      c.log.Fail("setting up a store to close failed");
      return false;
    }
    // rcs_store_close cannot report an error: it completes or terminates.
    fired = Armed(c, n, [&] { rcs_store_close(s); });
    CheckNoReadSection(c);
    return fired;
  }
  std::unique_ptr<Store> s;
  OpenCpp(c, s, 0, &fired);
  if (s == nullptr || !s->CreatePartition(7).ok() || !s->Put(7, 0, "k", "v").ok() ||
      !s->Commit(7).ok()) {
    c.log.Fail("setting up a store to close failed");
    return false;
  }
  if (destroy) {
    fired = Armed(c, n, [&] { s.reset(); });
    CheckNoReadSection(c);
    return fired;
  }
  absl::Status st;
  fired = Armed(c, n, [&] { st = s->Close(); });
  ExpectOkOrNoMemory(c, st, fired, "Store::Close");
  CheckNoReadSection(c);
  if (!st.ok() || c.threw) {
    // Nothing changed: the store still works, and closes.
    c.log.Progress("finish");
    absl::StatusOr<uint64_t> v = s->Commit(7);
    if (!v.ok()) c.log.Fail("after a failed Close, a commit: " + v.status().ToString());
    st = s->Close();
    if (!st.ok()) c.log.Fail("Close (disarmed): " + st.ToString());
  }
  c.log.Progress("finish");
  s.reset();
  return fired;
}

}  // namespace rcustate::testing::fault
