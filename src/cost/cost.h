/*
 * cost.h - the budgeted LLM call: estimate the cost from the pricing table (prompt tokens as
 * bytes / 4, completion as max_tokens), reserve it (budget.h), call llm_complete(), then
 * commit the actual usage, or release the reservation when the call failed. A refusal
 * returns COST_DEFERRED with the limit named: the caller's task waits (deferred, not failed,
 * not lost) until the window rolls over or an operator grants the budget request.
 *
 * Threads: a struct cost belongs to one thread, like the link it borrows.
 */
#ifndef NEWSROOM_COST_H
#define NEWSROOM_COST_H

#include "cost/budget.h"
#include "cost/pricing.h"
#include "llm/llm.h"

#include <stdint.h>

struct rlink;

/* cost_complete()'s outcomes. */
enum { COST_OK = 0, COST_FAILED = -1, COST_DEFERRED = 1 };

struct cost;

/* A cost context for agent on the link l and pricing p (both borrowed, and must outlive
 * it), with the budget options o (copied, the cache_task_types string too). Free with
 * cost_free(). */
struct cost *cost_new(struct rlink *l, const struct pricing *p, const struct budget_options *o,
                      const char *agent);
void cost_free(struct cost *c);

/* The model that prices req: req->model when priced, else the model of the task type's tier
 * (FAST for an unknown task type). Never NULL. Borrowed from p. */
const struct pricing_model *cost_model_for(const struct pricing *p, const struct llm_request *req);
/* The cost reserved for req in micro-dollars: an upper bound, so the actual cost can never
 * pass it. Prompt tokens are counted as the messages' bytes (no tokenizer makes a token of
 * less than one byte) plus 4 per message and 3 for the reply's priming, completion tokens as
 * max_tokens (which every provider enforces). The actual cost replaces it at commit. */
int64_t cost_estimate(const struct pricing *p, const struct llm_request *req);

/* Makes one budgeted call for task (may be NULL) through provider. Returns COST_OK with *resp
 * filled (llm_response_clear) and the usage recorded; COST_DEFERRED with *refusal filled and
 * no call made; COST_FAILED with *cause (and *err from the provider when the call itself
 * failed, the reservation released; err may be NULL). A commit that fails after a
 * successful call is logged and the answer still returned as COST_OK: the call was paid for. */
/* Serve calls through the response cache (borrowed, may be NULL to stop): a hit is recorded
 * as usage with cost 0 and the cached flag. Only calls whose task type is in the options'
 * cache_task_types (llm_cache_wants()) go through it; the others go straight to the
 * provider. */
struct llm_cache;
void cost_set_cache(struct cost *c, struct llm_cache *cache);

int cost_complete(struct cost *c, struct llm_provider *provider, const char *task,
                  const struct llm_request *req, struct llm_response *resp,
                  struct budget_refusal *refusal, struct llm_error *err, char **cause);

/* Paid media calls (media/visual.h: a stock search, a generated image, a presenter or a clip),
 * budgeted like model calls with the same reservations and usage records: reserve the most
 * the call can cost (units of m, the media price of pricing.h) before it, then either commit
 * what it really used or release the reservation when the call failed.
 *
 * cost_media_reserve() returns COST_OK with the reservation's id in id; COST_DEFERRED with
 * *refusal filled (nothing to call); COST_FAILED with *cause. task is the story (may be NULL). */
int cost_media_reserve(struct cost *c, const char *task, const struct pricing_media *m,
                       double units, char id[BUDGET_ID_MAX], struct budget_refusal *refusal,
                       char **cause);
/* Replaces reservation id by the cost of units of m and records the usage (model m->name,
 * provider m->provider, task type m->task and its tier, duration_ms). A record that cannot
 * reach Redis goes to the usage journal, as a model call's does; never fails. Returns the cost
 * in µ$. */
int64_t cost_media_commit(struct cost *c, const char *task, const struct pricing_media *m,
                          double units, const char *id, int64_t duration_ms);
/* Gives reservation id back: the call was not made, or failed without being charged. */
void cost_media_release(struct cost *c, const char *id);
/* The pricing the cost context was made with (borrowed). */
const struct pricing *cost_pricing(const struct cost *c);

#endif
