/*
 * slfault.so - make a student program's socket calls behave as the kernel
 * is allowed to make them behave, but seldom does on a quiet loopback.
 *
 * Loaded with LD_PRELOAD by the grader for the cases that ask for it.
 * SOCKLAB_FAULTS is a comma-separated list of:
 *
 *   eintr  every other blocking call of accept, accept4, recv, recvfrom,
 *          read, send, sendto and write on a socket, and of poll and ppoll
 *          on a set that holds a socket, fails with EINTR before it does
 *          anything (as when a signal arrives): a program must try again.
 *   short  send, sendto and write on a stream socket move at most half of
 *          what was asked (at least one byte), as a send interrupted after
 *          part of its data does; recv and read on a stream socket return
 *          at most half of the buffer: a program must loop until all of it
 *          is sent, and read until a message is whole.
 *
 * Datagram sockets are never shortened (a datagram is sent whole or not at
 * all), non-blocking calls never get EINTR, and files, pipes and terminals
 * are left alone.  Each thread counts its own calls of each function, so
 * that a loop of two calls (poll, then recv) is not interrupted in the same
 * one every time, and what a program sees
 * does not depend on how its threads are scheduled.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum fault { FAULT_EINTR = 1, FAULT_SHORT = 2 };

/* What SOCKLAB_FAULTS asked for; read once, before main(). */
static int faults;
/* Calls this thread has made that could fail with EINTR. */
enum call { CALL_SEND, CALL_SENDTO, CALL_WRITE, CALL_RECV, CALL_RECVFROM, CALL_READ,
	    CALL_ACCEPT, CALL_ACCEPT4, CALL_POLL, CALL_PPOLL, CALLS };
static _Thread_local unsigned long interruptible_calls[CALLS];

/* parse_faults - the fault bits named in SPEC ("eintr,short"). */
static int parse_faults(const char *spec)
{
	int bits = 0;

	while (spec && *spec) {
		size_t len = strcspn(spec, ",");

		if (len == 5 && strncmp(spec, "eintr", len) == 0)
			bits |= FAULT_EINTR;
		else if (len == 5 && strncmp(spec, "short", len) == 0)
			bits |= FAULT_SHORT;
		spec += len + (spec[len] == ',');
	}
	return bits;
}

/* next - the libc function NAME that this library stands in front of. */
static void *next(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn)
		abort(); /* a libc without the function: nothing sensible to do */
	return fn;
}

/* The functions of libc this library stands in front of, found before main(). */
static struct {
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*read)(int, void *, size_t);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
} libc;

__attribute__((constructor)) static void set_up(void)
{
	libc.send = next("send");
	libc.sendto = next("sendto");
	libc.write = next("write");
	libc.recv = next("recv");
	libc.recvfrom = next("recvfrom");
	libc.read = next("read");
	libc.accept = next("accept");
	libc.accept4 = next("accept4");
	libc.poll = next("poll");
	libc.ppoll = next("ppoll");
	faults = parse_faults(getenv("SOCKLAB_FAULTS"));
}

/* socket_type - SOCK_STREAM or SOCK_DGRAM for a socket, 0 for anything else. */
static int socket_type(int fd)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof type;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return 0;
	return type;
}

/* interrupt_now - whether this blocking call on FD fails with EINTR (every other one). */
static bool interrupt_now(enum call call, int fd, int flags)
{
	int fl;

	if (!(faults & FAULT_EINTR) || (flags & MSG_DONTWAIT) || socket_type(fd) == 0)
		return false;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return false;
	return interruptible_calls[call]++ % 2 == 0;
}

/* poll_interrupt_now - whether this poll of FDS, which waits (TIMEOUT_MS is
 * not 0) on at least one socket, fails with EINTR (every other one). */
static bool poll_interrupt_now(enum call call, const struct pollfd *fds, nfds_t nfds, bool waits)
{
	if (!(faults & FAULT_EINTR) || !waits)
		return false;
	for (nfds_t i = 0; i < nfds; i++)
		if (fds[i].fd >= 0 && socket_type(fds[i].fd) != 0)
			return interruptible_calls[call]++ % 2 == 0;
	return false;
}

/* shortened - LEN cut to at most its half (at least 1) on a stream socket,
 * unless FLAGS ask for all of it or only a look. */
static size_t shortened(int fd, size_t len, int flags)
{
	if (!(faults & FAULT_SHORT) || len < 2 || (flags & (MSG_WAITALL | MSG_PEEK)) ||
	    socket_type(fd) != SOCK_STREAM)
		return len;
	return (len + 1) / 2;
}

/* INTERRUPTED - return -1 with EINTR from the calling wrapper when it is this call's turn. */
#define INTERRUPTED(call, fd, flags)                        \
	do {                                                \
		if (interrupt_now((call), (fd), (flags))) { \
			errno = EINTR;                      \
			return -1;                          \
		}                                           \
	} while (0)

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	INTERRUPTED(CALL_SEND, fd, flags);
	return libc.send(fd, buf, shortened(fd, len, flags), flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	INTERRUPTED(CALL_SENDTO, fd, flags);
	return libc.sendto(fd, buf, shortened(fd, len, flags), flags, to, tolen);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	INTERRUPTED(CALL_WRITE, fd, 0);
	return libc.write(fd, buf, shortened(fd, len, 0));
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	INTERRUPTED(CALL_RECV, fd, flags);
	return libc.recv(fd, buf, shortened(fd, len, flags), flags);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	INTERRUPTED(CALL_RECVFROM, fd, flags);
	return libc.recvfrom(fd, buf, shortened(fd, len, flags), flags, from, fromlen);
}

ssize_t read(int fd, void *buf, size_t len)
{
	INTERRUPTED(CALL_READ, fd, 0);
	return libc.read(fd, buf, shortened(fd, len, 0));
}

int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	INTERRUPTED(CALL_ACCEPT, fd, 0);
	return libc.accept(fd, addr, addrlen);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	INTERRUPTED(CALL_ACCEPT4, fd, 0);
	return libc.accept4(fd, addr, addrlen, flags);
}

/* glibc declares poll's FDS write-only (only revents is written), so gcc
 * takes reading its fd fields for a read of uninitialised memory. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	if (poll_interrupt_now(CALL_POLL, fds, nfds, timeout_ms != 0)) {
		errno = EINTR;
		return -1;
	}
	return libc.poll(fds, nfds, timeout_ms);
}

int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask)
{
	bool waits = !timeout || timeout->tv_sec != 0 || timeout->tv_nsec != 0;

	if (poll_interrupt_now(CALL_PPOLL, fds, nfds, waits)) {
		errno = EINTR;
		return -1;
	}
	return libc.ppoll(fds, nfds, timeout, sigmask);
}

#pragma GCC diagnostic pop
