// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/thread_deltas.cpp
#include "rcustate/abi.hpp"
#include "src/core/thread_deltas.hpp"

#include <list>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"
#include "src/core/safe_map.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE::detail {

thread_local constinit size_t local_nonempty __attribute__((tls_model("initial-exec"))) = 0;
thread_local constinit LastThreadEntry last_thread_entry
    __attribute__((tls_model("initial-exec")));

namespace {
// Spare deltas an entry keeps (sealed batches recycled for the next ones).
constexpr size_t kEntrySpares = 4;
}  // namespace

ThreadEntry::ThreadEntry(std::shared_ptr<StoreState> store, PartitionRef partition)
    : store_(std::move(store)),
      partition_(std::move(partition)),
      pool_(store_->schema.tables.size(), kEntrySpares),
      delta_(std::make_unique<Delta>(store_->schema.tables.size())) {}

ThreadEntry::~ThreadEntry() {
  if (counted()) --local_nonempty;
}

void ThreadEntry::ResetDelta() noexcept {
  Recount recount(*this);
  delta_->Reset();
}

void ThreadEntry::DropSealed(size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) {
    for (auto& d : sealed_[i].layers) pool_.Give(std::move(d));
  }
  sealed_.erase(sealed_.begin(), sealed_.begin() + static_cast<ptrdiff_t>(n));
}

void ThreadEntry::DropAllSealed() noexcept {
  Recount recount(*this);
  DropSealed(sealed_.size());
}

void ThreadEntry::RecordSealed(const CommitResult& r, std::unique_ptr<Delta>& slot,
                               std::unique_ptr<Delta> spare, SealedGroup next_group) noexcept {
  size_t published = 0;
  while (published < sealed_.size() && sealed_[published].last_version <= r.published_version) {
    ++published;
  }
  DropSealed(published);
  // Every push_back below has the room Commit() reserved.
  if (sealed_.empty() || sealed_.back().epoch != r.epoch) {
    next_group.epoch = r.epoch;
    sealed_.push_back(std::move(next_group));
  }
  SealedGroup& group = sealed_.back();
  group.layers.push_back(std::move(slot));
  group.weights.push_back(1);
  group.last_version = r.version;
  slot = std::move(spare);
}

void ThreadEntry::FoldSealed(size_t i) noexcept {
  SealedGroup& g = sealed_[i];
  const Schema& schema = store_->schema;
  // Fold the last two layers while the newer weighs as much as the older.
  while (g.layers.size() >= 2 && g.weights[g.weights.size() - 1] >= g.weights[g.weights.size() - 2]) {
    const size_t n = g.layers.size();
    std::unique_ptr<Delta> merged;
    try {
      // Built aside and swapped in only when whole: the two layers stay as
      // they are if an allocation fails.
      merged = pool_.Take();
      merged->Absorb(schema, *g.layers[n - 2]);
      merged->Absorb(schema, *g.layers[n - 1]);
    } catch (const std::bad_alloc&) {
      pool_.Give(std::move(merged));
      return;
    }
    pool_.Give(std::move(g.layers[n - 1]));
    pool_.Give(std::move(g.layers[n - 2]));
    g.layers[n - 2] = std::move(merged);
    g.weights[n - 2] += g.weights[n - 1];
    g.layers.pop_back();
    g.weights.pop_back();
  }
}

namespace {

struct ThreadDeltas {
  using Key = std::pair<uint64_t, uint32_t>;  // store id, partition
  absl::flat_hash_map<Key, std::unique_ptr<ThreadEntry>> entries;
  // Entries after the last sweep of stale ones; the next sweep comes when
  // the count doubled, so sweeping costs O(1) amortized per new entry.
  size_t swept_at = 0;
  // ScratchValue() storage and the reader epoch it belongs to. A list:
  // stable addresses, and (unlike std::deque) no allocation when the
  // thread_local is constructed, which would throw from its TLS init.
  struct Scratch {
    std::list<std::string> values;
    uint64_t epoch = 0;
  };
  Scratch scratch[2];  // [0]: memb stores, [1]: QSBR stores

