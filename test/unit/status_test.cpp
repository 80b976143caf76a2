// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/unit/status_test.cpp
//
// rcustate::MakeError / ErrorCodeOf: every precise code survives the round
// trip through absl::Status, maps to the documented absl code, and statuses
// that rcustate did not make are told apart.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "rcustate/status.hpp"
#include "unit/unit_util.hpp"

namespace rcustate {
namespace {

struct CodeCase {
  ErrorCode code;
  absl::StatusCode absl_code;
};

// Every non-OK code with the absl code status.hpp documents for it.
const std::vector<CodeCase>& AllCodes() {
  static const std::vector<CodeCase> cases = {
      {ErrorCode::kNotFound, absl::StatusCode::kNotFound},
      {ErrorCode::kInvalidArgument, absl::StatusCode::kInvalidArgument},
      {ErrorCode::kNoMemory, absl::StatusCode::kResourceExhausted},
      {ErrorCode::kNoPartition, absl::StatusCode::kNotFound},
      {ErrorCode::kExists, absl::StatusCode::kAlreadyExists},
      {ErrorCode::kNoTable, absl::StatusCode::kNotFound},
      {ErrorCode::kRange, absl::StatusCode::kOutOfRange},
      {ErrorCode::kState, absl::StatusCode::kFailedPrecondition},
      {ErrorCode::kIo, absl::StatusCode::kUnavailable},
      {ErrorCode::kCorrupt, absl::StatusCode::kDataLoss},
      {ErrorCode::kInternal, absl::StatusCode::kInternal},
  };
  return cases;
}

TEST(Status, EveryCodeRoundTrips) {
  // The list above must cover the enum: kInternal is its last member.
  ASSERT_EQ(AllCodes().size(), static_cast<size_t>(ErrorCode::kInternal));
  for (const CodeCase& c : AllCodes()) {
    const std::string message = "message for code " + std::to_string(static_cast<int>(c.code));
    absl::Status s = MakeError(c.code, message);
    EXPECT_FALSE(s.ok()) << c.code;
    EXPECT_EQ(s.code(), c.absl_code) << c.code;
    EXPECT_EQ(s.message(), message) << c.code;
    EXPECT_EQ(ErrorCodeOf(s), c.code);
    // A copy carries the code too (the C ABI may copy statuses around).
    absl::Status copy = s;
    EXPECT_EQ(ErrorCodeOf(copy), c.code);
  }
}

TEST(Status, CodesSharingAnAbslCodeStayDistinct) {
  // kNotFound, kNoPartition and kNoTable all map to absl kNotFound.
  absl::Status a = MakeError(ErrorCode::kNotFound, "x");
  absl::Status b = MakeError(ErrorCode::kNoPartition, "x");
  absl::Status c = MakeError(ErrorCode::kNoTable, "x");
  EXPECT_EQ(a.code(), b.code());
  EXPECT_EQ(b.code(), c.code());
  EXPECT_EQ(ErrorCodeOf(a), ErrorCode::kNotFound);
  EXPECT_EQ(ErrorCodeOf(b), ErrorCode::kNoPartition);
  EXPECT_EQ(ErrorCodeOf(c), ErrorCode::kNoTable);
}

TEST(Status, ToStringShowsTheCodeInWords) {
  // Users log statuses: the payload must read as text, never as raw bytes.
  for (const CodeCase& c : AllCodes()) {
    const std::string text = MakeError(c.code, "boom").ToString();
    EXPECT_EQ(text.find("\\x"), std::string::npos) << text;
    for (char ch : text) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << text;
  }
  EXPECT_NE(MakeError(ErrorCode::kNoPartition, "boom").ToString().find("rcustate.code='no_partition'"),
            std::string::npos)
      << MakeError(ErrorCode::kNoPartition, "boom").ToString();
}

TEST(Status, OkIsOk) {
  EXPECT_TRUE(MakeError(ErrorCode::kOk, "ignored").ok());
  EXPECT_EQ(ErrorCodeOf(absl::OkStatus()), ErrorCode::kOk);
  EXPECT_EQ(ErrorCodeOf(MakeError(ErrorCode::kOk, "ignored")), ErrorCode::kOk);
}

TEST(Status, EmptyMessageIsAllowed) {
  absl::Status s = MakeError(ErrorCode::kRange, "");
  EXPECT_EQ(ErrorCodeOf(s), ErrorCode::kRange);
  EXPECT_EQ(s.message(), "");
}

TEST(Status, ForeignStatusesAreInternal) {
  // Statuses rcustate did not create carry no precise code: kInternal.
  EXPECT_EQ(ErrorCodeOf(absl::NotFoundError("x")), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeOf(absl::FailedPreconditionError("x")), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeOf(absl::AlreadyExistsError("x")), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeOf(absl::OutOfRangeError("x")), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeOf(absl::UnavailableError("x")), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeOf(absl::DataLossError("x")), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeOf(absl::CancelledError("x")), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeOf(absl::UnknownError("x")), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeOf(absl::InternalError("x")), ErrorCode::kInternal);
}

TEST(Status, ForeignInvalidArgumentAndResourceExhaustedKeepTheirMeaning) {
  // Not in status.hpp's comment, but what errors.cpp does and what a user
  // MergeOperator::Validate returning absl::InvalidArgumentError relies on:
  // the two absl codes with exactly one rcustate counterpart map onto it.
  EXPECT_EQ(ErrorCodeOf(absl::InvalidArgumentError("x")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(absl::ResourceExhaustedError("x")), ErrorCode::kNoMemory);
}

TEST(Status, ForgedOrDamagedPayloadIsNotTrusted) {
  auto with_payload = [](absl::StatusCode code, std::string payload) {
    absl::Status s(code, "forged");
    s.SetPayload("rcustate.code", absl::Cord(std::move(payload)));
    return s;
  };
  // Unknown names, raw code bytes and near misses fall back to the absl code.
  for (const std::string& forged :
       {std::string(1, '\0'), std::string(1, '\x04'), std::string(1, '\x7f'),
        std::string(1, '\xff'), std::string(), std::string("no_partition "),
        std::string("NO_PARTITION"), std::string("no_partitionx"), std::string("no_part")}) {
    EXPECT_EQ(ErrorCodeOf(with_payload(absl::StatusCode::kNotFound, forged)), ErrorCode::kInternal)
        << absl::CHexEscape(forged);
  }
  // A status whose payload was copied from a real rcustate error keeps it.
  absl::Status real = MakeError(ErrorCode::kExists, "x");
  absl::Status rewrapped(absl::StatusCode::kUnknown, "rewrapped");
  rewrapped.SetPayload("rcustate.code", *real.GetPayload("rcustate.code"));
  EXPECT_EQ(ErrorCodeOf(rewrapped), ErrorCode::kExists);
}

}  // namespace
}  // namespace rcustate
