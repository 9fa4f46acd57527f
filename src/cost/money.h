/*
 * money.h - amounts of money as exact integers of micro-dollars (1 $ = 1,000,000 µ$), parsed
 * from and printed as decimal dollars without ever passing through a float, so that prices,
 * limits and sums add up exactly. Pure functions without state, safe from any thread.
 */
#ifndef NEWSROOM_MONEY_H
#define NEWSROOM_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define MONEY_MICRO 1000000LL
/* The largest amount accepted: one billion dollars. */
#define MONEY_MAX (1000000000LL * MONEY_MICRO)
/* Room for any formatted amount. */
#define MONEY_BUF 32

/* Parses decimal dollars ("12", "0.5", "0.0015", at most six decimals, no sign, no exponent)
 * into micro-dollars. Returns 0, or -1 with *why (a static string) when s is not such an
 * amount or is above MONEY_MAX. */
int money_parse(const char *s, int64_t *out, const char **why);

/* Writes micro as decimal dollars with at least two decimals and no trailing zeros beyond
 * them ("12.50", "0.0015", "-1.00"). Returns buf. */
const char *money_format(int64_t micro, char *buf, size_t size);

/* Parses a fraction "0.8" (0 to 1, at most six decimals) into parts per million. Returns 0,
 * or -1 with *why. */
int money_parse_ratio(const char *s, int64_t *ppm, const char **why);

#endif
