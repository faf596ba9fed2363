/* runstat.c - run a command and report its wall time and peak RSS.
 *
 *   runstat CMD [ARG...]   runs CMD (its stdout and stderr untouched), then
 *                          prints "runstat: wall_s=W maxrss_kib=R status=S"
 *                          on stderr and exits with CMD's status
 *
 * Why not measure from Python: a child forked from Python carries Python's
 * resident memory until it execs, and ru_maxrss keeps that high-water mark.
 * Forked from this small program, the mark is the command's own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* now_seconds - monotonic time in seconds. */
static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* wait_child - wait for pid, retrying on EINTR; 0, or -1 with errno. */
static int wait_child(pid_t pid, int *status, struct rusage *usage)
{
	while (wait4(pid, status, 0, usage) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: runstat CMD [ARG...]\n");
		return 2;
	}
	double start = now_seconds();
	pid_t pid = fork();
	if (pid == -1) {
		fprintf(stderr, "runstat: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "runstat: exec %s: %s\n", argv[1],
			strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage usage;
	if (wait_child(pid, &status, &usage) == -1) {
		fprintf(stderr, "runstat: wait for %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status)
				     : 128 + WTERMSIG(status);
	fprintf(stderr, "runstat: wall_s=%.6f maxrss_kib=%ld status=%d\n",
		now_seconds() - start, usage.ru_maxrss, code);
	return code;
}
