/* report.h - the three views of an analysis: JSON for the grader, a text
 * summary for a TA, and a per-connection timeline (inspect).
 */
#ifndef PCAPCHECK_REPORT_H
#define PCAPCHECK_REPORT_H

#include <stdio.h>

#include "analysis.h"

/* Bytes of each direction's reassembled stream shown as payload preview. */
#define REPORT_PREVIEW 64

/* report_json - write the analysis as JSON (the grader's schema); 0 or -1. */
int report_json(const struct analysis *a, FILE *out);

/* report_text - write a summary block per connection and flow; 0 or -1. */
int report_text(const struct analysis *a, FILE *out);

/* report_inspect - write a Wireshark-like timeline per connection; 0 or -1. */
int report_inspect(const struct analysis *a, FILE *out);

#endif
