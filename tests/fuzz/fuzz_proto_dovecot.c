/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_proto_dovecot.c - libFuzzer target for the Dovecot auth protocol
 * codec (saslauthd-ng/proto_dovecot.c): the line splitter, dovecot_input()
 * on every line of a client stream, dovecot_result() for the requests it
 * hands out, dovecot_expire(), dovecot_handshake(), and base64 /
 * tab-escaping round trips.
 *
 * Input: byte 0 selects options (bit 0 DOVECOT_F_REQUIRE_SECURED, bit 1
 * prepend "VERSION\t1\t0\n", bit 2 a 64-byte line limit instead of 16384);
 * the rest is what a client sends. Lines starting with '#' are not sent but
 * drive the test: "#R<k><o>[user]" answers the k-th request being checked
 * with outcome o (and that canonical user), "#E<d>" expires with an idle
 * time of d seconds, "#T<d>" advances the clock by d seconds.
 *
 * Invariants: the splitter returns whole lines within the limit; every line
 * is wiped; replies are one LF-terminated line without CR or NUL that echo
 * the request id in plain decimal; dovecot_input() never produces OK; a
 * CHECK has a valid user, service, addresses and a non-empty password
 * without NUL, a fresh ticket, and its credentials are gone after
 * dovecot_wipe_secret() (and after any other action at once); a request is
 * answered at most once (a result comes once per ticket, never after the
 * client cancelled it, and no line answers a request being checked except
 * to orphan it); after CLOSE every line closes; the pending count stays
 * within DOVECOT_MAX_PENDING; base64 and escaping round-trip.
 *
 * SECURITY: test code only.
 */
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto_dovecot.h"
#include "proto_saslauthd.h"

#define OPT_SECURED 0x01
#define OPT_VERSION 0x02
#define OPT_SHORT_LINES 0x04
#define SHORT_LINE 64
/* Requests handed out and not yet answered that we track. */
#define MAX_OUT 64

struct outstanding {
	uint32_t ticket, id;
	int orphan;
};

struct run {
	struct dovecot_conn dc;
	struct outstanding out[MAX_OUT];
	size_t nout;
	int closed;
	uint64_t now;
};

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static int
valid_ip(const char *s)
{
	uint8_t bin[16];

	return s[0] == '\0' || inet_pton(AF_INET, s, bin) == 1 ||
	    inet_pton(AF_INET6, s, bin) == 1;
}

static int
valid_user(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > DOVECOT_MAX_USER)
		return 0;
	for (i = 0; i < n; i++)
		if ((uint8_t)s[i] < 0x20 || (uint8_t)s[i] == 0x7f)
			return 0;
	return 1;
}

