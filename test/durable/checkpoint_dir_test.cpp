// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/checkpoint_dir_test.cpp
//
// The directory as chains: temporaries and unknown names are ignored, the
// newest chain wins over leftovers of an interrupted cleanup, a full
// checkpoint deletes older chains and stray temporaries, an unfinished
// writer (destroyed or killed) never leaves a file under a final name, and
// a write error (file size limit, read-only directory) is kIo with the
// previous chain intact.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "durable/durable_test_util.hpp"

namespace rcustate::durable {
namespace {

using testing::CodeOf;
using testing::Names;
using testing::ReadBytes;
using testing::ScratchDir;
using testing::Schema;
using testing::Tables;
using testing::ToModel;
using testing::WriteBytes;
using testing::WriteFull;
using testing::WriteIncrement;

Tables Sample(int tag) {
  Tables t(2);
  t[0]["k"] = "v" + std::to_string(tag);
  t[1]["n"] = std::to_string(tag);
  return t;
}

void ExpectChainHolds(const std::string& dir, uint64_t version, const Tables& want) {
  auto r = ReadNewestChain(dir, 0, Schema(2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->head.version, version);
  EXPECT_TRUE(ToModel(r->tables) == want);
}

TEST(CheckpointDir, StrayTemporaryAndUnknownFilesAreIgnored) {
  ScratchDir d;
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), Sample(4)).ok());
  WriteBytes(d / TemporaryFileName(0xabc), "half a checkpoint");
  WriteBytes(d / "notes.txt", "not ours");
  ExpectChainHolds(d.path(), 4, Sample(4));
  auto l = ListCheckpointDir(d.path());
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->temporaries.size(), 1u);
  EXPECT_EQ(l->others, std::vector<std::string>{"notes.txt"});
  EXPECT_EQ(l->chains.size(), 1u);
}

TEST(CheckpointDir, FullDeletesOlderChainsAndTemporariesOnly) {
  ScratchDir d;
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), Sample(4)).ok());
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 5, Schema(2), Sample(4), Sample(5)).ok());
  WriteBytes(d / TemporaryFileName(0xabc), "stale");
  WriteBytes(d / "notes.txt", "not ours");
  ASSERT_EQ(Names(d.path()).size(), 4u);
  ASSERT_TRUE(WriteFull(d.path(), 0, 9, Schema(2), Sample(9)).ok());
  auto names = Names(d.path());
  ASSERT_EQ(names.size(), 2u) << ::testing::PrintToString(names);
  EXPECT_EQ(names[0].rfind("full-00000000000000000009-", 0), 0u);
  EXPECT_EQ(names[1], "notes.txt");
  ExpectChainHolds(d.path(), 9, Sample(9));
}

TEST(CheckpointDir, NewestChainWinsOverLeftovers) {
  ScratchDir d, keep;
  // Chain A (4 -> 5 -> 6), saved aside; chain B (full 5) replaces it; A's
  // files put back, as a crash between B's rename and its cleanup leaves them.
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), Sample(4)).ok());
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 5, Schema(2), Sample(4), Sample(5)).ok());
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 6, Schema(2), Sample(5), Sample(6)).ok());
  std::vector<std::string> a = Names(d.path());
  for (const auto& n : a) std::filesystem::copy_file(d / n, keep / n);
  ASSERT_TRUE(WriteFull(d.path(), 0, 7, Schema(2), Sample(7)).ok());
  for (const auto& n : a) std::filesystem::copy_file(keep / n, d / n);
  ExpectChainHolds(d.path(), 7, Sample(7));
  // B grows; A's increments still do not join it.
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 8, Schema(2), Sample(7), Sample(8)).ok());
  ExpectChainHolds(d.path(), 8, Sample(8));
  auto n = NewestCheckpoint(d.path());
  ASSERT_TRUE(n.ok() && n->has_value());
  EXPECT_EQ((*n)->version, 8u);
  // Without its full, an increment is an orphan, never applied.
  std::filesystem::remove(d / a[0]);
  auto l = ListCheckpointDir(d.path());
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->orphans.size(), 2u);
  ExpectChainHolds(d.path(), 8, Sample(8));
}

// Two chains whose fulls have the same version (a partition checkpointed
// twice without a commit between, the first chain's cleanup interrupted):
// an increment joins only the chain whose id it carries.
TEST(CheckpointDir, IncrementsJoinOnlyTheirOwnChain) {
  ScratchDir d, keep;
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), Sample(4)).ok());
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 5, Schema(2), Sample(4), Sample(5)).ok());
  std::vector<std::string> a = Names(d.path());
  for (const auto& n : a) std::filesystem::copy_file(d / n, keep / n);
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), Sample(40)).ok());  // other data, same version
  for (const auto& n : a) std::filesystem::copy_file(keep / n, d / n);
  auto l = ListCheckpointDir(d.path());
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->chains.size(), 2u);
  EXPECT_EQ(l->chains[0].size(), 1u);  // the second full, alone
  EXPECT_EQ(l->chains[1].size(), 2u);  // the first, with its increment: reaches further
  ExpectChainHolds(d.path(), 5, Sample(5));
}

