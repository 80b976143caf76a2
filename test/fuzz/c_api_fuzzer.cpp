// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fuzz/c_api_fuzzer.cpp
//
// Differential fuzzing of the C ABI: the input is decoded into a sequence of
// rcs_* operations on one store (3 tables whose merge operators the input
// picks, partitions 0..3, one publication policy), and the same operations
// are applied to a plain model: std::map per (partition, table), plus a model
// of the thread-local delta and of an explicit batch with the delta's
// documented semantics (repeated changes of a key compact; merge operands
// combine with the operator itself; merges resolve against the committed
// value at commit; clear empties the table, later changes apply on top).
//
// Checked after every commit, batch commit and flush, and by the get ops:
//  - every status code against the model (errors included);
//  - rcs_get / rcs_read / rcs_get_ref of every key against the model as the
//    writing thread sees it (committed state + its uncommitted delta);
//  - the published version never goes back and never passes the committed
//    one (they are equal under the immediate policy and after a flush);
//  - a snapshot (rcs_snapshot_foreach, _count, _get) or a view of version v
//    holds exactly the model's state after commit v; pins taken earlier
//    still hold theirs after later commits, drops and recreations.
//
// Built two ways (test/fuzz/meson.build): with -Dfuzz=enabled, a libFuzzer
// target; otherwise with replay_main.cpp, which runs the committed corpus.
// Each input runs on a fresh thread so that no thread-local state (deltas,
// RCU registration) carries over from one input to the next.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rcustate/rcustate.h"

