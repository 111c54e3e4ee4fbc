/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * caps.h - capability sets through libcap, for the parent (its own set and
 * bounding set) and the PAM worker (the --worker-caps set). The front does
 * not use this: it gives up every capability by changing uid.
 *
 * SECURITY: runs as root in the parent and in each worker before it reads
 * a frame. A set that cannot be reached exactly is an error, never a
 * warning: callers exit.
 */
#ifndef SASLD_CAPS_H
#define SASLD_CAPS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The PAM workers' default set (README "Security model"). libpam (Debian
 * builds it with libaudit) sends the kernel an audit record for every
 * pam_authenticate and pam_acct_mgmt, as it does for sshd or login; without
 * CAP_AUDIT_WRITE the kernel refuses it (EPERM) and libpam drops it
 * silently, so with auditd running these logins would be missing from the
 * audit trail. pam_faillock writes one more when it locks an account.
 * Nothing else: pam_unix, pam_faillock, pam_sss and pam_ldap reach the
 * root-owned files they use through the owner bits of uid 0.
 */
#define CAPS_WORKER_DEFAULT "cap_audit_write"
#define CAPS_TEXT_MAX 1024 /* every capability name, comma-separated */

/* Bit n of a mask is capability n (capabilities(7) numbers, < 64). */
#define CAPS_BIT(cap) ((uint64_t)1 << (cap))

/* caps_restrict() flags */
#define CAPS_NOROOT 0x1 /* lock SECBIT_NOROOT and no ambient raising */

/*
 * Parse a comma-separated list of names as capabilities(7) spells them
 * (cap_audit_write, any case; "none" for the empty set) into
 * *ret_mask. Returns 0, or -1 with the offending name copied into bad.
 */
int caps_parse(const char *text, uint64_t *ret_mask, char *bad, size_t badsz);

/* The canonical text of mask ("cap_a,cap_b" or "none") in buf. */
const char *caps_format(uint64_t mask, char *buf, size_t bufsz);

/* This process's permitted and bounding sets. Returns 0 or -1. */
int caps_current(uint64_t *ret_permitted, uint64_t *ret_bounding);

/*
 * Reduce this process to: bounding set = bound, permitted = permitted and
 * effective = effective (each a subset of the next), inheritable and
 * ambient empty; with CAPS_NOROOT, first lock SECBIT_NOROOT and
 * SECBIT_NO_CAP_AMBIENT_RAISE so that nothing it executes gains
 * capabilities from uid 0. Needs CAP_SETPCAP in the current set whenever
 * the bounding set shrinks. Verifies the result. Returns 0, or -1 with
 * errno set.
 */
int caps_restrict(
    uint64_t effective, uint64_t permitted, uint64_t bound, int flags);

#endif
