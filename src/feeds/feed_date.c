/*
 * feed_date.c - the dates feeds write, read into UTC milliseconds: feed_parse_date() of
 * feed_parse.h. Two readers, tried in turn, both table-driven:
 *  - numeric, year first: ISO 8601 / RFC 3339 ("2003-06-10T04:00:00.5+02:00", "2012-08-21T10:33",
 *    "2003-06-10"), and the same with "/" or "." between the parts ("2020/1/10 14:03:00");
 *  - words: RFC 822 / 1123 / 850, asctime and their loose relatives: a day name in any language
 *    first (or none; it is redundant, so it is never checked), day and month in either order,
 *    month names in English and the common European languages, two- or four-digit years, a
 *    time with or without seconds and AM/PM, a zone name or a numeric offset (or none).
 * A Unix time (9-11 digits of seconds, 13 of milliseconds) is read as such. Without a zone the
 * time is read as UTC and the kind says FEED_DATE_NO_ZONE, as feedparser and gofeed do.
 *
 * Threads: any; no state.
 */
#include "feeds/feed_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct when {
    int y, mo, d, h, mi, s, ms;
    int off_min; /* east of UTC */
    bool zoned;  /* a zone was given */
    int ampm;    /* 0 none, 1 AM, 2 PM */
    bool have_time;
};

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Checks the fields and makes the time; -1 when a field is out of range. */
static int finish(struct when *w, int64_t *ms, enum feed_date_kind *kind)
{
    if (w->ampm != 0) {
        if (w->h < 1 || w->h > 12)
            return -1;
        w->h = w->h % 12 + (w->ampm == 2 ? 12 : 0);
    }
    if (w->y < 1900 || w->y > 9999 || w->mo < 1 || w->mo > 12 || w->d < 1 ||
        w->d > month_days(w->y, w->mo) || w->h < 0 || w->h > 23 || w->mi < 0 || w->mi > 59 ||
        w->s < 0 || w->s > 60 || w->off_min < -18 * 60 || w->off_min > 18 * 60)
        return -1;
    if (w->s == 60)
        w->s = 59; /* a leap second: the second before */
    *ms = days_from_civil(w->y, w->mo, w->d) * 86400000 +
          ((int64_t)w->h * 3600 + w->mi * 60 + w->s) * 1000 + w->ms - (int64_t)w->off_min * 60000;
    if (kind != NULL)
        *kind = w->zoned && w->have_time ? FEED_DATE_FEED : FEED_DATE_NO_ZONE;
    return 0;
}

/* Zone names and their offsets in minutes east of UTC. */
static const struct {
    const char *name;
    int off;
} zones[] = {
    {"z", 0},      {"ut", 0},      {"utc", 0},     {"gmt", 0},    {"wet", 0},    {"est", -300},
    {"edt", -240}, {"cst", -360},  {"cdt", -300},  {"mst", -420}, {"mdt", -360}, {"pst", -480},
    {"pdt", -420}, {"akst", -540}, {"akdt", -480}, {"hst", -600}, {"ast", -240}, {"adt", -180},
    {"nst", -210}, {"ndt", -150},  {"bst", 60},    {"ist", 330},  {"cet", 60},   {"cest", 120},
    {"met", 60},   {"mest", 120},  {"west", 60},   {"eet", 120},  {"eest", 180}, {"msk", 180},
    {"jst", 540},  {"kst", 540},   {"hkt", 480},   {"sgt", 480},  {"awst", 480}, {"acst", 570},
    {"acdt", 630}, {"aest", 600},  {"aedt", 660},  {"nzst", 720}, {"nzdt", 780},
};

static bool zone_of(const char *w, size_t n, int *off)
{
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (strlen(zones[i].name) == n && strncasecmp(zones[i].name, w, n) == 0) {
            *off = zones[i].off;
            return true;
        }
    return false;
}

/* Month names, lower case: English, French, German, Spanish, Italian, Portuguese, Dutch (full
 * and the usual abbreviations). */
