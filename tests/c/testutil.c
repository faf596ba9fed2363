/*
 * testutil - helpers shared by the CUnit tests (see testutil.h).
 */
#define _DEFAULT_SOURCE

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sl_io.h"

/* The signal handler can only reach global state: test code, not library. */
static volatile sig_atomic_t alarms;
static struct sigaction old_alarm_action;

/* Sleeps for ms milliseconds: the polling step of condition waits. */
static void nap_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits until nothing is left unread in fd's receive queue. */
static bool drained(int fd)
{
	for (long waited = 0; waited < TEST_DEADLINE_MS; waited++) {
		int queued = 0;

		if (ioctl(fd, FIONREAD, &queued) < 0 || queued == 0)
			return true;
		nap_ms(1);
	}
	return false;
}

/* Thread body: writes f->data in chunks, then closes the writing end. */
static void *feed(void *arg)
{
	struct feeder *f = arg;

	for (size_t off = 0; off < f->len; off += f->chunk) {
		size_t n = f->len - off < f->chunk ? f->len - off : f->chunk;

		if (sl_write_all(f->fd, f->data + off, n) < 0) {
			f->error = errno;
			break;
		}
		if (f->lockstep && !drained(f->peer))
			f->lockstep =
				false; /* the reader stopped: no more waits */
	}
	(void)close(f->fd);
	return NULL;
}

int feeder_start(struct feeder *f, const void *data, size_t len, size_t chunk,
		 bool lockstep)
{
	int sv[2];

	if (stream_pair(sv) < 0)
		return -1;
	f->peer = sv[0];
	f->fd = sv[1];
	f->data = data;
	f->len = len;
	f->chunk = chunk > 0 ? chunk : 1;
	f->lockstep = lockstep;
	f->error = 0;
	if (start_thread(&f->thread, feed, f) < 0) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		return -1;
	}
	return f->peer;
}

int feeder_finish(struct feeder *f)
{
	int rc = pthread_join(f->thread, NULL);

	(void)close(f->peer);
	return rc == 0 && f->error == 0 ? 0 : -1;
}

int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t block, old;
	int rc;

	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	if (pthread_sigmask(SIG_BLOCK, &block, &old) != 0)
		return -1;
	rc = pthread_create(t, NULL, fn, arg);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

/* Counts the signal; its only job is to exist, so that calls get EINTR. */
static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

int interrupter_start(long interval_us)
{
	struct sigaction sa;
	struct itimerval it = {
		.it_interval = {.tv_sec = 0, .tv_usec = interval_us},
		.it_value = {.tv_sec = 0, .tv_usec = interval_us},
	};

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: interrupted calls fail with EINTR */
	alarms = 0;
	if (sigaction(SIGALRM, &sa, &old_alarm_action) < 0)
		return -1;
	return setitimer(ITIMER_REAL, &it, NULL);
}

void interrupter_stop(void)
{
	struct itimerval off = {{0, 0}, {0, 0}};

	(void)setitimer(ITIMER_REAL, &off, NULL);
	(void)sigaction(SIGALRM, &old_alarm_action, NULL);
}

unsigned interrupter_count(void)
{
	return (unsigned)alarms;
}

bool interrupter_wait(unsigned n)
{
	for (long waited = 0; waited < TEST_DEADLINE_MS; waited++) {
		if (interrupter_count() >= n)
			return true;
		nap_ms(1);
	}
	return false;
}

bool wait_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int rc;

	do {
		rc = poll(&pfd, 1, TEST_DEADLINE_MS);
	} while (rc < 0 && errno == EINTR);
	return rc == 1;
}

int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd >= 0)
		(void)close(fd);
	return fd;
}

int stream_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

int shrink_sndbuf(int fd)
{
	int size = 4096;

	return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

char *pattern(size_t len)
{
	char *p = malloc(len > 0 ? len : 1);

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		p[i] = (char)('a' + (i * 7 + i / 251) % 26);
	return p;
}

char *slurp(FILE *f)
{
	long size;
	char *text;

	if (fflush(f) != 0 || fseek(f, 0, SEEK_END) != 0)
		return NULL;
	size = ftell(f);
	if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
		return NULL;
	text = malloc((size_t)size + 1);
	if (text == NULL)
		return NULL;
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		free(text);
		return NULL;
	}
	text[size] = '\0';
	return text;
}
