/*
 * testutil - helpers shared by the CUnit tests of solutions/common:
 * threads that feed or drain sockets, a signal source that interrupts
 * blocked system calls, and small socket and file utilities.
 *
 * CUnit assertions are not thread-safe: helper threads only record what
 * happened, and the test's main thread asserts on it after joining them.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest any helper waits for a condition before giving up. */
#define TEST_DEADLINE_MS 5000

/* A thread writing data into one end of a socketpair, then closing it. */
struct feeder {
	int fd;	  /* the writing end; the thread closes it */
	int peer; /* the reading end, watched in lockstep mode */
	const char *data;
	size_t len;
	size_t chunk;  /* bytes per write() */
	bool lockstep; /* wait until the reader has taken each chunk */
	int error;     /* 0, or the errno of a failed write */
	pthread_t thread;
};

/* Starts a feeder of len bytes in chunks; returns the reading end of the
 * socketpair, or -1. In lockstep mode every read() the test makes returns
 * at most one chunk: short reads, guaranteed. */
int feeder_start(struct feeder *f, const void *data, size_t len, size_t chunk,
		 bool lockstep);

/* Joins the feeder and closes the reading end; returns 0 if every byte was
 * written. */
int feeder_finish(struct feeder *f);

/* Starts a thread with SIGALRM blocked, so that the interrupter's signals
 * always land in the test's main thread. */
int start_thread(pthread_t *t, void *(*fn)(void *), void *arg);

/* Sends SIGALRM every interval_us to the process, with a handler installed
 * without SA_RESTART: a blocked read() or write() fails with EINTR (or
 * returns a short count). Returns 0, or -1. */
int interrupter_start(long interval_us);

/* Stops the signals and restores the previous SIGALRM handler. */
void interrupter_stop(void);

/* Returns how many SIGALRM the handler has seen since interrupter_start. */
unsigned interrupter_count(void);

/* Waits until at least n signals were seen; false after the deadline. */
bool interrupter_wait(unsigned n);

/* Waits until fd is readable (or has an error to report); false after the
 * deadline. Tests call it before a blocking receive that might never end. */
bool wait_readable(int fd);

/* Returns the lowest free file descriptor number (to detect leaks). */
int lowest_free_fd(void);

/* A name that the tests' resolver (fake_resolver.c) turns into ::1 then
 * 127.0.0.1, so tests can watch the candidate loop move to the second. */
#define TWO_ADDRESS_HOST "both.sltest"

/* While true, the tests' resolver answers IPv6 lookups with EAI_FAMILY,
 * like a machine without IPv6. */
extern bool fake_no_ipv6;

/* Makes a SOCK_STREAM socketpair; returns 0, or -1. */
int stream_pair(int sv[2]);

/* Shrinks a socket's send buffer, so that big writes block early. */
int shrink_sndbuf(int fd);

/* Returns the local port of a bound socket, or 0. */
uint16_t local_port(int fd);

/* Returns a fresh buffer of len bytes of a repeating, position-dependent
 * pattern (so that lost, doubled or swapped pieces are detected). */
char *pattern(size_t len);

/* Returns the whole content of f as a NUL-terminated string to free(). */
char *slurp(FILE *f);

#endif
