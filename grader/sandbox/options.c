/*
 * options.c - slrun's command line: parsing, validation and the help text.
 */
#define _GNU_SOURCE /* getopt_long */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slrun.h"

/* Codes of the long options that have no short form. */
enum opt_code {
	OPT_CPU = 256,
	OPT_MEM,
	OPT_NPROC,
	OPT_FSIZE,
	OPT_NOFILE,
	OPT_USER,
	OPT_CHDIR,
	OPT_PIDNS,
	OPT_WALL,
	OPT_ENV_CLEAR,
	OPT_SETENV,
	OPT_DIE_WITH_PARENT,
	OPT_PRIVATE_FS,
	OPT_FS_SIZE,
	OPT_FS_RW,
	OPT_FS_RO,
	OPT_FS_HIDE,
	OPT_CGROUP
};

/* The default size cap of each fresh tmpfs of --private-fs. */
#define DEFAULT_FS_SIZE (64ULL << 20)

/* clang-format off: one line of source per line of help. */
static const char usage_text[] =
	"NAME\n"
	"    slrun - run an untrusted program with limits, as another user, in "
	"its own\n"
	"            PID namespace and file system view, and end the way it "
	"ended\n"
	"\n"
	"SYNOPSIS\n"
	"    slrun [OPTIONS] -- PROGRAM [ARG...]\n"
	"\n"
	"DESCRIPTION\n"
	"    slrun starts PROGRAM (searched in PATH) as its child and waits "
	"for it.\n"
	"    The limits, user, working directory and environment given below "
	"apply\n"
	"    to PROGRAM only, never to slrun. PROGRAM gets slrun's stdin, "
	"stdout and\n"
	"    stderr, every signal at its default disposition, an empty signal "
	"mask,\n"
	"    and RLIMIT_CORE 0 (no core dumps). slrun keeps no copy of stdin "
	"or\n"
	"    stdout once PROGRAM runs, so a reader sees EOF when PROGRAM's "
	"side ends.\n"
	"\n"
	"    SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to "
	"slrun are\n"
	"    forwarded to PROGRAM. When PROGRAM exits, slrun exits with the "
	"same\n"
	"    status; when a signal kills PROGRAM, slrun kills itself with the "
	"same\n"
	"    signal (without a core dump), so its parent sees what PROGRAM "
	"did.\n"
	"\n"
	"OPTIONS\n"
	"    --cpu SECONDS       RLIMIT_CPU: soft SECONDS (SIGXCPU), hard "
	"SECONDS+1\n"
	"                        (SIGKILL). SECONDS is a whole number >= 1.\n"
	"    --mem BYTES         RLIMIT_AS, soft and hard. 0 leaves it "
	"unchanged.\n"
	"    --nproc N           RLIMIT_NPROC, soft and hard. The kernel "
	"counts the\n"
	"                        processes of PROGRAM's real uid and ignores "
	"the\n"
	"                        limit for root: combine it with --user.\n"
	"    --fsize BYTES       RLIMIT_FSIZE, soft and hard; a larger write "
	"gets\n"
	"                        SIGXFSZ.\n"
	"    --nofile N          RLIMIT_NOFILE, soft and hard.\n"
	"    --user UID[:GID]    run PROGRAM as UID and GID, numeric, with no\n"
	"                        supplementary groups. Without GID, the "
	"primary group\n"
	"                        of UID in the passwd database, else GID = "
	"UID.\n"
	"                        Needs privilege (CAP_SETUID, CAP_SETGID).\n"
	"    --chdir DIR         start PROGRAM in DIR (entered after --user, "
	"so DIR\n"
	"                        must be open to that user).\n"
	"    --pidns             run PROGRAM as pid 2 of a new PID namespace "
	"under a\n"
	"                        minimal init (pid 1) that forwards the "
	"signals above,\n"
	"                        reaps orphans and reports PROGRAM's status. "
	"When\n"
	"                        PROGRAM ends, or slrun is killed, the kernel "
	"kills\n"
	"                        every process left in the namespace: daemons, "
	"setsid\n"
	"                        escapes and double forks included. Needs\n"
	"                        CAP_SYS_ADMIN (root, or root of a user "
	"namespace).\n"
	"    --wall SECONDS      wall time limit (decimals allowed): when it "
	"expires,\n"
	"                        SIGKILL PROGRAM (with --pidns: its whole "
	"namespace),\n"
	"                        say so on stderr and die by SIGKILL.\n"
	"    --die-with-parent   end (SIGKILL) when the process that started "
	"slrun dies,\n"
	"                        so that nothing outlives a killed grader.\n"
	"";

