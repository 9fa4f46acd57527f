/*
 * text.c - the terminal sanitiser, time formats and the growing string; see text.h. No state.
 */
#define _GNU_SOURCE /* vasprintf */
#include "core/text.h"

#include "core/fail.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at p (1 to 4) and its code point, or 0 when the bytes
 * there are not valid UTF-8 (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_next(const unsigned char *p, unsigned int *cp)
{
    unsigned int c = p[0];
    size_t n;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        c &= 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) || (n == 4 && c < 0x10000) ||
        c > 0x10FFFF)
        return 0;
    *cp = c;
    return n;
}

static bool unsafe(unsigned int cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

char *text_safe(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "-");
    size_t len = strlen((const char *)p), o = 0;
    char *out = xmalloc(len + 4);
    bool cut = false;

    if (max > 0 && len > max) {
        len = max;
        cut = true;
    }
    for (size_t i = 0; i < len;) {
        unsigned int cp;
        size_t n = utf8_next(p + i, &cp);

        if (n == 0) {
            out[o++] = '?';
            i++;
        } else if (i + n > len) {
            break; /* a character the cut would split */
        } else if (unsafe(cp)) {
            out[o++] = '?';
            i += n;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    if (cut) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

const char *text_utc(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0)
        snprintf(buf, size, "-");
    else if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, size, "%lld", (long long)ms);
    return buf;
}

const char *text_age(int64_t ms, char *buf, size_t size)
{
    if (ms < 0)
        snprintf(buf, size, "-");
    else if (ms < 60000)
        snprintf(buf, size, "%.1f s", (double)ms / 1000.0);
    else if (ms < 3600000)
        snprintf(buf, size, "%lld min", (long long)(ms / 60000));
    else if (ms < 86400000)
        snprintf(buf, size, "%lld h", (long long)(ms / 3600000));
    else
        snprintf(buf, size, "%lld d", (long long)(ms / 86400000));
    return buf;
}

size_t text_i64(int64_t v, char *buf)
{
    char tmp[24];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0, len = 0;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    return len;
}

void text_buf_add(struct text_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap || b->s == NULL) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void text_buf_str(struct text_buf *b, const char *s)
{
    text_buf_add(b, s, strlen(s));
}

void text_buf_printf(struct text_buf *b, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) == -1)
        fail("out of memory");
    va_end(ap);
    text_buf_add(b, s, strlen(s));
    free(s);
}
