/* test_main.c - runs every pcapcheck unit test suite; 1 on any failure. */
#include <CUnit/Basic.h>
#include <stdio.h>

#include "testutil.h"

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "test_pcapcheck: CUnit: %s\n",
			CU_get_error_msg());
		return 1;
	}
	if (add_decode_suite() != 0 || add_tcp_suite() != 0 ||
	    add_verdict_suite() != 0 || add_misc_suite() != 0 ||
	    add_heartbeat_suite() != 0 || add_search_suite() != 0 ||
	    add_tunnel_suite() != 0) {
		fprintf(stderr, "test_pcapcheck: add suites: %s\n",
			CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed =
		CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	unsigned run = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	return failed != 0 || run == 0;
}
