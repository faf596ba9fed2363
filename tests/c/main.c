/*
 * main - runs every suite of the CUnit tests of solutions/common with the
 * basic interface; exits 1 if any test or suite failed.
 */
#define _DEFAULT_SOURCE

#include <CUnit/Basic.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "sl_tests.h"
#include "testutil.h"

/* The whole run must end within this many seconds. */
#define RUN_DEADLINE_S 30

/* Ends the process if the run hangs (a test blocked on a socket forever),
 * so that "make check" fails instead of waiting. */
static void *watchdog(void *arg)
{
	struct timespec left = {.tv_sec = RUN_DEADLINE_S, .tv_nsec = 0};
	static const char msg[] = "sl_tests: still running after the "
				  "deadline: a test hangs\n";

	(void)arg;
	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
		_exit(4); /* nowhere left to say it */
	_exit(3);
}

int main(void)
{
	pthread_t dog;
	int (*const adders[])(void) = {add_io_suite,	add_line_suite,
				       add_net_suite,	add_log_suite,
				       add_frame_suite, add_args_suite,
				       add_thread_suite};
	unsigned failures;

	if (start_thread(&dog, watchdog, NULL) < 0) {
		perror("sl_tests: start watchdog");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "sl_tests: CUnit: %s\n", CU_get_error_msg());
		return 1;
	}
	for (size_t i = 0; i < sizeof adders / sizeof adders[0]; i++) {
		if (adders[i]() < 0) {
			fprintf(stderr, "sl_tests: add suite: %s\n",
				CU_get_error_msg());
			CU_cleanup_registry();
			return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		fprintf(stderr, "sl_tests: run: %s\n", CU_get_error_msg());
	failures = CU_get_number_of_failures() +
		   CU_get_number_of_suites_failed() +
		   CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures == 0 ? 0 : 1;
}
