/* marks.c - the grader's moments on a capture's timeline (see marks.h). */
#include "marks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

#define NS_PER_S 1000000000LL
#define MARK_LINE_MAX 512

/* parse_seconds - "1764000000.25" as nanoseconds; 0, or -1 if it is not
 * digits with at most nine decimals. Read by hand: a double would round
 * away the nanoseconds of a time since the epoch. */
static int parse_seconds(const char *s, size_t len, int64_t *ns)
{
	int64_t whole = 0, frac = 0, scale = NS_PER_S;
	size_t i = 0;

	if (len == 0)
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (whole > (INT64_MAX / NS_PER_S - 9) / 10)
			return -1;
		whole = whole * 10 + (s[i] - '0');
	}
	if (i == 0)
		return -1;
	if (i < len && s[i] == '.') {
		size_t digits = 0;
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (++digits > 9)
				return -1;
			scale /= 10;
			frac += (s[i] - '0') * scale;
		}
	}
	if (i != len)
		return -1;
	*ns = whole * NS_PER_S + frac;
	return 0;
}

/* insert_sorted - put mark at its place in time order (stable). */
static int insert_sorted(struct marks *m, const struct mark *mark)
{
	if (m->n == m->allocated) {
		struct mark *v = array_grow(m->v, &m->allocated, 4, sizeof *v);
		if (v == NULL)
			return -1;
		m->v = v;
	}
	size_t at = m->n;
	while (at > 0 && m->v[at - 1].ts > mark->ts)
		at--;
	memmove(&m->v[at + 1], &m->v[at], (m->n - at) * sizeof *m->v);
	m->v[at] = *mark;
	m->n++;
	return 0;
}

int marks_add(struct marks *m, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	struct mark mark;

	if (eq == NULL || parse_seconds(spec, (size_t)(eq - spec), &mark.ts) < 0) {
		(void)snprintf(err, errlen,
			       "--event wants SECONDS=LABEL (seconds since the "
			       "epoch, e.g. 1764000000.25=grader stopped "
			       "tcpserver), got '%s'",
			       spec);
		return -1;
	}
	if (eq[1] == '\0' || strlen(eq + 1) >= MARK_LABEL_MAX) {
		(void)snprintf(err, errlen,
			       "--event label must be 1 to %d bytes, got %zu",
			       MARK_LABEL_MAX - 1, strlen(eq + 1));
		return -1;
	}
	(void)snprintf(mark.label, sizeof mark.label, "%s", eq + 1);
	if (insert_sorted(m, &mark) < 0) {
		(void)snprintf(err, errlen, "--event: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int marks_read(struct marks *m, FILE *f, const char *name, char *err,
	       size_t errlen)
{
	char line[MARK_LINE_MAX];
	unsigned number = 0;

	while (fgets(line, sizeof line, f) != NULL) {
		number++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		char why[256];
		if (marks_add(m, line, why, sizeof why) < 0) {
			(void)snprintf(err, errlen, "%s:%u: %s", name, number,
				       why);
			return -1;
		}
	}
	if (ferror(f)) {
		(void)snprintf(err, errlen, "read %s: %s", name,
			       strerror(errno));
		return -1;
	}
	return 0;
}

const struct mark *marks_last_before(const struct marks *m, int64_t ts)
{
	const struct mark *found = NULL;

	for (size_t i = 0; m != NULL && i < m->n && m->v[i].ts <= ts; i++)
		found = &m->v[i];
	return found;
}

void marks_free(struct marks *m)
{
	free(m->v);
	m->v = NULL;
	m->n = m->allocated = 0;
}
