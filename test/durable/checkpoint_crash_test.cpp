// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/checkpoint_crash_test.cpp
//
// Crash safety of the file layer: a child process writes checkpoints in a
// loop (three incremental ones after each full one, versions 1, 2, 3, ...,
// each holding State(version)) and reports every version whose Commit
// returned; the parent kills it with SIGKILL after a random number of
// reports plus a random amount of busy work, so the kill lands anywhere in a
// write, an fsync, a rename or a cleanup. The next child resumes from what
// restores.
//
// Invariant, checked after every kill (>= 100 kills, x RCUSTATE_STRESS_SCALE):
// the newest chain restores without error, at a version v with
//   last reported <= v <= last reported + 1
// (a Commit may complete after the last report was sent), holding exactly
// State(v).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "common/test_env.hpp"
#include "durable/durable_test_util.hpp"

namespace rcustate::durable {
namespace {

using testing::ScratchDir;
using testing::Schema;
using testing::Tables;
using testing::ToModel;
using testing::WriteFull;
using testing::WriteIncrement;

// The partition's state at `version`: changes from one version to the next
// (puts, overwrites, erases) and a cleared table every 5th version; large
// enough that a full file spans several blocks.
Tables State(uint64_t version) {
  Tables t(3);
  for (uint64_t i = 0; i < 1500; ++i) {
    if ((i + version) % 7 == 0) continue;  // erased at this version
    t[i % 2]["key" + std::to_string(i)] = std::string(400 + (i * version) % 300, 'a' + (i + version) % 26);
  }
  if (version % 5 != 0) {  // table 2 is cleared at multiples of 5, then grows
    for (uint64_t i = 0; i < version % 5 * 10; ++i) t[2]["c" + std::to_string(i)] = std::to_string(version);
  }
  return t;
}

std::set<size_t> ClearedBetween(uint64_t from, uint64_t to) {
  for (uint64_t v = from + 1; v <= to; ++v) {
    if (v % 5 == 0) return {2};
  }
  return {};
}

[[noreturn]] void ChildLoop(const std::string& dir, uint64_t start, int report_fd) {
  const auto schema = Schema(3);
  for (uint64_t v = start;; ++v) {
    absl::Status st;
    auto newest = NewestCheckpoint(dir);
    if (!newest.ok()) _exit(10);
    if (!newest->has_value() || v % 4 == 0) {
      st = WriteFull(dir, 1, v, schema, State(v));
    } else {
      uint64_t base = (*newest)->version;
      st = WriteIncrement(dir, 1, v, schema, State(base), State(v), ClearedBetween(base, v));
    }
    if (!st.ok()) _exit(11);
    if (write(report_fd, &v, sizeof v) != sizeof v) _exit(12);
  }
}

TEST(CheckpointCrash, KilledAnywhereTheNewestChainRestores) {
  ScratchDir d;
  const auto schema = Schema(3);
  const int kills = static_cast<int>(100 * rcustate::testing::StressScale());
  std::mt19937_64 rng(99);
  uint64_t next = 1;
  int mid_write = 0;  // kills that left a temporary: the kill hit a write
  for (int k = 0; k < kills; ++k) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ChildLoop(d.path(), next, fds[1]);
    }
    close(fds[1]);
    uint64_t reported = next - 1;
    int want = static_cast<int>(rng() % 3);  // 0: kill during the first write
    for (int r = 0; r < want; ++r) {
      ASSERT_EQ(read(fds[0], &reported, sizeof reported), static_cast<ssize_t>(sizeof reported))
          << "child died";
    }
    // Busy work, not a sleep: it only moves the kill to a random point.
    volatile uint64_t spin = 0;
    for (uint64_t i = rng() % 3000000; i > 0; --i) spin = spin + i;
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    // Reports written before the kill but not read yet.
    uint64_t more;
    while (read(fds[0], &more, sizeof more) == static_cast<ssize_t>(sizeof more)) reported = more;
    close(fds[0]);

    auto listing = ListCheckpointDir(d.path());
    ASSERT_TRUE(listing.ok());
    mid_write += listing->temporaries.empty() ? 0 : 1;
    auto r = ReadNewestChain(d.path(), 1, schema);
    if (reported == 0 && !r.ok()) {
      ASSERT_EQ(ErrorCodeOf(r.status()), ErrorCode::kIo) << r.status();  // nothing yet
      continue;
    }
    ASSERT_TRUE(r.ok()) << "kill " << k << ": " << r.status();
    uint64_t v = r->head.version;
    ASSERT_GE(v, reported) << "kill " << k << ": a reported checkpoint was lost";
    ASSERT_LE(v, reported + 1) << "kill " << k;
    ASSERT_TRUE(ToModel(r->tables) == State(v)) << "kill " << k << ": version " << v;
    next = v + 1;
  }
  EXPECT_GT(next, 10u);
  std::printf("%d kills, %d during a write, last version %llu\n", kills, mid_write,
              static_cast<unsigned long long>(next - 1));
}

}  // namespace
}  // namespace rcustate::durable
