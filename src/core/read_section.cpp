// File: src/core/read_section.cpp
#include "rcustate/read_section.hpp"

#include "src/core/store_state.hpp"
#include "src/rcu/rcu.hpp"

namespace rcustate {

ReadSection::ReadSection() { rcu::ReadLock(); }
ReadSection::~ReadSection() { rcu::ReadUnlock(); }
bool ReadSection::Active() { return rcu::InReadSection(); }

absl::Status AttachThread() {
  rcu::EnsureRegistered();
  return absl::OkStatus();
}

absl::Status DetachThread() {
  if (rcu::InReadSection()) return detail::InsideReadSection("DetachThread");
  rcu::Unregister();
  return absl::OkStatus();
}

}  // namespace rcustate
