/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: src/rcu/read_side.c
 *
 * liburcu's inlined read side, compiled as C. liburcu declares its per-thread
 * reader state `thread_local` when included from C++, and GCC then reaches it
 * through a TLS wrapper call plus __tls_get_addr on every access; from C it
 * is `_Thread_local`: one __tls_get_addr call, or with the meson option
 * initial_exec_tls one %fs-relative load (then the library cannot be
 * dlopen()ed). Measured with bench/rcustate-readpath section_only: ~20 ns per
 * section from C++, 17 ns through this file, 9 ns with initial-exec.
 * rcu.hpp calls these functions; the QSBR ones likewise inline liburcu's
 * quiescent-state and online/offline paths. */
#define _LGPL_SOURCE 1
#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>

#include "src/rcu/read_side.h"

void rcustate_rcu_read_lock(void) { urcu_memb_read_lock(); }
void rcustate_rcu_read_unlock(void) { urcu_memb_read_unlock(); }
void rcustate_qsbr_quiescent_state(void) { urcu_qsbr_quiescent_state(); }
void rcustate_qsbr_thread_online(void) { urcu_qsbr_thread_online(); }
void rcustate_qsbr_thread_offline(void) { urcu_qsbr_thread_offline(); }
