/*
 * cache.h - the response cache: an answer kept in Redis under a SHA-256 of the provider kind,
 * the model, the parameters (temperature, max_tokens, json, seed) and the normalised prompt (each
 * message's role and content with white space folded), with a TTL. A hit comes back with
 * cached = true (the cost layer records it with cost 0). Hits and misses are counted in Redis
 * so every process's calls add to one hit rate; a lookup and its count are one round trip
 * (the script llm_cache_get.lua).
 *
 * Which calls use the cache is a policy by task type ([providers] cache_task_types): the cost
 * layer asks llm_cache_wants() before a lookup, so calls that rarely repeat pay for neither a
 * lookup nor a store.
 *
 * Threads: a cache uses the Redis link it was given, and a link belongs to one thread, so a
 * cache belongs to that thread too. Redis trouble never fails a call: the cache then acts as
 * a miss and the provider answers.
 */
#ifndef NEWSROOM_LLM_CACHE_H
#define NEWSROOM_LLM_CACHE_H

#include "llm/llm.h"

#include <stdbool.h>
#include <stdint.h>

struct llm_cache;
struct rlink;

#define LLM_CACHE_KEY_HEX 65 /* 64 hex digits and the NUL */

/* The task types cached by default: the screening calls, where the same story text comes back
 * across feeds. The analysis is kept with its story (a checkpoint: a story is never analysed
 * twice) and carries the analysts' lessons in its prompt, so it never came back from the cache
 * (bench cost: 0 hits in 200 stories) while its lookup and store cost two round trips a story;
 * debate arguments, script drafts and revisions and QA have prompts unique to a story and a
 * pass, and would pay a lookup and a store for nothing. */
#define LLM_CACHE_TASK_TYPES_DEFAULT "news_scout,content_filter,topic_tagging"

struct llm_cache_stats {
    long long hits, misses;
    double hit_rate; /* hits / (hits + misses); 0 when there were none */
};

/* A cache over link l (borrowed: it must outlive the cache) keeping answers ttl_s seconds
 * (0: the cache stores nothing and every lookup is a miss that is not counted). Free with
 * llm_cache_free(). */
struct llm_cache *llm_cache_new(struct rlink *l, int ttl_s);
void llm_cache_free(struct llm_cache *c);

/* The request's key in hex into out. */
void llm_cache_key(const char *kind, const struct llm_request *req, char out[LLM_CACHE_KEY_HEX]);

/* Looks req up: 1 and *resp filled (cached = true, latency the lookup's) on a hit, 0 on a
 * miss (or when Redis fails: *cause is then set for the caller to log, and may be ignored),
 * counting the hit or miss. One round trip (llm_cache_get.lua); a Redis failure counts
 * nothing. */
int llm_cache_get(struct llm_cache *c, const char *kind, const struct llm_request *req,
                  struct llm_response *resp, char **cause);
/* Stores resp for req with the TTL. Returns 0, or -1 with *cause. */
int llm_cache_put(struct llm_cache *c, const char *kind, const struct llm_request *req,
                  const struct llm_response *resp, char **cause);

/* The counters (nr:llm:cache:stats). Returns 0 or -1 with *cause. */
int llm_cache_stats(struct llm_cache *c, struct llm_cache_stats *out, char **cause);
/* Sets both counters to zero (tests, `ctl` later). */
int llm_cache_stats_reset(struct llm_cache *c, char **cause);

/* Whether calls of task_type use the cache under list, a cache_task_types value: task types
 * separated by commas (blanks around them ignored), "*" for every one. NULL, "" or blanks:
 * none. A NULL or empty task_type is in the list only through "*". Pure. */
bool llm_cache_wants(const char *list, const char *task_type);
/* Whether list is a valid cache_task_types value: each entry a word of 'a' to 'z' and '_', or
 * "*"; the whole of it may be empty. Returns 0, or -1 with *why naming the bad entry (free
 * it). */
int llm_cache_task_types_check(const char *list, char **why);

/* llm_complete_retry() through the cache: a hit answers at once; a miss asks p, with up to
 * max_attempts calls waiting at most max_wait_ms in all between them (1 attempt: no retry,
 * plain llm_complete()), and stores a successful answer. cache may be NULL (no lookup, no
 * store). Errors as llm_complete_retry(); a Redis failure alone never makes it fail. Every
 * request goes through the cache: the policy by task type is the caller's (cost_complete()
 * asks llm_cache_wants() and passes NULL for the task types it does not cache). */
int llm_complete_cached(struct llm_cache *cache, struct llm_provider *p,
                        const struct llm_request *req, struct llm_response *resp,
                        struct llm_error *err, int max_attempts, int64_t max_wait_ms, char **cause);

#endif
