// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/store_write_failure_test.cpp
//
// A checkpoint that cannot be written, at the store level: a file size
// limit (RLIMIT_FSIZE: the write fails with EFBIG, and the process must not
// die of SIGXFSZ), a full file system (a 3 MiB tmpfs, mounted in the
// child's own mount namespace -- a user namespace when not root -- and
// filled up; where the kernel allows no such namespace the scenario says so
// and passes without running) and a read-only directory. Each scenario runs in a child
// process (this executable re-executed: the limit and the privileges are
// the process's), which checks:
//  - Checkpoint (full and incremental) and rcs_checkpoint fail with
//    kIo / RCS_EIO, the message naming the directory's file and the
//    system's error (rcs_last_error starting with "rcs_checkpoint");
//  - the directory holds exactly the files it held, byte for byte (no
//    temporary left), and its chain restores to its old version, exactly;
//  - the store is unchanged: same version, same contents, the next commit
//    works, and the next incremental checkpoint (once the directory is
//    writable again) extends the old chain with every key changed since it,
//    including those the failed checkpoints had taken (a failed checkpoint
//    gives its record of changed keys back); a checkpoint into another
//    directory works.
// Root ignores permissions, so as root the read-only scenario drops to
// nobody (65534) first; the scratch directory is made writable for it.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "durable/child_process.hpp"
#include "durable/versioned_state.hpp"
#include "rcustate/rcustate.h"
#include "rcustate/rcustate.hpp"
#include "unit/unit_util.hpp"

namespace rcustate::testing {
namespace {

constexpr uint32_t kP = 1;

std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    out[e.path().filename()] =
        std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return out;
}

class Scenario {
 public:
  Scenario(std::string mode, std::string base, int policy)
      : mode_(std::move(mode)),
        base_(std::move(base)),
        dir_(base_ + (mode_ == "tmpfs" ? "/fs/p1" : "/p1")),
        delay_(AllPolicies()[static_cast<size_t>(policy)].max_publish_delay) {}

  // "" if every check passed, else what failed, one line each.
  std::string Run() {
    if (mode_ == "readonly" && geteuid() == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0) return "could not drop privileges";
    }
    if (mode_ == "tmpfs") {
      std::string why = MountTmpfs(base_ + "/fs");
      if (!why.empty()) {
        std::printf("NOTE: the full file system scenario did not run: %s\n", why.c_str());
        return "";
      }
    }
    store_ = OpenOrDie(AllKindsOfTables(), delay_);
    if (store_ == nullptr) return "cannot open the store";
    Check(store_->CreatePartition(kP).ok(), "create");
    CommitTo(2100);  // every bulk key: a full checkpoint of ~2 MB
    absl::StatusOr<CheckpointInfo> full = store_->Checkpoint(kP, dir_, CheckpointKind::kFull);
    Check(full.ok(), "first full checkpoint: " + full.status().ToString());
    CommitTo(2300);
    absl::StatusOr<CheckpointInfo> inc = store_->Checkpoint(kP, dir_, CheckpointKind::kIncremental);
    Check(inc.ok() && inc->incremental && inc->version == 2300,
          "first incremental checkpoint: " + inc.status().ToString());
    const uint64_t old_version = 2300;
    const std::map<std::string, std::string> old_files = Files(dir_);
    CommitTo(2600);  // 300 changed keys (~300 KB) since the chain's version
    const std::string live = DigestOf(*store_, kP);
    if (!errors_.empty()) return errors_;

    const char* expect_error = nullptr;
    struct rlimit saved;
    const std::string filler = base_ + "/fs/filler";
    if (mode_ == "tmpfs") {
      expect_error = "No space left on device";
      Check(Fill(filler), "could not fill the file system");
    } else if (mode_ == "fsize") {
      expect_error = "File too large";
      Check(getrlimit(RLIMIT_FSIZE, &saved) == 0, "getrlimit");
      struct rlimit small = saved;
      small.rlim_cur = 64 << 10;  // below either checkpoint's size
      Check(setrlimit(RLIMIT_FSIZE, &small) == 0, "setrlimit");
    } else {
      expect_error = "Permission denied";
      Check(chmod(dir_.c_str(), 0555) == 0, "chmod 0555");
    }
    for (CheckpointKind kind : {CheckpointKind::kFull, CheckpointKind::kIncremental}) {
      const std::string what = kind == CheckpointKind::kFull ? "full" : "incremental";
      absl::StatusOr<CheckpointInfo> r = store_->Checkpoint(kP, dir_, kind);
      Check(!r.ok() && CodeOf(r.status()) == ErrorCode::kIo,
            "failing " + what + " checkpoint: kIo expected, got " +
                (r.ok() ? std::string("OK") : r.status().ToString()));
      if (!r.ok()) {
        const std::string msg(r.status().message());
        Check(msg.find(dir_ + "/") != std::string::npos && msg.find(expect_error) != std::string::npos,
              "failing " + what + " checkpoint: the message names no file of " + dir_ +
                  " or not \"" + expect_error + "\": " + msg);
      }
    }
    CheckCApi(expect_error);
    if (mode_ == "tmpfs") {
      Check(unlink(filler.c_str()) == 0, "unlink the filler");
    } else if (mode_ == "fsize") {
      Check(setrlimit(RLIMIT_FSIZE, &saved) == 0, "setrlimit back");
    } else {
      Check(chmod(dir_.c_str(), 0755) == 0, "chmod 0755");
    }

