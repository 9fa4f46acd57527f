/*
 * fmt.h - the small text formats the panes share (money, ages, durations, where today's spend
 * ends) and the "/" filter's matching. Pure functions; unit-tested (tests/unit/test_keys.c).
 *
 * Threads: pure, any thread.
 */
#ifndef NEWSROOM_UI_FMT_H
#define NEWSROOM_UI_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether needle occurs in hay, ASCII letters folded; an empty or NULL needle matches all. */
bool fmt_match(const char *hay, const char *needle);
/* Whether any of n strings matches (the fields of one row). */
bool fmt_match_any(const char *const *fields, size_t n, const char *needle);

/* s cut in the middle to cols columns (ASCII counted a byte a column; UTF-8 never split), the
 * head and the tail kept around ellipsis (one column when UTF-8): agent ids that differ only at
 * the end stay apart ("analyst-bu…12345-2"). Returns buf. */
const char *fmt_middle(const char *s, size_t cols, const char *ellipsis, char *buf, size_t size);

/* n bytes of data in base64 (RFC 4648, with padding): a new string of *len bytes (len may be
 * NULL; free it). For OSC 52 and the kitty graphics protocol. */
char *fmt_base64(const void *data, size_t n, size_t *len);

/* Micro-dollars for a narrow column: "$1234" from $1000, "$12.50" from $1, "$0.0042" below
 * (rounded to the nearest shown digit). Returns buf. */
const char *fmt_money(int64_t micro, char *buf, size_t size);
/* A short age: "4s", "12m", "3h", "2d"; "-" when negative or unknown (<= INT64_MIN/2). */
const char *fmt_age(int64_t ms, char *buf, size_t size);
/* A duration in seconds as "m:ss" ("1:05"), "-" when <= 0. */
const char *fmt_duration(double s, char *buf, size_t size);
/* Uptime "3d 04:05:06" / "04:05:06". */
const char *fmt_uptime(int64_t ms, char *buf, size_t size);

/* Where the UTC day's spend ends at rate_per_h (micro-dollars an hour) from now_ms, given
 * spent so far. */
int64_t fmt_day_end(int64_t spent, int64_t rate_per_h, int64_t now_ms);

/* A staleness level for an age against fresh and stale thresholds: 0 fresh, 1 late, 2 stale. */
int fmt_staleness(int64_t age_ms, int64_t late_ms, int64_t stale_ms);

#endif
