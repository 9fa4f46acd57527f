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

#endif
