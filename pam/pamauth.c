/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pamauth.c - one PAM password check (see pamauth.h): pam_start for the
 * request's service and user, PAM_RHOST, a PAM_FAIL_DELAY callback that
 * reports instead of sleeping, pam_authenticate, a check that no module
 * swapped PAM_USER, pam_acct_mgmt, pam_end; PAM codes mapped onto
 * enum auth_result. Runs in the PAM worker, one check at a time.
 *
 * Module pinning: Linux-PAM's pam_start() dlopen()s every module of the
 * service's stack (and of "other"), pam_end() dlclose()s them, and most of
 * a cheap check's time went into mapping and relocating them again. So the
 * worker keeps one more handle per recent service, a pin: pam_start()ed
 * once, never authenticated with, pam_end()ed only when PAMAUTH_PINS other
 * services were used since (LRU), or when the worker has been idle for a
 * while (worker.c); the worker exits holding them. It holds a
 * reference on each module, so the check's own pam_start() finds them
 * loaded and its pam_end() does not unmap them. Every check still gets a
 * fresh handle of its own: items (PAM_USER, PAM_AUTHTOK, PAM_RHOST) and
 * pam_set_data() state die with it, as before. What now outlives a check
 * is a module's global variables, which the Linux-PAM Module Writers'
 * Guide tells modules not to keep per-transaction state in (an
 * application may hold several handles at once), and which lived in this
 * process anyway for modules that stay loaded (NODELETE, or a library the
 * worker links). The service file itself is read again by every
 * pam_start(), so an edited stack applies at the next check; a module
 * file replaced on disk applies when the worker is recycled
 * (--max-requests, or HUP).
 *
 * SECURITY: runs as root, inside whatever modules the service file loads.
 * The strings come from the front through a checked frame; the password is
 * only handed out as strdup'd conversation replies, which PAM owns and
 * frees, and replies built before a conversation error are wiped here.
 * Module messages are logged at debug, sanitized; the password never is.
 */
#include <security/pam_appl.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pamauth.h"

/* Longest module message kept in a debug line (PAM_MAX_MSG_SIZE is 512). */
#define PAMAUTH_LOG_MSG 200

/* Reply to a check that never reached PAM. */
#define PAMAUTH_NOT_STARTED PAM_SYSTEM_ERR

/* Services whose modules a worker keeps loaded; the least recently used
 * one is let go for a new one. A client chooses the service name, so the
 * number is bounded. */
#define PAMAUTH_PINS 8

/* Untrusted strings in a debug line are cut to this. */
#define PAMAUTH_LOG_FIELD 128

struct pamauth_ctx {
	const struct pamauth_req *req;
	struct ipc_auth_res *res;
};

/*
 * The check in progress, for pamauth_delay(). Linux-PAM hands the delay
 * function the appdata_ptr of whatever PAM_CONV item is current, and a
 * module may have replaced ours, so the callback ignores its argument. The
 * worker is single-threaded and runs one check at a time.
 */
static struct pamauth_ctx *pamauth_active = NULL;

/* A pin: a handle that only holds the modules of service loaded. */
struct pamauth_pin {
	pam_handle_t *pamh; /* NULL: a free slot */
	char *service;
	uint64_t used; /* pamauth_tick when last wanted */
};

static struct pamauth_pin pamauth_pins[PAMAUTH_PINS];
static uint64_t pamauth_tick;

static void
pamauth_free_replies(struct pam_response *reply, int n)
{
	int i;

	if (reply == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (reply[i].resp == NULL)
			continue;
		explicit_bzero(reply[i].resp, strlen(reply[i].resp));
		free(reply[i].resp);
	}
	free(reply);
}

/*
 * Echo-off prompts get the password (every one of them, as Cyrus does),
 * echo-on prompts the login (a module asking for the user name), messages
 * are logged; any other style fails the conversation, since there is no
 * one to ask.
 */
static int
pamauth_conv(int num_msg, const struct pam_message **msg,
    struct pam_response **ret_resp, void *appdata_ptr)
{
	const struct pamauth_ctx *ctx = appdata_ptr;
	struct pam_response *reply = NULL;
	const char *text = NULL;
	char line[PAMAUTH_LOG_MSG];
	int i, rc = PAM_CONV_ERR;

