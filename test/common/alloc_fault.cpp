// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/common/alloc_fault.cpp
//
// Replacement global operator new/delete for allocation-failure tests (see
// alloc_fault.hpp). Every form of operator new allocates with malloc (or
// aligned_alloc) so that the sanitizers still see every allocation; every
// operator delete frees with free. The per-thread state is plain
// initial-exec TLS data so that counting allocates nothing itself.
#include "common/alloc_fault.hpp"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace rcustate::testing {
namespace {

struct FaultState {
  int64_t fail_at = 0;  // 0: disarmed
  int64_t count = 0;    // allocations since armed
  bool fired = false;
};
thread_local constinit FaultState state __attribute__((tls_model("initial-exec")));
std::atomic<int64_t> injected{0};

// True if this allocation must fail.
inline bool ShouldFail() {
  if (state.fail_at == 0 || state.fired) return false;
  if (++state.count < state.fail_at) return false;
  state.fired = true;
  injected.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void* Allocate(std::size_t size, std::size_t align, bool nothrow) {
  if (ShouldFail()) {
    if (nothrow) return nullptr;
    throw std::bad_alloc();
  }
  if (size == 0) size = 1;
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else {
    // aligned_alloc wants a size that is a multiple of the alignment.
    p = std::aligned_alloc(align, (size + align - 1) / align * align);
  }
  if (p == nullptr && !nothrow) throw std::bad_alloc();
  return p;
}

}  // namespace

void ArmAllocFault(int64_t fail_at) { state = FaultState{fail_at < 0 ? 0 : fail_at, 0, false}; }

bool DisarmAllocFault() {
  const bool fired = state.fired;
  state = FaultState{};
  return fired;
}

int64_t AllocationsSinceArmed() { return state.count; }
bool AllocFaultArmed() { return state.fail_at != 0 && !state.fired; }
int64_t InjectedAllocFaults() { return injected.load(std::memory_order_relaxed); }
bool AllocFault::injected_now() { return state.fired; }

}  // namespace rcustate::testing

using rcustate::testing::Allocate;

void* operator new(std::size_t n) { return Allocate(n, 0, false); }
void* operator new[](std::size_t n) { return Allocate(n, 0, false); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return Allocate(n, 0, true); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return Allocate(n, 0, true); }
void* operator new(std::size_t n, std::align_val_t a) {
  return Allocate(n, static_cast<std::size_t>(a), false);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return Allocate(n, static_cast<std::size_t>(a), false);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return Allocate(n, static_cast<std::size_t>(a), true);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return Allocate(n, static_cast<std::size_t>(a), true);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
