/*
 * pidns.c - --pidns: PROGRAM runs as pid 2 of a new PID namespace whose
 * pid 1 is a minimal init of ours. When the init exits, the kernel kills
 * every process left in the namespace; that is how daemons, setsid escapes
 * and double forks of a student program end with it.
 *
 * Why PROGRAM is not pid 1 itself: pid 1 of a namespace ignores every
 * signal it has no handler for (SIGTERM, a kernel SIGPIPE, ...), which
 * would change how student programs behave.
 */
#define _GNU_SOURCE /* unshare, CLONE_NEWPID, pipe2 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "slrun.h"

/* die_with_parent - kill this init when slrun dies, even by SIGKILL, so
 * that the namespace goes with it; 0, or -1 if slrun is already gone. */
static int die_with_parent(int status_fd)
{
	struct pollfd p = {.fd = status_fd, .events = 0};

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1) {
		report("prctl(PR_SET_PDEATHSIG, SIGKILL)");
		return -1;
	}
	/* slrun may have died before the prctl. getppid() cannot tell: it is
	 * 0 for a namespace's init whatever happens outside. slrun holds the
	 * only read end of the status pipe, and a pipe whose readers are all
	 * gone polls POLLERR on its write end. */
	if (poll(&p, 1, 0) == -1) {
		report("poll(status pipe)");
		return -1;
	}
	if (p.revents & POLLERR) {
		say("namespace init: slrun is gone; not starting PROGRAM");
		return -1;
	}
	return 0;
}

/* write_status - send PROGRAM's wait status to slrun; 0 or -1. */
static int write_status(int fd, int status)
{
	ssize_t n;

	/* A 4-byte write to a pipe is atomic: all of it or an error. */
	while ((n = write(fd, &status, sizeof(status))) == -1 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(status)) {
		report("write(status pipe)");
		return -1;
	}
	return 0;
}

/* read_status - PROGRAM's wait status from the init; 1 with *status, 0 if
 * the init died without sending it, -1 on error. */
static int read_status(int fd, int *status)
{
	char *buf = (char *)status;
	size_t got = 0;

	while (got < sizeof(*status)) {
		ssize_t n = read(fd, buf + got, sizeof(*status) - got);

		if (n == 0)
			return 0;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			report("read(status pipe)");
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

/* init_main - pid 1 of the namespace: start PROGRAM, forward signals to
 * it, reap everyone, send PROGRAM's status to slrun and exit. */
static noreturn void init_main(const struct slrun_opts *o, char **envp,
			       int status_fd)
{
	pid_t program;
	int status;

	if (die_with_parent(status_fd) == -1)
		_exit(SLRUN_EXIT_SETUP);
	program = fork();
	if (program == -1) {
		report("fork(PROGRAM in the namespace)");
		_exit(SLRUN_EXIT_SETUP);
	}
	if (program == 0)
		launch_program(o, envp); /* the status pipe is close-on-exec */
	close_std_streams();
	if (supervise(program, NULL, &status) != SUPERVISE_ENDED ||
	    write_status(status_fd, status) == -1)
		_exit(SLRUN_EXIT_SETUP);
	/* Our exit makes the kernel kill what is left in the namespace. */
	_exit(0);
}

/* new_pid_namespace - put slrun's next child in a new PID namespace; 0 or -1. */
static int new_pid_namespace(void)
{
	if (unshare(CLONE_NEWPID) == -1) {
		report("unshare(CLONE_NEWPID)");
		if (errno == EPERM)
			say("--pidns needs CAP_SYS_ADMIN: run slrun as root or "
			    "as "
			    "root of a user namespace, or leave --pidns out");
		return -1;
	}
	return 0;
}

/* kill_namespace - SIGKILL the init, and so the whole namespace; reap it. */
static void kill_namespace(pid_t init)
{
	int status;

	if (kill(init, SIGKILL) == -1)
		report("kill(%ld, SIGKILL) of the namespace init", (long)init);
	/* Reaped only once the kernel has killed everything inside. */
	(void)reap(init, &status);
}

/* close_pipe - close both ends of a pipe on a failure path. */
static void close_pipe(int fds[2])
{
	(void)close(fds[0]);
	(void)close(fds[1]);
}

/* pidns_run - run PROGRAM under an init in a new PID namespace until it
 * ends (*status: PROGRAM's wait status) or *deadline (the namespace is
 * killed, SUPERVISE_DEADLINE). */
enum supervise_result pidns_run(const struct slrun_opts *o, char **envp,
				const struct timespec *deadline, int *status)
{
	enum supervise_result r;
	int fds[2], init_status, got;
	pid_t init;

	/* Close-on-exec: PROGRAM never inherits the status pipe. */
	if (pipe2(fds, O_CLOEXEC) == -1) {
		report("pipe2(status pipe)");
		return SUPERVISE_ERROR;
	}
	if (new_pid_namespace() == -1) {
		close_pipe(fds);
		return SUPERVISE_ERROR;
	}
	init = fork();
	if (init == -1) {
		report("fork(namespace init)");
		close_pipe(fds);
		return SUPERVISE_ERROR;
	}
	if (init == 0) {
		(void)close(
			fds[0]); /* must go before die_with_parent's check */
		init_main(o, envp, fds[1]);
	}
	/* Our write end closed, EOF tells that the init is gone. */
	if (close(fds[1]) == -1)
		report("close(status pipe write end)");
	close_std_streams();
	r = supervise(init, deadline, &init_status);
	if (r != SUPERVISE_ENDED) {
		kill_namespace(init);
		(void)close(fds[0]);
		return r;
	}
	got = read_status(fds[0], status);
	(void)close(fds[0]);
	/* No status: the init was killed (process group SIGKILL): mirror that. */
	if (got != 1)
		*status = init_status;
	return SUPERVISE_ENDED;
}
