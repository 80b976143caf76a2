// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/qsbr_test.cpp
//
// Stores of the QSBR read flavor: who may read them, what a quiescent state
// ends, that reclamation waits for online threads and only for them, that
// stalls are counted where a monitor can see them, and the inline read
// section and quiescent state of rcustate/inline_read.hpp. Nothing waits on
// a clock: ordering is checked with flags set before the event they
// announce.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "rcustate/inline_read.hpp"
#include "rcustate/rcustate.hpp"
#include "unit_util.hpp"

namespace rcustate {
namespace {

using testing::CodeOf;

constexpr TableId kT = 0;    // plain values
constexpr TableId kSum = 1;  // AddInt64

std::unique_ptr<Store> OpenQsbr(absl::Duration delay = absl::ZeroDuration(),
                                absl::Duration stall = absl::ZeroDuration()) {
  StoreOptions o;
  o.tables = {{"t", nullptr, 0}, {"sum", AddInt64(), 0}};
  o.read_flavor = ReadFlavor::kQsbr;
  o.max_publish_delay = delay;
  o.stall_threshold = stall;
  return Store::Open(o).value();
}

void Spin(const std::atomic<bool>& flag) {
  while (!flag.load(std::memory_order_acquire)) std::this_thread::yield();
}

// Every test leaves its thread offline, as it found it.
class Qsbr : public ::testing::Test {
 protected:
  void TearDown() override {
    ThreadOffline();
    EXPECT_FALSE(ReadSection::Active());
  }
};

TEST_F(Qsbr, OptionsAreChecked) {
  StoreOptions o;
  o.tables = {{"t", nullptr, 0}};
  o.read_flavor = static_cast<ReadFlavor>(7);
  EXPECT_EQ(CodeOf(Store::Open(o)), ErrorCode::kInvalidArgument);
  o.read_flavor = ReadFlavor::kQsbr;
  o.stall_threshold = absl::Milliseconds(-1);
  EXPECT_EQ(CodeOf(Store::Open(o)), ErrorCode::kInvalidArgument);
  o.stall_threshold = absl::ZeroDuration();
  auto s = Store::Open(o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->read_flavor(), ReadFlavor::kQsbr);
}

TEST_F(Qsbr, OnlyOnlineThreadsRead) {
  auto store = OpenQsbr();
  ASSERT_TRUE(store->CreatePartition(0).ok());
  ASSERT_TRUE(store->Put(0, kT, "k", "v1").ok());
  ASSERT_TRUE(store->Commit(0).ok());

  EXPECT_FALSE(ThreadIsOnline());
  EXPECT_FALSE(store->CanRead());
  {
    // A memb section does not protect reads of a QSBR store.
    ReadSection rs;
    auto v = store->Get(0, kT, "k");
    EXPECT_EQ(CodeOf(v), ErrorCode::kState);
    EXPECT_NE(v.status().message().find("online"), std::string_view::npos) << v.status();
    EXPECT_EQ(CodeOf(store->Snapshot(0)), ErrorCode::kState);
  }
  ThreadOnline();
  EXPECT_TRUE(ThreadIsOnline());
  EXPECT_TRUE(store->CanRead());
  EXPECT_FALSE(ReadSection::Active());  // online is not a memb section
  auto v = store->Get(0, kT, "k");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->value(), "v1");
  TableReader r = store->Reader(0, kT).value();
  EXPECT_EQ(r.Find("k").value(), "v1");
  EXPECT_EQ(store->Snapshot(0)->version(), 1u);
  QuiescentState();
  EXPECT_TRUE(ThreadIsOnline());  // a quiescent state leaves it online
  ThreadOffline();
  EXPECT_FALSE(store->CanRead());
  ThreadOffline();  // idempotent
  // Copying reads work anywhere: they go online for their own duration.
  std::string out;
  EXPECT_TRUE(store->GetCopy(0, kT, "k", &out).value());
  EXPECT_EQ(out, "v1");
  EXPECT_FALSE(ThreadIsOnline());
  EXPECT_TRUE(store->HasPartition(0));
  EXPECT_EQ(store->Version(0).value(), 1u);
}

TEST_F(Qsbr, ReadSectionForAStoreGoesOnlineOnlyForItsScope) {
  auto store = OpenQsbr();
  ASSERT_TRUE(store->CreatePartition(0).ok());
  {
    ReadSection rs(*store);
    EXPECT_TRUE(ThreadIsOnline());
    EXPECT_TRUE(store->CanRead());
    EXPECT_FALSE(ReadSection::Active());
  }
  EXPECT_FALSE(ThreadIsOnline());
  ThreadOnline();
  {
    ReadSection rs(*store);  // already online: nothing to undo
  }
  EXPECT_TRUE(ThreadIsOnline());
}

TEST_F(Qsbr, WaitingCallsAreAllowedOnlineAndLeaveTheThreadOnline) {
  for (absl::Duration delay : {absl::ZeroDuration(), absl::Microseconds(50)}) {
    auto store = OpenQsbr(delay);
    ASSERT_TRUE(store->CreatePartition(0).ok());
    ASSERT_TRUE(store->CreatePartition(1).ok());
    ThreadOnline();
    for (int i = 1; i <= 5; ++i) {
      ASSERT_TRUE(store->Merge(0, kSum, "n", EncodeInt64(1)).ok());
      ASSERT_EQ(store->Commit(0).value(), uint64_t(i));  // grace periods from an online thread
      EXPECT_TRUE(ThreadIsOnline());
    }
    EXPECT_EQ(store->Flush(0).value(), 5u);
    EXPECT_EQ(DecodeInt64(store->Get(0, kSum, "n")->value()), 5);
    {
      PinnedSnapshot pin = store->Pin(0).value();
      EXPECT_TRUE(pin.Release().ok());  // allowed online
    }
    EXPECT_TRUE(store->DropPartition(1).ok());
    EXPECT_TRUE(ThreadIsOnline());
    EXPECT_TRUE(store->Close().ok());
    EXPECT_TRUE(ThreadIsOnline());
    ThreadOffline();
  }
}

// The core guarantee: a commit that reuses the map set an online reader
// still sees does not return before the reader announced a quiescent state,
// and until then the reader's view stays intact.
TEST_F(Qsbr, ReclamationWaitsForAnOnlineReader) {
  auto store = OpenQsbr();
  ASSERT_TRUE(store->CreatePartition(0).ok());
  ASSERT_TRUE(store->Put(0, kT, "k", std::string(64, 'a')).ok());
  ASSERT_TRUE(store->Commit(0).ok());  // version 1

  std::atomic<bool> reading{false}, committing{false}, announced{false};
  std::string seen_after;
  std::thread reader([&] {
    ThreadOnline();
    std::string_view v = store->Get(0, kT, "k").value().value();  // version 1's map set
    reading.store(true, std::memory_order_release);
    Spin(committing);
    // The writer is inside (or about to enter) the commit that must wait for
    // us; give it every chance to be wrong.
    for (int i = 0; i < 2000; ++i) std::this_thread::yield();
    seen_after.assign(v);
    announced.store(true, std::memory_order_release);
    QuiescentState();
    ThreadOffline();
  });
  Spin(reading);
  // Version 2 goes to the standby (it may wait for the reader, which is why
  // the flag is set before it); version 3 needs version 1's set again,
  // retired by version 2 while the reader was online and saw it: that
  // commit cannot return before the reader's quiescent state.
  committing.store(true, std::memory_order_release);
  ASSERT_TRUE(store->Put(0, kT, "k", std::string(64, 'b')).ok());
  ASSERT_TRUE(store->Commit(0).ok());
  ASSERT_TRUE(store->Put(0, kT, "k", std::string(64, 'c')).ok());
  ASSERT_TRUE(store->Commit(0).ok());
  EXPECT_TRUE(announced.load(std::memory_order_acquire))
      << "the commit reused a map set an online reader could still see";
  reader.join();
  EXPECT_EQ(seen_after, std::string(64, 'a'));
  EXPECT_GE(store->Stats(0)->grace_waits, 1u);
}

// An offline thread, registered or gone, holds nothing back.
TEST_F(Qsbr, OfflineAndExitedThreadsDoNotHoldReclamation) {
  auto store = OpenQsbr();
  ASSERT_TRUE(store->CreatePartition(0).ok());
  std::atomic<bool> offline{false}, done{false};
  std::thread parked([&] {
    ThreadOnline();
    (void)store->Get(0, kT, "k");
    ThreadOffline();
    offline.store(true, std::memory_order_release);
    Spin(done);
  });
  Spin(offline);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store->Put(0, kT, "k", std::to_string(i)).ok());
    ASSERT_TRUE(store->Commit(0).ok());  // would hang if the parked thread counted
  }
  done.store(true, std::memory_order_release);
  parked.join();
  std::thread exits([&] {
    ThreadOnline();  // exits online: its registration ends with it
    (void)store->Get(0, kT, "k");
  });
  exits.join();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store->Put(0, kT, "k", std::to_string(i)).ok());
    ASSERT_TRUE(store->Commit(0).ok());
  }
}

