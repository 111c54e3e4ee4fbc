# SPDX-License-Identifier: BSD-2-Clause
# postfix_lib.sh - a private Postfix instance for the end-to-end tests
# (test_postfix.sh: Cyrus SASL; test_postfix_dovecot.sh: the Dovecot
# protocol). Source it after lib.sh. Its own config, queue and data
# directories under $SB, started with postfix -c (the system instance and
# /etc/postfix are never used), smtpd chrooted in the queue directory,
# two listeners on loopback: plaintext AUTH, and STARTTLS with
# smtpd_tls_auth_only. Skips (77) without postfix, swaks or openssl.
#
#   pf_prepare          ports, directories, certificate; fails and finishes
#   pf_main_cf LINES..  main.cf: the common part, then the SASL lines given
#   pf_master_cf        master.cf: the two smtpd listeners
#   pf_jail             the files smtpd needs inside its chroot
#   pf_start            postfix start, wait for the listeners
#   pf_stop             postfix stop; nothing of the instance left
#   want_auth ...       swaks AUTH and its reply code
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

# ---- the Postfix instance -------------------------------------------------
pf_prepare() {
	PORT_PLAIN=$(pick_port) && PORT_TLS=$(pick_port "$PORT_PLAIN") || {
		fail "no free loopback port found"
		finish
	}
	mkdir -p "$CONF/sasl" "$CONF/tls" "$QUEUE" "$DATA"
	# master and the unchrooted daemons open files in data_directory as
	# user postfix by absolute path: $SB (mktemp's 0700) must be
	# searchable.
	chmod 0711 "$SB"
	chmod 0755 "$PF" "$CONF" "$QUEUE"
	chown postfix: "$DATA"
	chmod 0700 "$DATA"
	# Self-signed certificate (P-256: quick to make on a busy machine).
	if ! openssl req -x509 -newkey ec \
		-pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj /CN=mx.example.test \
		-keyout "$CONF/tls/key.pem" -out "$CONF/tls/cert.pem" \
		>"$SB/openssl.err" 2>&1; then
		fail "openssl req: $(cat "$SB/openssl.err")"
		finish
	fi
	chmod 0600 "$CONF/tls/key.pem"
}

# pf_main_cf LINE...: main.cf, then the SASL lines given.
pf_main_cf() {
	{
		cat <<EOF
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
smtpd_sasl_security_options = noanonymous
smtpd_tls_cert_file = $CONF/tls/cert.pem
smtpd_tls_key_file = $CONF/tls/key.pem
smtpd_tls_security_level = none
EOF
		printf '%s\n' "$@"
	} >"$CONF/main.cf"
}

# Only what the tests need; both smtpd listeners chrooted (column 5 = y).
pf_master_cf() {
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
}

# What Debian's configure-instance.sh copies into the jail, as far as
# smtpd needs it (name lookups of the client address, services). Not its
# copies of libnss/libresolv: glibc 2.34+ has files and dns built in.
pf_jail() {
	local f
	for f in etc/localtime etc/services etc/resolv.conf etc/hosts \
		etc/host.conf etc/nsswitch.conf; do
		mkdir -p "$QUEUE/${f%/*}"
		[ -f "/$f" ] && cp -L "/$f" "$QUEUE/$f" &&
			chmod a+rX "$QUEUE/$f"
	done
}

# pf_start: start the instance; fails and finishes when it does not come
# up listening on both ports.
pf_start() {
	local rc
	"$POSTFIX" -c "$CONF" start >"$SB/postfix.out" 2>&1
	rc=$?
	# Even after a failed start a master may run: the trap must stop it.
	MASTER_PID=$(tr -d ' ' 2>/dev/null <"$QUEUE/pid/master.pid")
	kill -0 "$MASTER_PID" 2>/dev/null || MASTER_PID=
	if [ $rc != 0 ] || [ -z "$MASTER_PID" ]; then
		# Without a terminal Postfix reports only to the maillog, which
		# an early error never reaches: re-check with one (script(1)).
		fail "postfix -c CONF start: rc $rc, master '$MASTER_PID':" \
			"$(cat "$SB/postfix.out")" \
			"$(script -qc "$POSTFIX -c $CONF check" /dev/null \
				</dev/null | head -5)"
		finish_pf
	fi
	pass "private Postfix instance started (master $MASTER_PID)"
	wait_for "smtpd listeners" port_open "$PORT_PLAIN" &&
		wait_for "smtpd listeners" port_open "$PORT_TLS" || {
		fail "Postfix does not listen on $PORT_PLAIN/$PORT_TLS"
		finish_pf
	}
}

# pf_stop: postfix stop; nothing of the instance may be left.
pf_stop() {
	local left
	if "$POSTFIX" -c "$CONF" stop >"$SB/postfix.out" 2>&1; then
		pass "postfix -c CONF stop"
	else
		fail "postfix -c $CONF stop: $(cat "$SB/postfix.out")"
	fi
	if wait_for "the instance to exit" postfix_gone; then
		MASTER_PID=
		left=$(procs_in_sb)
		[ -z "$left" ] &&
			pass "no process left with its root or cwd in \$SB" ||
			fail "left with root or cwd in \$SB:" \
				"$(ps -o pid,comm -p "$(echo $left | tr ' ' ,)")"
	else
		fail "still running after stop:" \
			"$(ps -o pid,comm -p "$(procs_in_sb | paste -sd,)")"
	fi
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
