#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Postfix end to end: a private Postfix instance (its own config, queue and
# data directories under $SB, started with postfix -c; the system instance
# and /etc/postfix are never used) with smtpd chrooted in its queue
# directory and Cyrus SASL (pwcheck_method: saslauthd, no saslauthd_path),
# so libsasl2 in the jail connects to its compiled-in
# /var/run/saslauthd/mux, which is $QUEUE/var/run/saslauthd/mux outside -
# the Debian recipe, postfix in group sasl included. swaks authenticates
# with PLAIN and LOGIN, right and wrong password, on a listener allowing
# AUTH in plaintext and on one with STARTTLS and smtpd_tls_auth_only.
# Checked: the SMTP reply codes in swaks' transcripts, no AUTH before
# STARTTLS on the TLS-only port, smtpd really chrooted, the PAM service
# (smtp) in the daemon's log, and nothing of the instance left afterwards.
. "$(dirname "$0")/lib.sh"

POSTFIX=/usr/sbin/postfix
SWAKS=/usr/bin/swaks
PF="$SB/postfix"
CONF="$PF/conf"   # main.cf, master.cf, sasl/smtpd.conf, TLS key and cert
QUEUE="$PF/queue" # queue_directory = smtpd's chroot jail
DATA="$PF/data"   # data_directory
MAILLOG="$PF/maillog"
SASLLOG="$SB/saslauthd.log"
MASTER_PID=
DEADLINE_S=20 # per wait; generous for a loaded 2-core machine

for need in "$POSTFIX" "$SWAKS" /usr/bin/openssl; do
	if [ ! -x "$need" ]; then
		echo "SKIP: $need not installed (tests/deps.sh installs postfix," \
			"swaks, openssl)"
		exit 77
	fi
done
if ! perl -MIO::Socket::SSL -e 1 2>/dev/null; then
	echo "SKIP: swaks needs IO::Socket::SSL for STARTTLS" \
		"(apt-get install libio-socket-ssl-perl)"
	exit 77
fi
if ! id postfix >/dev/null 2>&1; then
	echo "SKIP: no postfix user (is the postfix package installed?)"
	exit 77
fi

now_ms() {
	date +%s%3N
}
T0=$(now_ms)

# wait_for DESCRIPTION CMD...: polls CMD every 50 ms until it succeeds or
# DEADLINE_S passes.
wait_for() {
	local what=$1 end
	shift
	end=$(($(now_ms) + DEADLINE_S * 1000))
	until "$@"; do
		if [ "$(now_ms)" -ge "$end" ]; then
			echo "timed out after ${DEADLINE_S} s waiting for $what"
			return 1
		fi
		sleep 0.05
	done
}

# A free loopback TCP port: not listening on any address (from /proc, no
# extra tools) and not one already picked.
port_listening() { # PORT
	local hex
	hex=$(printf ':%04X ' "$1")
	# Field 2 is local address:port, field 4 the state (0A = LISTEN).
	awk -v p="$hex" 'NR > 1 && index($2 " ", p) && $4 == "0A" \
		{ found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6
}
pick_port() { # [PORT TO AVOID]
	local p _
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		[ "$p" != "${1:-}" ] && ! port_listening "$p" && {
			echo "$p"
			return 0
		}
	done
	return 1
}
port_open() { # PORT: something accepts on 127.0.0.1:PORT
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Every process whose root or cwd is inside $SB, but the PIDs given: what
# would survive the test (the Postfix daemons chdir to the queue, smtpd
# chroots into it; the daemon's front chroots into an empty directory in
# its run directory $RUN, also inside $SB).
procs_in_sb() { # [PID TO IGNORE...]
	local d p r c
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		case " $* $$ $BASHPID " in *" $p "*) continue ;; esac
		r=$(readlink "$d/root" 2>/dev/null)
		c=$(readlink "$d/cwd" 2>/dev/null)
		case "$r/ $c/" in
		*"$SB/"*) echo "$p" ;;
		esac
	done
}
daemon_pids() {
	[ -n "$DAEMON_PID" ] || return 0
	echo "$DAEMON_PID" $(pgrep -P "$DAEMON_PID")
}
# shellcheck disable=SC2046 # PID lists are split on purpose.
postfix_gone() {
	[ -z "$(procs_in_sb $(daemon_pids))" ]
}

