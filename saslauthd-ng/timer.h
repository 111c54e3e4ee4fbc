/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timer.h - deadlines for the front's event loop: a binary min-heap of
 * embedded struct timer, O(log n) arm/cancel, O(1) peek at the earliest.
 *
 * SECURITY: every connection and worker has a deadline here; a client can
 * add at most one timer per connection, and connections are capped.
 */
#ifndef SASLD_TIMER_H
#define SASLD_TIMER_H

#include <stddef.h>
#include <stdint.h>

struct timer;
typedef void (*timer_fn)(struct timer *);

struct timer {
	uint64_t when; /* monotonic ms */
	size_t idx; /* position in the heap + 1; 0 = not armed */
	timer_fn fn;
};

struct timer_heap {
	struct timer **v;
	size_t n, cap;
};

/* Milliseconds from CLOCK_MONOTONIC. */
uint64_t timer_now(void);
/* Arm t (or move it if armed) to fire at when. Returns 0 or -1 (ENOMEM). */
int
timer_set(struct timer_heap *h, struct timer *t, uint64_t when, timer_fn fn);
/* Disarm t if armed. */
void timer_cancel(struct timer_heap *h, struct timer *t);
/* The earliest armed timer, or NULL. */
struct timer *timer_peek(const struct timer_heap *h);
/* Fire, in order, every timer due at now; each is disarmed before its fn. */
void timer_run(struct timer_heap *h, uint64_t now);
/* ms until the earliest timer (0 if due), or -1 when none: epoll timeout. */
int timer_timeout(const struct timer_heap *h, uint64_t now);
void timer_heap_free(struct timer_heap *h);

#endif