static const struct {
    const char *name;
    int month;
} months[] = {
    {"jan", 1},
    {"january", 1},
    {"janvier", 1},
    {"janv", 1},
    {"januar", 1},
    {"j\xc3\xa4nner", 1},
    {"enero", 1},
    {"ene", 1},
    {"gennaio", 1},
    {"gen", 1},
    {"janeiro", 1},
    {"januari", 1},
    {"feb", 2},
    {"february", 2},
    {"f\xc3\xa9vrier", 2},
    {"fevrier", 2},
    {"f\xc3\xa9vr", 2},
    {"fevr", 2},
    {"f\xc3\xa9v", 2},
    {"februar", 2},
    {"febrero", 2},
    {"febbraio", 2},
    {"fevereiro", 2},
    {"fev", 2},
    {"februari", 2},
    {"mar", 3},
    {"march", 3},
    {"mars", 3},
    {"m\xc3\xa4rz", 3},
    {"maerz", 3},
    {"m\xc3\xa4r", 3},
    {"marzo", 3},
    {"mar\xc3\xa7o", 3},
    {"marco", 3},
    {"maart", 3},
    {"mrt", 3},
    {"apr", 4},
    {"april", 4},
    {"avril", 4},
    {"avr", 4},
    {"abril", 4},
    {"abr", 4},
    {"aprile", 4},
    {"may", 5},
    {"mai", 5},
    {"mayo", 5},
    {"maggio", 5},
    {"mag", 5},
    {"maio", 5},
    {"mei", 5},
    {"jun", 6},
    {"june", 6},
    {"juin", 6},
    {"juni", 6},
    {"junio", 6},
    {"giugno", 6},
    {"giu", 6},
    {"junho", 6},
    {"jul", 7},
    {"july", 7},
    {"juillet", 7},
    {"juil", 7},
    {"juli", 7},
    {"julio", 7},
    {"luglio", 7},
    {"lug", 7},
    {"julho", 7},
    {"aug", 8},
    {"august", 8},
    {"ao\xc3\xbbt", 8},
    {"aout", 8},
    {"agosto", 8},
    {"ago", 8},
    {"augustus", 8},
    {"sep", 9},
    {"sept", 9},
    {"september", 9},
    {"septembre", 9},
    {"septiembre", 9},
    {"setiembre", 9},
    {"settembre", 9},
    {"set", 9},
    {"setembro", 9},
    {"oct", 10},
    {"october", 10},
    {"octobre", 10},
    {"oktober", 10},
    {"okt", 10},
    {"octubre", 10},
    {"ottobre", 10},
    {"ott", 10},
    {"outubro", 10},
    {"out", 10},
    {"nov", 11},
    {"november", 11},
    {"novembre", 11},
    {"noviembre", 11},
    {"novembro", 11},
    {"dec", 12},
    {"december", 12},
    {"d\xc3\xa9"
     "cembre",
     12},
    {"decembre", 12},
    {"d\xc3\xa9"
     "c",
     12},
    {"dezember", 12},
    {"dez", 12},
    {"diciembre", 12},
    {"dic", 12},
    {"dicembre", 12},
    {"dezembro", 12},
};

static int month_of(const char *w, size_t n)
{
    char low[32];

    if (n >= sizeof low)
        return 0;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)w[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof months / sizeof months[0]; i++)
        if (strcmp(months[i].name, low) == 0)
            return months[i].month;
    return 0;
}

