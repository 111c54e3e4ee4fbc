#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Client conformance: every real client gets the answers Cyrus saslauthd
# gives, through a pam_matrix stack and a pam_unix stack. The clients are
# testsaslauthd-ng, Cyrus testsaslauthd (Debian sasl2-bin, skipped when not
# installed), libsasl2's sasl_checkpass() (Postfix's path), an Exim-style
# sender (one write per field) and a 5-field sender (client address).
# Covered: right/wrong password, unknown user, failing account check, empty
# login and password (exact Cyrus reply texts), -r, a malformed client
# address, -n 0, pam_unix's failure delay, and the exact reply bytes (one
# counted string, sent in one write, then EOF).
. "$(dirname "$0")/lib.sh"

ADDR="192.0.2.1;25" # what a 5-field (Cyrus master) client sends
DELAY_MIN_MS=500 # pam_unix asks ~2 s (randomised by libpam)
# Every daemon here runs with --fail-delay-max 3: the same wrong password
# goes through five clients in turn, and repeated failures for one login
# wait longer (1, 2, 4 s ...; test_throttle), so the cap is what bounds
# them here; 3 s still lets PAM's own ~2 s show. An answer takes the delay
# plus PAM's time (seconds on a loaded machine with -n 0).
FAIL_DELAY_MAX=3
DELAY_MAX_MS=$((FAIL_DELAY_MAX * 1000 + 2000))

CLIENTS="testsaslauthd-ng sasl_checkpass exim 5-field"
if [ -x "$CYRUS_TESTSASLAUTHD" ]; then
	CLIENTS="testsaslauthd-ng cyrus-testsaslauthd sasl_checkpass exim 5-field"
else
	skip "Cyrus testsaslauthd: $CYRUS_TESTSASLAUTHD not installed" \
		"(apt-get install sasl2-bin)"
fi

now_ms() {
	date +%s%3N
}

# ask CLIENT LOGIN PASSWORD SERVICE REALM: one request through CLIENT.
# Sets OUT (stdout; for the raw clients only the reply text), RC and MS
# (wall-clock milliseconds, client start-up included).
ask() {
	local client=$1 login=$2 pw=$3 svc=$4 realm=$5 t0
	t0=$(now_ms)
	case $client in
	testsaslauthd-ng)
		OUT=$("$TESTSASLAUTHD" -f "$SOCK" -u "$login" -p "$pw" \
			-s "$svc" -r "$realm" 2>"$SB/stderr")
		RC=$?
		;;
	cyrus-testsaslauthd)
		OUT=$("$CYRUS_TESTSASLAUTHD" -f "$SOCK" -u "$login" -p "$pw" \
			-s "$svc" -r "$realm" 2>"$SB/stderr")
		RC=$?
		;;
	sasl_checkpass)
		# libsasl2 gets the realm as the connection's user_realm,
		# appends it and splits at the last '@' again.
		if [ -n "$realm" ]; then
			OUT=$("$SASL_CHECKPASS" "$SOCK" "$svc" "$login" "$pw" \
				"$realm" 2>"$SB/stderr")
		else
			OUT=$("$SASL_CHECKPASS" "$SOCK" "$svc" "$login" "$pw" \
				2>"$SB/stderr")
		fi
		RC=$?
		;;
	exim)
		OUT=$("$SASLRAW" -f "$SOCK" -s "$login" "$pw" "$svc" "$realm" \
			2>"$SB/stderr")
		RC=$?
		OUT=$(sed -n 's/^reply: //p' <<<"$OUT")
		;;
	5-field)
		OUT=$("$SASLRAW" -f "$SOCK" "$login" "$pw" "$svc" "$realm" \
			"$ADDR" 2>"$SB/stderr")
		RC=$?
		OUT=$(sed -n 's/^reply: //p' <<<"$OUT")
		;;
	esac
	MS=$(($(now_ms) - t0))
}