	if (ret_resp == NULL)
		return PAM_CONV_ERR;
	*ret_resp = NULL;
	if (ctx == NULL || msg == NULL || num_msg < 1 ||
	    num_msg > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((reply = calloc((size_t)num_msg, sizeof(*reply))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < num_msg; i++) {
		if (msg[i] == NULL)
			goto out;
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			reply[i].resp = strdup(ctx->req->password);
			if (reply[i].resp == NULL) {
				rc = PAM_BUF_ERR;
				goto out;
			}
			break;
		case PAM_PROMPT_ECHO_ON:
			reply[i].resp = strdup(ctx->req->login);
			if (reply[i].resp == NULL) {
				rc = PAM_BUF_ERR;
				goto out;
			}
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			text = msg[i]->msg != NULL ? msg[i]->msg : "";
			log_debug("pam %s message: \"%s\"",
			    msg[i]->msg_style == PAM_ERROR_MSG ? "error"
							       : "info",
			    log_sanitize(line, sizeof(line), text,
				strnlen(text, PAM_MAX_MSG_SIZE)));
			break;
		default:
			log_debug("pam conversation: unsupported style %d",
			    msg[i]->msg_style);
			goto out;
		}
	}
	*ret_resp = reply;
	reply = NULL;
	rc = PAM_SUCCESS;
out:
	pamauth_free_replies(reply, num_msg);
	return rc;
}

/*
 * PAM_FAIL_DELAY: Linux-PAM calls this at the end of every
 * pam_authenticate() instead of sleeping. The front applies the delay with
 * a timer, so a failure does not hold this worker for pam_unix's 2 s.
 */
static void
pamauth_delay(int status, unsigned int usec, void *appdata_ptr)
{
	(void)appdata_ptr;
	if (pamauth_active == NULL || status == PAM_SUCCESS)
		return;
	if (usec > pamauth_active->res->delay_us)
		pamauth_active->res->delay_us = usec;
}

/* A pin never authenticates: no module may talk through it. */
static int
pamauth_pin_conv(int num_msg, const struct pam_message **msg,
    struct pam_response **ret_resp, void *appdata_ptr)
{
	(void)num_msg;
	(void)msg;
	(void)appdata_ptr;
	if (ret_resp != NULL)
		*ret_resp = NULL;
	return PAM_CONV_ERR;
}

static void
pamauth_unpin(struct pamauth_pin *pin)
{
	char name[PAMAUTH_LOG_FIELD];

	log_debug("PAM service \"%s\": modules unpinned",
	    log_sanitize(
		name, sizeof(name), pin->service, strlen(pin->service)));
	(void)pam_end(pin->pamh, PAM_SUCCESS);
	free(pin->service);
	pin->pamh = NULL;
	pin->service = NULL;
	pin->used = 0;
}

/*
 * Keep service's modules loaded (see the top of this file). A new pin is
 * started before the least recently used one is ended, so the modules the
 * two share (those of "other") stay loaded. On any error the check simply
 * runs unpinned.
 */
static void
pamauth_pin(const char *service)
{
	static const struct pam_conv conv = {pamauth_pin_conv, NULL};
	struct pamauth_pin *pin, *victim = &pamauth_pins[0];
	pam_handle_t *pamh = NULL;
	char name[PAMAUTH_LOG_FIELD], *copy = NULL;
	size_t i, n = 0;
	int rc;

	pamauth_tick++;
	for (i = 0; i < PAMAUTH_PINS; i++) {
		pin = &pamauth_pins[i];
		if (pin->pamh != NULL && strcmp(pin->service, service) == 0) {
			pin->used = pamauth_tick;
			return;
		}
		if (pin->pamh != NULL)
			n++;
		if (pin->used < victim->used)
			victim = pin;
	}
	(void)log_sanitize(name, sizeof(name), service, strlen(service));
	if ((copy = strdup(service)) == NULL) {
		log_warn("PAM service \"%s\": cannot pin its modules", name);
		return;
	}
	rc = pam_start(service, NULL, &conv, &pamh);
	if (rc != PAM_SUCCESS) {
		log_debug("PAM service \"%s\": cannot pin its modules: %s",
		    name, pam_strerror(NULL, rc));
		free(copy);
		return;
	}
	if (victim->pamh != NULL) {
		pamauth_unpin(victim);
		n--;
	}
	victim->pamh = pamh;
	victim->service = copy;
	victim->used = pamauth_tick;
	log_debug("PAM service \"%s\": modules pinned (%zu of %d services)",
	    name, n + 1, PAMAUTH_PINS);
}

int
pamauth_pinned(void)
{
	size_t i;

	for (i = 0; i < PAMAUTH_PINS; i++)
		if (pamauth_pins[i].pamh != NULL)
			return 1;
	return 0;
}

void
pamauth_unpin_all(void)
{
	size_t i;

	for (i = 0; i < PAMAUTH_PINS; i++)
		if (pamauth_pins[i].pamh != NULL)
			pamauth_unpin(&pamauth_pins[i]);
}

/*
 * Temporary conditions: the backend or the system, not the credentials,
 * failed (OpenSMTPD's set, plus out of memory). PAM_CONV_ERR is not among
 * them: the stack wants an answer this protocol cannot give (a binary
 * prompt, too many messages), which no retry will fix.
 */
static int
pamauth_tempfail(int rc)
{
	switch (rc) {
	case PAM_AUTHINFO_UNAVAIL:
	case PAM_SYSTEM_ERR:
	case PAM_BUF_ERR:
	case PAM_ABORT:
		return 1;
	default:
		return 0;
	}
}

static void
pamauth_set(struct ipc_auth_res *res, enum auth_result result, int rc,
    const char *call, const char *why)
{
	res->result = result;
	res->pam_rc = rc;
	(void)snprintf(res->reason, sizeof(res->reason), "%s: %s", call,
	    why != NULL ? why : "unknown error");
}

/* Record failure rc of call; a temporary condition wins over result. */
static void
pamauth_fail(struct ipc_auth_res *res, enum auth_result result,
    pam_handle_t *pamh, const char *call, int rc)
{
	if (result != AUTH_FAIL_START && pamauth_tempfail(rc))
		result = AUTH_TEMPFAIL;
	pamauth_set(res, result, rc, call, pam_strerror(pamh, rc));
}

/*
 * A module may set PAM_USER to another account (OpenSSH's check_pam_user):
 * success would then be for someone other than the login that the front
 * caches and reports, so it is refused.
 */
static int
pamauth_same_user(pam_handle_t *pamh, const char *login)
{
	const void *item = NULL;

	if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || item == NULL)
		return 0;
	return strcmp((const char *)item, login) == 0;
}

