/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_proto_dovecot.c - unit tests for the Dovecot auth protocol codec
 * (saslauthd-ng/proto_dovecot.c): handshake, line splitter, the client
 * commands, PLAIN and LOGIN, results, expiry, base64 and tab-escaping.
 *
 * The transcripts are those of dovecot-auth.md A.7 (Postfix) and of Exim's
 * src/auths/dovecot.c, byte for byte, then one row per rule of A.3-A.5 and
 * per error path of issue 7. Every line is fed through a copy that must be
 * all zero afterwards (it may hold a password), and every CHECK's password
 * must be gone from the state after dovecot_wipe_secret(). Base64 strings
 * were computed with Python's base64 module, not with the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "proto_dovecot.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Client lines of the reference transcripts (A.2, A.7), without LF. */
#define PF_VERSION "VERSION\t1\t0"
#define PF_CPID "CPID\t31337"
/* Postfix's AUTH prefix under TLS (xsasl_dovecot_server_first()). */
#define PF_AUTH(id, mech)                                                      \
	"AUTH\t" id "\t" mech "\tservice=smtp\tnologin\tlip=192.0.2.25\t"      \
	"rip=198.51.100.7\tsecured"
#define IR_ALICE "AGFsaWNlAHMzY3JldA==" /* "\0alice\0s3cret" */
#define B64_ALICE "YWxpY2U=" /* "alice" */
#define B64_S3CRET "czNjcmV0" /* "s3cret" */
#define CONT_USER(id) "CONT\t" id "\tVXNlcm5hbWU6\n" /* "Username:" */
#define CONT_PASS(id) "CONT\t" id "\tUGFzc3dvcmQ6\n" /* "Password:" */
#define BAD_B64_IR                                                             \
	"\tcode=invalid_base64\treason=Invalid base64 data in initial "        \
	"response\n"
#define BAD_B64_CONT                                                           \
	"\tcode=invalid_base64\treason=Invalid base64 data in continued "      \
	"response\n"
/* A bare AUTH with service only, for the error rows. */
#define AUTH_PLAIN(id, ir) "AUTH\t" id "\tPLAIN\tservice=smtp\tresp=" ir
#define AUTH_LOGIN(id) "AUTH\t" id "\tLOGIN\tservice=smtp"

/*
 * One step of a transcript: a client line (in) or, when result is set, a
 * dovecot_result() for the ticket of the CHECK at step tk - 1 (tk 0: the
 * latest CHECK). Then what must come out.
 */
struct step {
	const char *in;
	int result;
	int tk;
	enum dovecot_outcome outcome;
	const char *user; /* dovecot_result()'s user */
	const char *reason; /* dovecot_result()'s reason */
	enum dovecot_act want;
	const char *reply; /* REPLY: exact bytes */
	int authfail; /* REPLY: want act.authfail */
	const char *wuser, *wpass; /* CHECK */
	int pending; /* want dovecot_pending() + 1; 0: not checked */
};

#define NONE(l)                                                                \
	{                                                                      \
		.in = (l), .want = DOVECOT_ACT_NONE                            \
	}
#define CLOSE(l)                                                               \
	{                                                                      \
		.in = (l), .want = DOVECOT_ACT_CLOSE                           \
	}
#define REPLY(l, r)                                                            \
	{                                                                      \
		.in = (l), .want = DOVECOT_ACT_REPLY, .reply = (r)             \
	}
#define AFAIL(l, r)                                                            \
	{                                                                      \
		.in = (l), .want = DOVECOT_ACT_REPLY, .reply = (r),            \
		.authfail = 1                                                  \
	}
#define CHECK(l, u, p)                                                         \
	{                                                                      \
		.in = (l), .want = DOVECOT_ACT_CHECK, .wuser = (u),            \
		.wpass = (p)                                                   \
	}
#define CHECK_ALICE(l) CHECK(l, "alice", "s3cret")
#define RESULT(o, u, rs, r, af)                                                \
	{                                                                      \
		.result = 1, .outcome = (o), .user = (u), .reason = (rs),      \
		.want = DOVECOT_ACT_REPLY, .reply = (r), .authfail = (af)      \
	}
#define RESULT_OK(r) RESULT(DOVECOT_OK, NULL, NULL, r, 0)
#define RESULT_NONE(t)                                                         \
	{                                                                      \
		.result = 1, .tk = (t), .outcome = DOVECOT_OK,                 \
		.want = DOVECOT_ACT_NONE                                       \
	}
#define PENDING(n)                                                             \
	{                                                                      \
		.in = NULL, .pending = (n) + 1                                 \
	}

#define MAX_STEPS 24
#define A16 "aaaaaaaaaaaaaaaa"

struct transcript {
	const char *name;
	unsigned flags;
	struct step steps[MAX_STEPS];
	/* Extra checks on every CHECK, when service is not NULL. */
	const char *service, *rip, *lip;
	int secured, valid_client_cert;
};

static const char *
act_name(enum dovecot_act a)
{
	switch (a) {
	case DOVECOT_ACT_NONE:
		return "NONE";
	case DOVECOT_ACT_REPLY:
		return "REPLY";
	case DOVECOT_ACT_CHECK:
		return "CHECK";
	case DOVECOT_ACT_CLOSE:
		return "CLOSE";
	}
	return "(unknown)";
}

static void
check_act(const char *name, const char *what, enum dovecot_act got,
    enum dovecot_act want, const struct dovecot_action *act)
{
	if (got != want)
		fail_msg("%s: %s: got %s (%s), want %s", name, what,
		    act_name(got), act->reason != NULL ? act->reason : "-",
		    act_name(want));
}

/* Feed one line through a heap copy and check that the copy is wiped. */
static void
feed(const char *name, struct dovecot_conn *dc, const void *line, size_t len,
    uint64_t now, struct dovecot_action *act)
{
	uint8_t *buf;
	size_t i;

	buf = malloc(len + 1);
	assert_non_null(buf);
	memcpy(buf, line, len);
	dovecot_input(dc, buf, len, now, act);
	for (i = 0; i < len; i++)
		if (buf[i] != 0)
			fail_msg("%s: line byte %zu not wiped", name, i);
	free(buf);
}

