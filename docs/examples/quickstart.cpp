// SPDX-License-Identifier: LGPL-2.1-or-later
// The README's C++ example: count clicks per user in partition 0, publish,
// read lock-free. Built and run as a test (suite 'examples').
#include <cstdio>

#include "rcustate/rcustate.hpp"

int main() {
  rcustate::StoreOptions options;
  options.tables = {{"clicks", rcustate::AddInt64()}, {"names", nullptr}};
  auto store = rcustate::Store::Open(options).value();
  const rcustate::TableId clicks = store->FindTable("clicks").value();
  if (!store->CreatePartition(0).ok()) return 1;

  for (const char* user : {"ada", "bob", "ada"}) {  // one batch of records
    if (!store->Merge(0, clicks, user, rcustate::EncodeInt64(1)).ok()) return 1;
  }
  const uint64_t version = store->Commit(0).value();  // the batch is now visible, atomically

  rcustate::ReadSection section;  // lock-free reads; views live until it ends
  auto ada = store->Get(0, clicks, "ada").value();  // std::optional<std::string_view>
  std::printf("version %llu: ada clicked %lld times\n", (unsigned long long)version,
              (long long)rcustate::DecodeInt64(*ada).value());

  // A hot read path resolves (partition, table) once; then a lookup is inline.
  rcustate::TableReader reader = store->Reader(0, clicks).value();
  std::optional<std::string_view> bob = reader.Find("bob");  // committed data only
  const bool ok = rcustate::DecodeInt64(*ada) == 2 && rcustate::DecodeInt64(*bob) == 1;
  return ok ? 0 : 1;
}