TEST(CheckpointDir, UncommittedWriterLeavesNoFile) {
  ScratchDir d;
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), Sample(4)).ok());
  {
    CheckpointHeader h{kCheckpointFull, 0, 8, 0, 0, Schema(2)};
    auto w = CheckpointWriter::Begin(d.path(), h);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->BeginTable(0, false).ok());
    ASSERT_TRUE((*w)->Put("k", std::string(3 << 20, 'x')).ok());
    EXPECT_EQ(Names(d.path()).size(), 2u);  // the temporary exists meanwhile
  }
  EXPECT_EQ(Names(d.path()).size(), 1u);
  ExpectChainHolds(d.path(), 4, Sample(4));
}

TEST(CheckpointDir, KilledWriterLeavesOnlyATemporary) {
  ScratchDir d;
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), Sample(4)).ok());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    CheckpointHeader h{kCheckpointFull, 0, 8, 0, 0, Schema(2)};
    auto w = CheckpointWriter::Begin(d.path(), h);
    if (!w.ok() || !(*w)->BeginTable(0, false).ok()) _exit(2);
    for (int i = 0; i < 4; ++i) (void)(*w)->Put("k" + std::to_string(i), std::string(1 << 20, 'x'));
    kill(getpid(), SIGKILL);  // mid-write, blocks on disk, no trailer
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto l = ListCheckpointDir(d.path());
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->temporaries.size(), 1u);
  ExpectChainHolds(d.path(), 4, Sample(4));
  ASSERT_TRUE(WriteFull(d.path(), 0, 9, Schema(2), Sample(9)).ok());
  EXPECT_EQ(Names(d.path()).size(), 1u);  // the temporary went with the old chain
}

// The previous chain, byte for byte, and nothing else.
void ExpectUntouched(const std::string& dir, const std::vector<std::string>& names,
                     const std::vector<std::string>& bytes) {
  EXPECT_EQ(Names(dir), names);
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(ReadBytes(dir + "/" + names[i]), bytes[i]);
  ExpectChainHolds(dir, 5, Sample(5));
}

TEST(CheckpointDir, FileSizeLimitIsIoAndKeepsThePreviousChain) {
  ScratchDir d;
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), Sample(4)).ok());
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 5, Schema(2), Sample(4), Sample(5)).ok());
  std::vector<std::string> names = Names(d.path()), bytes;
  for (const auto& n : names) bytes.push_back(ReadBytes(d / n));

  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit small = old;
  small.rlim_cur = 1 << 20;  // the process survives SIGXFSZ: the writer blocks it
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Tables big(2);
  for (int i = 0; i < 40; ++i) big[0]["k" + std::to_string(i)] = std::string(100000, 'x');
  absl::Status full = WriteFull(d.path(), 0, 6, Schema(2), big);
  absl::Status incr = WriteIncrement(d.path(), 0, 6, Schema(2), Sample(5), big);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);

  for (const absl::Status& st : {full, incr}) {
    EXPECT_EQ(CodeOf(st), ErrorCode::kIo) << st;
    EXPECT_NE(st.message().find("File too large"), std::string_view::npos) << st;
    EXPECT_NE(st.message().find(d.path()), std::string_view::npos) << st;
  }
  ExpectUntouched(d.path(), names, bytes);
}

// Both writes into the read-only `dir` must fail with kIo "Permission
// denied"; returns what went wrong, "" if nothing.
std::string WriteIntoReadOnly(const std::string& dir) {
  absl::Status full = WriteFull(dir, 0, 6, Schema(2), Sample(6));
  absl::Status incr = WriteIncrement(dir, 0, 6, Schema(2), Sample(5), Sample(6));
  for (const absl::Status& st : {full, incr}) {
    if (ErrorCodeOf(st) != ErrorCode::kIo ||
        st.message().find("Permission denied") == std::string_view::npos) {
      return st.ToString();
    }
  }
  return "";
}

TEST(CheckpointDir, ReadOnlyDirectoryIsIoAndKeepsThePreviousChain) {
  ScratchDir d;
  ASSERT_TRUE(WriteFull(d.path(), 0, 4, Schema(2), Sample(4)).ok());
  ASSERT_TRUE(WriteIncrement(d.path(), 0, 5, Schema(2), Sample(4), Sample(5)).ok());
  std::vector<std::string> names = Names(d.path()), bytes;
  for (const auto& n : names) bytes.push_back(ReadBytes(d / n));
  ASSERT_EQ(chmod(d.path().c_str(), 0555), 0);
  if (geteuid() != 0) {
    std::string err = WriteIntoReadOnly(d.path());
    EXPECT_EQ(err, "");
  } else {
    // Root ignores permissions: write as an unprivileged user (nobody) in a
    // child, which can read the 0555 directory but not write it.
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
      std::string err = WriteIntoReadOnly(d.path());
      if (!err.empty()) std::fprintf(stderr, "%s\n", err.c_str());
      _exit(err.empty() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 2) << "could not drop privileges";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child's message above";
  }
  ASSERT_EQ(chmod(d.path().c_str(), 0755), 0);
  ExpectUntouched(d.path(), names, bytes);
}

}  // namespace
}  // namespace rcustate::durable
