// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/runners.cpp
//
// The list of implementations, in the order the table lists them.
#include "bench/runners.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "bench/common.hpp"

namespace rcsbench {

const std::vector<ImplEntry>& Implementations() {
  static const std::vector<ImplEntry> v = {
      {"rcustate", &RunRcuState, "the library, default policy (publish every commit)", true, true},
      {"rcustate-gc", &RunRcuState, "the library, group commit (max_publish_delay = --gc_delay)",
       true, true},
      {"rcustate-c", &RunRcuStateC,
       "the library through its C ABI only (rcustate.h), default policy; compare with rcustate",
       false, true},
      {"rcustate-inline", &RunRcuState,
       "the library, read sections inlined (rcustate/inline_read.hpp)", false, true},
      {"rcustate-qsbr", &RunRcuState,
       "the library, a QSBR store: online threads, a quiescent state per read", false, true},
      {"rcustate-ckpt", &RunRcuState,
       "rcustate with a checkpointer thread (--checkpoint_full_every, --checkpoint_incr_every)",
       false, true},
      {"rcustate-log", &RunRcuState,
       "rcustate with a changelog listener appending every record to a file (1 MiB buffer)",
       false, true},
      {"locked", &RunLocked, "std::shared_mutex + absl::flat_hash_map, batch applied under the lock"},
      {"copy", &RunCopy, "whole map set copied per batch, rcu_assign_pointer, call_rcu free"},
      {"lr-sync", &RunLrSync, "two map sets, synchronize_rcu inline on every commit"},
      {"lfht", &RunLfht, "liburcu cds_lfht, per-key replace + call_rcu (no batch atomicity)"},
      {"raw", &RunRaw, "one thread, plain flat_hash_map, no synchronization"},
  };
  return v;
}

const ImplEntry& FindImplementation(std::string_view name) {
  const std::vector<ImplEntry>& all = Implementations();
  auto it = std::find_if(all.begin(), all.end(), [&](const ImplEntry& e) { return e.name == name; });
  if (it == all.end()) Die("unknown implementation " + std::string(name));
  return *it;
}

}  // namespace rcsbench
