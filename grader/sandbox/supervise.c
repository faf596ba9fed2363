/*
 * supervise.c - waiting for a child while forwarding signals to it, with an
 * optional deadline. Used by slrun and by the init of --pidns alike.
 *
 * The forwarded signals and SIGCHLD stay blocked in slrun and are taken
 * with sigtimedwait: no handlers, no globals, no race between a signal and
 * the wait, and the deadline is sigtimedwait's timeout.
 */
#define _GNU_SOURCE /* sigtimedwait */

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slrun.h"

static const int forwarded[] = {SIGTERM, SIGINT,  SIGHUP,
				SIGQUIT, SIGUSR1, SIGUSR2};

/* watched_set - the forwarded signals and SIGCHLD; 0 or -1. */
static int watched_set(sigset_t *set)
{
	if (sigemptyset(set) == -1 || sigaddset(set, SIGCHLD) == -1) {
		report("sigemptyset/sigaddset(SIGCHLD)");
		return -1;
	}
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		if (sigaddset(set, forwarded[i]) == -1) {
			report("sigaddset(%d)", forwarded[i]);
			return -1;
		}
	}
	return 0;
}

/* set_disposition - one signal's handler for slrun itself; 0 or -1. */
static int set_disposition(int sig, void (*handler)(int), const char *what)
{
	struct sigaction sa = {.sa_handler = handler};

	if (sigemptyset(&sa.sa_mask) == -1 || sigaction(sig, &sa, NULL) == -1) {
		report("sigaction(%s)", what);
		return -1;
	}
	return 0;
}

/* signals_prepare - slrun's own signal state, before it forks. SIGCHLD goes
 * back to default: an inherited SIG_IGN would reap children behind our
 * back. SIGPIPE is ignored: a closed stderr must not kill slrun in the middle
 * of a message (PROGRAM gets the default back, see launch.c). The signals
 * supervise waits for are blocked, so that one arriving early waits for the
 * child instead of being lost. 0 or -1. */
int signals_prepare(void)
{
	sigset_t set;

	if (set_disposition(SIGCHLD, SIG_DFL, "SIGCHLD, SIG_DFL") == -1 ||
	    set_disposition(SIGPIPE, SIG_IGN, "SIGPIPE, SIG_IGN") == -1 ||
	    watched_set(&set) == -1)
		return -1;
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
		report("sigprocmask(SIG_BLOCK)");
		return -1;
	}
	return 0;
}

/* signals_unblock_all - empty signal mask, as PROGRAM starts; 0 or -1. */
int signals_unblock_all(void)
{
	sigset_t none;

	if (sigemptyset(&none) == -1 ||
	    sigprocmask(SIG_SETMASK, &none, NULL) == -1) {
		report("sigprocmask(SIG_SETMASK, empty)");
		return -1;
	}
	return 0;
}

/* time_left - time from now to *deadline (CLOCK_MONOTONIC), or -1 with
 * errno ETIMEDOUT once it has passed. */
static int time_left(const struct timespec *deadline, struct timespec *left)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1) {
		report("clock_gettime(CLOCK_MONOTONIC)");
		return -1;
	}
	left->tv_sec = deadline->tv_sec - now.tv_sec;
	left->tv_nsec = deadline->tv_nsec - now.tv_nsec;
	if (left->tv_nsec < 0) {
		left->tv_nsec += 1000000000L;
		left->tv_sec--;
	}
	if (left->tv_sec < 0 || (left->tv_sec == 0 && left->tv_nsec == 0)) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

/* reap_ready - reap every ended child without blocking (an init inherits
 * orphans); 1 with *status once `child` is among them, 0 if not yet, -1. */
static int reap_ready(pid_t child, int *status)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid == 0)
			return 0;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			report("waitpid(-1)");
			return -1;
		}
		if (pid == child) {
			*status = st;
			return 1;
		}
	}
}

/* next_signal - the next watched signal, waiting at most until *deadline
 * (NULL: forever); the signal, or -1 with errno ETIMEDOUT or another. */
static int next_signal(const sigset_t *set, const struct timespec *deadline)
{
	for (;;) {
		struct timespec left;
		int sig;

		if (deadline != NULL && time_left(deadline, &left) == -1)
			return -1;
		sig = sigtimedwait(set, NULL, deadline != NULL ? &left : NULL);
		if (sig != -1)
			return sig;
		if (errno == EAGAIN)
			continue; /* timeout: time_left decides */
		if (errno != EINTR) {
			report("sigtimedwait");
			return -1;
		}
	}
}

/* supervise - wait until `child` ends, forwarding signals to it; *status
 * is its wait status. SUPERVISE_DEADLINE if *deadline (CLOCK_MONOTONIC,
 * NULL for none) came first: the child is left running. */
enum supervise_result supervise(pid_t child, const struct timespec *deadline,
				int *status)
{
	sigset_t set;

	if (watched_set(&set) == -1)
		return SUPERVISE_ERROR;
	for (;;) {
		int sig, ended = reap_ready(child, status);

		if (ended != 0)
			return ended == 1 ? SUPERVISE_ENDED : SUPERVISE_ERROR;
		sig = next_signal(&set, deadline);
		if (sig == -1)
			return errno == ETIMEDOUT ? SUPERVISE_DEADLINE
						  : SUPERVISE_ERROR;
		/* ESRCH: it ended meanwhile, and SIGCHLD is already pending. */
		if (sig != SIGCHLD && kill(child, sig) == -1 && errno != ESRCH)
			report("kill(%ld, %d) to forward a signal", (long)child,
			       sig);
	}
}

/* reap - wait for `child` to end, blocking; 0 with *status, or -1. */
int reap(pid_t child, int *status)
{
	while (waitpid(child, status, 0) == -1) {
		if (errno != EINTR) {
			report("waitpid(%ld)", (long)child);
			return -1;
		}
	}
	return 0;
}

/* close_std_streams - let go of stdin and stdout once PROGRAM has them, so
 * that its readers see EOF and its writers EPIPE when PROGRAM's side ends.
 * stderr stays for slrun's own messages. */
void close_std_streams(void)
{
	/* Nothing to do on failure: the descriptors are not used again, and
	 * std_fds_open made sure none of slrun's own pipes is among them. */
	(void)close(STDIN_FILENO);
	(void)close(STDOUT_FILENO);
}
