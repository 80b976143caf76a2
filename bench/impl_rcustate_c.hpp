// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/impl_rcustate_c.hpp
//
// `rcustate-c`: the library through its C ABI only (rcustate/rcustate.h), so
// that what the C boundary costs is measured like everything else; the
// `rcustate` row (the C++ API) in the same run is its reference. The default
// publication policy (max_publish_delay 0), as `rcustate`.
//
// Reads: rcs_read_lock, one rcs_view_current per section (one version for
// all its lookups), rcs_view_get per lookup, rcs_read_unlock. Reads that
// must see the writer's own commits (window's close) use rcs_get_ref;
// verification scans and pins walk a pinned snapshot (rcs_snapshot_*),
// since a view has no walk.
//
// Writes go through CWrite, the one place that knows how the C ABI writes:
// a write handle per (thread, partition, table) (rcs_writer_put / _merge /
// _delete per record, into the thread's delta), then rcs_commit.
#ifndef RCUSTATE_BENCH_IMPL_RCUSTATE_C_HPP_
#define RCUSTATE_BENCH_IMPL_RCUSTATE_C_HPP_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/impl_base.hpp"
#include "rcustate/rcustate.h"

namespace rcsbench {

// Dies with the C ABI's message unless `rc` is RCS_OK.
inline void CheckRcs(int rc, const char* what) {
  if (rc != RCS_OK) Die(absl::StrCat(what, ": ", rcs_strerror(rc), ": ", rcs_last_error()));
}

// How the C row writes: an rcs_writer per (thread, partition, table), opened
// on first use and closed when the thread stops; commits stay rcs_commit.
struct CWrite {
  struct Handle {
    rcs_writer* w = nullptr;
  };
  static int Open(rcs_store* store, uint32_t p, uint32_t t, Handle* h) {
    return rcs_writer_open(store, p, t, &h->w);
  }
  static int Put(const Handle& h, std::string_view key, std::string_view value) {
    return rcs_writer_put(h.w, key.data(), key.size(), value.data(), value.size());
  }
  static int Merge(const Handle& h, std::string_view key, std::string_view operand) {
    return rcs_writer_merge(h.w, key.data(), key.size(), operand.data(), operand.size());
  }
  static int Delete(const Handle& h, std::string_view key) {
    return rcs_writer_delete(h.w, key.data(), key.size());
  }
  static void Close(Handle& h) {
    rcs_writer_close(h.w);
    h.w = nullptr;
  }
};

// The calling thread's write handles, [partition * tables + table], for one
// store at a time.
class CWriteHandles {
 public:
  static CWriteHandles& Mine() {
    static thread_local CWriteHandles h;
    return h;
  }
  const CWrite::Handle& Get(rcs_store* store, uint32_t tables, uint32_t p, uint32_t t) {
    const size_t i = size_t{p} * tables + t;
    if (store_ == store && i < open_.size() && open_[i] != 0) return handles_[i];
    return Open(store, tables, i, p, t);
  }
  void CloseAll() {
    for (size_t i = 0; i < handles_.size(); ++i) {
      if (open_[i] != 0) CWrite::Close(handles_[i]);
    }
    handles_.clear();
    open_.clear();
    store_ = nullptr;
  }

 private:
  const CWrite::Handle& Open(rcs_store* store, uint32_t tables, size_t i, uint32_t p, uint32_t t) {
    if (store_ != store) CloseAll();
    store_ = store;
    if (i >= handles_.size()) {
      const size_t n = (i / tables + 1) * tables;
      handles_.resize(n);
      open_.resize(n, 0);
    }
    CheckRcs(CWrite::Open(store, p, t, &handles_[i]), "write handle open");
    open_[i] = 1;
    return handles_[i];
  }
  rcs_store* store_ = nullptr;
  std::vector<CWrite::Handle> handles_;
  std::vector<uint8_t> open_;
};

struct RcuStateCThreads {
  static void ThreadStart() { CheckRcs(rcs_thread_attach(), "rcs_thread_attach"); }
  static void ThreadStop() {
    CWriteHandles::Mine().CloseAll();
    CheckRcs(rcs_thread_detach(), "rcs_thread_detach");
  }
};

class RcuStateCImpl : public ImplBase<RcuStateCImpl, RcuStateCThreads> {
 public:
  static constexpr std::string_view kName = "rcustate-c";
  static constexpr bool kConcurrent = true;
  static constexpr bool kBatchAtomic = true;
  static constexpr bool kHasPins = true;

