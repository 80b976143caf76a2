// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/store.cpp
//
// The public Store: argument checks and the read path; the work is done by
// StoreState (directory), Partition (commit) and the thread-local deltas.
#include "rcustate/abi.hpp"
#include "rcustate/store.hpp"

#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "rcustate/read_section.hpp"
#include "rcustate/status.hpp"
#include "src/common/log.hpp"
#include "src/core/commit.hpp"
#include "src/core/metrics_text.hpp"
#include "src/core/read_own.hpp"
#include "src/core/thread_deltas.hpp"
#include "src/core/store_state.hpp"

namespace RCUSTATE_NAMESPACE {

using detail::ThreadEntry;
using detail::Partition;

namespace {
constexpr size_t kDefaultMemoryBudget = size_t{256} << 20;



absl::Status OutOfMemory(const char* what) {
  return MakeError(ErrorCode::kNoMemory, absl::StrCat(what, ": out of memory (nothing changed)"));
}
}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  try {
    return OpenImpl(std::move(options));
  } catch (const std::bad_alloc&) {
    return OutOfMemory("Store::Open");
  }
}

absl::StatusOr<std::unique_ptr<Store>> Store::OpenImpl(StoreOptions options) {
  absl::StatusOr<detail::Schema> schema = detail::Schema::Make(std::move(options.tables));
  if (!schema.ok()) return schema.status();
  if (options.max_publish_delay < absl::ZeroDuration()) {
    return MakeError(ErrorCode::kInvalidArgument, "max_publish_delay must not be negative");
  }
  if (options.read_flavor != ReadFlavor::kMemb && options.read_flavor != ReadFlavor::kQsbr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     absl::StrCat("unknown read_flavor ", static_cast<int>(options.read_flavor),
                                  " (0: memb, 1: QSBR)"));
  }
  if (options.stall_threshold < absl::ZeroDuration()) {
    return MakeError(ErrorCode::kInvalidArgument, "stall_threshold must not be negative");
  }
  const std::chrono::nanoseconds stall = options.stall_threshold == absl::ZeroDuration()
                                             ? std::chrono::seconds(1)
                                             : absl::ToChronoNanoseconds(options.stall_threshold);
  const size_t budget =
      options.memory_budget_bytes == 0 ? kDefaultMemoryBudget : options.memory_budget_bytes;
  auto state = std::make_shared<detail::StoreState>(
      *std::move(schema), budget, absl::ToChronoNanoseconds(options.max_publish_delay),
      options.read_flavor == ReadFlavor::kQsbr ? rcu::Flavor::kQsbr
                                               : rcu::Flavor::kMemb,
      stall);
  return std::unique_ptr<Store>(new Store(std::move(state)));
}

Store::Store(std::shared_ptr<detail::StoreState> state) : state_(std::move(state)) {}

Store::~Store() {
  // Close() only fails inside a read section; a store must not be destroyed
  // there (its views would dangle), so finish the close regardless once the
  // section ends is not possible: report loudly.
  absl::Status s = Close();
  if (!s.ok()) {
    detail::Fatal("Store destroyed inside a read section: %.*s",
                  static_cast<int>(s.message().size()), s.message().data());
  }
}

absl::Status Store::Close() { return state_->Close(); }

ReadFlavor Store::read_flavor() const {
  return state_->flavor() == rcu::Flavor::kQsbr ? ReadFlavor::kQsbr : ReadFlavor::kMemb;
}

bool Store::CanRead() const { return state_->ReaderProtected(); }

GraceStallStats Store::GraceStalls() const {
  GraceStallStats s;
  state_->GraceStalls(&s.stalled_grace_periods, &s.oldest_grace_wait_ns);
  return s;
}

// A ReadSection for one store (read_section.hpp): mode_ 0 is a memb section,
// 1 nothing (QSBR, already online), 2 online for the section (QSBR).
ReadSection::ReadSection(const Store& store) {
  if (store.state_->flavor() == rcu::Flavor::kMemb) {
    rcu::ReadLock();
  } else if (rcu::QsbrIsOnline()) {
    mode_ = 1;
  } else {
    rcu::QsbrOnline();
    mode_ = 2;
  }
}

size_t Store::num_tables() const { return state_->schema.tables.size(); }

absl::StatusOr<TableId> Store::FindTable(std::string_view name) const {
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  auto it = state_->schema.by_name.find(name);
  if (it == state_->schema.by_name.end()) {
    return MakeError(ErrorCode::kNoTable, absl::StrCat("no table named \"", std::string(name), "\""));
  }
  return it->second;
}

