/*
 * jsonw.c - the trace events' JSON writer; see jsonw.h. No state outside the writer, so any
 * thread may use its own.
 */
#include "observe/jsonw.h"

#include "core/fail.h"
#include "core/text.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Whether a string copies byte c as it is: printable ASCII (DEL too) but '"' and '\\'. */
static inline bool plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* The second byte of the two-byte escape of byte c ('"', '\\', \n, \t, \r, \b, \f), else 0. */
static const char short_escape[256] = {
    ['"'] = '"',  ['\\'] = '\\', ['\n'] = 'n', ['\t'] = 't',
    ['\r'] = 'r', ['\b'] = 'b',  ['\f'] = 'f',
};

void jsonw_init(struct jsonw *w, char *buf, size_t size)
{
    w->p = buf;
    w->len = 0;
    w->cap = buf != NULL ? size : 0;
    w->longest = 0;
    w->long_min = SIZE_MAX;
    w->nlong = 0;
    w->heap = false;
    w->comma = false;
}

void jsonw_free(struct jsonw *w)
{
    if (w->heap)
        free(w->p);
    w->p = NULL;
    w->len = w->cap = 0;
    w->heap = false;
}

/* The bytes of x (8 bytes as loaded, the first in the low byte) a string cannot copy as it is:
 * 0x80 and above, below 0x20, '"' or '\\', each as its byte's high bit (the "has a zero byte"
 * test, (v - 0x01..) & ~v & 0x80.., on x - 0x20.., x ^ '"'.. and x ^ '\\'..). A borrow can
 * mark a byte above a marked one as well, never below: the lowest mark is the first such byte,
 * and a word without a mark has none. */
static inline uint64_t word_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * 0x22), b = x ^ (ones * 0x5c);

    return (x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high;
}

#if defined(__SSE2__)
/* The bytes of the 16 at p a string cannot copy as it is, bit i for byte i: below 0x20 or 0x80
 * and above (both below 0x20 as signed bytes), '"' or '\\'. */
static inline unsigned block_special(__m128i x)
{
    __m128i ctl = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));

    return (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, _mm_or_si128(q, b)));
}
#endif

/* Room for n more bytes. */
static void grow(struct jsonw *w, size_t n)
{
    size_t cap = w->cap > 0 ? w->cap : 256;
    char *p;

    while (cap - w->len < n)
        cap *= 2;
    if (w->heap) {
        p = xrealloc(w->p, cap);
    } else {
        p = xmalloc(cap);
        if (w->len > 0)
            memcpy(p, w->p, w->len);
    }
    w->p = p;
    w->cap = cap;
    w->heap = true;
}

static inline void need(struct jsonw *w, size_t n)
{
    if (w->cap - w->len < n)
        grow(w, n);
}

static inline void put(struct jsonw *w, const char *s, size_t n)
{
    need(w, n);
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static inline void putc1(struct jsonw *w, char c)
{
    need(w, 1);
    w->p[w->len++] = c;
}

/* The comma before a value or key that follows another. */
static inline void sep(struct jsonw *w)
{
    if (w->comma)
        putc1(w, ',');
    w->comma = true;
}

void jsonw_open(struct jsonw *w, char c)
{
    sep(w);
    putc1(w, c);
    w->comma = false;
}

void jsonw_close(struct jsonw *w, char c)
{
    putc1(w, c);
    w->comma = true;
}

/* The length of the valid UTF-8 character at p (before end), or 0 when it is not one (RFC
 * 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* The quoted, escaped string s of n bytes (no comma handling). Plain bytes are copied as they
 * are checked, 16 at a time where SSE2 is (every x86-64), else 8, straight into room made
 * beforehand: most strings an event has (ids, times, names) are short and plain, and a call
 * per run of them cost more than the bytes; the long ones (prompts, answers) have a quote or a
 * line break every 20 to 30 bytes (28 in the sim's traces), escaped without leaving the 16-byte
 * loop. */
static void quoted(struct jsonw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF"; /* as jansson writes \u001F */
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t from;

    /* Room for every byte left as it is, and the closing quote; an escape or a replaced byte
     * makes more before it writes. */
    need(w, n + 2);
    w->p[w->len++] = '"';
    from = w->len;
    for (;;) {
        char *o = w->p + w->len;
        unsigned char c;
        size_t k;
        bool hit = false;

#if defined(__SSE2__)
        /* Prompts and answers: 16 bytes at a time, the same way as the words below; the
         * escapes of two bytes they are full of ('"', '\\', line breaks) are written here
         * while the room made beforehand holds them and the rest. */
        while (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            unsigned m = block_special(x);
            char e;

            _mm_storeu_si128((__m128i *)(void *)o, x);
            if (m == 0) {
                o += 16;
                p += 16;
                continue;
            }
            o += __builtin_ctz(m);
            p += __builtin_ctz(m);
            e = short_escape[*p];
            if (e == 0 || (size_t)(w->p + w->cap - o) < (size_t)(end - p) + 2) {
                hit = true;
                break;
            }
            o[0] = '\\';
            o[1] = e;
            o += 2;
            p++;
        }
#endif
        while (!hit && end - p >= 8) {
            uint64_t x, m;

            memcpy(&x, p, 8);
            /* The whole word goes out (there is room for the 8 bytes left at least); only the
             * bytes before the first special one count. */
            memcpy(o, &x, 8);
            m = word_special(x);
            if (m != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                size_t first = (size_t)__builtin_ctzll(m) / 8;
#else
                size_t first = 0; /* the first byte is the high one: the loop below finds it */
#endif

                o += first;
                p += first;
                break;
            }
            o += 8;
            p += 8;
        }
        while (p < end && plain(*p))
            *o++ = (char)*p++;
        w->len = (size_t)(o - w->p);
        if (p == end)
            break;
        c = *p;
        /* At most 6 bytes for this one, and room for the rest as it is. */
        need(w, 6 + (size_t)(end - p) + 1);
        o = w->p + w->len;
        if (c >= 0x80) {
            k = utf8_len(p, end);
            if (k > 0) {
                memcpy(o, p, k);
                w->len += k;
                p += k;
            } else {
                memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
                w->len += 3;
                p++;
            }
            continue;
        }
        o[0] = '\\';
        if (short_escape[c] != 0) {
            o[1] = short_escape[c];
        } else {
            memcpy(o + 1, "u00", 3);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            w->len += 4;
        }
        w->len += 2;
        p++;
    }
    if (w->len - from > w->longest)
        w->longest = w->len - from;
    if (w->len - from > w->long_min) {
        if (w->nlong < JSONW_LONGS) {
            w->longs[w->nlong].from = from;
            w->longs[w->nlong].to = w->len;
        }
        w->nlong++;
    }
    w->p[w->len++] = '"'; /* the room made for the rest holds it */
}

void jsonw_key_any(struct jsonw *w, const char *key)
{
    sep(w);
    quoted(w, key, strlen(key));
    putc1(w, ':');
    w->comma = false;
}

#ifndef NDEBUG
/* Whether the n bytes at s are copied as they are (plain()), in a string of at most the
 * length the writer lists as long: what jsonw_key_plain() and jsonw_kplain_n() are given. */
static bool all_plain(const struct jsonw *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!plain((unsigned char)s[i]))
            return false;
    return n <= w->long_min;
}
#endif

