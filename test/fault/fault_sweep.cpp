// File: test/fault/fault_sweep.cpp
//
// The fault-injection sweep: a scenario over the C++ API and the C ABI --
// open, create partitions, put/merge/erase/clear through the thread delta and
// through a batch, commit under both publication policies, flush, pin and
// read the pin, TableReader, list, drop, close -- driven step by step, each
// step over every N: the step runs with the Nth allocation of the calling
// thread failing (test/common/alloc_fault.hpp), is checked, then runs once
// more disarmed to move on. After each injected failure it checks:
//  - the call returned kNoMemory / RCS_ENOMEM (or succeeded and did all its
//    work); a call that cannot report an error (a destructor, a void close)
//    either completes or terminates with "rcustate: fatal:" (the parent
//    sees it, since every step runs in a forked child);
//  - no read section is left open on this thread;
//  - no lock is held: another thread commits to the partition, flushes, and
//    creates and drops a partition (which waits for a grace period) within a
//    bound; then this thread goes on;
//  - the partition reads the old version or the new one, whole: its contents
//    equal the model's (a std::map per table) for the version it reports;
//  - under ASan/LSan (the asan build runs this suite) nothing leaks.
//
// The parent forks one child per step; the child replays the steps before it
// disarmed, then sweeps its step. A child that hangs is killed after a bound
// and reported with the step and N it was at (from a progress pipe), then the
// sweep of that step goes on from N+1 in a new child.
//
//   fault_sweep            every step
//   fault_sweep STEP...    only these steps (names as printed)
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/alloc_fault.hpp"
#include "common/test_env.hpp"
#include "fault/fault_util.hpp"
#include "rcustate/rcustate.h"
#include "rcustate/rcustate.hpp"

namespace rcustate::testing::fault {
namespace {

// ---------------------------------------------------------------- the context

// What one child's scenario holds. The main partition is kP; the model keeps
// every committed version of it (history[v] is version v) and what the
// writer thread sees (committed plus its uncommitted delta).
constexpr uint32_t kP = 1;

struct Ctx {
  Log log;
  bool c_api = false;
  bool group = false;  // group commit (max_publish_delay > 0)
  int64_t attempt = 0;  // makes fresh keys and partition ids
  bool threw = false;   // the last armed call let an exception escape

  std::vector<State> history;
  std::vector<Op> delta;  // the writer thread's uncommitted changes
  State Own() const {
    State s = history.back();
    for (const Op& op : delta) Apply(s, op);
    return s;
  }