  // A read section's view (rcs_view), a pinned snapshot (rcs_snapshot), or
  // what the calling thread sees (rcs_get_ref: its own writes first).
  class View {
   public:
    explicit View(const rcs_view* view) : view_(view) {}
    explicit View(const rcs_snapshot* snap) : snap_(snap) {}
    View(rcs_store* store, uint32_t p) : store_(store), p_(p) {}

    std::optional<std::string_view> Find(uint32_t t, std::string_view key) const {
      const void* v = nullptr;
      size_t n = 0;
      const int rc = view_ != nullptr ? rcs_view_get(view_, t, key.data(), key.size(), &v, &n)
                     : snap_ != nullptr
                         ? rcs_snapshot_get(snap_, t, key.data(), key.size(), &v, &n)
                         : rcs_get_ref(store_, p_, t, key.data(), key.size(), &v, &n);
      if (rc == RCS_ENOTFOUND) return std::nullopt;
      CheckRcs(rc, "lookup");
      return std::string_view(static_cast<const char*>(v), n);
    }
    template <typename F>
    void ForEach(uint32_t t, F&& f) const {
      if (snap_ == nullptr) Die("ForEach needs a pinned snapshot in rcustate-c");
      auto each = [](const void* k, size_t kl, const void* v, size_t vl, void* ctx) {
        (*static_cast<std::remove_reference_t<F>*>(ctx))(
            std::string_view(static_cast<const char*>(k), kl),
            std::string_view(static_cast<const char*>(v), vl));
        return 0;
      };
      CheckRcs(rcs_snapshot_foreach(snap_, t, each, &f), "rcs_snapshot_foreach");
    }
    size_t Size(uint32_t t) const {
      size_t n = 0;
      if (view_ != nullptr) {
        CheckRcs(rcs_view_count(view_, t, &n), "rcs_view_count");
      } else if (snap_ != nullptr) {
        CheckRcs(rcs_snapshot_count(snap_, t, &n), "rcs_snapshot_count");
      } else {
        Die("Size on a read-your-writes view");
      }
      return n;
    }

   private:
    const rcs_view* view_ = nullptr;
    const rcs_snapshot* snap_ = nullptr;
    rcs_store* store_ = nullptr;
    uint32_t p_ = 0;
  };

  // --rcustate_read=get: rcs_get_ref per lookup instead of one view per
  // section (each call finds the published version afresh: for timing only,
  // as the C++ row's Store::Get mode).
  RcuStateCImpl(const Schema& schema, const Config& cfg)
      : schema_(schema), get_ref_(cfg.rcustate_read == "get") {}
  ~RcuStateCImpl() {
    if (store_ != nullptr) CheckRcs(rcs_store_close(store_), "rcs_store_close");
  }

  absl::Status Init() {
    std::vector<rcs_table_spec> specs;
    for (const TableDef& t : schema_.tables) {
      int op = RCS_MERGE_NONE;
      switch (t.merge) {
        case MergeKind::kNone: break;
        case MergeKind::kAddInt64: op = RCS_MERGE_ADD_I64; break;
        case MergeKind::kAddDouble: op = RCS_MERGE_ADD_F64; break;
        case MergeKind::kMinInt64: op = RCS_MERGE_MIN_I64; break;
        case MergeKind::kMaxInt64: op = RCS_MERGE_MAX_I64; break;
        case MergeKind::kAppend: op = RCS_MERGE_APPEND; break;
        case MergeKind::kUser: Die("the harness has no user merge operator");
      }
      specs.push_back(rcs_table_spec{t.name.c_str(), op, 0});
    }
    rcs_options o;
    rcs_options_init(&o);
    o.tables = specs.data();
    o.num_tables = specs.size();
    if (int rc = rcs_store_open(&o, &store_); rc != RCS_OK) {
      return absl::InternalError(absl::StrCat("rcs_store_open: ", rcs_last_error()));
    }
    for (uint32_t p = 0; p < schema_.partitions; ++p) {
      if (int rc = rcs_partition_create(store_, p); rc != RCS_OK) {
        return absl::InternalError(absl::StrCat("rcs_partition_create: ", rcs_last_error()));
      }
    }
    return absl::OkStatus();
  }