absl::StatusOr<TableSpec> Store::GetTableSpec(TableId table) const {
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  if (absl::Status s = state_->schema.CheckTable(table); !s.ok()) return s;
  return state_->schema.tables[table];
}

absl::Status Store::CreatePartition(uint32_t partition) { return state_->Create(partition); }
absl::Status Store::DropPartition(uint32_t partition) { return state_->Drop(partition); }

bool Store::HasPartition(uint32_t partition) const {
  rcu::ScopedRead section(state_->flavor());
  return state_->Find(partition) != nullptr;
}

std::vector<uint32_t> Store::ListPartitions() const { return state_->List(); }

absl::StatusOr<uint64_t> Store::Version(uint32_t partition) const {
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  rcu::ScopedRead section(state_->flavor());
  const Partition* p = state_->Find(partition);
  if (p == nullptr) return detail::NoPartition(partition);
  return p->Published()->version;
}

absl::StatusOr<SnapshotView> Store::Snapshot(uint32_t partition) const {
  if (!state_->ReaderProtected()) return detail::NotProtected(*state_, "Store::Snapshot");
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  const Partition* p = state_->Find(partition);
  if (p == nullptr) return detail::NoPartition(partition);
  return SnapshotView(p->Published());
}

absl::StatusOr<std::optional<std::string_view>> Store::Get(uint32_t partition, TableId table,
                                                           std::string_view key) const {
  if (!state_->ReaderProtected()) return detail::NotProtected(*state_, "Store::Get");
  if (table >= state_->schema.tables.size()) return state_->schema.CheckTable(table);
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  const Partition* p = state_->Find(partition);
  if (p == nullptr) return detail::NoPartition(partition);
  const detail::SnapshotData* snap = p->Published();  // dereference once: one version throughout
  const detail::TableMap& map = snap->tables[table];

  if (detail::local_nonempty != 0) {
    // Read-your-writes: this thread's uncommitted delta and (group commit)
    // its committed batches not published in this snapshot yet come first.
    ThreadEntry* e = detail::FindThreadEntry(*state_, partition);
    if (e != nullptr && e->partition() == p) {
      try {
        if (auto own = detail::ReadOwn(*e, snap->version, table, key, map)) return *own;
      } catch (const std::bad_alloc&) {
        return OutOfMemory("Store::Get");
      }
    }
  }
  auto it = map.find(key);
  if (it == map.end()) return std::optional<std::string_view>();
  return std::optional<std::string_view>(it->second);
}

absl::StatusOr<bool> Store::Contains(uint32_t partition, TableId table, std::string_view key) const {
  absl::StatusOr<std::optional<std::string_view>> v = Get(partition, table, key);
  if (!v.ok()) return v.status();
  return v->has_value();
}