namespace {

[[noreturn]] void Fail(const char* file, int line, const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: FUZZ CHECK failed: %s %s\n  rcs_last_error: %s\n", file, line,
               what, detail.c_str(), rcs_last_error());
  std::abort();
}
#define FCHECK(cond, detail)                                  \
  do {                                                        \
    if (!(cond)) Fail(__FILE__, __LINE__, #cond, (detail));   \
  } while (0)
#define FCHECK_RC(call, expected)                                                       \
  do {                                                                                  \
    int fc_rc_ = (call);                                                                \
    int fc_exp_ = (expected);                                                           \
    if (fc_rc_ != fc_exp_)                                                              \
      Fail(__FILE__, __LINE__, #call,                                                   \
           "returned " + std::to_string(fc_rc_) + ", expected " + std::to_string(fc_exp_)); \
  } while (0)

constexpr int kTables = 3;
constexpr uint32_t kPartitions = 4;
constexpr int kKeys = 9;  // "k0".."k7" and the empty key
constexpr size_t kMaxPins = 3;
constexpr int kMaxOps = 1500;

std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

// ------------------------------------------------------------------ model

// The merge operators, implemented independently of the library.
bool Numeric(int op) { return op >= RCS_MERGE_ADD_I64 && op <= RCS_MERGE_ADD_F64; }

std::string MergeValues(int op, const std::optional<std::string>& existing,
                        const std::string& operand) {
  if (op == RCS_MERGE_APPEND) return (existing ? *existing : std::string()) + operand;
  if (!existing) return operand;  // numeric: nothing merged with b is b
  int64_t a, b;
  std::memcpy(&a, existing->data(), 8);
  std::memcpy(&b, operand.data(), 8);
  int64_t r = 0;
  switch (op) {
    case RCS_MERGE_ADD_I64:
      r = static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
      break;
    case RCS_MERGE_MIN_I64: r = b < a ? b : a; break;
    case RCS_MERGE_MAX_I64: r = b > a ? b : a; break;
    case RCS_MERGE_ADD_F64: {
      double x, y;
      std::memcpy(&x, &a, 8);
      std::memcpy(&y, &b, 8);
      double z = x + y;
      std::memcpy(&r, &z, 8);
      break;
    }
    default: std::abort();
  }
  std::string out(8, '\0');
  std::memcpy(out.data(), &r, 8);
  return out;
}

using Table = std::map<std::string, std::string>;
using State = std::vector<Table>;

struct MOp {
  enum Kind { kPut, kErase, kMerge } kind;
  std::string value;
};
struct MTableDelta {
  bool cleared = false;
  std::map<std::string, MOp> ops;
};

// A delta with the library's documented semantics (write_batch.hpp, merge.hpp).
struct MDelta {
  std::vector<MTableDelta> t = std::vector<MTableDelta>(kTables);
  size_t size() const {
    size_t n = 0;
    for (const auto& td : t) n += td.ops.size() + (td.cleared ? 1 : 0);
    return n;
  }
  void Reset() { t.assign(kTables, MTableDelta()); }
  void Put(int table, const std::string& k, const std::string& v) { t[table].ops[k] = {MOp::kPut, v}; }
  void Erase(int table, const std::string& k) { t[table].ops[k] = {MOp::kErase, {}}; }
  void Merge(int op, int table, const std::string& k, const std::string& operand) {
    auto it = t[table].ops.find(k);
    if (it == t[table].ops.end()) {
      if (t[table].cleared) {
        t[table].ops[k] = {MOp::kPut, MergeValues(op, std::nullopt, operand)};
      } else {
        t[table].ops[k] = {MOp::kMerge, operand};
      }
      return;
    }
    MOp& slot = it->second;
    switch (slot.kind) {
      case MOp::kPut: slot.value = MergeValues(op, slot.value, operand); break;
      case MOp::kErase: slot = {MOp::kPut, MergeValues(op, std::nullopt, operand)}; break;
      case MOp::kMerge: slot.value = MergeValues(op, slot.value, operand); break;  // combine
    }
  }
  void Clear(int table) {
    t[table].ops.clear();
    t[table].cleared = true;
  }
  // The commit: merges resolve against `s` as committed so far.
  void ApplyTo(const int* ops, State& s) const {
    for (int i = 0; i < kTables; ++i) {
      Table& table = s[i];
      if (t[i].cleared) table.clear();
      Table before = table;
      for (const auto& [k, op] : t[i].ops) {
        switch (op.kind) {
          case MOp::kPut: table[k] = op.value; break;
          case MOp::kErase: table.erase(k); break;
          case MOp::kMerge: {
            auto b = before.find(k);
            table[k] = MergeValues(ops[i], b == before.end() ? std::nullopt
                                                             : std::optional<std::string>(b->second),
                                   op.value);
            break;
          }
        }
      }
    }
  }
};

struct PartitionModel {
  bool exists = false;
  State committed = State(kTables);
  uint64_t version = 0;  // commits accepted
  std::vector<std::shared_ptr<const State>> history;  // state after commit v
  MDelta local;          // the thread's uncommitted delta
  uint64_t last_seen = 0;  // highest published version observed
};

struct Pin {
  rcs_snapshot* snap;
  std::shared_ptr<const State> expected;
  uint64_t version;
};

// ------------------------------------------------------------------ input

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

std::string KeyName(int k) { return k == 8 ? std::string() : "k" + std::to_string(k); }

// ------------------------------------------------------------------ the run

class Run {
 public:
  Run(const uint8_t* data, size_t size) : in_(data, size) {}

  void Go() {
    const uint8_t policy = in_.u8() % 4;
    static const uint64_t kDelays[4] = {0, 0, 50 * 1000, 1000 * 1000 * 1000};
    delay_ns_ = kDelays[policy];
    static const char* kNames[kTables] = {"t0", "t1", "t2"};
    rcs_table_spec specs[kTables];
    for (int i = 0; i < kTables; ++i) {
      ops_[i] = in_.u8() % 6;
      specs[i] = rcs_table_spec{kNames[i], ops_[i], 0};
    }
    rcs_options o;
    rcs_options_init(&o);
    o.tables = specs;
    o.num_tables = kTables;
    o.max_publish_delay_ns = delay_ns_;
    FCHECK_RC(rcs_store_open(&o, &store_), RCS_OK);
    FCHECK_RC(rcs_batch_create(store_, &batch_), RCS_OK);

    for (int n = 0; n < kMaxOps && !in_.done(); ++n) Step();

    for (uint32_t p = 0; p < kPartitions; ++p) {
      if (parts_[p].exists) AfterCommit(p);
    }
    if (trace_) {
      std::fprintf(stderr, "policy delay %llu ns, ops %d/%d/%d; op counts:",
                   static_cast<unsigned long long>(delay_ns_), ops_[0], ops_[1], ops_[2]);
      for (int c : op_counts_) std::fprintf(stderr, " %d", c);
      std::fprintf(stderr, "; versions:");
      for (const auto& m : parts_) std::fprintf(stderr, " %llu", static_cast<unsigned long long>(m.version));
      std::fprintf(stderr, "\n");
    }
    rcs_batch_destroy(batch_);
    FCHECK_RC(rcs_store_close(store_), RCS_OK);
    // Pins outlive the store.
    for (Pin& pin : pins_) {
      CheckSnapshot(pin.snap, *pin.expected);
      rcs_snapshot_close(pin.snap);
    }
  }

 private:
  uint32_t Partition() { return in_.u8() % kPartitions; }
  // A table id; now and then one the store does not have.
  uint32_t TableId() {
    uint8_t b = in_.u8();
    return b >= 250 ? static_cast<uint32_t>(kTables + (b - 250)) : b % kTables;
  }
  std::string Key() { return KeyName(in_.u8() % kKeys); }
  // A value for `table`: 8 bytes for numeric tables, except now and then.
  std::string Value(uint32_t table) {
    uint8_t lb = in_.u8();
    size_t len = lb % 13;
    if (table < kTables && Numeric(ops_[table])) len = lb < 240 ? 8 : lb % 13;
    if (table < kTables && ops_[table] == RCS_MERGE_ADD_F64 && len == 8) {
      // Multiples of 1/8 below 2^12 in magnitude: every sum the fuzzer makes
      // is exact, so the model may add in a different order than the library
      // (which groups operands by batch and, under group commit, by
      // publication: merge.hpp) and still expect the same bits.
      const auto n = static_cast<int16_t>(in_.u8() | (in_.u8() << 8));
      const double d = n / 8.0;
      std::string v(8, '\0');
      std::memcpy(v.data(), &d, 8);
      return v;
    }
    std::string v;
    for (size_t i = 0; i < len; ++i) v.push_back(static_cast<char>(in_.u8()));
    return v;
  }
  bool ValidValue(uint32_t table, const std::string& v) const {
    return !Numeric(ops_[table]) || v.size() == 8;
  }

  // The expected status of a change to the thread-local delta before the
  // value is looked at: the partition is checked first, then the table.
  // A change or commit of this thread's delta for `p`. After a drop of `p`
  // that discarded uncommitted changes of this thread, the first such call
  // reports the loss (RCS_ENOPARTITION, even if `p` was re-created) and
  // changes nothing.
  int ChangeStatus(uint32_t p, uint32_t table) {
    if (lost_[p]) {
      lost_[p] = false;
      return RCS_ENOPARTITION;
    }
    if (!parts_[p].exists) return RCS_ENOPARTITION;
    if (table >= kTables) return RCS_ENOTABLE;
    return RCS_OK;
  }

  void Step() {
    const int op = in_.u8() % 21;
    if (trace_) std::fprintf(stderr, "  op %d\n", op);
    ++op_counts_[op];
    switch (op) {
      case 0: {  // create
        uint32_t p = Partition();
        FCHECK_RC(rcs_partition_create(store_, p), parts_[p].exists ? RCS_EEXIST : RCS_OK);
        if (!parts_[p].exists) {
          parts_[p] = PartitionModel();
          parts_[p].exists = true;
          parts_[p].history.push_back(std::make_shared<const State>(parts_[p].committed));
        }
        break;
      }
      case 1: {  // drop
        uint32_t p = Partition();
        FCHECK_RC(rcs_partition_drop(store_, p), parts_[p].exists ? RCS_OK : RCS_ENOPARTITION);
        if (parts_[p].exists && parts_[p].local.size() > 0) lost_[p] = true;
        parts_[p] = PartitionModel();  // uncommitted writes to it are gone too
        break;
      }
      case 2: case 3: case 4: case 5: {  // put / delete / merge / clear on the thread's delta
        uint32_t p = Partition(), t = TableId();
        std::string k = op == 5 ? std::string() : Key();
        std::string v = op == 2 || op == 4 ? Value(t) : std::string();
        int expect = ChangeStatus(p, t);
        if (expect == RCS_OK && (op == 2 || op == 4) && !ValidValue(t, v)) expect = RCS_EINVAL;
        if (expect == RCS_OK && op == 4 && ops_[t] == RCS_MERGE_NONE) expect = RCS_EINVAL;
        int rc = op == 2   ? rcs_put(store_, p, t, k.data(), k.size(), v.data(), v.size())
                 : op == 3 ? rcs_delete(store_, p, t, k.data(), k.size())
                 : op == 4 ? rcs_merge(store_, p, t, k.data(), k.size(), v.data(), v.size())
                           : rcs_clear(store_, p, t);
        FCHECK_RC(rc, expect);
        if (rc == RCS_OK) {
          MDelta& d = parts_[p].local;
          if (op == 2) d.Put(t, k, v);
          if (op == 3) d.Erase(t, k);
          if (op == 4) d.Merge(ops_[t], t, k, v);
          if (op == 5) d.Clear(t);
        }
        break;
      }
      case 6: {  // commit
        uint32_t p = Partition();
        uint64_t v = 0;
        const bool lost = lost_[p];
        lost_[p] = false;
        int rc = rcs_commit(store_, p, &v);
        if (lost || !parts_[p].exists) {
          FCHECK_RC(rc, RCS_ENOPARTITION);
          break;
        }
        FCHECK_RC(rc, RCS_OK);
        Commit(p, parts_[p].local);
        parts_[p].local.Reset();
        FCHECK(v == parts_[p].version, "commit version " + std::to_string(v));
        AfterCommit(p);
        break;
      }
      case 7: {  // abort
        uint32_t p = Partition();
        FCHECK_RC(rcs_abort(store_, p), parts_[p].exists ? RCS_OK : RCS_ENOPARTITION);
        parts_[p].local.Reset();
        lost_[p] = false;  // the aborted changes are the ones that were lost
        break;
      }
      case 8: case 9: case 10: case 11: {  // batch put / delete / merge / clear
        uint32_t t = TableId();
        std::string k = op == 11 ? std::string() : Key();
        std::string v = op == 8 || op == 10 ? Value(t) : std::string();
        int expect = t >= kTables ? RCS_ENOTABLE : RCS_OK;
        if (expect == RCS_OK && (op == 8 || op == 10) && !ValidValue(t, v)) expect = RCS_EINVAL;
        if (expect == RCS_OK && op == 10 && ops_[t] == RCS_MERGE_NONE) expect = RCS_EINVAL;
        int rc = op == 8   ? rcs_batch_put(batch_, t, k.data(), k.size(), v.data(), v.size())
                 : op == 9 ? rcs_batch_delete(batch_, t, k.data(), k.size())
                 : op == 10 ? rcs_batch_merge(batch_, t, k.data(), k.size(), v.data(), v.size())
                            : rcs_batch_clear(batch_, t);
        FCHECK_RC(rc, expect);
        if (rc == RCS_OK) {
          if (op == 8) batch_model_.Put(t, k, v);
          if (op == 9) batch_model_.Erase(t, k);
          if (op == 10) batch_model_.Merge(ops_[t], t, k, v);
          if (op == 11) batch_model_.Clear(t);
        }
        FCHECK(rcs_batch_size(batch_) == batch_model_.size(),
               "batch size " + std::to_string(rcs_batch_size(batch_)) + " vs model " +
                   std::to_string(batch_model_.size()));
        break;
      }
      case 12: {  // batch commit
        uint32_t p = Partition();
        uint64_t v = 0;
        // A batch commit goes through the thread's record for `p` too, so it
        // also reports the thread's lost changes (the batch stays intact).
        const bool lost = lost_[p];
        lost_[p] = false;
        int rc = rcs_batch_commit(batch_, p, &v);
        if (lost || !parts_[p].exists) {
          FCHECK_RC(rc, RCS_ENOPARTITION);
          FCHECK(rcs_batch_size(batch_) == batch_model_.size(), "failed commit changed the batch");
          break;
        }
        FCHECK_RC(rc, RCS_OK);
        Commit(p, batch_model_);
        batch_model_.Reset();
        FCHECK(rcs_batch_size(batch_) == 0, "committed batch not emptied");
        FCHECK(v == parts_[p].version, "batch commit version " + std::to_string(v));
        AfterCommit(p);
        break;
      }
      case 13:  // batch reset
        rcs_batch_reset(batch_);
        batch_model_.Reset();
        break;
      case 14: {  // rcs_get of one key, with a buffer that may be too small
        uint32_t p = Partition(), t = TableId();
        std::string k = Key();
        size_t cap = in_.u8() % 16;
        CheckGet(p, t, k, cap);
        break;
      }
      case 15: {  // a read section: get_ref, a view, and what is refused there
        uint32_t p = Partition(), t = TableId();
        std::string k = Key();
        ReadSectionOps(p, t, k);
        break;
      }
      case 16: {  // pin
        uint32_t p = Partition();
        rcs_snapshot* snap = nullptr;
        int rc = rcs_snapshot_open(store_, p, &snap);
        if (!parts_[p].exists) {
          FCHECK_RC(rc, RCS_ENOPARTITION);
          break;
        }
        FCHECK_RC(rc, RCS_OK);
        uint64_t v = rcs_snapshot_version(snap);
        CheckPublished(p, v);
        Pin pin{snap, parts_[p].history[v], v};
        CheckSnapshot(pin.snap, *pin.expected);
        if (pins_.size() < kMaxPins) {
          pins_.push_back(pin);
        } else {
          rcs_snapshot_close(snap);
        }
        break;
      }
      case 17: {  // unpin
        if (pins_.empty()) break;
        size_t i = in_.u8() % pins_.size();
        CheckSnapshot(pins_[i].snap, *pins_[i].expected);
        rcs_snapshot_close(pins_[i].snap);
        pins_.erase(pins_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
      case 18: {  // flush
        uint32_t p = Partition();
        uint64_t v = 0;
        int rc = rcs_flush(store_, p, &v);
        if (!parts_[p].exists) {
          FCHECK_RC(rc, RCS_ENOPARTITION);
          break;
        }
        FCHECK_RC(rc, RCS_OK);
        FCHECK(v == parts_[p].version, "flush returned " + std::to_string(v));
        CheckPublished(p, v);
        FCHECK(parts_[p].last_seen == parts_[p].version, "not published after flush");
        AfterCommit(p);
        break;
      }
      case 19: {  // rcs_read
        uint32_t p = Partition(), t = TableId();
        std::string k = Key();
        CheckRead(p, t, k);
        break;
      }
      case 20: {  // stats
        uint32_t p = Partition();
        struct rcs_partition_stats st;
        st.struct_size = sizeof st;
        int rc = rcs_partition_stats(store_, p, &st);
        if (!parts_[p].exists) {
          FCHECK_RC(rc, RCS_ENOPARTITION);
          break;
        }
        FCHECK_RC(rc, RCS_OK);
        FCHECK(st.committed_version == parts_[p].version && st.commits == parts_[p].version,
               "stats committed " + std::to_string(st.committed_version));
        CheckPublished(p, st.version);
        FCHECK(st.num_tables == kTables, "stats num_tables");
        break;
      }
    }
  }

  void Commit(uint32_t p, const MDelta& d) {
    PartitionModel& m = parts_[p];
    d.ApplyTo(ops_, m.committed);
    ++m.version;
    m.history.push_back(std::make_shared<const State>(m.committed));
  }

  // `v` was observed as the published version of p: it never goes back and
  // never passes the committed version; immediate publication means equal.
  void CheckPublished(uint32_t p, uint64_t v) {
    PartitionModel& m = parts_[p];
    FCHECK(v >= m.last_seen && v <= m.version,
           "published " + std::to_string(v) + ", seen " + std::to_string(m.last_seen) +
               ", committed " + std::to_string(m.version));
    if (delay_ns_ == 0) FCHECK(v == m.version, "immediate policy but not published");
    m.last_seen = v;
  }

  // The value of a key as the writing thread sees it.
  std::optional<std::string> Expected(uint32_t p, uint32_t t, const std::string& k) const {
    const PartitionModel& m = parts_[p];
    auto it = m.committed[t].find(k);
    std::optional<std::string> base =
        it == m.committed[t].end() ? std::nullopt : std::optional<std::string>(it->second);
    const MTableDelta& d = m.local.t[t];
    auto op = d.ops.find(k);
    if (op == d.ops.end()) return d.cleared ? std::nullopt : base;
    switch (op->second.kind) {
      case MOp::kPut: return op->second.value;
      case MOp::kErase: return std::nullopt;
      case MOp::kMerge: return MergeValues(ops_[t], base, op->second.value);
    }
    return std::nullopt;
  }

  int LookupStatus(uint32_t p, uint32_t t) const {
    if (t >= kTables) return RCS_ENOTABLE;  // checked first by the read path
    if (!parts_[p].exists) return RCS_ENOPARTITION;
    return RCS_OK;
  }

  void CheckGet(uint32_t p, uint32_t t, const std::string& k, size_t cap) {
    std::string buf(cap, '\0');
    size_t len = 12345;
    int rc = rcs_get(store_, p, t, k.data(), k.size(), cap ? buf.data() : nullptr, cap, &len);
    int expect = LookupStatus(p, t);
    if (expect != RCS_OK) {
      FCHECK_RC(rc, expect);
      return;
    }
    std::optional<std::string> want = Expected(p, t, k);
    if (!want) {
      FCHECK_RC(rc, RCS_ENOTFOUND);
      FCHECK(len == 0, "len on ENOTFOUND");
      return;
    }
    if (want->size() > cap) {
      FCHECK_RC(rc, RCS_ERANGE);
      FCHECK(len == want->size(), "ERANGE length");
      buf.assign(len, '\0');
      FCHECK_RC(rcs_get(store_, p, t, k.data(), k.size(), buf.data(), len, &len), RCS_OK);
    } else {
      FCHECK_RC(rc, RCS_OK);
    }
    buf.resize(len);
    FCHECK(buf == *want, "p" + std::to_string(p) + " t" + std::to_string(t) + " key '" + k +
                             "': got " + Hex(buf) + ", want " + Hex(*want));
  }

  void CheckRead(uint32_t p, uint32_t t, const std::string& k) {
    struct Ctx {
      int calls = 0;
      std::string value;
    } ctx;
    int rc = rcs_read(
        store_, p, t, k.data(), k.size(),
        [](const void* v, size_t n, void* c) {
          auto* x = static_cast<Ctx*>(c);
          ++x->calls;
          x->value.assign(static_cast<const char*>(v), n);
        },
        &ctx);
    int expect = LookupStatus(p, t);
    if (expect != RCS_OK) {
      FCHECK_RC(rc, expect);
      return;
    }
    std::optional<std::string> want = Expected(p, t, k);
    FCHECK_RC(rc, want ? RCS_OK : RCS_ENOTFOUND);
    FCHECK(ctx.calls == (want ? 1 : 0), "rcs_read callback count");
    if (want) FCHECK(ctx.value == *want, "rcs_read value " + Hex(ctx.value));
  }

  void ReadSectionOps(uint32_t p, uint32_t t, const std::string& k) {
    rcs_read_lock();
    const void* ref = nullptr;
    size_t len = 0;
    int rc = rcs_get_ref(store_, p, t, k.data(), k.size(), &ref, &len);
    int expect = LookupStatus(p, t);
    std::optional<std::string> want;
    if (expect == RCS_OK) {
      want = Expected(p, t, k);
      FCHECK_RC(rc, want ? RCS_OK : RCS_ENOTFOUND);
    } else {
      FCHECK_RC(rc, expect);
    }
    const rcs_view* view = nullptr;
    rc = rcs_view_current(store_, p, &view);
    if (!parts_[p].exists) {
      FCHECK_RC(rc, RCS_ENOPARTITION);
    } else {
      FCHECK_RC(rc, RCS_OK);
      uint64_t v = rcs_view_version(view);
      CheckPublished(p, v);
      const State& s = *parts_[p].history[v];
      for (int i = 0; i < kTables; ++i) {
        size_t n = 0;
        FCHECK_RC(rcs_view_count(view, static_cast<uint32_t>(i), &n), RCS_OK);
        FCHECK(n == s[i].size(), "view count");
        for (int j = 0; j < kKeys; ++j) {
          std::string key = KeyName(j);
          const void* val = nullptr;
          size_t vl = 0;
          auto it = s[i].find(key);
          int r = rcs_view_get(view, static_cast<uint32_t>(i), key.data(), key.size(), &val, &vl);
          FCHECK_RC(r, it == s[i].end() ? RCS_ENOTFOUND : RCS_OK);
          if (r == RCS_OK) {
            FCHECK(std::string(static_cast<const char*>(val), vl) == it->second, "view value");
          }
        }
      }
    }
    // Refused inside a section; nothing changes.
    FCHECK_RC(rcs_commit(store_, p, nullptr), RCS_ESTATE);
    FCHECK_RC(rcs_batch_commit(batch_, p, nullptr), RCS_ESTATE);
    FCHECK_RC(rcs_partition_drop(store_, p), RCS_ESTATE);
    FCHECK_RC(rcs_flush(store_, p, nullptr), RCS_ESTATE);
    // The ref is still what it was.
    if (want) {
      FCHECK(std::string(static_cast<const char*>(ref), len) == *want,
             "get_ref value " + Hex(std::string(static_cast<const char*>(ref), len)) +
                 ", want " + Hex(*want));
    }
    FCHECK_RC(rcs_read_unlock(), RCS_OK);
  }

  void CheckSnapshot(rcs_snapshot* snap, const State& s) {
    for (int i = 0; i < kTables; ++i) {
      size_t n = 0;
      FCHECK_RC(rcs_snapshot_count(snap, static_cast<uint32_t>(i), &n), RCS_OK);
      FCHECK(n == s[i].size(), "snapshot count " + std::to_string(n) + " vs " +
                                   std::to_string(s[i].size()));
      Table seen;
      FCHECK_RC(rcs_snapshot_foreach(
                    snap, static_cast<uint32_t>(i),
                    [](const void* k, size_t kl, const void* v, size_t vl, void* ctx) {
                      auto* t = static_cast<Table*>(ctx);
                      bool fresh = t->emplace(std::string(static_cast<const char*>(k), kl),
                                              std::string(static_cast<const char*>(v), vl))
                                       .second;
                      return fresh ? 0 : 1;  // a key twice would be a bug
                    },
                    &seen),
                RCS_OK);
      FCHECK(seen == s[i], "snapshot contents of table " + std::to_string(i) + " (version " +
                               std::to_string(rcs_snapshot_version(snap)) + ")");
      for (int j = 0; j < kKeys; ++j) {
        std::string key = KeyName(j);
        const void* val = nullptr;
        size_t vl = 0;
        int r = rcs_snapshot_get(snap, static_cast<uint32_t>(i), key.data(), key.size(), &val, &vl);
        auto it = s[i].find(key);
        FCHECK_RC(r, it == s[i].end() ? RCS_ENOTFOUND : RCS_OK);
        if (r == RCS_OK) {
          FCHECK(std::string(static_cast<const char*>(val), vl) == it->second, "snapshot_get");
        }
      }
    }
    FCHECK_RC(rcs_snapshot_count(snap, kTables, nullptr), RCS_EINVAL);
    size_t n;
    FCHECK_RC(rcs_snapshot_count(snap, kTables, &n), RCS_ENOTABLE);
  }

  void AfterCommit(uint32_t p) {
    for (uint32_t t = 0; t < kTables; ++t) {
      for (int j = 0; j < kKeys; ++j) CheckGet(p, t, KeyName(j), 64);
    }
    uint64_t v = 0;
    FCHECK_RC(rcs_version(store_, p, &v), RCS_OK);
    CheckPublished(p, v);
    rcs_snapshot* snap = nullptr;
    FCHECK_RC(rcs_snapshot_open(store_, p, &snap), RCS_OK);
    v = rcs_snapshot_version(snap);
    CheckPublished(p, v);
    CheckSnapshot(snap, *parts_[p].history[v]);
    rcs_snapshot_close(snap);
    for (Pin& pin : pins_) {
      FCHECK(rcs_snapshot_version(pin.snap) == pin.version, "pin version changed");
      CheckSnapshot(pin.snap, *pin.expected);
    }
  }

  Reader in_;
  // RCUSTATE_FUZZ_TRACE=1: print the decoded operations (to debug an input).
  const bool trace_ = std::getenv("RCUSTATE_FUZZ_TRACE") != nullptr;
  int op_counts_[21] = {};
  uint64_t delay_ns_ = 0;
  int ops_[kTables] = {};
  rcs_store* store_ = nullptr;
  rcs_batch* batch_ = nullptr;
  MDelta batch_model_;
  PartitionModel parts_[kPartitions];
  // The thread had uncommitted changes to the partition when it was dropped:
  // its next change or commit reports their loss.
  bool lost_[kPartitions] = {};
  std::vector<Pin> pins_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A fresh thread per input: thread-local deltas and RCU registration start
  // clean, so every input reproduces on its own.
  std::thread([data, size] { Run(data, size).Go(); }).join();
  return 0;
}
