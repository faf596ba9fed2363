/*
 * pingclock - the two clocks of the pinger lab, in microseconds.
 *
 * The wall clock (CLOCK_REALTIME) tells the time of day, the same for every
 * program on the host: it is the time written into datagrams, because the
 * program at the other end can read it. But it jumps when someone (or NTP)
 * sets it, so it never measures a duration here.
 *
 * The monotonic clock (CLOCK_MONOTONIC) never jumps; its zero is some
 * arbitrary moment, so its values mean nothing to another program. Every
 * round-trip time, timeout and interval is measured with it.
 */
#ifndef PINGCLOCK_H
#define PINGCLOCK_H

#include <stdint.h>

/* Returns the wall-clock time: microseconds since 1970-01-01 00:00 UTC. */
uint64_t wall_now_us(void);

/* Returns the monotonic time in microseconds. */
int64_t mono_now_us(void);

/* Returns the poll() timeout that ends at monotonic time deadline_us:
 * milliseconds rounded up (never wakes up early), 0 once it has passed. */
int ms_until(int64_t deadline_us);

#endif
