#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The Debian package, installed into a fresh Debian 12 root as an
# administrator would: init/build-deb.sh builds it (lintian must find no
# error), debootstrap makes a minbase bookworm root with Postfix (cached as
# a tarball under /var/cache/saslauthd-ng-test/, so only the first run
# downloads), and inside that root, through chroot in this test's private
# mount namespace (no systemd runs; the host is not touched):
#   1. dpkg -i needs nothing beyond the package's Depends; its postinst
#      creates _saslauthd, adds postfix to group sasl, and starts the
#      daemon through the init script, serving /run/saslauthd/mux and the
#      socket in Postfix's chroot;
#   2. testsaslauthd-ng answers OK for a user added in the root, NO for a
#      wrong password; saslauthd-ng --check --postfix-chroot passes once
#      smtpd.conf is set up as README.md's "Postfix in 5 minutes" says;
#   3. the init script's status, reload, restart, stop and start work, and
#      a second daemon on the same socket is refused with a clear message;
#   4. reinstalling Postfix fires the trigger that puts postfix back in
#      group sasl;
#   5. purge stops the daemon and leaves no file, statoverride, group
#      membership or user behind but the _saslauthd user and group (kept,
#      as Debian keeps system users);
#   6. with sasl2-bin installed and its saslauthd running, dpkg -i works
#      (no file conflicts) but neither enables nor starts saslauthd-ng, and
#      starting it says that another saslauthd holds the socket.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
for tool in debootstrap dpkg-buildpackage dh lintian; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is missing (tests/deps.sh installs it)"
		exit 77
	fi
done

SUITE=bookworm
CACHE=${SASLD_PACKAGE_CACHE:-/var/cache/saslauthd-ng-test}
R=$SB/root
T0=$(date +%s)
IN_ROOT_ENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
	LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
in_root() {
	chroot "$R" "${IN_ROOT_ENV[@]}" "$@"
}
elapsed() {
	echo "  ($(($(date +%s) - T0)) s) $*"
}

# Processes left in the root, mounts, then lib.sh's cleanup.
cleanup_root() {
	local p
	for p in $(in_root_pids); do
		kill -KILL "$p" 2>/dev/null
	done
	mount_root_off
	cleanup_sb
}
trap cleanup_root EXIT

mount_root_on() {
	mount -t proc proc "$R/proc"
	mount --rbind /dev "$R/dev"
	mount --make-rslave "$R/dev"
	mount -t tmpfs -o mode=0755 tmpfs "$R/run"
	mkdir -p "$R/run/lock"
	cp /etc/resolv.conf "$R/etc/resolv.conf"
}
mount_root_off() {
	local m
	[ -d "$R" ] || return 0
	for m in run dev proc; do
		mountpoint -q "$R/$m" && umount -R "$R/$m" 2>/dev/null
	done
	# Never rm -rf a root with something still mounted in it.
	if findmnt -rn -o TARGET | grep -q "^$R/"; then
		echo "cannot unmount everything under $R; leaving $SB"
		SB=/nonexistent
	fi
}

