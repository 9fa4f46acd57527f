/*
 * text.h - the one sanitiser that outside text passes through before it reaches a terminal,
 * and the small time formats the command line prints. Pure functions without state, safe
 * from any thread.
 *
 * It also holds the growing string (struct text_buf) that the renders, the storyboard, the
 * feeds' URL resolver and the terminal pictures build their texts in.
 *
 * Outside text (titles, reasons, agent ids, errors from other processes) can carry escape
 * sequences that repaint or retitle an operator's terminal, bidi overrides that make text
 * read backwards, and invalid UTF-8. text_safe() replaces each of those with '?'.
 */
#ifndef NEWSROOM_TEXT_H
#define NEWSROOM_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* A copy of s (NULL reads as "-") that is safe on a terminal: C0 controls (tab included),
 * DEL, C1 controls, the bidi embedding, override and isolate characters (U+202A-U+202E,
 * U+2066-U+2069) and every byte of invalid UTF-8 become '?'. With max > 0 the result is cut
 * to at most max bytes of s, at a character boundary, and ends in "...". Free it. */
char *text_safe(const char *s, size_t max);

/* "2026-11-28 16:40:00" (UTC) for a time in ms since the epoch, "-" for 0 or less. Returns
 * buf. */
const char *text_utc(int64_t ms, char *buf, size_t size);

/* "1.2 s", "3 min", "2 h", "4 d" for an age in ms; "-" when negative. Returns buf. */
const char *text_age(int64_t ms, char *buf, size_t size);

/* v in decimal at buf (room for 20 bytes: "-9223372036854775808"), not NUL-terminated; returns
 * its length. For the writers that build numbers into text on hot paths (jsonw, the protocol
 * rlink writes), where a formatted print costs more than the rest. */
size_t text_i64(int64_t v, char *buf);

/* A growing string: {0} is empty, s is NULL until something is added and always ends in a
 * NUL after that. The owner frees s. */
struct text_buf {
    char *s;
    size_t len, cap;
};
void text_buf_add(struct text_buf *b, const char *s, size_t n);
void text_buf_str(struct text_buf *b, const char *s);
void text_buf_printf(struct text_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