/* Reads 1..max digits at *p into *v; advances. */
static bool digits(const char **p, int min, int max, int *v)
{
    int n = 0;

    *v = 0;
    while (n < max && isdigit((unsigned char)**p)) {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n >= min;
}

/* A numeric offset at *p: +hh, +hhmm or +hh:mm (or -). */
static bool offset(const char **p, int *off)
{
    const char *q = *p;
    int sign, hh, mm = 0;

    if (*q != '+' && *q != '-')
        return false;
    sign = *q++ == '-' ? -1 : 1;
    if (!digits(&q, 2, 2, &hh))
        return false;
    if (*q == ':')
        q++;
    if (isdigit((unsigned char)*q) && !digits(&q, 2, 2, &mm))
        return false;
    *off = sign * (hh * 60 + mm);
    *p = q;
    return true;
}

/* hh:mm[:ss[.fff]] at *p. */
static bool clock_time(const char **p, struct when *w)
{
    const char *q = *p;
    int h, mi, sec = 0, ms = 0;

    if (!digits(&q, 1, 2, &h) || *q != ':')
        return false;
    q++;
    if (!digits(&q, 2, 2, &mi))
        return false;
    if (*q == ':') {
        q++;
        if (!digits(&q, 2, 2, &sec))
            return false;
        if (*q == '.' || *q == ',') {
            int scale = 100;

            q++;
            if (!isdigit((unsigned char)*q))
                return false;
            for (; isdigit((unsigned char)*q); q++, scale /= 10)
                ms += (*q - '0') * scale;
        }
    }
    w->h = h;
    w->mi = mi;
    w->s = sec;
    w->ms = ms;
    w->have_time = true;
    *p = q;
    return true;
}

static void skip_space(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* The numeric form: YYYY-M-D (or / or .), then optionally [T ]time and a zone. */
static int numeric(const char *s, struct when *w)
{
    const char *p = s;
    char sep;

    if (!digits(&p, 4, 4, &w->y) || (*p != '-' && *p != '/' && *p != '.'))
        return -1;
    sep = *p++;
    if (!digits(&p, 1, 2, &w->mo) || *p != sep)
        return -1;
    p++;
    if (!digits(&p, 1, 2, &w->d))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        skip_space(&p);
        if (!clock_time(&p, w))
            return -1;
        skip_space(&p);
        if (strncasecmp(p, "am", 2) == 0 || strncasecmp(p, "pm", 2) == 0) {
            w->ampm = tolower((unsigned char)*p) == 'a' ? 1 : 2;
            p += 2;
            skip_space(&p);
        }
        if (*p == 'Z' || *p == 'z') {
            w->zoned = true;
            p++;
        } else if (offset(&p, &w->off_min)) {
            w->zoned = true;
        } else if (isalpha((unsigned char)*p)) {
            size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

            if (!zone_of(p, n, &w->off_min))
                return -1;
            w->zoned = true;
            p += n;
            if (*p == '+' || *p == '-') {
                int extra;

                if (!offset(&p, &extra))
                    return -1;
                w->off_min += extra;
            }
        }
    }
    skip_space(&p);
    return *p == '\0' ? 0 : -1;
}

/* The word form: tokens in any sensible order (see the file comment). */
static int words(const char *s, struct when *w)
{
    const char *p = s;
    bool first = true, have_year = false, have_day = false;

    while (*p != '\0') {
        unsigned char c = (unsigned char)*p;

        if (c == ' ' || c == '\t' || c == ',' || c == '.' || c == '/' ||
            (c == '-' && !(w->have_time && isdigit((unsigned char)p[1])))) {
            p++;
            continue;
        }
        if (isalpha(c) || c >= 0x80) {
            const char *start = p;
            size_t n;
            int mo, off;

            while (isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80)
                p++;
            n = (size_t)(p - start);
            if (w->mo == 0 && (mo = month_of(start, n)) != 0) {
                w->mo = mo;
            } else if (n == 2 &&
                       (strncasecmp(start, "am", 2) == 0 || strncasecmp(start, "pm", 2) == 0)) {
                w->ampm = tolower((unsigned char)*start) == 'a' ? 1 : 2;
            } else if (zone_of(start, n, &off)) {
                w->zoned = true;
                w->off_min = off;
            } else if (!first) {
                return -1; /* a word that is none of these, past the day name */
            }
            first = false;
            continue;
        }
        first = false;
        if (c == '+' || c == '-') {
            int off;

            if (!offset(&p, &off))
                return -1;
            /* "GMT+0200": the offset is from the zone named. */
            w->off_min = w->zoned ? w->off_min + off : off;
            w->zoned = true;
            continue;
        }
        if (isdigit(c)) {
            const char *q = p;
            int v;

            if (!w->have_time && clock_time(&q, w)) {
                p = q;
                continue;
            }
            q = p;
            digits(&q, 1, 8, &v);
            if (q - p == 4 && !have_year) {
                w->y = v;
                have_year = true;
            } else if (q - p <= 2 && !have_day) {
                w->d = v;
                have_day = true;
                /* "16th", "1st": an ordinal's letters belong to the day. */
                if (strncasecmp(q, "st", 2) == 0 || strncasecmp(q, "nd", 2) == 0 ||
                    strncasecmp(q, "rd", 2) == 0 || strncasecmp(q, "th", 2) == 0)
                    q += 2;
            } else if (q - p == 2 && !have_year) {
                w->y = v < 50 ? 2000 + v : 1900 + v;
                have_year = true;
            } else {
                return -1;
            }
            p = q;
            continue;
        }
        return -1;
    }
    return have_year && have_day && w->mo != 0 ? 0 : -1;
}

int feed_parse_date(const char *s, int64_t *ms, enum feed_date_kind *kind)
{
    char buf[128];
    size_t n;
    struct when w;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strspn(buf, "0123456789") == n && (n == 13 || (n >= 9 && n <= 11))) {
        long long v = strtoll(buf, NULL, 10);

        *ms = n == 13 ? v : v * 1000;
        if (kind != NULL)
            *kind = FEED_DATE_FEED;
        return 0;
    }
    memset(&w, 0, sizeof w);
    if (numeric(buf, &w) == 0)
        return finish(&w, ms, kind);
    memset(&w, 0, sizeof w);
    if (words(buf, &w) == 0)
        return finish(&w, ms, kind);
    return -1;
}
