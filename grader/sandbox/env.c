/*
 * env.c - the environment PROGRAM starts with: slrun's own, or a clean one
 * (--env-clear), plus the --setenv variables.
 */
#define _DEFAULT_SOURCE /* realpath */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slrun.h"

static const char clean_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
static const char clean_lang[] = "LANG=C.UTF-8";

/* count_strings - number of entries of a NULL-ended array (NULL counts 0). */
static size_t count_strings(char **v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* same_name - whether two NAME=VALUE strings have the same NAME. */
static bool same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return strncmp(a, b, n) == 0 && b[n] == '=';
}

/* put_var - replace the variable of the same name in env[0..*n) or append. */
static void put_var(char **env, size_t *n, char *var)
{
	for (size_t i = 0; i < *n; i++) {
		if (same_name(var, env[i])) {
			env[i] = var;
			return;
		}
	}
	env[(*n)++] = var;
}

/* home_var - "HOME=" the absolute --chdir directory, or /tmp; NULL on ENOMEM. */
static char *home_var(const char *dir)
{
	char abs[PATH_MAX];
	const char *home = "/tmp";
	size_t size;
	char *var;

	/* A missing DIR fails later, at chdir, with a clearer message. */
	if (dir != NULL)
		home = realpath(dir, abs) != NULL ? abs : dir;
	size = sizeof("HOME=") + strlen(home);
	var = malloc(size);
	if (var == NULL) {
		report("malloc(HOME of %zu bytes)", size);
		return NULL;
	}
	(void)snprintf(var, size, "HOME=%s", home);
	return var;
}

/* env_build - fill *e with PROGRAM's environment; 0, or -1 after a message. */
int env_build(const struct slrun_opts *o, char **parent, struct program_env *e)
{
	size_t base = o->env_clear ? 3 : count_strings(parent);
	size_t n = 0;

	e->home = NULL;
	e->vars = calloc(base + o->nsetenv + 1, sizeof(*e->vars));
	if (e->vars == NULL) {
		report("calloc(environment of %zu variables)",
		       base + o->nsetenv);
		return -1;
	}
	if (o->env_clear) {
		e->home = home_var(o->dir);
		if (e->home == NULL) {
			env_free(e);
			return -1;
		}
		/* The strings are never written: PROGRAM gets copies at exec. */
		e->vars[n++] = (char *)clean_path;
		e->vars[n++] = (char *)clean_lang;
		e->vars[n++] = e->home;
	} else {
		for (; n < base; n++)
			e->vars[n] = parent[n];
	}
	for (size_t i = 0; i < o->nsetenv; i++)
		put_var(e->vars, &n, o->setenv[i]);
	e->vars[n] = NULL;
	return 0;
}

/* env_free - release what env_build allocated; the variables themselves
 * belong to argv and slrun's environment. */
void env_free(struct program_env *e)
{
	free(e->vars);
	free(e->home);
	e->vars = NULL;
	e->home = NULL;
}
