// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/impl_rcustate.hpp
//
// `rcustate` and `rcustate-gc`: the library, through its public C++ API only
// (include/rcustate/*.hpp). Writers use the thread-local delta through
// write handles made once per (thread, partition, table) by Store::Writer
// (WriteHandle::Put/Merge), and Store::Clear/Commit; readers open a rcustate::ReadSection and
// look keys up through TableReader handles made once per (partition, table)
// by Store::Reader (--rcustate_read=reader, the default: one
// TableReader::Snapshot() per section, so all its lookups see one version,
// then inline lookups), or with Store::Snapshot(p)->Table(t)->Find(key)
// (--rcustate_read=snapshot) or Store::Get (--rcustate_read=get); pins are
// Store::Pin. `rcustate` runs the default
// publication policy (max_publish_delay = 0, every commit publishes);
// `rcustate-gc` runs group commit (max_publish_delay = --gc_delay).
// `rcustate-ckpt` is `rcustate` plus a checkpointer thread, `rcustate-log`
// `rcustate` plus a changelog listener appending to a file (durable_aux.hpp).
// `rcustate-inline` reads through rcustate::InlineReadSection
// (rcustate/inline_read.hpp); `rcustate-qsbr` opens a QSBR store: its
// threads are online from start to end, read with no section and announce a
// quiescent state after every read (inline, InlineQuiescentState).
#ifndef RCUSTATE_BENCH_IMPL_RCUSTATE_HPP_
#define RCUSTATE_BENCH_IMPL_RCUSTATE_HPP_

#include <atomic>
#include <cstdint>
#include <new>
#include <type_traits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/common.hpp"
#include "bench/config.hpp"
#include "bench/durable_aux.hpp"
#include "bench/impl_base.hpp"
#include "rcustate/inline_read.hpp"
#include "rcustate/rcustate.hpp"

namespace rcsbench {

// A writer thread's write handles (rcustate::WriteHandle), one per
// (partition, table), made on first use: a handle belongs to the thread that
// made it. `owner` names the RcuStateImpl they were made for (ids are never
// reused, unlike addresses).
struct RcuStateWriterHandles {
  uint64_t owner = 0;
  std::vector<rcustate::WriteHandle> handles;  // [partition * tables + table]
};

// rcustate registers its threads itself (AttachThread/DetachThread).
// Under rcustate-qsbr a thread goes online at its first read and offline
// whenever the driver makes it wait (ThreadIdle): an online thread that
// blocks would hold back every grace period.
inline thread_local bool rcustate_qsbr_online = false;
struct RcuStateThreads {
  static void ThreadStart() { Check(rcustate::AttachThread()); }
  static void ThreadStop() {
    delete writer_handles;  // before the thread goes: handles are the thread's
    writer_handles = nullptr;
    rcustate_qsbr_online = false;
    Check(rcustate::DetachThread());  // offline too
  }
  static void ThreadIdle() {
    if (rcustate_qsbr_online) {
      rcustate::ThreadOffline();
      rcustate_qsbr_online = false;
    }
  }
  static void EnsureOnline() {
    if (!rcustate_qsbr_online) {
      rcustate::ThreadOnline();
      rcustate_qsbr_online = true;
    }
  }
  static void Check(const absl::Status& s) {
    if (!s.ok()) Die(s.ToString());
  }
  // Plain pointer (constinit, no TLS init wrapper on the write path).
  static inline thread_local constinit RcuStateWriterHandles* writer_handles = nullptr;
};

class RcuStateImpl : public ImplBase<RcuStateImpl, RcuStateThreads> {
 public:
  static constexpr std::string_view kName = "rcustate";
  static constexpr bool kConcurrent = true;
  static constexpr bool kBatchAtomic = true;
  static constexpr bool kHasPins = true;
  static constexpr size_t kMaxTables = 8;

  // A view on one published snapshot (Snapshot mode), on one published
  // snapshot through read handles (Reader mode), on what the calling thread
  // sees (Get mode: its own uncommitted writes first), or on a pin.
  class View {
   public:
    // Snapshot mode.
    explicit View(rcustate::SnapshotView snap) : snap_(snap) {}
    // Reader mode: `readers` holds one TableReader per table of the
    // partition; `snap` came from one of them.
    View(const rcustate::TableReader* readers, rcustate::SnapshotView snap)
        : snap_(snap), readers_(readers) {}
    // Get mode.
    View(const rcustate::Store* store, uint32_t p) : store_(store), p_(p) {}
    // Pin mode.
    explicit View(const rcustate::PinnedSnapshot* pin) : pin_(pin) {}

