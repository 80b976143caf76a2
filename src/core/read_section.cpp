// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/read_section.cpp
#include "rcustate/abi.hpp"
#include "rcustate/read_section.hpp"

#include "rcustate/status.hpp"
#include "src/rcu/rcu.hpp"

namespace RCUSTATE_NAMESPACE {
namespace {
// The sections Enter() opened on this thread and Leave() has not closed yet
// (a subset of the RCU nesting depth, which also counts ReadSection objects).
// initial-exec, like the RCU thread state: one %fs-relative access.
thread_local constinit uint32_t entered __attribute__((tls_model("initial-exec"))) = 0;
}  // namespace

ReadSection::ReadSection() { rcu::ReadLock(); }
ReadSection::~ReadSection() {
  if (mode_ == 0) {
    rcu::ReadUnlock();
  } else if (mode_ == 2) {
    rcu::QsbrOffline();
  }
}
bool ReadSection::Active() { return rcu::InReadSection(); }

void ReadSection::Enter() noexcept {
  rcu::ReadLock();
  ++entered;
}

bool ReadSection::Leave() noexcept {
  if (entered == 0) return false;
  --entered;
  rcu::ReadUnlock();
  return true;
}

void ThreadOnline() noexcept { rcu::QsbrOnline(); }
void ThreadOffline() noexcept { rcu::QsbrOffline(); }
bool ThreadIsOnline() noexcept { return rcu::QsbrIsOnline(); }
void QuiescentState() noexcept { rcu::QsbrQuiescent(); }

absl::Status AttachThread() {
  rcu::EnsureRegistered();
  return absl::OkStatus();
}

absl::Status DetachThread() {
  if (rcu::InReadSection()) {
    return MakeError(ErrorCode::kState,
                     "detaching the thread is not allowed inside a read section (the thread's "
                     "section would be left registered with nobody to end it)");
  }
  rcu::Unregister();
  return absl::OkStatus();
}

}  // namespace rcustate
