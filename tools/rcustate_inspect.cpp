// SPDX-License-Identifier: LGPL-2.1-or-later
// File: tools/rcustate_inspect.cpp
//
// rcustate-inspect: look into checkpoint directories, checkpoint files and
// changelog files without a store, what mdb_stat/mdb_dump are to LMDB and
// ldb/sst_dump to RocksDB. Links the durability layer statically; reads only.
//
// Exit codes: 0 success; 1 a file is damaged or does not verify; 2 usage
// error or a file/directory that cannot be read.
#include <sys/stat.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "rcustate/status.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/changelog_record.hpp"
#include "src/durable/checkpoint_dir.hpp"
#include "src/durable/checkpoint_reader.hpp"
#include "src/durable/file_io.hpp"

namespace {

using namespace rcustate::durable;  // NOLINT: a tool over one namespace

constexpr char kUsage[] =
    "usage: rcustate-inspect COMMAND ARGS\n"
    "\n"
    "Commands:\n"
    "  list DIR        the checkpoint chains of DIR (newest last) and their files:\n"
    "                  kind, base version -> version, chain id, size; temporaries\n"
    "                  and increments that extend no chain are listed apart\n"
    "  verify DIR      reads every checkpoint file of DIR and checks every\n"
    "                  checksum and count, then restores the newest chain;\n"
    "                  exit 0 if all is good, 1 with a message per problem\n"
    "  header FILE     a checkpoint file's header and per-table entry counts\n"
    "  dump FILE [--table NAME] [--format auto|hex]\n"
    "                  a checkpoint file's entries, one per line:\n"
    "                  TABLE<tab>put<tab>KEY<tab>VALUE, TABLE<tab>erase<tab>KEY,\n"
    "                  TABLE<tab>clear. auto (default): values of add_i64,\n"
    "                  min_i64 and max_i64 tables as int64, of add_f64 tables as\n"
    "                  double, everything else as text with \\xNN escapes for\n"
    "                  bytes outside printable ASCII (and \\\\ for \\); hex: keys\n"
    "                  and values in hex\n"
    "  changelog FILE [--format auto|hex]\n"
    "                  decodes a file of changelog records, each framed as a\n"
    "                  u32 little-endian length followed by that many bytes of\n"
    "                  record (the framing this tool expects; the library hands\n"
    "                  records to the host unframed)\n"
    "\n"
    "Exit codes: 0 success, 1 damaged or unverifiable data, 2 usage or I/O error.\n";

int Usage(const char* why) {
  std::fprintf(stderr, "rcustate-inspect: %s\n\n%s", why, kUsage);
  return 2;
}

// 1 for damaged data, 2 for anything else (unreadable, missing, misuse).
int Fail(const absl::Status& st) {
  std::fprintf(stderr, "rcustate-inspect: %s\n", std::string(st.message()).c_str());
  return rcustate::ErrorCodeOf(st) == rcustate::ErrorCode::kCorrupt ? 1 : 2;
}

std::string Escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char b[5];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    }
  }
  return out;
}

