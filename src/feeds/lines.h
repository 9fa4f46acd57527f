/*
 * lines.h - lines of any input read with bounded memory, for `ctl ingest`'s JSON Lines: the
 * input is read in fixed chunks, and a line longer than the limit is not kept: the reader stops
 * storing it at the limit, skips to its end (however far that is, newline or end of input) and
 * says so with the line's number. Whatever the input, the reader holds at most one chunk and one
 * line of the limit. The first bytes can be looked at before any line is taken (to sniff a
 * feed from JSON Lines).
 *
 * Threads: one reader belongs to one thread.
 */
#ifndef NEWSROOM_LINES_H
#define NEWSROOM_LINES_H

#include <stddef.h>

enum lines_result {
    LINES_OK,   /* a line (without its "\n" or "\r\n") */
    LINES_LONG, /* a line past the limit: skipped to its end, nothing of it kept */
    LINES_END,  /* no more input */
    LINES_ERROR /* a read failed: errno */
};

struct lines;

/* Reads fd (left open) with lines of at most max bytes. Free with lines_free(). */
struct lines *lines_new(int fd, size_t max);
void lines_free(struct lines *r);

/* The next line: LINES_OK with *line (NUL-terminated, borrowed until the next call) and *len;
 * LINES_LONG; LINES_END; LINES_ERROR. *lineno is the line's number from 1 (for LINES_OK and
 * LINES_LONG). A last line without a newline counts. */
enum lines_result lines_next(struct lines *r, const char **line, size_t *len, long *lineno);

/* Makes the first n bytes (at most the chunk size) available without consuming them: *buf
 * points at them; returns how many there are (fewer only at the end of the input), or -1 on a
 * read error (errno). Only before the first lines_next(). */
long lines_peek(struct lines *r, const char **buf, size_t n);

/* Reads what is left of the input (peeked bytes first) into a new buffer of at most max bytes:
 * 0 with *data (NUL-terminated) and *len, 1 when the input is longer than max (nothing kept),
 * -1 on a read error (errno). */
int lines_slurp(struct lines *r, size_t max, char **data, size_t *len);

#endif
