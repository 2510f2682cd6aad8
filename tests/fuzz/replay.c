/*
 * Replays a fuzz target's corpus without libFuzzer: every file under the
 * given directories (default: the FUZZ_CORPUS the binary was built for)
 * is fed to LLVMFuzzerTestOneInput in a child process, in name order, so
 * that one crash, sanitizer report or hang is counted and the rest still
 * run. Built with gcc's ASan and UBSan this is a host unit test for
 * `make test`: the last line is "<name>: N passed, N failed" and the exit
 * status is 1 when anything failed.
 */
#include "fuzz.h"

#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FUZZ_NAME
#define FUZZ_NAME "replay"
#endif

#define HANG_SECONDS	10	/* one input that runs this long is a hang */

#ifdef FUZZ_GCOV
void __gcov_dump(void);		/* _exit skips gcov's flush (make fuzz-cov) */
#endif
#define MAX_FILES	4096

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads path whole; NULL on error. */
static u8 *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	u8 *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*size = n;
	return buf;
}

/* Runs one input in a child; true when it returned normally. */
static bool run_one(const char *path)
{
	size_t size;
	u8 *data = slurp(path, &size);
	int status;
	pid_t pid;

	if (!data) {
		fprintf(stderr, "%s: cannot read\n", path);
		return false;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* An exact-size copy: a read past the input is an ASan report. */
		u8 *copy = malloc(size ? size : 1);

		memcpy(copy, data, size);
		alarm(HANG_SECONDS);
		LLVMFuzzerTestOneInput(copy, size);
		free(copy);
#ifdef FUZZ_GCOV
		__gcov_dump();
#endif
		_exit(0);
	}
	free(data);
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		perror("fork/waitpid");
		return false;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		fprintf(stderr, "%s: hang (more than %d s)\n", path, HANG_SECONDS);
	else if (WIFSIGNALED(status))
		fprintf(stderr, "%s: killed by signal %d\n", path, WTERMSIG(status));
	else
		fprintf(stderr, "%s: exit status %d\n", path, WEXITSTATUS(status));
	return false;
}

/* Replays every regular file in dir; adds to the counts. */
static void replay_dir(const char *dir, int *passed, int *failed)
{
	static char *names[MAX_FILES];
	int n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(stderr, "%s: cannot open the corpus\n", dir);
		(*failed)++;
		return;
	}
	while ((e = readdir(d)) && n < MAX_FILES) {
		if (e->d_name[0] == '.' || e->d_type == DT_DIR)
			continue;
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), by_name);
	for (int i = 0; i < n; i++) {
		if (run_one(names[i]))
			(*passed)++;
		else
			(*failed)++;
		free(names[i]);
	}
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay_dir(argv[i], &passed, &failed);
	} else {
#ifdef FUZZ_CORPUS
		replay_dir(FUZZ_CORPUS, &passed, &failed);
#else
		fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
		return 2;
#endif
	}
	/* An empty corpus replays nothing: that is a failure too. */
	if (passed + failed == 0)
		failed = 1;
	printf("%s: %d passed, %d failed\n", FUZZ_NAME, passed, failed);
	return failed ? 1 : 0;
}
