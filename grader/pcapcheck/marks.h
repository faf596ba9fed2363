/* marks.h - moments the grader noted while a capture ran ("grader stopped
 * tcpserver"), given as --event TIME=LABEL or read from CAPTURE.events.
 *
 * A report shows each mark on the timeline, and for each side of a TCP
 * connection whether its first FIN or RST came after a mark: the kernel
 * closes the sockets of a program the grader stopped, and such a FIN is
 * not the program's own.
 */
#ifndef PCAPCHECK_MARKS_H
#define PCAPCHECK_MARKS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MARK_LABEL_MAX 128

struct mark {
	int64_t ts; /* nanoseconds since the epoch */
	char label[MARK_LABEL_MAX];
};

/* Marks in time order. */
struct marks {
	struct mark *v;
	size_t n, allocated;
};

/* marks_add - add the mark "SECONDS=LABEL" (SECONDS since the epoch, up to
 * nine decimals); 0, or -1 with a message in err. */
int marks_add(struct marks *m, const char *spec, char *err, size_t errlen);

/* marks_read - add one mark per line "SECONDS=LABEL" of f (blank lines and
 * lines starting with '#' skipped); 0, or -1 with a message naming the
 * line in err. */
int marks_read(struct marks *m, FILE *f, const char *name, char *err,
	       size_t errlen);

/* marks_last_before - the latest mark at or before ts, or NULL. */
const struct mark *marks_last_before(const struct marks *m, int64_t ts);

/* marks_free - release the marks. */
void marks_free(struct marks *m);

#endif
