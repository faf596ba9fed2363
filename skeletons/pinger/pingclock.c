/*
 * pingclock - the two clocks of the pinger lab (see pingclock.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "pingclock.h"

#include <limits.h>
#include <time.h>

uint64_t wall_now_us(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_REALTIME, &t); /* cannot fail here */
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

int64_t mono_now_us(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t); /* cannot fail here */
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int ms_until(int64_t deadline_us)
{
	int64_t left = deadline_us - mono_now_us();

	if (left <= 0)
		return 0;
	/* Rounded up: poll() rounded down would wake up before the deadline
	 * and then spin through one or two zero-length polls. */
	left = (left + 999) / 1000;
	return left > INT_MAX ? INT_MAX : (int)left;
}
