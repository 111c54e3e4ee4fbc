/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay.c - main() for a fuzz target in the normal (gcc) build: calls
 * LLVMFuzzerTestOneInput() once on every file named, and on every regular
 * file of every directory named, in name order. ctest runs each target
 * over its committed corpus this way (label fuzz-replay); a broken
 * invariant aborts and fails the test, naming the input.
 *
 * Usage: fuzz_<target> FILE|DIR...   Exit 0, or 1 if no input was found.
 *
 * SECURITY: test code only; reads the files it is given.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* Corpus files are small (run.sh caps -max_len far below this). */
#define REPLAY_MAX_INPUT (1024 * 1024)

static char replay_current[4096];

static void
replay_crash(int sig)
{
	static const char msg[] = "replay: crashed on input ";
	ssize_t r;

	r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	r = write(STDERR_FILENO, replay_current, strlen(replay_current));
	r = write(STDERR_FILENO, "\n", 1);
	(void)r;
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

static void
replay_file(const char *path)
{
	FILE *f = NULL;
	uint8_t *buf = NULL, *data = NULL;
	size_t n;

	(void)snprintf(replay_current, sizeof(replay_current), "%s", path);
	if ((f = fopen(path, "rb")) == NULL) {
		(void)fprintf(
		    stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if ((buf = malloc(REPLAY_MAX_INPUT + 1)) == NULL) {
		(void)fprintf(stderr, "replay: out of memory\n");
		exit(1);
	}
	n = fread(buf, 1, REPLAY_MAX_INPUT + 1, f);
	if (ferror(f) || n > REPLAY_MAX_INPUT) {
		(void)fprintf(
		    stderr, "replay: %s: unreadable or too long\n", path);
		exit(1);
	}
	(void)fclose(f);
	/* An exact-size copy, as libFuzzer passes it. */
	data = fuzz_dup(buf, n);
	free(buf);
	(void)LLVMFuzzerTestOneInput(data, n);
	free(data);
}

static size_t
replay_dir(const char *dir)
{
	struct dirent **ents = NULL;
	struct stat st;
	char path[4096];
	size_t count = 0;
	int n, i;

	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		(void)fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir,
			ents[i]->d_name) >= (int)sizeof(path)) {
			(void)fprintf(stderr, "replay: path too long\n");
			exit(1);
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			replay_file(path);
			count++;
		}
		free(ents[i]);
	}
	free(ents);
	return count;
}

int
main(int argc, char *argv[])
{
	struct stat st;
	size_t count = 0;
	int i;

	(void)signal(SIGABRT, replay_crash);
	(void)signal(SIGSEGV, replay_crash);
	(void)signal(SIGBUS, replay_crash);
	(void)signal(SIGFPE, replay_crash);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			(void)fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode))
			count += replay_dir(argv[i]);
		else {
			replay_file(argv[i]);
			count++;
		}
	}
	if (count == 0) {
		(void)fprintf(stderr, "replay: no input given or found\n");
		return 1;
	}
	(void)printf("replay: %zu inputs, no invariant broken\n", count);
	return 0;
}
