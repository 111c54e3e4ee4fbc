/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.h - `saslauthd-ng --check`: diagnose a set-up the way an
 * administrator needs it (sockets, directory chain, the postfix user's
 * reach, Postfix's chroot and SASL configuration, the PAM service) and
 * print the exact fix for every problem. Changes nothing.
 *
 * SECURITY: runs as root (it must read Postfix's configuration and test
 * as the postfix user); the reach test runs in a child that chroots like
 * smtpd and drops to the postfix user before it connects.
 */
#ifndef SASLD_CHECK_H
#define SASLD_CHECK_H

#include "config.h"

/* Print the diagnosis to stdout. Returns 0 when a login through every
 * configured path would reach the daemon, 1 otherwise. */
int check_setup(const struct config *cfg);

#endif
