/*
 * cgroup.c - slrun --cgroup: move slrun into control groups the grader made,
 * so that one pids.max (and one memory limit) bounds PROGRAM and everything
 * it starts together, and the kernel counts what each limit refused.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "slrun.h"

/* join_one - write our pid into DIR/cgroup.procs; 0, or -1 (reported). */
static int join_one(const char *dir)
{
	char path[PATH_MAX];
	char pid[32];
	int fd;
	int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	ssize_t n;

	if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >=
	    (int)sizeof path) {
		say("--cgroup %s: path too long", dir);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1) {
		report("open(%s)", path);
		return -1;
	}
	/* The kernel takes the whole pid in one write, or refuses it. */
	n = write(fd, pid, (size_t)len);
	if (n != len) {
		if (n >= 0)
			errno = EIO;
		report("write(%s)", path);
		(void)close(fd);
		return -1;
	}
	if (close(fd) == -1) {
		report("close(%s)", path);
		return -1;
	}
	return 0;
}

/* cgroups_join - join every --cgroup folder, in order; 0 or -1. */
int cgroups_join(const struct slrun_opts *o)
{
	for (size_t i = 0; i < o->ncgroups; i++)
		if (join_one(o->cgroups[i]) == -1)
			return -1;
	return 0;
}