/* The reply must be one LF-terminated line without CR or NUL. */
static void
check_line_shape(const char *name, const struct dovecot_action *act)
{
	const uint8_t *lf;

	if (act->replylen == 0 || act->reply[act->replylen - 1] != '\n')
		fail_msg("%s: reply does not end in LF", name);
	lf = memchr(act->reply, '\n', act->replylen);
	if (lf != act->reply + act->replylen - 1)
		fail_msg("%s: LF inside the reply", name);
	if (memchr(act->reply, '\r', act->replylen) != NULL ||
	    memchr(act->reply, '\0', act->replylen) != NULL)
		fail_msg("%s: CR or NUL in the reply", name);
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
run_transcript(const struct transcript *t)
{
	struct dovecot_conn *dc;
	struct dovecot_action act;
	uint32_t tickets[MAX_STEPS], last = 0;
	const struct step *s;
	char what[64];
	size_t i;

	dc = malloc(sizeof(*dc));
	assert_non_null(dc);
	dovecot_init(dc, t->flags);
	memset(tickets, 0, sizeof(tickets));
	for (i = 0; i < MAX_STEPS; i++) {
		s = &t->steps[i];
		if (s->in == NULL && !s->result && s->pending == 0)
			break;
		(void)snprintf(what, sizeof(what), "step %zu", i + 1);
		if (s->in != NULL)
			feed(t->name, dc, s->in, strlen(s->in), 1000 + i, &act);
		else if (s->result)
			dovecot_result(dc,
			    s->tk > 0 ? tickets[s->tk - 1] : last, s->outcome,
			    s->user, s->reason, &act);
		if (s->in != NULL || s->result) {
			check_act(t->name, what, act.type, s->want, &act);
			if (act.type == DOVECOT_ACT_REPLY) {
				check_line_shape(t->name, &act);
				CHECK_BYTES(t->name, what, act.reply,
				    act.replylen, s->reply, strlen(s->reply));
				CHECK_INT(
				    t->name, what, act.authfail, s->authfail);
			}
			if (act.type == DOVECOT_ACT_CLOSE && act.reason == NULL)
				fail_msg("%s: %s: CLOSE without a reason",
				    t->name, what);
		}
		if (act.type == DOVECOT_ACT_CHECK && s->in != NULL) {
			CHECK_BYTES(t->name, "user", act.req->user,
			    strlen(act.req->user), s->wuser, strlen(s->wuser));
			CHECK_BYTES(t->name, "password", act.password,
			    act.passlen, s->wpass, strlen(s->wpass));
			CHECK_INT(t->name, "password NUL",
			    act.password[act.passlen], 0);
			CHECK_UINT(t->name, "id", act.id, act.req->id);
			tickets[i] = last = act.ticket;
			if (t->service != NULL)
				CHECK_BYTES(t->name, "service",
				    act.req->service, strlen(act.req->service),
				    t->service, strlen(t->service));
			if (t->rip != NULL)
				CHECK_BYTES(t->name, "rip", act.req->rip,
				    strlen(act.req->rip), t->rip,
				    strlen(t->rip));
			if (t->lip != NULL)
				CHECK_BYTES(t->name, "lip", act.req->lip,
				    strlen(act.req->lip), t->lip,
				    strlen(t->lip));
			if (t->service != NULL) {
				CHECK_INT(t->name, "secured", act.req->secured,
				    t->secured);
				CHECK_INT(t->name, "valid-client-cert",
				    act.req->valid_client_cert,
				    t->valid_client_cert);
			}
			/* The caller copies it out, then it is gone. */
			dovecot_wipe_secret(dc);
			if (!all_zero(dc->scratch, sizeof(dc->scratch)))
				fail_msg("%s: %s: password not wiped", t->name,
				    what);
		}
		if (s->pending != 0)
			CHECK_UINT(t->name, "pending", dovecot_pending(dc),
			    s->pending - 1);
	}
	dovecot_reset(dc);
	CHECK_UINT(t->name, "pending after reset", dovecot_pending(dc), 0);
	if (!all_zero(dc->scratch, sizeof(dc->scratch)))
		fail_msg("%s: scratch not wiped by reset", t->name);
	free(dc);
}

static const struct transcript transcripts[] = {
    /* dovecot-auth.md A.7, "PLAIN with initial response". */
    {.name = "A.7 PLAIN with initial response",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID),
	    CHECK_ALICE(PF_AUTH("1", "PLAIN") "\tresp=" IR_ALICE), PENDING(1),
	    RESULT_OK("OK\t1\tuser=alice\n"), PENDING(0)},
	.service = "smtp",
	.rip = "198.51.100.7",
	.lip = "192.0.2.25",
	.secured = 1,
	.valid_client_cert = 0},
    {.name = "A.7 PLAIN, wrong password",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID),
	    CHECK_ALICE(PF_AUTH("1", "PLAIN") "\tresp=" IR_ALICE),
	    RESULT(DOVECOT_FAIL, NULL, NULL, "FAIL\t1\tuser=alice\n", 1)}},
    {.name = "A.7 PLAIN, wrong password, with reason",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID),
	    CHECK_ALICE(PF_AUTH("1", "PLAIN") "\tresp=" IR_ALICE),
	    RESULT(DOVECOT_FAIL, NULL, "Authentication failed",
		"FAIL\t1\tuser=alice\treason=Authentication failed\n", 1)}},
    {.name = "A.7 PLAIN without initial response",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID),
	    REPLY(PF_AUTH("2", "PLAIN"), "CONT\t2\t\n"), PENDING(1),
	    CHECK_ALICE("CONT\t2\t" IR_ALICE), RESULT_OK("OK\t2\tuser=alice\n"),
	    PENDING(0)},
	.service = "smtp",
	.rip = "198.51.100.7",
	.lip = "192.0.2.25",
	.secured = 1,
	.valid_client_cert = 0},
    {.name = "A.7 LOGIN with CONT rounds",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID),
	    REPLY(PF_AUTH("3", "LOGIN"), CONT_USER("3")),
	    REPLY("CONT\t3\t" B64_ALICE, CONT_PASS("3")),
	    CHECK_ALICE("CONT\t3\t" B64_S3CRET),
	    RESULT_OK("OK\t3\tuser=alice\n")},
	.service = "smtp",
	.rip = "198.51.100.7",
	.lip = "192.0.2.25",
	.secured = 1,
	.valid_client_cert = 0},
    {.name = "A.7 LOGIN with initial response",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID),
	    REPLY(PF_AUTH("4", "LOGIN") "\tresp=" B64_ALICE, CONT_PASS("4")),
	    CHECK_ALICE("CONT\t4\t" B64_S3CRET),
	    RESULT_OK("OK\t4\tuser=alice\n")}},
    {.name = "A.7 client gives up, next AUTH served",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID),
	    REPLY(PF_AUTH("3", "LOGIN"), CONT_USER("3")),
	    REPLY("CONT\t3\t" B64_ALICE, CONT_PASS("3")),
	    /* SMTP "*": Postfix sends nothing, then the next AUTH. */
	    CHECK_ALICE(PF_AUTH("5", "PLAIN") "\tresp=" IR_ALICE), PENDING(2),
	    RESULT_OK("OK\t5\tuser=alice\n"), PENDING(1),
	    /* The abandoned one still works if continued. */
	    CHECK_ALICE("CONT\t3\t" B64_S3CRET),
	    RESULT_OK("OK\t3\tuser=alice\n"), PENDING(0)}},
    {.name = "A.7 bad base64 in the initial response",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID),
	    REPLY(PF_AUTH("6", "PLAIN") "\tresp=AGFsaWNl!HMzY3JldA==",
		"FAIL\t6" BAD_B64_IR),
	    PENDING(0),
	    /* Connection kept. */
	    CHECK_ALICE(PF_AUTH("7", "PLAIN") "\tresp=" IR_ALICE)}},
    {.name = "Postfix without TLS, unknown client address",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID),
	    CHECK_ALICE("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=\trip=\t"
			"resp=" IR_ALICE)},
	.service = "smtp",
	.rip = "",
	.lip = "",
	.secured = 0,
	.valid_client_cert = 0},
    {.name = "Postfix, client pipelines VERSION after our handshake, no CPID",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    CHECK_ALICE(PF_AUTH("1", "PLAIN") "\tresp=" IR_ALICE)}},
    /* Exim src/auths/dovecot.c: VERSION 1 0, CPID, one AUTH with id 1,
     * secured + valid-client-cert before rip/lip, always resp=. */
    {.name = "Exim PLAIN under TLS with a verified client certificate",
	.flags = 0,
	.steps = {NONE("VERSION\t1\t0"), NONE("CPID\t4711"),
	    CHECK_ALICE("AUTH\t1\tPLAIN\tservice=smtp\tsecured\t"
			"valid-client-cert\trip=2001:db8::7\tlip=2001:db8::25\t"
			"nologin\tresp=" IR_ALICE)},
	.service = "smtp",
	.rip = "2001:db8::7",
	.lip = "2001:db8::25",
	.secured = 1,
	.valid_client_cert = 1},
    {.name = "Exim LOGIN, empty resp= means none (minor 0)",
	.flags = 0,
	.steps = {NONE("VERSION\t1\t0"), NONE("CPID\t4711"),
	    REPLY("AUTH\t1\tLOGIN\tservice=smtp\trip=198.51.100.7\t"
		  "lip=192.0.2.25\tnologin\tresp=",
		CONT_USER("1")),
	    REPLY("CONT\t1\t" B64_ALICE, CONT_PASS("1")),
	    CHECK_ALICE("CONT\t1\t" B64_S3CRET)}},
    {.name = "Exim PLAIN, empty resp= means none (minor 0)",
	.flags = 0,
	.steps = {NONE("VERSION\t1\t0"), NONE("CPID\t4711"),
	    REPLY("AUTH\t1\tPLAIN\tservice=smtp\trip=NULL\tlip=NULL\t"
		  "nologin\tresp=",
		"CONT\t1\t\n"),
	    CHECK_ALICE("CONT\t1\t" IR_ALICE)},
	.service = "smtp",
	.rip = "",
	.lip = "",
	.secured = 0,
	.valid_client_cert = 0},
    {.name = "empty resp= from a 1.2 client is an empty response: PLAIN fails",
	.flags = 0,
	.steps = {NONE("VERSION\t1\t2"),
	    AFAIL(AUTH_PLAIN("1", ""), "FAIL\t1\n"), PENDING(0)}},
    {.name = "empty resp= from a 1.2 client: LOGIN prompts",
	.flags = 0,
	.steps = {NONE("VERSION\t1\t2"),
	    REPLY(AUTH_LOGIN("1") "\tresp=", CONT_USER("1"))}},
    {.name = "resp== is an empty response: PLAIN fails, LOGIN prompts",
	.flags = 0,
	.steps = {NONE(PF_VERSION), AFAIL(AUTH_PLAIN("1", "="), "FAIL\t1\n"),
	    REPLY(AUTH_LOGIN("2") "\tresp==", CONT_USER("2"))}},
    {.name = "mechanism names are case-insensitive",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    CHECK_ALICE("AUTH\t1\tplain\tservice=smtp\tresp=" IR_ALICE),
	    REPLY("AUTH\t2\tLogin\tservice=smtp", CONT_USER("2"))}},
    {.name = "unsupported mechanism: FAIL, connection kept",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    REPLY("AUTH\t1\tCRAM-MD5\tservice=smtp",
		"FAIL\t1\treason=Unsupported authentication mechanism\n"),
	    REPLY("AUTH\t2\tPLAINX\tservice=smtp",
		"FAIL\t2\treason=Unsupported authentication mechanism\n"),
	    REPLY(
		"AUTH\t3\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\tservice=smtp",
		"FAIL\t3\treason=Unsupported authentication mechanism\n"),
	    PENDING(0), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE))}},
    {.name = "unknown parameters are ignored, known ones parsed",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    CHECK_ALICE("AUTH\t1\tPLAIN\tservice=imap\tsession=abc\tlport=25\t"
			"rport=4242\treal_rip=1.2.3.4\tno-penalty\tfoo\t=\t"
			"debug\tfinal-resp-ok\tsecured=tls\t"
			"rip=198.51.100.7\tresp=" IR_ALICE)},
	.service = "imap",
	.rip = "198.51.100.7",
	.lip = "",
	.secured = 1,
	.valid_client_cert = 0},
    {.name = "escapes: mechanism unescaped, unknown parameters not looked at",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    REPLY("AUTH\t1\tPL\0011AIN\tservice=smtp",
		"FAIL\t1\treason=Unsupported authentication mechanism\n"),
	    CHECK_ALICE("AUTH\t2\tPLAIN\tservice=smtp\tsession=\001x\t"
			"resp=" IR_ALICE)}},
    {.name = "odd but valid numbers",
	.flags = 0,
	.steps = {NONE("VERSION\t001\t0002"), NONE("CPID\t0"),
	    CHECK_ALICE(AUTH_PLAIN("007", IR_ALICE)),
	    RESULT_OK("OK\t7\tuser=alice\n"),
	    CHECK_ALICE(AUTH_PLAIN("4294967295", IR_ALICE)),
	    RESULT_OK("OK\t4294967295\tuser=alice\n")}},
    {.name = "VERSION with extra fields is accepted",
	.flags = 0,
	.steps = {NONE("VERSION\t1\t3\tfuture"),
	    CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE))}},
    {.name = "an id can be reused once its request is finished",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT_OK("OK\t1\tuser=alice\n"),
	    CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT_OK("OK\t1\tuser=alice\n")}},

    /* PLAIN: authzid rules and NUL handling (A.7, mech-plain.c). */
    {.name = "PLAIN authzid equal to authcid is no authzid",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    CHECK_ALICE(AUTH_PLAIN("1", "YWxpY2UAYWxpY2UAczNjcmV0"))}},
    {.name = "PLAIN authzid of another user: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    AFAIL(AUTH_PLAIN("1", "Ym9iAGFsaWNlAHMzY3JldA=="),
		"FAIL\t1\tuser=alice\n"),
	    PENDING(0)}},
    {.name = "PLAIN with three NULs (a NUL in the password): FAIL as "
	     "Dovecot, malformed, no user=",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    AFAIL(AUTH_PLAIN("1", "AGFsaWNlAHMzY3JldAB4"), "FAIL\t1\n")}},
    {.name = "PLAIN with one NUL: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    AFAIL(AUTH_PLAIN("1", "YWxpY2UAczNjcmV0"), "FAIL\t1\n")}},
    {.name = "PLAIN without NUL: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    AFAIL(AUTH_PLAIN("1", "YWxpY2VzM2NyZXQ="), "FAIL\t1\n")}},
    {.name = "PLAIN with an empty user: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    AFAIL(AUTH_PLAIN("1", "AABzM2NyZXQ="), "FAIL\t1\n")}},
    {.name = "PLAIN with an empty password: FAIL before PAM",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    AFAIL(AUTH_PLAIN("1", "AGFsaWNlAA=="), "FAIL\t1\tuser=alice\n")}},
    {.name = "PLAIN with a TAB in the user name: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    AFAIL(AUTH_PLAIN("1", "AGFsCWljZQBwdw=="), "FAIL\t1\n")}},
    {.name = "PLAIN password may hold CR LF",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    CHECK(AUTH_PLAIN("1", "AGFsaWNlAHMzY3JldA0K"), "alice",
		"s3cret\r\n")}},
    {.name = "PLAIN empty CONT: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    REPLY(AUTH_PLAIN("1", "") "", "CONT\t1\t\n"),
	    AFAIL("CONT\t1\t", "FAIL\t1\n"), PENDING(0)}},

    /* LOGIN details (mech-login.c). */
    {.name = "LOGIN user name with a NUL: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    AFAIL("CONT\t1\tYWwAaWNl", "FAIL\t1\n")}},
    {.name = "LOGIN password with a NUL: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    REPLY("CONT\t1\t" B64_ALICE, CONT_PASS("1")),
	    AFAIL("CONT\t1\tczMAY3JldA==", "FAIL\t1\tuser=alice\n")}},
    {.name = "LOGIN empty user name: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    AFAIL("CONT\t1\t", "FAIL\t1\n")}},
    {.name = "LOGIN empty password: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    REPLY("CONT\t1\t" B64_ALICE, CONT_PASS("1")),
	    AFAIL("CONT\t1\t", "FAIL\t1\tuser=alice\n")}},
    {.name = "LOGIN initial response with a NUL: FAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    AFAIL(AUTH_LOGIN("1") "\tresp=YWwAaWNl", "FAIL\t1\n")}},

    /* CONT, CANCEL and request bookkeeping (A.5). */
    {.name = "bad base64 in CONT: FAIL, request ended",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    REPLY("CONT\t1\tYWxpY2U", "FAIL\t1" BAD_B64_CONT), PENDING(0),
	    REPLY("CONT\t1\t" B64_ALICE,
		"FAIL\t1\treason=Authentication request timed out\n")}},
    {.name = "SASL abort \"*\" in CONT: FAIL for that id, next AUTH works",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    REPLY("CONT\t1\t*", "FAIL\t1" BAD_B64_CONT),
	    CHECK_ALICE(AUTH_PLAIN("2", IR_ALICE))}},
    {.name = "bad base64 variants in CONT",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    REPLY("CONT\t1\tYWxp Y2U=", "FAIL\t1" BAD_B64_CONT),
	    REPLY(AUTH_LOGIN("2"), CONT_USER("2")),
	    REPLY("CONT\t2\tYWxpY2U=\tx", "FAIL\t2" BAD_B64_CONT),
	    REPLY(AUTH_LOGIN("3"), CONT_USER("3")),
	    REPLY("CONT\t3\tYW=pY2U=", "FAIL\t3" BAD_B64_CONT),
	    REPLY(AUTH_LOGIN("4"), CONT_USER("4")),
	    REPLY("CONT\t4\t=", "FAIL\t4" BAD_B64_CONT), PENDING(0)}},
    {.name = "CONT for an unknown id",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    REPLY("CONT\t9\t" B64_ALICE,
		"FAIL\t9\treason=Authentication request timed out\n"),
	    REPLY("CONT\t0\t",
		"FAIL\t0\treason=Authentication request timed out\n")}},
    {.name = "CONT while PAM runs: FAIL now, PAM's answer dropped",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    REPLY("CONT\t1\t" B64_ALICE,
		"FAIL\t1\treason=Unexpected continuation\n"),
	    PENDING(1), RESULT_NONE(0), PENDING(0),
	    CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT_OK("OK\t1\tuser=alice\n")}},
    {.name = "CONT while PAM runs, id reused before PAM answers",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    REPLY("CONT\t1\t" B64_ALICE,
		"FAIL\t1\treason=Unexpected continuation\n"),
	    CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)), PENDING(2),
	    /* The orphan's answer (step 2) is dropped, the new one's sent. */
	    RESULT_NONE(2),
	    {.result = 1,
		.tk = 4,
		.outcome = DOVECOT_OK,
		.want = DOVECOT_ACT_REPLY,
		.reply = "OK\t1\tuser=alice\n"},
	    PENDING(0)}},
    {.name = "CANCEL a waiting request",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    NONE("CANCEL\t1"), PENDING(0),
	    REPLY("CONT\t1\t" B64_ALICE,
		"FAIL\t1\treason=Authentication request timed out\n"),
	    NONE("CANCEL\t77")}},
    {.name = "CANCEL while PAM runs: no reply ever",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    NONE("CANCEL\t1"), PENDING(1), RESULT_NONE(0), PENDING(0),
	    RESULT_NONE(2)}},
    {.name = "a result is given once",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT_OK("OK\t1\tuser=alice\n"), RESULT_NONE(2),
	    CHECK_ALICE(AUTH_PLAIN("2", IR_ALICE)), RESULT_NONE(2),
	    RESULT_OK("OK\t2\tuser=alice\n")}},
    {.name = "several requests pending, answered out of order",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    CHECK(AUTH_PLAIN("2", "AEFsaWNlAHMzY3JldA=="), "Alice", "s3cret"),
	    REPLY(AUTH_LOGIN("3"), CONT_USER("3")), PENDING(3),
	    {.result = 1,
		.tk = 3,
		.outcome = DOVECOT_FAIL,
		.want = DOVECOT_ACT_REPLY,
		.reply = "FAIL\t2\tuser=Alice\n",
		.authfail = 1},
	    {.result = 1,
		.tk = 2,
		.outcome = DOVECOT_OK,
		.want = DOVECOT_ACT_REPLY,
		.reply = "OK\t1\tuser=alice\n"},
	    PENDING(1)}},

    /* Results (A.4, A.6). */
    {.name = "TEMPFAIL: code=temp_fail and a reason Postfix shows",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT(DOVECOT_TEMPFAIL, NULL, NULL,
		"FAIL\t1\tuser=alice\tcode=temp_fail\treason=Temporary "
		"authentication failure\n",
		0)}},
    {.name = "TEMPFAIL with the caller's reason",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT(DOVECOT_TEMPFAIL, NULL, "Backend down, try later",
		"FAIL\t1\tuser=alice\tcode=temp_fail\treason=Backend down, "
		"try later\n",
		0)}},
    {.name = "PASS_EXPIRED and USER_DISABLED codes",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT(DOVECOT_PASS_EXPIRED, NULL, NULL,
		"FAIL\t1\tuser=alice\tcode=pass_expired\n", 1),
	    CHECK_ALICE(AUTH_PLAIN("2", IR_ALICE)),
	    RESULT(DOVECOT_USER_DISABLED, NULL, NULL,
		"FAIL\t2\tuser=alice\tcode=user_disabled\n", 1)}},
    {.name = "OK carries the canonical name PAM gave",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT(DOVECOT_OK, "Alice@example.com", NULL,
		"OK\t1\tuser=Alice@example.com\n", 0)}},
    {.name = "OK with an unsendable canonical name becomes TEMPFAIL",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT(DOVECOT_OK, "al\tice", NULL,
		"FAIL\t1\tuser=alice\tcode=temp_fail\treason=Temporary "
		"authentication failure\n",
		0),
	    CHECK_ALICE(AUTH_PLAIN("2", IR_ALICE)),
	    RESULT(DOVECOT_OK, "", NULL,
		"FAIL\t2\tuser=alice\tcode=temp_fail\treason=Temporary "
		"authentication failure\n",
		0)}},
    {.name = "reasons are tab-escaped",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    RESULT(DOVECOT_FAIL, NULL, "a\tb\nc\001d",
		"FAIL\t1\tuser=alice\treason=a\001tb\001nc\0011d\n", 1)}},

    /* Policy and validation. */
    {.name = "require secured: plaintext without TLS refused",
	.flags = DOVECOT_F_REQUIRE_SECURED,
	.steps = {NONE(PF_VERSION),
	    REPLY(AUTH_PLAIN("1", IR_ALICE),
		"FAIL\t1\treason=Plaintext authentication disallowed on "
		"non-secure (SSL/TLS) connections.\n"),
	    PENDING(0), CHECK_ALICE(PF_AUTH("2", "PLAIN") "\tresp=" IR_ALICE)}},
    {.name = "invalid service names",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    REPLY("AUTH\t1\tPLAIN\tservice=../etc/x\tresp=" IR_ALICE,
		"FAIL\t1\treason=Invalid service name\n"),
	    REPLY("AUTH\t2\tPLAIN\tservice=\tresp=" IR_ALICE,
		"FAIL\t2\treason=Invalid service name\n"),
	    REPLY("AUTH\t3\tPLAIN\tservice=smtp\0010\tresp=" IR_ALICE,
		"FAIL\t3\treason=Invalid service name\n"),
	    REPLY("AUTH\t4\tPLAIN\tservice=" A16 A16 A16 A16
		  "a\tresp=" IR_ALICE,
		"FAIL\t4\treason=Invalid service name\n"),
	    PENDING(0)}},
    {.name = "invalid addresses are unknown, not errors",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    CHECK_ALICE("AUTH\t1\tPLAIN\tservice=smtp\trip=198.51.100.7\0010\t"
			"lip=fe80::1%eth0\tresp=" IR_ALICE)},
	.service = "smtp",
	.rip = "",
	.lip = "",
	.secured = 0,
	.valid_client_cert = 0},

    /* Protocol errors: Dovecot disconnects (A.5, issue 7). */
    {.name = "AUTH before VERSION",
	.flags = 0,
	.steps = {CLOSE(AUTH_PLAIN("1", IR_ALICE))}},
    {.name = "CPID before VERSION", .flags = 0, .steps = {CLOSE(PF_CPID)}},
    {.name = "garbage before VERSION", .flags = 0, .steps = {CLOSE("HELLO")}},
    {.name = "empty line before VERSION", .flags = 0, .steps = {CLOSE("")}},
    {.name = "wrong major version",
	.flags = 0,
	.steps = {CLOSE("VERSION\t2\t0")}},
    {.name = "VERSION without minor",
	.flags = 0,
	.steps = {CLOSE("VERSION\t1")}},
    {.name = "VERSION not a number",
	.flags = 0,
	.steps = {CLOSE("VERSION\tone\t0")}},
    {.name = "VERSION with a sign",
	.flags = 0,
	.steps = {CLOSE("VERSION\t+1\t0")}},
    {.name = "VERSION overflow",
	.flags = 0,
	.steps = {CLOSE("VERSION\t4294967297\t0")}},
    {.name = "VERSION twice",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE(PF_VERSION)}},
    {.name = "lower-case command",
	.flags = 0,
	.steps = {CLOSE("version\t1\t0")}},
    {.name = "unknown command",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("FOO\t1")}},
    {.name = "empty line", .flags = 0, .steps = {NONE(PF_VERSION), CLOSE("")}},
    {.name = "CPID twice",
	.flags = 0,
	.steps = {NONE(PF_VERSION), NONE(PF_CPID), CLOSE(PF_CPID)}},
    {.name = "CPID after AUTH",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    CLOSE(PF_CPID)}},
    {.name = "CPID not a number",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("CPID\tx")}},
    {.name = "CPID with extra field",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("CPID\t1\t2")}},
    {.name = "AUTH id 0",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE(AUTH_PLAIN("0", IR_ALICE))}},
    {.name = "AUTH id not a number",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE(AUTH_PLAIN("1x", IR_ALICE))}},
    {.name = "AUTH id too big",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE(AUTH_PLAIN("4294967296", IR_ALICE))}},
    {.name = "AUTH without id",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("AUTH")}},
    {.name = "AUTH without mechanism",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("AUTH\t1")}},
    {.name = "AUTH without service",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("AUTH\t1\tPLAIN\tresp=" IR_ALICE)}},
    {.name = "AUTH with fields after resp",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    CLOSE(AUTH_PLAIN("1", IR_ALICE) "\tsecured")}},
    {.name = "AUTH with a bad escape",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    CLOSE("AUTH\t1\tPLAIN\tservice=sm\001xtp\tresp=" IR_ALICE)}},
    {.name = "AUTH with an escape at the end",
	.flags = 0,
	.steps = {NONE(PF_VERSION),
	    CLOSE("AUTH\t1\tPLAIN\tservice=smtp\trip=1\001")}},
    {.name = "duplicate id while waiting for CONT",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    CLOSE(AUTH_LOGIN("1"))}},
    {.name = "duplicate id while PAM runs",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CHECK_ALICE(AUTH_PLAIN("1", IR_ALICE)),
	    CLOSE(AUTH_PLAIN("1", IR_ALICE))}},
    {.name = "duplicate id of an unsupported mechanism",
	.flags = 0,
	.steps = {NONE(PF_VERSION), REPLY(AUTH_LOGIN("1"), CONT_USER("1")),
	    CLOSE("AUTH\t1\tCRAM-MD5\tservice=smtp")}},
    {.name = "CONT without data field",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("CONT\t1")}},
    {.name = "CONT id not a number",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("CONT\tx\tYQ==")}},
    {.name = "CANCEL malformed",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("CANCEL\tx")}},
    {.name = "CANCEL with extra field",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("CANCEL\t1\t2")}},
    {.name = "CANCEL without id",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("CANCEL")}},
    {.name = "after a CLOSE everything closes",
	.flags = 0,
	.steps = {NONE(PF_VERSION), CLOSE("FOO"), CLOSE(PF_CPID),
	    CLOSE(AUTH_PLAIN("1", IR_ALICE))}},
};

