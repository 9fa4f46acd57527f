/*
 * review.c - the review record; see review.h. No state: any thread.
 */
#include "agents/review.h"

#include <string.h>
#include <time.h>

const char *review_revise_note(const char *reason)
{
    size_t n = strlen(REVIEW_REVISE_PREFIX);

    if (reason == NULL || strncmp(reason, REVIEW_REVISE_PREFIX, n) != 0)
        return NULL;
    return reason + n;
}

const char *review_iso_time(int64_t ms, char *buf, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json_t *review_patch(const char *decision, const char *reason, const char *by, int64_t at_ms,
                     bool automatic)
{
    char at[32];

    review_iso_time(at_ms, at, sizeof at);
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:I, s:b}}", "review", "decision", decision, "reason",
                     reason != NULL ? reason : "", "by", by, "at", at, "at_ms", (json_int_t)at_ms,
                     "auto", automatic);
}
