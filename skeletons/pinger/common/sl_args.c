/*
 * sl_args - command-line helpers and conventions (see sl_args.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "sl_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tells whether text is an optional '-' followed by decimal digits only:
 * strtol() alone would also take leading blanks and a '+'. */
static bool is_decimal(const char *text)
{
	if (*text == '-')
		text++;
	if (*text == '\0')
		return false;
	for (; *text != '\0'; text++) {
		if (*text < '0' || *text > '9')
			return false;
	}
	return true;
}

/* Writes "bad <what> "<text>": expected <kind> from <min> to <max>". */
static void bad_value(char *err, size_t errlen, const char *what,
		      const char *text, const char *kind, long min, long max)
{
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen,
			       "bad %s \"%s\": expected %s from %ld to %ld",
			       what, text, kind, min, max);
}

int sl_parse_long(const char *text, const char *what, long min, long max,
		  long *value, char *err, size_t errlen)
{
	char *end;
	long n;

	if (is_decimal(text)) {
		errno = 0;
		n = strtol(text, &end, 10);
		if (errno == 0 && *end == '\0' && n >= min && n <= max) {
			*value = n;
			return 0;
		}
	}
	bad_value(err, errlen, what, text, "an integer", min, max);
	return -1;
}

int sl_parse_port(const char *text, uint16_t *port, char *err, size_t errlen)
{
	long n;

	if (sl_parse_long(text, "port", 1, 65535, &n, NULL, 0) < 0) {
		bad_value(err, errlen, "port", text, "a number", 1, 65535);
		return -1;
	}
	*port = (uint16_t)n;
	return 0;
}

int sl_parse_optional_port(int argc, char *const argv[], int first,
			   uint16_t *port, char *err, size_t errlen)
{
	if (argc - first > 1) {
		if (err != NULL && errlen > 0)
			(void)snprintf(err, errlen,
				       "expected at most one PORT, got %d "
				       "arguments",
				       argc - first);
		return -1;
	}
	if (first < argc)
		return sl_parse_port(argv[first], port, err, errlen);
	return 0;
}

bool sl_help_requested(int argc, char *const argv[])
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

int sl_option_error(const struct sl_logger *lg, const char *usage, int opt,
		    int opt_char)
{
	if (opt == ':')
		return sl_usage_error(lg, usage, "option -%c needs a value",
				      opt_char);
	return sl_usage_error(lg, usage, "unknown option -%c", opt_char);
}

int sl_usage_error(const struct sl_logger *lg, const char *usage,
		   const char *fmt, ...)
{
	char problem[512];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(problem, sizeof problem, fmt, ap) < 0)
		problem[0] = '\0';
	va_end(ap);
	sl_log(lg, SL_ERROR, "%s", problem);
	(void)fputs(usage, lg->out);
	(void)fflush(lg->out);
	return SL_EXIT_USAGE;
}