# The mirror the machine's apt uses for the suite (deb822 or one-line).
mirror() {
	local m
	m=$(awk -v s="$SUITE" '
		/^$/ { u = "" }
		tolower($1) == "uris:" { u = $2 }
		tolower($1) == "suites:" && u != "" {
			for (i = 2; i <= NF; i++) if ($i == s) { print u; exit } }
		' /etc/apt/sources.list.d/*.sources 2>/dev/null)
	[ -n "$m" ] || m=$(awk -v s="$SUITE" '$1 == "deb" {
		i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++
		if ($(i + 1) ~ /^\[/ || $i ~ /\]$/) i++
		if ($(i + 1) == s) { print $i; exit } }' \
		/etc/apt/sources.list 2>/dev/null)
	echo "${SASLD_PACKAGE_MIRROR:-${m:-http://deb.debian.org/debian}}"
}

# A minbase root with Postfix, preseeded as "Internet Site"; the debs of
# sasl2-bin and postfix stay in apt's cache for steps 4 and 6. Built once,
# then unpacked from the tarball.
make_root() {
	local mirror key tarball
	mirror=$(mirror)
	key=$(printf 'v1 %s %s minbase postfix libsasl2-modules; debs sasl2-bin postfix' \
		"$SUITE" "$mirror" | sha256sum | cut -c1-12)
	tarball=$CACHE/$SUITE-minbase-postfix-$key.tar.gz
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
	if [ ! -s "$tarball" ]; then
		echo "building the $SUITE root from $mirror (cached afterwards" \
			"in $tarball)"
		rm -rf "$R"
		if ! debootstrap --variant=minbase "$SUITE" "$R" "$mirror" \
			>"$SB/debootstrap.log" 2>&1; then
			tail -n 20 "$SB/debootstrap.log"
			return 1
		fi
		mount_root_on
		printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
		chmod 755 "$R/usr/sbin/policy-rc.d"
		in_root debconf-set-selections <<-'SEL'
			postfix postfix/main_mailer_type select Internet Site
			postfix postfix/mailname string mail.test.invalid
		SEL
		if ! in_root apt-get install -y --no-install-recommends \
			postfix libsasl2-modules >"$SB/apt.log" 2>&1 ||
			! in_root apt-get clean ||
			! in_root apt-get install -y --download-only \
				--no-install-recommends sasl2-bin >>"$SB/apt.log" 2>&1 ||
			! in_root apt-get install -y --download-only --reinstall \
				postfix >>"$SB/apt.log" 2>&1; then
			tail -n 20 "$SB/apt.log"
			mount_root_off
			return 1
		fi
		rm -f "$R/usr/sbin/policy-rc.d" "$R/etc/resolv.conf"
		mount_root_off
		tar -C "$R" --numeric-owner -czf "$tarball.tmp" . &&
			mv "$tarball.tmp" "$tarball"
		elapsed "root built and cached"
	else
		rm -rf "$R"
		mkdir "$R"
		if ! tar -C "$R" --numeric-owner -xzf "$tarball"; then
			echo "cannot unpack $tarball; removed, the next run rebuilds it"
			rm -f "$tarball"
			return 1
		fi
		elapsed "root unpacked from $tarball"
	fi
	flock -u 9
	mount_root_on
	# Starts and stops are allowed for saslauthd-ng (postinst, prerm) and
	# Cyrus' saslauthd; anything else (Postfix) stays down, as in a chroot.
	cat >"$R/usr/sbin/policy-rc.d" <<-'POLICY'
		#!/bin/sh
		case "$1" in saslauthd-ng | saslauthd) exit 0 ;; esac
		exit 101
	POLICY
	chmod 755 "$R/usr/sbin/policy-rc.d"
}

# Everything dpkg, users and files: before and after.
snapshot() { # name
	in_root find / /run -xdev \( -path /proc -o -path /sys -o -path /dev \
		-o -path /tmp -o -path /var/tmp -o -path /var/log \
		-o -path /var/cache/apt -o -path /var/lib/apt \
		-o -path /var/cache/debconf -o -path /var/lib/dpkg \
		-o -path /usr/sbin/policy-rc.d \) -prune \
		-o -printf '%p %u:%g %m\n' | sort -u >"$SB/$1.files"
	cp "$R/etc/passwd" "$SB/$1.passwd"
	cp "$R/etc/group" "$SB/$1.group"
	in_root dpkg-statoverride --list | sort >"$SB/$1.statoverride"
	in_root dpkg-query -W -f '${Package} ${db:Status-Status}\n' |
		grep ' installed$' | sort >"$SB/$1.packages"
}
in_group() { # user group
	in_root id -Gn "$1" 2>/dev/null | tr ' ' '\n' | grep -qx "$2"
}
daemon_pid() {
	local p
	p=$(cat "$R/run/saslauthd/saslauthd.pid" 2>/dev/null) || return 1
	[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$R/usr/sbin/saslauthd-ng" ] &&
		echo "$p"
}
# The daemon's PAM workers: its children running as root.
root_children() {
	local p
	for p in $(pgrep -P "$1"); do
		[ "$(proc_uid "$p")" = 0 ] && echo "$p"
	done | sort
}
# Processes whose root directory is the test's root.
in_root_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && echo "${p#/proc/}"
	done
}
CHROOT_MUX=/var/spool/postfix/var/run/saslauthd/mux
tsa() { # socket user password -> the output line
	in_root testsaslauthd-ng -f "$1" -s smtp -u "$2" -p "$3" 2>&1
}