  ~ThreadDeltas() { last_thread_entry = LastThreadEntry{}; }

  // Forgets entries whose store was closed or whose partition was dropped,
  // so that a long-lived thread does not accumulate them.
  void SweepIfDue() {
    if (entries.size() < 2 * swept_at + 8) return;
    last_thread_entry = LastThreadEntry{};
    absl::erase_if(entries, [](const auto& kv) {
      const ThreadEntry& e = *kv.second;
      return e.store()->closed() || e.partition()->dropped();
    });
    swept_at = entries.size();
  }
};

thread_local ThreadDeltas local;

// The entry, through the cache (which it then holds), or nullptr.
ThreadEntry* Lookup(uint64_t store_id, uint32_t partition) {
  LastThreadEntry& last = last_thread_entry;
  if (last.entry != nullptr && last.store_id == store_id && last.partition == partition) {
    return last.entry;
  }
  auto it = local.entries.find(ThreadDeltas::Key{store_id, partition});
  if (it == local.entries.end()) return nullptr;
  last = LastThreadEntry{store_id, partition, it->second.get()};
  return last.entry;
}

absl::Status DroppedWithChanges(uint32_t partition) {
  return MakeError(ErrorCode::kNoPartition,
                   absl::StrCat("partition ", partition,
                                " was dropped; this thread's uncommitted changes to it were "
                                "discarded with it"));
}

}  // namespace

ThreadEntry* FindThreadEntrySlow(const StoreState& store, uint32_t partition) {
  return Lookup(store.id, partition);
}

void EraseThreadEntry(const StoreState& store, uint32_t partition) {
  auto it = local.entries.find(ThreadDeltas::Key{store.id, partition});
  if (it == local.entries.end()) return;
  if (last_thread_entry.entry == it->second.get()) last_thread_entry = LastThreadEntry{};
  local.entries.erase(it);
}

size_t ThreadEntryCount() { return local.entries.size(); }

absl::StatusOr<ThreadEntry*> ThreadEntryForSlow(const std::shared_ptr<StoreState>& store,
                                                uint32_t partition) {
  if (ThreadEntry* e = Lookup(store->id, partition)) {
    if (!e->partition()->dropped()) return e;
    // The writer must learn that what it wrote is gone: its next commit
    // would otherwise succeed on a re-created partition without it.
    const bool had_changes = !e->delta().empty();
    EraseThreadEntry(*store, partition);
    if (had_changes) return DroppedWithChanges(partition);
  }
  absl::StatusOr<PartitionRef> ref = store->Acquire(partition);
  if (!ref.ok()) return ref.status();
  local.SweepIfDue();
  const ThreadDeltas::Key key{store->id, partition};
  // Room first, so that the insertion below cannot fail half-way.
  ReserveOneMoreErasable(local.entries);
  auto entry = std::make_unique<ThreadEntry>(store, *std::move(ref));
  ThreadEntry* raw = entry.get();
  local.entries.emplace(key, std::move(entry));
  last_thread_entry = LastThreadEntry{store->id, partition, raw};
  return raw;
}

std::string* ScratchValue(bool qsbr) {
  // Values handed out in this reader epoch (a memb section, or QSBR until a
  // quiescent state) stay; a new epoch of the same flavor frees them. One
  // list per flavor: a quiescent state inside a memb section must not free
  // what the section still sees, nor the other way round.
  ThreadDeltas::Scratch& s = local.scratch[qsbr ? 1 : 0];
  const uint64_t epoch = qsbr ? detail::reader_tls.qsbr_epochs : detail::reader_tls.sections;
  if (s.epoch != epoch) {
    s.values.clear();
    s.epoch = epoch;
  }
  return &s.values.emplace_back();
}

}  // namespace rcustate::detail
