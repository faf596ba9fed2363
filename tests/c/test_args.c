/*
 * test_args - sl_args: ports, integers in a range, -h/--help and usage
 * errors.
 */
#define _DEFAULT_SOURCE

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "sl_args.h"
#include "sl_tests.h"
#include "testutil.h"

static void test_good_ports(void)
{
	static const struct {
		const char *text;
		uint16_t port;
	} cases[] = {{"1", 1}, {"80", 80}, {"12000", 12000}, {"65535", 65535}};
	char err[128];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint16_t port = 0;

		CU_ASSERT_EQUAL(
			sl_parse_port(cases[i].text, &port, err, sizeof err),
			0);
		CU_ASSERT_EQUAL(port, cases[i].port);
	}
}

static void test_optional_port(void)
{
	char *none[] = {"prog", "-i", "5"};
	char *one[] = {"prog", "-i", "5", "24680"};
	char *bad[] = {"prog", "http"};
	char *two[] = {"prog", "1", "2"};
	char err[128] = "";
	uint16_t port = 12000;

	/* No PORT: the default stays. */
	CU_ASSERT_EQUAL(sl_parse_optional_port(3, none, 3, &port, err,
					       sizeof err), 0);
	CU_ASSERT_EQUAL(port, 12000);
	CU_ASSERT_EQUAL(sl_parse_optional_port(4, one, 3, &port, err,
					       sizeof err), 0);
	CU_ASSERT_EQUAL(port, 24680);
	CU_ASSERT_EQUAL(sl_parse_optional_port(2, bad, 1, &port, err,
					       sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad port \"http\": expected a number from 1 to 65535");
	CU_ASSERT_EQUAL(port, 24680);
	CU_ASSERT_EQUAL(sl_parse_optional_port(3, two, 1, &port, err,
					       sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "expected at most one PORT, got 2 arguments");
}

static void test_bad_ports(void)
{
	static const char *const cases[] = {
		"0",   "65536", "",   "abc", "12a",  " 80",
		"80 ", "+80",	"-1", "-0",  "0x50", "99999999999999999999999"};
	char err[128], want[128];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint16_t port = 4242;

		CU_ASSERT_EQUAL(sl_parse_port(cases[i], &port, err, sizeof err),
				-1);
		CU_ASSERT_EQUAL(port, 4242);
		snprintf(want, sizeof want,
			 "bad port \"%s\": expected a number from 1 to 65535",
			 cases[i]);
		CU_ASSERT_STRING_EQUAL(err, want);
	}
}

static void test_parse_long(void)
{
	char err[128] = "";
	long v = 0;

	CU_ASSERT_EQUAL(
		sl_parse_long("1000", "timeout", 1, 60000, &v, err, sizeof err),
		0);
	CU_ASSERT_EQUAL(v, 1000);
	CU_ASSERT_EQUAL(
		sl_parse_long("-5", "offset", -10, 10, &v, err, sizeof err), 0);
	CU_ASSERT_EQUAL(v, -5);
	CU_ASSERT_EQUAL(sl_parse_long("60000", "timeout", 1, 60000, &v, err,
				      sizeof err),
			0);
	CU_ASSERT_EQUAL(v, 60000);

	v = 7;
	CU_ASSERT_EQUAL(sl_parse_long("60001", "timeout", 1, 60000, &v, err,
				      sizeof err),
			-1);
	CU_ASSERT_STRING_EQUAL(err, "bad timeout \"60001\": expected an "
				    "integer from 1 to 60000");
	CU_ASSERT_EQUAL(v, 7);
	CU_ASSERT_EQUAL(
		sl_parse_long("1.5", "timeout", 1, 60000, &v, err, sizeof err),
		-1);
	CU_ASSERT_EQUAL(
		sl_parse_long("-", "timeout", -5, 5, &v, err, sizeof err), -1);
	CU_ASSERT_EQUAL(sl_parse_long("99999999999999999999", "n", 0,
				      __LONG_MAX__, &v, NULL, 0),
			-1);
	CU_ASSERT_EQUAL(v, 7);
}

static void test_help_requested(void)
{
	char *help[] = {"prog", "host", "-h", NULL};
	char *long_help[] = {"prog", "--help", NULL};
	char *after_dashes[] = {"prog", "--", "-h", NULL};
	char *none[] = {"prog", "-W", "100", "host", NULL};
	char *glued[] = {"prog", "-hx", NULL};

	CU_ASSERT_TRUE(sl_help_requested(3, help));
	CU_ASSERT_TRUE(sl_help_requested(2, long_help));
	CU_ASSERT_FALSE(sl_help_requested(3, after_dashes));
	CU_ASSERT_FALSE(sl_help_requested(4, none));
	CU_ASSERT_FALSE(sl_help_requested(2, glued));
	CU_ASSERT_FALSE(sl_help_requested(1, help));
}

static void test_usage_error(void)
{
	struct sl_logger lg;
	FILE *out = tmpfile();
	char *text;
	const char *usage = "Usage: prog [-h] HOST PORT\n";

	CU_ASSERT_FATAL(out != NULL);
	sl_log_init(&lg, "prog", SL_INFO);
	lg.out = out;
	CU_ASSERT_EQUAL(sl_usage_error(&lg, usage, "missing %s", "PORT"),
			SL_EXIT_USAGE);
	CU_ASSERT_EQUAL(SL_EXIT_USAGE, 2);
	text = slurp(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, " ERROR prog: missing PORT\n"
					    "Usage: prog [-h] HOST PORT\n"));
	free(text);
	fclose(out);
}

static void test_option_error(void)
{
	struct sl_logger lg;
	FILE *out = tmpfile();
	char *text;
	const char *usage = "Usage: prog [-i MS]\n";

	CU_ASSERT_FATAL(out != NULL);
	sl_log_init(&lg, "prog", SL_INFO);
	lg.out = out;
	CU_ASSERT_EQUAL(sl_option_error(&lg, usage, ':', 'i'), SL_EXIT_USAGE);
	CU_ASSERT_EQUAL(sl_option_error(&lg, usage, '?', 'x'), SL_EXIT_USAGE);
	text = slurp(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, " ERROR prog: option -i needs a value\n"
					    "Usage: prog [-i MS]\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, " ERROR prog: unknown option -x\n"
					    "Usage: prog [-i MS]\n"));
	free(text);
	fclose(out);
}

int add_args_suite(void)
{
	CU_pSuite s = CU_add_suite("sl_args", NULL, NULL);

	if (s == NULL || !CU_add_test(s, "good ports", test_good_ports) ||
	    !CU_add_test(s, "bad ports: error names the value",
			 test_bad_ports) ||
	    !CU_add_test(s, "optional trailing PORT", test_optional_port) ||
	    !CU_add_test(s, "integers in a range", test_parse_long) ||
	    !CU_add_test(s, "-h and --help", test_help_requested) ||
	    !CU_add_test(s, "getopt's ':' and '?' as usage errors",
			 test_option_error) ||
	    !CU_add_test(s, "usage error: message, usage, status 2",
			 test_usage_error))
		return -1;
	return 0;
}