# --- Build ---------------------------------------------------------------
if ! bash "$SRC/init/build-deb.sh" --lintian "$SB/deb" >"$SB/build.log" 2>&1; then
	cat "$SB/build.log"
	fail "init/build-deb.sh --lintian"
	finish
fi
DEB=$(ls "$SB"/deb/saslauthd-ng_*.deb)
pass "package built, lintian reports no error: $(basename "$DEB")"
sed -n 's/^\([EWIP]\): /lintian \1: /p' "$SB/build.log"
# Under systemd (not run here) an upgrade must not stop the daemon before
# the postinst's try-restart: no preinst stop.
dpkg-deb -e "$DEB" "$SB/control"
! grep -qs 'stop' "$SB/control/preinst" &&
	pass "no preinst stops the service on upgrade" ||
	fail "preinst stops the service: $(cat "$SB/control/preinst")"
elapsed "built"

make_root || {
	fail "cannot make the $SUITE root"
	finish
}

# --- 1. Install ----------------------------------------------------------
cp "$DEB" "$R/tmp/"
DEB_IN=/tmp/$(basename "$DEB")
snapshot before
# What apt would install for the package: its own Depends only (the root
# has them already, from minbase and Postfix).
deps=$(dpkg-deb -f "$DEB" Depends | tr ',|' '\n\n' |
	sed -E 's/\(.*\)//; s/:any//; s/ //g' | grep -v '^$' | sort -u)
pulls=$(in_root apt-get install -s --no-install-recommends "$DEB_IN" 2>&1 |
	awk '$1 == "Inst" { print $2 }' | grep -vx saslauthd-ng | sort -u)
extra=$(comm -23 <(printf '%s\n' $pulls | grep -v '^$') <(echo "$deps"))
[ -z "$extra" ] && pass "apt would pull only Depends (${pulls:-nothing})" ||
	fail "apt would pull more than the Depends: $extra"
if [ -n "$pulls" ]; then
	# shellcheck disable=SC2086
	in_root apt-get install -y --no-install-recommends $pulls \
		>"$SB/deps.log" 2>&1 || {
		in_root apt-get update >/dev/null 2>&1
		# shellcheck disable=SC2086
		in_root apt-get install -y --no-install-recommends $pulls \
			>"$SB/deps.log" 2>&1
	} || fail "installing the Depends: $(tail -n 5 "$SB/deps.log")"
	snapshot before
fi

in_root dpkg -i "$DEB_IN" >"$SB/dpkg-i.log" 2>&1
rc=$?
[ $rc = 0 ] && pass "dpkg -i" || fail "dpkg -i exit $rc: $(cat "$SB/dpkg-i.log")"
snapshot installed
added=$(comm -13 "$SB/before.packages" "$SB/installed.packages")
[ "$added" = "saslauthd-ng installed" ] &&
	pass "dpkg -i added exactly saslauthd-ng" ||
	fail "packages added by dpkg -i: $added"
grep -q 'added user postfix to group sasl' "$SB/dpkg-i.log" &&
	pass "postinst says it added postfix to group sasl" ||
	fail "postinst did not say it added postfix to sasl: $(cat "$SB/dpkg-i.log")"
in_group postfix sasl && pass "postfix is in group sasl" ||
	fail "postfix not in group sasl"
grep -q 'socket inside its chroot' "$SB/dpkg-i.log" &&
	pass "postinst says the Postfix chroot socket is served" ||
	fail "postinst did not mention the chroot socket"
if pw=$(in_root getent passwd _saslauthd); then
	IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
	[ "$uid" -lt 1000 ] && [ "$shell" = /usr/sbin/nologin ] &&
		[ ! -e "$R$home" ] &&
		pass "_saslauthd: system uid $uid, nologin, no home ($home)" ||
		fail "_saslauthd: $pw"
else
	fail "no _saslauthd user"
