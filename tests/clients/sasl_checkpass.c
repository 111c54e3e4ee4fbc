/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sasl_checkpass.c - the integration tests' real client: Cyrus libsasl2's
 * sasl_checkpass() with pwcheck_method saslauthd, the code path Postfix's
 * smtpd takes, pointed at the socket named on the command line. No SASL
 * config file is needed: every option comes from a SASL_CB_GETOPT
 * callback. libsasl2 itself splits "user@realm" at the last '@'.
 *
 * SECURITY: a test tool, never installed. The password comes on the
 * command line, visible in ps: use it with test accounts only. It holds
 * no privilege and sees the daemon's reply only through libsasl2.
 */
#include <stdio.h>
#include <string.h>

#include <sasl/sasl.h>

#define CHECKPASS_APPNAME "sasl_checkpass"
#define CHECKPASS_EXIT_OK 0
#define CHECKPASS_EXIT_NO 1 /* any sasl_checkpass() failure */
#define CHECKPASS_EXIT_USAGE 2 /* bad arguments or libsasl2 setup */

/* context is the socket path. Options we do not set stay unset. */
static int
checkpass_getopt(void *context, const char *plugin_name, const char *option,
    const char **result, unsigned *len)
{
	const char *value = NULL;

	(void)plugin_name; /* the same answer for the core and plugins */
	if (strcmp(option, "pwcheck_method") == 0)
		value = "saslauthd";
	else if (strcmp(option, "saslauthd_path") == 0)
		value = context;
	else if (strcmp(option, "mech_list") == 0)
		value = "PLAIN";
	if (value == NULL)
		return SASL_FAIL;
	*result = value;
	if (len != NULL)
		*len = (unsigned)strlen(value);
	return SASL_OK;
}

/* libsasl2's own reason for a transport failure ("cannot connect to
 * saslauthd server: ...") is only ever given to this callback. */
static int
checkpass_log(void *context, int level, const char *message)
{
	(void)context;
	if (level <= SASL_LOG_WARN && message != NULL)
		(void)fprintf(stderr, "%s: %s\n", CHECKPASS_APPNAME, message);
	return SASL_OK;
}

int
main(int argc, char *argv[])
{
	sasl_callback_t callbacks[3];
	sasl_conn_t *conn = NULL;
	char *path = NULL;
	const char *service = NULL, *user = NULL, *pass = NULL, *realm = NULL;
	int r, inited = 0, rv = CHECKPASS_EXIT_USAGE;

	if (argc != 5 && argc != 6) {
		(void)fprintf(stderr,
		    "usage: %s SOCKET SERVICE USER PASSWORD [REALM]\n",
		    CHECKPASS_APPNAME);
		goto out;
	}
	path = argv[1];
	service = argv[2];
	user = argv[3];
	pass = argv[4];
	if (argc == 6)
		realm = argv[5];

	/* libsasl2 keeps a pointer to this array until sasl_server_done(). */
	memset(callbacks, 0, sizeof(callbacks));
	callbacks[0].id = SASL_CB_GETOPT;
	/* The generic callback type; via void (*)(void) for -Wextra. */
	callbacks[0].proc = (int (*)(void))(void (*)(void))checkpass_getopt;
	callbacks[0].context = path;
	callbacks[1].id = SASL_CB_LOG;
	callbacks[1].proc = (int (*)(void))(void (*)(void))checkpass_log;
	callbacks[2].id = SASL_CB_LIST_END;

	r = sasl_server_init(callbacks, CHECKPASS_APPNAME);
	if (r != SASL_OK) {
		(void)fprintf(stderr, "%s: sasl_server_init: %s\n",
		    CHECKPASS_APPNAME, sasl_errstring(r, NULL, NULL));
		goto out;
	}
	inited = 1;
	r = sasl_server_new(service, NULL, realm, NULL, NULL, NULL, 0, &conn);
	if (r != SASL_OK) {
		(void)fprintf(stderr, "%s: sasl_server_new: %s\n",
		    CHECKPASS_APPNAME, sasl_errstring(r, NULL, NULL));
		goto out;
	}
	r = sasl_checkpass(
	    conn, user, (unsigned)strlen(user), pass, (unsigned)strlen(pass));
	if (r == SASL_OK) {
		(void)printf("OK\n");
		rv = CHECKPASS_EXIT_OK;
	} else {
		(void)printf("NO %s\n", sasl_errstring(r, NULL, NULL));
		rv = CHECKPASS_EXIT_NO;
	}
out:
	if (conn != NULL)
		sasl_dispose(&conn);
	if (inited)
		(void)sasl_server_done();
	return rv;
}