enum auth_result
pamauth_verify(const struct pamauth_req *req, struct ipc_auth_res *ret_res)
{
	struct pamauth_ctx ctx;
	struct pam_conv conv;
	pam_handle_t *pamh = NULL;
	int rc = PAMAUTH_NOT_STARTED;

	/* Fail closed: AUTH_OK is 0, so a zeroed result would be a yes. */
	memset(ret_res, 0, sizeof(*ret_res));
	ret_res->result = AUTH_FAIL;
	ctx.req = req;
	ctx.res = ret_res;
	conv.conv = pamauth_conv;
	conv.appdata_ptr = &ctx;

	/* The front rejects these already; PAM must never see them. */
	if (req->login[0] == '\0' || req->password[0] == '\0') {
		pamauth_set(ret_res, AUTH_FAIL, PAM_AUTH_ERR, "request",
		    "empty login or password");
		goto out;
	}
	/*
	 * Linux-PAM would quietly use the part after the last '/' ("x/sshd"
	 * is sshd): refuse it. An empty service is left to PAM, which falls
	 * back to /etc/pam.d/other, as it does under Cyrus.
	 */
	if (strchr(req->service, '/') != NULL) {
		pamauth_set(ret_res, AUTH_FAIL_START, PAMAUTH_NOT_STARTED,
		    "pam_start", "'/' in service name");
		goto out;
	}

	pamauth_pin(req->service);
	rc = pam_start(req->service, req->login, &conv, &pamh);
	if (rc != PAM_SUCCESS) {
		/* Linux-PAM has freed the handle and set it to NULL. */
		pamh = NULL;
		pamauth_fail(ret_res, AUTH_FAIL_START, NULL, "pam_start", rc);
		goto out;
	}
	pamauth_active = &ctx;
	if (req->rhost[0] != '\0') {
		rc = pam_set_item(pamh, PAM_RHOST, req->rhost);
		if (rc != PAM_SUCCESS) {
			pamauth_set(ret_res, AUTH_TEMPFAIL, rc,
			    "pam_set_item(PAM_RHOST)", pam_strerror(pamh, rc));
			goto out;
		}
	}
	rc = pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)pamauth_delay);
	if (rc != PAM_SUCCESS) {
		pamauth_set(ret_res, AUTH_TEMPFAIL, rc,
		    "pam_set_item(PAM_FAIL_DELAY)", pam_strerror(pamh, rc));
		goto out;
	}

	rc = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc != PAM_SUCCESS) {
		pamauth_fail(ret_res, AUTH_FAIL, pamh, "pam_authenticate", rc);
		goto out;
	}
	if (!pamauth_same_user(pamh, req->login)) {
		rc = PAM_USER_UNKNOWN;
		pamauth_set(ret_res, AUTH_FAIL, rc, "pam_authenticate",
		    "PAM_USER changed by a module");
		goto out;
	}

	/* Includes PAM_NEW_AUTHTOK_REQD: an expired password is refused. */
	rc = pam_acct_mgmt(pamh, PAM_SILENT);
	if (rc != PAM_SUCCESS) {
		pamauth_fail(
		    ret_res, AUTH_FAIL_ACCT, pamh, "pam_acct_mgmt", rc);
		goto out;
	}
	if (!pamauth_same_user(pamh, req->login)) {
		rc = PAM_USER_UNKNOWN;
		pamauth_set(ret_res, AUTH_FAIL_ACCT, rc, "pam_acct_mgmt",
		    "PAM_USER changed by a module");
		goto out;
	}

	ret_res->result = AUTH_OK;
	ret_res->pam_rc = PAM_SUCCESS;
	ret_res->reason[0] = '\0';
out:
	if (pamh != NULL)
		(void)pam_end(pamh, rc);
	pamauth_active = NULL;
	return ret_res->result;
}
