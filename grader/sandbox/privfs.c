/*
 * privfs.c - --private-fs: PROGRAM gets a mount namespace of its own, set up
 * in its process before the user drop. Everything the host has is seen
 * read-only; /tmp, /var/tmp and /dev/shm are fresh size-capped tmpfs; the
 * --fs-hide folders (the grader's own tree) are covered by an empty
 * read-only tmpfs; the --fs-rw and --fs-ro paths (the case's folder) are
 * bound back at the same place, writable or not; with --pidns, /proc is
 * the new PID namespace's own. The capability bounding set is emptied, so
 * that a PROGRAM running as root of a user namespace cannot undo a mount.
 *
 * The kept paths are cloned (open_tree) before anything covers them, so a
 * case folder in /tmp survives the fresh /tmp.
 */
#define _GNU_SOURCE /* unshare, open_tree, move_mount, mount_setattr */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slrun.h"

/* The shared scratch folders every program gets a fresh, private copy of. */
static const char *const scratch_dirs[] = {"/tmp", "/var/tmp", "/dev/shm"};

/* The size of the tmpfs over a --fs-hide folder: it only holds mount points. */
#define HIDE_TMPFS_OPTIONS "size=64k,mode=0755"

/* One path bound back into the new view, cloned while still visible. */
struct kept_path {
	const char *path;
	bool writable;
	int fd; /* the detached clone (open_tree), or -1 */
};

/* One --fs-hide folder: its tmpfs, made read-only once the binds are in. */
struct hidden_dir {
	const char *path;
	int fd; /* the tmpfs's root (O_PATH), or -1 when there was none */
};

/* set_attrs - mount attributes on the mount at dfd/path (and below it with
 * AT_RECURSIVE in flags); 0 or -1. */
static int set_attrs(int dfd, const char *path, unsigned int flags,
		     unsigned long long attrs, const char *what)
{
	struct mount_attr attr = {.attr_set = attrs};

	if (mount_setattr(dfd, path, flags, &attr, sizeof(attr)) == -1) {
		report("mount_setattr(%s)", what);
		return -1;
	}
	return 0;
}

/* new_mount_namespace - a private copy of the mount table: nothing mounted
 * from now on propagates back to the host; 0 or -1. */
static int new_mount_namespace(void)
{
	if (unshare(CLONE_NEWNS) == -1) {
		report("unshare(CLONE_NEWNS)");
		if (errno == EPERM)
			say("--private-fs needs CAP_SYS_ADMIN: run slrun as "
			    "root or as root of a user namespace");
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		report("mount(/, MS_REC | MS_PRIVATE)");
		return -1;
	}
	return 0;
}

/* clone_path - a detached copy of the mounts at k->path, with its final
 * attributes (read-only unless k->writable; never suid or devices); 0 or -1. */
static int clone_path(struct kept_path *k)
{
	unsigned long long attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

	k->fd = open_tree(AT_FDCWD, k->path,
			  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (k->fd == -1) {
		report("open_tree(%s, OPEN_TREE_CLONE)", k->path);
		return -1;
	}
	if (!k->writable)
		attrs |= MOUNT_ATTR_RDONLY;
	return set_attrs(k->fd, "", AT_EMPTY_PATH | AT_RECURSIVE, attrs,
			 k->path);
}

/* is_dir - whether PATH is a directory now; 1, 0 when it is missing (or
 * not a directory), -1 on another error. */
static int is_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		report("stat(%s)", path);
		return -1;
	}
	return S_ISDIR(st.st_mode) ? 1 : 0;
}

/* mount_tmpfs - a fresh tmpfs on PATH with OPTIONS; 0 or -1. */
static int mount_tmpfs(const char *path, unsigned long flags,
		       const char *options)
{
	if (mount("tmpfs", path, "tmpfs", flags, options) == -1) {
		report("mount(tmpfs on %s, %s)", path, options);
		return -1;
	}
	return 0;
}

/* cover_scratch - fresh tmpfs of SIZE bytes on each scratch folder that
 * exists; 0 or -1. */
