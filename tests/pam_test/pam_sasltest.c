/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pam_sasltest.c - a PAM module that misbehaves on request, so the tests
 * can show that a slow, hung, crashing or chatty PAM stack costs one
 * request and never the daemon. Loaded by absolute path from the PAM
 * service files the tests write; built with the tests, never installed.
 *
 * Arguments (any other is refused with PAM_SERVICE_ERR):
 *   checks, for every user, in the auth phase:
 *     password=SECRET   the password (PAM_AUTHTOK, else an echo-off prompt)
 *                       must equal SECRET, else PAM_AUTH_ERR
 *     rhost=EXPECTED    PAM_RHOST must equal EXPECTED; "rhost=" means it
 *                       must be unset, else PAM_AUTH_ERR
 *     fresh             the handle must be new: no PAM_AUTHTOK yet and no
 *                       data this module set in an earlier auth call,
 *                       else PAM_AUTH_ERR (list it before password=)
 *     count=TAG         one PAM_TEXT_INFO message "sasltest TAG: call N
 *                       since load", N counting this module's auth calls
 *                       since it was loaded (a static counter, which a
 *                       dlclose() that unloads the module resets)
 *   faults, only for user NAME when user_only=NAME is given:
 *     fail_delay_us=N   pam_fail_delay(N): the application's delay
 *                       callback, not a sleep, if the check then fails
 *     info[=N]          one conversation call with N (default 2) messages,
 *                       PAM_TEXT_INFO and PAM_ERROR_MSG alternating, the
 *                       latter with control characters in it
 *     echo_on           a PAM_PROMPT_ECHO_ON prompt; the answer must be
 *                       the PAM user, else PAM_AUTH_ERR
 *     echo_off          a PAM_PROMPT_ECHO_OFF prompt that is not the
 *                       password prompt ("One-time code: "); the answer
 *                       must equal password= (when given), else
 *                       PAM_AUTH_ERR
 *     leak=BYTES        malloc BYTES, touch every page, never free (a
 *                       leaking module; auth phase)
 *     binary_prompt     an echo-off prompt and a PAM_BINARY_PROMPT in one
 *                       conversation call; returns the conversation's
 *                       refusal (PAM_AUTH_ERR if it accepts)
 *     sleep_ms=N        sleep, then go on (auth and account phases)
 *     hang              sleep forever (auth and account phases)
 *     crash             raise SIGSEGV (auth and account phases)
 *     abort             abort() (auth and account phases)
 *     set_user=NAME     set PAM_USER to NAME and go on (both phases)
 *     unavail           return PAM_AUTHINFO_UNAVAIL
 *     acct_fail         account phase: PAM_ACCT_EXPIRED
 *     acct_newtok       account phase: PAM_NEW_AUTHTOK_REQD
 * With no failing check the module returns PAM_SUCCESS.
 *
 * SECURITY: test code that crashes and hangs on purpose and compares
 * passwords in variable time; it must never be installed or used outside
 * the test suite. It logs no password.
 */
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Messages sent by "info" without a count. */
#define SASLTEST_INFO_DEFAULT 2
/* Above PAM_MAX_NUM_MSG (32), so a test can overrun the conversation. */
#define SASLTEST_INFO_MAX 64
/* An hour: longer than any test deadline. */
#define SASLTEST_SLEEP_MAX 3600000UL
/* pam_fail_delay() takes an unsigned int; an hour is enough. */
#define SASLTEST_DELAY_MAX 3600000000UL
/* One leak per check; a GiB is beyond any test's worker. */
#define SASLTEST_LEAK_MAX (1UL << 30)
#define SASLTEST_PAGE 4096 /* touch this often so the leak is resident */

struct sasltest_args {
	const char *user_only;
	const char *count;
	const char *password;
	const char *rhost;
	const char *set_user;
	unsigned long sleep_ms;
	unsigned long fail_delay_us;
	unsigned long info;
	unsigned long leak;
	int echo_on;
	int echo_off;
	int fresh;
	int binary_prompt;
	int hang;
	int crash;
	int do_abort;
	int unavail;
	int acct_fail;
	int acct_newtok;
};

/* The argument's value if it starts with key (which ends in '='). */
static const char *
sasltest_value(const char *arg, const char *key)
{
	size_t n = strlen(key);

	return strncmp(arg, key, n) == 0 ? arg + n : NULL;
}

static int
sasltest_number(const char *s, unsigned long max, unsigned long *ret_v)
{
	unsigned long v;
	char *end = NULL;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*ret_v = v;
	return 0;
}