static void
test_transcripts(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(transcripts); i++)
		run_transcript(&transcripts[i]);
}

/* dovecot-auth.md A.7 "Handshake", byte for byte. */
static void
test_handshake(void **state)
{
	static const uint8_t cookie[DOVECOT_COOKIE_LEN] = {0x5f, 0x0c, 0x3c,
	    0x9a, 0x1e, 0x2d, 0x4b, 0x6f, 0x8a, 0x7c, 0x9e, 0x1d, 0x3b, 0x5f,
	    0x7a, 0x90};
	static const char want[] = "VERSION\t1\t2\n"
				   "MECH\tPLAIN\tplaintext\n"
				   "MECH\tLOGIN\tplaintext\n"
				   "SPID\t4242\n"
				   "CUID\t17\n"
				   "COOKIE\t5f0c3c9a1e2d4b6f8a7c9e1d3b5f7a90\n"
				   "DONE\n";
	static const char want_max[] =
	    "VERSION\t1\t2\n"
	    "MECH\tPLAIN\tplaintext\n"
	    "MECH\tLOGIN\tplaintext\n"
	    "SPID\t4294967295\n"
	    "CUID\t0\n"
	    "COOKIE\tffffffffffffffffffffffffffffffff\n"
	    "DONE\n";
	uint8_t out[DOVECOT_MAX_HANDSHAKE], ff[DOVECOT_COOKIE_LEN];
	size_t n, sz;

	(void)state;
	n = dovecot_handshake(out, sizeof(out), 4242, 17, cookie);
	CHECK_BYTES("A.7 handshake", "bytes", out, n, want, sizeof(want) - 1);
	memset(ff, 0xff, sizeof(ff));
	n = dovecot_handshake(out, sizeof(out), UINT32_MAX, 0, ff);
	CHECK_BYTES("largest handshake", "bytes", out, n, want_max,
	    sizeof(want_max) - 1);
	/* Every smaller buffer is refused, never cut. */
	for (sz = 0; sz < sizeof(want_max) - 1; sz++)
		CHECK_UINT("short buffer", "length",
		    dovecot_handshake(out, sz, UINT32_MAX, 0, ff), 0);
	CHECK_UINT("exact buffer", "length",
	    dovecot_handshake(out, sizeof(want_max) - 1, UINT32_MAX, 0, ff),
	    sizeof(want_max) - 1);
}

