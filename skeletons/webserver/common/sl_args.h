/*
 * sl_args - command-line helpers and the conventions every socklab program
 * follows:
 *
 *  - "-h" or "--help" anywhere before "--": print the usage to stdout and
 *    exit 0 (SL_EXIT_OK);
 *  - bad usage: log what is wrong, print the usage to stderr and exit 2
 *    (SL_EXIT_USAGE);
 *  - a failure at run time exits 1 (SL_EXIT_FAILURE).
 *
 * A main() then reads:
 *
 *	if (sl_help_requested(argc, argv)) {
 *		fputs(usage, stdout);
 *		return SL_EXIT_OK;
 *	}
 *	...
 *	if (sl_parse_port(argv[optind], &port, err, sizeof err) < 0)
 *		return sl_usage_error(&sl_prog_log, usage, "%s", err);
 */
#ifndef SL_ARGS_H
#define SL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_log.h"

/* Exit status of every socklab program. */
enum sl_exit_status {
	SL_EXIT_OK = 0,	     /* the job was done */
	SL_EXIT_FAILURE = 1, /* something failed at run time */
	SL_EXIT_USAGE = 2,   /* the command line was wrong */
};

/* Parses a TCP/UDP port 1..65535 (decimal digits only, nothing else);
 * returns 0, or -1 with err naming the bad value. */
int sl_parse_port(const char *text, uint16_t *port, char *err, size_t errlen);

/* Takes what follows the options (argv[first..argc-1]) as an optional
 * PORT: sets *port when it is there and leaves it alone when it is not;
 * returns 0, or -1 with err set when there is more than one argument or
 * the port is not valid. For servers called as "prog [options] [PORT]". */
int sl_parse_optional_port(int argc, char *const argv[], int first,
			   uint16_t *port, char *err, size_t errlen);

/* Parses a decimal integer in min..max (an optional '-', then digits and
 * nothing else); what names the value in the error text ("timeout");
 * returns 0, or -1 with err naming the bad value. */
int sl_parse_long(const char *text, const char *what, long min, long max,
		  long *value, char *err, size_t errlen);

/* Tells whether "-h" or "--help" is among the arguments before any "--". */
bool sl_help_requested(int argc, char *const argv[]);

/* For getopt()'s ':' (opt_char came without its value; the option string
 * must start with ':') and '?' (opt_char is no option): logs which, prints
 * the usage and returns SL_EXIT_USAGE, for main() to return. */
int sl_option_error(const struct sl_logger *lg, const char *usage, int opt,
		    int opt_char);

/* Logs the problem at level ERROR, prints usage to the logger's stream
 * (stderr) and returns SL_EXIT_USAGE, for main() to return. */
int sl_usage_error(const struct sl_logger *lg, const char *usage,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
