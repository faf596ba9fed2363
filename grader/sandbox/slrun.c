/*
 * slrun.c - main of slrun: run PROGRAM with limits (optionally in its own
 * PID namespace), wait for it, and end the way it ended.
 *
 * The grader starts every student process through slrun because Python's
 * preexec_fn is unsafe once the grader has threads.
 */
#define _GNU_SOURCE /* PR_SET_DUMPABLE */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slrun.h"

extern char **environ;

/* std_fds_open - make sure fds 0-2 are open (on /dev/null if they were
 * not), so that no pipe of slrun's lands on them and gets closed by
 * close_std_streams; 0 or -1. */
static int std_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int got;

		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* open returns the lowest free descriptor: this one. */
		got = open("/dev/null", O_RDWR);
		if (got != fd) {
			report("open(/dev/null) for closed fd %d", fd);
			return -1;
		}
	}
	return 0;
}

/* die_by_signal - end slrun by `sig`, as PROGRAM ended, without a core. */
static noreturn void die_by_signal(int sig)
{
	struct rlimit none = {0, 0};
	sigset_t set;

	/* RLIMIT_CORE 0 stops core files; not dumpable also stops a piped
	 * core_pattern, which ignores RLIMIT_CORE. */
	if (setrlimit(RLIMIT_CORE, &none) == -1)
		report("setrlimit(RLIMIT_CORE, 0)");
	if (prctl(PR_SET_DUMPABLE, 0) == -1)
		report("prctl(PR_SET_DUMPABLE, 0)");
	if (sig != SIGKILL && signal(sig, SIG_DFL) == SIG_ERR)
		report("signal(%d, SIG_DFL)", sig);
	if (sigemptyset(&set) == -1 || sigaddset(&set, sig) == -1 ||
	    sigprocmask(SIG_UNBLOCK, &set, NULL) == -1)
		report("sigprocmask(SIG_UNBLOCK, %d)", sig);
	if (raise(sig) != 0)
		report("raise(%d)", sig);
	/* Only reached if the signal did not end us: the shell's convention. */
	exit(128 + sig);
}

/* mirror_status - end slrun with PROGRAM's exit code or signal. */
static noreturn void mirror_status(int status)
{
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		die_by_signal(WTERMSIG(status));
	say("unexpected wait status %#x", (unsigned)status);
	exit(SLRUN_EXIT_SETUP);
}

/* run_direct - PROGRAM as slrun's child, until it ends (*status) or
 * *deadline (SIGKILLed and reaped; SUPERVISE_DEADLINE). */
static enum supervise_result run_direct(const struct slrun_opts *o, char **envp,
					const struct timespec *deadline,
					int *status)
{
	enum supervise_result r;
	pid_t child = fork();

	if (child == -1) {
		report("fork(PROGRAM)");
		return SUPERVISE_ERROR;
	}
	if (child == 0)
		launch_program(o, envp);
	close_std_streams();
	r = supervise(child, deadline, status);
	if (r != SUPERVISE_ENDED) {
		/* Only PROGRAM: its descendants are the grader's (process
		 * group) or --pidns's business. */
		if (kill(child, SIGKILL) == -1)
			report("kill(%ld, SIGKILL)", (long)child);
		(void)reap(child, status);
	}
	return r;
}

/* wall_deadline - now + --wall on CLOCK_MONOTONIC; 0 or -1. */
static int wall_deadline(const struct slrun_opts *o, struct timespec *deadline)
{
	if (clock_gettime(CLOCK_MONOTONIC, deadline) == -1) {
		report("clock_gettime(CLOCK_MONOTONIC)");
		return -1;
	}
	deadline->tv_sec += o->wall.tv_sec;
	deadline->tv_nsec += o->wall.tv_nsec;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_nsec -= 1000000000L;
		deadline->tv_sec++;
	}
	return 0;
}

/* With --die-with-parent: have the kernel SIGKILL us when our parent dies
 * (and so, through --pidns's own death signal, the whole namespace).  The
 * parent may already be gone: then we are orphaned, and stop at once. */
static int die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1) {
		say("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
		return -1;
	}
	if (getppid() != parent)
		die_by_signal(SIGKILL);
	return 0;
}

int main(int argc, char **argv)
{
	pid_t parent = getppid();
	struct slrun_opts o;
	struct timespec deadline;
	enum supervise_result r;
	struct program_env env = {NULL, NULL};
	int status;

	/* First: getpwuid (--user) may open files, which must not take 0-2. */
	if (std_fds_open() == -1)
		return SLRUN_EXIT_SETUP;
	switch (opts_parse(argc, argv, &o)) {
	case OPTS_HELP:
		opts_free(&o);
		return fflush(stdout) == 0 ? 0 : SLRUN_EXIT_SETUP;
	case OPTS_BAD:
		opts_free(&o);
		return SLRUN_EXIT_USAGE;
	case OPTS_RUN:
		break;
	}
	/* Before any fork: every process slrun starts inherits the groups. */
	if (cgroups_join(&o) == -1 ||
	    (o.die_with_parent && die_with_parent(parent) == -1) ||
	    env_build(&o, environ, &env) == -1 || signals_prepare() == -1 ||
	    (o.wall_set && wall_deadline(&o, &deadline) == -1)) {
		env_free(&env);
		opts_free(&o);
		return SLRUN_EXIT_SETUP;
	}
	/* o and env stay until slrun exits: exit() below ends their use. */
	r = (o.pidns ? pidns_run : run_direct)(
		&o, env.vars, o.wall_set ? &deadline : NULL, &status);
	if (r == SUPERVISE_ERROR)
		exit(SLRUN_EXIT_SETUP);
	if (r == SUPERVISE_DEADLINE) {
		say("wall time limit of %s s reached; killed %s", o.wall_text,
		    o.program[0]);
		die_by_signal(SIGKILL);
	}
	mirror_status(status);
}
