/*
 * sl_log - one-line log messages with time, level and program (sl_log.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "sl_log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

/* Longest line written; a longer message is cut and ends with "...". */
#define LINE_MAX_LEN 1024

void sl_log_init(struct sl_logger *lg, const char *prog, enum sl_level level)
{
	const char *slash = strrchr(prog, '/');

	lg->prog = slash != NULL ? slash + 1 : prog;
	lg->level = level;
	lg->out = stderr;
}

const char *sl_level_name(enum sl_level level)
{
	switch (level) {
	case SL_ERROR:
		return "ERROR";
	case SL_WARN:
		return "WARN";
	case SL_INFO:
		return "INFO";
	case SL_DEBUG:
		return "DEBUG";
	}
	return "?";
}

/* Writes the local time as 2026-11-24T10:00:00.123 into buf; returns the
 * length written, 0 if the clock could not be read. */
static size_t format_time(char *buf, size_t len)
{
	struct timespec now;
	struct tm tm;
	size_t n;
	int ms;

	if (clock_gettime(CLOCK_REALTIME, &now) < 0 ||
	    localtime_r(&now.tv_sec, &tm) == NULL)
		return 0;
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return 0;
	ms = (int)(now.tv_nsec / 1000000);
	if (snprintf(buf + n, len - n, ".%03d", ms) != 4)
		return 0;
	return n + 4;
}

void sl_log(const struct sl_logger *lg, enum sl_level level, const char *fmt,
	    ...)
{
	char line[LINE_MAX_LEN], stamp[40];
	va_list ap;
	size_t used;
	int n;

	if (level > lg->level)
		return;
	if (format_time(stamp, sizeof stamp) == 0)
		(void)snprintf(stamp, sizeof stamp, "0000-00-00T00:00:00.000");
	n = snprintf(line, sizeof line, "%s %s %s: ", stamp,
		     sl_level_name(level), lg->prog);
	if (n < 0)
		return;
	used = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

	va_start(ap, fmt);
	n = vsnprintf(line + used, sizeof line - used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	used += (size_t)n;
	if (used > sizeof line - 2) { /* cut: keep room for "...\n" and NUL */
		used = sizeof line - 5;
		memcpy(line + used, "...", 3);
		used += 3;
	}
	line[used++] = '\n';
	/* One fwrite per line, so lines of two processes do not mix. */
	(void)fwrite(line, 1, used, lg->out);
	(void)fflush(lg->out);
}

void sl_log_todo(const struct sl_logger *lg, int n, const char *file, int line)
{
	const char *slash = strrchr(file, '/');

	sl_log(lg, SL_ERROR, "TODO %d not done yet (%s:%d)", n,
	       slash != NULL ? slash + 1 : file, line);
}