struct line_case {
	const char *name;
	const char *buf;
	size_t len;
	size_t maxline;
	int want;
	size_t linelen, used;
};

#define LC(n, s, max, w, ll, u)                                                \
	{                                                                      \
		n, s, sizeof(s) - 1, max, w, ll, u                             \
	}

static const struct line_case line_cases[] = {
    LC("one line", "abc\ndef", 100, 1, 3, 4),
    LC("CRLF", "abc\r\ndef", 100, 1, 3, 5),
    LC("only the last CR is stripped", "abc\r\r\n", 100, 1, 4, 6),
    LC("CR inside", "a\rb\n", 100, 1, 3, 4),
    LC("empty line", "\nabc", 100, 1, 0, 1),
    LC("empty CRLF line", "\r\n", 100, 1, 0, 2),
    LC("no LF yet", "abc", 100, 0, 0, 0),
    LC("nothing", "", 100, 0, 0, 0),
    LC("LF as the last allowed byte", "abcd\n", 5, 1, 4, 5),
    LC("LF one byte too late", "abcde\n", 5, -1, 0, 0),
    LC("full buffer, no LF", "abcde", 5, -1, 0, 0),
    LC("one byte short of full", "abcd", 5, 0, 0, 0),
    LC("NUL bytes are data", "a\0b\n", 100, 1, 3, 4),
};

