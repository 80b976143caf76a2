// SPDX-License-Identifier: LGPL-2.1-or-later
// File: test/fault/sweep.hpp
//
// What the steps of the fault-injection sweep share: the scenario's context,
// the step type, and the calls and checks every step is made of (sweep.cpp).
#ifndef RCUSTATE_TEST_FAULT_SWEEP_HPP_
#define RCUSTATE_TEST_FAULT_SWEEP_HPP_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fault/model.hpp"
#include "rcustate/rcustate.h"
#include "rcustate/rcustate.hpp"

namespace rcustate::testing::fault {

// ---------------------------------------------------------------- the context

// What one child's scenario holds. The main partition is kP; the model keeps
// every committed version of it (history[v] is version v) and what the
// writer thread sees (committed plus its uncommitted delta).
inline constexpr uint32_t kP = 1;

struct Ctx {
  Log log;
  bool c_api = false;
  bool group = false;   // group commit (max_publish_delay > 0)
  int64_t attempt = 0;  // makes fresh keys and partition ids
  bool threw = false;   // the last armed call let an exception escape

  std::vector<State> history;
  std::vector<Op> delta;  // the writer thread's uncommitted changes
  State Own() const {
    State s = history.back();
    for (const Op& op : delta) Apply(s, op);
    return s;
  }

  // C++ API
  std::unique_ptr<Store> store;
  std::optional<WriteBatch> batch;
  std::vector<Op> batch_ops;
  PinnedSnapshot pin;
  TableReader reader;
  // C ABI
  rcs_store* cs = nullptr;
  rcs_batch* cbatch = nullptr;
  rcs_snapshot* csnap = nullptr;
};

struct Step {
  std::string name;
  // Cannot report an error (destructor, void function): may terminate with
  // "rcustate: fatal:" instead.
  bool may_terminate;
  std::function<bool(Ctx&, int64_t)> run;  // n == 0: disarmed
};

// The steps of the C++ API scenario and of the C ABI one, in order.
std::vector<Step> CppSteps();
std::vector<Step> CSteps();

// ---- building blocks of the steps (sweep.cpp)

std::string Key(const Ctx& c, const char* prefix, int i);
std::string Value(const Ctx& c, int i);
int Scaled(int count);
// Runs fn with the nth allocation of this thread failing (n == 0: disarmed)
// and returns whether the failure was injected. An exception that escapes
// the library is a failure (the API reports errors as a Status), except a
// std::bad_alloc from a call with no error channel when bad_alloc_allowed.
bool Armed(Ctx& c, int64_t n, const std::function<void()>& fn, bool bad_alloc_allowed = false);
// The result of an armed call: OK, or kNoMemory / RCS_ENOMEM after an
// injected failure.
void ExpectOkOrNoMemory(Ctx& c, const absl::Status& s, bool fired, const char* call);
void ExpectCOkOrNoMemory(Ctx& c, int rc, bool fired, const char* call);
// Fatal if the calling thread is still inside a read section.
void CheckNoReadSection(Ctx& c);
// Everything checked after an armed call: no read section open, the
// published version whole, the writer's own view as the model says, and the
// probe on another thread (no lock held, no grace period blocked).
void CheckAfter(Ctx& c, const char* when);
absl::Status DoBatch(Ctx& c, const Op& op);
int DoCBatch(Ctx& c, const Op& op);
// Applies ops to the thread delta with the nth allocation failing, checks,
// then applies the rest disarmed.
bool DeltaOps(Ctx& c, int64_t n, const std::vector<Op>& ops);
std::vector<Op> Puts(Ctx& c, int count);
std::vector<Op> Merges(Ctx& c, int count);
std::vector<Op> Erases(Ctx& c, int count);
// Commits the thread delta with the nth allocation failing; checks it is
// all or nothing; commits disarmed if it failed.
bool CommitDelta(Ctx& c, int64_t n);
void OpenCpp(Ctx& c, std::unique_ptr<Store>& out, int64_t n, bool* fired);
void OpenC(Ctx& c, rcs_store** out, int64_t n, bool* fired);
// Opens a second store with one committed partition and closes (or, C++
// only, destroys) it with the nth allocation failing.
bool CloseStep(Ctx& c, int64_t n, bool destroy);

}  // namespace rcustate::testing::fault

#endif  // RCUSTATE_TEST_FAULT_SWEEP_HPP_
