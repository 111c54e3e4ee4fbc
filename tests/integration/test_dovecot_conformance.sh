#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Conformance: the same Dovecot auth protocol transcripts played (dvraw)
# against saslauthd-ng and against Dovecot's own auth server (Debian's
# dovecot-core, started privately: its own config, base_dir and log under
# $SB, a PAM passdb with the request's service, only the auth service
# listening, on a UNIX socket; no system Dovecot is touched). The
# normalised replies (pids, cuids, cookies and mechanisms other than PLAIN
# and LOGIN left out) must be equal, except for the differences listed in
# DELIBERATE below, each with its reason; a listed difference that
# disappears fails too, so the list stays true. Prints the results table.
. "$(dirname "$0")/lib.sh"

DVRAW="$SASLD_BUILD/bin/dvraw"
DOVECOT=/usr/sbin/dovecot
if [ ! -x "$DOVECOT" ] || [ ! -x /usr/lib/dovecot/auth ]; then
	echo "SKIP: Dovecot is not installed (tests/deps.sh installs" \
		"dovecot-core without starting it)"
	exit 77
fi
for u in dovecot dovenull; do
	if ! id "$u" >/dev/null 2>&1; then
		echo "SKIP: no user $u (is dovecot-core installed?)"
		exit 77
	fi
done

# The package must not have started a system instance (deps.sh and
# .ci/run install it under a policy-rc.d that refuses service starts).
sys_dovecot=$(pgrep -x dovecot)
if [ -n "$sys_dovecot" ]; then
	if [ "${CI:-}" = true ]; then
		fail "a system Dovecot runs (pid $sys_dovecot): the install" \
			"started it"
	else
		skip "a system Dovecot runs here (pid $sys_dovecot); this test" \
			"uses its own instance beside it"
	fi
else
	pass "no system Dovecot running"
fi

OURS="$SB/ng/auth"
DC="$SB/dovecot"
THEIRS="$DC/auth-client"
DC_MASTER=
b64() { printf "$1" | base64 -w0; }

# ---- the two servers ------------------------------------------------------------
"$DAEMON" -a pam -d -n 2 -m "$RUN" --listen "dovecot:$OURS" \
	2>"$SB/ng.log" &
DAEMON_PID=$!

