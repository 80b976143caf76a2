// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/rcu_test.cpp
//
// The RCU wrapper (src/rcu/): read-section nesting, automatic registration,
// grace periods and the callback tracker. The ordering checks below are
// written so that they hold in every interleaving a correct implementation
// allows; a broken one fails them in the interleavings the spinning makes
// likely. Nothing waits on a clock.
#include "src/rcu/rcu.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "rcustate/read_section.hpp"
#include "rcustate/status.hpp"

namespace rcustate::rcu {
namespace {

// Copies of the calling thread's state. Assertions take their arguments by
// reference, and binding a reference to a member of `tls` makes GCC 12 under
// -fsanitize=null test the zero flag of the initial-exec `add x@gottpoff`;
// the linker relaxes that add to a `lea`, which sets no flags, so UBSan
// reports "load of null pointer" from a stale flag. Copies avoid that
// toolchain false positive without weakening any check.
bool Registered() { return detail::reader_tls.registered; }
uint32_t Depth() { return detail::reader_tls.depth; }
uint64_t Sections() { return detail::reader_tls.sections; }
bool InCallback() { return detail::reader_tls.in_callback; }

// Spins (yielding) until `flag` is set.
void WaitFor(const std::atomic<bool>& flag) {
  while (!flag.load(std::memory_order_acquire)) std::this_thread::yield();
}

TEST(ReadSectionNesting, DepthAndSectionsCount) {
  ASSERT_FALSE(InReadSection());
  ASSERT_EQ(Depth(), 0u);
  const uint64_t sections = Sections();

  ReadLock();
  EXPECT_TRUE(InReadSection());
  EXPECT_TRUE(Registered());
  EXPECT_EQ(Depth(), 1u);
  ReadLock();
  EXPECT_EQ(Depth(), 2u);
  ReadLock();
  EXPECT_EQ(Depth(), 3u);
  ReadUnlock();
  EXPECT_EQ(Depth(), 2u);
  ReadUnlock();
  EXPECT_EQ(Depth(), 1u);
  EXPECT_TRUE(InReadSection());
  EXPECT_EQ(Sections(), sections);  // only the outermost end counts
  ReadUnlock();
  EXPECT_EQ(Depth(), 0u);
  EXPECT_FALSE(InReadSection());
  EXPECT_EQ(Sections(), sections + 1);
}

TEST(ReadSectionNesting, PublicReadSectionTracksTheSameDepth) {
  EXPECT_FALSE(ReadSection::Active());
  {
    ReadSection outer;
    EXPECT_TRUE(ReadSection::Active());
    EXPECT_TRUE(InReadSection());
    {
      ReadSection inner;
      EXPECT_EQ(Depth(), 2u);
    }
    EXPECT_TRUE(ReadSection::Active());
    EXPECT_EQ(Depth(), 1u);
  }
  EXPECT_FALSE(ReadSection::Active());
  EXPECT_EQ(Depth(), 0u);
}

TEST(Registration, ThreadsRegisterOnFirstUseAndOnDemand) {
  std::thread t([] {
    EXPECT_FALSE(Registered());  // a fresh thread
    EXPECT_EQ(Depth(), 0u);
    ReadLock();
    EXPECT_TRUE(Registered());
    ReadUnlock();
    Unregister();
    EXPECT_FALSE(Registered());
    {
      ReadSection rs;  // re-registers
      EXPECT_TRUE(Registered());
    }
    EXPECT_TRUE(DetachThread().ok());
    EXPECT_FALSE(Registered());
    EXPECT_TRUE(AttachThread().ok());
    EXPECT_TRUE(Registered());
    EXPECT_TRUE(AttachThread().ok());  // idempotent
    EXPECT_TRUE(Registered());
  });
  t.join();
}

TEST(Registration, DetachInsideReadSectionIsRefused) {
  std::thread t([] {
    ReadSection rs;
    absl::Status s = DetachThread();
    EXPECT_EQ(ErrorCodeOf(s), ErrorCode::kState);
    EXPECT_TRUE(Registered());
    EXPECT_TRUE(InReadSection());
  });
  t.join();
}

TEST(Registration, FiftyShortThreadsComeAndGo) {
  // Each thread registers implicitly and unregisters at exit; afterwards a
  // grace period must still complete (no dead thread left in the registry)
  // and callbacks queued by the dead threads must all have run.
  CallbackTracker tracker;
  std::atomic<int> callbacks{0};
  for (int round = 0; round < 2; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 50; ++i) {
      threads.emplace_back([&] {
        for (int j = 0; j < 100; ++j) {
          ReadSection rs;
          EXPECT_TRUE(Registered());
          ReadSection nested;
          EXPECT_EQ(Depth(), 2u);
        }
        EXPECT_EQ(Sections(), 100u);
        tracker.Defer([&] { callbacks.fetch_add(1, std::memory_order_relaxed); });
      });
    }
    for (auto& t : threads) t.join();
    Synchronize();
    tracker.Drain();
    EXPECT_EQ(callbacks.load(), 50 * (round + 1));
    EXPECT_EQ(tracker.pending(), 0);
  }
}

TEST(GracePeriod, SynchronizeWaitsForSectionsOpenAtItsStart) {
  // The reader records that it is leaving before it unlocks; a grace period
  // that started while the reader was inside must see that record.
  std::atomic<bool> inside{false}, sync_started{false}, leaving{false}, observed_leaving{false};
  std::thread reader([&] {
    ReadLock();
    inside.store(true, std::memory_order_release);
    WaitFor(sync_started);
    for (int i = 0; i < 1000; ++i) std::this_thread::yield();  // let Synchronize get going
    leaving.store(true, std::memory_order_release);
    ReadUnlock();
  });
  WaitFor(inside);
  sync_started.store(true, std::memory_order_release);
  Synchronize();
  observed_leaving.store(leaving.load(std::memory_order_acquire));
  reader.join();
  EXPECT_TRUE(observed_leaving.load());
}

TEST(CallbackTracker, CallbackWaitsForPrecedingReaders) {
  CallbackTracker tracker;
  std::atomic<bool> inside{false}, deferred{false}, ran{false}, ran_while_inside{false};
  std::thread reader([&] {
    ReadLock();
    inside.store(true, std::memory_order_release);
    WaitFor(deferred);
    // The callback cannot run while this section, open before Defer, is open.
    for (int i = 0; i < 2000; ++i) {
      if (ran.load(std::memory_order_acquire)) ran_while_inside.store(true);
      std::this_thread::yield();
    }
    ReadUnlock();
  });
  WaitFor(inside);
  tracker.Defer([&] { ran.store(true, std::memory_order_release); });
  deferred.store(true, std::memory_order_release);
  reader.join();
  tracker.Drain();
  EXPECT_TRUE(ran.load());
  EXPECT_FALSE(ran_while_inside.load());
}

TEST(CallbackTracker, DrainRunsEverythingIncludingCallbacksDeferredFromCallbacks) {
  CallbackTracker tracker;
  std::atomic<int> leaves{0}, total{0};
  std::atomic<bool> wrong_thread_state{false};
  // A tree: 20 roots, each defers 3 children, each child defers 2 leaves.
  for (int r = 0; r < 20; ++r) {
    tracker.Defer([&] {
      total.fetch_add(1);
      if (!InCallback() || InReadSection()) wrong_thread_state.store(true);
      for (int c = 0; c < 3; ++c) {
        tracker.Defer([&] {
          total.fetch_add(1);
          for (int l = 0; l < 2; ++l) {
            tracker.Defer([&] {
              total.fetch_add(1);
              leaves.fetch_add(1);
            });
          }
        });
      }
    });
  }
  EXPECT_GT(tracker.pending(), 0);
  tracker.Drain();
  EXPECT_EQ(tracker.pending(), 0);
  EXPECT_EQ(total.load(), 20 + 60 + 120);
  EXPECT_EQ(leaves.load(), 120);
  EXPECT_FALSE(wrong_thread_state.load());
  EXPECT_FALSE(InCallback());  // the test thread is no callback
}

TEST(CallbackTracker, DrainWithNothingPendingReturns) {
  CallbackTracker tracker;
  EXPECT_EQ(tracker.pending(), 0);
  tracker.Drain();
  tracker.Drain();
  EXPECT_EQ(tracker.pending(), 0);
}

TEST(CallbackTracker, DeferFromInsideAReadSection) {
  CallbackTracker tracker;
  std::atomic<int> ran{0};
  {
    ReadSection rs;
    tracker.Defer([&] { ran.fetch_add(1); });
    tracker.Defer([&] { ran.fetch_add(1); });
  }
  tracker.Drain();
  EXPECT_EQ(ran.load(), 2);
}

TEST(CallbackTracker, TrackersCountOnlyTheirOwnCallbacks) {
  CallbackTracker a, b;
  std::atomic<int> ran_a{0}, ran_b{0};
  for (int i = 0; i < 10; ++i) a.Defer([&] { ran_a.fetch_add(1); });
  b.Defer([&] { ran_b.fetch_add(1); });
  b.Drain();
  EXPECT_EQ(ran_b.load(), 1);
  EXPECT_EQ(b.pending(), 0);
  a.Drain();
  EXPECT_EQ(ran_a.load(), 10);
}

TEST(Publication, AssignAndDereference) {
  int first = 1, second = 2;
  int* slot = &first;
  {
    ReadSection rs;
    EXPECT_EQ(Dereference(slot), &first);
  }
  Assign(slot, &second);
  ReadSection rs;
  EXPECT_EQ(Dereference(slot), &second);
  EXPECT_EQ(*Dereference(slot), 2);
}

TEST(Publication, ReaderSeesInitializedDataThroughPublishedPointer) {
  // The writer fills a node, then publishes it; a reader that sees the
  // pointer sees the contents (rcu_assign_pointer / rcu_dereference).
  struct Node {
    int a, b;
  };
  constexpr int kNodes = 2000;
  std::vector<Node> nodes(kNodes);
  Node* slot = nullptr;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done.load(std::memory_order_acquire)) {
      ReadSection rs;
      const Node* n = Dereference(slot);
      if (n != nullptr && n->a != n->b) bad.fetch_add(1);
    }
  });
  for (int i = 0; i < kNodes; ++i) {
    nodes[i].a = i;
    nodes[i].b = i;
    Assign(slot, &nodes[i]);
  }
  done.store(true, std::memory_order_release);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace rcustate::rcu