    std::optional<std::string_view> Find(uint32_t t, std::string_view key) const {
      if (store_ != nullptr) {
        absl::StatusOr<std::optional<std::string_view>> v = store_->Get(p_, t, key);
        if (!v.ok()) Die(v.status().ToString());
        return *v;
      }
      if (readers_ != nullptr) return readers_[t].Table(*snap_).Find(key);
      return Table(t).Find(key);
    }
    template <typename F>
    void ForEach(uint32_t t, F&& f) const {
      if (store_ != nullptr) Die("ForEach on a Get-mode view");
      if (readers_ != nullptr) {
        readers_[t].Table(*snap_).ForEach([&](std::string_view k, std::string_view v) { f(k, v); });
        return;
      }
      Table(t).ForEach([&](std::string_view k, std::string_view v) { f(k, v); });
    }
    size_t Size(uint32_t t) const {
      if (store_ != nullptr) Die("Size on a Get-mode view");
      if (readers_ != nullptr) return readers_[t].Table(*snap_).size();
      return Table(t).size();
    }

   private:
    // The table views are fetched once per view, on first use (a lookup
    // through a cached TableView is one flat_hash_map probe).
    const rcustate::TableView& Table(uint32_t t) const {
      auto* tv = reinterpret_cast<rcustate::TableView*>(tables_[t]);
      if ((loaded_ & (1u << t)) == 0) {
        absl::StatusOr<rcustate::TableView> r = pin_ != nullptr ? pin_->Table(t) : snap_->Table(t);
        if (!r.ok()) Die(r.status().ToString());
        new (tv) rcustate::TableView(*r);
        loaded_ |= 1u << t;
      }
      return *tv;
    }
    static_assert(std::is_trivially_destructible_v<rcustate::TableView>);
    std::optional<rcustate::SnapshotView> snap_;
    const rcustate::TableReader* readers_ = nullptr;
    const rcustate::Store* store_ = nullptr;
    uint32_t p_ = 0;
    const rcustate::PinnedSnapshot* pin_ = nullptr;
    mutable uint32_t loaded_ = 0;
    alignas(rcustate::TableView) mutable unsigned char tables_[kMaxTables][sizeof(rcustate::TableView)];
  };

  RcuStateImpl(const Schema& schema, const Config& cfg)
      : schema_(schema),
        group_commit_(cfg.impl == "rcustate-gc"),
        qsbr_(cfg.impl == "rcustate-qsbr"),
        inline_section_(cfg.impl == "rcustate-inline"),
        cfg_(cfg),
        read_mode_(cfg.rcustate_read == "get"        ? ReadMode::kGet
                   : cfg.rcustate_read == "snapshot" ? ReadMode::kSnapshot
                                                     : ReadMode::kReader) {}
  ~RcuStateImpl() {
    readers_.clear();
    if (checkpointer_ != nullptr) checkpointer_->Stop();
    if (store_ != nullptr) {
      absl::Status s = store_->Close();
      if (!s.ok()) Die(s.ToString());
    }
    checkpointer_.reset();
    changelog_.reset();  // after Close: no listener call can still be running
  }

