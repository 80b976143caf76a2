// SPDX-License-Identifier: LGPL-2.1-or-later
// The README's C++ program: one table of counters, one batch, one lookup.
// Build: c++ -std=c++20 hello_cxx.cpp $(pkg-config --cflags --libs rcustate) -o hello
#include <cstdio>
#include "rcustate/rcustate.hpp"

int main() {
  rcustate::StoreOptions options;
  options.tables = {{"clicks", rcustate::AddInt64()}};
  auto store = rcustate::Store::Open(options).value();
  if (!store->CreatePartition(0).ok()) return 1;
  for (int i = 0; i < 3; ++i) store->Merge(0, 0, "ada", rcustate::EncodeInt64(1)).IgnoreError();
  if (!store->Commit(0).ok()) return 1;  // now visible to all readers, atomically
  rcustate::ReadSection section;         // lock-free reads; views live until it ends
  std::optional<std::string_view> clicks = store->Get(0, 0, "ada").value();
  std::printf("ada clicked %lld times\n", (long long)rcustate::DecodeInt64(*clicks).value());
  return rcustate::DecodeInt64(*clicks) == 3 ? 0 : 1;
}
