/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pamauth.h - one PAM password check: pam_start .. pam_authenticate ..
 * pam_acct_mgmt .. pam_end, with a bounded conversation function.
 * Runs only in the PAM worker (saslauthd-ng-pam).
 *
 * SECURITY: the request comes from the front over a checked frame; the
 * password is borrowed, never copied except into the replies PAM asks for
 * (which PAM owns and frees), and never logged. The caller owns and wipes
 * the request buffers.
 */
#ifndef SASLD_PAMAUTH_H
#define SASLD_PAMAUTH_H

#include "ipc.h"

/* One check. All strings are NUL-terminated and borrowed from the caller. */
struct pamauth_req {
	const char *login; /* PAM user; after -r already login@realm */
	const char *password; /* answered to every echo-off prompt */
	const char *service; /* PAM service name, e.g. "smtp" */
	const char *rhost; /* PAM_RHOST; "" means unknown: not set */
};

/*
 * Authenticate req through PAM and check the account. Fills *ret_res
 * completely (result, pam_rc and reason of the failing call, delay_us a
 * module asked for through pam_fail_delay(), which is reported here and
 * never slept) and returns ret_res->result. Never logs the password; the
 * caller wipes req->password afterwards. Keeps the modules of the last few
 * services loaded between calls (pamauth.c: module pinning); every call
 * has a fresh PAM handle of its own.
 */
enum auth_result
pamauth_verify(const struct pamauth_req *req, struct ipc_auth_res *ret_res);

/* 1 if pamauth_verify() keeps some service's modules loaded, else 0. */
int pamauth_pinned(void);

/*
 * Let go of every service's modules (pam_end() of each pin), so that an
 * idle worker does not keep them mapped; the next check loads them anew.
 */
void pamauth_unpin_all(void);

#endif