/* The rest of the help: one string would be longer than C17 promises. */
static const char usage_text_more[] =
	"    --private-fs        run PROGRAM in a mount namespace of its own, "
	"set up\n"
	"                        before the user drop: the whole file system "
	"read-only\n"
	"                        (and nosuid); fresh tmpfs of --fs-size bytes "
	"on "
	"/tmp,\n"
	"                        /var/tmp and /dev/shm; each --fs-hide folder "
	"covered by\n"
	"                        an empty read-only tmpfs; each --fs-rw and "
	"--fs-ro path\n"
	"                        bound back at its own place (cloned before "
	"anything\n"
	"                        covers it: a folder in /tmp is kept); with "
	"--pidns, a\n"
	"                        fresh read-only /proc of the new PID "
	"namespace. The\n"
	"                        capability bounding set is emptied. The "
	"working\n"
	"                        directory is entered again by its path. "
	"Needs\n"
	"                        CAP_SYS_ADMIN (root, or root of a user "
	"namespace).\n"
	"    --fs-size BYTES     size cap of each fresh tmpfs (default 64M).\n"
	"    --fs-rw PATH        with --private-fs: keep PATH (absolute) "
	"writable;\n"
	"                        repeatable.\n"
	"    --fs-ro PATH        with --private-fs: keep PATH (absolute) "
	"visible,\n"
	"                        read-only; repeatable. A path kept inside "
	"another "
	"goes\n"
	"                        on top of it.\n"
	"    --fs-hide DIR       with --private-fs: cover DIR (absolute) with "
	"an "
	"empty\n"
	"                        read-only tmpfs; repeatable; kept paths "
	"inside "
	"it stay.\n"
	"    --cgroup DIR        move slrun, and so PROGRAM and everything it "
	"starts,\n"
	"                        into the control group DIR (absolute: a "
	"cgroup v1 or v2\n"
	"                        folder, whose pids.max or memory limit then "
	"bounds them\n"
	"                        all together) before anything else; "
	"repeatable (one\n"
	"                        folder per cgroup v1 hierarchy). Needs write "
	"access\n"
	"                        to DIR/cgroup.procs.\n"
	"    --env-clear         start PROGRAM with only "
	"PATH=/usr/local/bin:/usr/bin:/bin,\n"
	"                        LANG=C.UTF-8, HOME=DIR (of --chdir) or /tmp, "
	"and the\n"
	"                        --setenv variables.\n"
	"    --setenv NAME=VALUE set a variable in PROGRAM's environment; "
	"repeatable;\n"
	"                        the last one of a NAME wins.\n"
	"    -h, --help          print this text on stdout and exit 0.\n"
	"\n"
	"    BYTES take an optional suffix K, M or G (powers of 1024).\n"
	"\n"
	"EXIT STATUS\n"
	"    PROGRAM's exit status, or death by PROGRAM's signal. Besides:\n"
	"    2       bad usage.\n"
	"    125     slrun failed before PROGRAM started (a limit, the user, "
	"the\n"
	"            directory, the namespace: --pidns without privilege is "
	"one).\n"
	"    126     PROGRAM exists but permission to run it was denied.\n"
	"    127     PROGRAM could not be run otherwise (not found, ...).\n"
	"    SIGKILL --wall expired.\n"
	"    Each of these also prints one line on stderr starting with "
	"\"slrun: \".\n"
	"\n"
	"EXAMPLES\n"
	"    slrun --pidns --user 65534:65534 --nproc 64 --cpu 10 --mem 512M "
	"\\\n"
	"          --fsize 16M --nofile 256 --wall 30 --env-clear --chdir "
	"/tmp/w \\\n"
	"          -- ./echoserver 12000\n";
/* clang-format on */

/* usage_hint - point at --help after a usage message; returns OPTS_BAD. */
static enum opts_result usage_hint(void)
{
	(void)fputs("Try 'slrun --help' for more information.\n", stderr);
	return OPTS_BAD;
}

/* parse_number - whole decimal number with an optional K/M/G suffix when
 * suffixes is true; 0 with *out, or -1. */