// A thread online that never reports: the commit waits, GraceStalls() and
// Stats() show it while it waits, and the count stays once it ended.
TEST_F(Qsbr, AStalledReaderIsCountedWhileTheCommitWaits) {
  auto store = OpenQsbr(absl::ZeroDuration(), absl::Milliseconds(20));
  ASSERT_TRUE(store->CreatePartition(0).ok());
  ASSERT_TRUE(store->Commit(0).ok());
  std::atomic<bool> online{false}, release{false};
  std::thread stalled([&] {
    ThreadOnline();
    online.store(true, std::memory_order_release);
    Spin(release);  // online, no quiescent state: a stall
    ThreadOffline();
  });
  Spin(online);
  std::atomic<bool> committed{false};
  std::thread writer([&] {
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(store->Commit(0).ok());  // the second waits
    committed.store(true, std::memory_order_release);
  });
  // Poll until the stall shows (a liveness bound, not a timing assertion).
  GraceStallStats g;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  do {
    std::this_thread::yield();
    g = store->GraceStalls();
  } while (g.stalled_grace_periods == 0 && std::chrono::steady_clock::now() < give_up);
  EXPECT_EQ(g.stalled_grace_periods, 1u);
  EXPECT_GE(g.oldest_grace_wait_ns, 20u * 1000 * 1000);
  EXPECT_FALSE(committed.load(std::memory_order_acquire));
  release.store(true, std::memory_order_release);
  writer.join();
  stalled.join();
  // Counted once it ended too (a slow build may count a later wait as well).
  g = store->GraceStalls();
  EXPECT_GE(g.stalled_grace_periods, 1u);
  EXPECT_EQ(g.oldest_grace_wait_ns, 0u);
  PartitionStats st = store->Stats(0).value();
  EXPECT_GE(st.stalled_grace_periods, 1u);
  EXPECT_EQ(st.grace_wait_age_ns, 0u);
}

