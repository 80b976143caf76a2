// File: src/core/local_delta.cpp
#include "src/core/local_delta.hpp"

#include "src/rcu/rcu.hpp"

namespace rcustate::detail {

thread_local constinit size_t local_nonempty __attribute__((tls_model("initial-exec"))) = 0;

namespace {

bool Counted(const LocalEntry& e) { return !e.delta->empty() || e.has_sealed(); }

// Forgets the entry's sealed batches (they are published), keeping a few
// emptied ones for reuse.
void DropSealed(LocalEntry& e) {
  constexpr size_t kMaxSpares = 4;
  for (auto& d : e.sealed_batches) {
    if (e.spares.size() >= kMaxSpares) break;
    d->Reset();
    e.spares.push_back(std::move(d));
  }
  e.sealed_batches.clear();
  if (e.sealed != nullptr) e.sealed->Reset();
}

// One-entry cache in front of `local`: writers usually hit the same partition
// again and again. Plain data with initial-exec TLS, so the hit costs two
// %fs-relative loads; `local` itself has a destructor, which makes every
// access go through a TLS init wrapper and __tls_get_addr (10% of a window
// run's instructions under callgrind).
struct LastEntry {
  uint64_t store_id = 0;  // store ids start at 1
  uint32_t partition = 0;
  LocalEntry* entry = nullptr;
};
thread_local constinit LastEntry last __attribute__((tls_model("initial-exec")));

struct LocalDeltas {
  using Key = std::pair<uint64_t, uint32_t>;  // store id, partition
  absl::flat_hash_map<Key, std::unique_ptr<LocalEntry>> entries;
  // ScratchValue() storage and the section it belongs to.
  std::deque<std::string> scratch;
  uint64_t scratch_section = 0;

  ~LocalDeltas() {
    last = LastEntry{};
    for (auto& [key, entry] : entries) {
      if (Counted(*entry)) --local_nonempty;
    }
  }
};

thread_local LocalDeltas local;

LocalEntry* Lookup(uint64_t store_id, uint32_t partition) {
  LocalDeltas::Key key{store_id, partition};
  if (last.entry != nullptr && last.store_id == store_id && last.partition == partition) {
    return last.entry;
  }
  auto it = local.entries.find(key);
  if (it == local.entries.end()) return nullptr;
  last = LastEntry{store_id, partition, it->second.get()};
  return last.entry;
}

}  // namespace

LocalEntry* FindLocalEntry(const StoreState& store, uint32_t partition) {
  return Lookup(store.id, partition);
}

void EraseLocal(const StoreState& store, uint32_t partition) {
  auto it = local.entries.find(LocalDeltas::Key{store.id, partition});
  if (it == local.entries.end()) return;
  if (Counted(*it->second)) --local_nonempty;
  if (last.entry == it->second.get()) last = LastEntry{};
  local.entries.erase(it);
}

absl::StatusOr<LocalEntry*> LocalEntryFor(const std::shared_ptr<StoreState>& store,
                                          uint32_t partition) {
  if (LocalEntry* e = Lookup(store->id, partition)) {
    if (!e->partition->dropped()) return e;
    EraseLocal(*store, partition);
  }
  absl::StatusOr<PartitionRef> ref = store->Acquire(partition);
  if (!ref.ok()) return ref.status();
  // Creating an entry is the slow path: also forget entries whose store was
  // closed or whose partition was dropped, so that a long-lived thread does
  // not accumulate them.
  for (auto it = local.entries.begin(); it != local.entries.end();) {
    LocalEntry& old = *it->second;
    if (old.store->closed() || old.partition->dropped()) {
      if (Counted(old)) --local_nonempty;
      local.entries.erase(it++);
    } else {
      ++it;
    }
  }
  last = LastEntry{};
  auto entry = std::make_unique<LocalEntry>();
  entry->store = store;
  entry->partition = *std::move(ref);
  entry->delta = std::make_unique<Delta>(store->schema.tables.size());
  LocalEntry* raw = entry.get();
  LocalDeltas::Key key{store->id, partition};
  local.entries[key] = std::move(entry);
  last = LastEntry{store->id, partition, raw};
  return raw;
}

void ResetLocal(LocalEntry& entry) {
  const bool before = Counted(entry);
  entry.delta->Reset();
  if (before && !Counted(entry)) --local_nonempty;
}

absl::StatusOr<uint64_t> CommitForThread(const std::shared_ptr<StoreState>& store,
                                         uint32_t partition, std::unique_ptr<Delta>* batch) {
  if (rcu::InReadSection()) return InsideReadSection("Commit");
  if (absl::Status s = store->CheckOpen(); !s.ok()) return s;
  absl::StatusOr<LocalEntry*> e = LocalEntryFor(store, partition);
  if (!e.ok()) return e.status();
  LocalEntry& entry = **e;
  const bool before = Counted(entry);
  const bool group_commit = store->max_publish_delay.count() > 0;
  std::unique_ptr<Delta>& delta = batch != nullptr ? *batch : entry.delta;
  absl::StatusOr<CommitResult> r = entry.partition->Commit(store->schema, delta, group_commit);
  if (!r.ok()) {
    EraseLocal(*store, partition);
    return r.status();
  }
  if (r->visible || r->published_version >= entry.sealed_version) DropSealed(entry);
  if (!r->visible) {
    // Keep the sealed batch for read-your-writes; the thread writes on.
    entry.sealed_batches.push_back(std::move(delta));
    entry.sealed_version = r->version;
    if (entry.spares.empty()) {
      delta = std::make_unique<Delta>(store->schema.tables.size());
    } else {
      delta = std::move(entry.spares.back());
      entry.spares.pop_back();
    }
  }
  const bool after = Counted(entry);
  if (before && !after) --local_nonempty;
  if (!before && after) ++local_nonempty;
  return r->version;
}

absl::StatusOr<uint64_t> FlushForThread(const std::shared_ptr<StoreState>& store,
                                        uint32_t partition) {
  if (rcu::InReadSection()) return InsideReadSection("Flush");
  if (absl::Status s = store->CheckOpen(); !s.ok()) return s;
  absl::StatusOr<PartitionRef> p = store->Acquire(partition);
  if (!p.ok()) return p.status();
  absl::StatusOr<uint64_t> v = (*p)->Flush();
  if (!v.ok()) return v;
  if (LocalEntry* e = Lookup(store->id, partition); e != nullptr && e->has_sealed()) {
    const bool before = Counted(*e);
    DropSealed(*e);
    if (before && !Counted(*e)) --local_nonempty;
  }
  return v;
}

const Delta* SealedView(LocalEntry& entry, const Schema& schema) {
  if (entry.sealed == nullptr) entry.sealed = std::make_unique<Delta>(schema.tables.size());
  for (auto& d : entry.sealed_batches) {
    entry.sealed->AbsorbMove(schema, *d);
    d->Reset();
  }
  // The batches now live in `sealed`; their emptied objects are spares.
  for (auto& d : entry.sealed_batches) {
    if (entry.spares.size() < 4) entry.spares.push_back(std::move(d));
  }
  entry.sealed_batches.clear();
  return entry.sealed.get();
}

std::string* ScratchValue() {
  if (local.scratch_section != rcu::tls.sections) {
    local.scratch.clear();
    local.scratch_section = rcu::tls.sections;
  }
  return &local.scratch.emplace_back();
}

}  // namespace rcustate::detail