  // C++ API
  std::unique_ptr<Store> store;
  std::optional<WriteBatch> batch;
  std::vector<Op> batch_ops;
  PinnedSnapshot pin;
  TableReader reader;
  // C ABI
  rcs_store* cs = nullptr;
  rcs_batch* cbatch = nullptr;
  rcs_snapshot* csnap = nullptr;
};

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
bool Armed(Ctx& c, int64_t n, const std::function<void()>& fn,
           bool bad_alloc_allowed = false) {
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
               std::to_string(v) + " (expected " + std::to_string(committed) + "): " +
               Diff(got, c.history.back()));
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

absl::Status Do(Ctx& c, const Op& op) {
  switch (op.kind) {
    case Op::kPut: return c.store->Put(kP, op.table, op.key, op.value);
    case Op::kErase: return c.store->Erase(kP, op.table, op.key);
    case Op::kMerge: return c.store->Merge(kP, op.table, op.key, op.value);
    case Op::kClear: return c.store->Clear(kP, op.table);
  }
  return absl::InternalError("op");
}
int DoC(Ctx& c, const Op& op) {
  switch (op.kind) {
    case Op::kPut:
      return rcs_put(c.cs, kP, op.table, op.key.data(), op.key.size(), op.value.data(),
                     op.value.size());
    case Op::kErase: return rcs_delete(c.cs, kP, op.table, op.key.data(), op.key.size());
    case Op::kMerge:
      return rcs_merge(c.cs, kP, op.table, op.key.data(), op.key.size(), op.value.data(),
                       op.value.size());
    case Op::kClear: return rcs_clear(c.cs, kP, op.table);
  }
  return RCS_EINTERNAL;
}
absl::Status DoBatch(Ctx& c, const Op& op) {
  switch (op.kind) {
    case Op::kPut: return c.batch->Put(op.table, op.key, op.value);
    case Op::kErase: return c.batch->Erase(op.table, op.key);
    case Op::kMerge: return c.batch->Merge(op.table, op.key, op.value);
    case Op::kClear: return c.batch->Clear(op.table);
  }
  return absl::InternalError("op");
}
int DoCBatch(Ctx& c, const Op& op) {
  switch (op.kind) {
    case Op::kPut:
      return rcs_batch_put(c.cbatch, op.table, op.key.data(), op.key.size(), op.value.data(),
                           op.value.size());
    case Op::kErase: return rcs_batch_delete(c.cbatch, op.table, op.key.data(), op.key.size());
    case Op::kMerge:
      return rcs_batch_merge(c.cbatch, op.table, op.key.data(), op.key.size(), op.value.data(),
                             op.value.size());
    case Op::kClear: return rcs_batch_clear(c.cbatch, op.table);
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
  for (int i = 0; i < count; ++i) ops.push_back({Op::kPut, kPlainTable, Key(c, "k", i), Value(c, i)});
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
  if (n != 0) CheckAfter(c, ok ? "after a commit with a failed allocation" : "after a failed commit");
  if (!ok) {
    c.log.Progress("finish");
    return CommitDelta(c, 0) || fired;
  }
  return fired;
}

// ---------------------------------------------------------------- the steps

struct Step {
  std::string name;
  // Cannot report an error (destructor, void function): may terminate with
  // "rcustate: fatal:" instead.
  bool may_terminate;
  std::function<bool(Ctx&, int64_t)> run;  // n == 0: disarmed
};

void OpenCpp(Ctx& c, std::unique_ptr<Store>& out, int64_t n, bool* fired) {
  absl::StatusOr<std::unique_ptr<Store>> s;
  *fired = Armed(c, n, [&] { s = Store::Open(Options(c.group)); });
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
    if (s == nullptr || rcs_partition_create(s, 7) != RCS_OK || rcs_put(s, 7, 0, "k", 1, "v", 1) != RCS_OK ||
        rcs_commit(s, 7, &v) != RCS_OK) {
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

std::vector<Step> CppSteps() {
  std::vector<Step> steps;
  steps.push_back({"open", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"create", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"put", false, [](Ctx& c, int64_t n) { return DeltaOps(c, n, Puts(c, Scaled(24))); }});
  steps.push_back({"merge", false, [](Ctx& c, int64_t n) { return DeltaOps(c, n, Merges(c, Scaled(8))); }});
  steps.push_back({"erase", false, [](Ctx& c, int64_t n) { return DeltaOps(c, n, Erases(c, 3)); }});
  steps.push_back({"commit", false, [](Ctx& c, int64_t n) {
    DeltaOps(c, 0, Puts(c, 6));
    DeltaOps(c, 0, Merges(c, 2));
    return CommitDelta(c, n);
  }});
  steps.push_back({"clear+commit", false, [](Ctx& c, int64_t n) {
    std::vector<Op> ops = {{Op::kClear, kPlainTable, "", ""}};
    for (Op& op : Puts(c, 3)) ops.push_back(op);
    bool fired = DeltaOps(c, n, ops);
    return CommitDelta(c, n) || fired;
  }});
  steps.push_back({"batch", false, [](Ctx& c, int64_t n) {
    bool fired = false;
    if (!c.batch) fired = Armed(c, n, [&] { c.batch.emplace(*c.store); });
    if (fired && !c.batch) return true;  // the constructor threw: nothing to check
    if (!c.batch) c.batch.emplace(*c.store);
    std::vector<Op> ops = Puts(c, Scaled(12));
    for (Op& op : Merges(c, 3)) ops.push_back(op);
    size_t done = 0, before = 0;
    absl::Status failed;
    fired = Armed(c, fired ? 0 : n, [&] {
      for (; done < ops.size(); ++done) {
        before = c.batch->size();
        failed = DoBatch(c, ops[done]);
        if (!failed.ok()) return;
      }
    }) || fired;
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
  }});
  steps.push_back({"batch commit", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"flush", false, [](Ctx& c, int64_t n) {
    DeltaOps(c, 0, Puts(c, 2));
    CommitDelta(c, 0);  // under group commit, sealed and maybe not published yet
    absl::StatusOr<uint64_t> v;
    bool fired = Armed(c, n, [&] { v = c.store->Flush(kP); });
    ExpectOkOrNoMemory(c, v.status(), fired, "Flush");
    if (v.ok() && *v != c.history.size() - 1) c.log.Fail("Flush returned an older version");
    if (n != 0) CheckAfter(c, "after Flush");
    return fired;
  }});
  steps.push_back({"pin", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"pin read", false, [](Ctx& c, int64_t n) {
    State got;
    uint64_t v = 0;
    bool fired = Armed(c, n, [&] {
      v = c.pin.version();
      for (uint32_t t = 0; t < kTables; ++t) {
        absl::StatusOr<TableView> tv = c.pin.Table(t);
        if (!tv.ok()) return;
        // Copies are the test's: count them out by reserving nothing here;
        // the copy allocations are this thread's too, so a failure may land
        // in the test's own map (then std::bad_alloc, which is allowed).
        tv->ForEach([&](std::string_view k, std::string_view val) {
          got.t[t].emplace(std::string(k), std::string(val));
        });
      }
    }, /*bad_alloc_allowed=*/true);
    if (!fired && (v >= c.history.size() || !(got == c.history[v]))) {
      c.log.Fail("the pin does not read its version whole");
    }
    if (n != 0) CheckAfter(c, "after reading a pin");
    return fired;
  }});
  steps.push_back({"pin release", true, [](Ctx& c, int64_t n) {
    if (c.pin.empty()) c.pin = c.store->Pin(kP).value();
    bool fired = Armed(c, n, [&] { c.pin = PinnedSnapshot(); });
    if (n != 0) CheckAfter(c, "after releasing a pin");
    return fired;
  }});
  steps.push_back({"reader", false, [](Ctx& c, int64_t n) {
    absl::StatusOr<TableReader> r;
    bool fired = Armed(c, n, [&] { r = c.store->Reader(kP, kPlainTable); });
    ExpectOkOrNoMemory(c, r.status(), fired, "Store::Reader");
    if (n != 0) CheckAfter(c, "after Store::Reader");
    if (!r.ok()) r = c.store->Reader(kP, kPlainTable);
    if (r.ok()) c.reader = *std::move(r);
    return fired;
  }});
  steps.push_back({"reader find", false, [](Ctx& c, int64_t n) {
    State want = c.history.back();
    int wrong = 0;
    bool fired = Armed(c, n, [&] {
      ReadSection rs;
      if (c.reader.version() != c.history.size() - 1) ++wrong;
      for (const auto& [k, v] : want.t[kPlainTable]) {
        std::optional<std::string_view> got = c.reader.Find(k);
        if (!got || *got != v) ++wrong;
      }
    });
    if (wrong != 0) c.log.Fail("TableReader::Find does not read the last version");
    if (n != 0) CheckAfter(c, "after TableReader::Find");
    return fired;
  }});
  steps.push_back({"reader release", true, [](Ctx& c, int64_t n) {
    if (c.reader.empty()) c.reader = c.store->Reader(kP, kPlainTable).value();
    bool fired = Armed(c, n, [&] { c.reader = TableReader(); });
    if (n != 0) CheckAfter(c, "after releasing a TableReader");
    return fired;
  }});
  steps.push_back({"get copy", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"list", false, [](Ctx& c, int64_t n) {
    std::vector<uint32_t> ids;
    // ListPartitions has no error channel: std::bad_alloc may escape it, but
    // nothing may be left behind.
    bool fired = Armed(c, n, [&] { ids = c.store->ListPartitions(); }, true);
    if (!fired && (ids.empty() || ids[0] != kP)) c.log.Fail("ListPartitions lost the partition");
    if (n != 0) CheckAfter(c, "after ListPartitions");
    return fired;
  }});
  steps.push_back({"stats", false, [](Ctx& c, int64_t n) {
    absl::StatusOr<PartitionStats> st;
    bool fired = Armed(c, n, [&] { st = c.store->Stats(kP); });
    ExpectOkOrNoMemory(c, st.status(), fired, "Stats");
    if (n != 0) CheckAfter(c, "after Stats");
    return fired;
  }});
  steps.push_back({"drop", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"close", false, [](Ctx& c, int64_t n) { return CloseStep(c, n, false); }});
  steps.push_back({"destroy store", true, [](Ctx& c, int64_t n) { return CloseStep(c, n, true); }});
  return steps;
}

// The same scenario through the C ABI.
std::vector<Step> CSteps() {
  std::vector<Step> steps;
  steps.push_back({"c open", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"c create", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"c put", false, [](Ctx& c, int64_t n) { return DeltaOps(c, n, Puts(c, Scaled(24))); }});
  steps.push_back({"c merge", false, [](Ctx& c, int64_t n) { return DeltaOps(c, n, Merges(c, Scaled(8))); }});
  steps.push_back({"c delete", false, [](Ctx& c, int64_t n) { return DeltaOps(c, n, Erases(c, 3)); }});
  steps.push_back({"c commit", false, [](Ctx& c, int64_t n) {
    DeltaOps(c, 0, Puts(c, 6));
    DeltaOps(c, 0, Merges(c, 2));
    return CommitDelta(c, n);
  }});
  steps.push_back({"c clear+commit", false, [](Ctx& c, int64_t n) {
    std::vector<Op> ops = {{Op::kClear, kPlainTable, "", ""}};
    for (Op& op : Puts(c, 3)) ops.push_back(op);
    bool fired = DeltaOps(c, n, ops);
    return CommitDelta(c, n) || fired;
  }});
  steps.push_back({"c batch", false, [](Ctx& c, int64_t n) {
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
    fired = Armed(c, fired ? 0 : n, [&] {
      for (; done < ops.size(); ++done) {
        before = rcs_batch_size(c.cbatch);
        failed = DoCBatch(c, ops[done]);
        if (failed != RCS_OK) return;
      }
    }) || fired;
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
  }});
  steps.push_back({"c batch commit", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"c batch destroy", true, [](Ctx& c, int64_t n) {
    if (c.cbatch == nullptr && rcs_batch_create(c.cs, &c.cbatch) != RCS_OK) return false;
    rcs_batch_put(c.cbatch, 0, "x", 1, "y", 1);
    bool fired = Armed(c, n, [&] { rcs_batch_destroy(c.cbatch); });
    c.cbatch = nullptr;
    if (n != 0) CheckAfter(c, "after rcs_batch_destroy");
    return fired;
  }});
  steps.push_back({"c flush", false, [](Ctx& c, int64_t n) {
    DeltaOps(c, 0, Puts(c, 2));
    CommitDelta(c, 0);
    int rc = RCS_OK;
    uint64_t v = 0;
    bool fired = Armed(c, n, [&] { rc = rcs_flush(c.cs, kP, &v); });
    ExpectCOkOrNoMemory(c, rc, fired, "rcs_flush");
    if (rc == RCS_OK && v != c.history.size() - 1) c.log.Fail("rcs_flush returned an older version");
    if (n != 0) CheckAfter(c, "after rcs_flush");
    return fired;
  }});
  steps.push_back({"c snapshot open", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"c snapshot close", true, [](Ctx& c, int64_t n) {
    if (c.csnap == nullptr && rcs_snapshot_open(c.cs, kP, &c.csnap) != RCS_OK) return false;
    bool fired = Armed(c, n, [&] { rcs_snapshot_close(c.csnap); });
    c.csnap = nullptr;
    if (n != 0) CheckAfter(c, "after rcs_snapshot_close");
    return fired;
  }});
  steps.push_back({"c view", false, [](Ctx& c, int64_t n) {
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
    if (rc == RCS_OK && v != c.history.size() - 1) c.log.Fail("rcs_view_current: another version");
    if (n != 0) CheckAfter(c, "after rcs_view_current");
    return fired;
  }});
  steps.push_back({"c list", false, [](Ctx& c, int64_t n) {
    uint32_t ids[8];
    size_t count = 0;
    int rc = RCS_OK;
    bool fired = Armed(c, n, [&] { rc = rcs_partition_list(c.cs, ids, 8, &count); });
    ExpectCOkOrNoMemory(c, rc, fired, "rcs_partition_list");
    if (rc == RCS_OK && (count == 0 || ids[0] != kP)) c.log.Fail("rcs_partition_list lost the partition");
    if (n != 0) CheckAfter(c, "after rcs_partition_list");
    return fired;
  }});
  steps.push_back({"c drop", false, [](Ctx& c, int64_t n) {
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
  }});
  steps.push_back({"c close", true, [](Ctx& c, int64_t n) { return CloseStep(c, n, false); }});
  return steps;
}

struct Scenario {
  std::string name;
  bool c_api;
  bool group;
};
const Scenario kScenarios[] = {
    {"cpp/immediate", false, false},
    {"cpp/group", false, true},
    {"c/immediate", true, false},
    {"c/group", true, true},
};

std::vector<Step> StepsOf(const Scenario& s) { return s.c_api ? CSteps() : CppSteps(); }

// ---------------------------------------------------------------- the child

// Replays the steps before `index` disarmed, then sweeps step `index` from
// N = first. Returns the exit code: 0 if every check held.
int RunChild(const Scenario& sc, size_t index, int64_t first, int progress_fd) {
  Ctx c;
  c.c_api = sc.c_api;
  c.group = sc.group;
  c.log.progress_fd = progress_fd;
  std::vector<Step> steps = StepsOf(sc);
  for (size_t i = 0; i < index; ++i) {
    c.log.step = sc.name + ": " + steps[i].name;
    c.log.n = 0;
    ++c.attempt;
    steps[i].run(c, 0);
  }
  const Step& step = steps[index];
  c.log.step = sc.name + ": " + step.name;
  int64_t injected = 0;
  for (int64_t n = first;; ++n) {
    c.log.n = n;
    ++c.attempt;
    const bool fired = step.run(c, n);
    if (!fired) break;
    ++injected;
  }
  // Leave nothing behind for LSan: release in the order the API wants.
  c.log.n = 0;
  c.log.Progress("teardown");
  c.pin = PinnedSnapshot();
  c.reader = TableReader();
  c.batch.reset();
  if (c.csnap != nullptr) rcs_snapshot_close(c.csnap);
  if (c.cbatch != nullptr) rcs_batch_destroy(c.cbatch);
  if (c.store != nullptr && !c.store->Close().ok()) c.log.Fail("Close at the end");
  c.store.reset();
  if (c.cs != nullptr) rcs_store_close(c.cs);
  std::fprintf(stderr, "[%s] %lld injected failures checked, %d failures\n", c.log.step.c_str(),
               static_cast<long long>(injected), c.log.failures);
  return c.log.failures == 0 ? 0 : 1;
}

// ---------------------------------------------------------------- the parent

struct ChildResult {
  int status = 0;
  bool timed_out = false;
  bool fatal_message = false;  // "rcustate: fatal:" on its stderr
  std::string last_progress;
};

// Forks a child for one step from N = first, relays its stderr, and kills it
// if it outlives the bound.
ChildResult Spawn(const Scenario& sc, size_t index, int64_t first) {
  int progress[2], err[2];
  if (pipe(progress) != 0 || pipe(err) != 0) {
    std::perror("pipe");
    std::exit(2);
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(progress[0]);
    close(err[0]);
    dup2(err[1], 2);
    close(err[1]);
    int rc = RunChild(sc, index, first, progress[1]);
    std::fflush(nullptr);
    std::exit(rc);  // exit, not _exit: LSan checks for leaks at exit
  }
  close(progress[1]);
  close(err[1]);
  ChildResult r;
  std::string progress_buf, err_buf;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(static_cast<int64_t>(60 * StressScale()));
  bool progress_open = true, err_open = true;
  while (progress_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
    pollfd fds[2] = {{progress_open ? progress[0] : -1, POLLIN, 0},
                     {err_open ? err[0] : -1, POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 1000))) < 0) continue;
    char buf[4096];
    if (progress_open && (fds[0].revents & (POLLIN | POLLHUP))) {
      ssize_t got = read(progress[0], buf, sizeof buf);
      if (got <= 0) {
        progress_open = false;
      } else {
        progress_buf.append(buf, static_cast<size_t>(got));
      }
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP))) {
      ssize_t got = read(err[0], buf, sizeof buf);
      if (got <= 0) {
        err_open = false;
      } else {
        std::fwrite(buf, 1, static_cast<size_t>(got), stderr);
        err_buf.append(buf, static_cast<size_t>(got));
      }
    }
  }
  close(progress[0]);
  close(err[0]);
  waitpid(pid, &r.status, 0);
  r.fatal_message = err_buf.find("rcustate: fatal:") != std::string::npos;
  // The last complete progress line.
  size_t end = progress_buf.rfind('\n');
  if (end != std::string::npos) {
    size_t start = progress_buf.rfind('\n', end - 1);
    r.last_progress = progress_buf.substr(start == std::string::npos ? 0 : start + 1,
                                          end - (start == std::string::npos ? 0 : start + 1));
  }
  return r;
}

int64_t NOf(const std::string& progress) {
  size_t at = progress.find(" N=");
  return at == std::string::npos ? 0 : std::atoll(progress.c_str() + at + 3);
}

// Sweeps one step in as many children as it takes: a child that dies or
// hangs at N is reported, and the sweep goes on from N+1 once (a step that
// breaks the store at two N needs no more evidence to be fixed).
bool SweepStep(const Scenario& sc, size_t index, const Step& step) {
  const std::string name = sc.name + ": " + step.name;
  bool ok = true;
  int64_t first = 1;
  for (int restarts = 0;; ++restarts) {
    ChildResult r = Spawn(sc, index, first);
    if (!r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) break;
    if (!r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1) {
      ok = false;  // checks failed; the child said which
      break;
    }
    const int64_t n = NOf(r.last_progress);
    const bool terminated = !r.timed_out && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGABRT;
    if (terminated && r.fatal_message && step.may_terminate && n > 0) {
      std::fprintf(stderr, "[%s] N=%lld: terminated with a clear message, as documented\n",
                   name.c_str(), static_cast<long long>(n));
    } else {
      ok = false;
      std::string how;
      if (r.timed_out) {
        how = "HANG: killed after the bound";
      } else if (WIFSIGNALED(r.status)) {
        how = std::string("died of signal ") + strsignal(WTERMSIG(r.status)) +
              (r.fatal_message ? " with a rcustate: fatal: message" : "") +
              (step.may_terminate ? "" : " (this call must return an error instead)");
      } else if (WEXITSTATUS(r.status) == 3) {
        how = "stopped: the store was left unusable (see the FAIL line above)";
      } else {
        how = "exited with " + std::to_string(WEXITSTATUS(r.status));
      }
      std::fprintf(stderr, "FAIL [%s] %s; last progress: %s\n", name.c_str(), how.c_str(),
                   r.last_progress.c_str());
    }
    if (n <= 0 || restarts >= 1) {
      if (n > 0) std::fprintf(stderr, "[%s] not swept beyond N=%lld\n", name.c_str(),
                              static_cast<long long>(n));
      break;
    }
    first = n + 1;
  }
  std::fprintf(stderr, "%s %s\n", ok ? "ok  " : "FAIL", name.c_str());
  return ok;
}

int Main(int argc, char** argv) {
  std::vector<std::string> only(argv + 1, argv + argc);
  int failed = 0, run = 0;
  for (const Scenario& sc : kScenarios) {
    std::vector<Step> steps = StepsOf(sc);
    for (size_t i = 0; i < steps.size(); ++i) {
      const std::string name = sc.name + ": " + steps[i].name;
      if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
      ++run;
      if (!SweepStep(sc, i, steps[i])) ++failed;
    }
  }
  std::fprintf(stderr, "fault sweep: %d steps, %d failed\n", run, failed);
  if (run == 0) return 2;  // a filter that matched nothing ran nothing
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace rcustate::testing::fault

int main(int argc, char** argv) { return rcustate::testing::fault::Main(argc, argv); }