static void
test_next_line(void **state)
{
	const struct line_case *c;
	size_t i, ll, used;
	int got;

	(void)state;
	for (i = 0; i < NELEM(line_cases); i++) {
		c = &line_cases[i];
		ll = used = 0;
		got = dovecot_next_line(
		    (const uint8_t *)c->buf, c->len, c->maxline, &ll, &used);
		CHECK_INT(c->name, "status", got, c->want);
		if (got == 1) {
			CHECK_UINT(c->name, "line length", ll, c->linelen);
			CHECK_UINT(c->name, "used", used, c->used);
		}
	}
}

/* Over-long lines at the real limit: the front closes on -1. */
static void
test_line_limit(void **state)
{
	uint8_t *buf;
	size_t ll, used;

	(void)state;
	buf = malloc(DOVECOT_MAX_LINE + 1);
	assert_non_null(buf);
	memset(buf, 'A', DOVECOT_MAX_LINE + 1);
	CHECK_INT("16384 bytes without LF", "status",
	    dovecot_next_line(
		buf, DOVECOT_MAX_LINE, DOVECOT_MAX_LINE, &ll, &used),
	    -1);
	CHECK_INT("16383 bytes without LF", "status",
	    dovecot_next_line(
		buf, DOVECOT_MAX_LINE - 1, DOVECOT_MAX_LINE, &ll, &used),
	    0);
	buf[DOVECOT_MAX_LINE - 1] = '\n';
	CHECK_INT("16383 bytes and LF", "status",
	    dovecot_next_line(
		buf, DOVECOT_MAX_LINE + 1, DOVECOT_MAX_LINE, &ll, &used),
	    1);
	CHECK_UINT(
	    "16383 bytes and LF", "line length", ll, DOVECOT_MAX_LINE - 1);
	buf[DOVECOT_MAX_LINE - 1] = 'A';
	buf[DOVECOT_MAX_LINE] = '\n';
	CHECK_INT("16384 bytes and LF", "status",
	    dovecot_next_line(
		buf, DOVECOT_MAX_LINE + 1, DOVECOT_MAX_LINE, &ll, &used),
	    -1);
	free(buf);
}

