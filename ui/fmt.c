/*
 * fmt.c - the panes' shared text formats and the filter's matching (see fmt.h). Pure.
 *
 * Threads: none of its own.
 */
#include "ui/fmt.h"

#include "core/fail.h"
#include "cost/money.h"

#include <stdio.h>
#include <string.h>

static int fold(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

bool fmt_match(const char *hay, const char *needle)
{
    size_t n;

    if (needle == NULL || needle[0] == '\0')
        return true;
    if (hay == NULL)
        return false;
    n = strlen(needle);
    for (const char *h = hay; *h != '\0'; h++) {
        size_t i = 0;

        while (i < n && h[i] != '\0' && fold((unsigned char)h[i]) == fold((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

bool fmt_match_any(const char *const *fields, size_t n, const char *needle)
{
    if (needle == NULL || needle[0] == '\0')
        return true;
    for (size_t i = 0; i < n; i++)
        if (fmt_match(fields[i], needle))
            return true;
    return false;
}

const char *fmt_money(int64_t micro, char *buf, size_t size)
{
    int64_t a = micro < 0 ? -micro : micro;
    const char *sign = micro < 0 ? "-" : "";

    if (a >= 1000 * MONEY_MICRO) /* whole dollars */
        snprintf(buf, size, "%s$%lld", sign, (long long)((a + MONEY_MICRO / 2) / MONEY_MICRO));
    else if (a >= MONEY_MICRO - 50 || a == 0) /* cents */
        snprintf(buf, size, "%s$%lld.%02lld", sign, (long long)((a + 5000) / 10000 / 100),
                 (long long)((a + 5000) / 10000 % 100));
    else /* under a dollar: four decimals */
        snprintf(buf, size, "%s$0.%04lld", sign, (long long)((a + 50) / 100));
    return buf;
}

const char *fmt_age(int64_t ms, char *buf, size_t size)
{
    int64_t s = ms / 1000;

    if (ms < 0 || ms > INT64_MAX / 2)
        snprintf(buf, size, "-");
    else if (s < 100)
        snprintf(buf, size, "%llds", (long long)s);
    else if (s < 100 * 60)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else if (s < 48 * 3600)
        snprintf(buf, size, "%lldh", (long long)(s / 3600));
    else
        snprintf(buf, size, "%lldd", (long long)(s / 86400));
    return buf;
}

const char *fmt_duration(double s, char *buf, size_t size)
{
    long t = (long)(s + 0.5);

    if (s <= 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
    return buf;
}

const char *fmt_uptime(int64_t ms, char *buf, size_t size)
{
    long long s = ms < 0 ? 0 : (long long)(ms / 1000);

    if (s >= 86400)
        snprintf(buf, size, "%lldd %02lld:%02lld:%02lld", s / 86400, s % 86400 / 3600,
                 s % 3600 / 60, s % 60);
    else
        snprintf(buf, size, "%02lld:%02lld:%02lld", s / 3600, s % 3600 / 60, s % 60);
    return buf;
}

int64_t fmt_day_end(int64_t spent, int64_t rate_per_h, int64_t now_ms)
{
    const int64_t day = 86400000;
    int64_t left;

    if (now_ms <= 0 || rate_per_h <= 0)
        return spent;
    left = day - now_ms % day;
    return spent + (int64_t)((double)rate_per_h * (double)left / 3600000.0);
}

int fmt_staleness(int64_t age_ms, int64_t late_ms, int64_t stale_ms)
{
    if (age_ms >= stale_ms)
        return 2;
    if (age_ms >= late_ms)
        return 1;
    return 0;
}

const char *fmt_middle(const char *s, size_t cols, const char *ellipsis, char *buf, size_t size)
{
    size_t n = strlen(s), head, tail;
    /* The ellipsis's columns: one for a UTF-8 glyph, each byte of an ASCII one. */
    size_t ew = (unsigned char)ellipsis[0] < 0x80 ? strlen(ellipsis) : 1;

    if (size == 0)
        return buf;
    if (n <= cols || cols <= ew + 2) {
        snprintf(buf, size, "%s", s);
        return buf;
    }
    /* The tail tells agents of one role and host apart (their pid and number): keep more of
     * it than of the head. */
    tail = (cols - ew) / 2 + 1;
    head = cols - ew - tail;
    while (head > 0 && ((unsigned char)s[head] & 0xc0) == 0x80)
        head--;
    while (tail > 0 && ((unsigned char)s[n - tail] & 0xc0) == 0x80)
        tail--;
    snprintf(buf, size, "%.*s%s%s", (int)head, s, ellipsis, s + n - tail);
    return buf;
}

char *fmt_base64(const void *data, size_t n, size_t *len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *d = data;
    size_t o = 0;
    char *out = xmalloc((n + 2) / 3 * 4 + 1);

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);

        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    if (len != NULL)
        *len = o;
    return out;
}
