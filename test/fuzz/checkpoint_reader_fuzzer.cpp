// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fuzz/checkpoint_reader_fuzzer.cpp
//
// Fuzzing of the checkpoint reader (src/durable/): the input, after its
// first byte, is the content of a checkpoint file. If the first byte is odd
// the harness first recomputes the header CRC and every block CRC it can
// find, so that mutations reach the parsers behind the checksums instead of
// all dying at the first CRC check.
//
// Checked for every input:
//  - ReadCheckpointFile never crashes, and fails only with kCorrupt, kIo or
//    kNoMemory;
//  - a file that reads is named after its header and restored as a chain
//    (ReadNewestChain with the schema and partition it declares): a full
//    file restores, with exactly as many entries as its PUTs minus nothing
//    (a full file has no erases) unless it repeats a key (kCorrupt); an
//    incremental file alone is no chain (kIo);
//  - a restore that fails returns one of the documented codes.
// Built two ways like c_api_fuzzer (test/fuzz/meson.build).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "rcustate/status.hpp"
#include "src/durable/block_stream.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/checkpoint_dir.hpp"
#include "src/durable/checkpoint_reader.hpp"
#include "src/durable/crc32c.hpp"

namespace {

using namespace rcustate::durable;  // NOLINT
using rcustate::ErrorCode;
using rcustate::ErrorCodeOf;

[[noreturn]] void Fail(const char* what, const absl::Status& st) {
  std::fprintf(stderr, "FUZZ CHECK failed: %s: %s\n", what, st.ToString().c_str());
  std::abort();
}

bool Documented(const absl::Status& st) {
  ErrorCode c = ErrorCodeOf(st);
  return c == ErrorCode::kCorrupt || c == ErrorCode::kIo || c == ErrorCode::kNoMemory;
}

void FixChecksums(std::string* f) {
  if (f->size() < 16) return;
  uint32_t h = LoadU32(f->data() + 12);
  if (h < 8 || h > f->size()) return;
  StoreU32(f->data() + h - 4, Crc32c(f->data(), h - 4));
  for (size_t off = h; f->size() - off >= kBlockFrameSize;) {
    uint32_t len = LoadU32(f->data() + off);
    if (len > f->size() - off - kBlockFrameSize) return;
    std::string_view payload(f->data() + off + kBlockFrameSize, len);
    StoreU32(f->data() + off + 8, BlockCrc(len, LoadU32(f->data() + off + 4), payload));
    off += kBlockFrameSize + len;
  }
}

// One directory per process, removed at exit. Held by a pointer that is
// never freed: the exit handler runs after static destructors would have.
const std::string& ScratchDir() {
  static const std::string* dir = [] {
    std::string t = (std::filesystem::temp_directory_path() / "rcs-ckpt-fuzz-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) std::abort();
    auto* d = new std::string(t);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(*dir, ec);
    });
    return d;
  }();
  return *dir;
}

void Clear(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) std::filesystem::remove(e.path());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) FixChecksums(&file);
  const std::string& dir = ScratchDir();
  Clear(dir);
  std::string path = dir + "/input";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
  }
  absl::StatusOr<CheckpointFileSummary> s = ReadCheckpointFile(path, nullptr);
  if (!s.ok()) {
    if (!Documented(s.status())) Fail("ReadCheckpointFile", s.status());
    return 0;
  }
  const CheckpointHeader& h = s->header;
  std::string named = dir + "/" + CheckpointFileNameFor(h.kind, h.base_version, h.version, h.chain_id);
  std::filesystem::rename(path, named);
  absl::StatusOr<RestoredChain> r = ReadNewestChain(dir, h.partition, h.tables);
  if (h.kind == kCheckpointIncremental) {
    if (r.ok() || ErrorCodeOf(r.status()) != ErrorCode::kIo) Fail("lone increment", r.status());
    return 0;
  }
  if (!r.ok()) {
    // Only a repeated key can make a verified full file fail to restore.
    if (ErrorCodeOf(r.status()) != ErrorCode::kCorrupt ||
        r.status().message().find("duplicate key") == std::string_view::npos) {
      Fail("verified full file does not restore", r.status());
    }
    return 0;
  }
  if (r->head.version != h.version || r->tables.size() != h.tables.size() ||
      r->entries != s->trailer.entries) {
    Fail("restore disagrees with the file", absl::OkStatus());
  }
  return 0;
}
