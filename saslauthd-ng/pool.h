/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool.h - the front's view of the PAM workers: which are idle, which check
 * which connection, each check's deadline, and the queue of waiting
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
/* Queue c's check, or hand it to an idle worker at once. */
void pool_submit(struct conn *c);
/* c is going away: forget it (its worker's answer will be dropped). */
void pool_cancel(struct conn *c);
/* epoll events on a worker socket. */
void pool_event(struct evsrc *ev, uint32_t events);
/* Retire every worker as soon as it is idle (SIGHUP). */
void pool_recycle(void);
/* Number of checks queued or running. */
unsigned pool_pending(void);
void pool_stats(void);
void pool_shutdown(void);

#endif
