/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool.h - the front's view of the PAM workers: which are idle, which check
 * which check, each check's deadline, and the queue of waiting
 * checks. The parent spawns and kills the processes; the front only holds
 * their sockets.
 *
 * SECURITY: a worker's frames are checked against an allow-list and
 * decoded strictly; a worker that sends anything else is cut off and
 * killed, never trusted again. A worker's answer applies only to the
 * request id it was given.
 */
#ifndef SASLD_POOL_H
#define SASLD_POOL_H

#include <stdint.h>

#include "front.h"
#include "ipc.h"

void pool_init(struct loop *lp);
/* A new worker from the parent (IPC_PARENT_WORKER). Takes fd. */
void pool_add(const struct ipc_worker *w, int fd);
/*
 * Queue ch, or hand it to an idle worker at once. The caller has set
 * kind, owner, deadline and pam_deadline, and armed ch->timer for the
 * queue deadline (the pool cancels it on dispatch).
 */
void pool_submit(struct check *ch);
/* ch's owner is going away: forget ch (its worker's answer is dropped);
 * also cancels ch->timer. No effect on a CHECK_IDLE check. */
void pool_cancel(struct check *ch);
/* epoll events on a worker socket. */
void pool_event(struct evsrc *ev, uint32_t events);
/* Retire every worker as soon as it is idle (SIGHUP). */
void pool_recycle(void);
/* Number of checks queued or running. */
unsigned pool_pending(void);
void pool_stats(void);
void pool_shutdown(void);

#endif