/* A raw NUL or LF inside a line (the caller's splitter let it through). */
static void
test_control_bytes_in_line(void **state)
{
	static const char nul[] = "VERSION\t1\0\t0";
	static const char lf[] = "VERSION\t1\n\t0";
	struct dovecot_conn *dc;
	struct dovecot_action act;

	(void)state;
	dc = malloc(sizeof(*dc));
	assert_non_null(dc);
	dovecot_init(dc, 0);
	feed("NUL in line", dc, nul, sizeof(nul) - 1, 0, &act);
	check_act("NUL in line", "action", act.type, DOVECOT_ACT_CLOSE, &act);
	dovecot_init(dc, 0);
	feed("LF in line", dc, lf, sizeof(lf) - 1, 0, &act);
	check_act("LF in line", "action", act.type, DOVECOT_ACT_CLOSE, &act);
	free(dc);
}

/* Longest values: user and password at the limit pass, one more fails. */
static void
test_limits(void **state)
{
	static const struct {
		const char *name;
		size_t zlen, ulen, plen;
		int check;
	} cases[] = {
	    {"authzid, user, password at the limit", DOVECOT_MAX_USER,
		DOVECOT_MAX_USER, DOVECOT_MAX_PASS, 1},
	    {"authzid and user over", DOVECOT_MAX_USER + 1,
		DOVECOT_MAX_USER + 1, DOVECOT_MAX_PASS, 0},
	    {"authzid, password over", DOVECOT_MAX_USER, DOVECOT_MAX_USER,
		DOVECOT_MAX_PASS + 1, 0},
	    {"user over", 0, DOVECOT_MAX_USER + 1, 8, 0},
	    {"password over", 0, 8, DOVECOT_MAX_PASS + 1, 0},
	    {"user and password at the limit", 0, DOVECOT_MAX_USER,
		DOVECOT_MAX_PASS, 1},
	};
	struct dovecot_conn *dc;
	struct dovecot_action act;
	uint8_t raw[DOVECOT_MAX_DECODED + 8];
	char *line;
	size_t n, b64len, off, linesz, i, k;

	(void)state;
	dc = malloc(sizeof(*dc));
	linesz = 64 + (sizeof(raw) + 2) / 3 * 4 + 1;
	line = malloc(linesz);
	assert_non_null(dc);
	assert_non_null(line);
	for (k = 0; k < NELEM(cases); k++) {
		n = 0;
		memset(raw, 'u', cases[k].zlen);
		n += cases[k].zlen;
		raw[n++] = 0;
		memset(raw + n, 'u', cases[k].ulen);
		n += cases[k].ulen;
		raw[n++] = 0;
		memset(raw + n, 'p', cases[k].plen);
		n += cases[k].plen;
		off = (size_t)snprintf(
		    line, linesz, "AUTH\t1\tPLAIN\tservice=smtp\tresp=");
		assert_int_equal(dovecot_b64_encode(
				     raw, n, line + off, linesz - off, &b64len),
		    0);
		dovecot_init(dc, 0);
		feed(
		    cases[k].name, dc, PF_VERSION, strlen(PF_VERSION), 0, &act);
		feed(cases[k].name, dc, line, off + b64len, 0, &act);
		if (!cases[k].check) {
			check_act(cases[k].name, "action", act.type,
			    DOVECOT_ACT_REPLY, &act);
			CHECK_INT(cases[k].name, "authfail", act.authfail, 1);
			continue;
		}
		check_act(
		    cases[k].name, "action", act.type, DOVECOT_ACT_CHECK, &act);
		CHECK_UINT(cases[k].name, "user length", strlen(act.req->user),
		    cases[k].ulen);
		CHECK_UINT(cases[k].name, "password length", act.passlen,
		    cases[k].plen);
		for (i = 0; i < cases[k].plen; i++)
			if (act.password[i] != 'p')
				fail_msg(
				    "%s: password byte %zu", cases[k].name, i);
	}
	free(line);
	free(dc);
}

