/*
 * sl_tests - the suites of the CUnit tests of solutions/common.
 */
#ifndef SL_TESTS_H
#define SL_TESTS_H

/* Each adds its suite to the CUnit registry; returns 0, or -1. */
int add_io_suite(void);
int add_line_suite(void);
int add_net_suite(void);
int add_log_suite(void);
int add_frame_suite(void);
int add_args_suite(void);
int add_thread_suite(void);

#endif