# want CLIENT REPLY: what CLIENT shows for the daemon's REPLY text; sets
# WANT_RC and WANT_OUT.
want() {
	local client=$1 reply=$2
	case $client in
	testsaslauthd-ng | cyrus-testsaslauthd)
		if [ "${reply:0:2}" = OK ]; then
			WANT_RC=0 WANT_OUT='0: OK "Success."'
		else
			WANT_RC=255 WANT_OUT='0: NO "authentication failed"'
		fi
		;;
	sasl_checkpass)
		# SASL_BADAUTH: saslauthd answered, and not OK. A transport
		# failure would be SASL_FAIL, "generic failure".
		if [ "${reply:0:2}" = OK ]; then
			WANT_RC=0 WANT_OUT=OK
		else
			WANT_RC=1 WANT_OUT="NO authentication failure"
		fi
		;;
	exim | 5-field)
		WANT_RC=0 WANT_OUT=$reply
		;;
	esac
}

# check CLIENT NAME LOGIN PASSWORD SERVICE REALM REPLY [delayed]
# REPLY is the daemon's exact reply text; "delayed": PAM asked for a
# failure delay, so the answer must take DELAY_MIN_MS..DELAY_MAX_MS.
check() {
	local client=$1 name=$2 reply=$7 delayed=${8:-}
	ask "$client" "$3" "$4" "$5" "$6"
	want "$client" "$reply"
	if [ "$client" = sasl_checkpass ] && [ -z "$3" ]; then
		# libsasl2 refuses an empty user itself ("All-whitespace
		# username"), as it does in front of Cyrus: any NO will do.
		[ "${OUT:0:3}" = "NO " ] && WANT_OUT=$OUT
	fi
	if [ "$RC" = "$WANT_RC" ] && [ "$OUT" = "$WANT_OUT" ]; then
		pass "$client: $name"
	else
		fail "$client: $name: got rc=$RC out='$OUT', want" \
			"rc=$WANT_RC out='$WANT_OUT' (stderr:" \
			"$(head -c 300 "$SB/stderr"))"
	fi
	if [ -n "$delayed" ]; then
		if [ "$MS" -ge $DELAY_MIN_MS ] && [ "$MS" -lt $DELAY_MAX_MS ]; then
			pass "$client: $name: failure delay honoured ($MS ms)"
		else
			fail "$client: $name: failure delay: got $MS ms, want" \
				"$DELAY_MIN_MS..$DELAY_MAX_MS ms"
		fi
	fi
}

# NAME|LOGIN|PASSWORD|SERVICE|REALM|REPLY[|delayed] (passdb in lib.sh)
MATRIX_CASES=(
	"pam_matrix right password|alice|Alice-pw1|smtp||OK"
	"pam_matrix wrong password|alice|wrong|smtp||NO PAM auth error"
	"pam_matrix unknown user|nosuchuser|Alice-pw1|smtp||NO PAM auth error"
	"pam_matrix account check fails|carol|Carol-pw3|smtp||NO PAM acct error"
	"empty login||Alice-pw1|smtp||NO NULL login received"
	"empty password|alice||smtp||NO NULL password received"
)
UNIX_CASES=(
	"pam_unix right password|unixuser|Unix-pw6|sasltest-unix||OK"
	"pam_unix wrong password|unixuser|wrong|sasltest-unix||NO PAM auth error|delayed"
	"pam_unix unknown user|nosuchuser|Unix-pw6|sasltest-unix||NO PAM auth error|delayed"
)
# Without -r the realm never reaches PAM (Cyrus: auth_pam ignores it).
NO_R_CASES=(
	"no -r: realm not appended to the PAM user|alice|Realm-pw4|smtp|example.com|NO PAM auth error"
	"no -r: realm ignored, plain login used|alice|Alice-pw1|smtp|example.com|OK"
)
# With -r the PAM user is login@realm whenever the realm is non-empty.
R_CASES=(
	"-r: login+realm authenticates as login@realm|alice|Realm-pw4|smtp|example.com|OK"
	"-r: login+realm is not the plain login|alice|Alice-pw1|smtp|example.com|NO PAM auth error"
	"-r: empty realm keeps the plain login|alice|Alice-pw1|smtp||OK"
)

