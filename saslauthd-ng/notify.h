/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * notify.h - systemd's readiness protocol (sd_notify(3)) without
 * libsystemd: one datagram with the state ("READY=1", "STOPPING=1") to
 * the AF_UNIX socket named by $NOTIFY_SOCKET, a path or, with a leading
 * '@', an abstract name. Linking libsystemd for this one call pulled six
 * more libraries into the parent and the front (about 0.2 MiB of PSS).
 * Runs in the parent only.
 *
 * SECURITY: $NOTIFY_SOCKET comes from the service manager, or from
 * whoever started the daemon by hand; the state is a constant string.
 */
#ifndef SASLD_NOTIFY_H
#define SASLD_NOTIFY_H

/*
 * Send state to $NOTIFY_SOCKET. Returns 1 when sent, 0 when the variable
 * is unset or empty (not under systemd), -1 on an error (a name too long
 * or not a path, or the send failed; errno set). The caller ignores
 * errors as sd_notify()'s callers do: systemd's timeout reports them.
 */
int notify_systemd(const char *state);

#endif