fi
for d in /run/saslauthd /var/spool/postfix/var/run/saslauthd; do
	st=$(stat -c '%U:%G %a' "$R$d" 2>/dev/null)
	[ "$st" = "root:sasl 710" ] && pass "$d is root:sasl 0710" ||
		fail "$d: got '$st', want root:sasl 710"
done
ls "$R"/etc/rc2.d/S[0-9][0-9]saslauthd-ng >/dev/null 2>&1 &&
	pass "init script enabled (rc2.d S link)" || fail "not enabled in rc2.d"
[ -L "$R/etc/systemd/system/multi-user.target.wants/saslauthd-ng.service" ] &&
	pass "systemd unit enabled" || fail "systemd unit not enabled"
pid=$(daemon_pid) && pass "postinst started the daemon (pid $pid)" ||
	fail "daemon not running after dpkg -i: $(cat "$SB/dpkg-i.log")"
for s in /run/saslauthd/mux $CHROOT_MUX; do
	[ -S "$R$s" ] && pass "socket $s" || fail "no socket $s"
done
elapsed "installed"

# --- 2. Logins and --check -------------------------------------------------
in_root useradd --no-create-home --shell /usr/sbin/nologin alice &&
	echo 'alice:Alice-pw1' | in_root chpasswd ||
	fail "cannot add user alice"
in_root cp /usr/share/doc/saslauthd-ng/examples/pam.d/saslauthd-ng.example \
	/etc/pam.d/smtp
for s in $CHROOT_MUX /run/saslauthd/mux; do
	out=$(tsa "$s" alice Alice-pw1)
	[ "$out" = '0: OK "Success."' ] && pass "OK for alice on $s" ||
		fail "alice on $s: got '$out'"
	out=$(tsa "$s" alice wrong)
	[ "$out" = '0: NO "authentication failed"' ] &&
		pass "NO for a wrong password on $s" ||
		fail "wrong password on $s: got '$out'"
done
# README.md, "Postfix in 5 minutes", step 4.
printf 'pwcheck_method: saslauthd\nmech_list: PLAIN LOGIN\n' \
	>"$R/etc/postfix/sasl/smtpd.conf"
in_root postconf -e smtpd_sasl_auth_enable=yes smtpd_tls_auth_only=yes
out=$(in_root saslauthd-ng --check --postfix-chroot 2>&1)
rc=$?
[ $rc = 0 ] && pass "saslauthd-ng --check --postfix-chroot passes" ||
	fail "--check exit $rc: $out"
printf '%s\n' "$out" | tail -n 1 | sed 's/^/  --check: /'

# --- 3. The init script ----------------------------------------------------
out=$(in_root /etc/init.d/saslauthd-ng status 2>&1)
rc=$?
[ $rc = 0 ] && pass "status: running ($out)" || fail "status exit $rc: $out"
old_workers=$(root_children "$pid")
in_root /etc/init.d/saslauthd-ng reload >/dev/null 2>&1 &&
	pass "reload" || fail "reload failed"
# HUP recycles the (idle) workers: none of the old ones is left.
for _ in $(seq 50); do
	new_workers=$(root_children "$pid")
	[ -n "$new_workers" ] &&
		[ -z "$(comm -12 <(echo "$old_workers") <(echo "$new_workers"))" ] &&
		break
	sleep 0.1
done
[ -n "$old_workers" ] && [ "$(daemon_pid)" = "$pid" ] &&
	[ -z "$(comm -12 <(echo "$old_workers") <(echo "$new_workers"))" ] &&
	pass "reload (HUP) kept the daemon, replaced its $(echo "$new_workers" | wc -l) workers" ||
	fail "reload: daemon $(daemon_pid) (was $pid), workers before:" \
		$old_workers "after:" $new_workers
# A second daemon on the same sockets: refused, and it says why.
out=$(in_root saslauthd-ng -a pam -m /run/other --postfix-chroot 2>&1)
rc=$?
[ $rc = 2 ] && printf '%s' "$out" | grep -q 'is in use: another saslauthd' &&
	pass "a second daemon exits 2: $out" ||
	fail "second daemon: exit $rc: $out"