absl::StatusOr<bool> Store::GetCopy(uint32_t partition, TableId table, std::string_view key,
                                    std::string* out) const {
  rcu::ScopedRead section(state_->flavor());
  absl::StatusOr<std::optional<std::string_view>> v = Get(partition, table, key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return false;
  out->assign(v->value().data(), v->value().size());
  return true;
}

absl::StatusOr<PinnedSnapshot> Store::Pin(uint32_t partition) {
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  rcu::ScopedRead section(state_->flavor());
  Partition* p = state_->Find(partition);
  if (p == nullptr) return detail::NoPartition(partition);
  return PinnedSnapshot(state_, p->PinPublished());
}

namespace {
// ChangeLocalDelta's way to the entry when the thread's cache does not hold a
// live one, or the store is closed: out of line, so that the common case
// builds no Status and makes no call to find the entry.
ABSL_ATTRIBUTE_NOINLINE absl::Status EntryForChange(
    const std::shared_ptr<detail::StoreState>& state, uint32_t partition, ThreadEntry** entry) {
  if (absl::Status s = state->CheckOpen(); !s.ok()) return s;
  try {
    absl::StatusOr<ThreadEntry*> e = detail::ThreadEntryFor(state, partition);
    if (!e.ok()) return e.status();
    *entry = *e;
    return absl::OkStatus();
  } catch (const std::bad_alloc&) {
    return OutOfMemory("writing to the thread's delta");
  }
}

// Runs `change` on the calling thread's delta for the partition.
// A failed allocation changes nothing (Delta's guarantee) and is kNoMemory.
template <typename Change>
absl::Status ChangeLocalDelta(const std::shared_ptr<detail::StoreState>& state, uint32_t partition,
                              Change&& change) {
  // An open store and the entry the thread used last: two loads and
  // compares. Anything else (closed, another partition, a dropped one, no
  // entry yet) goes the slow way, which checks in the same order.
  ThreadEntry* e = nullptr;
  if (ABSL_PREDICT_TRUE(!state->closed())) e = detail::CachedLiveThreadEntry(*state, partition);
  if (ABSL_PREDICT_FALSE(e == nullptr)) {
    if (absl::Status s = EntryForChange(state, partition, &e); !s.ok()) return s;
  }
  try {
    return e->Change(std::forward<Change>(change));
  } catch (const std::bad_alloc&) {
    return OutOfMemory("writing to the thread's delta");
  }
}
}  // namespace

absl::Status Store::Put(uint32_t partition, TableId table, std::string_view key,
                       std::string_view value) {
  return ChangeLocalDelta(state_, partition, [&](detail::Delta& d) {
    return d.Put(state_->schema, table, key, value);
  });
}

absl::Status Store::Erase(uint32_t partition, TableId table, std::string_view key) {
  return ChangeLocalDelta(state_, partition,
                          [&](detail::Delta& d) { return d.Erase(state_->schema, table, key); });
}

absl::Status Store::Merge(uint32_t partition, TableId table, std::string_view key,
                         std::string_view operand) {
  return ChangeLocalDelta(state_, partition, [&](detail::Delta& d) {
    return d.Merge(state_->schema, table, key, operand);
  });
}

absl::Status Store::Clear(uint32_t partition, TableId table) {
  return ChangeLocalDelta(state_, partition,
                          [&](detail::Delta& d) { return d.Clear(state_->schema, table); });
}

absl::StatusOr<uint64_t> Store::Commit(uint32_t partition) {
  return detail::CommitForThread(state_, partition, nullptr);
}

absl::StatusOr<uint64_t> Store::Flush(uint32_t partition) {
  return detail::FlushForThread(state_, partition);
}

absl::Status Store::Abort(uint32_t partition) {
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  if (ThreadEntry* e = detail::FindThreadEntry(*state_, partition)) {
    if (!e->partition()->dropped()) {
      e->ResetDelta();
      return absl::OkStatus();
    }
    detail::EraseThreadEntry(*state_, partition);  // its changes died with the partition
  }
  if (!HasPartition(partition)) return detail::NoPartition(partition);
  return absl::OkStatus();
}

absl::StatusOr<StoreStats> Store::Stats() const {
  try {
    StoreStats s;
    if (absl::Status st = state_->Collect(&s, nullptr); !st.ok()) return st;
    return s;
  } catch (const std::bad_alloc&) {
    return OutOfMemory("Store::Stats");
  }
}

absl::StatusOr<std::string> Store::MetricsText() const {
  try {
    StoreStats s;
    std::vector<detail::StoreState::PartitionMetrics> partitions;
    if (absl::Status st = state_->Collect(&s, &partitions); !st.ok()) return st;
    return detail::FormatMetrics(s, partitions, state_->schema);
  } catch (const std::bad_alloc&) {
    return OutOfMemory("Store::MetricsText");
  }
}

absl::StatusOr<PartitionStats> Store::Stats(uint32_t partition) const {
  rcu::OfflineScope offline(state_->flavor());  // it may wait for a commit's grace period
  try {
    absl::StatusOr<detail::PartitionRef> p = state_->Acquire(partition);
    if (!p.ok()) return p.status();
    return (*p)->Stats();
  } catch (const std::bad_alloc&) {
    return OutOfMemory("Store::Stats");
  }
}

// ---- write handles

absl::StatusOr<WriteHandle> Store::Writer(uint32_t partition, TableId table) {
  if (absl::Status s = state_->CheckOpen(); !s.ok()) return s;
  if (absl::Status s = state_->schema.CheckTable(table); !s.ok()) return s;
  try {
    absl::StatusOr<ThreadEntry*> e = detail::ThreadEntryFor(state_, partition);
    if (!e.ok()) return e.status();
    WriteHandle h;
    h.state_ = state_;
    h.partition_ = (*e)->partition();
    h.partition_->Ref();
    h.entry_ = *e;
    h.partition_id_ = partition;
    h.table_ = table;
    h.owner_ = std::this_thread::get_id();
    return h;
  } catch (const std::bad_alloc&) {
    return OutOfMemory("Store::Writer");
  }
}

}  // namespace rcustate
