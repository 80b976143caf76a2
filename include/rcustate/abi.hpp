// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/abi.hpp
//
// The C++ API's binary contract. Its types hold abseil types (absl::Status,
// absl::Mutex, flat_hash_map) and its headers inline abseil code, so a
// program and librcustate must be built against the same rcustate release
// and the same abseil build. Everything in namespace `rcustate` therefore
// lives in an inline namespace named after both, e.g.
// `rcustate::v0_2_absl_debian3`: source code keeps writing `rcustate::Store`,
// while a program built against another release or another abseil fails to
// link (undefined `rcustate::v0_1_...` symbols) instead of corrupting memory
// at run time. The C ABI (rcustate.h) has no such tie: see the README's
// "Versions and compatibility".
#ifndef RCUSTATE_ABI_HPP_
#define RCUSTATE_ABI_HPP_

#include "absl/base/config.h"

// The release part; meson.build checks it against the project version.
#define RCUSTATE_CXX_ABI_RELEASE v0_2

// abseil's own inline namespace names its build (an LTS release, or a
// distribution's build of it); an abseil built without one is "noinline".
#if defined(ABSL_OPTION_USE_INLINE_NAMESPACE) && ABSL_OPTION_USE_INLINE_NAMESPACE
#define RCUSTATE_INTERNAL_ABSL_TAG ABSL_OPTION_INLINE_NAMESPACE_NAME
#else
#define RCUSTATE_INTERNAL_ABSL_TAG noinline
#endif

#define RCUSTATE_INTERNAL_ABI_JOIN2(release, absl) release##_absl_##absl
#define RCUSTATE_INTERNAL_ABI_JOIN(release, absl) RCUSTATE_INTERNAL_ABI_JOIN2(release, absl)

// The inline namespace's name, e.g. v0_2_absl_debian3.
#define RCUSTATE_CXX_ABI RCUSTATE_INTERNAL_ABI_JOIN(RCUSTATE_CXX_ABI_RELEASE, RCUSTATE_INTERNAL_ABSL_TAG)

// Opens rcustate's namespace: `namespace RCUSTATE_NAMESPACE {` or
// `namespace RCUSTATE_NAMESPACE::detail {` (C++20 nested inline namespaces).
#define RCUSTATE_NAMESPACE rcustate::inline RCUSTATE_CXX_ABI

#endif  // RCUSTATE_ABI_HPP_