std::string Hex(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

enum class Format { kAuto, kHex };

// How a table's values print, from its merge operator's name.
std::string Value(std::string_view v, std::string_view merge, Format f) {
  if (f == Format::kHex) return Hex(v);
  if (v.size() == 8 && (merge == "add_i64" || merge == "min_i64" || merge == "max_i64")) {
    return std::to_string(static_cast<int64_t>(LoadU64(v.data())));
  }
  if (v.size() == 8 && merge == "add_f64") {
    double d;
    uint64_t bits = LoadU64(v.data());
    std::memcpy(&d, &bits, 8);
    char b[40];
    std::snprintf(b, sizeof b, "%.17g", d);
    return b;
  }
  return Escaped(v);
}
std::string Key(std::string_view k, Format f) { return f == Format::kHex ? Hex(k) : Escaped(k); }

const char* KindName(uint32_t kind) { return kind == kCheckpointFull ? "full" : "incremental"; }

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

void PrintFileLine(const std::string& dir, const CheckpointFileName& f) {
  std::printf("  %-11s %20" PRIu64 " -> %-20" PRIu64 " %12" PRIu64 " bytes  %s\n", KindName(f.kind),
              f.base_version, f.version, FileSize(dir + "/" + f.name), f.name.c_str());
}

int List(const std::string& dir) {
  absl::StatusOr<CheckpointDirListing> l = ListCheckpointDir(dir);
  if (!l.ok()) return Fail(l.status());
  if (l->chains.empty()) std::printf("no checkpoint chain in %s\n", dir.c_str());
  for (size_t i = 0; i < l->chains.size(); ++i) {
    const auto& c = l->chains[i];
    uint64_t bytes = 0;
    for (const auto& f : c) bytes += FileSize(dir + "/" + f.name);
    std::printf("chain %016" PRIx64 ": versions %" PRIu64 "..%" PRIu64 ", %zu file(s), %" PRIu64
                " bytes%s\n",
                c.front().chain_id, c.front().version, c.back().version, c.size(), bytes,
                i + 1 == l->chains.size() ? " (newest: restore uses it)" : "");
    for (const auto& f : c) PrintFileLine(dir, f);
  }
  if (!l->orphans.empty()) {
    std::printf("increments that extend no chain (ignored):\n");
    for (const auto& f : l->orphans) PrintFileLine(dir, f);
  }
  for (const auto& t : l->temporaries) {
    std::printf("temporary (unfinished write, ignored): %s\n", t.c_str());
  }
  return 0;
}

int Verify(const std::string& dir) {
  absl::StatusOr<CheckpointDirListing> l = ListCheckpointDir(dir);
  if (!l.ok()) return Fail(l.status());
  int bad = 0;
  for (const CheckpointFileName& f : l->files) {
    std::string path = dir + "/" + f.name;
    absl::StatusOr<CheckpointFileSummary> s = ReadCheckpointFile(path, nullptr);
    if (!s.ok()) {
      std::printf("BAD  %s\n", std::string(s.status().message()).c_str());
      ++bad;
      continue;
    }
    std::printf("ok   %s (%" PRIu64 " entries, %" PRIu64 " bytes)\n", f.name.c_str(),
                s->trailer.entries, s->file_bytes);
  }
  if (!l->chains.empty()) {
    // The newest chain as a restore reads it, with the schema it declares.
    const CheckpointFileName& full = l->chains.back().front();
    absl::StatusOr<CheckpointFileSummary> s = ReadCheckpointSummary(dir + "/" + full.name);
    if (s.ok()) {
      absl::StatusOr<RestoredChain> r = ReadNewestChain(dir, s->header.partition, s->header.tables);
      if (r.ok()) {
        std::printf("newest chain restores: partition %u, version %" PRIu64 ", %" PRIu64
                    " entries\n",
                    r->head.partition, r->head.version, r->entries);
      } else {
        std::printf("BAD  newest chain does not restore: %s\n",
                    std::string(r.status().message()).c_str());
        ++bad;
      }
    }
  } else {
    std::printf("no checkpoint chain in %s\n", dir.c_str());
  }
  if (bad > 0) std::printf("%d problem(s)\n", bad);
  return bad > 0 ? 1 : 0;
}

int Header(const std::string& path) {
  absl::StatusOr<CheckpointFileSummary> s = ReadCheckpointSummary(path);
  if (!s.ok()) return Fail(s.status());
  const CheckpointHeader& h = s->header;
  std::printf("file          %s\n", path.c_str());
  std::printf("format        %u\n", kCheckpointFormatVersion);
  std::printf("kind          %s\n", KindName(h.kind));
  std::printf("partition     %u\n", h.partition);
  std::printf("version       %" PRIu64 "\n", h.version);
  std::printf("base_version  %" PRIu64 "\n", h.base_version);
  std::printf("chain_id      %016" PRIx64 "\n", h.chain_id);
  std::printf("bytes         %" PRIu64 "\n", s->file_bytes);
  std::printf("data_blocks   %" PRIu64 "\n", s->trailer.data_blocks);
  std::printf("entries       %" PRIu64 "\n", s->trailer.entries);
  std::printf("tables        %zu\n", h.tables.size());
  for (size_t i = 0; i < h.tables.size(); ++i) {
    std::printf("  %3zu %-24s merge=%-10s puts=%" PRIu64 " erases=%" PRIu64 "\n", i,
                Escaped(h.tables[i].name).c_str(),
                h.tables[i].merge.empty() ? "none" : Escaped(h.tables[i].merge).c_str(),
                s->trailer.puts[i], s->trailer.erases[i]);
  }
  return 0;
}

class DumpPrinter : public CheckpointVisitor {
 public:
  DumpPrinter(std::string only, Format f) : only_(std::move(only)), format_(f) {}
  absl::Status OnStart(const CheckpointHeader& h, const CheckpointTrailer&) override {
    tables_ = h.tables;
    found_ = only_.empty();
    for (const auto& t : tables_) found_ = found_ || t.name == only_;
    if (!found_) {
      return rcustate::MakeError(rcustate::ErrorCode::kInvalidArgument,
                                 "no table named '" + only_ + "'");
    }
    return absl::OkStatus();
  }
  absl::Status OnTable(uint32_t table, bool cleared) override {
    cur_ = &tables_[table];
    show_ = only_.empty() || cur_->name == only_;
    name_ = Escaped(cur_->name);
    if (show_ && cleared) std::printf("%s\tclear\n", name_.c_str());
    return absl::OkStatus();
  }
  absl::Status OnPut(std::string_view k, std::string_view v) override {
    if (show_) {
      std::printf("%s\tput\t%s\t%s\n", name_.c_str(), Key(k, format_).c_str(),
                  Value(v, cur_->merge, format_).c_str());
    }
    return absl::OkStatus();
  }
  absl::Status OnErase(std::string_view k) override {
    if (show_) std::printf("%s\terase\t%s\n", name_.c_str(), Key(k, format_).c_str());
    return absl::OkStatus();
  }

 private:
  std::string only_;
  Format format_;
  std::vector<TableSchema> tables_;
  const TableSchema* cur_ = nullptr;
  std::string name_;
  bool show_ = false;
  bool found_ = false;
};

int Dump(const std::string& path, const std::string& table, Format f) {
  DumpPrinter p(table, f);
  absl::StatusOr<CheckpointFileSummary> s = ReadCheckpointFile(path, &p);
  if (!s.ok()) return Fail(s.status());
  return 0;
}

int Changelog(const std::string& path, Format f) {
  absl::StatusOr<RandomAccessFile> file = RandomAccessFile::Open(path);
  if (!file.ok()) return Fail(file.status());
  uint64_t off = 0;
  std::string rec;
  for (uint64_t n = 0; off < file->size(); ++n) {
    char len_bytes[4];
    if (file->size() - off < 4) {
      std::fprintf(stderr, "rcustate-inspect: %s: truncated at offset %" PRIu64 " (record length)\n",
                   path.c_str(), off);
      return 1;
    }
    if (absl::Status st = file->ReadAt(off, 4, len_bytes); !st.ok()) return Fail(st);
    uint32_t len = LoadU32(len_bytes);
    if (len > file->size() - off - 4) {
      std::fprintf(stderr,
                   "rcustate-inspect: %s: truncated at offset %" PRIu64 " (record of %u bytes)\n",
                   path.c_str(), off, len);
      return 1;
    }
    rec.resize(len);
    if (absl::Status st = file->ReadAt(off + 4, len, rec.data()); !st.ok()) return Fail(st);
    absl::StatusOr<ChangeRecordView> v = DecodeChangelog(rec);
    if (!v.ok()) {
      std::fprintf(stderr, "rcustate-inspect: %s: record %" PRIu64 " at offset %" PRIu64 ": %s\n",
                   path.c_str(), n, off, std::string(v.status().message()).c_str());
      return 1;
    }
    std::printf("record %" PRIu64 " @%" PRIu64 ": partition %u version %" PRIu64 ", %zu table(s)\n",
                n, off, v->partition, v->version, v->tables.size());
    for (const auto& t : v->tables) {
      std::string name = Escaped(t.name);
      if (t.cleared) std::printf("  %s\tclear\n", name.c_str());
      for (const auto& op : t.ops) {
        if (op.erase) {
          std::printf("  %s\terase\t%s\n", name.c_str(), Key(op.key, f).c_str());
        } else {
          // Records carry no merge names: values print as text (or hex).
          std::printf("  %s\tput\t%s\t%s\n", name.c_str(), Key(op.key, f).c_str(),
                      Value(op.value, "", f).c_str());
        }
      }
    }
    off += 4 + uint64_t{len};
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  if (args.empty()) return Usage("no command");
  const std::string cmd = args[0];
  std::vector<std::string> pos;
  std::string table;
  Format format = Format::kAuto;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--table" || args[i] == "--format") {
      if (i + 1 >= args.size()) return Usage((args[i] + " needs a value").c_str());
      if (cmd != "dump" && !(cmd == "changelog" && args[i] == "--format")) {
        return Usage((args[i] + " is not an option of " + cmd).c_str());
      }
      const std::string& v = args[++i];
      if (args[i - 1] == "--table") {
        table = v;
      } else if (v == "auto") {
        format = Format::kAuto;
      } else if (v == "hex") {
        format = Format::kHex;
      } else {
        return Usage(("unknown format '" + v + "' (auto or hex)").c_str());
      }
    } else if (args[i].rfind("--", 0) == 0) {
      return Usage(("unknown option " + args[i]).c_str());
    } else {
      pos.push_back(args[i]);
    }
  }
  if (pos.size() != 1) return Usage((cmd + " takes exactly one path").c_str());
  if (cmd == "list") return List(pos[0]);
  if (cmd == "verify") return Verify(pos[0]);
  if (cmd == "header") return Header(pos[0]);
  if (cmd == "dump") return Dump(pos[0], table, format);
  if (cmd == "changelog") return Changelog(pos[0], format);
  return Usage(("unknown command '" + cmd + "'").c_str());
}