static int cover_scratch(rlim_t size)
{
	char options[64];

	(void)snprintf(options, sizeof(options), "size=%llu,mode=1777",
		       (unsigned long long)size);
	for (size_t i = 0; i < sizeof(scratch_dirs) / sizeof(scratch_dirs[0]);
	     i++) {
		int d = is_dir(scratch_dirs[i]);

		if (d == -1 || (d == 1 && mount_tmpfs(scratch_dirs[i],
						      MS_NOSUID | MS_NODEV,
						      options) == -1))
			return -1;
	}
	return 0;
}

/* cover_hidden - an empty tmpfs over h->path, still writable (the kept
 * paths below it need mount points); h->fd keeps its root. A folder not
 * seen at all (under a fresh /tmp, say) needs no cover; 0 or -1. */
static int cover_hidden(struct hidden_dir *h)
{
	int d = is_dir(h->path);

	h->fd = -1;
	if (d <= 0)
		return d;
	if (mount_tmpfs(h->path, MS_NOSUID | MS_NODEV | MS_NOEXEC,
			HIDE_TMPFS_OPTIONS) == -1)
		return -1;
	h->fd = open(h->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->fd == -1) {
		report("open(%s, O_PATH)", h->path);
		return -1;
	}
	return 0;
}

/* make_dir - folder PATH unless it is there already; 0 or -1. */
static int make_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 0;
	if (mkdir(path, 0755) == -1) {
		report("mkdir(%s) for a mount point", path);
		return -1;
	}
	return 0;
}

/* make_mount_point - PATH and the folders above it, where a fresh tmpfs
 * lacks them: a folder, or an empty file when the clone is a file; 0 or -1. */
static int make_mount_point(const char *path, bool dir)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	int fd;

	if (len >= sizeof(buf)) {
		say("mount point %s: path too long", path);
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = strchr(buf + 1, '/'); p != NULL;
	     p = strchr(p + 1, '/')) {
		*p = '\0';
		if (make_dir(buf) == -1)
			return -1;
		*p = '/';
	}
	if (dir)
		return make_dir(buf);
	fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		report("open(%s, O_CREAT) as a mount point", buf);
		return -1;
	}
	(void)close(fd);
	return 0;
}

/* attach - put the clone of k back at k->path in the new view; 0 or -1. */
static int attach(const struct kept_path *k)
{
	struct stat st, here;

	if (fstat(k->fd, &st) == -1) {
		report("fstat(clone of %s)", k->path);
		return -1;
	}
	if (lstat(k->path, &here) == -1) {
		if (errno != ENOENT) {
			report("lstat(%s)", k->path);
			return -1;
		}
		if (make_mount_point(k->path, S_ISDIR(st.st_mode)) == -1)
			return -1;
	}
	if (move_mount(k->fd, "", AT_FDCWD, k->path, MOVE_MOUNT_F_EMPTY_PATH) ==
	    -1) {
		report("move_mount(clone of %s, %s)", k->path, k->path);
		return -1;
	}
	return 0;
}

/* by_length - qsort order of kept paths: outer (shorter) paths first, so
 * that a path kept inside another one lands on top of it. */
static int by_length(const void *a, const void *b)
{
	size_t la = strlen(((const struct kept_path *)a)->path);
	size_t lb = strlen(((const struct kept_path *)b)->path);

	return (la > lb) - (la < lb);
}

/* fresh_proc - /proc of PROGRAM's own PID namespace, read-only: the host's
 * would show the grader's processes, and their cwd links lead into folders
 * that the new view hides; 0 or -1. */
static int fresh_proc(void)
{
	if (mount("proc", "/proc", "proc",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) == -1) {
		report("mount(proc on /proc)");
		return -1;
	}
	return 0;
}

/* drop_bounding_set - no capability can come back at exec, even for uid 0
 * (root of the grader's user namespace): the mounts cannot be undone. The
 * effective set stays until the user drop and exec; 0 or -1. */