# shellcheck disable=SC2046
stop_postfix() {
	[ -n "$MASTER_PID" ] || return 0
	# master TERMs its children and exits; then wait until no process
	# of the instance is left, KILL (by PID) whatever outlives that.
	kill -TERM "$MASTER_PID" 2>/dev/null
	MASTER_PID=
	wait_for "Postfix to exit" postfix_gone ||
		kill -KILL $(procs_in_sb $(daemon_pids)) 2>/dev/null
}
# shellcheck disable=SC2046
cleanup_postfix() {
	local rc=$? left
	stop_postfix
	stop_daemon
	# Safety net: whatever still runs inside $SB was started by this test.
	left=$(procs_in_sb)
	[ -z "$left" ] || kill -KILL $left 2>/dev/null
	# cleanup_sb exits with the status it finds: the test's own.
	(exit $rc)
	cleanup_sb
}
# finish_pf: finish, with both logs on failure.
finish_pf() {
	if [ "$FAILED" != 0 ]; then
		echo "---- Postfix maillog ----"
		cat "$MAILLOG" 2>/dev/null
		echo "---- saslauthd-ng log ----"
		cat "$SASLLOG" 2>/dev/null
	fi
	finish
}
trap cleanup_postfix EXIT

# ---- the daemon -----------------------------------------------------------
# The ONE place saslauthd-ng is started for Postfix: its normal socket in
# $RUN and, with --postfix-chroot, $QUEUE/var/run/saslauthd/mux - the path
# libsasl2 finds inside smtpd's jail with no saslauthd_path.
# Foreground (-f) in the background so its log (stderr) can be read.
start_saslauthd() {
	"$DAEMON" -a pam -f -n 2 -m "$RUN" --postfix-chroot="$QUEUE" \
		2>"$SASLLOG" &
	DAEMON_PID=$!
	wait_for "saslauthd-ng's socket in the jail" daemon_up &&
		[ -S "$QUEUE/var/run/saslauthd/mux" ]
}
daemon_up() { # the socket is there, or the daemon is gone
	[ -S "$QUEUE/var/run/saslauthd/mux" ] ||
		! kill -0 "$DAEMON_PID" 2>/dev/null
}

# ---- the Postfix instance -------------------------------------------------
PORT_PLAIN=$(pick_port) && PORT_TLS=$(pick_port "$PORT_PLAIN") || {
	fail "no free loopback port found"
	finish
}
mkdir -p "$CONF/sasl" "$CONF/tls" "$QUEUE" "$DATA"
# master and the unchrooted daemons open files in data_directory as user
# postfix by absolute path: $SB (mktemp's 0700) must be searchable.
chmod 0711 "$SB"
chmod 0755 "$PF" "$CONF" "$QUEUE"
chown postfix: "$DATA"
chmod 0700 "$DATA"

# The Debian recipe: smtpd (user postfix) reaches the root:sasl 0710 socket
# directory through the sasl group.
usermod -a -G sasl postfix

# Self-signed certificate (P-256: quick to make on a busy machine).
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	-nodes -days 2 -subj /CN=mx.example.test \
	-keyout "$CONF/tls/key.pem" -out "$CONF/tls/cert.pem" \
	>"$SB/openssl.err" 2>&1; then
	fail "openssl req: $(cat "$SB/openssl.err")"
	finish
fi
chmod 0600 "$CONF/tls/key.pem"

# Cyrus SASL for the application "smtpd": saslauthd, no saslauthd_path
# (libsasl2's compiled-in /var/run/saslauthd/mux, inside the jail).
cat >"$CONF/sasl/smtpd.conf" <<EOF
pwcheck_method: saslauthd
mech_list: PLAIN LOGIN
EOF

cat >"$CONF/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $CONF
queue_directory = $QUEUE
data_directory = $DATA
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydomain = example.test
mydestination =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# No local delivery: nothing for smtpd to open through proxymap.
local_recipient_maps =
alias_maps =
maillog_file = $MAILLOG
maillog_file_prefixes = $SB
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
# smtpd_sasl_path (smtpd: sasl/smtpd.conf) and smtpd_sasl_service (smtp:
# the PAM service) keep their defaults, as on a real system.
cyrus_sasl_config_path = $CONF/sasl
smtpd_sasl_security_options = noanonymous
smtpd_tls_cert_file = $CONF/tls/cert.pem
smtpd_tls_key_file = $CONF/tls/key.pem
smtpd_tls_security_level = none
EOF

# Only what the test needs; both smtpd listeners chrooted (column 5 = y).
cat >"$CONF/master.cf" <<EOF
127.0.0.1:$PORT_PLAIN inet n - y - - smtpd
  -o syslog_name=postfix/plain
127.0.0.1:$PORT_TLS inet n - y - - smtpd
  -o syslog_name=postfix/tlsonly
  -o smtpd_tls_security_level=may
  -o smtpd_tls_auth_only=yes
