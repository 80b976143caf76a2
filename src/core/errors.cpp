// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/core/errors.cpp
//
// rcustate errors are absl::Status values whose payload "rcustate.code" holds
// the precise ErrorCode, so the C ABI can map them without parsing messages.
// The payload is the code's name in words ("no_partition"): absl::Status's
// ToString() prints payloads, and users log it.
#include "rcustate/abi.hpp"
#include <iterator>
#include <string>
#include <string_view>

#include "absl/strings/cord.h"
#include "rcustate/status.hpp"

namespace RCUSTATE_NAMESPACE {
namespace {

constexpr char kPayloadUrl[] = "rcustate.code";

absl::StatusCode AbslCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return absl::StatusCode::kOk;
    case ErrorCode::kNotFound: return absl::StatusCode::kNotFound;
    case ErrorCode::kInvalidArgument: return absl::StatusCode::kInvalidArgument;
    case ErrorCode::kNoMemory: return absl::StatusCode::kResourceExhausted;
    case ErrorCode::kNoPartition: return absl::StatusCode::kNotFound;
    case ErrorCode::kExists: return absl::StatusCode::kAlreadyExists;
    case ErrorCode::kNoTable: return absl::StatusCode::kNotFound;
    case ErrorCode::kRange: return absl::StatusCode::kOutOfRange;
    case ErrorCode::kState: return absl::StatusCode::kFailedPrecondition;
    case ErrorCode::kIo: return absl::StatusCode::kUnavailable;
    case ErrorCode::kCorrupt: return absl::StatusCode::kDataLoss;
    case ErrorCode::kInternal: return absl::StatusCode::kInternal;
  }
  return absl::StatusCode::kInternal;
}

// The payload text of each code, indexed by the code's value; kOk has none.
constexpr const char* kCodeNames[] = {
    "",          "not_found", "invalid_argument", "no_memory", "no_partition", "exists",
    "no_table",  "range",     "state",            "io",        "corrupt",      "internal",
};
static_assert(std::size(kCodeNames) == static_cast<size_t>(ErrorCode::kInternal) + 1,
              "one name per ErrorCode");

}  // namespace

absl::Status MakeError(ErrorCode code, std::string_view message) {
  if (code == ErrorCode::kOk) return absl::OkStatus();
  absl::Status status(AbslCodeFor(code), absl::string_view(message.data(), message.size()));
  status.SetPayload(kPayloadUrl, absl::Cord(absl::string_view(kCodeNames[static_cast<size_t>(code)])));
  return status;
}

ErrorCode ErrorCodeOf(const absl::Status& status) {
  if (status.ok()) return ErrorCode::kOk;
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  if (payload) {
    for (size_t v = 1; v < std::size(kCodeNames); ++v) {
      if (*payload == absl::string_view(kCodeNames[v])) return static_cast<ErrorCode>(v);
    }
  }
  if (status.code() == absl::StatusCode::kResourceExhausted) return ErrorCode::kNoMemory;
  if (status.code() == absl::StatusCode::kInvalidArgument) return ErrorCode::kInvalidArgument;
  return ErrorCode::kInternal;
}

}  // namespace rcustate
