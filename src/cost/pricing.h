/*
 * pricing.h - tiers, task type -> tier, and the price of every model, from config/pricing.conf
 * or the built-in table that matches the shipped file. Prices are integer micro-dollars per
 * 1,000 tokens (money.h), so every cost is exact.
 *
 * File format (INI, read with libinih; any error is "FILE:LINE: ..."):
 *   [tiers]          FAST = MODEL, BALANCED = MODEL, PREMIUM = MODEL  (each tier's model)
 *   [tasks]          TASK_TYPE = FAST | BALANCED | PREMIUM
 *   [model NAME]     tier = TIER, provider = sim | openai | anthropic,
 *                    prompt_per_1k = DOLLARS, completion_per_1k = DOLLARS
 *   [media NAME]     a paid picture or clip service (media/visual.h): provider = pexels |
 *                    openai | heygen | runway, task = TASK_TYPE (one of [tasks]: its tier),
 *                    unit = request | image | second, price = DOLLARS per unit
 *
 * Threads: a pricing is built once and read-only afterwards; any thread may read it.
 */
#ifndef NEWSROOM_PRICING_H
#define NEWSROOM_PRICING_H

#include "llm/llm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRICING_NAME_MAX 64
/* The highest price per 1K tokens accepted: $1,000 (keeps every cost inside int64). */
#define PRICING_PRICE_MAX (1000LL * 1000000LL)

struct pricing;

struct pricing_model {
    char name[PRICING_NAME_MAX];
    char provider[PRICING_NAME_MAX];
    enum llm_tier tier;
    int64_t prompt_per_1k;     /* µ$ per 1,000 prompt tokens */
    int64_t completion_per_1k; /* µ$ per 1,000 completion tokens */
};

/* What a media service's price is counted in. */
enum pricing_unit { PRICING_PER_REQUEST, PRICING_PER_IMAGE, PRICING_PER_SECOND };

struct pricing_media {
    char name[PRICING_NAME_MAX];     /* the service's model, as usage records name it */
    char provider[PRICING_NAME_MAX]; /* pexels, openai, heygen, runway */
    char task[PRICING_NAME_MAX];     /* its task type (a [tasks] key) */
    enum pricing_unit unit;
    int64_t price; /* µ$ per unit */
};

/* The built-in table (the same as the shipped config/pricing.conf). Free with
 * pricing_free(). Never NULL. */
struct pricing *pricing_default(void);
/* Reads a pricing file. Returns a new pricing (pricing_free) or NULL with *cause =
 * "FILE:LINE: what is wrong" (or "FILE: ..." for an unreadable file or a missing section). */
struct pricing *pricing_load(const char *path, char **cause);
/* path NULL or empty: pricing_default(); else pricing_load(). */
struct pricing *pricing_open(const char *path, char **cause);
void pricing_free(struct pricing *p);

/* "FAST", "BALANCED", "PREMIUM"; NULL outside the enum. */
const char *pricing_tier_name(enum llm_tier t);
/* Parses a tier name (upper case). Returns 0, or -1. */
int pricing_tier_parse(const char *name, enum llm_tier *out);

/* The tier of a task type. Returns 0, or -1 when the type is not in the table. */
int pricing_task_tier(const struct pricing *p, const char *task_type, enum llm_tier *out);
/* A model by name, or NULL; borrowed from p. */
const struct pricing_model *pricing_model(const struct pricing *p, const char *name);
/* The model a tier uses; borrowed, never NULL for a tier inside the enum. */
const struct pricing_model *pricing_tier_model(const struct pricing *p, enum llm_tier t);

/* A media service's price by name, or NULL; borrowed from p. */
const struct pricing_media *pricing_media(const struct pricing *p, const char *name);
/* "request", "image", "second". */
const char *pricing_unit_name(enum pricing_unit u);
/* The cost in µ$ of units (requests, images or seconds; negative counts as 0) of m, rounded up
 * to the next micro-dollar. */
int64_t pricing_media_cost(const struct pricing_media *m, double units);

/* How many task types the table maps to a tier. */
size_t pricing_task_count(const struct pricing *p);

/* Whether two tables hold the same tiers, tasks, models and media prices (order of rows
 * ignored). */
bool pricing_equal(const struct pricing *a, const struct pricing *b);

/* The cost in µ$ of a call with these token counts, rounded up to the next micro-dollar.
 * Negative counts count as 0. */
int64_t pricing_cost(const struct pricing_model *m, int prompt_tokens, int completion_tokens);

#endif