anvil     unix  -       -       n       -       1       anvil
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

# What Debian's configure-instance.sh copies into the jail, as far as
# smtpd needs it (name lookups of the client address, services). Not its
# copies of libnss/libresolv: glibc 2.34+ has files and dns built in.
for f in etc/localtime etc/services etc/resolv.conf etc/hosts etc/host.conf \
	etc/nsswitch.conf; do
	mkdir -p "$QUEUE/${f%/*}"
	[ -f "/$f" ] && cp -L "/$f" "$QUEUE/$f" && chmod a+rX "$QUEUE/$f"
done
# $QUEUE/var/run/saslauthd is left to the daemon (root:sasl 0710).

start_saslauthd || {
	fail "saslauthd-ng did not start"
	finish_pf
}
st=$(stat -c '%U:%G %a' "$QUEUE/var" "$QUEUE/var/run" \
	"$QUEUE/var/run/saslauthd" | sort -u)
[ "$st" = "root:sasl 710" ] &&
	pass "socket directories in the jail made root:sasl 0710" ||
	fail "socket directories in the jail: $st, want root:sasl 710"

# ---- saslauthd-ng --check on this set-up -----------------------------------
# pf_check NAME WANT_RC REGEX...: --check with the daemon's options and
# this instance's configuration directory; every REGEX must match.
pf_check() {
	local name=$1 want=$2 out rc re
	shift 2
	out=$("$DAEMON" --check -m "$RUN" --postfix-chroot="$QUEUE" \
		--postfix-config "$CONF" 2>&1)
	rc=$?
	echo "$out" >"$SB/check.$name"
	[ "$rc" = "$want" ] || {
		fail "--check $name: rc $rc, want $want: $out"
		return
	}
	for re in "$@"; do
		grep -Eq -- "$re" "$SB/check.$name" || {
			fail "--check $name: no /$re/ in: $out"
			return
		}
	done
	pass "--check $name: rc $want"
}
pf_check ok 0 "^ok: 127.0.0.1:$PORT_PLAIN/inet: user postfix reaches" \
	"^ok: 127.0.0.1:$PORT_TLS/inet: user postfix reaches" "^no problems"
echo "---- saslauthd-ng --check on this set-up ----"
cat "$SB/check.ok"
gpasswd -d postfix sasl >/dev/null
pf_check no-group 1 \
	"^PROBLEM: $QUEUE/var \(owner 0, group sasl, mode 0710\) does not let user postfix reach the socket" \
	"fix: adduser postfix sasl"
usermod -a -G sasl postfix
chmod 0700 "$QUEUE/var/run/saslauthd"
pf_check dir-closed 1 \
	"^PROBLEM: $QUEUE/var/run/saslauthd \(owner 0, group sasl, mode 0700\)" \
	"fix: chgrp sasl $QUEUE/var/run/saslauthd && chmod 0710"
chmod 0710 "$QUEUE/var/run/saslauthd"
cp "$CONF/sasl/smtpd.conf" "$SB/smtpd.conf.good"
echo "saslauthd_path: /var/run/saslauthd" >>"$CONF/sasl/smtpd.conf"
pf_check no-mux 1 "saslauthd_path: /var/run/saslauthd is a directory" \
	"fix: put this line in $CONF/sasl/smtpd.conf:  saslauthd_path: /var/run/saslauthd/mux"
echo "---- saslauthd-ng --check, saslauthd_path without /mux ----"
grep -E '^(PROBLEM|    fix)' "$SB/check.no-mux"
cp "$SB/smtpd.conf.good" "$CONF/sasl/smtpd.conf"
pf_check restored 0 "^no problems"

"$POSTFIX" -c "$CONF" start >"$SB/postfix.out" 2>&1
rc=$?
# Even after a failed start a master may run: the trap must stop it.
MASTER_PID=$(tr -d ' ' 2>/dev/null <"$QUEUE/pid/master.pid")
kill -0 "$MASTER_PID" 2>/dev/null || MASTER_PID=
if [ $rc != 0 ] || [ -z "$MASTER_PID" ]; then
	# Without a terminal Postfix reports only to the maillog, which an
	# early error never reaches: re-check with one (script(1)).
	fail "postfix -c CONF start: rc $rc, master '$MASTER_PID':" \
		"$(cat "$SB/postfix.out")" \
		"$(script -qc "$POSTFIX -c $CONF check" /dev/null </dev/null |
			head -5)"
	finish_pf
fi
pass "private Postfix instance started (master $MASTER_PID)"
wait_for "smtpd listeners" port_open "$PORT_PLAIN" &&
	wait_for "smtpd listeners" port_open "$PORT_TLS" || {
	fail "Postfix does not listen on $PORT_PLAIN/$PORT_TLS"
	finish_pf
}

