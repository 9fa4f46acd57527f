/*
 * lines.c - bounded line reading; see lines.h. One chunk buffer, refilled with read(2) from
 * where the last line ended, and one line buffer that grows to at most the limit plus one.
 *
 * Threads: one reader per thread.
 */
#include "feeds/lines.h"

#include "core/fail.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINES_CHUNK (64u * 1024)

struct lines {
    int fd;
    size_t max;
    char *buf; /* the chunk: bytes [pos, end) not yet taken */
    size_t pos, end;
    bool eof;
    char *line; /* the line being gathered */
    size_t len, cap;
    long lineno;
};

struct lines *lines_new(int fd, size_t max)
{
    struct lines *r = xcalloc(1, sizeof *r);

    r->fd = fd;
    r->max = max;
    r->buf = xmalloc(LINES_CHUNK);
    return r;
}

void lines_free(struct lines *r)
{
    if (r == NULL)
        return;
    free(r->buf);
    free(r->line);
    free(r);
}

/* Reads more into the chunk after what is there (moved to the front first). -1 on error. */
static int fill(struct lines *r)
{
    ssize_t n;

    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
    }
    if (r->end == LINES_CHUNK || r->eof)
        return 0;
    do
        n = read(r->fd, r->buf + r->end, LINES_CHUNK - r->end);
    while (n == -1 && errno == EINTR);
    if (n == -1)
        return -1;
    if (n == 0)
        r->eof = true;
    r->end += (size_t)n;
    return 0;
}

long lines_peek(struct lines *r, const char **buf, size_t n)
{
    if (n > LINES_CHUNK)
        n = LINES_CHUNK;
    while (r->end - r->pos < n && !r->eof)
        if (fill(r) == -1)
            return -1;
    *buf = r->buf + r->pos;
    return (long)(r->end - r->pos < n ? r->end - r->pos : n);
}

/* Appends n bytes to the line unless it is already past the limit. */
static void keep(struct lines *r, const char *s, size_t n, bool *too_long)
{
    if (*too_long)
        return;
    if (r->len + n > r->max) {
        *too_long = true;
        return;
    }
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        if (r->cap > r->max + 1)
            r->cap = r->max + 1;
        r->line = xrealloc(r->line, r->cap);
    }
    memcpy(r->line + r->len, s, n);
    r->len += n;
}

enum lines_result lines_next(struct lines *r, const char **line, size_t *len, long *lineno)
{
    bool too_long = false, any = false;

    r->len = 0;
    for (;;) {
        char *nl;

        if (r->pos == r->end) {
            if (r->eof)
                break;
            if (fill(r) == -1)
                return LINES_ERROR;
            continue;
        }
        any = true;
        nl = memchr(r->buf + r->pos, '\n', r->end - r->pos);
        if (nl != NULL) {
            keep(r, r->buf + r->pos, (size_t)(nl - (r->buf + r->pos)), &too_long);
            r->pos = (size_t)(nl - r->buf) + 1;
            break;
        }
        keep(r, r->buf + r->pos, r->end - r->pos, &too_long);
        r->pos = r->end;
    }
    if (!any)
        return LINES_END;
    *lineno = ++r->lineno;
    if (too_long)
        return LINES_LONG;
    if (r->len > 0 && r->line[r->len - 1] == '\r')
        r->len--;
    if (r->line == NULL) {
        r->cap = 1;
        r->line = xmalloc(1);
    }
    r->line[r->len] = '\0';
    *line = r->line;
    *len = r->len;
    return LINES_OK;
}

int lines_slurp(struct lines *r, size_t max, char **data, size_t *len)
{
    char *out = NULL;
    size_t n = 0;

    *data = NULL;
    *len = 0;
    for (;;) {
        size_t have = r->end - r->pos;

        if (n + have > max) {
            free(out);
            return 1;
        }
        out = xrealloc(out, n + have + 1);
        memcpy(out + n, r->buf + r->pos, have);
        n += have;
        r->pos = r->end;
        if (r->eof)
            break;
        if (fill(r) == -1) {
            int e = errno;

            free(out);
            errno = e;
            return -1;
        }
    }
    if (out == NULL)
        out = xmalloc(1);
    out[n] = '\0';
    *data = out;
    *len = n;
    return 0;
}