  absl::Status Init() {
    if (schema_.tables.size() > kMaxTables) Die("too many tables for RcuStateImpl::View");
    rcustate::StoreOptions o;
    for (const TableDef& t : schema_.tables) {
      std::shared_ptr<const rcustate::MergeOperator> op;
      switch (t.merge) {
        case MergeKind::kNone: break;
        case MergeKind::kAddInt64: op = rcustate::AddInt64(); break;
        case MergeKind::kAddDouble: op = rcustate::AddDouble(); break;
        case MergeKind::kMinInt64: op = rcustate::MinInt64(); break;
        case MergeKind::kMaxInt64: op = rcustate::MaxInt64(); break;
        case MergeKind::kAppend: op = rcustate::Append(); break;
        case MergeKind::kUser: Die("the harness has no user merge operator");
      }
      o.tables.push_back(rcustate::TableSpec{t.name, std::move(op), 0});
    }
    o.max_publish_delay = group_commit_ ? cfg_.gc_delay : absl::ZeroDuration();
    if (qsbr_) o.read_flavor = rcustate::ReadFlavor::kQsbr;
    absl::StatusOr<std::unique_ptr<rcustate::Store>> store = rcustate::Store::Open(std::move(o));
    if (!store.ok()) return store.status();
    store_ = *std::move(store);
    for (uint32_t p = 0; p < schema_.partitions; ++p) {
      if (absl::Status s = store_->CreatePartition(p); !s.ok()) return s;
    }
    // Read handles, one per (partition, table), made once.
    readers_.reserve(size_t{schema_.partitions} * schema_.tables.size());
    for (uint32_t p = 0; p < schema_.partitions; ++p) {
      for (uint32_t t = 0; t < schema_.tables.size(); ++t) {
        absl::StatusOr<rcustate::TableReader> r = store_->Reader(p, t);
        if (!r.ok()) return r.status();
        readers_.push_back(*std::move(r));
      }
    }
    if (cfg_.impl == "rcustate-ckpt" || cfg_.impl == "rcustate-log") {
      dir_.emplace(cfg_.checkpoint_dir);
    }
    if (cfg_.impl == "rcustate-ckpt") {
      checkpointer_ = std::make_unique<Checkpointer>(store_.get(), schema_.partitions,
                                                     dir_->path(), cfg_);
    }
    if (cfg_.impl == "rcustate-log") {
      changelog_ = std::make_unique<ChangelogFile>(dir_->path() + "/changelog");
      ChangelogFile* log = changelog_.get();
      if (absl::Status s = store_->SetChangelog(
              [log](uint32_t, uint64_t, std::string_view record) { return log->Append(record); });
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // Writes go through the calling thread's write handle for (p, t).
  void Put(uint32_t p, uint32_t t, std::string_view key, std::string_view value) {
    Check(Writer(p, t).Put(key, value));
  }
  void Merge(uint32_t p, uint32_t t, std::string_view key, std::string_view operand) {
    Check(Writer(p, t).Merge(key, operand));
  }
  void Clear(uint32_t p, uint32_t t) { Check(store_->Clear(p, t)); }
  void Commit(uint32_t p) {
    absl::StatusOr<uint64_t> v = store_->Commit(p);
    if (!v.ok()) Die(v.status().ToString());
  }
  // Makes everything committed visible (group commit may hold sealed batches).
  void Finish(uint32_t p) {
    absl::StatusOr<uint64_t> v = store_->Flush(p);
    if (!v.ok()) Die(v.status().ToString());
  }

  template <typename F>
  void Read(uint32_t p, F&& f) {
    if (qsbr_) {
      // Online (from the first read on): no section; nothing of this read
      // survives the quiescent state.
      EnsureOnline();
      ReadIn(p, f);
      rcustate::InlineQuiescentState();
    } else if (inline_section_) {
      rcustate::InlineReadSection rs;
      ReadIn(p, f);
    } else {
      rcustate::ReadSection rs;
      ReadIn(p, f);
    }
  }
  template <typename F>
  void ReadIn(uint32_t p, F&& f) {
    if (read_mode_ == ReadMode::kReader) {
      const rcustate::TableReader* readers = &readers_[size_t{p} * schema_.tables.size()];
      View v(readers, readers[0].Snapshot());
      f(v);
      return;
    }
    if (read_mode_ == ReadMode::kGet) {
      View v(store_.get(), p);
      f(v);
      return;
    }
    absl::StatusOr<rcustate::SnapshotView> snap = store_->Snapshot(p);
    if (!snap.ok()) Die(snap.status().ToString());
    View v(*snap);
    f(v);
  }
  // A read that may walk whole tables (verification): always a snapshot.
  template <typename F>
  void Scan(uint32_t p, F&& f) {
    {
      rcustate::ReadSection rs(*store_);
      absl::StatusOr<rcustate::SnapshotView> snap = store_->Snapshot(p);
      if (!snap.ok()) Die(snap.status().ToString());
      View v(*snap);
      f(v);
    }
    if (qsbr_) rcustate::QuiescentState();
  }
  // Sees everything this thread committed (read-your-writes through
  // Store::Get), even batches group commit has not published yet.
  template <typename F>
  void WriterRead(uint32_t p, F&& f) {
    {
      rcustate::ReadSection rs(*store_);
      View v(store_.get(), p);
      f(v);
    }
    if (qsbr_) rcustate::QuiescentState();
  }
  template <typename F, typename Hold>
  bool PinScan(uint32_t p, F&& scan, Hold&& hold) {
    absl::StatusOr<rcustate::PinnedSnapshot> pin = store_->Pin(p);
    if (!pin.ok()) Die(pin.status().ToString());
    {
      View v(&*pin);
      scan(v);
    }
    hold();
    Check(pin->Release());
    return true;
  }
  void Collect(RunResult& r) const {
    for (uint32_t p = 0; p < schema_.partitions; ++p) {
      absl::StatusOr<rcustate::PartitionStats> s = store_->Stats(p);
      if (!s.ok()) Die(s.status().ToString());
      r.commit_wait_ns += s->commit_wait_ns;
      r.grace_periods += s->grace_waits;
      r.publications += s->publications;
      r.async_reclaims += s->publications;  // each publication retires a set through call_rcu
      r.standby_copies += s->standby_copies;
      r.catch_ups += s->catch_ups;
      r.backlog_publications += s->backlog_publications;
      r.impl_bytes += s->approx_bytes;
    }
    if (group_commit_) r.note = absl::StrCat("max_publish_delay=", absl::FormatDuration(cfg_.gc_delay));
    if (qsbr_) r.note = "QSBR readers, a quiescent state per read";
    if (inline_section_) r.note = "inline read sections";
    if (checkpointer_ != nullptr) {
      checkpointer_->Stop();  // the writers are done: count what ran with them
      checkpointer_->Collect(r);
      r.note = absl::StrCat("checkpoints full every ", absl::FormatDuration(cfg_.checkpoint_full_every),
                            ", incremental every ", absl::FormatDuration(cfg_.checkpoint_incr_every));
    }
    if (changelog_ != nullptr) {
      changelog_->Collect(r);
      r.note = "changelog appended to a file";
    }
    if (read_mode_ != ReadMode::kReader) {
      r.note = absl::StrCat(r.note, r.note.empty() ? "" : "; ", "reads: ", cfg_.rcustate_read);
    }
  }

 private:
  enum class ReadMode { kReader, kSnapshot, kGet };

  rcustate::WriteHandle& Writer(uint32_t p, uint32_t t) {
    RcuStateWriterHandles* h = writer_handles;
    if (ABSL_PREDICT_FALSE(h == nullptr || h->owner != id_)) h = NewWriterHandles();
    rcustate::WriteHandle& w = h->handles[size_t{p} * schema_.tables.size() + t];
    if (ABSL_PREDICT_FALSE(w.empty())) MakeWriter(p, t, w);
    return w;
  }
  ABSL_ATTRIBUTE_NOINLINE RcuStateWriterHandles* NewWriterHandles() {
    if (writer_handles == nullptr) writer_handles = new RcuStateWriterHandles;
    writer_handles->owner = id_;
    writer_handles->handles.clear();
    writer_handles->handles.resize(size_t{schema_.partitions} * schema_.tables.size());
    return writer_handles;
  }
  ABSL_ATTRIBUTE_NOINLINE void MakeWriter(uint32_t p, uint32_t t, rcustate::WriteHandle& w) {
    absl::StatusOr<rcustate::WriteHandle> r = store_->Writer(p, t);
    if (!r.ok()) Die(r.status().ToString());
    w = *std::move(r);
  }
  static uint64_t NextId() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  const uint64_t id_ = NextId();
  Schema schema_;
  bool group_commit_;
  bool qsbr_;            // rcustate-qsbr
  bool inline_section_;  // rcustate-inline
  const Config& cfg_;
  ReadMode read_mode_;
  std::unique_ptr<rcustate::Store> store_;
  std::vector<rcustate::TableReader> readers_;  // [partition * tables + table]
  std::optional<BenchDir> dir_;                  // rcustate-ckpt, rcustate-log
  std::unique_ptr<Checkpointer> checkpointer_;   // rcustate-ckpt
  std::unique_ptr<ChangelogFile> changelog_;     // rcustate-log
};

}  // namespace rcsbench

#endif  // RCUSTATE_BENCH_IMPL_RCUSTATE_HPP_