  void Put(uint32_t p, uint32_t t, std::string_view key, std::string_view value) {
    CheckRcs(CWrite::Put(WriteHandle(p, t), key, value), "put");
  }
  void Merge(uint32_t p, uint32_t t, std::string_view key, std::string_view operand) {
    CheckRcs(CWrite::Merge(WriteHandle(p, t), key, operand), "merge");
  }
  void Clear(uint32_t p, uint32_t t) { CheckRcs(rcs_clear(store_, p, t), "rcs_clear"); }
  void Commit(uint32_t p) { CheckRcs(rcs_commit(store_, p, nullptr), "rcs_commit"); }
  void Finish(uint32_t p) { CheckRcs(rcs_flush(store_, p, nullptr), "rcs_flush"); }

  template <typename F>
  void Read(uint32_t p, F&& f) {
    Section s;
    if (get_ref_) {
      View v(store_, p);
      f(v);
      return;
    }
    const rcs_view* view = nullptr;
    CheckRcs(rcs_view_current(store_, p, &view), "rcs_view_current");
    View v(view);
    f(v);
  }
  template <typename F>
  void WriterRead(uint32_t p, F&& f) {
    Section s;
    View v(store_, p);
    f(v);
  }
  template <typename F>
  void Scan(uint32_t p, F&& f) {
    Pinned pin(store_, p);
    View v(pin.snap);
    f(v);
  }
  template <typename F, typename Hold>
  bool PinScan(uint32_t p, F&& scan, Hold&& hold) {
    Pinned pin(store_, p);
    {
      View v(pin.snap);
      scan(v);
    }
    hold();
    return true;
  }
  void Collect(RunResult& r) const {
    for (uint32_t p = 0; p < schema_.partitions; ++p) {
      struct rcs_partition_stats s {};
      s.struct_size = sizeof(s);
      CheckRcs(rcs_partition_stats(store_, p, &s), "rcs_partition_stats");
      r.commit_wait_ns += s.commit_wait_ns;
      r.grace_periods += s.grace_waits;
      r.publications += s.publications;
      r.async_reclaims += s.publications;
      r.standby_copies += s.standby_copies;
      r.backlog_publications += s.backlog_publications;
      r.impl_bytes += s.approx_bytes;
    }
    r.note = get_ref_ ? "C ABI (rcustate.h) only; reads: rcs_get_ref" : "C ABI (rcustate.h) only";
  }

 private:
  // A read section, closed on every path.
  struct Section {
    Section() { rcs_read_lock(); }
    ~Section() { CheckRcs(rcs_read_unlock(), "rcs_read_unlock"); }
    Section(const Section&) = delete;
    Section& operator=(const Section&) = delete;
  };
  struct Pinned {
    Pinned(rcs_store* store, uint32_t p) {
      CheckRcs(rcs_snapshot_open(store, p, &snap), "rcs_snapshot_open");
    }
    ~Pinned() { rcs_snapshot_close(snap); }
    Pinned(const Pinned&) = delete;
    Pinned& operator=(const Pinned&) = delete;
    rcs_snapshot* snap = nullptr;
  };
  const CWrite::Handle& WriteHandle(uint32_t p, uint32_t t) {
    return CWriteHandles::Mine().Get(store_, static_cast<uint32_t>(schema_.tables.size()), p, t);
  }

  Schema schema_;
  bool get_ref_;
  rcs_store* store_ = nullptr;
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_RCUSTATE_C_HPP_
