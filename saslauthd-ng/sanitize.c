/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sanitize.c - linked only into Sanitize builds: every ASan and UBSan
 * report of every process lands in SASLD_SANITIZE_DIR (fixed at build
 * time), where the test harness looks for it, whatever the process's stdio,
 * environment or root directory. The options are compiled in because the
 * detached daemon's stdio is /dev/null, the workers are exec'd with an
 * environment of PATH only (ASAN_OPTIONS never reaches them), and the front
 * chroots into a removed directory, where no report file can be opened:
 * sanitize_sandbox_prepare() opens the front's before the chroot.
 *
 * GCC links ASan and UBSan as two runtimes, each with its own report file
 * and its own copy of the __sanitizer_* interface; a plain call reaches
 * ASan's (the first loaded), so UBSan's copy is looked up in libubsan.
 *
 * Reports are named asan.<program>.<pid> and ubsan.<program>.<pid>.
 * A fault signal (SEGV, BUS, FPE) that another process sent, or raise(),
 * kills the process as in a release build instead of becoming a report:
 * the tests crash workers with kill -SEGV and pam_sasltest's "crash" on
 * purpose. A real fault still reaches the runtime's handler.
 * LeakSanitizer is off in the daemon's processes (SASLD_SANITIZE_LEAKS 0):
 * at exit it reads /proc/PID/task and stops the process with ptrace from a
 * helper; in the chrooted front that is a "fatal error" (exit 1, no leak
 * report), and without its report file open it spins, and ptrace of a
 * non-dumpable process needs CAP_SYS_PTRACE, which the workers are meant
 * to lose. tests/integration/test_valgrind.sh checks all three roles for
 * leaks instead. The tools (testsaslauthd-ng, test clients) keep it on.
 *
 * SECURITY: test builds only. Root writes the reports into a fixed,
 * world-writable directory; never install a Sanitize build.
 */
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sanitizer/common_interface_defs.h>

#include "sanitize.h"

#ifndef SASLD_SANITIZE_DIR
#error "SASLD_SANITIZE_DIR must name the report directory"
#endif
#ifndef SASLD_SANITIZE_LEAKS
#define SASLD_SANITIZE_LEAKS 1
#endif
#if SASLD_SANITIZE_LEAKS
#define SANITIZE_LEAKS_OPT "detect_leaks=1"
#else
#define SANITIZE_LEAKS_OPT "detect_leaks=0"
#endif
/* What a report's path may need: the directory, the program, the pid. */
#define SANITIZE_PATH_MAX 4096
/* One symbolized frame, discarded: enough for "0x... in fn file:line". */
#define SANITIZE_FRAME_MAX 256

/* The runtimes call these before main(); ASAN_OPTIONS and UBSAN_OPTIONS
 * still win, except for where reports go (sanitize_init()). */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "log_path=" SASLD_SANITIZE_DIR "/asan"
	       ":log_exe_name=1"
	       ":" SANITIZE_LEAKS_OPT ":strict_string_checks=1"
	       ":detect_stack_use_after_return=1"
	       ":check_initialization_order=1"
	       ":allow_user_segv_handler=1"
	       /* Never madvise() freed memory back: the front's seccomp
	        * filter has no madvise, and once its 256 MB quarantine
	        * filled under a long load, the release killed it. */
	       ":allocator_release_to_os_interval_ms=-1";
}

const char *
__ubsan_default_options(void)
{
	/* No log_path here: libubsan hands its log_path to the
	 * interposed, ASan's, report file; sanitize_init() sets both. */
	return "print_stacktrace=1:halt_on_error=1";
}

static void *
sanitize_ubsan_sym(const char *name)
{
	void *h;

	if ((h = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD)) == NULL)
		return NULL; /* one runtime for both (clang) */
	return dlsym(h, name);
}

/* The signals the runtimes turn into a report (handle_segv, handle_sigbus,
 * handle_sigfpe), and their handlers. */