/* "text" of n plain bytes, with no comma handling; room for n + 2 bytes made. */
static inline void put_plain(struct jsonw *w, const char *s, size_t n)
{
    char *o = w->p + w->len;

    o[0] = '"';
    memcpy(o + 1, s, n);
    o[n + 1] = '"';
    w->len += n + 2;
    if (n > w->longest)
        w->longest = n;
}

void jsonw_key_plain(struct jsonw *w, const char *key, size_t n)
{
    assert(all_plain(w, key, n));
    sep(w);
    need(w, n + 3);
    put_plain(w, key, n);
    w->p[w->len++] = ':';
    w->comma = false;
}

void jsonw_kplain_n(struct jsonw *w, const char *key, size_t nkey, const char *s, size_t n)
{
    assert(all_plain(w, key, nkey) && all_plain(w, s, n));
    sep(w);
    need(w, nkey + n + 5);
    put_plain(w, key, nkey);
    w->p[w->len++] = ':';
    put_plain(w, s, n);
    w->comma = true;
}

void jsonw_strn(struct jsonw *w, const char *s, size_t n)
{
    sep(w);
    quoted(w, s != NULL ? s : "", s != NULL ? n : 0);
}

void jsonw_str(struct jsonw *w, const char *s)
{
    jsonw_strn(w, s, s != NULL ? strlen(s) : 0);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
    char buf[24];

    sep(w);
    put(w, buf, text_i64(v, buf));
}

/* v as a fixed decimal of at most 6 places when that is exactly the same double, into buf;
 * returns its length, or 0 when v needs more. */
static size_t fixed6(double v, char *buf)
{
    int64_t k, ip, fp;
    size_t n = 0;
    int places = 6;
    char frac[8];

    if (!(v > -1e9 && v < 1e9))
        return 0;
    k = llround(v * 1e6);
    /* k / 10^6 is read back as the double nearest to it, which the division gives too. */
    if ((double)k / 1e6 != v)
        return 0;
    if (k < 0) {
        buf[n++] = '-';
        k = -k;
    }
    ip = k / 1000000;
    fp = k % 1000000;
    n += text_i64(ip, buf + n);
    buf[n++] = '.';
    for (int i = 5; i >= 0; i--) {
        frac[i] = (char)('0' + fp % 10);
        fp /= 10;
    }
    while (places > 1 && frac[places - 1] == '0')
        places--;
    memcpy(buf + n, frac, (size_t)places);
    return n + (size_t)places;
}

void jsonw_num(struct jsonw *w, double v)
{
    char buf[40];
    size_t n;

    sep(w);
    if (!isfinite(v)) {
        put(w, "null", 4);
        return;
    }
    n = fixed6(v, buf);
    if (n == 0) {
        int k = snprintf(buf, sizeof buf, "%.17g", v);

        n = k > 0 && (size_t)k < sizeof buf ? (size_t)k : 0;
        /* A whole number keeps its ".0", so it reads back as a real, as jansson writes it. */
        if (n > 0 && strpbrk(buf, ".eE") == NULL && n + 2 < sizeof buf) {
            memcpy(buf + n, ".0", 2);
            n += 2;
        }
    }
    put(w, buf, n);
}

void jsonw_bool(struct jsonw *w, bool v)
{
    sep(w);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void jsonw_raw(struct jsonw *w, const char *text, size_t n)
{
    sep(w);
    put(w, text, n);
}

void jsonw_value(struct jsonw *w, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *x;

        jsonw_open(w, '{');
        json_object_foreach((json_t *)v, key, x)
        {
            jsonw_key(w, key);
            jsonw_value(w, x);
        }
        jsonw_close(w, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;

        jsonw_open(w, '[');
        json_array_foreach(v, i, x) jsonw_value(w, x);
        jsonw_close(w, ']');
        break;
    }
    case JSON_STRING:
        jsonw_strn(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        jsonw_int(w, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        jsonw_num(w, json_real_value(v));
        break;
    case JSON_TRUE:
        jsonw_raw(w, "true", 4);
        break;
    case JSON_FALSE:
        jsonw_raw(w, "false", 5);
        break;
    default:
        jsonw_raw(w, "null", 4);
    }
}
