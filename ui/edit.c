/*
 * edit.c - the prompts' line editor (see edit.h). Pure.
 *
 * Threads: none of its own.
 */
#include "ui/edit.h"

#include "ui/keys.h"

#include <string.h>

static bool cont(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80;
}

static size_t prev_char(const struct edit *e, size_t at)
{
    if (at == 0)
        return 0;
    at--;
    while (at > 0 && cont(e->buf[at]))
        at--;
    return at;
}

static size_t next_char(const struct edit *e, size_t at)
{
    if (at >= e->len)
        return e->len;
    at++;
    while (at < e->len && cont(e->buf[at]))
        at++;
    return at;
}

static void cut(struct edit *e, size_t from, size_t to)
{
    memmove(e->buf + from, e->buf + to, e->len - to + 1);
    e->len -= to - from;
    if (e->cur > to)
        e->cur -= to - from;
    else if (e->cur > from)
        e->cur = from;
}

static size_t utf8_encode(int c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        if (c >= 0xd800 && c < 0xe000)
            return 0;
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    if (c < 0x110000) {
        out[0] = (char)(0xf0 | (c >> 18));
        out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[3] = (char)(0x80 | (c & 0x3f));
        return 4;
    }
    return 0;
}

void edit_clear(struct edit *e)
{
    e->buf[0] = '\0';
    e->len = e->cur = 0;
}

void edit_set(struct edit *e, const char *s)
{
    size_t n = strlen(s);

    if (n > EDIT_MAX) {
        n = EDIT_MAX;
        while (n > 0 && cont(s[n]))
            n--;
    }
    memcpy(e->buf, s, n);
    e->buf[n] = '\0';
    e->len = e->cur = n;
}

int edit_apply(struct edit *e, int op, int key)
{
    char enc[4];
    size_t n, at;

    switch (op) {
    case EDIT_INSERT:
        n = utf8_encode(key, enc);
        if (n == 0 || e->len + n > EDIT_MAX)
            return 0;
        memmove(e->buf + e->cur + n, e->buf + e->cur, e->len - e->cur + 1);
        memcpy(e->buf + e->cur, enc, n);
        e->len += n;
        e->cur += n;
        return 1;
    case EDIT_BACKSPACE:
        if (e->cur == 0)
            return 0;
        cut(e, prev_char(e, e->cur), e->cur);
        return 1;
    case EDIT_DELETE:
        if (e->cur >= e->len)
            return 0;
        cut(e, e->cur, next_char(e, e->cur));
        return 1;
    case EDIT_LEFT:
        if (e->cur == 0)
            return 0;
        e->cur = prev_char(e, e->cur);
        return 1;
    case EDIT_RIGHT:
        if (e->cur >= e->len)
            return 0;
        e->cur = next_char(e, e->cur);
        return 1;
    case EDIT_HOME:
        if (e->cur == 0)
            return 0;
        e->cur = 0;
        return 1;
    case EDIT_END:
        if (e->cur == e->len)
            return 0;
        e->cur = e->len;
        return 1;
    case EDIT_KILL_LINE:
        if (e->len == 0)
            return 0;
        edit_clear(e);
        return 1;
    case EDIT_KILL_WORD:
        if (e->cur == 0)
            return 0;
        at = e->cur;
        while (at > 0 && e->buf[at - 1] == ' ')
            at--;
        while (at > 0 && e->buf[at - 1] != ' ')
            at--;
        cut(e, at, e->cur);
        return 1;
    default:
        return 0;
    }
}

const char *edit_trimmed(const struct edit *e, char *out, size_t size)
{
    size_t from = 0, to = e->len, n;

    while (from < to && (e->buf[from] == ' '))
        from++;
    while (to > from && (e->buf[to - 1] == ' '))
        to--;
    n = to - from;
    if (size == 0)
        return out;
    if (n >= size) {
        n = size - 1;
        while (n > 0 && cont(e->buf[from + n])) /* never half a character */
            n--;
    }
    memcpy(out, e->buf + from, n);
    out[n] = '\0';
    return out;
}
