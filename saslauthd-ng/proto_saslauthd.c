/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto_saslauthd.c - the saslauthd wire codec (see proto_saslauthd.h).
 * Linked into the front and into testsaslauthd-ng.
 *
 * SECURITY: input is fully untrusted. Every length is checked against the
 * bytes present and against the configured limit before it is used; no
 * field is copied, so nothing here can overflow. Runs unprivileged in the
 * chrooted front.
 */
#include <string.h>

#include "proto_saslauthd.h"

static size_t
get16(const uint8_t *p)
{
	return ((size_t)p[0] << 8) | p[1];
}

enum proto_status
proto_decode_request(const uint8_t *buf, size_t len, size_t maxfield,
    struct proto_request *ret_req)
{
	struct proto_request req;
	size_t off = 0, flen;
	int i;

	memset(&req, 0, sizeof(req));
	for (i = 0; i < PROTO_NFIELDS; i++) {
		/* The fifth field is optional and only parsed when bytes
		 * after the fourth are already there. */
		if (i == PROTO_ADDR && off == len)
			break;
		if (len - off < 2)
			return PROTO_INCOMPLETE;
		flen = get16(buf + off);
		if (flen > maxfield)
			return PROTO_ERR_TOOLONG;
		off += 2;
		if (len - off < flen)
			return PROTO_INCOMPLETE;
		req.f[i].ptr = buf + off;
		req.f[i].len = flen;
		off += flen;
		if (memchr(req.f[i].ptr, '\0', flen) != NULL)
			return PROTO_ERR_NUL;
		if (i != PROTO_PASSWORD &&
		    (memchr(req.f[i].ptr, '\r', flen) != NULL ||
			memchr(req.f[i].ptr, '\n', flen) != NULL))
			return PROTO_ERR_CRLF;
	}
	req.nfields = i;
	if (off != len)
		return PROTO_ERR_TRAILING;
	if (req.f[PROTO_LOGIN].len == 0)
		return PROTO_ERR_EMPTY_LOGIN;
	if (req.f[PROTO_PASSWORD].len == 0)
		return PROTO_ERR_EMPTY_PASSWORD;
	*ret_req = req;
	return PROTO_COMPLETE;
}

const char *
proto_status_reason(enum proto_status st)
{
	switch (st) {
	case PROTO_ERR_TOOLONG:
		return "request field too long";
	case PROTO_ERR_NUL:
		return "NUL byte in request";
	case PROTO_ERR_CRLF:
		return "CR or LF in request";
	case PROTO_ERR_EMPTY_LOGIN:
		return "NULL login received";
	case PROTO_ERR_EMPTY_PASSWORD:
		return "NULL password received";
	case PROTO_ERR_TRAILING:
		return "malformed request";
	case PROTO_INCOMPLETE:
		return "truncated request";
	case PROTO_COMPLETE:
		break;
	}
	return "internal error";
}

size_t
proto_encode_reply(uint8_t *out, size_t outsz, const char *text)
{
	size_t n = strlen(text);

	if (n > SASLD_MAX_REPLY || outsz < n + 2)
		return 0;
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)(n & 0xff);
	memcpy(out + 2, text, n);
	return n + 2;
}

size_t
proto_encode_request(uint8_t *out, size_t outsz, const char *const fields[],
    const size_t lens[], int nfields)
{
	size_t off = 0, n;
	int i;

	if (nfields < 4 || nfields > PROTO_NFIELDS)
		return 0;
	for (i = 0; i < nfields; i++) {
		n = fields[i] == NULL ? 0 : lens[i];
		if (n > 0xffff || outsz - off < n + 2)
			return 0;
		out[off++] = (uint8_t)(n >> 8);
		out[off++] = (uint8_t)(n & 0xff);
		if (n > 0)
			memcpy(out + off, fields[i], n);
		off += n;
	}
	return off;
}

int
proto_decode_reply(
    const uint8_t *buf, size_t len, const uint8_t **ret_text, size_t *ret_len)
{
	size_t n;

	if (len < 2)
		return 0;
	n = get16(buf);
	if (n < 2)
		return -1;
	if (len - 2 < n)
		return 0;
	*ret_text = buf + 2;
	*ret_len = n;
	return 1;
}

int
proto_reply_is_ok(const uint8_t *text, size_t len)
{
	return len >= 2 && text[0] == 'O' && text[1] == 'K';
}

int
proto_addr_host(const struct proto_field_ref *addr, char *dst, size_t dstsz)
{
	const uint8_t *semi;
	size_t n, i;

	if (addr->ptr == NULL || addr->len == 0)
		return -1;
	/* "a.b.c.d;port" or "v6addr;port": the port follows the last ';'. */
	semi = NULL;
	for (i = addr->len; i > 0; i--)
		if (addr->ptr[i - 1] == ';') {
			semi = addr->ptr + i - 1;
			break;
		}
	n = semi != NULL ? (size_t)(semi - addr->ptr) : addr->len;
	if (n == 0 || n >= dstsz)
		return -1;
	for (i = 0; i < n; i++)
		if (addr->ptr[i] <= 0x20 || addr->ptr[i] >= 0x7f)
			return -1;
	memcpy(dst, addr->ptr, n);
	dst[n] = '\0';
	return 0;
}

int
proto_valid_service(const uint8_t *s, size_t len)
{
	size_t i;
	uint8_t ch;

	if (len == 0 || len > SASLD_MAX_SERVICE || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
			ch == '-' || ch == '+' || ch == '@'))
			return 0;
	}
	return 1;
}