rm -rf "$R/run/other"
in_root /etc/init.d/saslauthd-ng restart >"$SB/restart.log" 2>&1 &&
	pid2=$(daemon_pid) && [ "$pid2" != "$pid" ] &&
	pass "restart (new pid $pid2)" ||
	fail "restart: $(cat "$SB/restart.log")"
in_root /etc/init.d/saslauthd-ng stop >/dev/null 2>&1 && ! daemon_pid >/dev/null &&
	[ ! -e "$R/run/saslauthd/mux" ] && [ ! -e "$R$CHROOT_MUX" ] &&
	pass "stop removes the daemon and its sockets" || fail "stop"
out=$(in_root /etc/init.d/saslauthd-ng status 2>&1)
rc=$?
[ $rc = 3 ] && pass "status when stopped: exit 3" || fail "status stopped: exit $rc: $out"
# OPTIONS copied from sasl2-bin's file must work as they are.
sed -i 's|^OPTIONS=.*|OPTIONS="-c -m /var/run/saslauthd"|' \
	"$R/etc/default/saslauthd-ng"
in_root /etc/init.d/saslauthd-ng start >"$SB/start.log" 2>&1 && daemon_pid >/dev/null &&
	[ "$(tsa $CHROOT_MUX alice Alice-pw1)" = '0: OK "Success."' ] &&
	pass "start with sasl2-bin's OPTIONS=\"-c -m /var/run/saslauthd\"" ||
	fail "start with sasl2-bin's OPTIONS: $(cat "$SB/start.log")"
elapsed "init script"

# --- 4. Upgrade (the same version again), Postfix again (the trigger) ------
pid=$(daemon_pid)
in_root dpkg -i "$DEB_IN" >"$SB/upgrade.log" 2>&1 &&
	pid2=$(daemon_pid) && [ "$pid2" != "$pid" ] &&
	grep -q '^OPTIONS="-c -m /var/run/saslauthd"$' "$R/etc/default/saslauthd-ng" &&
	pass "upgrade: daemon restarted (pid $pid -> $pid2), changed conffile kept" ||
	fail "upgrade: $(cat "$SB/upgrade.log")"
in_root gpasswd -d postfix sasl >/dev/null
in_root sh -c 'dpkg -i /var/cache/apt/archives/postfix_*.deb' \
	>"$SB/postfix.log" 2>&1 || fail "reinstalling postfix: $(tail -n 5 "$SB/postfix.log")"
in_group postfix sasl && grep -q 'added user postfix to group sasl' "$SB/postfix.log" &&
	pass "trigger: Postfix (re)installed, postfix back in group sasl" ||
	fail "trigger did not run: $(tail -n 8 "$SB/postfix.log")"
daemon_pid >/dev/null && pass "daemon still running after the trigger" ||
	fail "daemon gone after the trigger"

# --- 5. Purge ----------------------------------------------------------------
in_root dpkg --purge saslauthd-ng >"$SB/purge.log" 2>&1 &&
	pass "dpkg --purge" || fail "purge: $(cat "$SB/purge.log")"
sleep 0.5
left=$(in_root_pids)
[ -z "$left" ] && pass "purge stopped the daemon; nothing runs in the root" ||
	fail "still running in the root after purge: $(ps -o pid,user,args -p "$(echo $left | tr ' ' ,)")"
in_root rm -f /etc/pam.d/smtp /etc/postfix/sasl/smtpd.conf
in_root userdel alice
in_root postconf -X smtpd_sasl_auth_enable smtpd_tls_auth_only
snapshot purged
# Allowed: the shadow tools' backups (the test's own useradd/userdel of
# alice) and adduser's lock file in /run (adduser's, a tmpfs at boot).
left=$(diff "$SB/before.files" "$SB/purged.files" | grep -E '^[<>]' |
	grep -vE '^[<>] /etc/(passwd|group|shadow|gshadow|subuid|subgid)- ' |
	grep -vE '^> /run/adduser ')
[ -z "$left" ] && pass "purge leaves no file behind" ||
	fail "files differ after purge: $left"
pdiff=$(diff "$SB/before.passwd" "$SB/purged.passwd" | grep -E '^[<>]')
[ "$(echo "$pdiff" | cut -d: -f1)" = "> _saslauthd" ] &&
	pass "users: only _saslauthd stays (Debian keeps system users)" ||
	fail "passwd after purge: $pdiff"
