// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/store_crash_test.cpp
//
// Crash safety of checkpoints at the store level. A child process (this
// executable, re-executed with --crash-child) restores its partition from
// the checkpoint directory (or creates it), then checkpoints it in a loop,
// full and incremental alternating, while a writer thread commits
// versions of versioned_state.hpp; it reports every completed checkpoint's
// version to the parent through a pipe. The parent SIGKILLs it at a random
// moment (log-uniform between 1 us and 80 ms after it is ready: inside
// writes, fsyncs, renames and the deletion of older chains), then restores
// the directory's newest chain into a fresh store and checks that
//  - it restores (a chain exists once a checkpoint was reported complete),
//  - its version is at least every version reported complete (nothing
//    reported complete is lost) and never goes back,
//  - the partition is exactly what the writer had at that version.
// The next child continues in the same directory from that restore.
// RCUSTATE_STRESS_SCALE scales the number of kills (100 at scale 1);
// RCUSTATE_CRASH_SEED picks the kill moments (printed).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "durable/child_process.hpp"
#include "durable/versioned_state.hpp"
#include "rcustate/rcustate.hpp"
#include "unit/unit_util.hpp"

namespace rcustate::testing {
namespace {

constexpr uint32_t kPartition = 7;
constexpr char kReady = 'R';
constexpr char kDone = 'C';

// ---------------------------------------------------------------- child

[[noreturn]] void ChildFail(const std::string& what) {
  std::fprintf(stderr, "crash child: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(3);
}

void Report(int fd, char kind, uint64_t version) {
  char msg[9];
  msg[0] = kind;
  std::memcpy(msg + 1, &version, 8);
  // 9 bytes < PIPE_BUF: atomic. A parent that is gone means we are killed next.
  if (::write(fd, msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) _exit(4);
}

int ChildMain(const std::string& dir, int policy, int fd) {
  // Never outlive the parent, never run unbounded.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  alarm(300);
  std::unique_ptr<Store> s =
      OpenOrDie(AllKindsOfTables(), AllPolicies()[static_cast<size_t>(policy)].max_publish_delay);
  if (s == nullptr) ChildFail("cannot open a store");
  uint64_t start = 0;
  absl::StatusOr<CheckpointInfo> r = s->Restore(kPartition, dir);
  if (r.ok()) {
    start = r->version;
  } else if (CodeOf(r.status()) == ErrorCode::kIo) {
    // No checkpoint yet (the first child, or every kill so far came early).
    if (absl::Status c = s->CreatePartition(kPartition); !c.ok()) ChildFail(c.ToString());
  } else {
    ChildFail("restore: " + r.status().ToString());
  }
  Report(fd, kReady, start);
  std::thread writer([&s, start] {
    for (uint64_t v = start + 1;; ++v) {
      if (absl::Status st = WriteVersion(*s, kPartition, v); !st.ok()) ChildFail(st.ToString());
      absl::StatusOr<uint64_t> c = s->Commit(kPartition);
      if (!c.ok() || *c != v) {
        ChildFail("commit of version " + std::to_string(v) + ": " +
                  (c.ok() ? std::to_string(*c) : c.status().ToString()));
      }
    }
  });
  writer.detach();  // runs until the kill
  for (uint64_t i = 0;; ++i) {
    absl::StatusOr<CheckpointInfo> c = s->Checkpoint(
        kPartition, dir, i % 2 == 0 ? CheckpointKind::kFull : CheckpointKind::kIncremental);
    if (!c.ok()) ChildFail("checkpoint: " + c.status().ToString());
    Report(fd, kDone, c->version);
  }
}

// ---------------------------------------------------------------- parent

// Reads exactly n bytes, or fewer at EOF; fails the test (returns -1) if
// nothing arrives before the deadline.
ssize_t ReadBounded(int fd, char* buf, size_t n, int64_t deadline_ms) {
  size_t got = 0;
  while (got < n) {
    const int64_t left = deadline_ms - NowMs();
    if (left <= 0) return -1;
    struct pollfd pfd = {fd, POLLIN, 0};
    int pr = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    ssize_t r = ::read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // EOF
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

pid_t SpawnChild(const std::string& dir, int policy, int* read_fd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  const int wfd = dup(fds[1]);  // without O_CLOEXEC: the child's end survives the exec
  close(fds[1]);
  if (wfd < 0) {
    close(fds[0]);
    return -1;
  }
  const std::string fd_arg = std::to_string(wfd), policy_arg = std::to_string(policy);
  const char* argv[] = {SelfPath().c_str(), "--crash-child", dir.c_str(), policy_arg.c_str(),
                        fd_arg.c_str(), nullptr};
  pid_t pid = fork();
  if (pid == 0) {
    execv(SelfPath().c_str(), const_cast<char* const*>(argv));
    _exit(127);
  }
  close(wfd);
  if (pid < 0) {
    close(fds[0]);
    return -1;
  }
  *read_fd = fds[0];
  return pid;
}

size_t CountTemporaries(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".rcsckpt-tmp") ++n;
  }
  return n;
}

TEST(StoreCrash, KilledCheckpointsLeaveTheNewestCompleteChainRestorable) {
  const int kills = static_cast<int>(std::lround(100 * StressScale()));
  uint64_t seed = 20261127;
  if (const char* e = std::getenv("RCUSTATE_CRASH_SEED")) seed = std::strtoull(e, nullptr, 10);
  std::printf("seed %llu (RCUSTATE_CRASH_SEED), %d kills\n", static_cast<unsigned long long>(seed),
              kills);
  std::mt19937_64 rng(seed);
  ScratchDir scratch("rcs-crash");
  const std::string dir = scratch.path() + "/p7";
  const int64_t bound_ms = 120000;  // any single wait; a hang fails the test

  uint64_t max_reported = 0;  // every version a child reported complete
  bool reported = false;
  uint64_t restored = 0;  // the newest chain's version after the last kill
  bool chain = false;
  int mid_write = 0, checkpoints_seen = 0, kills_after_a_checkpoint = 0;
  for (int k = 0; k < kills; ++k) {
    SCOPED_TRACE("kill " + std::to_string(k));
    const int policy = static_cast<int>(rng() % AllPolicies().size());
    int fd = -1;
    const pid_t pid = SpawnChild(dir, policy, &fd);
    ASSERT_GT(pid, 0) << std::strerror(errno);
    const size_t temporaries_before = CountTemporaries(dir);
    const int seen_before = checkpoints_seen;
    char msg[9];
    ssize_t got = ReadBounded(fd, msg, sizeof msg, NowMs() + bound_ms);
    if (got != static_cast<ssize_t>(sizeof msg) || msg[0] != kReady) {
      close(fd);
      int status = WaitBounded(pid, NowMs() + bound_ms);
      FAIL() << "the child did not start (read " << got << ", status " << status
             << "): see its message above";
    }
    uint64_t start = 0;
    std::memcpy(&start, msg + 1, 8);
    EXPECT_EQ(start, chain ? restored : 0) << "the child restored another version than the parent";

    // The kill moment: log-uniform in [1 us, 80 ms].
    const double us = std::exp(std::uniform_real_distribution<double>(0, std::log(80000.0))(rng));
    struct timespec ts = {static_cast<time_t>(us / 1e6), static_cast<long>(std::fmod(us, 1e6) * 1000)};
    nanosleep(&ts, nullptr);
    kill(pid, SIGKILL);
    const int status = WaitBounded(pid, NowMs() + bound_ms);
    // Whatever it reported before dying.
    for (;;) {
      got = ReadBounded(fd, msg, sizeof msg, NowMs() + bound_ms);
      if (got != static_cast<ssize_t>(sizeof msg)) break;
      ASSERT_EQ(msg[0], kDone);
      uint64_t v = 0;
      std::memcpy(&v, msg + 1, 8);
      max_reported = std::max(max_reported, v);
      reported = true;
      ++checkpoints_seen;
    }
    close(fd);
    ASSERT_EQ(got, 0) << "the child's pipe did not reach EOF";
    ASSERT_TRUE(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child died on its own (status " << status << "): see its message above";
    if (CountTemporaries(dir) > temporaries_before) ++mid_write;
    if (checkpoints_seen > seen_before) ++kills_after_a_checkpoint;

    std::unique_ptr<Store> b = OpenOrDie(AllKindsOfTables());
    ASSERT_NE(b, nullptr);
    absl::StatusOr<CheckpointInfo> r = b->Restore(kPartition, dir);
    if (!r.ok()) {
      // Only possible before any checkpoint completed.
      EXPECT_EQ(CodeOf(r.status()), ErrorCode::kIo) << r.status();
      EXPECT_FALSE(reported) << "version " << max_reported
                             << " was reported complete, yet nothing restores: " << r.status();
      EXPECT_FALSE(chain);
      EXPECT_FALSE(b->HasPartition(kPartition));
    } else {
      EXPECT_GE(r->version, max_reported) << "a checkpoint reported complete was lost";
      if (chain) {
        EXPECT_GE(r->version, restored) << "the newest chain went back";
      }
      absl::StatusOr<uint64_t> v = b->Version(kPartition);
      ASSERT_TRUE(v.ok()) << v.status();
      EXPECT_EQ(*v, r->version);
      const std::string diff = DiffFromExpected(*b, kPartition, r->version);
      EXPECT_EQ(diff, "") << "restored version " << r->version << " is not what was committed";
      restored = r->version;
      chain = true;
    }
    EXPECT_TRUE(b->Close().ok());
    if (::testing::Test::HasFailure()) break;
  }
  std::printf("%d kills: %d left a new temporary (killed mid-write), %d came after the child "
              "completed a checkpoint; %d checkpoints reported complete; newest chain at "
              "version %llu\n",
              kills, mid_write, kills_after_a_checkpoint, checkpoints_seen,
              static_cast<unsigned long long>(restored));
  EXPECT_TRUE(chain) << "no checkpoint ever completed: the kills came too early";

  // A clean full checkpoint of the restored partition leaves only itself:
  // the killed writers' temporaries and older chains go with it.
  std::unique_ptr<Store> b = OpenOrDie(AllKindsOfTables());
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Restore(kPartition, dir).ok());
  ASSERT_TRUE(b->Checkpoint(kPartition, dir, CheckpointKind::kFull).ok());
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  EXPECT_TRUE(b->Close().ok());
}

}  // namespace
}  // namespace rcustate::testing

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--crash-child") == 0) {
    return rcustate::testing::ChildMain(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
