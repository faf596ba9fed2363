/*
 * test_log - sl_log: line format, time stamp, level filter, truncation and
 * the SL_TODO placeholder.
 */
#define _GNU_SOURCE /* strptime */

#include <CUnit/CUnit.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_log.h"
#include "sl_tests.h"
#include "testutil.h"

/* SL_TODO logs through the program's logger; in this program it is ours. */
struct sl_logger sl_prog_log;

/* Tells whether text matches the extended regular expression re. */
static bool matches(const char *text, const char *re)
{
	regex_t rx;
	bool ok;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

#define STAMP "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}"

static void test_format(void)
{
	struct sl_logger lg;
	FILE *out = tmpfile();
	char *text;

	CU_ASSERT_FATAL(out != NULL);
	sl_log_init(&lg, "/usr/local/bin/tcpserver", SL_INFO);
	CU_ASSERT_STRING_EQUAL(lg.prog, "tcpserver");
	CU_ASSERT_PTR_EQUAL(lg.out, stderr);
	lg.out = out;
	sl_log(&lg, SL_INFO, "connection from %s", "127.0.0.1:40000");
	text = slurp(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT(matches(
		text, "^" STAMP
		      " INFO tcpserver: connection from 127.0.0.1:40000\n$"));
	free(text);
	fclose(out);
}

/* The wall clock's seconds, read as sl_log() reads them: time() comes
 * from a coarse clock that can lag clock_gettime() across a second. */
static time_t now_seconds(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static void test_time_is_local_now(void)
{
	struct sl_logger lg;
	FILE *out = tmpfile();
	time_t before = now_seconds(), after, logged;
	struct tm tm;
	char *text;

	CU_ASSERT_FATAL(out != NULL);
	sl_log_init(&lg, "t", SL_INFO);
	lg.out = out;
	sl_log(&lg, SL_ERROR, "x");
	after = now_seconds();
	text = slurp(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	memset(&tm, 0, sizeof tm);
	CU_ASSERT_FATAL(strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) != NULL);
	tm.tm_isdst = -1;
	logged = mktime(&tm); /* reads the text back as local time */
	CU_ASSERT(logged >= before && logged <= after);
	free(text);
	fclose(out);
}

static void test_levels(void)
{
	struct sl_logger lg;
	FILE *out = tmpfile();
	char *text;

	CU_ASSERT_FATAL(out != NULL);
	sl_log_init(&lg, "p", SL_WARN);
	lg.out = out;
	sl_log(&lg, SL_DEBUG, "debug");
	sl_log(&lg, SL_INFO, "info");
	sl_log(&lg, SL_WARN, "warn");
	sl_log(&lg, SL_ERROR, "error");
	text = slurp(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT(matches(text, "^" STAMP " WARN p: warn\n" STAMP
				" ERROR p: error\n$"));
	free(text);
	fclose(out);

	CU_ASSERT_STRING_EQUAL(sl_level_name(SL_ERROR), "ERROR");
	CU_ASSERT_STRING_EQUAL(sl_level_name(SL_WARN), "WARN");
	CU_ASSERT_STRING_EQUAL(sl_level_name(SL_INFO), "INFO");
	CU_ASSERT_STRING_EQUAL(sl_level_name(SL_DEBUG), "DEBUG");
}

static void test_long_message_cut(void)
{
	struct sl_logger lg;
	FILE *out = tmpfile();
	char long_text[3000], *text;
	size_t len;

	CU_ASSERT_FATAL(out != NULL);
	memset(long_text, 'x', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	sl_log_init(&lg, "p", SL_INFO);
	lg.out = out;
	sl_log(&lg, SL_INFO, "%s", long_text);
	text = slurp(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	len = strlen(text);
	CU_ASSERT(len > 900 && len < 1024);
	CU_ASSERT(len > 4 && strcmp(text + len - 4, "...\n") == 0);
	CU_ASSERT(strchr(text, '\n') == text + len - 1); /* one line */
	free(text);
	fclose(out);
}

static void test_todo_once_per_site(void)
{
	FILE *out = tmpfile();
	char want[400], *text;
	int first_line = 0, second_line;

	CU_ASSERT_FATAL(out != NULL);
	sl_log_init(&sl_prog_log, "skel", SL_INFO);
	sl_prog_log.out = out;
	for (int i = 0; i < 3; i++) {
		first_line = __LINE__ + 1;
		SL_TODO(7);
	}
	second_line = __LINE__ + 1;
	SL_TODO(8);
	text = slurp(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	snprintf(
		want, sizeof want,
		"^" STAMP
		" ERROR skel: TODO 7 not done yet \\(test_log\\.c:%d\\)\n" STAMP
		" ERROR skel: TODO 8 not done yet \\(test_log\\.c:%d\\)\n$",
		first_line, second_line);
	CU_ASSERT(matches(text, want));
	free(text);
	fclose(out);
}

int add_log_suite(void)
{
	CU_pSuite s = CU_add_suite("sl_log", NULL, NULL);

	if (s == NULL || !CU_add_test(s, "line format", test_format) ||
	    !CU_add_test(s, "time stamp is local time now",
			 test_time_is_local_now) ||
	    !CU_add_test(s, "level filter and names", test_levels) ||
	    !CU_add_test(s, "long message cut with ...",
			 test_long_message_cut) ||
	    !CU_add_test(s, "SL_TODO once per call site",
			 test_todo_once_per_site))
		return -1;
	return 0;
}