// Values Get builds from the thread's own pending merges live in a scratch
// area per flavor: a quiescent state ends the QSBR ones only, the end of a
// memb section the memb ones only. (Under ASan a shared area fails here.)
TEST_F(Qsbr, OwnMergedValuesLiveUntilTheirOwnFlavorsEpochEnds) {
  auto qsbr = OpenQsbr();
  StoreOptions o;
  o.tables = {{"t", nullptr, 0}, {"sum", AddInt64(), 0}};
  auto memb = Store::Open(o).value();
  ASSERT_TRUE(qsbr->CreatePartition(0).ok());
  ASSERT_TRUE(memb->CreatePartition(0).ok());
  ASSERT_TRUE(qsbr->Merge(0, kSum, "n", EncodeInt64(7)).ok());
  ASSERT_TRUE(memb->Merge(0, kSum, "n", EncodeInt64(9)).ok());
  ThreadOnline();
  {
    ReadSection rs;
    std::string_view m = memb->Get(0, kSum, "n").value().value();
    std::string_view q = qsbr->Get(0, kSum, "n").value().value();
    QuiescentState();  // ends q, not m
    for (int i = 0; i < 64; ++i) (void)qsbr->Get(0, kSum, "n");  // reuse the QSBR area
    EXPECT_EQ(DecodeInt64(m), 9);
    q = qsbr->Get(0, kSum, "n").value().value();
    EXPECT_EQ(DecodeInt64(q), 7);
  }
  std::string_view q = qsbr->Get(0, kSum, "n").value().value();
  {
    ReadSection rs;  // a memb section begins and ends: q survives
    for (int i = 0; i < 64; ++i) (void)memb->Get(0, kSum, "n");
  }
  EXPECT_EQ(DecodeInt64(q), 7);
}

