/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timer.c - a min-heap of deadlines for the front (see timer.h).
 *
 * SECURITY: pure data structure; no input, no privilege.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "timer.h"

#define TIMER_MAX_WAIT_MS 60000 /* wake at least this often */

uint64_t
timer_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
place(struct timer_heap *h, size_t i, struct timer *t)
{
	h->v[i] = t;
	t->idx = i + 1;
}

static void
sift_up(struct timer_heap *h, size_t i)
{
	struct timer *t = h->v[i];
	size_t p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (h->v[p]->when <= t->when)
			break;
		place(h, i, h->v[p]);
		i = p;
	}
	place(h, i, t);
}

static void
sift_down(struct timer_heap *h, size_t i)
{
	struct timer *t = h->v[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->when < h->v[c]->when)
			c++;
		if (t->when <= h->v[c]->when)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, t);
}

int
timer_set(struct timer_heap *h, struct timer *t, uint64_t when, timer_fn fn)
{
	struct timer **nv = NULL;
	size_t ncap;

	t->fn = fn;
	if (t->idx != 0) {
		t->when = when;
		sift_up(h, t->idx - 1);
		sift_down(h, t->idx - 1);
		return 0;
	}
	if (h->n == h->cap) {
		ncap = h->cap == 0 ? 64 : h->cap * 2;
		nv = reallocarray(h->v, ncap, sizeof(*nv));
		if (nv == NULL) {
			errno = ENOMEM;
			return -1;
		}
		h->v = nv;
		h->cap = ncap;
	}
	t->when = when;
	place(h, h->n++, t);
	sift_up(h, h->n - 1);
	return 0;
}

void
timer_cancel(struct timer_heap *h, struct timer *t)
{
	size_t i;
	struct timer *last;

	if (t->idx == 0)
		return;
	i = t->idx - 1;
	t->idx = 0;
	last = h->v[--h->n];
	if (i == h->n)
		return;
	place(h, i, last);
	sift_up(h, i);
	sift_down(h, last->idx - 1);
}

struct timer *
timer_peek(const struct timer_heap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

void
timer_run(struct timer_heap *h, uint64_t now)
{
	struct timer *t;

	while ((t = timer_peek(h)) != NULL && t->when <= now) {
		timer_cancel(h, t);
		t->fn(t);
	}
}

int
timer_timeout(const struct timer_heap *h, uint64_t now)
{
	struct timer *t = timer_peek(h);

	if (t == NULL)
		return -1;
	if (t->when <= now)
		return 0;
	if (t->when - now > TIMER_MAX_WAIT_MS)
		return TIMER_MAX_WAIT_MS;
	return (int)(t->when - now);
}

void
timer_heap_free(struct timer_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
