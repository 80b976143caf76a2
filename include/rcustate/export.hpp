// SPDX-License-Identifier: LGPL-2.1-or-later
// File: rcustate/export.hpp
//
// The library is built with hidden symbol visibility; RCUSTATE_EXPORT marks
// the public C++ API (the version script then exports only rcs_* and
// rcustate::*).
#ifndef RCUSTATE_EXPORT_HPP_
#define RCUSTATE_EXPORT_HPP_

#define RCUSTATE_EXPORT __attribute__((visibility("default")))

#endif  // RCUSTATE_EXPORT_HPP_