# ---- AUTH through Postfix ------------------------------------------------
PW=Alice-pw1
BAD_PW=Wrong-pw9

# swaks_auth NAME PORT MECH PASSWORD [--tls]: one AUTH, quitting after it;
# the transcript is kept in $SB/swaks.NAME. Sets CODE to the server's reply
# to AUTH (the first one after the AUTH line that is not a 334 challenge).
swaks_auth() {
	local name=$1 port=$2 mech=$3 pw=$4
	shift 4
	"$SWAKS" --server 127.0.0.1 --port "$port" --timeout 15 \
		--ehlo client.example.test --to postmaster@example.test \
		--auth "$mech" --auth-user alice --auth-password "$pw" \
		--quit-after AUTH "$@" </dev/null >"$SB/swaks.$name" 2>&1
	# Client lines are " -> " (" ~> " inside TLS), server lines "<- ",
	# "<~ ", or with a '*' for an error reply ("<** ", "<~* ").
	CODE=$(awk -v m="$mech" '
		$1 ~ /^[-~]>$/ && $2 == "AUTH" && $3 == m { a = 1; next }
		a && $1 ~ /^<[-~*]+$/ && $2 != "334" { print $2; exit }' \
		"$SB/swaks.$name")
}
# want_auth NAME PORT MECH PASSWORD WANT_CODE [--tls]
want_auth() {
	local name=$1 port=$2 mech=$3 pw=$4 want=$5
	shift 5
	swaks_auth "$name" "$port" "$mech" "$pw" "$@"
	if [ "$CODE" = "$want" ]; then
		pass "$name: AUTH $mech answered $want"
	else
		fail "$name: AUTH $mech answered '${CODE}', want $want;" \
			"transcript: $(cat "$SB/swaks.$name")"
	fi
}
# ehlo_lists NAME KEYWORD: the (last) EHLO reply in transcript NAME lists
# the extension, e.g. "AUTH PLAIN LOGIN".
ehlo_lists() {
	grep -Eq "^<[-~]  250[- ]$2\$" "$SB/swaks.$1"
}

# The plaintext listener: AUTH offered without TLS, no STARTTLS at all.
want_auth plain-PLAIN-ok "$PORT_PLAIN" PLAIN "$PW" 235
ehlo_lists plain-PLAIN-ok "AUTH PLAIN LOGIN" &&
	! ehlo_lists plain-PLAIN-ok STARTTLS &&
	pass "plaintext port offers AUTH PLAIN LOGIN and no STARTTLS" ||
	fail "plaintext port EHLO: $(grep '250' "$SB/swaks.plain-PLAIN-ok")"
want_auth plain-PLAIN-bad "$PORT_PLAIN" PLAIN "$BAD_PW" 535
want_auth plain-LOGIN-ok "$PORT_PLAIN" LOGIN "$PW" 235
want_auth plain-LOGIN-bad "$PORT_PLAIN" LOGIN "$BAD_PW" 535

# The STARTTLS listener with smtpd_tls_auth_only: no AUTH before STARTTLS,
# and a client that sends AUTH anyway is refused before any check.
"$SWAKS" --server 127.0.0.1 --port "$PORT_TLS" --timeout 15 \
	--ehlo client.example.test --to postmaster@example.test \
	--quit-after EHLO </dev/null >"$SB/swaks.tls-ehlo" 2>&1
ehlo_lists tls-ehlo STARTTLS && ! grep -q AUTH "$SB/swaks.tls-ehlo" &&
	pass "TLS-only port offers STARTTLS and no AUTH before it" ||
	fail "TLS-only port EHLO before STARTTLS: $(cat "$SB/swaks.tls-ehlo")"

# smtp_reply: one SMTP reply from fd 3; prints its last line.
smtp_reply() {
	local l
	while IFS= read -r -t 15 l <&3; do
		l=${l%$'\r'}
		case $l in [0-9][0-9][0-9]-*) continue ;; esac
		echo "$l"
		return 0
	done
	echo "(no reply)"
	return 1
}
raw_auth_before_starttls() {
	local b64
	b64=$(printf '\0alice\0%s' "$PW" | base64 -w0)
	exec 3<>"/dev/tcp/127.0.0.1/$PORT_TLS" || return 1
	smtp_reply >/dev/null &&
		printf 'EHLO client.example.test\r\n' >&3 &&
		smtp_reply >/dev/null &&
		printf 'AUTH PLAIN %s\r\n' "$b64" >&3 &&
		smtp_reply &&
		printf 'QUIT\r\n' >&3
	exec 3<&-
}
reply=$(raw_auth_before_starttls)
case $reply in
503\ *) pass "TLS-only port refuses AUTH before STARTTLS ($reply)" ;;
*) fail "AUTH before STARTTLS on the TLS-only port: got '$reply', want 503" ;;
esac