gdiff=$(diff "$SB/before.group" "$SB/purged.group" | grep -E '^[<>]')
[ "$(echo "$gdiff" | cut -d: -f1)" = "> _saslauthd" ] &&
	pass "groups: only _saslauthd stays; postfix left group sasl" ||
	fail "group after purge: $gdiff"
grep -q 'removed user postfix from group sasl' "$SB/purge.log" &&
	pass "postrm says it removed postfix from group sasl" ||
	fail "postrm did not say so: $(cat "$SB/purge.log")"
cmp -s "$SB/before.statoverride" "$SB/purged.statoverride" &&
	pass "no statoverride left" ||
	fail "statoverrides differ: $(diff "$SB/before.statoverride" "$SB/purged.statoverride")"
cmp -s "$SB/before.packages" "$SB/purged.packages" &&
	pass "package set back to what it was" || fail "packages differ after purge"
elapsed "purged"

# --- 6. Beside sasl2-bin, whose saslauthd runs -------------------------------
in_root sh -c 'apt-get install -y --no-install-recommends --no-download sasl2-bin' \
	>"$SB/sasl2-bin.log" 2>&1 || fail "installing sasl2-bin: $(tail -n 5 "$SB/sasl2-bin.log")"
in_root /usr/sbin/saslauthd -a pam -m /var/run/saslauthd -n 1 ||
	fail "Cyrus saslauthd does not start"
cyrus=$(cat "$R/run/saslauthd/saslauthd.pid" 2>/dev/null)
in_root dpkg -i "$DEB_IN" >"$SB/dpkg-i2.log" 2>&1 &&
	pass "dpkg -i with sasl2-bin installed: no file conflicts" ||
	fail "dpkg -i beside sasl2-bin: $(cat "$SB/dpkg-i2.log")"
grep -q "sasl2-bin's saslauthd is enabled or running" "$SB/dpkg-i2.log" &&
	! daemon_pid >/dev/null &&
	! ls "$R"/etc/rc2.d/S[0-9][0-9]saslauthd-ng >/dev/null 2>&1 &&
	[ ! -e "$R/etc/systemd/system/multi-user.target.wants/saslauthd-ng.service" ] &&
	pass "postinst neither enabled nor started it, and said why" ||
	fail "beside a running Cyrus saslauthd: $(cat "$SB/dpkg-i2.log")"
out=$(in_root /etc/init.d/saslauthd-ng start 2>&1)
rc=$?
[ $rc != 0 ] && printf '%s' "$out" | grep -q 'another saslauthd' &&
	pass "start refused while Cyrus runs, and says so" ||
	fail "start beside Cyrus: exit $rc: $out"
printf '%s\n' "$out" | sed 's/^/  /'
[ "$(cat "$R/run/saslauthd/saslauthd.pid" 2>/dev/null)" = "$cyrus" ] &&
	kill -0 "$cyrus" 2>/dev/null &&
	pass "Cyrus saslauthd untouched" || fail "Cyrus saslauthd disturbed"
kill -TERM "$cyrus" 2>/dev/null
for _ in $(seq 50); do kill -0 "$cyrus" 2>/dev/null || break; sleep 0.1; done
in_root /etc/init.d/saslauthd-ng start >"$SB/start2.log" 2>&1 &&
	[ "$(tsa /run/saslauthd/mux postfix x)" = '0: NO "authentication failed"' ] &&
	pass "starts once Cyrus is stopped" ||
	fail "start after Cyrus: $(cat "$SB/start2.log")"
in_root dpkg --purge saslauthd-ng >"$SB/purge2.log" 2>&1 &&
	grep -q 'postfix stays in group sasl (sasl2-bin is installed)' "$SB/purge2.log" &&
	in_group postfix sasl &&
	pass "purge beside sasl2-bin keeps postfix in group sasl" ||
	fail "purge beside sasl2-bin: $(cat "$SB/purge2.log")"
! daemon_pid >/dev/null || fail "daemon left after the second purge"
elapsed "beside sasl2-bin"
finish
