/*
 * sl_log - one-line log messages on stderr, with time, level and program:
 *
 *	2026-11-24T10:00:00.123 INFO tcpserver: connection from 127.0.0.1:40000
 *
 * State: a struct sl_logger that the caller owns. The library keeps no
 * global or static data. By convention a program defines exactly one
 * logger, named sl_prog_log, in the file that holds main():
 *
 *	struct sl_logger sl_prog_log;
 *
 *	int main(int argc, char *argv[])
 *	{
 *		sl_log_init(&sl_prog_log, "tcpserver", SL_INFO);
 *		sl_log(&sl_prog_log, SL_INFO, "listening on port %u", port);
 *
 * The name is fixed because SL_TODO() refers to it; the declaration below
 * is only a promise, which the program's own definition keeps (a program
 * that uses SL_TODO without one fails to link, naming sl_prog_log).
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdbool.h>
#include <stdio.h>

/* Levels from the most to the least severe. */
enum sl_level {
	SL_ERROR,
	SL_WARN,
	SL_INFO,
	SL_DEBUG
};

struct sl_logger {
	const char *prog;    /* program name written on every line */
	enum sl_level level; /* lines less severe than this are dropped */
	FILE *out;	     /* stderr, unless a test wants the lines */
};

/* Sets up lg to write lines of level and more severe to stderr; prog may be
 * a path (argv[0]): only its last component is shown. */
void sl_log_init(struct sl_logger *lg, const char *prog, enum sl_level level);

/* Writes one line: time, level, program, then the printf-style message. */
void sl_log(const struct sl_logger *lg, enum sl_level level, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/* Returns "ERROR", "WARN", "INFO" or "DEBUG". */
const char *sl_level_name(enum sl_level level);

/* Logs "TODO n not done yet (file:line)" at level ERROR. */
void sl_log_todo(const struct sl_logger *lg, int n, const char *file, int line);

/* The program's logger: defined by each program, never by the library. */
extern struct sl_logger sl_prog_log;

/*
 * Placeholder of a skeleton blank: announces once per call site, through
 * sl_prog_log, that TODO n is still missing. The flag is a static variable
 * of the function where the macro is written, i.e. the program's own state.
 */
#define SL_TODO(n)                                                          \
	do {                                                                \
		static bool sl_todo_said_;                                  \
		if (!sl_todo_said_) {                                       \
			sl_todo_said_ = true;                               \
			sl_log_todo(&sl_prog_log, (n), __FILE__, __LINE__); \
		}                                                           \
	} while (0)

#endif
