// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/c/close_rule_test.cpp -- the one rule for closing a store inside
// a read section, on the C++ side (the C side is in c_api_test.c):
//  - Store::Close() there returns kState and changes nothing: the store stays
//    open and usable and closes after the section;
//  - destroying a Store there, which cannot report an error, aborts the
//    process with a message naming the mistake (checked in a child process,
//    this binary run again, whose run time alarm() bounds).
// Public headers only, linked against the shared library like a user's
// program. No framework: prints what failed and exits non-zero.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "rcustate/read_section.hpp"
#include "rcustate/status.hpp"
#include "rcustate/store.hpp"

namespace {

#define EXPECT(cond)                                                         \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      std::exit(1);                                                          \
    }                                                                        \
  } while (0)

std::unique_ptr<rcustate::Store> OpenStore() {
  rcustate::StoreOptions o;
  o.tables.push_back(rcustate::TableSpec{"t", nullptr, 0});
  auto s = rcustate::Store::Open(std::move(o));
  EXPECT(s.ok());
  return *std::move(s);
}

void CloseRefusedInsideSection() {
  auto store = OpenStore();
  EXPECT(store->CreatePartition(0).ok());
  {
    rcustate::ReadSection rs;
    absl::Status s = store->Close();
    EXPECT(rcustate::ErrorCodeOf(s) == rcustate::ErrorCode::kState);
    // Nothing changed: the store still reads and writes.
    EXPECT(store->Put(0, 0, "k", "v").ok());
    auto v = store->Get(0, 0, "k");
    EXPECT(v.ok() && v->has_value() && **v == "v");
  }
  EXPECT(store->Commit(0).ok());
  EXPECT(store->Close().ok());
  EXPECT(store->Close().ok());  // idempotent
}

// Same through the section a binding opens without a scope.
void CloseRefusedInsideEnteredSection() {
  auto store = OpenStore();
  rcustate::ReadSection::Enter();
  EXPECT(rcustate::ErrorCodeOf(store->Close()) == rcustate::ErrorCode::kState);
  EXPECT(rcustate::ReadSection::Leave());
  EXPECT(!rcustate::ReadSection::Leave());  // unbalanced: refused
  EXPECT(!rcustate::ReadSection::Active());
  EXPECT(store->Close().ok());
}

// Leave() never ends a section a ReadSection object opened.
void LeaveDoesNotCloseScopedSection() {
  rcustate::ReadSection rs;
  EXPECT(!rcustate::ReadSection::Leave());
  EXPECT(rcustate::ReadSection::Active());
}

// The child: destroys a store inside a section. Must not return.
[[noreturn]] void ChildDestroyInsideSection() {
  alarm(60);  // a hang (a close waiting for its own section) ends as SIGALRM
  auto store = OpenStore();
  EXPECT(store->CreatePartition(0).ok());
  rcustate::ReadSection rs;
  store.reset();
  std::fprintf(stderr, "~Store returned inside a read section\n");
  std::_Exit(0);
}

void DestroyInsideSectionAborts(const char* self) {
  int err[2];
  EXPECT(pipe(err) == 0);
  std::fflush(nullptr);
  pid_t pid = fork();
  EXPECT(pid >= 0);
  if (pid == 0) {
    dup2(err[1], 2);
    close(err[0]);
    close(err[1]);
    execl(self, self, "child-destroy", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(err[1]);
  std::string text;
  char buf[512];
  ssize_t n;
  while ((n = read(err[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(err[0]);
  int status = 0;
  EXPECT(waitpid(pid, &status, 0) == pid);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
    std::fprintf(stderr, "child: %s %d, stderr:\n%s\n",
                 WIFSIGNALED(status) ? "signal" : "exit",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), text.c_str());
    std::exit(1);
  }
  // The message says who and what.
  EXPECT(text.find("rcustate") != std::string::npos);
  EXPECT(text.find("read section") != std::string::npos);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "child-destroy") == 0) ChildDestroyInsideSection();
  CloseRefusedInsideSection();
  CloseRefusedInsideEnteredSection();
  LeaveDoesNotCloseScopedSection();
  DestroyInsideSectionAborts(argv[0]);
  std::printf("close rule: passed\n");
  return 0;
}
