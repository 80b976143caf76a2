// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fuzz/changelog_apply_common.hpp
//
// Shared by changelog_apply_fuzzer.cpp and make_apply_seeds.cpp: the fixed
// schema of the fuzzed store and the input format.
//
// An input is a sequence of chunks: u8 flags, u32 length (little-endian),
// then `length` bytes of record (a short last chunk takes what is left).
//   flags bit 0: first set the record's length field and CRC to match, so
//                that mutations reach the parser and the store behind them
//   flags bits 1-2: the partition applied to: 0 and 3 -> 1, 1 -> 2 (both
//                exist), 2 -> 3 (absent)
#ifndef RCUSTATE_TEST_FUZZ_CHANGELOG_APPLY_COMMON_HPP_
#define RCUSTATE_TEST_FUZZ_CHANGELOG_APPLY_COMMON_HPP_

#include "rcustate/rcustate.h"

namespace apply_fuzz {

inline constexpr rcs_table_spec kTables[] = {{"plain", RCS_MERGE_NONE, 0},
                                             {"sum", RCS_MERGE_ADD_I64, 0},
                                             {"fsum", RCS_MERGE_ADD_F64, 0},
                                             {"log", RCS_MERGE_APPEND, 0}};
inline constexpr size_t kNumTables = sizeof kTables / sizeof kTables[0];

inline rcs_store* OpenStore() {
  rcs_options o;
  rcs_options_init(&o);
  o.tables = kTables;
  o.num_tables = kNumTables;
  rcs_store* s = nullptr;
  return rcs_store_open(&o, &s) == RCS_OK ? s : nullptr;
}

inline uint32_t PartitionOf(uint8_t flags) {
  switch ((flags >> 1) & 3) {
    case 1: return 2;
    case 2: return 3;
    default: return 1;
  }
}

}  // namespace apply_fuzz

#endif  // RCUSTATE_TEST_FUZZ_CHANGELOG_APPLY_COMMON_HPP_