/* The pending table: abandoned requests make room, in-flight ones not. */
static void
test_pending_table(void **state)
{
	struct dovecot_conn *dc;
	struct dovecot_action act;
	char line[128], want[128];
	uint32_t i;

	(void)state;
	dc = malloc(sizeof(*dc));
	assert_non_null(dc);
	dovecot_init(dc, 0);
	feed("table", dc, PF_VERSION, strlen(PF_VERSION), 0, &act);
	/* Fill with waiting LOGINs 1..8; 1 is continued, so when 9 comes,
	 * 2 has waited longest and makes room. */
	for (i = 1; i <= DOVECOT_MAX_PENDING; i++) {
		(void)snprintf(line, sizeof(line), AUTH_LOGIN("%u"), i);
		feed("table", dc, line, strlen(line), 100 + i, &act);
		check_act("table", "waiting LOGIN", act.type, DOVECOT_ACT_REPLY,
		    &act);
	}
	feed("table", dc, "CONT\t1\t" B64_ALICE, strlen("CONT\t1\t" B64_ALICE),
	    150, &act);
	CHECK_BYTES("table", "id 1 continued", act.reply, act.replylen,
	    CONT_PASS("1"), strlen(CONT_PASS("1")));
	feed("table", dc, AUTH_LOGIN("9"), strlen(AUTH_LOGIN("9")), 160, &act);
	CHECK_BYTES("table", "ninth waiting", act.reply, act.replylen,
	    CONT_USER("9"), strlen(CONT_USER("9")));
	CHECK_UINT(
	    "table", "pending", dovecot_pending(dc), DOVECOT_MAX_PENDING);
	feed("table", dc, "CONT\t2\t" B64_ALICE, strlen("CONT\t2\t" B64_ALICE),
	    200, &act);
	(void)snprintf(want, sizeof(want),
	    "FAIL\t2\treason=Authentication request timed out\n");
	CHECK_BYTES("table", "evicted id 2", act.reply, act.replylen, want,
	    strlen(want));
	feed("table", dc, "CONT\t1\t" B64_S3CRET,
	    strlen("CONT\t1\t" B64_S3CRET), 200, &act);
	check_act("table", "id 1 kept", act.type, DOVECOT_ACT_CHECK, &act);
	feed("table", dc, "CONT\t3\t" B64_ALICE, strlen("CONT\t3\t" B64_ALICE),
	    200, &act);
	CHECK_BYTES("table", "id 3 kept", act.reply, act.replylen,
	    CONT_PASS("3"), strlen(CONT_PASS("3")));

	/* Eight requests inside PAM: a ninth gets a temporary failure. */
	dovecot_init(dc, 0);
	feed("table", dc, PF_VERSION, strlen(PF_VERSION), 0, &act);
	for (i = 1; i <= DOVECOT_MAX_PENDING; i++) {
		(void)snprintf(
		    line, sizeof(line), AUTH_PLAIN("%u", IR_ALICE), i);
		feed("table", dc, line, strlen(line), 0, &act);
		check_act(
		    "table", "PAM running", act.type, DOVECOT_ACT_CHECK, &act);
	}
	(void)snprintf(line, sizeof(line), AUTH_PLAIN("99", IR_ALICE));
	feed("table", dc, line, strlen(line), 0, &act);
	(void)snprintf(want, sizeof(want),
	    "FAIL\t99\tcode=temp_fail\treason=Too many pending requests\n");
	check_act("table", "ninth", act.type, DOVECOT_ACT_REPLY, &act);
	CHECK_BYTES(
	    "table", "ninth", act.reply, act.replylen, want, strlen(want));
	CHECK_INT("table", "ninth authfail", act.authfail, 0);
	free(dc);
}

static void
test_expire(void **state)
{
	struct dovecot_conn *dc;
	struct dovecot_action act;
	uint64_t next = 1;
	uint32_t ticket;

	(void)state;
	dc = malloc(sizeof(*dc));
	assert_non_null(dc);
	dovecot_init(dc, 0);
	CHECK_UINT("expire", "empty", dovecot_expire(dc, 5000, 100, &next), 0);
	CHECK_UINT("expire", "empty next", next, 0);
	feed("expire", dc, PF_VERSION, strlen(PF_VERSION), 0, &act);
	/* Slot order differs from age order: 1 is younger than 2. */
	feed(
	    "expire", dc, AUTH_LOGIN("1"), strlen(AUTH_LOGIN("1")), 1500, &act);
	feed(
	    "expire", dc, AUTH_LOGIN("2"), strlen(AUTH_LOGIN("2")), 1000, &act);
	feed("expire", dc, AUTH_PLAIN("3", IR_ALICE),
	    strlen(AUTH_PLAIN("3", IR_ALICE)), 0, &act);
	check_act("expire", "PAM running", act.type, DOVECOT_ACT_CHECK, &act);
	ticket = act.ticket;
	CHECK_UINT("expire", "before", dovecot_expire(dc, 1099, 100, &next), 0);
	CHECK_UINT("expire", "next before", next, 1100);
	/* A CONT refreshes request 1's clock. */
	feed("expire", dc, "CONT\t1\t" B64_ALICE, strlen("CONT\t1\t" B64_ALICE),
	    1800, &act);
	CHECK_UINT(
	    "expire", "at 1100", dovecot_expire(dc, 1100, 100, &next), 1);
	CHECK_UINT("expire", "next after 2 expired", next, 1900);
	CHECK_UINT("expire", "pending", dovecot_pending(dc), 2);
	feed("expire", dc, "CONT\t2\t" B64_ALICE, strlen("CONT\t2\t" B64_ALICE),
	    1801, &act);
	CHECK_BYTES("expire", "expired id 2", act.reply, act.replylen,
	    "FAIL\t2\treason=Authentication request timed out\n",
	    strlen("FAIL\t2\treason=Authentication request timed out\n"));
	/* The request inside PAM is never expired here. */
	CHECK_UINT(
	    "expire", "at 9999", dovecot_expire(dc, 9999, 100, &next), 1);
	CHECK_UINT("expire", "next none", next, 0);
	CHECK_UINT("expire", "pending", dovecot_pending(dc), 1);
	/* Tickets that name no slot, or no current request. */
	dovecot_result(dc, UINT32_MAX, DOVECOT_OK, NULL, NULL, &act);
	check_act("expire", "bad ticket", act.type, DOVECOT_ACT_NONE, &act);
	dovecot_result(dc, 0, DOVECOT_OK, NULL, NULL, &act);
	check_act("expire", "ticket 0", act.type, DOVECOT_ACT_NONE, &act);
	dovecot_result(dc, ticket + 0x100, DOVECOT_OK, NULL, NULL, &act);
	check_act(
	    "expire", "wrong generation", act.type, DOVECOT_ACT_NONE, &act);
	dovecot_result(dc, ticket, DOVECOT_OK, NULL, NULL, &act);
	CHECK_BYTES("expire", "result after expiry", act.reply, act.replylen,
	    "OK\t3\tuser=alice\n", strlen("OK\t3\tuser=alice\n"));
	/* No overflow with a huge idle. */
	feed("expire", dc, AUTH_LOGIN("4"), strlen(AUTH_LOGIN("4")), 10, &act);
	CHECK_UINT("expire", "huge idle",
	    dovecot_expire(dc, UINT64_MAX - 1, UINT64_MAX, &next), 0);
	CHECK_UINT("expire", "huge idle next", next, UINT64_MAX);
	free(dc);
}

/* The password of a CHECK is in the state only until the next call. */
static void
test_password_wiped(void **state)
{
	struct dovecot_conn *dc;
	struct dovecot_action act;

	(void)state;
	dc = malloc(sizeof(*dc));
	assert_non_null(dc);
	dovecot_init(dc, 0);
	feed("wipe", dc, PF_VERSION, strlen(PF_VERSION), 0, &act);
	feed("wipe", dc, AUTH_PLAIN("1", IR_ALICE),
	    strlen(AUTH_PLAIN("1", IR_ALICE)), 0, &act);
	check_act("wipe", "CHECK", act.type, DOVECOT_ACT_CHECK, &act);
	if (memmem(dc, sizeof(*dc), "s3cret", 6) == NULL)
		fail_msg("wipe: password not where the action says");
	dovecot_result(dc, act.ticket, DOVECOT_FAIL, NULL, NULL, &act);
	if (memmem(dc, sizeof(*dc), "s3cret", 6) != NULL)
		fail_msg("wipe: password still in the state after a result");
	/* LOGIN: after the CHECK, an unrelated line wipes it too. */
	feed("wipe", dc, AUTH_LOGIN("2") "\tresp=" B64_ALICE,
	    strlen(AUTH_LOGIN("2") "\tresp=" B64_ALICE), 0, &act);
	feed("wipe", dc, "CONT\t2\t" B64_S3CRET, strlen("CONT\t2\t" B64_S3CRET),
	    0, &act);
	check_act("wipe", "LOGIN CHECK", act.type, DOVECOT_ACT_CHECK, &act);
	feed("wipe", dc, "CANCEL\t5", 8, 0, &act);
	if (memmem(dc, sizeof(*dc), "s3cret", 6) != NULL)
		fail_msg("wipe: password still in the state after a line");
	/* A request that fails inside the call (a NUL in the password):
	 * wiped before the call returns. */
	feed("wipe", dc, AUTH_PLAIN("3", "AGFsaWNlAHMzY3JldAB4"),
	    strlen(AUTH_PLAIN("3", "AGFsaWNlAHMzY3JldAB4")), 0, &act);
	check_act("wipe", "FAIL", act.type, DOVECOT_ACT_REPLY, &act);
	if (memmem(dc, sizeof(*dc), "s3cret", 6) != NULL)
		fail_msg("wipe: password still in the state after a FAIL");
	/* LOGIN: the password CONT's base64 never stays either. */
	feed("wipe", dc, AUTH_LOGIN("4") "\tresp=" B64_ALICE,
	    strlen(AUTH_LOGIN("4") "\tresp=" B64_ALICE), 0, &act);
	feed("wipe", dc, "CONT\t4\t" B64_S3CRET, strlen("CONT\t4\t" B64_S3CRET),
	    0, &act);
	check_act("wipe", "LOGIN CHECK", act.type, DOVECOT_ACT_CHECK, &act);
	dovecot_expire(dc, 0, 1, &(uint64_t){0});
	if (memmem(dc, sizeof(*dc), "s3cret", 6) != NULL)
		fail_msg("wipe: password still in the state after expire");
	dovecot_reset(dc);
	CHECK_UINT("wipe", "pending after reset", dovecot_pending(dc), 0);
	free(dc);
}

