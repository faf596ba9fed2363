/*
 * test_thread - sl_start_thread(): the function runs with its argument, in
 * a detached thread (it cannot be joined), with the small stack.
 */
#define _GNU_SOURCE /* pthread_getattr_np(): the attributes a thread really has */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "sl_tests.h"
#include "sl_thread.h"

struct probe {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	bool done;
	int arg_seen;
	size_t stack;
	int detach;
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	pthread_attr_t attr;

	pthread_mutex_lock(&p->lock);
	p->arg_seen = 42;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		(void)pthread_attr_getstacksize(&attr, &p->stack);
		(void)pthread_attr_getdetachstate(&attr, &p->detach);
		(void)pthread_attr_destroy(&attr);
	}
	p->done = true;
	pthread_cond_signal(&p->done_cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void test_start_thread(void)
{
	struct probe p = {.lock = PTHREAD_MUTEX_INITIALIZER,
			  .done_cond = PTHREAD_COND_INITIALIZER};
	struct timespec deadline;
	int rc = 0;

	CU_ASSERT_EQUAL_FATAL(sl_start_thread(probe_main, &p), 0);
	(void)clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	pthread_mutex_lock(&p.lock);
	while (!p.done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&p.done_cond, &p.lock, &deadline);
	pthread_mutex_unlock(&p.lock);
	CU_ASSERT_FATAL(p.done);
	CU_ASSERT_EQUAL(p.arg_seen, 42);
	CU_ASSERT_EQUAL(p.detach, PTHREAD_CREATE_DETACHED);
	CU_ASSERT(p.stack >= SL_THREAD_STACK && p.stack < 2 * SL_THREAD_STACK);
}

int add_thread_suite(void)
{
	CU_pSuite s = CU_add_suite("sl_thread", NULL, NULL);

	if (s == NULL || !CU_add_test(s, "detached, small stack, runs fn(arg)",
				      test_start_thread))
		return -1;
	return 0;
}
