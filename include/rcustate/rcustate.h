/* File: rcustate/rcustate.h -- the rcustate C ABI (see docs/c-api.md). */
#ifndef RCUSTATE_RCUSTATE_H_
#define RCUSTATE_RCUSTATE_H_

#define RCS_VERSION_MAJOR 0
#define RCS_VERSION_MINOR 1
#define RCS_VERSION_PATCH 0
#define RCS_VERSION_NUMBER (RCS_VERSION_MAJOR * 10000 + RCS_VERSION_MINOR * 100 + RCS_VERSION_PATCH)

#endif /* RCUSTATE_RCUSTATE_H_ */