static int parse_number(const char *s, bool suffixes, rlim_t *out)
{
	unsigned long long n, mult = 1;
	char *end;

	/* strtoull accepts "-1" as a huge value: a sign is never valid here. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (suffixes && *end != '\0' && end[1] == '\0') {
		const char *units = "KMG";
		const char *u = strchr(units, *end);

		if (u == NULL)
			return -1;
		for (long i = 0; i <= u - units; i++)
			mult *= 1024;
		end++;
	}
	if (*end != '\0' || n > (unsigned long long)RLIM_INFINITY / mult)
		return -1;
	*out = (rlim_t)(n * mult);
	return 0;
}

/* parse_limit - fill one limit request from an option argument; 0 or -1. */
static int parse_limit(const char *arg, bool suffixes, rlim_t min,
		       struct limit_req *r)
{
	if (parse_number(arg, suffixes, &r->value) == -1 || r->value < min ||
	    r->value == RLIM_INFINITY)
		return -1;
	r->set = true;
	return 0;
}

/* parse_id - one numeric uid or gid in [0, 2^32-2]; 0 with *out, or -1. */
static int parse_id(const char *s, unsigned long *out)
{
	rlim_t n;

	if (parse_number(s, false, &n) == -1 || n >= UINT32_MAX)
		return -1;
	*out = (unsigned long)n;
	return 0;
}

/* parse_user - "UID[:GID]" into o->uid, o->gid; 0 or -1. */
static int parse_user(char *arg, struct slrun_opts *o)
{
	char *colon = strchr(arg, ':');
	unsigned long uid, gid;
	int rc;

	if (colon != NULL)
		*colon = '\0';
	rc = parse_id(arg, &uid);
	if (colon != NULL) {
		*colon = ':';
		if (rc == 0)
			rc = parse_id(colon + 1, &gid);
	}
	if (rc == -1)
		return -1;
	if (colon == NULL) {
		/* An unknown uid (no passwd entry) is fine: use the same gid. */
		const struct passwd *pw = getpwuid((uid_t)uid);

		gid = pw != NULL ? (unsigned long)pw->pw_gid : uid;
	}
	o->uid = (uid_t)uid;
	o->gid = (gid_t)gid;
	o->drop_user = true;
	return 0;
}

/* parse_wall - positive decimal seconds into o->wall; 0 or -1. */
static int parse_wall(const char *arg, struct slrun_opts *o)
{
	char *end;
	double secs;

	errno = 0;
	secs = strtod(arg, &end);
	/* A year bounds it well below time_t's range and catches typos. */
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(secs) ||
	    secs <= 0 || secs > 366.0 * 24 * 3600)
		return -1;
	o->wall.tv_sec = (time_t)secs;
	o->wall.tv_nsec = (long)((secs - (double)o->wall.tv_sec) * 1e9);
	o->wall_text = arg;
	o->wall_set = true;
	return 0;
}

/* parse_setenv - remember one NAME=VALUE with a non-empty NAME; 0 or -1. */
static int parse_setenv(char *arg, struct slrun_opts *o)
{
	if (arg[0] == '=' || strchr(arg, '=') == NULL)
		return -1;
	o->setenv[o->nsetenv++] = arg;
	return 0;
}

/* parse_path - one absolute path into list[(*n)++]; 0 or -1. */
static int parse_path(char *arg, char **list, size_t *n)
{
	if (arg[0] != '/')
		return -1;
	list[(*n)++] = arg;
	return 0;
}

/* apply_option - record one parsed option; 0, or -1 if its value is invalid. */
static int apply_option(int code, char *arg, struct slrun_opts *o)
{
	int rc = 0;

	switch (code) {
	case OPT_CPU:
		rc = parse_limit(arg, false, 1, &o->cpu);
		break;
	case OPT_MEM:
		rc = parse_limit(arg, true, 0, &o->mem);
		break;
	case OPT_NPROC:
		rc = parse_limit(arg, false, 0, &o->nproc);
		break;
	case OPT_FSIZE:
		rc = parse_limit(arg, true, 0, &o->fsize);
		break;
	case OPT_NOFILE:
		rc = parse_limit(arg, false, 0, &o->nofile);
		break;
	case OPT_USER:
		rc = parse_user(arg, o);
		break;
	case OPT_CHDIR:
		o->dir = arg;
		rc = arg[0] == '\0' ? -1 : 0;
		break;
	case OPT_PIDNS:
		o->pidns = true;
		break;
	case OPT_WALL:
		rc = parse_wall(arg, o);
		break;
	case OPT_ENV_CLEAR:
		o->env_clear = true;
		break;
	case OPT_DIE_WITH_PARENT:
		o->die_with_parent = true;
		break;
	case OPT_SETENV:
		rc = parse_setenv(arg, o);
		break;
	case OPT_PRIVATE_FS:
		o->private_fs = true;
		break;
	case OPT_FS_SIZE:
		rc = parse_number(arg, true, &o->fs_size) == -1 ||
				     o->fs_size == 0
			     ? -1
			     : 0;
		break;
	case OPT_FS_RW:
		rc = parse_path(arg, o->fs_rw, &o->nfs_rw);
		break;
	case OPT_FS_RO:
		rc = parse_path(arg, o->fs_ro, &o->nfs_ro);
		break;
	case OPT_FS_HIDE:
		rc = parse_path(arg, o->fs_hide, &o->nfs_hide);
		break;
	case OPT_CGROUP:
		rc = parse_path(arg, o->cgroups, &o->ncgroups);
		break;
	default:
		return -1;
	}
	/* "--mem 0" means unchanged, as if absent. */
	if (code == OPT_MEM && o->mem.value == 0)
		o->mem.set = false;
	return rc;
}

