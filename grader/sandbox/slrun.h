/*
 * slrun.h - shared declarations of slrun, the launcher that runs untrusted
 * student programs for the socklab grader.
 */
#ifndef SLRUN_H
#define SLRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>

/* Exit statuses of slrun itself; every other status is PROGRAM's own. */
enum slrun_exit {
	SLRUN_EXIT_USAGE = 2,	  /* bad command line */
	SLRUN_EXIT_SETUP = 125,	  /* slrun failed before PROGRAM could start */
	SLRUN_EXIT_NOEXEC = 126,  /* PROGRAM found but permission denied */
	SLRUN_EXIT_NOTFOUND = 127 /* PROGRAM could not be run otherwise */
};

/* One resource limit asked for on the command line. */
struct limit_req {
	bool set;
	rlim_t value;
};

/* Everything the command line asks for; strings point into argv. */
struct slrun_opts {
	struct limit_req cpu, mem, nproc, fsize, nofile;
	bool drop_user;
	uid_t uid;
	gid_t gid;
	const char *dir; /* --chdir, or NULL */
	bool pidns;
	bool wall_set;
	struct timespec wall;  /* --wall as a duration */
	const char *wall_text; /* --wall as typed, for the message */
	bool env_clear;
	bool die_with_parent; /* --die-with-parent */
	char **setenv; /* NAME=VALUE strings, nsetenv of them */
	size_t nsetenv;
	bool private_fs;     /* --private-fs */
	rlim_t fs_size;      /* --fs-size: bytes of each fresh tmpfs */
	char **fs_rw, **fs_ro, **fs_hide; /* --fs-rw, --fs-ro, --fs-hide */
	size_t nfs_rw, nfs_ro, nfs_hide;
	char **cgroups; /* --cgroup folders, ncgroups of them */
	size_t ncgroups;
	char **program; /* PROGRAM and its arguments, NULL-ended */
};

/* What opts_parse found: run PROGRAM, help printed, or bad usage. */
enum opts_result {
	OPTS_RUN,
	OPTS_HELP,
	OPTS_BAD
};

/* options.c */
enum opts_result opts_parse(int argc, char **argv, struct slrun_opts *o);
void opts_free(struct slrun_opts *o);

/* PROGRAM's environment, and the one string of it that slrun allocated. */
struct program_env {
	char **vars;
	char *home;
};

/* env.c */
int env_build(const struct slrun_opts *o, char **parent, struct program_env *e);
void env_free(struct program_env *e);

/* cgroup.c */
int cgroups_join(const struct slrun_opts *o);

/* launch.c */
noreturn void launch_program(const struct slrun_opts *o, char **envp);

/* supervise.c */
enum supervise_result {
	SUPERVISE_ENDED,
	SUPERVISE_DEADLINE,
	SUPERVISE_ERROR
};
int signals_prepare(void);
int signals_unblock_all(void);
enum supervise_result supervise(pid_t child, const struct timespec *deadline,
				int *status);
int reap(pid_t child, int *status);
void close_std_streams(void);

/* pidns.c */
enum supervise_result pidns_run(const struct slrun_opts *o, char **envp,
				const struct timespec *deadline, int *status);

/* privfs.c */
int privfs_enter(const struct slrun_opts *o);

/* report.c */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SLRUN_H */