TEST_F(Qsbr, DetachTakesAnOnlineThreadOffline) {
  ThreadOnline();
  EXPECT_TRUE(DetachThread().ok());
  EXPECT_FALSE(ThreadIsOnline());
  ThreadOnline();  // registers again
  EXPECT_TRUE(ThreadIsOnline());
}

TEST_F(Qsbr, PinsAndReadersOutliveDropsAndClose) {
  auto store = OpenQsbr(absl::Microseconds(50));
  ASSERT_TRUE(store->CreatePartition(0).ok());
  ASSERT_TRUE(store->Put(0, kT, "k", "v").ok());
  ASSERT_TRUE(store->Commit(0).ok());
  ASSERT_TRUE(store->Flush(0).ok());
  PinnedSnapshot pin = store->Pin(0).value();
  TableReader r = store->Reader(0, kT).value();
  ASSERT_TRUE(store->DropPartition(0).ok());
  ASSERT_TRUE(store->Close().ok());
  EXPECT_EQ(pin.Table(kT)->Find("k").value(), "v");
  ThreadOnline();
  EXPECT_TRUE(r.dropped());
  EXPECT_EQ(r.Find("k").value(), "v");
}

// rcustate/inline_read.hpp: the inline section is a ReadSection in every
// respect the library checks; the inline quiescent state is QuiescentState.
TEST_F(Qsbr, InlineSectionIsAReadSection) {
  StoreOptions o;
  o.tables = {{"t", nullptr, 0}};
  auto store = Store::Open(o).value();
  ASSERT_TRUE(store->CreatePartition(0).ok());
  ASSERT_TRUE(store->Put(0, 0, "k", "v").ok());
  ASSERT_TRUE(store->Commit(0).ok());
  TableReader r = store->Reader(0, 0).value();
  {
    InlineReadSection outer;
    EXPECT_TRUE(ReadSection::Active());
    EXPECT_TRUE(store->CanRead());
    EXPECT_EQ(r.Find("k").value(), "v");
    EXPECT_EQ(CodeOf(store->Commit(0)), ErrorCode::kState);  // not a deadlock
    {
      ReadSection inner;
      InlineReadSection innermost;
    }
    EXPECT_TRUE(ReadSection::Active());
    EXPECT_FALSE(ReadSection::Leave());  // not opened by Enter()
  }
  EXPECT_FALSE(ReadSection::Active());
  EXPECT_TRUE(store->Commit(0).ok());
}

TEST_F(Qsbr, InlineQuiescentStateLetsTheWriterGo) {
  auto store = OpenQsbr();
  ASSERT_TRUE(store->CreatePartition(0).ok());
  std::atomic<bool> stop{false}, online{false};
  std::thread reader([&] {
    ThreadOnline();
    TableReader r = store->Reader(0, kT).value();
    online.store(true, std::memory_order_release);
    while (!stop.load(std::memory_order_acquire)) {
      (void)r.Find("k");
      InlineQuiescentState();
    }
    ThreadOffline();
  });
  Spin(online);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store->Put(0, kT, "k", std::to_string(i)).ok());
    ASSERT_TRUE(store->Commit(0).ok());  // each may wait for the reader's next report
  }
  stop.store(true, std::memory_order_release);
  reader.join();
  InlineQuiescentState();  // offline: a no-op
  EXPECT_FALSE(ThreadIsOnline());
}

}  // namespace
}  // namespace rcustate

