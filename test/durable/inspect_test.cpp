// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/durable/inspect_test.cpp
//
// rcustate-inspect on a fixture written by the durability layer: what each
// command prints (the numbers as int64/double by merge operator, escapes,
// hex), and its exit codes: 0 on good data, 1 on a damaged file, 2 on misuse
// or a missing path. The tool's path comes from RCUSTATE_INSPECT (meson).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "durable/durable_test_util.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/changelog_record.hpp"

namespace rcustate::durable {
namespace {

using testing::Names;
using testing::ReadBytes;
using testing::ScratchDir;
using testing::Tables;
using testing::WriteBytes;
using testing::WriteFull;
using testing::WriteIncrement;

struct ToolRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

ToolRun RunTool(const std::string& args) {
  const char* tool = getenv("RCUSTATE_INSPECT");
  EXPECT_NE(tool, nullptr) << "RCUSTATE_INSPECT not set";
  if (tool == nullptr) return {};
  std::string cmd = std::string(tool) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ToolRun r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return r;
}

std::string I64(int64_t v) {
  std::string s(8, '\0');
  StoreU64(s.data(), static_cast<uint64_t>(v));
  return s;
}
std::string F64(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  std::string s(8, '\0');
  StoreU64(s.data(), b);
  return s;
}

class InspectTool : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = {{"plain", ""}, {"sums", "add_i64"}, {"avg", "add_f64"}};
    Tables a(3);
    a[0][std::string("k\0\x01", 3)] = "hello\\world";
    a[1]["n"] = I64(-42);
    a[2]["x"] = F64(2.5);
    ASSERT_TRUE(WriteFull(d_.path(), 4, 10, schema_, a).ok());
    Tables b = a;
    b[0].erase(std::string("k\0\x01", 3));
    b[1]["m"] = I64(7);
    ASSERT_TRUE(WriteIncrement(d_.path(), 4, 12, schema_, a, b).ok());
    for (const auto& n : Names(d_.path())) (n[0] == 'f' ? full_ : incr_) = d_ / n;
  }
  ScratchDir d_;
  std::vector<TableSchema> schema_;
  std::string full_, incr_;
};

TEST_F(InspectTool, ListShowsTheChain) {
  ToolRun r = RunTool("list " + d_.path());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("versions 10..12, 2 file(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(newest: restore uses it)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("incremental"), std::string::npos) << r.out;
}

TEST_F(InspectTool, VerifyGoodThenDamaged) {
  ToolRun r = RunTool("verify " + d_.path());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("newest chain restores: partition 4, version 12, 3 entries"),
            std::string::npos)
      << r.out;
  std::string bytes = ReadBytes(incr_);
  bytes[bytes.size() / 2] ^= 0x10;
  WriteBytes(incr_, bytes);
  r = RunTool("verify " + d_.path());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("BAD"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(incr_), std::string::npos) << r.out;
}

TEST_F(InspectTool, HeaderShowsFieldsAndCounts) {
  ToolRun r = RunTool("header " + incr_);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("kind          incremental"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("base_version  10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("version       12"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("merge=add_i64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("puts=0 erases=1"), std::string::npos) << r.out;
}

TEST_F(InspectTool, DumpAutoAndHex) {
  ToolRun r = RunTool("dump " + full_);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("plain\tput\tk\\x00\\x01\thello\\\\world\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sums\tput\tn\t-42\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("avg\tput\tx\t2.5\n"), std::string::npos) << r.out;
  r = RunTool("dump " + full_ + " --table sums --format hex");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "sums\tput\t6e\td6ffffffffffffff\n");
  r = RunTool("dump " + incr_);
  EXPECT_NE(r.out.find("plain\terase\tk\\x00\\x01\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sums\tput\tm\t7\n"), std::string::npos) << r.out;
  r = RunTool("dump " + full_ + " --table nosuch");
  EXPECT_EQ(r.code, 2) << r.out;
}

TEST_F(InspectTool, ChangelogFile) {
  ChangelogEncoder e;
  std::string file;
  for (uint64_t v = 1; v <= 2; ++v) {
    e.Begin(4, v);
    e.BeginTable(1, "sums", v == 2, 1);
    e.Put("k", "v" + std::to_string(v));
    std::string_view rec = e.Finish();
    PutU32(&file, static_cast<uint32_t>(rec.size()));
    file.append(rec);
  }
  std::string path = d_ / "log";
  WriteBytes(path, file);
  ToolRun r = RunTool("changelog " + path);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("partition 4 version 2, 1 table(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  sums\tclear\n  sums\tput\tk\tv2\n"), std::string::npos) << r.out;
  WriteBytes(path, file.substr(0, file.size() - 1));
  r = RunTool("changelog " + path);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
}

TEST_F(InspectTool, UsageAndMissingPaths) {
  EXPECT_EQ(RunTool("--help").code, 0);
  EXPECT_NE(RunTool("--help").out.find("usage: rcustate-inspect"), std::string::npos);
  EXPECT_EQ(RunTool("").code, 2);
  EXPECT_EQ(RunTool("frobnicate " + d_.path()).code, 2);
  EXPECT_EQ(RunTool("dump " + full_ + " --format octal").code, 2);
  EXPECT_EQ(RunTool("list " + d_.path() + " --table x").code, 2);
  ToolRun r = RunTool("header " + d_.path() + "/missing");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("No such file or directory"), std::string::npos) << r.out;
  WriteBytes(full_, "not a checkpoint at all");
  r = RunTool("header " + full_);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("bad magic"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace rcustate::durable
