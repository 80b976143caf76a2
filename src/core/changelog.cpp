// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/changelog.cpp
#include "rcustate/abi.hpp"
#include "src/core/changelog.hpp"

#include <exception>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rcustate/status.hpp"

namespace RCUSTATE_NAMESPACE::detail {

void ChangelogHook::Set(ChangelogFn fn) {
  std::unique_ptr<const ChangelogFn> owned;
  if (fn) owned = std::make_unique<const ChangelogFn>(std::move(fn));
  CheckedMutexLock lock(&mu_);
  all_.reserve(all_.size() + 1);  // may throw: nothing changed yet
  const ChangelogFn* raw = owned.get();
  if (owned != nullptr) all_.push_back(std::move(owned));
  current_.store(raw, std::memory_order_release);
}

std::string_view EncodeRecord(const Schema& schema, uint32_t partition, uint64_t version,
                              const Delta& delta, durable::ChangelogEncoder& encoder) {
  encoder.Begin(partition, version);
  for (size_t t = 0; t < delta.tables().size(); ++t) {
    const TableDelta& td = delta.tables()[t];
    if (!td.cleared && td.ops.empty()) continue;
    encoder.BeginTable(static_cast<uint32_t>(t), schema.tables[t].name, td.cleared,
                       td.ops.size());
    for (const auto& [key, op] : td.ops) {
      if (op.kind == Op::kErase) {
        encoder.Erase(key);
      } else {
        encoder.Put(key, op.value);  // kPut: the caller resolved every merge
      }
    }
  }
  return encoder.Finish();
}

absl::Status Notify(const ChangelogFn& fn, uint32_t partition, uint64_t version,
                    std::string_view record) {
  absl::Status s;
  try {
    s = fn(partition, version, record);
  } catch (const std::exception& e) {
    s = absl::UnknownError(absl::StrCat("it threw: ", e.what()));
  } catch (...) {
    s = absl::UnknownError("it threw");
  }
  if (s.ok()) return s;
  return MakeError(ErrorCode::kIo,
                   absl::StrCat("the changelog listener refused commit ", version, " of partition ",
                                partition, " (nothing was committed): ", s.message()));
}

}  // namespace rcustate::detail
