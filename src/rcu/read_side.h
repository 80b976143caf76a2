/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File: src/rcu/read_side.h -- see read_side.c. Internal to the library. */
#ifndef RCUSTATE_SRC_RCU_READ_SIDE_H_
#define RCUSTATE_SRC_RCU_READ_SIDE_H_

#ifdef __cplusplus
extern "C" {
#endif

void rcustate_rcu_read_lock(void);
void rcustate_rcu_read_unlock(void);
void rcustate_qsbr_quiescent_state(void);
void rcustate_qsbr_thread_online(void);
void rcustate_qsbr_thread_offline(void);

#ifdef __cplusplus
}
#endif

#endif /* RCUSTATE_SRC_RCU_READ_SIDE_H_ */