/* "<cmd>\t<id>" at the start of a reply: the id in plain decimal. */
static uint32_t
reply_id(const uint8_t *r, size_t n, size_t cmdlen, size_t *ret_end)
{
	uint64_t v = 0;
	size_t i = cmdlen;

	FUZZ_CHECK(i < n && r[i] >= '0' && r[i] <= '9');
	FUZZ_CHECK(r[i] != '0' || r[i + 1] == '\t' || r[i + 1] == '\n');
	for (; i < n && r[i] >= '0' && r[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(r[i] - '0');
		FUZZ_CHECK(v <= UINT32_MAX);
	}
	FUZZ_CHECK(i < n && (r[i] == '\t' || r[i] == '\n'));
	*ret_end = i;
	return (uint32_t)v;
}

/* One reply line: shape, command, id, and the fields each command has. */
static void
check_reply(const struct dovecot_action *act, int from_input)
{
	const uint8_t *r = act->reply, *tab, *f;
	size_t n = act->replylen, end, flen;
	uint8_t dec[64];
	size_t declen;

	FUZZ_CHECK(r != NULL && n >= 2 && n <= DOVECOT_MAX_REPLY);
	FUZZ_CHECK(r[n - 1] == '\n');
	FUZZ_CHECK(memchr(r, '\n', n) == r + n - 1);
	FUZZ_CHECK(memchr(r, '\r', n) == NULL && memchr(r, '\0', n) == NULL);
	if (n >= 5 && memcmp(r, "CONT\t", 5) == 0) {
		FUZZ_CHECK(from_input);
		FUZZ_CHECK(reply_id(r, n, 5, &end) == act->id);
		/* The challenge is empty, "Username:" or "Password:". */
		FUZZ_CHECK(r[end] == '\t');
		FUZZ_CHECK(dovecot_b64_decode(r + end + 1, n - end - 2, dec,
			       sizeof(dec), &declen) == 0);
		FUZZ_CHECK(declen == 0 ||
		    (declen == 9 &&
			(memcmp(dec, "Username:", 9) == 0 ||
			    memcmp(dec, "Password:", 9) == 0)));
	} else if (n >= 3 && memcmp(r, "OK\t", 3) == 0) {
		/* Only a result for a checked request says OK. */
		FUZZ_CHECK(!from_input);
		FUZZ_CHECK(reply_id(r, n, 3, &end) == act->id);
		FUZZ_CHECK(n - end > 7 && memcmp(r + end, "\tuser=", 6) == 0);
		FUZZ_CHECK(memchr(r + end + 6, '\t', n - end - 7) == NULL);
	} else {
		FUZZ_CHECK(n >= 5 && memcmp(r, "FAIL\t", 5) == 0);
		FUZZ_CHECK(reply_id(r, n, 5, &end) == act->id);
		while (r[end] == '\t') {
			f = r + end + 1;
			tab = memchr(f, '\t', n - end - 1);
			flen = tab != NULL ? (size_t)(tab - f)
					   : (size_t)(r + n - 1 - f);
			FUZZ_CHECK((flen > 5 && memcmp(f, "user=", 5) == 0) ||
			    (flen > 5 && memcmp(f, "code=", 5) == 0) ||
			    (flen >= 7 && memcmp(f, "reason=", 7) == 0));
			end += 1 + flen;
		}
		FUZZ_CHECK(r[end] == '\n');
	}
}

static struct outstanding *
find_out(struct run *st, uint32_t ticket)
{
	size_t i;

	for (i = 0; i < st->nout; i++)
		if (st->out[i].ticket == ticket)
			return &st->out[i];
	return NULL;
}

static void
drop_out(struct run *st, struct outstanding *o)
{
	*o = st->out[--st->nout];
}

/* Mark what the codec orphaned (CANCEL, or a CONT while PAM runs). */
static void
note_orphans(struct run *st)
{
	const struct dovecot_req *q;
	size_t i;

	for (i = 0; i < st->nout; i++) {
		q = &st->dc.req[st->out[i].ticket & 0xff];
		if (q->ticket == st->out[i].ticket &&
		    q->state == DOVECOT_REQ_ORPHAN)
			st->out[i].orphan = 1;
		/* Nothing but a result ends a request being checked. */
		FUZZ_CHECK(q->ticket == st->out[i].ticket &&
		    (q->state == DOVECOT_REQ_CHECK ||
			q->state == DOVECOT_REQ_ORPHAN));
	}
}

static void
check_check(struct run *st, const struct dovecot_action *act)
{
	const struct dovecot_req *q = act->req;
	const uint8_t *scratch = st->dc.scratch;

	FUZZ_CHECK(q != NULL && q->state == DOVECOT_REQ_CHECK);
	FUZZ_CHECK(act->id == q->id && act->id != 0);
	FUZZ_CHECK(act->ticket == q->ticket && act->ticket != 0);
	FUZZ_CHECK(find_out(st, act->ticket) == NULL);
	FUZZ_CHECK(valid_user(q->user));
	FUZZ_CHECK(proto_valid_service(
	    (const uint8_t *)q->service, strlen(q->service)));
	FUZZ_CHECK(valid_ip(q->rip) && valid_ip(q->lip));
	FUZZ_CHECK(!(st->dc.flags & DOVECOT_F_REQUIRE_SECURED) || q->secured);
	FUZZ_CHECK(
	    q->mech == DOVECOT_MECH_PLAIN || q->mech == DOVECOT_MECH_LOGIN);
	FUZZ_CHECK(act->password != NULL && act->passlen >= 1 &&
	    act->passlen <= DOVECOT_MAX_PASS);
	FUZZ_CHECK(memchr(act->password, '\0', act->passlen) == NULL);
	FUZZ_CHECK(act->password[act->passlen] == '\0');
	/* Only ever in dc->scratch. */
	FUZZ_CHECK((const uint8_t *)act->password >= scratch &&
	    (const uint8_t *)act->password + act->passlen <
		scratch + sizeof(st->dc.scratch));
	dovecot_wipe_secret(&st->dc);
	FUZZ_CHECK(all_zero(scratch, sizeof(st->dc.scratch)));
	FUZZ_CHECK(st->nout < MAX_OUT);
	st->out[st->nout].ticket = act->ticket;
	st->out[st->nout].id = act->id;
	st->out[st->nout].orphan = 0;
	st->nout++;
}

/* A result for o: a reply unless orphaned; never a second one. */
static void
answer(struct run *st, struct outstanding *o, enum dovecot_outcome oc,
    const char *user)
{
	struct dovecot_action act;
	uint32_t ticket = o->ticket;
	int orphan = o->orphan, user_ok;

	user_ok = valid_user(user != NULL ? user : "x");
	dovecot_result(&st->dc, ticket, oc, user, "Reason\tx", &act);
	if (orphan)
		FUZZ_CHECK(act.type == DOVECOT_ACT_NONE);
	else {
		FUZZ_CHECK(act.type == DOVECOT_ACT_REPLY);
		FUZZ_CHECK(act.id == o->id);
		check_reply(&act, 0);
		FUZZ_CHECK((memcmp(act.reply, "OK\t", 3) == 0) ==
		    (oc == DOVECOT_OK && user_ok));
		FUZZ_CHECK(act.authfail ==
		    (oc == DOVECOT_FAIL || oc == DOVECOT_PASS_EXPIRED ||
			oc == DOVECOT_USER_DISABLED));
	}
	drop_out(st, o);
	dovecot_result(&st->dc, ticket, DOVECOT_OK, NULL, NULL, &act);
	FUZZ_CHECK(act.type == DOVECOT_ACT_NONE);
	FUZZ_CHECK(all_zero(st->dc.scratch, sizeof(st->dc.scratch)));
}

/* A '#' line: drive results, expiry and the clock. */
static void
control(struct run *st, const uint8_t *line, size_t n)
{
	uint64_t next = 0;
	size_t before, dropped, i, waiting = 0;
	char *user = NULL;

	if (n < 3)
		return;
	switch (line[1]) {
	case 'R':
		if (st->nout == 0 || n < 4)
			return;
		if (n > 4) {
			user = malloc(n - 4 + 1);
			FUZZ_CHECK(user != NULL);
			memcpy(user, line + 4, n - 4);
			user[n - 4] = '\0';
		}
		answer(st, &st->out[line[2] % st->nout],
		    (enum dovecot_outcome)(line[3] % 5), user);
		free(user);
		break;
	case 'E':
		before = dovecot_pending(&st->dc);
		for (i = 0; i < DOVECOT_MAX_PENDING; i++)
			if (st->dc.req[i].state == DOVECOT_REQ_CONT)
				waiting++;
		dropped = dovecot_expire(
		    &st->dc, st->now, (uint64_t)(line[2] % 10) * 1000, &next);
		FUZZ_CHECK(dropped <= waiting);
		FUZZ_CHECK(dovecot_pending(&st->dc) == before - dropped);
		FUZZ_CHECK(next == 0 || next > st->now);
		FUZZ_CHECK((next == 0) == (waiting == dropped));
		break;
	case 'T':
		st->now += (uint64_t)line[2] * 1000;
		break;
	}
}

static void
input(struct run *st, const uint8_t *line, size_t n)
{
	struct dovecot_action act;
	uint8_t *copy;
	size_t i;
	struct outstanding *o;

	copy = fuzz_dup(line, n);
	dovecot_input(&st->dc, copy, n, st->now, &act);
	FUZZ_CHECK(all_zero(copy, n));
	free(copy);
	switch (act.type) {
	case DOVECOT_ACT_NONE:
		break;
	case DOVECOT_ACT_REPLY:
		FUZZ_CHECK(!st->closed);
		check_reply(&act, 1);
		/* A line may answer a request being checked only by
		 * orphaning it ("Unexpected continuation"). */
		for (i = 0; i < st->nout; i++) {
			o = &st->out[i];
			if (o->id == act.id && !o->orphan)
				FUZZ_CHECK(st->dc.req[o->ticket & 0xff].state ==
				    DOVECOT_REQ_ORPHAN);
		}
		break;
	case DOVECOT_ACT_CHECK:
		FUZZ_CHECK(!st->closed);
		check_check(st, &act);
		break;
	case DOVECOT_ACT_CLOSE:
		FUZZ_CHECK(act.reason != NULL);
		st->closed = 1;
		break;
	default:
		FUZZ_CHECK(0);
	}
	if (st->closed)
		FUZZ_CHECK(act.type == DOVECOT_ACT_CLOSE);
	if (act.type != DOVECOT_ACT_CHECK)
		FUZZ_CHECK(all_zero(st->dc.scratch, sizeof(st->dc.scratch)));
	FUZZ_CHECK(dovecot_pending(&st->dc) <= DOVECOT_MAX_PENDING);
	note_orphans(st);
}

/* The handshake for ids and a cookie taken from the input: always the
 * same shape, MECH before SPID, ending in DONE. */
static void
handshake(const uint8_t *data, size_t size)
{
	static const char head[] = "VERSION\t1\t2\n"
				   "MECH\tPLAIN\tplaintext\n"
				   "MECH\tLOGIN\tplaintext\n"
				   "SPID\t";
	uint8_t in[8 + DOVECOT_COOKIE_LEN], out[DOVECOT_MAX_HANDSHAKE];
	uint32_t spid, cuid;
	size_t n, i, lines = 0;

	memset(in, 0, sizeof(in));
	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	memcpy(&spid, in, 4);
	memcpy(&cuid, in + 4, 4);
	n = dovecot_handshake(out, sizeof(out), spid, cuid, in + 8);
	FUZZ_CHECK(n > sizeof(head) && n <= sizeof(out));
	FUZZ_CHECK(memcmp(out, head, sizeof(head) - 1) == 0);
	FUZZ_CHECK(memcmp(out + n - 6, "\nDONE\n", 6) == 0);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(out[i] != '\r' && out[i] != '\0');
		lines += out[i] == '\n';
	}
	FUZZ_CHECK(lines == 7);
	FUZZ_CHECK(dovecot_handshake(out, n - 1, spid, cuid, in + 8) == 0);
}

