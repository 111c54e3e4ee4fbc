/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sanitize.h - where ASan and UBSan reports go in a Sanitize build (cmake
 * -DCMAKE_BUILD_TYPE=Sanitize, which defines SASLD_SANITIZE). In any other
 * build this is a no-op.
 *
 * SECURITY: a Sanitize build is a test build: it writes reports as root
 * into a directory fixed at build time. Never install one.
 */
#ifndef SASLD_SANITIZE_H
#define SASLD_SANITIZE_H

#ifdef SASLD_SANITIZE
/*
 * Before chroot, setuid and seccomp: open this process's report files and
 * load what the runtimes read to print a stack trace, so that a report
 * written from inside the sandbox is complete and not lost. Call it after
 * the last close of inherited descriptors (it opens two). A seccomp filter
 * must then let a report through (strace of reports from the front):
 * write getpid gettid ioctl mmap munmap futex close exit_group, for a
 * fault rt_sigaction tgkill rt_sigreturn, at a clean exit sigaltstack,
 * and open/openat must fail with an errno, not kill (the runtimes try
 * /proc/self/maps and /proc/self/environ in the middle of a report).
 */
void sanitize_sandbox_prepare(void);
#else
static inline void
sanitize_sandbox_prepare(void)
{
}
#endif

#endif
