/*
 * money.c - decimal dollars <-> integer micro-dollars; see money.h. Pure, any thread.
 */
#include "cost/money.h"

#include <stdio.h>
#include <string.h>

/* Digits before and after the point into *units (the whole number in millionths). */
static int parse_fixed(const char *s, int64_t max, int64_t *out, const char **why)
{
    int64_t whole = 0, frac = 0;
    int nfrac = 0;
    const char *p = s;
    int nwhole = 0;

    while (*p >= '0' && *p <= '9') {
        if (whole > max / MONEY_MICRO) {
            *why = "is too large";
            return -1;
        }
        whole = whole * 10 + (*p - '0');
        nwhole++;
        p++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (nfrac == 6) {
                if (*p != '0') {
                    *why = "has more than six decimals";
                    return -1;
                }
            } else {
                frac = frac * 10 + (*p - '0');
                nfrac++;
            }
            p++;
        }
        if (nfrac == 0 && nwhole == 0) {
            *why = "is not a decimal number";
            return -1;
        }
    }
    if (*p != '\0' || (nwhole == 0 && nfrac == 0)) {
        *why = "is not a decimal number (digits, at most one point, no sign)";
        return -1;
    }
    for (int i = nfrac; i < 6; i++)
        frac *= 10;
    if (whole * MONEY_MICRO + frac > max) {
        *why = "is too large";
        return -1;
    }
    *out = whole * MONEY_MICRO + frac;
    return 0;
}

int money_parse(const char *s, int64_t *out, const char **why)
{
    return parse_fixed(s, MONEY_MAX, out, why);
}

int money_parse_ratio(const char *s, int64_t *ppm, const char **why)
{
    if (parse_fixed(s, MONEY_MICRO, ppm, why) == -1) {
        if (strcmp(*why, "is too large") == 0)
            *why = "is above 1";
        return -1;
    }
    return 0;
}

const char *money_format(int64_t micro, char *buf, size_t size)
{
    uint64_t v = micro < 0 ? (uint64_t)0 - (uint64_t)micro : (uint64_t)micro;
    char frac[8];
    int n;

    snprintf(frac, sizeof frac, "%06llu", (unsigned long long)(v % (uint64_t)MONEY_MICRO));
    for (n = 6; n > 2 && frac[n - 1] == '0'; n--)
        ;
    frac[n] = '\0';
    snprintf(buf, size, "%s%llu.%s", micro < 0 ? "-" : "",
             (unsigned long long)(v / (uint64_t)MONEY_MICRO), frac);
    return buf;
}
