/* report_search.h - the views of `pcapcheck search`: JSON for the grader,
 * a text block per connection for a TA.
 *
 * For every TCP connection and each direction: how many bytes were sent
 * and searched, where TLS starts (or null), and per string its count, how
 * many of those lie after the TLS start, and the first offsets with the
 * capture time of the segment that carried each.
 */
#ifndef PCAPCHECK_REPORT_SEARCH_H
#define PCAPCHECK_REPORT_SEARCH_H

#include <stdio.h>

#include "analysis.h"
#include "search.h"

/* report_search_json - the search results as JSON; 0, or -1 on a write
 * error. */
int report_search_json(const struct analysis *a,
		       const struct search_string *strings, size_t nstrings,
		       FILE *out);

/* report_search_text - the search results as text; 0, or -1. */
int report_search_text(const struct analysis *a,
		       const struct search_string *strings, size_t nstrings,
		       FILE *out);

#endif
