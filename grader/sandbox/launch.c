/*
 * launch.c - the last steps before PROGRAM runs, in the forked child:
 * signals to defaults, the private file system view (--private-fs), limits,
 * user, directory, environment, exec.
 * Only this child's own state changes; failures end the child with
 * SLRUN_EXIT_SETUP (or 126/127 for exec) after one message.
 */
#define _GNU_SOURCE /* setresuid, setresgid, setgroups */

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slrun.h"

extern char **environ;

/* The kernel's sigset_t: one bit per signal, signals 1 to _NSIG - 1. */
#define KERNEL_SIGSET_SIZE ((_NSIG - 1) / 8)

/* reset_reserved_signal - SIG_DFL for a signal glibc keeps for itself (32,
 * 33) and refuses to touch, so an inherited SIG_IGN (GNU make ignores both)
 * would survive exec. Through the raw system call: an all-zero kernel
 * sigaction is SIG_DFL, no flags, empty mask, whatever the layout. 0 or -1. */
static int reset_reserved_signal(int sig)
{
	unsigned long zero[16] = {0}; /* larger than any kernel sigaction */

	if (syscall(SYS_rt_sigaction, sig, zero, NULL, KERNEL_SIGSET_SIZE) ==
	    -1) {
		report("rt_sigaction(%d, SIG_DFL)", sig);
		return -1;
	}
	return 0;
}

/* reset_signals - every ignored signal back to default: how the grader was
 * started (nohup, a CI runner) must not change how PROGRAM behaves. 0 or -1. */
static int reset_signals(void)
{
	for (int sig = 1; sig < SIGRTMAX + 1; sig++) {
		struct sigaction sa;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &sa) == -1) {
			if (errno != EINVAL) {
				report("sigaction(%d, query)", sig);
				return -1;
			}
			/* EINVAL: one of glibc's own signals. */
			if (reset_reserved_signal(sig) == -1)
				return -1;
			continue;
		}
		/* Handlers are reset by exec; only SIG_IGN would survive it. */
		if (sa.sa_handler != SIG_IGN)
			continue;
		sa.sa_handler = SIG_DFL;
		if (sigaction(sig, &sa, NULL) == -1) {
			report("sigaction(%d, SIG_DFL)", sig);
			return -1;
		}
	}
	return 0;
}

/* set_limit - soft and hard value of one resource limit; 0 or -1. */
static int set_limit(int resource, const char *name, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};

	if (setrlimit(resource, &rl) == -1) {
		report("setrlimit(%s, %llu)", name, (unsigned long long)soft);
		return -1;
	}
	return 0;
}

/* apply_limit - one requested limit, soft = hard, if it was asked for. */
static int apply_limit(int resource, const char *name,
		       const struct limit_req *r)
{
	return r->set ? set_limit(resource, name, r->value, r->value) : 0;
}

/* apply_limits - every limit of the command line and RLIMIT_CORE 0; 0 or -1.
 * Set before the user drop, while raising a hard limit is still allowed. */
static int apply_limits(const struct slrun_opts *o)
{
	/* The hard CPU limit one second later turns an ignored SIGXCPU into
	 * SIGKILL. */
	if (o->cpu.set && set_limit(RLIMIT_CPU, "RLIMIT_CPU", o->cpu.value,
				    o->cpu.value + 1) == -1)
		return -1;
	if (apply_limit(RLIMIT_AS, "RLIMIT_AS", &o->mem) == -1 ||
	    apply_limit(RLIMIT_NPROC, "RLIMIT_NPROC", &o->nproc) == -1 ||
	    apply_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", &o->fsize) == -1 ||
	    apply_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", &o->nofile) == -1)
		return -1;
	return set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0, 0);
}

/* drop_user - become o->uid/o->gid for good, with no supplementary groups
 * (root's group 0 among them); 0 or -1. */
static int drop_user(const struct slrun_opts *o)
{
	if (!o->drop_user)
		return 0;
	if (setgroups(0, NULL) == -1) {
		report("setgroups(0, [])");
		return -1;
	}
	/* Real, effective and saved ids alike, so that none can be regained. */
	if (setresgid(o->gid, o->gid, o->gid) == -1) {
		report("setresgid(%lu)", (unsigned long)o->gid);
		return -1;
	}
	if (setresuid(o->uid, o->uid, o->uid) == -1) {
		report("setresuid(%lu)", (unsigned long)o->uid);
		return -1;
	}
	return 0;
}

/* enter_dir - the --chdir directory, entered as PROGRAM's user; 0 or -1. */
static int enter_dir(const struct slrun_opts *o)
{
	if (o->dir != NULL && chdir(o->dir) == -1) {
		report("chdir(%s)", o->dir);
		return -1;
	}
	return 0;
}

/* launch_program - set up the child and exec PROGRAM; never returns. */
noreturn void launch_program(const struct slrun_opts *o, char **envp)
{
	int err;

	/* The private view first: its mounts need the privilege that the
	 * limits and the user drop take away. */
	if (reset_signals() == -1 || (o->private_fs && privfs_enter(o) == -1) ||
	    apply_limits(o) == -1 || drop_user(o) == -1 || enter_dir(o) == -1)
		_exit(SLRUN_EXIT_SETUP);
	/* Last: a signal forwarded before exec now ends the child by default. */
	if (signals_unblock_all() == -1)
		_exit(SLRUN_EXIT_SETUP);
	/* execvp searches the PATH of environ: PROGRAM's own, not slrun's. */
	environ = envp;
	(void)execvp(o->program[0], o->program);
	err = errno;
	say("cannot run %s: %s", o->program[0], strerror(err));
	_exit(err == EACCES || err == EPERM ? SLRUN_EXIT_NOEXEC
					    : SLRUN_EXIT_NOTFOUND);
}