static const struct option long_options[] = {
	{"cpu", required_argument, NULL, OPT_CPU},
	{"mem", required_argument, NULL, OPT_MEM},
	{"nproc", required_argument, NULL, OPT_NPROC},
	{"fsize", required_argument, NULL, OPT_FSIZE},
	{"nofile", required_argument, NULL, OPT_NOFILE},
	{"user", required_argument, NULL, OPT_USER},
	{"chdir", required_argument, NULL, OPT_CHDIR},
	{"pidns", no_argument, NULL, OPT_PIDNS},
	{"wall", required_argument, NULL, OPT_WALL},
	{"env-clear", no_argument, NULL, OPT_ENV_CLEAR},
	{"die-with-parent", no_argument, NULL, OPT_DIE_WITH_PARENT},
	{"setenv", required_argument, NULL, OPT_SETENV},
	{"private-fs", no_argument, NULL, OPT_PRIVATE_FS},
	{"fs-size", required_argument, NULL, OPT_FS_SIZE},
	{"fs-rw", required_argument, NULL, OPT_FS_RW},
	{"fs-ro", required_argument, NULL, OPT_FS_RO},
	{"fs-hide", required_argument, NULL, OPT_FS_HIDE},
	{"cgroup", required_argument, NULL, OPT_CGROUP},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}};

/* option_name - the long name of an option code, for messages. */
static const char *option_name(int code)
{
	for (const struct option *p = long_options; p->name != NULL; p++)
		if (p->val == code)
			return p->name;
	return "?";
}

/* reject_option - say which option getopt_long just rejected and why. */
static void reject_option(int code, char **argv)
{
	const char *why = code == ':' ? "missing value for" : "unknown";

	/* optopt: a short option's letter, a long option's code, or 0 for an
	 * unknown long option, which is then the last argument consumed. */
	if (optopt >= OPT_CPU)
		say("%s option '--%s'", why, option_name(optopt));
	else if (optopt != 0)
		say("%s option '-%c'", why, optopt);
	else
		say("%s option '%s'", why, argv[optind - 1]);
}

/* opts_free - release what opts_parse allocated; *o is unusable after. */
void opts_free(struct slrun_opts *o)
{
	free(o->setenv);
	free(o->fs_rw);
	free(o->fs_ro);
	free(o->fs_hide);
	free(o->cgroups);
	o->setenv = o->fs_rw = o->fs_ro = o->fs_hide = o->cgroups = NULL;
}

/* opts_parse - fill *o from argv; prints help or a usage error itself. */
enum opts_result opts_parse(int argc, char **argv, struct slrun_opts *o)
{
	int code;

	memset(o, 0, sizeof(*o));
	/* At most argc --setenv options; the array lives as long as slrun. */
	o->setenv = calloc((size_t)argc, sizeof(*o->setenv));
	o->fs_rw = calloc((size_t)argc, sizeof(*o->fs_rw));
	o->fs_ro = calloc((size_t)argc, sizeof(*o->fs_ro));
	o->fs_hide = calloc((size_t)argc, sizeof(*o->fs_hide));
	o->cgroups = calloc((size_t)argc, sizeof(*o->cgroups));
	if (o->setenv == NULL || o->fs_rw == NULL || o->fs_ro == NULL ||
	    o->fs_hide == NULL || o->cgroups == NULL) {
		report("calloc(%d option slots)", argc);
		return OPTS_BAD;
	}
	o->fs_size = DEFAULT_FS_SIZE;
	/* Our own messages: getopt's would name argv[0], a path. */
	opterr = 0;
	/* "+": stop at PROGRAM, so that its own options stay its own;
	 * ":": tell a missing value apart from an unknown option. */
	while ((code = getopt_long(argc, argv, "+:h", long_options, NULL)) !=
	       -1) {
		if (code == 'h') {
			(void)fputs(usage_text, stdout);
			(void)fputs(usage_text_more, stdout);
			return OPTS_HELP;
		}
		if (code == '?' || code == ':') {
			reject_option(code, argv);
			return usage_hint();
		}
		if (apply_option(code, optarg, o) == -1) {
			say("--%s: invalid value '%s'", option_name(code),
			    optarg);
			return usage_hint();
		}
	}
	if (!o->private_fs && o->nfs_rw + o->nfs_ro + o->nfs_hide > 0) {
		say("--fs-rw, --fs-ro and --fs-hide go with --private-fs");
		return usage_hint();
	}
	if (optind >= argc) {
		say("missing PROGRAM");
		return usage_hint();
	}
	o->program = argv + optind;
	return OPTS_RUN;
}