    // The directory as it was, and its chain restores to its old version.
    Check(Files(dir_) == old_files, "the directory's files changed");
    {
      std::unique_ptr<Store> b = OpenOrDie(AllKindsOfTables());
      absl::StatusOr<CheckpointInfo> r = b->Restore(kP, dir_);
      Check(r.ok() && r->version == old_version,
            "the old chain does not restore to its version: " + r.status().ToString());
      if (r.ok()) Check(DiffFromExpected(*b, kP, r->version).empty(), "the old chain's contents");
      Check(b->Close().ok(), "close");
    }
    // The store is unchanged and goes on.
    absl::StatusOr<uint64_t> v = store_->Version(kP);
    Check(v.ok() && *v == 2600, "version after the failures");
    Check(DigestOf(*store_, kP) == live, "contents after the failures");
    CommitTo(2601);
    absl::StatusOr<CheckpointInfo> next =
        store_->Checkpoint(kP, dir_, CheckpointKind::kIncremental);
    Check(next.ok() && next->incremental && next->base_version == old_version &&
              next->version == 2601,
          "the incremental checkpoint after the failures does not extend the old chain: " +
              (next.ok() ? "incremental " + std::to_string(next->incremental) + " base " +
                               std::to_string(next->base_version) + " version " +
                               std::to_string(next->version)
                         : next.status().ToString()));
    ExpectRestores(dir_, 2601, "after the failures");
    Check(store_->Checkpoint(kP, base_ + "/other", CheckpointKind::kFull).ok(),
          "a checkpoint into another directory");
    ExpectRestores(base_ + "/other", 2601, "the other directory");
    Check(store_->Close().ok(), "close");
    return errors_;
  }

 private:
  static bool WriteProc(const char* path, const std::string& text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    return ok;
  }