static int
sasltest_parse(
    pam_handle_t *pamh, int argc, const char **argv, struct sasltest_args *a)
{
	const char *v = NULL;
	int i, bad;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < argc; i++) {
		bad = 0;
		if ((v = sasltest_value(argv[i], "user_only=")) != NULL)
			a->user_only = v;
		else if ((v = sasltest_value(argv[i], "password=")) != NULL)
			a->password = v;
		else if ((v = sasltest_value(argv[i], "rhost=")) != NULL)
			a->rhost = v;
		else if ((v = sasltest_value(argv[i], "count=")) != NULL)
			a->count = v;
		else if ((v = sasltest_value(argv[i], "set_user=")) != NULL)
			a->set_user = v;
		else if ((v = sasltest_value(argv[i], "sleep_ms=")) != NULL)
			bad = sasltest_number(
			    v, SASLTEST_SLEEP_MAX, &a->sleep_ms);
		else if ((v = sasltest_value(argv[i], "fail_delay_us=")) !=
		    NULL)
			bad = sasltest_number(
			    v, SASLTEST_DELAY_MAX, &a->fail_delay_us);
		else if ((v = sasltest_value(argv[i], "info=")) != NULL)
			bad = sasltest_number(v, SASLTEST_INFO_MAX, &a->info);
		else if ((v = sasltest_value(argv[i], "leak=")) != NULL)
			bad = sasltest_number(v, SASLTEST_LEAK_MAX, &a->leak);
		else if (strcmp(argv[i], "info") == 0)
			a->info = SASLTEST_INFO_DEFAULT;
		else if (strcmp(argv[i], "echo_on") == 0)
			a->echo_on = 1;
		else if (strcmp(argv[i], "echo_off") == 0)
			a->echo_off = 1;
		else if (strcmp(argv[i], "fresh") == 0)
			a->fresh = 1;
		else if (strcmp(argv[i], "binary_prompt") == 0)
			a->binary_prompt = 1;
		else if (strcmp(argv[i], "hang") == 0)
			a->hang = 1;
		else if (strcmp(argv[i], "crash") == 0)
			a->crash = 1;
		else if (strcmp(argv[i], "abort") == 0)
			a->do_abort = 1;
		else if (strcmp(argv[i], "unavail") == 0)
			a->unavail = 1;
		else if (strcmp(argv[i], "acct_fail") == 0)
			a->acct_fail = 1;
		else if (strcmp(argv[i], "acct_newtok") == 0)
			a->acct_newtok = 1;
		else
			bad = -1;
		if (bad) {
			/* Test configuration, logged so a typo shows. */
			pam_syslog(
			    pamh, LOG_ERR, "bad argument \"%s\"", argv[i]);
			return -1;
		}
	}
	return 0;
}

/* 1 if the faults apply to this transaction's user. */
static int
sasltest_matches(
    pam_handle_t *pamh, const struct sasltest_args *a, const char **ret_user)
{
	const void *item = NULL;

	*ret_user = NULL;
	if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || item == NULL)
		return -1;
	*ret_user = item;
	return a->user_only == NULL || strcmp(a->user_only, *ret_user) == 0;
}

static int
sasltest_converse(pam_handle_t *pamh, int n, const struct pam_message **msg,
    struct pam_response **ret_resp)
{
	const void *item = NULL;
	const struct pam_conv *conv = NULL;
	int rc;

	*ret_resp = NULL;
	if ((rc = pam_get_item(pamh, PAM_CONV, &item)) != PAM_SUCCESS)
		return rc;
	conv = item;
	if (conv == NULL || conv->conv == NULL)
		return PAM_CONV_ERR;
	return conv->conv(n, msg, ret_resp, conv->appdata_ptr);
}

static void
sasltest_free(struct pam_response *resp, int n)
{
	int i;

	if (resp == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (resp[i].resp == NULL)
			continue;
		explicit_bzero(resp[i].resp, strlen(resp[i].resp));
		free(resp[i].resp);
	}
	free(resp);
}

static int
sasltest_info(pam_handle_t *pamh, int n)
{
	struct pam_message msgs[SASLTEST_INFO_MAX];
	const struct pam_message *ptrs[SASLTEST_INFO_MAX];
	struct pam_response *resp = NULL;
	int i, rc;

	for (i = 0; i < n; i++) {
		if (i % 2 == 0) {
			msgs[i].msg_style = PAM_TEXT_INFO;
			msgs[i].msg = "sasltest info";
		} else {
			msgs[i].msg_style = PAM_ERROR_MSG;
			msgs[i].msg = "sasltest error\x1b[7m\"\r\n";
		}
		ptrs[i] = &msgs[i];
	}
	rc = sasltest_converse(pamh, n, ptrs, &resp);
	sasltest_free(resp, n);
	return rc;
}

