/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto_dovecot.c - the Dovecot auth protocol codec (see proto_dovecot.h):
 * handshake, line splitting, VERSION/CPID/AUTH/CONT/CANCEL, the PLAIN and
 * LOGIN mechanisms, OK/FAIL/CONT replies, base64 and tab-escaping. Runs in
 * the unprivileged, chrooted front.
 *
 * Where Dovecot (2.3, src/auth/auth-request-handler.c, mech-plain.c,
 * mech-login.c) disconnects, we disconnect; where it answers FAIL, we answer
 * the same bytes (tests/integration/test_dovecot_conformance.sh compares
 * them with Dovecot 2.3's). Deliberate differences: an unsupported
 * mechanism gets a FAIL, not a disconnect (reference A.5); a password
 * with a NUL in it and an empty password never reach PAM (B.5; the bytes
 * sent are Dovecot's); base64 with whitespace is refused. A PLAIN response
 * with more than two NULs is malformed, as in Dovecot (FAIL, no user=).
 *
 * SECURITY: input is fully untrusted. Every length is checked before use,
 * every copy is bounded by the fixed arrays of struct dovecot_conn, and the
 * only buffer that ever holds a decoded password (dc->scratch) is wiped on
 * entry to every call.
 */
#include <arpa/inet.h>
#include <string.h>

#include "proto_dovecot.h"
#include "proto_saslauthd.h"

_Static_assert(DOVECOT_MAX_SERVICE == SASLD_MAX_SERVICE,
    "a Dovecot service is a PAM service");
/* The ticket keeps the slot in its low 8 bits. */
_Static_assert(DOVECOT_MAX_PENDING <= 256, "slot must fit in 8 bits");

#define TICKET_SLOT(t) ((t)&0xffu)
#define GEN_MASK 0xffffffu

#define PROMPT_USER "Username:"
#define PROMPT_PASS "Password:"

/* Longest mechanism name we look at; anything longer is unsupported. */
#define MAX_MECH_NAME 20

/* Bounded output buffer: any overflow sticks in err. */
struct wbuf {
	uint8_t *p;
	size_t cap, len;
	int err;
};

static void
w_bytes(struct wbuf *w, const void *s, size_t n)
{
	if (w->err || w->cap - w->len < n) {
		w->err = 1;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void
w_str(struct wbuf *w, const char *s)
{
	w_bytes(w, s, strlen(s));
}

/* Plain decimal, no leading zeros: Postfix parses ids with strtoul(,,0). */
static void
w_u32(struct wbuf *w, uint32_t v)
{
	char tmp[10];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	w_bytes(w, tmp + i, sizeof(tmp) - i);
}

static void
w_esc(struct wbuf *w, const void *s, size_t n)
{
	size_t got;

	if (w->err ||
	    dovecot_escape(s, n, w->p + w->len, w->cap - w->len, &got) == -1) {
		w->err = 1;
		return;
	}
	w->len += got;
}

/* TAB-separated fields of one line. */
struct fields {
	const uint8_t *p;
	size_t len, off; /* off == len + 1: no field left */
};

static int
next_field(struct fields *f, const uint8_t **ret, size_t *ret_len)
{
	const uint8_t *tab = NULL;
	size_t n;

	if (f->off > f->len)
		return 0;
	if (f->len > f->off)
		tab = memchr(f->p + f->off, '\t', f->len - f->off);
	n = tab != NULL ? (size_t)(tab - (f->p + f->off)) : f->len - f->off;
	*ret = f->p + f->off;
	*ret_len = n;
	f->off += n + 1;
	return 1;
}

static int
eq(const uint8_t *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static int
caseeq(const uint8_t *s, size_t n, const char *lit)
{
	size_t i;
	uint8_t c;

	if (n != strlen(lit))
		return 0;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= 'a' && c <= 'z')
			c = (uint8_t)(c - 'a' + 'A');
		if (c != (uint8_t)lit[i])
			return 0;
	}
	return 1;
}

/* Unsigned decimal of at most 32 bits; leading zeros allowed, as Dovecot's
 * str_to_uint(). */
static int
parse_u32(const uint8_t *s, size_t n, uint32_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*ret = (uint32_t)v;
	return 0;
}

static int tabunescape(
    const uint8_t *in, size_t len, uint8_t *out, size_t outsz, size_t *ret_len);

/* Unescape a field into out (room for max bytes and a NUL). 0 and *ret_len,
 * -1 for a bad escape (a client bug), -2 when longer than max. */
static int
unescape_field(
    const uint8_t *in, size_t n, char *out, size_t max, size_t *ret_len)
{
	int rc;

	rc = tabunescape(in, n, (uint8_t *)out, max, ret_len);
	if (rc == 0)
		out[*ret_len] = '\0';
	else
		out[0] = '\0';
	return rc;
}

/* A login name we can hand to PAM and send back in user=: 1..MAX bytes,
 * no control bytes (so never anything that needs escaping). */
static int
valid_user(const uint8_t *s, size_t n)
{
	size_t i;

	if (n == 0 || n > DOVECOT_MAX_USER)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static void
set_close(
    struct dovecot_conn *dc, struct dovecot_action *act, const char *reason)
{
	dc->dead = 1;
	act->type = DOVECOT_ACT_CLOSE;
	act->reason = reason;
}

static void
set_reply(
    struct dovecot_conn *dc, struct dovecot_action *act, const struct wbuf *w)
{
	if (w->err) {
		/* The limits make this unreachable; never send half a line. */
		set_close(dc, act, "internal error: reply too long");
		return;
	}
	act->type = DOVECOT_ACT_REPLY;
	act->reply = dc->reply;
	act->replylen = w->len;
}

static struct dovecot_req *
find_req(struct dovecot_conn *dc, uint32_t id)
{
	size_t i;

	for (i = 0; i < DOVECOT_MAX_PENDING; i++)
		if ((dc->req[i].state == DOVECOT_REQ_CONT ||
			dc->req[i].state == DOVECOT_REQ_CHECK) &&
		    dc->req[i].id == id)
			return &dc->req[i];
	return NULL;
}

/* Free a slot. Its data stays until reuse, for act->req; nothing in it is
 * secret. */
static void
free_req(struct dovecot_req *r)
{
	r->state = DOVECOT_REQ_FREE;
}

/* A free slot, else the one that has waited longest for a CONT (an
 * abandoned request: dropped without a reply, as on expiry). */
static struct dovecot_req *
alloc_req(struct dovecot_conn *dc)
{
	struct dovecot_req *r = NULL;
	size_t i;

	for (i = 0; i < DOVECOT_MAX_PENDING && r == NULL; i++)
		if (dc->req[i].state == DOVECOT_REQ_FREE)
			r = &dc->req[i];
	for (i = 0; i < DOVECOT_MAX_PENDING && r == NULL; i++)
		if (dc->req[i].state == DOVECOT_REQ_CONT)
			r = &dc->req[i];
	if (r == NULL)
		return NULL;
	if (r->state == DOVECOT_REQ_CONT)
		for (; i < DOVECOT_MAX_PENDING; i++)
			if (dc->req[i].state == DOVECOT_REQ_CONT &&
			    dc->req[i].since < r->since)
				r = &dc->req[i];
	memset(r, 0, sizeof(*r));
	dc->gen = (dc->gen + 1) & GEN_MASK;
	if (dc->gen == 0)
		dc->gen = 1;
	r->ticket = (dc->gen << 8) | (uint32_t)(r - dc->req);
	return r;
}

/*
 * FAIL\t<id>[\tuser=<user>][\tcode=<code>][\treason=<reason>]: Dovecot's
 * field order. log is the reason for our log.
 */
static void
reply_fail(struct dovecot_conn *dc, struct dovecot_action *act, uint32_t id,
    const char *user, const char *code, const char *reason, int authfail,
    const char *log)
{
	struct wbuf w = {dc->reply, sizeof(dc->reply), 0, 0};

	w_str(&w, "FAIL\t");
	w_u32(&w, id);
	if (user != NULL && user[0] != '\0') {
		w_str(&w, "\tuser=");
		w_esc(&w, user, strlen(user));
	}
	if (code != NULL) {
		w_str(&w, "\tcode=");
		w_str(&w, code);
	}
	if (reason != NULL) {
		w_str(&w, "\treason=");
		w_esc(&w, reason, strnlen(reason, DOVECOT_MAX_REASON));
	}
	w_str(&w, "\n");
	act->id = id;
	act->authfail = authfail;
	act->reason = log;
	set_reply(dc, act, &w);
}

/* End request r with a FAIL. with_user: add user= when it is known. */
static void
fail_req(struct dovecot_conn *dc, struct dovecot_req *r,
    struct dovecot_action *act, int with_user, const char *code,
    const char *reason, int authfail, const char *log)
{
	reply_fail(dc, act, r->id, with_user ? r->user : NULL, code, reason,
	    authfail, log);
	act->req = r;
	free_req(r);
}

/* CONT\t<id>\t<base64 challenge>; the TAB stays when it is empty. */
static void
reply_cont(struct dovecot_conn *dc, struct dovecot_req *r,
    struct dovecot_action *act, const char *challenge)
{
	struct wbuf w = {dc->reply, sizeof(dc->reply), 0, 0};
	char b64[32];
	size_t n;

	w_str(&w, "CONT\t");
	w_u32(&w, r->id);
	w_str(&w, "\t");
	if (dovecot_b64_encode((const uint8_t *)challenge, strlen(challenge),
		b64, sizeof(b64), &n) == -1)
		w.err = 1;
	else
		w_bytes(&w, b64, n);
	w_str(&w, "\n");
	r->state = DOVECOT_REQ_CONT;
	act->id = r->id;
	act->req = r;
	set_reply(dc, act, &w);
}

/* The password is the tail of dc->scratch, so pass[n] is the NUL the
 * decoder put after the data. */
static void
check_password(struct dovecot_conn *dc, struct dovecot_req *r,
    const uint8_t *pass, size_t n, struct dovecot_action *act)
{
	if (n == 0) {
		fail_req(dc, r, act, 1, NULL, NULL, 1, "empty password");
		return;
	}
	if (n > DOVECOT_MAX_PASS) {
		fail_req(dc, r, act, 1, NULL, NULL, 1, "password too long");
		return;
	}
	if (memchr(pass, '\0', n) != NULL) {
		fail_req(dc, r, act, 1, NULL, NULL, 1, "NUL byte in password");
		return;
	}
	r->state = DOVECOT_REQ_CHECK;
	act->type = DOVECOT_ACT_CHECK;
	act->id = r->id;
	act->req = r;
	act->ticket = r->ticket;
	act->password = (const char *)pass;
	act->passlen = n;
}

static void
set_user(struct dovecot_req *r, const uint8_t *s, size_t n)
{
	memcpy(r->user, s, n);
	r->user[n] = '\0';
}

/* PLAIN: authzid NUL authcid NUL password (RFC 4616). */
static void
mech_plain(struct dovecot_conn *dc, struct dovecot_req *r, const uint8_t *data,
    size_t n, struct dovecot_action *act)
{
	const uint8_t *nul1 = NULL, *nul2 = NULL, *user, *pass;
	size_t zlen, ulen;

	if (n > 0)
		nul1 = memchr(data, '\0', n);
	if (nul1 != NULL)
		nul2 = memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - data));
	if (nul2 == NULL) {
		/* Dovecot: "invalid input", a FAIL without user=. */
		fail_req(
		    dc, r, act, 0, NULL, NULL, 1, "malformed PLAIN response");
		return;
	}
	zlen = (size_t)(nul1 - data);
	user = nul1 + 1;
	ulen = (size_t)(nul2 - user);
	pass = nul2 + 1;
	if (memchr(pass, '\0', n - (size_t)(pass - data)) != NULL) {
		/* Dovecot 2.3: a third NUL is "invalid input". */
		fail_req(
		    dc, r, act, 0, NULL, NULL, 1, "malformed PLAIN response");
		return;
	}
	if (!valid_user(user, ulen)) {
		fail_req(dc, r, act, 0, NULL, NULL, 1, "invalid user name");
		return;
	}
	set_user(r, user, ulen);
	/* An authzid equal to the authcid is no authzid; another one asks
	 * to log in as someone else (Dovecot's master users): refused. */
	if (zlen != 0 && (zlen != ulen || memcmp(data, user, ulen) != 0)) {
		fail_req(dc, r, act, 1, NULL, NULL, 1,
		    "authorization identity differs from user");
		return;
	}
	check_password(dc, r, pass, n - (size_t)(pass - data), act);
}

/* LOGIN, first answer: the user name. Dovecot refuses NULs in LOGIN. */
static void
login_user(struct dovecot_conn *dc, struct dovecot_req *r, const uint8_t *data,
    size_t n, struct dovecot_action *act)
{
	if (n > 0 && memchr(data, '\0', n) != NULL) {
		fail_req(dc, r, act, 0, NULL, NULL, 1,
		    "NUL byte in LOGIN user name");
		return;
	}
	if (!valid_user(data, n)) {
		fail_req(dc, r, act, 0, NULL, NULL, 1, "invalid user name");
		return;
	}
	set_user(r, data, n);
	r->step = DOVECOT_STEP_PASS;
	reply_cont(dc, r, act, PROMPT_PASS);
}

/* Decode base64 into dc->scratch and NUL-terminate it. */
static int
decode_resp(
    struct dovecot_conn *dc, const uint8_t *in, size_t n, size_t *ret_len)
{
	int rc;

	rc = dovecot_b64_decode(
	    in, n, dc->scratch, DOVECOT_MAX_DECODED, ret_len);
	if (rc == 0)
		dc->scratch[*ret_len] = '\0';
	return rc;
}

static void
input_version(
    struct dovecot_conn *dc, struct fields *f, struct dovecot_action *act)
{
	const uint8_t *v;
	size_t vn;
	uint32_t major, minor;

	if (!next_field(f, &v, &vn) || parse_u32(v, vn, &major) == -1 ||
	    !next_field(f, &v, &vn) || parse_u32(v, vn, &minor) == -1) {
		set_close(dc, act, "malformed VERSION");
		return;
	}
	if (major != 1) {
		set_close(dc, act, "unsupported protocol major version");
		return;
	}
	/* Further fields: ignored, for future versions. */
	dc->version_seen = 1;
	dc->minor = minor;
}

static void
input_cpid(
    struct dovecot_conn *dc, struct fields *f, struct dovecot_action *act)
{
	const uint8_t *v;
	size_t vn;
	uint32_t pid;

	if (dc->cpid_seen || dc->auth_seen) {
		set_close(dc, act, "CPID after AUTH or twice");
		return;
	}
	/* Exactly one number; 0 is tolerated (reference A.2). */
	if (!next_field(f, &v, &vn) || parse_u32(v, vn, &pid) == -1 ||
	    f->off <= f->len) {
		set_close(dc, act, "malformed CPID");
		return;
	}
	dc->cpid_seen = 1;
	dc->cpid = pid;
}

/* rip=/lip=: a valid address literal, else unknown (Dovecot ignores what
 * does not parse; Postfix sends an empty one for "unknown"). */
static int
parse_ip(const uint8_t *v, size_t vn, char dst[DOVECOT_MAX_IP + 1])
{
	char buf[DOVECOT_MAX_IP + 1];
	uint8_t bin[16];
	size_t n;
	int rc;

	dst[0] = '\0';
	rc = unescape_field(v, vn, buf, DOVECOT_MAX_IP, &n);
	if (rc == -1)
		return -1;
	/* Too long or an escaped NUL: not an address. */
	if (rc == -2 || strlen(buf) != n)
		return 0;
	if (inet_pton(AF_INET, buf, bin) == 1 ||
	    inet_pton(AF_INET6, buf, bin) == 1)
		memcpy(dst, buf, n + 1);
	return 0;
}

static void
parse_port(const uint8_t *v, size_t vn, uint16_t *dst)
{
	uint32_t port;

	*dst =
	    parse_u32(v, vn, &port) == 0 && port <= 0xffff ? (uint16_t)port : 0;
}

/* AUTH\t<id>\t<mech>[\t<param>...][\tresp=<base64>] */
static void
input_auth(struct dovecot_conn *dc, struct fields *f, uint64_t now,
    struct dovecot_action *act)
{
	struct dovecot_req q, *r;
	const uint8_t *v, *resp = NULL, *eqs;
	size_t vn, resplen = 0, nlen, dlen = 0, mlen, slen;
	uint32_t id;
	char mech[MAX_MECH_NAME + 1];
	int have_service = 0, service_ok = 0, rc, has_ir;
	const uint8_t *name, *val;
	size_t vallen;

	memset(&q, 0, sizeof(q));
	dc->auth_seen = 1;
	if (!next_field(f, &v, &vn) || parse_u32(v, vn, &id) == -1 || id == 0) {
		set_close(dc, act, "malformed AUTH: bad request id");
		return;
	}
	if (!next_field(f, &v, &vn)) {
		set_close(dc, act, "malformed AUTH: no mechanism");
		return;
	}
	rc = unescape_field(v, vn, mech, MAX_MECH_NAME, &mlen);
	if (rc == -1) {
		set_close(dc, act, "malformed AUTH: bad escape");
		return;
	}
	if (rc == 0 && caseeq((const uint8_t *)mech, mlen, "PLAIN"))
		q.mech = DOVECOT_MECH_PLAIN;
	else if (rc == 0 && caseeq((const uint8_t *)mech, mlen, "LOGIN"))
		q.mech = DOVECOT_MECH_LOGIN;
	while (next_field(f, &v, &vn)) {
		if (resp != NULL) {
			set_close(dc, act, "malformed AUTH: fields after resp");
			return;
		}
		eqs = vn > 0 ? memchr(v, '=', vn) : NULL;
		name = v;
		nlen = eqs != NULL ? (size_t)(eqs - v) : vn;
		val = eqs != NULL ? eqs + 1 : v + vn;
		vallen = vn - (size_t)(val - v);
		rc = 0;
		if (eq(name, nlen, "resp")) {
			resp = val;
			resplen = vallen;
		} else if (eq(name, nlen, "service")) {
			have_service = 1;
			rc = unescape_field(
			    val, vallen, q.service, DOVECOT_MAX_SERVICE, &slen);
			/* The allow-list has no NUL: an escaped one fails. */
			service_ok = rc == 0 &&
			    proto_valid_service(
				(const uint8_t *)q.service, slen);
			if (rc == -2)
				rc = 0;
		} else if (eq(name, nlen, "rip"))
			rc = parse_ip(val, vallen, q.rip);
		else if (eq(name, nlen, "lip"))
			rc = parse_ip(val, vallen, q.lip);
		else if (eq(name, nlen, "rport"))
			parse_port(val, vallen, &q.rport);
		else if (eq(name, nlen, "lport"))
			parse_port(val, vallen, &q.lport);
		else if (eq(name, nlen, "secured"))
			q.secured = 1;
		else if (eq(name, nlen, "valid-client-cert"))
			q.valid_client_cert = 1;
		else if (eq(name, nlen, "no-penalty"))
			q.no_penalty = 1;
		/* nologin, session=, real_*, tls_*, ...: ignored. */
		if (rc == -1) {
			set_close(dc, act, "malformed AUTH: bad escape");
			return;
		}
	}
	if (!have_service) {
		set_close(dc, act, "malformed AUTH: no service");
		return;
	}
	if (find_req(dc, id) != NULL) {
		set_close(dc, act, "duplicate request id");
		return;
	}
	if (q.mech == 0) {
		reply_fail(dc, act, id, NULL, NULL,
		    "Unsupported authentication mechanism", 0,
		    "unsupported mechanism");
		return;
	}
	if (!service_ok) {
		reply_fail(dc, act, id, NULL, NULL, "Invalid service name", 0,
		    "invalid service name");
		return;
	}
	if ((dc->flags & DOVECOT_F_REQUIRE_SECURED) && !q.secured) {
		reply_fail(dc, act, id, NULL, NULL,
		    "Plaintext authentication disallowed on non-secure "
		    "(SSL/TLS) connections.",
		    0, "plaintext mechanism without TLS");
		return;
	}
	r = alloc_req(dc);
	if (r == NULL) {
		reply_fail(dc, act, id, NULL, "temp_fail",
		    "Too many pending requests", 0,
		    "too many pending requests");
		return;
	}
	q.ticket = r->ticket;
	q.id = id;
	q.since = now;
	q.state = DOVECOT_REQ_CONT;
	q.step = q.mech == DOVECOT_MECH_PLAIN ? DOVECOT_STEP_RESP
					      : DOVECOT_STEP_USER;
	*r = q;

	/* resp= absent, or empty from a client older than 1.2 (Exim
	 * always sends it): no initial response. "=" or empty from a 1.2+
	 * client: an empty one. */
	has_ir = resp != NULL && !(resplen == 0 && dc->minor < 2);
	if (has_ir && !(resplen == 0 || (resplen == 1 && resp[0] == '='))) {
		rc = decode_resp(dc, resp, resplen, &dlen);
		if (rc == -1) {
			fail_req(dc, r, act, 0, "invalid_base64",
			    "Invalid base64 data in initial response", 0,
			    "invalid base64 in initial response");
			return;
		}
		if (rc == -2) {
			fail_req(dc, r, act, 0, NULL, NULL, 1,
			    "initial response too long");
			return;
		}
	}
	if (r->mech == DOVECOT_MECH_PLAIN) {
		if (!has_ir)
			reply_cont(dc, r, act, "");
		else
			mech_plain(dc, r, dc->scratch, dlen, act);
	} else {
		/* Dovecot's LOGIN prompts for the user name when the
		 * initial response is absent or empty. */
		if (!has_ir || dlen == 0)
			reply_cont(dc, r, act, PROMPT_USER);
		else
			login_user(dc, r, dc->scratch, dlen, act);
	}
}

/* CONT\t<id>\t<base64>: the data is the rest of the line, raw. */
static void
input_cont(struct dovecot_conn *dc, struct fields *f, uint64_t now,
    struct dovecot_action *act)
{
	const uint8_t *v, *data;
	size_t vn, dn, dlen = 0;
	struct dovecot_req *r;
	uint32_t id;
	int rc;

	if (!next_field(f, &v, &vn) || parse_u32(v, vn, &id) == -1 ||
	    f->off > f->len) {
		set_close(dc, act, "malformed CONT");
		return;
	}
	data = f->p + f->off;
	dn = f->len - f->off;
	r = find_req(dc, id);
	if (r == NULL) {
		reply_fail(dc, act, id, NULL, NULL,
		    "Authentication request timed out", 0,
		    "CONT for an unknown or expired request");
		return;
	}
	if (r->state == DOVECOT_REQ_CHECK) {
		/* Dovecot fails the request; PAM is already running, so its
		 * answer must be dropped: never reply twice. */
		reply_fail(dc, act, id, NULL, NULL, "Unexpected continuation",
		    0, "unexpected continuation");
		act->req = r;
		r->state = DOVECOT_REQ_ORPHAN;
		return;
	}
	r->since = now;
	rc = decode_resp(dc, data, dn, &dlen);
	if (rc == -1) {
		/* Also the SASL "*" abort, which Dovecot answers the same
		 * way (Postfix never forwards it). */
		fail_req(dc, r, act, 0, "invalid_base64",
		    "Invalid base64 data in continued response", 0,
		    dn == 1 && data[0] == '*'
			? "client aborted the request"
			: "invalid base64 in continued response");
		return;
	}
	if (rc == -2) {
		fail_req(dc, r, act, 1, NULL, NULL, 1, "response too long");
		return;
	}
	switch (r->step) {
	case DOVECOT_STEP_RESP:
		mech_plain(dc, r, dc->scratch, dlen, act);
		break;
	case DOVECOT_STEP_USER:
		login_user(dc, r, dc->scratch, dlen, act);
		break;
	case DOVECOT_STEP_PASS:
		check_password(dc, r, dc->scratch, dlen, act);
		break;
	}
}

/* CANCEL\t<id>: drop the request, no reply. */
static void
input_cancel(
    struct dovecot_conn *dc, struct fields *f, struct dovecot_action *act)
{
	const uint8_t *v;
	size_t vn;
	struct dovecot_req *r;
	uint32_t id;

	if (!next_field(f, &v, &vn) || parse_u32(v, vn, &id) == -1 ||
	    f->off <= f->len) {
		set_close(dc, act, "malformed CANCEL");
		return;
	}
	act->id = id;
	r = find_req(dc, id);
	if (r == NULL)
		return;
	act->req = r;
	if (r->state == DOVECOT_REQ_CHECK)
		r->state = DOVECOT_REQ_ORPHAN;
	else
		free_req(r);
}

static void
input_line(struct dovecot_conn *dc, const uint8_t *line, size_t len,
    uint64_t now, struct dovecot_action *act)
{
	struct fields f = {line, len, 0};
	const uint8_t *cmd;
	size_t cn;

	(void)next_field(&f, &cmd, &cn);
	if (!dc->version_seen) {
		/* Dovecot: the first line must be VERSION. */
		if (eq(cmd, cn, "VERSION"))
			input_version(dc, &f, act);
		else if (eq(cmd, cn, "AUTH"))
			set_close(dc, act, "AUTH before VERSION");
		else
			set_close(dc, act, "first line is not VERSION");
	} else if (eq(cmd, cn, "AUTH"))
		input_auth(dc, &f, now, act);
	else if (eq(cmd, cn, "CONT"))
		input_cont(dc, &f, now, act);
	else if (eq(cmd, cn, "CANCEL"))
		input_cancel(dc, &f, act);
	else if (eq(cmd, cn, "CPID"))
		input_cpid(dc, &f, act);
	else if (eq(cmd, cn, "VERSION"))
		set_close(dc, act, "VERSION twice");
	else
		set_close(dc, act, "unknown command");
}

void
dovecot_init(struct dovecot_conn *dc, unsigned flags)
{
	explicit_bzero(dc, sizeof(*dc));
	dc->flags = flags;
}

void
dovecot_reset(struct dovecot_conn *dc)
{
	unsigned flags = dc->flags;

	explicit_bzero(dc, sizeof(*dc));
	dc->flags = flags;
}

void
dovecot_wipe_secret(struct dovecot_conn *dc)
{
	explicit_bzero(dc->scratch, sizeof(dc->scratch));
}

size_t
dovecot_handshake(uint8_t *out, size_t outsz, uint32_t spid, uint32_t cuid,
    const uint8_t cookie[DOVECOT_COOKIE_LEN])
{
	static const char hex[] = "0123456789abcdef";
	struct wbuf w = {out, outsz, 0, 0};
	size_t i;
	char h[2];

	/* MECH before SPID: Postfix and Exim take SPID before any MECH for
	 * the auth-master socket and give up (reference A.2). */
	w_str(&w,
	    "VERSION\t1\t2\n"
	    "MECH\tPLAIN\tplaintext\n"
	    "MECH\tLOGIN\tplaintext\n"
	    "SPID\t");
	w_u32(&w, spid);
	w_str(&w, "\nCUID\t");
	w_u32(&w, cuid);
	w_str(&w, "\nCOOKIE\t");
	for (i = 0; i < DOVECOT_COOKIE_LEN; i++) {
		h[0] = hex[cookie[i] >> 4];
		h[1] = hex[cookie[i] & 0xf];
		w_bytes(&w, h, 2);
	}
	w_str(&w, "\nDONE\n");
	return w.err ? 0 : w.len;
}

int
dovecot_next_line(const uint8_t *buf, size_t len, size_t maxline,
    size_t *ret_linelen, size_t *ret_used)
{
	const uint8_t *lf = NULL;
	size_t n = len < maxline ? len : maxline;

	if (n > 0)
		lf = memchr(buf, '\n', n);
	if (lf == NULL)
		return len >= maxline ? -1 : 0;
	n = (size_t)(lf - buf);
	*ret_used = n + 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	*ret_linelen = n;
	return 1;
}

void
dovecot_input(struct dovecot_conn *dc, uint8_t *line, size_t len, uint64_t now,
    struct dovecot_action *act)
{
	memset(act, 0, sizeof(*act));
	dovecot_wipe_secret(dc);
	if (dc->dead)
		set_close(dc, act, "connection already failed");
	else if (len > 0 &&
	    (memchr(line, '\0', len) != NULL ||
		memchr(line, '\n', len) != NULL))
		set_close(dc, act, "NUL or LF byte inside a line");
	else
		input_line(dc, line, len, now, act);
	/* Only a CHECK hands credentials out; any other end of a request
	 * leaves none behind. */
	if (act->type != DOVECOT_ACT_CHECK)
		dovecot_wipe_secret(dc);
	if (len > 0)
		explicit_bzero(line, len);
}

void
dovecot_result(struct dovecot_conn *dc, uint32_t ticket,
    enum dovecot_outcome outcome, const char *user, const char *reason,
    struct dovecot_action *act)
{
	struct wbuf w = {dc->reply, sizeof(dc->reply), 0, 0};
	struct dovecot_req *r;
	const char *name;

	memset(act, 0, sizeof(*act));
	dovecot_wipe_secret(dc);
	if (TICKET_SLOT(ticket) >= DOVECOT_MAX_PENDING) {
		act->reason = "stale ticket";
		return;
	}
	r = &dc->req[TICKET_SLOT(ticket)];
	if (r->ticket != ticket ||
	    (r->state != DOVECOT_REQ_CHECK && r->state != DOVECOT_REQ_ORPHAN)) {
		act->reason = "stale ticket";
		return;
	}
	act->id = r->id;
	act->req = r;
	if (r->state == DOVECOT_REQ_ORPHAN) {
		act->reason = "request was cancelled by the client";
		free_req(r);
		return;
	}
	switch (outcome) {
	case DOVECOT_OK:
		name = user != NULL ? user : r->user;
		if (!valid_user((const uint8_t *)name,
			strnlen(name, DOVECOT_MAX_USER + 1))) {
			fail_req(dc, r, act, 1, "temp_fail",
			    DOVECOT_TEMPFAIL_REASON, 0,
			    "canonical user name cannot be sent");
			return;
		}
		w_str(&w, "OK\t");
		w_u32(&w, r->id);
		w_str(&w, "\tuser=");
		w_esc(&w, name, strlen(name));
		w_str(&w, "\n");
		set_reply(dc, act, &w);
		free_req(r);
		return;
	case DOVECOT_FAIL:
		fail_req(dc, r, act, 1, NULL, reason, 1, NULL);
		return;
	case DOVECOT_PASS_EXPIRED:
		fail_req(dc, r, act, 1, "pass_expired", reason, 1, NULL);
		return;
	case DOVECOT_USER_DISABLED:
		fail_req(dc, r, act, 1, "user_disabled", reason, 1, NULL);
		return;
	case DOVECOT_TEMPFAIL:
		break;
	}
	fail_req(dc, r, act, 1, "temp_fail",
	    reason != NULL ? reason : DOVECOT_TEMPFAIL_REASON, 0, NULL);
}

size_t
dovecot_expire(
    struct dovecot_conn *dc, uint64_t now, uint64_t idle, uint64_t *ret_next)
{
	struct dovecot_req *r;
	uint64_t next = 0, when;
	size_t i, n = 0;

	dovecot_wipe_secret(dc);
	for (i = 0; i < DOVECOT_MAX_PENDING; i++) {
		r = &dc->req[i];
		if (r->state != DOVECOT_REQ_CONT)
			continue;
		when =
		    r->since + idle < r->since ? UINT64_MAX : r->since + idle;
		if (now >= when) {
			free_req(r);
			n++;
		} else if (next == 0 || when < next)
			next = when;
	}
	*ret_next = next;
	return n;
}

size_t
dovecot_pending(const struct dovecot_conn *dc)
{
	size_t i, n = 0;

	for (i = 0; i < DOVECOT_MAX_PENDING; i++)
		if (dc->req[i].state != DOVECOT_REQ_FREE)
			n++;
	return n;
}

static int
b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
dovecot_b64_decode(
    const uint8_t *in, size_t len, uint8_t *out, size_t outsz, size_t *ret_len)
{
	size_t i, o = 0, pad = 0, need;
	uint32_t v;
	int k, d;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++)
		if (b64val(in[i]) < 0)
			return -1;
	/* Bits left over by the padding are not checked for zero, as in
	 * Dovecot and most decoders (RFC 4648 3.5 allows either). */
	need = len / 4 * 3 - pad;
	if (need > outsz)
		return -2;
	for (i = 0; i < len; i += 4) {
		v = 0;
		for (k = 0; k < 4; k++) {
			d = i + (size_t)k < len - pad
			    ? b64val(in[i + (size_t)k])
			    : 0;
			v = (v << 6) | (uint32_t)d;
		}
		for (k = 0; k < 3 && o < need; k++)
			out[o++] = (uint8_t)(v >> (16 - 8 * k));
	}
	*ret_len = need;
	return 0;
}

int
dovecot_b64_encode(
    const uint8_t *in, size_t len, char *out, size_t outsz, size_t *ret_len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0, need;
	uint32_t v;

	if (len > (SIZE_MAX - 3) / 4 * 3 - 3)
		return -1;
	need = (len + 2) / 3 * 4;
	if (outsz < need + 1)
		return -1;
	for (i = 0; i < len; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	*ret_len = o;
	return 0;
}

int
dovecot_escape(
    const uint8_t *in, size_t len, uint8_t *out, size_t outsz, size_t *ret_len)
{
	size_t i, o = 0;
	uint8_t esc;

	for (i = 0; i < len; i++) {
		switch (in[i]) {
		case '\0':
			esc = '0';
			break;
		case 0x01:
			esc = '1';
			break;
		case '\t':
			esc = 't';
			break;
		case '\r':
			esc = 'r';
			break;
		case '\n':
			esc = 'n';
			break;
		default:
			esc = 0;
			break;
		}
		if (outsz - o < (esc != 0 ? 2u : 1u))
			return -1;
		if (esc != 0) {
			out[o++] = 0x01;
			out[o++] = esc;
		} else
			out[o++] = in[i];
	}
	*ret_len = o;
	return 0;
}

static int
tabunescape(
    const uint8_t *in, size_t len, uint8_t *out, size_t outsz, size_t *ret_len)
{
	size_t i, o = 0;
	uint8_t c;

	for (i = 0; i < len; i++) {
		c = in[i];
		if (c == 0x01) {
			if (++i == len)
				return -1;
			switch (in[i]) {
			case '0':
				c = '\0';
				break;
			case '1':
				c = 0x01;
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'n':
				c = '\n';
				break;
			default:
				return -1;
			}
		}
		if (o == outsz)
			return -2;
		out[o++] = c;
	}
	*ret_len = o;
	return 0;
}

int
dovecot_unescape(
    const uint8_t *in, size_t len, uint8_t *out, size_t outsz, size_t *ret_len)
{
	return tabunescape(in, len, out, outsz, ret_len) == 0 ? 0 : -1;
}
