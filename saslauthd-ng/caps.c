/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * caps.c - capability sets as 64-bit masks over libcap (see caps.h): name
 * parsing for --worker-caps, and the one reduction both the parent and the
 * PAM worker perform (securebits, bounding set, ambient set, then the
 * process sets), followed by a read-back that must match.
 *
 * SECURITY: runs as root in the parent and in each worker, before either
 * touches anything another process sent. The only input is root's command
 * line. Any step that fails, or a result that differs from the request, is
 * reported to the caller, which exits.
 */
#include <sys/capability.h>
#include <sys/prctl.h>

#include <ctype.h>
#include <errno.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "caps.h"

/* Longest capability name libcap knows is cap_checkpoint_restore. */
#define CAPS_NAME_MAX 64
/* Masks are 64 bits; capabilities(7) numbers stay well below. */
#define CAPS_MASK_BITS 64

static int
caps_last(void)
{
	int n = (int)cap_max_bits();

	return n > CAPS_MASK_BITS ? CAPS_MASK_BITS : n;
}

static void
caps_copy_bad(char *bad, size_t badsz, const char *s, size_t len)
{
	if (badsz == 0)
		return;
	if (len >= badsz)
		len = badsz - 1;
	memcpy(bad, s, len);
	bad[len] = '\0';
}

int
caps_parse(const char *text, uint64_t *ret_mask, char *bad, size_t badsz)
{
	char name[CAPS_NAME_MAX + 1];
	const char *p = text, *end;
	cap_value_t cap;
	uint64_t mask = 0;
	size_t len;

	if (strcasecmp(text, "none") == 0) {
		*ret_mask = 0;
		return 0;
	}
	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		/* Names only: libcap would also take "29", which says
		 * nothing to whoever reads the unit file. */
		if (len == 0 || len > CAPS_NAME_MAX ||
		    isdigit((unsigned char)p[0])) {
			caps_copy_bad(bad, badsz, p, len);
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		if (cap_from_name(name, &cap) == -1 || cap < 0 ||
		    cap >= caps_last()) {
			caps_copy_bad(bad, badsz, p, len);
			return -1;
		}
		mask |= CAPS_BIT(cap);
		if (end == NULL)
			break;
		p = end + 1;
	}
	*ret_mask = mask;
	return 0;
}

const char *
caps_format(uint64_t mask, char *buf, size_t bufsz)
{
	size_t off = 0;
	char *name;
	int cap, n;

	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	if (mask == 0) {
		(void)snprintf(buf, bufsz, "none");
		return buf;
	}
	for (cap = 0; cap < CAPS_MASK_BITS; cap++) {
		if (!(mask & CAPS_BIT(cap)))
			continue;
		if ((name = cap_to_name((cap_value_t)cap)) == NULL)
			break;
		n = snprintf(
		    buf + off, bufsz - off, "%s%s", off > 0 ? "," : "", name);
		cap_free(name);
		if (n < 0 || (size_t)n >= bufsz - off)
			break; /* truncated: still NUL-terminated */
		off += (size_t)n;
	}
	return buf;
}

static uint64_t
caps_mask_of(cap_t c, cap_flag_t flag)
{
	cap_flag_value_t v;
	uint64_t mask = 0;
	int cap;

	for (cap = 0; cap < caps_last(); cap++)
		if (cap_get_flag(c, (cap_value_t)cap, flag, &v) == 0 &&
		    v == CAP_SET)
			mask |= CAPS_BIT(cap);
	return mask;
}

static uint64_t
caps_bounding(void)
{
	uint64_t mask = 0;
	int cap;

	for (cap = 0; cap < caps_last(); cap++)
		if (cap_get_bound((cap_value_t)cap) == 1)
			mask |= CAPS_BIT(cap);
	return mask;
}

static uint64_t
caps_ambient(void)
{
	uint64_t mask = 0;
	int cap;

	for (cap = 0; cap < caps_last(); cap++)
		if (cap_get_ambient((cap_value_t)cap) == 1)
			mask |= CAPS_BIT(cap);
	return mask;
}

int
caps_current(uint64_t *ret_permitted, uint64_t *ret_bounding)
{
	cap_t c;

	if ((c = cap_get_proc()) == NULL)
		return -1;
	*ret_permitted = caps_mask_of(c, CAP_PERMITTED);
	*ret_bounding = caps_bounding();
	(void)cap_free(c);
	return 0;
}

static int
caps_set_mask(cap_t c, cap_flag_t flag, uint64_t mask)
{
	cap_value_t one;
	int cap;

	for (cap = 0; cap < caps_last(); cap++) {
		if (!(mask & CAPS_BIT(cap)))
			continue;
		one = (cap_value_t)cap;
		if (cap_set_flag(c, flag, 1, &one, CAP_SET) == -1)
			return -1;
	}
	return 0;
}

int
caps_restrict(uint64_t effective, uint64_t permitted, uint64_t bound, int flags)
{
	const unsigned noroot = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
	    SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	cap_t c = NULL;
	int cap, rc = -1, saved;

	if ((effective & ~permitted) != 0 || (permitted & ~bound) != 0) {
		errno = EINVAL;
		return -1;
	}
	/* Securebits and the bounding set need CAP_SETPCAP, which the
	 * last step may take away: in this order. */
	if ((flags & CAPS_NOROOT) &&
	    cap_set_secbits(cap_get_secbits() | noroot) == -1)
		return -1;
	for (cap = 0; cap < caps_last(); cap++)
		if (!(bound & CAPS_BIT(cap)) &&
		    cap_get_bound((cap_value_t)cap) == 1 &&
		    cap_drop_bound((cap_value_t)cap) == -1)
			return -1;
	/* EINVAL: a kernel without ambient capabilities has none to clear. */
	if (cap_reset_ambient() == -1 && errno != EINVAL)
		return -1;
	if ((c = cap_init()) == NULL)
		return -1;
	if (caps_set_mask(c, CAP_PERMITTED, permitted) == -1 ||
	    caps_set_mask(c, CAP_EFFECTIVE, effective) == -1 ||
	    cap_set_proc(c) == -1)
		goto out;
	(void)cap_free(c);
	/* Read back what the kernel holds now. */
	if ((c = cap_get_proc()) == NULL)
		return -1;
	if (caps_mask_of(c, CAP_PERMITTED) != permitted ||
	    caps_mask_of(c, CAP_EFFECTIVE) != effective ||
	    caps_mask_of(c, CAP_INHERITABLE) != 0 || caps_bounding() != bound ||
	    caps_ambient() != 0 ||
	    ((flags & CAPS_NOROOT) && (cap_get_secbits() & noroot) != noroot)) {
		errno = EPERM;
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	(void)cap_free(c);
	errno = saved;
	return rc;
}
