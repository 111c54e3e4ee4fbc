/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sandbox.h - the front's seccomp allow-list.
 *
 * SECURITY: loaded last, after the chroot and the privilege drop and
 * before the front reports ready or reads a client byte. Any system call
 * not on the list kills the front (SIGSYS); the parent logs it and starts
 * a new one. Failure to load is fatal.
 */
#ifndef SASLD_SANDBOX_H
#define SASLD_SANDBOX_H

/* Install the filter in the calling (front) process. fatal() on error. */
void sandbox_front(void);

#endif