static const int sanitize_fault_sig[] = {SIGSEGV, SIGBUS, SIGFPE};
#define SANITIZE_NSIG (sizeof(sanitize_fault_sig) / sizeof(int))
static struct sigaction sanitize_runtime_sa[SANITIZE_NSIG];

static void
sanitize_die_of(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(sig, &sa, NULL);
	/* Blocked in this handler: delivered, and fatal, on return. */
	(void)raise(sig);
}

static void
sanitize_on_fault(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *rt = NULL;
	size_t i;

	for (i = 0; i < SANITIZE_NSIG; i++)
		if (sanitize_fault_sig[i] == sig)
			rt = &sanitize_runtime_sa[i];
	/* si_code <= 0: kill(), tgkill(), sigqueue(), not the CPU. */
	if (rt == NULL || si == NULL || si->si_code <= 0 ||
	    !(rt->sa_flags & SA_SIGINFO)) {
		sanitize_die_of(sig);
		return;
	}
	rt->sa_sigaction(sig, si, uc);
}

static void
sanitize_signals(void)
{
	struct sigaction sa, old;
	size_t i;

	for (i = 0; i < SANITIZE_NSIG; i++) {
		if (sigaction(sanitize_fault_sig[i], NULL, &old) == -1 ||
		    !(old.sa_flags & SA_SIGINFO))
			continue; /* the runtime does not handle this one */
		sanitize_runtime_sa[i] = old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sanitize_on_fault;
		sa.sa_mask = old.sa_mask;
		sa.sa_flags = SA_SIGINFO | (old.sa_flags & SA_ONSTACK);
		(void)sigaction(sanitize_fault_sig[i], &sa, NULL);
	}
}

static void sanitize_init(void) __attribute__((constructor));

static void
sanitize_init(void)
{
	void (*ubsan_set_path)(const char *);
	char path[SANITIZE_PATH_MAX];
	int n;

	/* Created by the build and the harness; a lost directory must not
	 * lose a report (the runtimes die when they cannot open one). */
	if (mkdir(SASLD_SANITIZE_DIR, 01777) == 0)
		(void)chmod(SASLD_SANITIZE_DIR, 01777);
	__sanitizer_set_report_path(SASLD_SANITIZE_DIR "/asan");
	ubsan_set_path = (void (*)(const char *))sanitize_ubsan_sym(
	    "__sanitizer_set_report_path");
	n = snprintf(path, sizeof(path), "%s/ubsan.%s", SASLD_SANITIZE_DIR,
	    program_invocation_short_name);
	if (ubsan_set_path != NULL && n > 0 && (size_t)n < sizeof(path))
		ubsan_set_path(path);
	sanitize_signals();
}

void
sanitize_sandbox_prepare(void)
{
	void (*notify)(__sanitizer_sandbox_arguments *);
	const char *(*get_path)(void);
	void (*symbolize)(void *, const char *, char *, size_t);
	char frame[SANITIZE_FRAME_MAX];
	void *pc = __builtin_return_address(0);

	/* For each runtime: cache /proc/self/maps, open the report file
	 * (else opened at the first report), and symbolize one frame, which
	 * loads every module's debug information (ASan) or at least their
	 * names (UBSan, whose frames the harness then resolves, lib.sh):
	 * after the chroot none of them can be read. */
	__sanitizer_sandbox_on_notify(NULL);
	(void)__sanitizer_get_report_path();
	__sanitizer_symbolize_pc(pc, "%p %F %L", frame, sizeof(frame));
	notify = (void (*)(__sanitizer_sandbox_arguments *))sanitize_ubsan_sym(
	    "__sanitizer_sandbox_on_notify");
	get_path = (const char *(*)(void))sanitize_ubsan_sym(
	    "__sanitizer_get_report_path");
	symbolize = (void (*)(void *, const char *, char *,
	    size_t))sanitize_ubsan_sym("__sanitizer_symbolize_pc");
	if (notify != NULL)
		notify(NULL);
	if (get_path != NULL)
		(void)get_path();
	if (symbolize != NULL)
		symbolize(pc, "%p %F %L", frame, sizeof(frame));
}