static int drop_bounding_set(void)
{
	struct __user_cap_header_struct head = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			report("prctl(PR_CAPBSET_DROP, %d)", cap);
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1) {
		report("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
		return -1;
	}
	/* Inheritable capabilities would survive an exec as root. */
	if (syscall(SYS_capget, &head, data) == -1) {
		report("capget");
		return -1;
	}
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		data[i].inheritable = 0;
	if (syscall(SYS_capset, &head, data) == -1) {
		report("capset(no inheritable capabilities)");
		return -1;
	}
	return 0;
}

/* keep_list - the --fs-ro and --fs-rw paths in attach order; NULL on error. */
static struct kept_path *keep_list(const struct slrun_opts *o, size_t *n)
{
	struct kept_path *k = calloc(o->nfs_ro + o->nfs_rw + 1, sizeof(*k));

	*n = 0;
	if (k == NULL) {
		report("calloc(%zu kept paths)", o->nfs_ro + o->nfs_rw);
		return NULL;
	}
	for (size_t i = 0; i < o->nfs_ro; i++)
		k[(*n)++] = (struct kept_path){o->fs_ro[i], false, -1};
	for (size_t i = 0; i < o->nfs_rw; i++)
		k[(*n)++] = (struct kept_path){o->fs_rw[i], true, -1};
	qsort(k, *n, sizeof(*k), by_length);
	return k;
}

/* build_view - every step of the new view but the last (hidden folders
 * read-only); 0 or -1. */
static int build_view(const struct slrun_opts *o, struct kept_path *k,
		      size_t nk, struct hidden_dir *h)
{
	for (size_t i = 0; i < nk; i++)
		if (clone_path(&k[i]) == -1)
			return -1;
	if (set_attrs(AT_FDCWD, "/", AT_RECURSIVE,
		      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID,
		      "/, read-only and nosuid") == -1 ||
	    cover_scratch(o->fs_size) == -1)
		return -1;
	for (size_t i = 0; i < o->nfs_hide; i++)
		if (cover_hidden(&h[i]) == -1)
			return -1;
	if (o->pidns && fresh_proc() == -1)
		return -1;
	for (size_t i = 0; i < nk; i++)
		if (attach(&k[i]) == -1)
			return -1;
	for (size_t i = 0; i < o->nfs_hide; i++)
		if (h[i].fd != -1 &&
		    set_attrs(h[i].fd, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY,
			      h[i].path) == -1)
			return -1;
	return 0;
}

/* enter_again - the working directory by its path, so that it is the new
 * view's (the old one still refers to the host's mounts); 0 or -1. */
static int enter_again(const char *cwd)
{
	if (chdir(cwd) == -1) {
		report("chdir(%s) in the private view", cwd);
		return -1;
	}
	return 0;
}

/* privfs_enter - put this process (PROGRAM, before the user drop) into its
 * private view of the file system; 0 or -1 after a message. */
int privfs_enter(const struct slrun_opts *o)
{
	char cwd[PATH_MAX];
	struct hidden_dir *h;
	struct kept_path *k;
	size_t nk;
	int rc = -1;

	if (o->dir == NULL && getcwd(cwd, sizeof(cwd)) == NULL) {
		report("getcwd");
		return -1;
	}
	k = keep_list(o, &nk);
	h = calloc(o->nfs_hide + 1, sizeof(*h));
	if (k == NULL || h == NULL) {
		if (h == NULL)
			report("calloc(%zu hidden folders)", o->nfs_hide);
		free(k);
		free(h);
		return -1;
	}
	for (size_t i = 0; i < o->nfs_hide; i++)
		h[i] = (struct hidden_dir){o->fs_hide[i], -1};
	if (new_mount_namespace() == 0 && build_view(o, k, nk, h) == 0 &&
	    drop_bounding_set() == 0 &&
	    (o->dir != NULL || enter_again(cwd) == 0))
		rc = 0;
	for (size_t i = 0; i < nk; i++)
		if (k[i].fd != -1)
			(void)close(k[i].fd);
	for (size_t i = 0; i < o->nfs_hide; i++)
		if (h[i].fd != -1)
			(void)close(h[i].fd);
	free(k);
	free(h);
	return rc;
}