# run_cases PREFIX CASE...: every case through every client.
run_cases() {
	local prefix=$1 c client name login pw svc realm reply delayed
	shift
	for c in "$@"; do
		IFS='|' read -r name login pw svc realm reply delayed <<<"$c"
		for client in $CLIENTS; do
			check "$client" "$prefix$name" "$login" "$pw" "$svc" \
				"$realm" "$reply" "$delayed"
		done
	done
}

# hexof TEXT: the reply TEXT as the counted string on the wire, in hex.
hexof() {
	printf '%04x' "${#1}"
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# raw_bytes NAME REPLY SASLRAW-ARGS...: the bytes received up to EOF are
# exactly the counted string of REPLY, and the first read() got all of it.
raw_bytes() {
	local name=$1 reply=$2 out rc raw first whex
	shift 2
	out=$("$SASLRAW" -f "$SOCK" -X "$@" 2>"$SB/stderr")
	rc=$?
	raw=$(sed -n 's/^raw: //p' <<<"$out")
	first=$(sed -n 's/^first_read: //p' <<<"$out")
	whex=$(hexof "$reply")
	if [ "$rc" = 0 ] && [ "$raw" = "$whex" ]; then
		pass "$name: bytes up to EOF are exactly '$reply'"
	else
		fail "$name: got rc=$rc bytes $raw, want rc=0 bytes $whex" \
			"then EOF ($(tr '\n' ' ' <<<"$out"))"
	fi
	if [ "$first" = $((${#whex} / 2)) ]; then
		pass "$name: the first read got the whole reply"
	else
		fail "$name: first read got $first bytes, want $((${#whex} / 2))" \
			"(the reply must be one write)"
	fi
}

# ---- default pool (-n 2) ------------------------------------------------
start_daemon -n 2 --fail-delay-max $FAIL_DELAY_MAX || {
	fail "start -n 2"
	finish
}
run_cases "" "${MATRIX_CASES[@]}" "${UNIX_CASES[@]}" "${NO_R_CASES[@]}"

# libsasl2 splits "user@realm" at the last '@' and sends the realm; without
# -r PAM sees only "alice". testsaslauthd sends -u verbatim (Cyrus §3.4).
check sasl_checkpass "no -r: user@realm is split, PAM user is the login" \
	alice@example.com Realm-pw4 smtp "" "NO PAM auth error"
check testsaslauthd-ng "no -r: -u user@realm is sent verbatim" \
	alice@example.com Realm-pw4 smtp "" OK

# The exact bytes: one counted string, no NUL, in one write, then EOF
# (the daemon half-closes).
raw_bytes "OK reply" "OK" alice Alice-pw1 smtp ""
raw_bytes "wrong password reply" "NO PAM auth error" alice wrong smtp ""
raw_bytes "account failure reply" "NO PAM acct error" \
	carol Carol-pw3 smtp ""
raw_bytes "empty login reply" "NO NULL login received" "" x smtp ""
raw_bytes "empty password reply" "NO NULL password received" \
	alice "" smtp ""
raw_bytes "Exim-style OK reply" "OK" -s alice Alice-pw1 smtp ""
raw_bytes "5-field OK reply" "OK" alice Alice-pw1 smtp "" "$ADDR"
raw_bytes "delayed pam_unix failure reply" "NO PAM auth error" \
	unixuser wrong sasltest-unix ""

# The reply as the front sends it: one send() of the whole counted
# string, never the length word alone (Cyrus writes them separately).
FRONT=$(front_pid)
if ! command -v strace >/dev/null; then
	skip "one-write check in the front: strace not installed"
elif [ -z "$FRONT" ]; then
	fail "one-write check: no front process found"
else
	strace -qq -f -p "$FRONT" -e trace=write,writev,sendto,sendmsg \
		-o "$SB/strace" 2>"$SB/strace.err" &
	STRACE=$!
	for _ in $(seq 1 50); do # until attached
		grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$FRONT/status" &&
			break
		sleep 0.1
	done
	"$SASLRAW" -f "$SOCK" alice Alice-pw1 smtp "" >/dev/null
	"$SASLRAW" -f "$SOCK" alice wrong smtp "" >/dev/null
	sleep 0.3
	kill -INT "$STRACE" 2>/dev/null
	wait "$STRACE" 2>/dev/null
	ok_w=$(grep -c '"\\0\\2OK", 4' "$SB/strace")
	no_w=$(grep -c '"\\0\\21NO PAM auth error", 19' "$SB/strace")
	lone=$(grep -cE '"\\0(\\2|\\21)", 2[,)]' "$SB/strace")
	if [ ! -s "$SB/strace" ]; then
		skip "one-write check: strace could not trace the front" \
			"($(head -c 200 "$SB/strace.err"))"
	elif [ "$ok_w" = 1 ] && [ "$no_w" = 1 ] && [ "$lone" = 0 ]; then
		pass "front sends each reply in one write (strace)"
	else
		fail "front reply writes: got $ok_w whole OK, $no_w whole NO," \
			"$lone lone length words; want 1, 1, 0 ($(grep -E \
				'sendto|write' "$SB/strace" | head -c 600))"
	fi
	rm -f "$SB/strace"
fi

# A malformed fifth field is only logged; the answer is unchanged.
for a in ";25" "no-port" "a b;25" ";" "192.0.2.1;;;" "[2001:db8::1];25" \
	$'\xff\xfe;1' "$(printf 'x%.0s' $(seq 1 200));25" ""; do
	out=$("$SASLRAW" -f "$SOCK" alice Alice-pw1 smtp "" "$a" 2>&1)
	got=$(sed -n 's/^reply: //p' <<<"$out")
	[ "$got" = OK ] &&
		pass "5-field with address '${a:0:20}': right password OK" ||
		fail "5-field with address '${a:0:20}': got '$got', want OK" \
			"($(tr '\n' ' ' <<<"$out"))"
	out=$("$SASLRAW" -f "$SOCK" alice wrong smtp "" "$a" 2>&1)
	got=$(sed -n 's/^reply: //p' <<<"$out")
	[ "$got" = "NO PAM auth error" ] &&
		pass "5-field with address '${a:0:20}': wrong password NO" ||
		fail "5-field with address '${a:0:20}': got '$got', want" \
			"'NO PAM auth error'"
done
stop_daemon

# ---- -r -------------------------------------------------------------------
start_daemon -n 2 -r --fail-delay-max $FAIL_DELAY_MAX || {
	fail "start -r"
	finish
}
run_cases "" "${R_CASES[@]}"
check sasl_checkpass "-r: user@realm authenticates as user@realm" \
	alice@example.com Realm-pw4 smtp "" OK
check sasl_checkpass "-r: user@realm with the plain login's password" \
	alice@example.com Alice-pw1 smtp "" "NO PAM auth error"
stop_daemon

# ---- -n 0: a fresh worker for every request -------------------------------
start_daemon -n 0 --fail-delay-max $FAIL_DELAY_MAX || {
	fail "start -n 0"
	finish
}
w=$(worker_pids)
[ -z "$w" ] && pass "-n 0: no PAM worker waits before a request" ||
	fail "-n 0: got idle workers $w before any request, want none"
run_cases "-n 0: " "${MATRIX_CASES[@]}" "${UNIX_CASES[@]}"
stop_daemon

finish
