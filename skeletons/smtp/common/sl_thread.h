/*
 * sl_thread - start a thread that nobody will wait for.
 *
 * A server that gives each client a thread of its own never joins those
 * threads: a detached thread hands its resources back by itself when it
 * returns. Its stack is small (SL_THREAD_STACK instead of the usual 8 MiB
 * of address space): with 8 MiB each, a memory limit of 1 GiB refuses the
 * 128th client. Keep big buffers off such a thread's stack (malloc()
 * them); a line reader's 8 KiB is fine.
 */
#ifndef SL_THREAD_H
#define SL_THREAD_H

#define SL_THREAD_STACK (256 * 1024)

/* Starts fn(arg) in a detached thread with a stack of SL_THREAD_STACK
 * bytes; returns 0, or an error number (as pthread_create() does: errno is
 * not set). */
int sl_start_thread(void *(*fn)(void *), void *arg);

#endif
