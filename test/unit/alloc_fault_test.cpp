// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/alloc_fault_test.cpp
//
// The allocation-failure hook itself: the Nth allocation of the armed thread
// fails, other threads are not affected, disarming restores normal service.
// The tests call ::operator new directly: the compiler may elide the
// allocation of a new-expression whose result is not needed, which would
// shift the count.
#include "common/alloc_fault.hpp"

#include <gtest/gtest.h>

#include <new>
#include <string>
#include <thread>
#include <vector>

namespace rcustate::testing {
namespace {

TEST(AllocFault, FailsTheNthAllocationOfTheArmedThread) {
  bool threw = false;
  void* p[3] = {nullptr, nullptr, nullptr};
  ArmAllocFault(3);
  p[0] = ::operator new(16);
  p[1] = ::operator new(16);
  try {
    p[2] = ::operator new(16);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  void* after = ::operator new(16);  // one failure per arming
  const int64_t counted = AllocationsSinceArmed();
  const bool fired = DisarmAllocFault();
  EXPECT_TRUE(threw);
  EXPECT_TRUE(fired);
  EXPECT_EQ(counted, 3);
  EXPECT_EQ(p[2], nullptr);
  for (void* q : {p[0], p[1], after}) ::operator delete(q);
}

TEST(AllocFault, NothrowFormsReturnNull) {
  ArmAllocFault(1);
  void* p = ::operator new(16, std::nothrow);
  const bool fired = DisarmAllocFault();
  EXPECT_EQ(p, nullptr);
  EXPECT_TRUE(fired);
}

TEST(AllocFault, OtherThreadsAreNotAffected) {
  bool ok = false;
  std::thread t([&] {
    ArmAllocFault(0);  // not armed here
    std::vector<std::string> v(100, std::string(100, 'x'));
    ok = v.size() == 100 && v[99].size() == 100;
  });
  // Arm this thread only while the other one allocates.
  ArmAllocFault(1000000);
  t.join();
  const bool fired = DisarmAllocFault();
  EXPECT_TRUE(ok);
  EXPECT_FALSE(fired);
}

TEST(AllocFault, RaiiDisarms) {
  {
    AllocFault fault(1);
    EXPECT_TRUE(AllocFaultArmed());
  }
  EXPECT_FALSE(AllocFaultArmed());
  std::vector<int> v(1000, 1);
  EXPECT_EQ(v.size(), 1000u);
}

}  // namespace
}  // namespace rcustate::testing