/* "fresh": nothing of an earlier check may be on this handle. */
static int
sasltest_fresh(pam_handle_t *pamh)
{
	static const char mark[] = "seen";
	const void *item = NULL;
	const void *data = NULL;

	if (pam_get_item(pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS &&
	    item != NULL) {
		pam_syslog(pamh, LOG_ERR, "fresh: PAM_AUTHTOK already set");
		return PAM_AUTH_ERR;
	}
	if (pam_get_data(pamh, "sasltest_fresh", &data) == PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "fresh: data of an earlier call");
		return PAM_AUTH_ERR;
	}
	return pam_set_data(pamh, "sasltest_fresh", (void *)mark, NULL);
}

/* "count=TAG": how often auth ran since this copy was loaded. */
static int
sasltest_count(pam_handle_t *pamh, const char *tag)
{
	static unsigned long calls;
	char text[128];
	struct pam_message m = {PAM_TEXT_INFO, text};
	const struct pam_message *ptr = &m;
	struct pam_response *resp = NULL;
	int rc;

	calls++;
	(void)snprintf(text, sizeof(text),
	    "sasltest %.64s: call %lu since load", tag, calls);
	rc = sasltest_converse(pamh, 1, &ptr, &resp);
	sasltest_free(resp, 1);
	return rc;
}

static int
sasltest_echo_on(pam_handle_t *pamh, const char *user)
{
	struct pam_message m = {PAM_PROMPT_ECHO_ON, "login: "};
	const struct pam_message *ptr = &m;
	struct pam_response *resp = NULL;
	int rc;

	rc = sasltest_converse(pamh, 1, &ptr, &resp);
	if (rc == PAM_SUCCESS &&
	    (resp == NULL || resp[0].resp == NULL ||
		strcmp(resp[0].resp, user) != 0))
		rc = PAM_AUTH_ERR;
	sasltest_free(resp, 1);
	return rc;
}

/* A second secret prompt; the application's answer must be expected. */
static int
sasltest_echo_off(pam_handle_t *pamh, const char *expected)
{
	struct pam_message m = {PAM_PROMPT_ECHO_OFF, "One-time code: "};
	const struct pam_message *ptr = &m;
	struct pam_response *resp = NULL;
	int rc;

	rc = sasltest_converse(pamh, 1, &ptr, &resp);
	if (rc == PAM_SUCCESS &&
	    (resp == NULL || resp[0].resp == NULL ||
		(expected != NULL && strcmp(resp[0].resp, expected) != 0)))
		rc = PAM_AUTH_ERR;
	sasltest_free(resp, 1);
	return rc;
}

/* Allocated and resident, never freed: only recycling gets it back. */
static int
sasltest_leak(unsigned long bytes)
{
	volatile unsigned char *p = NULL;
	unsigned long i;

	if ((p = malloc(bytes)) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < bytes; i += SASLTEST_PAGE)
		p[i] = 1;
	return PAM_SUCCESS;
}

static int
sasltest_binary_prompt(pam_handle_t *pamh)
{
	/* Linux-PAM's binary message: u32 length (big-endian), u8 control. */
	static const unsigned char blob[] = {0, 0, 0, 5, 1};
	/* The echo-off prompt first: the application has a password reply
	 * built when it meets the binary one, and must wipe it. */
	struct pam_message m[2] = {{PAM_PROMPT_ECHO_OFF, "Password: "},
	    {PAM_BINARY_PROMPT, (const char *)blob}};
	const struct pam_message *ptrs[2] = {&m[0], &m[1]};
	struct pam_response *resp = NULL;
	int rc;

	rc = sasltest_converse(pamh, 2, ptrs, &resp);
	if (resp != NULL) {
		/* Not a string reply to a binary prompt: just drop it. */
		if (resp[0].resp != NULL)
			explicit_bzero(resp[0].resp, strlen(resp[0].resp));
		free(resp[0].resp);
		free(resp[1].resp);
		free(resp);
	}
	return rc == PAM_SUCCESS ? PAM_AUTH_ERR : rc;
}

