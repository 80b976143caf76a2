// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fuzz/make_durable_seeds.cpp
//
// Writes the seed corpora of checkpoint_reader_fuzzer and changelog_fuzzer
// with the durability layer's own writers: a few small, valid files and
// records (prefixed by the harness byte: 0 = take the bytes as they are).
// Not a test; run it by hand to regenerate test/fuzz/corpus_checkpoint/ and
// corpus_changelog/:  make_durable_seeds SRCDIR/test/fuzz
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "src/durable/changelog_record.hpp"
#include "src/durable/checkpoint_dir.hpp"
#include "src/durable/checkpoint_writer.hpp"

using namespace rcustate::durable;  // NOLINT

namespace {

void Save(const std::string& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.put('\0');
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Writes one checkpoint into an empty scratch dir and returns its bytes.
template <typename Fill>
std::string Checkpoint(const std::string& dir, CheckpointHeader h, Fill fill) {
  auto w = CheckpointWriter::Begin(dir, h);
  if (!w.ok() || !fill(w->get()).ok() || !(*w)->Commit(nullptr, nullptr).ok()) std::abort();
  std::string bytes = Slurp((*w)->final_path());
  std::filesystem::remove((*w)->final_path());
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s TEST_FUZZ_DIR\n", argv[0]);
    return 2;
  }
  std::string out = argv[1];
  std::string ck = out + "/corpus_checkpoint", cl = out + "/corpus_changelog";
  std::filesystem::create_directories(ck);
  std::filesystem::create_directories(cl);
  std::string scratch = std::filesystem::temp_directory_path() / "rcs-seeds";
  std::filesystem::remove_all(scratch);
  std::vector<TableSchema> schema = {{"plain", ""}, {"sums", "add_i64"}, {"log", "append"}};

  Save(ck + "/full_empty", Checkpoint(scratch, {kCheckpointFull, 0, 1, 0, 7, schema},
                                      [](CheckpointWriter*) { return absl::OkStatus(); }));
  Save(ck + "/full_small", Checkpoint(scratch, {kCheckpointFull, 3, 9, 0, 7, schema},
                                      [](CheckpointWriter* w) {
                                        absl::Status s = w->BeginTable(0, false);
                                        if (s.ok()) s = w->Put("a", "1");
                                        if (s.ok()) s = w->Put(std::string(1, '\0'), "");
                                        if (s.ok()) s = w->BeginTable(1, false);
                                        if (s.ok()) s = w->Put("n", std::string(8, '\x05'));
                                        return s;
                                      }));
  Save(ck + "/incr_small", Checkpoint(scratch, {kCheckpointIncremental, 3, 12, 9, 7, schema},
                                      [](CheckpointWriter* w) {
                                        absl::Status s = w->BeginTable(0, true);
                                        if (s.ok()) s = w->Put("b", "2");
                                        if (s.ok()) s = w->BeginTable(2, false);
                                        if (s.ok()) s = w->Erase("gone");
                                        return s;
                                      }));
  Save(ck + "/no_tables", Checkpoint(scratch, {kCheckpointFull, 1, 2, 0, 7, {}},
                                     [](CheckpointWriter*) { return absl::OkStatus(); }));

  ChangelogEncoder e;
  e.Begin(0, 1);
  Save(cl + "/empty_commit", e.Finish());
  e.Begin(3, 42);
  e.BeginTable(0, "plain", false, 2);
  e.Put("a", "1");
  e.Erase(std::string("b\0c", 3));
  e.BeginTable(2, "log", true, 1);
  e.Put("", "");
  Save(cl + "/two_tables", e.Finish());
  std::filesystem::remove_all(scratch);
  return 0;
}
