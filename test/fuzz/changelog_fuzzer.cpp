// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fuzz/changelog_fuzzer.cpp
//
// Fuzzing of DecodeChangelog (src/durable/changelog_record.hpp): the input,
// after its first byte, is a record. If the first byte is odd the harness
// first sets the record's length field and CRC to match, so that mutations
// reach the parser behind the checksum.
//
// Checked for every input: the decoder never crashes and fails only with
// kCorrupt (or kNoMemory); every view of a decoded record lies inside the
// input; re-encoding the decoded record with ChangelogEncoder and decoding
// that gives the same partition, version, tables and ops.
// Built two ways like c_api_fuzzer (test/fuzz/meson.build).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "rcustate/status.hpp"
#include "src/durable/byte_codec.hpp"
#include "src/durable/changelog_record.hpp"
#include "src/durable/crc32c.hpp"

namespace {

using namespace rcustate::durable;  // NOLINT

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "FUZZ CHECK failed: %s\n", what);
  std::abort();
}

bool Inside(std::string_view v, std::string_view all) {
  return v.empty() || (v.data() >= all.data() && v.data() + v.size() <= all.data() + all.size());
}

bool Same(const ChangeRecordView& a, const ChangeRecordView& b) {
  if (a.partition != b.partition || a.version != b.version || a.tables.size() != b.tables.size()) {
    return false;
  }
  for (size_t i = 0; i < a.tables.size(); ++i) {
    const auto& x = a.tables[i];
    const auto& y = b.tables[i];
    if (x.id != y.id || x.name != y.name || x.cleared != y.cleared || x.ops.size() != y.ops.size()) {
      return false;
    }
    for (size_t k = 0; k < x.ops.size(); ++k) {
      if (x.ops[k].erase != y.ops[k].erase || x.ops[k].key != y.ops[k].key ||
          x.ops[k].value != y.ops[k].value) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string rec(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) && rec.size() >= kChangelogHeaderSize) {
    StoreU64(rec.data() + 8, rec.size());
    StoreU32(rec.data() + 16, Crc32cExtend(Crc32c(rec.data(), 16), rec.data() + 20, rec.size() - 20));
  }
  absl::StatusOr<ChangeRecordView> v = DecodeChangelog(rec);
  if (!v.ok()) {
    rcustate::ErrorCode c = rcustate::ErrorCodeOf(v.status());
    if (c != rcustate::ErrorCode::kCorrupt && c != rcustate::ErrorCode::kNoMemory) Fail("error code");
    return 0;
  }
  ChangelogEncoder e;
  e.Begin(v->partition, v->version);
  for (const auto& t : v->tables) {
    if (!Inside(t.name, rec)) Fail("name outside the record");
    e.BeginTable(t.id, t.name, t.cleared, t.ops.size());
    for (const auto& op : t.ops) {
      if (!Inside(op.key, rec) || !Inside(op.value, rec)) Fail("op outside the record");
      if (op.erase) {
        if (!op.value.empty()) Fail("erase with a value");
        e.Erase(op.key);
      } else {
        e.Put(op.key, op.value);
      }
    }
  }
  absl::StatusOr<ChangeRecordView> again = DecodeChangelog(e.Finish());
  if (!again.ok()) Fail("re-encoded record does not decode");
  if (!Same(*v, *again)) Fail("re-encoded record differs");
  return 0;
}