struct b64_case {
	const char *raw, *enc;
};

/* RFC 4648 section 10. */
static const struct b64_case b64_cases[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    {"\xff\xfe\xfd", "//79"},
    {"\xfb\xff", "+/8="},
};

static const char *const b64_bad[] = {
    "Zg=",
    "Zg",
    "Z",
    "Z===",
    "====",
    "=Zg=",
    "Zg==Zg==",
    "Zm9v\n",
    "Zm 9v",
    " Zm9v",
    "Zm9v\r",
    "Zm-v",
    "Zm_v",
    "Zm9\x80",
    "*",
    "Zm=v",
    "Zm9vY===",
};

static void
test_base64(void **state)
{
	uint8_t raw[64], dec[64];
	char enc[128];
	size_t i, n, m, len;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(b64_cases); i++) {
		const struct b64_case *c = &b64_cases[i];

		rc = dovecot_b64_decode((const uint8_t *)c->enc, strlen(c->enc),
		    dec, sizeof(dec), &n);
		CHECK_INT(c->enc, "decode", rc, 0);
		CHECK_BYTES(c->enc, "decoded", dec, n, c->raw, strlen(c->raw));
		rc = dovecot_b64_encode((const uint8_t *)c->raw, strlen(c->raw),
		    enc, sizeof(enc), &n);
		CHECK_INT(c->enc, "encode", rc, 0);
		CHECK_BYTES(c->enc, "encoded", enc, n, c->enc, strlen(c->enc));
		CHECK_INT(c->enc, "encoded NUL", enc[n], 0);
		/* Exact room works, one byte less does not. */
		len = strlen(c->raw);
		if (len > 0) {
			CHECK_INT(c->enc, "decode exact room",
			    dovecot_b64_decode((const uint8_t *)c->enc,
				strlen(c->enc), dec, len, &n),
			    0);
			CHECK_INT(c->enc, "decode short room",
			    dovecot_b64_decode((const uint8_t *)c->enc,
				strlen(c->enc), dec, len - 1, &n),
			    -2);
		}
		CHECK_INT(c->enc, "encode exact room",
		    dovecot_b64_encode((const uint8_t *)c->raw, len, enc,
			strlen(c->enc) + 1, &n),
		    0);
		CHECK_INT(c->enc, "encode short room",
		    dovecot_b64_encode(
			(const uint8_t *)c->raw, len, enc, strlen(c->enc), &n),
		    -1);
	}
	for (i = 0; i < NELEM(b64_bad); i++)
		CHECK_INT(b64_bad[i], "decode invalid",
		    dovecot_b64_decode((const uint8_t *)b64_bad[i],
			strlen(b64_bad[i]), dec, sizeof(dec), &n),
		    -1);
	/* Non-zero pad bits are accepted ("Zh==" decodes as "f"). */
	rc = dovecot_b64_decode((const uint8_t *)"Zh==", 4, dec, 1, &n);
	CHECK_INT("Zh==", "decode", rc, 0);
	CHECK_BYTES("Zh==", "decoded", dec, n, "f", 1);
	/* Round trips of every length and many byte values. */
	srand(7);
	for (i = 0; i < 2000; i++) {
		len = i % sizeof(raw);
		for (m = 0; m < len; m++)
			raw[m] = (uint8_t)rand();
		assert_int_equal(
		    dovecot_b64_encode(raw, len, enc, sizeof(enc), &n), 0);
		assert_int_equal(dovecot_b64_decode((const uint8_t *)enc, n,
				     dec, sizeof(dec), &m),
		    0);
		CHECK_BYTES("round trip", "bytes", dec, m, raw, len);
	}
}

static void
test_escape(void **state)
{
	static const struct {
		const char *raw;
		size_t rawlen;
		const char *esc;
	} cases[] = {
	    {"plain", 5, "plain"},
	    {"a\tb", 3, "a\001tb"},
	    {"a\nb", 3, "a\001nb"},
	    {"a\rb", 3, "a\001rb"},
	    {"a\001b", 3, "a\0011b"},
	    {"a\0b", 3, "a\0010b"},
	    {"\\t\\n", 4, "\\t\\n"}, /* backslash is not special */
	    {"", 0, ""},
	};
	static const char *const bad[] = {
	    "\001", "a\001", "\001x", "\0012", "\001l", "\001\001"};
	uint8_t all[256], esc[512], back[256];
	size_t i, n, m;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		assert_int_equal(dovecot_escape((const uint8_t *)cases[i].raw,
				     cases[i].rawlen, esc, sizeof(esc), &n),
		    0);
		CHECK_BYTES(cases[i].esc, "escaped", esc, n, cases[i].esc,
		    strlen(cases[i].esc));
		assert_int_equal(
		    dovecot_unescape((const uint8_t *)cases[i].esc,
			strlen(cases[i].esc), back, sizeof(back), &m),
		    0);
		CHECK_BYTES(cases[i].esc, "unescaped", back, m, cases[i].raw,
		    cases[i].rawlen);
	}
	for (i = 0; i < NELEM(bad); i++)
		CHECK_INT("bad escape", "unescape",
		    dovecot_unescape((const uint8_t *)bad[i], strlen(bad[i]),
			back, sizeof(back), &m),
		    -1);
	/* Every byte value round-trips; the escaped form has no TAB, CR,
	 * LF or NUL, so it can never split a line or a field. */
	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_int_equal(dovecot_escape(all, 256, esc, sizeof(esc), &n), 0);
	CHECK_UINT("all bytes", "escaped length", n, 256 + 5);
	for (i = 0; i < n; i++)
		if (esc[i] == '\t' || esc[i] == '\n' || esc[i] == '\r' ||
		    esc[i] == '\0')
			fail_msg(
			    "all bytes: escaped form holds byte %02x", esc[i]);
	assert_int_equal(dovecot_unescape(esc, n, back, sizeof(back), &m), 0);
	CHECK_BYTES("all bytes", "round trip", back, m, all, 256);
	/* No room: refused, not cut. */
	CHECK_INT("short", "escape",
	    dovecot_escape((const uint8_t *)"a\tb", 3, esc, 3, &n), -1);
	CHECK_INT("short", "unescape",
	    dovecot_unescape((const uint8_t *)"abc", 3, back, 2, &m), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transcripts),
	    cmocka_unit_test(test_handshake),
	    cmocka_unit_test(test_next_line),
	    cmocka_unit_test(test_line_limit),
	    cmocka_unit_test(test_control_bytes_in_line),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_pending_table),
	    cmocka_unit_test(test_expire),
	    cmocka_unit_test(test_password_wiped),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