want_auth tls-PLAIN-ok "$PORT_TLS" PLAIN "$PW" 235 --tls
want_auth tls-PLAIN-bad "$PORT_TLS" PLAIN "$BAD_PW" 535 --tls
want_auth tls-LOGIN-ok "$PORT_TLS" LOGIN "$PW" 235 --tls
want_auth tls-LOGIN-bad "$PORT_TLS" LOGIN "$BAD_PW" 535 --tls
grep -q '^=== TLS started' "$SB/swaks.tls-LOGIN-ok" &&
	ehlo_lists tls-LOGIN-ok "AUTH PLAIN LOGIN" &&
	pass "TLS-only port offers AUTH PLAIN LOGIN after STARTTLS" ||
	fail "after STARTTLS: $(cat "$SB/swaks.tls-LOGIN-ok")"

# ---- smtpd really ran chrooted, as postfix with group sasl -----------------
jail=$(readlink -f "$QUEUE")
sasl_gid=$(getent group sasl | cut -d: -f3)
n=0
for p in $(pgrep -P "$MASTER_PID" -x smtpd); do
	n=$((n + 1))
	root=$(readlink "/proc/$p/root")
	groups=" $(awk '/^Groups:/ { $1 = ""; print }' "/proc/$p/status") "
	if [ "$root" = "$jail" ] && [ "$(proc_uid "$p")" = "$(id -u postfix)" ] &&
		[ "${groups#* "$sasl_gid" }" != "$groups" ]; then
		pass "smtpd $p: root $root, user postfix, group sasl"
	else
		fail "smtpd $p: root '$root' (want $jail), uid $(proc_uid "$p")," \
			"groups$groups(want sasl $sasl_gid)"
	fi
done
# One per listener, still idle-waiting (max_idle) after the sessions.
[ "$n" -ge 2 ] && pass "$n smtpd processes of this master checked" ||
	fail "found $n smtpd children of master $MASTER_PID, want >= 2"

# ---- the daemon saw PAM service smtp -----------------------------------------
# Four wrong passwords: four failures logged for service smtp, no other.
four_failures() {
	[ "$(grep -c 'auth failure: \[user=alice\] \[service=smtp\]' \
		"$SASLLOG")" -ge 4 ]
}
if wait_for "the daemon's failure log" four_failures >/dev/null &&
	! grep 'auth failure' "$SASLLOG" | grep -vq '\[service=smtp\]'; then
	pass "daemon log: failures for user alice, service smtp"
else
	fail "daemon log: $(grep -E 'auth (success|failure)' "$SASLLOG" ||
		echo '(no auth lines)')"
fi

# ---- the two transcripts kept for the record -----------------------------
for t in plain-PLAIN-ok tls-LOGIN-bad; do
	if grep -qF -e "$PW" -e "$BAD_PW" "$SB/swaks.$t"; then
		fail "transcript $t shows a password in clear"
	else
		echo "---- swaks transcript $t (password only in base64) ----"
		cat "$SB/swaks.$t"
		echo "---- end of $t ----"
	fi
done

# ---- without the daemon, no AUTH succeeds ---------------------------------
# Negative control: the 235s above came through the socket in the jail.
stop_daemon
want_auth plain-PLAIN-nodaemon "$PORT_PLAIN" PLAIN "$PW" 454
pf_check daemon-down 1 "^PROBLEM: saslauthd-ng is not running" \
	"no socket at $QUEUE/var/run/saslauthd/mux"

# ---- stop: nothing of this instance is left ------------------------------
if "$POSTFIX" -c "$CONF" stop >"$SB/postfix.out" 2>&1; then
	pass "postfix -c CONF stop"
else
	fail "postfix -c $CONF stop: $(cat "$SB/postfix.out")"
fi
if wait_for "the instance to exit" postfix_gone; then
	MASTER_PID=
	left=$(procs_in_sb)
	[ -z "$left" ] && pass "no process left with its root or cwd in \$SB" ||
		fail "left with root or cwd in \$SB:" \
			"$(ps -o pid,comm -p "$(echo $left | tr ' ' ,)")"
else
	fail "still running after stop:" \
		"$(ps -o pid,comm -p "$(procs_in_sb | paste -sd,)")"
fi
echo "run time: $((($(now_ms) - T0) / 1000)) s"
finish_pf