namespace rcustate {
namespace {

// A drop whose partition's commit waits for a grace period must not hold the
// directory's lock meanwhile: a reader inside its section creating another
// partition (which never waits) would block the grace period the commit
// waits for. Hangs (the suite's timeout fails it) if the drop holds it.
TEST(BlockingCalls, CreateInsideASectionDoesNotQueueBehindADropThatWaits) {
  StoreOptions o;
  o.tables = {{"t", nullptr, 0}};
  o.stall_threshold = absl::Milliseconds(1);
  auto store = Store::Open(o).value();
  ASSERT_TRUE(store->CreatePartition(3).ok());
  std::atomic<bool> dropping{false};
  std::thread dropper, waiter;
  {
    ReadSection rs;  // open before version 1 retires the standby version 2 needs
    std::thread([&] {
      ASSERT_TRUE(store->Put(3, 0, "k", "1").ok());
      ASSERT_TRUE(store->Commit(3).ok());
    }).join();
    waiter = std::thread([&] {
      ASSERT_TRUE(store->Put(3, 0, "k", "2").ok());
      (void)store->Commit(3);  // waits for this section, holding the partition's lock
    });
    while (store->GraceStalls().oldest_grace_wait_ns == 0) std::this_thread::yield();
    dropper = std::thread([&] {
      dropping.store(true, std::memory_order_release);
      (void)store->DropPartition(3);  // blocks on the partition's lock
    });
    Spin(dropping);
    for (int i = 0; i < 2000; ++i) std::this_thread::yield();
    EXPECT_TRUE(store->CreatePartition(7).ok());
  }
  waiter.join();
  dropper.join();
  EXPECT_FALSE(store->HasPartition(3));
  EXPECT_TRUE(store->HasPartition(7));
}

// A thread online for a QSBR store that commits to a memb store goes offline
// for the commit: a memb reader that meanwhile waits for a QSBR grace period
// would otherwise wait for it while it waits for the reader. Hangs if not.
TEST(BlockingCalls, AnOnlineThreadCommittingToAMembStoreIsQuiescent) {
  StoreOptions o;
  o.tables = {{"t", nullptr, 0}};
  auto memb = Store::Open(o).value();
  auto qsbr = OpenQsbr();
  ASSERT_TRUE(memb->CreatePartition(0).ok());
  ASSERT_TRUE(qsbr->CreatePartition(0).ok());
  std::atomic<bool> online{false}, in_section{false}, qsbr_retired{false};
  std::thread a([&] {
    ThreadOnline();
    online.store(true, std::memory_order_release);
    Spin(in_section);
    Spin(qsbr_retired);
    // Version 1 of the memb store retired its standby while B's section was
    // open: version 2 waits for B, which waits for this thread's report.
    ASSERT_TRUE(memb->Put(0, 0, "k", "2").ok());
    ASSERT_TRUE(memb->Commit(0).ok());
    ThreadOffline();
  });
  std::thread b([&] {
    Spin(online);
    ReadSection rs;  // a memb section
    in_section.store(true, std::memory_order_release);
    std::thread([&] {  // the memb store's version 1, while the section is open
      ASSERT_TRUE(memb->Put(0, 0, "k", "1").ok());
      ASSERT_TRUE(memb->Commit(0).ok());
    }).join();
    // The QSBR store's version 1 retires a standby while A is online; version
    // 2 waits for A's next report.
    ASSERT_TRUE(qsbr->Put(0, kT, "k", "1").ok());
    ASSERT_TRUE(qsbr->Commit(0).ok());
    qsbr_retired.store(true, std::memory_order_release);
    ASSERT_TRUE(qsbr->Put(0, kT, "k", "2").ok());
    ASSERT_TRUE(qsbr->Commit(0).ok());  // allowed inside a memb section
  });
  a.join();
  b.join();
}

}  // namespace
}  // namespace rcustate