/* base64 and escaping on the raw input. */
static void
round_trips(const uint8_t *data, size_t size)
{
	size_t n = size < 4096 ? size : 4096, m, k, i;
	uint8_t *dec, *back;
	char *enc;

	dec = malloc(n + 1);
	enc = malloc((n + 2) / 3 * 4 + 1);
	back = malloc(2 * n + 1);
	FUZZ_CHECK(dec != NULL && enc != NULL && back != NULL);
	if (dovecot_b64_decode(data, n, dec, n, &m) == 0) {
		/* Valid input re-encodes to itself, up to the pad bits. */
		FUZZ_CHECK(m <= n / 4 * 3);
		FUZZ_CHECK(dovecot_b64_encode(
			       dec, m, enc, (n + 2) / 3 * 4 + 1, &k) == 0);
		FUZZ_CHECK(k == n);
	}
	FUZZ_CHECK(
	    dovecot_b64_encode(data, n, enc, (n + 2) / 3 * 4 + 1, &k) == 0);
	FUZZ_CHECK(k == (n + 2) / 3 * 4);
	FUZZ_CHECK(
	    dovecot_b64_decode((const uint8_t *)enc, k, dec, n, &m) == 0);
	FUZZ_CHECK(m == n && (n == 0 || memcmp(dec, data, n) == 0));
	FUZZ_CHECK(dovecot_escape(data, n, back, 2 * n + 1, &k) == 0);
	for (i = 0; i < k; i++)
		FUZZ_CHECK(back[i] != '\t' && back[i] != '\n' &&
		    back[i] != '\r' && back[i] != '\0');
	FUZZ_CHECK(dovecot_unescape(back, k, dec, n, &m) == 0);
	FUZZ_CHECK(m == n && (n == 0 || memcmp(dec, data, n) == 0));
	free(dec);
	free(enc);
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char version[] = "VERSION\t1\t0\n";
	struct run *st;
	uint8_t *buf;
	size_t len, off = 0, ll = 0, used = 0, maxline;
	uint8_t opt;
	uint64_t next;
	int r;

	if (size == 0)
		return 0;
	opt = data[0];
	data++;
	size--;
	round_trips(data, size);
	handshake(data, size);

	st = calloc(1, sizeof(*st));
	FUZZ_CHECK(st != NULL);
	dovecot_init(
	    &st->dc, opt & OPT_SECURED ? DOVECOT_F_REQUIRE_SECURED : 0);
	maxline = opt & OPT_SHORT_LINES ? SHORT_LINE : DOVECOT_MAX_LINE;
	len = (opt & OPT_VERSION ? sizeof(version) - 1 : 0) + size;
	buf = malloc(len > 0 ? len : 1);
	FUZZ_CHECK(buf != NULL);
	if (opt & OPT_VERSION)
		memcpy(buf, version, sizeof(version) - 1);
	if (size > 0)
		memcpy(buf + len - size, data, size);

	while (off < len) {
		r = dovecot_next_line(
		    buf + off, len - off, maxline, &ll, &used);
		if (r == 0) {
			/* A partial line at EOF is dropped. */
			FUZZ_CHECK(len - off < maxline);
			FUZZ_CHECK(memchr(buf + off, '\n', len - off) == NULL);
			break;
		}
		if (r == -1) {
			/* The front closes the connection. */
			FUZZ_CHECK(len - off >= maxline);
			FUZZ_CHECK(memchr(buf + off, '\n', maxline) == NULL);
			break;
		}
		FUZZ_CHECK(r == 1);
		FUZZ_CHECK(used >= 1 && used <= maxline && used <= len - off);
		FUZZ_CHECK(buf[off + used - 1] == '\n');
		FUZZ_CHECK(memchr(buf + off, '\n', used - 1) == NULL);
		/* One CR before the LF is stripped, as Dovecot does. */
		if (used >= 2 && buf[off + used - 2] == '\r')
			FUZZ_CHECK(ll == used - 2);
		else
			FUZZ_CHECK(ll == used - 1);
		if (ll > 0 && buf[off] == '#')
			control(st, buf + off, ll);
		else
			input(st, buf + off, ll);
		off += used;
		st->now += 10;
	}

	/* Whatever is still being checked gets its answer, once. */
	while (st->nout > 0)
		answer(st, &st->out[0], (enum dovecot_outcome)(st->nout % 5),
		    NULL);
	(void)dovecot_expire(&st->dc, UINT64_MAX, 0, &next);
	FUZZ_CHECK(next == 0);
	FUZZ_CHECK(dovecot_pending(&st->dc) == 0);
	dovecot_reset(&st->dc);
	FUZZ_CHECK(all_zero(st->dc.scratch, sizeof(st->dc.scratch)));
	free(buf);
	free(st);
	return 0;
}
