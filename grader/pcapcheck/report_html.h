/* report_html.h - a self-contained HTML page per capture, for TAs.
 *
 * The page has a header (file, link type, packets, warnings), a note on
 * how to read it, a table of every TCP connection and UDP flow with its
 * verdict, and a ladder diagram (inline SVG) per connection and flow:
 * client on the left, server on the right, one arrow per segment, spaced
 * evenly by order so that bursts stay readable, with its time beside it.
 * Heartbeats are those that the analysis found (analysis_options.hb,
 * heartbeat.h). Every byte that comes from the capture is HTML-escaped;
 * the page needs no JavaScript and no external resource.
 */
#ifndef PCAPCHECK_REPORT_HTML_H
#define PCAPCHECK_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"

/* Arrows drawn per ladder at most; a line says how many were left out. */
#define HTML_DEFAULT_MAX_ARROWS 2000

struct html_options {
	size_t max_arrows; /* drawn per ladder at most */
};

/* report_html - write the page for analysis a to out; 0, or -1 if writing
 * failed. The analysis must have been read with keep_events. */
int report_html(const struct analysis *a, const struct html_options *opt,
		FILE *out);

/* report_html_file - write the page to path through a temporary file that
 * is renamed over it; 0, or -1 with a message naming the file in err. */
int report_html_file(const struct analysis *a, const struct html_options *opt,
		     const char *path, char *err, size_t errlen);

#endif
