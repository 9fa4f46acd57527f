/*
 * batch.h - batched screening: one call asks a model about up to LLM_BATCH_MAX items and
 * gets one verdict per item back, and the call's tokens (and so its cost) are split across
 * the items in proportion to each item's share of the prompt, summing exactly to the call's
 * totals.
 *
 * Threads: no state of its own; a call uses the provider (and cache) it is given, so it runs
 * on the thread that owns them.
 *
 * The prompt: a system message that asks for {"verdicts": [{"item": N, ...}, ...]} (an object
 * holding the array, so OpenAI's JSON mode accepts it) and a user message with each item after
 * a line "### ITEM N" (N from 1). sim recognises that layout and answers it.
 */
#ifndef NEWSROOM_LLM_BATCH_H
#define NEWSROOM_LLM_BATCH_H

#include "llm/llm.h"

#include <stddef.h>

#define LLM_BATCH_MAX  32
#define LLM_BATCH_MARK "### ITEM "

struct llm_cache;

struct llm_batch_item {
    const char *id;   /* the caller's id for the item; borrowed */
    const char *text; /* what the model is to judge; borrowed */
};

struct llm_batch_verdict {
    char *json;        /* the item's verdict object as JSON text, owned; NULL if the answer had
                          none for this item */
    double confidence; /* from the verdict, else -1 */
    int prompt_tokens; /* this item's share of the call's prompt tokens */
    int completion_tokens;
};

/* The split: distributes total over n parts in proportion to weights (all >= 0; equal shares
 * when they sum to 0) by the largest-remainder method, so the parts sum exactly to total. */
void llm_batch_split(int total, const int *weights, size_t n, int *out);

/* Builds the user message for items[0..n) (free it). */
char *llm_batch_prompt(const struct llm_batch_item *items, size_t n);

/* Parses an answer for n items into verdicts[0..n) (each cleared first). Returns the number
 * of items that got a verdict, or -1 with *cause when the answer is not the documented
 * object. Free each verdict with llm_batch_verdict_clear(). */
int llm_batch_parse(const char *answer, size_t n, struct llm_batch_verdict *verdicts, char **cause);
void llm_batch_verdict_clear(struct llm_batch_verdict *v);

/* One screening call for items[0..n) (1 <= n <= LLM_BATCH_MAX) of task_type with model:
 * through the cache when cache is not NULL, else straight to p. On success fills verdicts
 * (with each item's token share) and *total (the whole call: text, tokens, cached, latency;
 * clear it with llm_response_clear()) and returns the number of items with a verdict; on
 * failure returns -1 with *cause and *err as llm_complete() does. tmpl gives temperature,
 * seed and timeout; its model, messages, json and max_tokens are set here. */
int llm_batch_screen(struct llm_provider *p, struct llm_cache *cache,
                     const struct llm_request *tmpl, const char *task_type,
                     const struct llm_batch_item *items, size_t n,
                     struct llm_batch_verdict *verdicts, struct llm_response *total,
                     struct llm_error *err, char **cause);

#endif