mkdir -p "$DC/run" "$DC/state"
chmod 0755 "$SB" "$DC"
cat >"$DC/dovecot.conf" <<EOF
# Only the auth service, on one UNIX socket: no protocol, so nothing
# listens on the network (listen may not be empty).
base_dir = $DC/run
state_dir = $DC/state
instance_name = sasld-conformance
protocols =
listen = 127.0.0.1
ssl = no
log_path = $DC/log
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_verbose = yes
# The PAM service is the request's service= (smtp from Postfix), as
# saslauthd-ng does without --pam-service.
passdb {
  driver = pam
  args = %s
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service auth {
  unix_listener $THEIRS {
    mode = 0666
  }
}
EOF
"$DOVECOT" -F -c "$DC/dovecot.conf" 2>"$DC/stderr" &
DC_MASTER=$!
stop_dovecot() {
	[ -n "$DC_MASTER" ] || return 0
	kill -TERM "$DC_MASTER" 2>/dev/null
	local i
	for i in $(seq 1 100); do
		kill -0 "$DC_MASTER" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DC_MASTER" 2>/dev/null
	DC_MASTER=
}
cleanup_conf() {
	local rc=$?
	stop_dovecot
	# cleanup_sb exits with the status it finds: the test's own.
	(exit $rc)
	cleanup_sb
}
trap cleanup_conf EXIT

for _ in $(seq 1 150); do
	[ -S "$OURS" ] && [ -S "$THEIRS" ] && break
	sleep 0.1
done
if [ ! -S "$THEIRS" ]; then
	fail "Dovecot did not start: $(cat "$DC/stderr" "$DC/log" 2>/dev/null)"
	finish
fi
[ -S "$OURS" ] || {
	fail "saslauthd-ng did not start: $(cat "$SB/ng.log")"
	finish
}
pass "saslauthd-ng and Dovecot $("$DOVECOT" --version | cut -d' ' -f1) serve"

# ---- transcripts -------------------------------------------------------------------
# Written to $SB/t/NAME; every one starts with the handshake.
mkdir "$SB/t"
# rip= is set per transcript when it is played (@RIP@): Dovecot's anvil
# penalty delays every request from an address that failed before, by 4 to
# 15 s - more than Postfix (and this test) waits (reference B.6).
AUTH='AUTH\t%s\t%s\tservice=smtp\tnologin\tlip=127.0.0.1\trip=@RIP@'
auth() { printf "> $AUTH%s\n" "$1" "$2" "${3:-}"; }
hello() { printf '%s\n' H '> VERSION\t1\t0' '> CPID\t4242'; }
P_OK=$(b64 '\0alice\0Alice-pw1')
P_BAD=$(b64 '\0alice\0wrong')
t() { cat >"$SB/t/$1"; }

hello | t handshake
{ hello; auth 1 PLAIN "\tresp=$P_OK"; echo '<'; } | t plain-ok
{ hello; auth 1 PLAIN "\tresp=$P_BAD"; echo '<'; } | t plain-bad
{
	hello
	auth 1 PLAIN
	echo '<'
	echo "> CONT\t1\t$P_OK"
	echo '<'
} | t plain-cont
{
	hello
	auth 1 LOGIN
	echo '<'
	echo "> CONT\t1\t$(b64 alice)"
	echo '<'
	echo "> CONT\t1\t$(b64 Alice-pw1)"
	echo '<'
} | t login-ok
{
	hello
	auth 1 LOGIN "\tresp=$(b64 alice)"
	echo '<'
	echo "> CONT\t1\t$(b64 wrong)"
	echo '<'
} | t login-bad
{
	hello
	auth 1 LOGIN
	echo '<'
	echo "> CONT\t1\t*"
	echo '<'
	auth 2 PLAIN "\tresp=$P_OK"
	echo '<'
} | t abort-star
{
	hello
	auth 1 LOGIN
	echo '<'
	auth 2 PLAIN "\tresp=$P_OK"
	echo '<'
	echo 'Q 500'
} | t abandoned
{ hello; auth 1 CRAM-MD5; echo E; } | t unknown-mech
{
	hello
	auth 1 PLAIN '\tresp=AGFsaWNl!!!'
	echo '<'
	auth 2 PLAIN
	echo '<'
	echo '> CONT\t2\tnot base64'
	echo '<'
	auth 3 PLAIN "\tresp=$P_OK"
	echo '<'
} | t bad-base64
{
	hello
	auth 1 LOGIN
	echo '<'
	auth 1 PLAIN "\tresp=$P_OK"
	echo E
} | t duplicate-id
{ echo H; auth 1 PLAIN "\tresp=$P_OK"; echo E; } | t auth-before-version
{ hello; echo '> @17000:A'; echo E; } | t long-line
{ hello; echo '> HELLO\tworld'; echo E; } | t unknown-command
{ hello; echo "> CONT\t9\t$P_OK"; echo '<'; } | t cont-unknown-id
{
	hello
	auth 1 LOGIN
	echo '<'
	echo '> CANCEL\t1'
	echo "> CONT\t1\t$(b64 alice)"
	echo '<'
} | t cancel
{ hello; auth 1 PLAIN "\tresp=$(b64 'bob\0alice\0Alice-pw1')"; echo '<'; } |
	t authzid-other
{ hello; auth 1 PLAIN "\tresp=$(b64 'alice\0alice\0Alice-pw1')"; echo '<'; } |
	t authzid-same
{ hello; auth 1 PLAIN "\tresp=$(b64 'alice')"; echo '<'; } | t plain-no-nul
{ hello; auth 1 PLAIN "\tresp=$(b64 '\0alice\0')"; echo '<'; } |
	t plain-empty-password
{
	hello
	auth 1 PLAIN "\tresp=$(b64 '\0alice\0Alice-pw1\0junk')"
	echo '<'
} | t plain-nul-in-password
{
	hello
	auth 1 LOGIN "\tresp=$(b64 alice)"
	echo '<'
	echo "> CONT\t1\t$(b64 'Alice-pw1\0junk')"
	echo '<'
} | t login-nul-in-password
{ hello; auth 1 PLAIN '\tresp='; echo '<'; } | t empty-resp-minor0
{
	printf '%s\n' H '> VERSION\t1\t2' '> CPID\t4242'
	auth 1 PLAIN '\tresp='
	echo '<'
} | t empty-resp-minor2
{ hello; auth 1 LOGIN "\tresp=$(b64 alice)\tsecured"; echo E; } |
	t field-after-resp
{ hello; printf '> AUTH\t1\tPLAIN\tresp=%s\n' "$P_OK"; echo E; } | t no-service
{ hello; auth 1 PLAIN "\tsecured\tresp=$P_OK"; echo '<'; } | t secured
{ hello; auth 1 plain "\tresp=$P_OK"; echo '<'; } | t mech-lowercase

# DELIBERATE NAME: why the servers answer differently (the README's
# "Dovecot protocol" notes and proto_dovecot.c's header say the same).
declare -A DELIBERATE=(
	[unknown-mech]="Dovecot disconnects; saslauthd-ng answers FAIL and keeps the connection (reference A.5: Postfix pre-checks mechanisms, other clients get an answer)"
)

# ---- play and compare --------------------------------------------------------------
TABLE="$SB/table"
printf '%-24s %-12s %s\n' TRANSCRIPT RESULT "FIRST REPLY (saslauthd-ng | Dovecot)" \
	>"$TABLE"
first_reply() { # the first line after the handshake, or EOF
	grep -vE '^< (VERSION|MECH|SPID|CUID|COOKIE|DONE)' "$1" | head -1
}
# Dovecot ends OK lines with a TAB (an empty field list after user=),
# which clients ignore as an empty field: not compared.
norm() { sed -E 's/^(< OK\\t.*)\\t$/\1/' "$1" >"$1.n" && mv "$1.n" "$1"; }
same=0
differ=0
i=0
for f in "$SB/t"/*; do
	name=${f##*/}
	i=$((i + 1))
	sed "s/@RIP@/192.0.2.$i/g" "$f" >"$f.play"
	# Both at once: failure delays (2 s each side) overlap.
	"$DVRAW" -t 10 "$OURS" <"$f.play" >"$SB/ours.$name" 2>&1 &
	"$DVRAW" -t 10 "$THEIRS" <"$f.play" >"$SB/theirs.$name" 2>&1
	wait $!
	norm "$SB/theirs.$name"
	a=$(first_reply "$SB/ours.$name")
	b=$(first_reply "$SB/theirs.$name")
	if cmp -s "$SB/ours.$name" "$SB/theirs.$name"; then
		if [ -n "${DELIBERATE[$name]:-}" ]; then
			fail "$name: listed as a deliberate difference, but both" \
				"answer the same: $(cat "$SB/ours.$name")"
		else
			pass "$name: same replies"
			same=$((same + 1))
		fi
		printf '%-24s %-12s %s\n' "$name" same "$a" >>"$TABLE"
	elif [ -n "${DELIBERATE[$name]:-}" ]; then
		pass "$name: differs as documented: ${DELIBERATE[$name]}"
		differ=$((differ + 1))
		printf '%-24s %-12s %s | %s\n' "$name" deliberate "$a" "$b" \
			>>"$TABLE"
	else
		fail "$name: replies differ:"$'\n'"$(diff "$SB/ours.$name" \
			"$SB/theirs.$name")"
		printf '%-24s %-12s %s | %s\n' "$name" DIFFERENT "$a" "$b" \
			>>"$TABLE"
	fi
	grep -q '^= CONNECT FAILED' "$SB/ours.$name" "$SB/theirs.$name" &&
		fail "$name: a server refused the connection"
done
echo "---- conformance with Dovecot: $same same, $differ deliberate differences ----"
cat "$TABLE"
echo "---- the full replies of one transcript (login-ok), saslauthd-ng:"
cat "$SB/ours.login-ok"

stop_dovecot
pgrep -f "$DC/dovecot.conf" >/dev/null &&
	fail "a Dovecot process of this test outlived the test" ||
	pass "no Dovecot process left"
finish