  // A 3 MiB tmpfs at `at` in a mount namespace of this process: "" or why not.
  static std::string MountTmpfs(const std::string& at) {
    if (mkdir(at.c_str(), 0755) != 0) return "mkdir: " + std::string(std::strerror(errno));
    if (geteuid() == 0) {
      if (unshare(CLONE_NEWNS) != 0) return "unshare: " + std::string(std::strerror(errno));
    } else {
      const uid_t uid = getuid();
      const gid_t gid = getgid();
      if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
        return "unshare: " + std::string(std::strerror(errno));
      }
      if (!WriteProc("/proc/self/setgroups", "deny") ||
          !WriteProc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
          !WriteProc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
        return "cannot map the user namespace's ids";
      }
    }
    (void)mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    if (mount("tmpfs", at.c_str(), "tmpfs", 0, "size=3m") != 0) {
      return "mount: " + std::string(std::strerror(errno));
    }
    return "";
  }

  // Writes `path` until the file system is full.
  static bool Fill(const std::string& path) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    const std::string chunk(4096, 'f');
    ssize_t w;
    while ((w = write(fd, chunk.data(), chunk.size())) > 0) {
    }
    const bool full = w < 0 && errno == ENOSPC;
    close(fd);
    return full;
  }

  void Check(bool ok, const std::string& what) {
    if (!ok) errors_ += what + "\n";
  }

  void CommitTo(uint64_t to) {
    for (uint64_t v = next_ + 1; v <= to; ++v) {
      Check(WriteVersion(*store_, kP, v).ok(), "write");
      absl::StatusOr<uint64_t> c = store_->Commit(kP);
      Check(c.ok() && *c == v, "commit " + std::to_string(v));
    }
    next_ = to;
    if (delay_ > absl::ZeroDuration()) Check(store_->Flush(kP).ok(), "flush");
  }

  void ExpectRestores(const std::string& dir, uint64_t version, const std::string& what) {
    std::unique_ptr<Store> b = OpenOrDie(AllKindsOfTables());
    absl::StatusOr<CheckpointInfo> r = b->Restore(kP, dir);
    Check(r.ok() && r->version == version, what + ": restore " + r.status().ToString());
    if (r.ok()) {
      const std::string diff = DiffFromExpected(*b, kP, version);
      Check(diff.empty(), what + ": the restored partition differs: " + diff);
      Check(DigestOf(*b, kP) == DigestOf(*store_, kP), what + ": not the live partition");
    }
    Check(b->Close().ok(), "close");
  }

  // The same failure through the C ABI, into the same directory.
  void CheckCApi(const char* expect_error) {
    rcs_table_spec t[] = {{"plain", RCS_MERGE_NONE, 0}};
    rcs_options o;
    rcs_options_init(&o);
    o.tables = t;
    o.num_tables = 1;
    rcs_store* c = nullptr;
    if (rcs_store_open(&o, &c) != RCS_OK) {
      Check(false, "rcs_store_open");
      return;
    }
    Check(rcs_partition_create(c, kP) == RCS_OK, "rcs_partition_create");
    const std::string big(200 << 10, 'c');
    Check(rcs_put(c, kP, 0, "k", 1, big.data(), big.size()) == RCS_OK, "rcs_put");
    Check(rcs_commit(c, kP, nullptr) == RCS_OK, "rcs_commit");
    rcs_checkpoint_info info;
    std::memset(&info, 0xab, sizeof info);
    info.struct_size = sizeof info;
    const rcs_checkpoint_info before = info;
    for (int flags : {RCS_CHECKPOINT_FULL, RCS_CHECKPOINT_INCREMENTAL}) {
      const int rc = rcs_checkpoint(c, kP, dir_.c_str(), flags, &info);
      const std::string msg = rcs_last_error();
      Check(rc == RCS_EIO, "rcs_checkpoint: RCS_EIO expected, got " + std::to_string(rc));
      Check(msg.rfind("rcs_checkpoint", 0) == 0 && msg.find(dir_ + "/") != std::string::npos &&
                msg.find(expect_error) != std::string::npos,
            "rcs_checkpoint's message: " + msg);
      Check(std::memcmp(&info, &before, sizeof info) == 0, "rcs_checkpoint wrote *info on failure");
    }
    uint64_t v = 0;
    Check(rcs_version(c, kP, &v) == RCS_OK && v == 1, "rcs_version after the failure");
    Check(rcs_store_close(c) == RCS_OK, "rcs_store_close");
  }

  std::string mode_, base_, dir_;
  absl::Duration delay_;
  std::unique_ptr<Store> store_;
  uint64_t next_ = 0;
  std::string errors_;
};

// Runs the scenario in a child; its errors on its stderr.
void RunInChild(const std::string& mode, int policy) {
  ScratchDir scratch("rcs-wfail");
  // The read-only scenario may run as nobody, which must create its
  // directories here.
  ASSERT_EQ(chmod(scratch.path().c_str(), 0777), 0);
  const pid_t pid = SpawnSelf({"--write-failure-child", mode, scratch.path(), std::to_string(policy)});
  ASSERT_GT(pid, 0);
  const int status = WaitBounded(pid, NowMs() + 300000);
  ASSERT_NE(status, -1) << "the child hung";
  ASSERT_FALSE(WIFSIGNALED(status)) << "the child died of signal " << WTERMSIG(status)
                                    << (WTERMSIG(status) == SIGXFSZ ? " (SIGXFSZ)" : "");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child's messages above";
}

class StoreWriteFailure : public ::testing::TestWithParam<int> {};

TEST_P(StoreWriteFailure, FileSizeLimit) { RunInChild("fsize", GetParam()); }
TEST_P(StoreWriteFailure, FullFileSystem) { RunInChild("tmpfs", GetParam()); }
TEST_P(StoreWriteFailure, ReadOnlyDirectory) { RunInChild("readonly", GetParam()); }

INSTANTIATE_TEST_SUITE_P(Policies, StoreWriteFailure, ::testing::Values(0, 1),
                         [](const auto& info) { return AllPolicies()[info.param].name; });

}  // namespace
}  // namespace rcustate::testing

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--write-failure-child") == 0) {
    alarm(240);  // bounded even if the parent is gone
    rcustate::testing::Scenario s(argv[2], argv[3], std::atoi(argv[4]));
    const std::string errors = s.Run();
    if (!errors.empty()) std::fprintf(stderr, "write-failure child (%s):\n%s", argv[2], errors.c_str());
    return errors.empty() ? 0 : 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
