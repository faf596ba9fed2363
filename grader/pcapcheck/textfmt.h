/* textfmt.h - small formatting helpers shared by the text views. */
#ifndef PCAPCHECK_TEXTFMT_H
#define PCAPCHECK_TEXTFMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* text_seconds - print a time in ns as seconds with six decimals. */
void text_seconds(FILE *out, int64_t ns);

/* text_seconds_str - the same into buf; returns buf. */
const char *text_seconds_str(int64_t ns, char *buf, size_t len);

/* text_preview - print up to max bytes quoted, C-escaped, "..." if cut. */
void text_preview(FILE *out, const uint8_t *p, size_t n, size_t max);

/* text_plural - "s" unless n is 1, for "1 packet" / "2 packets". */
const char *text_plural(uint64_t n);

/* text_tcp_flags - Wireshark's bracket form of TCP flags: "[SYN, ACK]". */
const char *text_tcp_flags(uint8_t flags, char *buf, size_t len);

#endif