static void
sasltest_sleep(unsigned long ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* The faults both phases share: time and death. */
static int
sasltest_timing_faults(const struct sasltest_args *a)
{
	if (a->sleep_ms > 0)
		sasltest_sleep(a->sleep_ms);
	if (a->hang)
		for (;;)
			(void)pause();
	if (a->crash) {
		(void)raise(SIGSEGV);
		return PAM_SYSTEM_ERR; /* SIGSEGV was ignored or caught */
	}
	if (a->do_abort)
		abort();
	return PAM_SUCCESS;
}

static int
sasltest_auth_faults(
    pam_handle_t *pamh, const struct sasltest_args *a, const char *user)
{
	int rc;

	if (a->fail_delay_us > 0 &&
	    (rc = pam_fail_delay(pamh, (unsigned int)a->fail_delay_us)) !=
		PAM_SUCCESS)
		return rc;
	if (a->info > 0 &&
	    (rc = sasltest_info(pamh, (int)a->info)) != PAM_SUCCESS)
		return rc;
	if (a->echo_on && (rc = sasltest_echo_on(pamh, user)) != PAM_SUCCESS)
		return rc;
	if (a->echo_off &&
	    (rc = sasltest_echo_off(pamh, a->password)) != PAM_SUCCESS)
		return rc;
	if (a->leak > 0 && (rc = sasltest_leak(a->leak)) != PAM_SUCCESS)
		return rc;
	if (a->binary_prompt)
		return sasltest_binary_prompt(pamh);
	if ((rc = sasltest_timing_faults(a)) != PAM_SUCCESS)
		return rc;
	if (a->set_user != NULL &&
	    (rc = pam_set_item(pamh, PAM_USER, a->set_user)) != PAM_SUCCESS)
		return rc;
	if (a->unavail)
		return PAM_AUTHINFO_UNAVAIL;
	return PAM_SUCCESS;
}

static int
sasltest_checks(pam_handle_t *pamh, const struct sasltest_args *a)
{
	const void *item = NULL;
	const char *tok = NULL;
	int rc;

	if (a->rhost != NULL) {
		if ((rc = pam_get_item(pamh, PAM_RHOST, &item)) != PAM_SUCCESS)
			return rc;
		/* "rhost=" asserts that the application left it unset. */
		if (a->rhost[0] == '\0' && item != NULL)
			return PAM_AUTH_ERR;
		if (a->rhost[0] != '\0' &&
		    (item == NULL || strcmp(item, a->rhost) != 0))
			return PAM_AUTH_ERR;
	}
	if (a->password != NULL) {
		rc = pam_get_authtok(pamh, PAM_AUTHTOK, &tok, NULL);
		if (rc != PAM_SUCCESS)
			return rc;
		if (tok == NULL || strcmp(tok, a->password) != 0)
			return PAM_AUTH_ERR;
	}
	return PAM_SUCCESS;
}

int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct sasltest_args a;
	const char *user = NULL;
	int match, rc;

	(void)flags;
	if (sasltest_parse(pamh, argc, argv, &a) == -1)
		return PAM_SERVICE_ERR;
	if (a.fresh && (rc = sasltest_fresh(pamh)) != PAM_SUCCESS)
		return rc;
	if (a.count != NULL &&
	    (rc = sasltest_count(pamh, a.count)) != PAM_SUCCESS)
		return rc;
	if ((match = sasltest_matches(pamh, &a, &user)) == -1)
		return PAM_USER_UNKNOWN;
	if (match && (rc = sasltest_auth_faults(pamh, &a, user)) != PAM_SUCCESS)
		return rc;
	return sasltest_checks(pamh, &a);
}

int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct sasltest_args a;
	const char *user = NULL;
	int match, rc;

	(void)flags;
	if (sasltest_parse(pamh, argc, argv, &a) == -1)
		return PAM_SERVICE_ERR;
	if ((match = sasltest_matches(pamh, &a, &user)) == -1)
		return PAM_USER_UNKNOWN;
	if (!match)
		return PAM_SUCCESS;
	if ((rc = sasltest_timing_faults(&a)) != PAM_SUCCESS)
		return rc;
	if (a.set_user != NULL &&
	    (rc = pam_set_item(pamh, PAM_USER, a.set_user)) != PAM_SUCCESS)
		return rc;
	if (a.acct_fail)
		return PAM_ACCT_EXPIRED;
	if (a.acct_newtok)
		return PAM_NEW_AUTHTOK_REQD;
	return PAM_SUCCESS;
}

int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
