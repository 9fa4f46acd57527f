/*
 * cache.c - the response cache in Redis; see cache.h. Keys (docs/redis-keys.md):
 *   nr:llm:cache:<sha256 hex>  string, one answer as JSON {text, prompt_tokens,
 *                              completion_tokens, confidence}, with the TTL
 *   nr:llm:cache:stats         hash {hits, misses}, HINCRBY by every process
 * A lookup is one round trip: llm_cache_get.lua reads the answer and counts the hit or miss
 * together. The task-type policy (llm_cache_wants) is pure and touches no Redis.
 * Threads: a cache belongs to the thread that owns its link; the policy functions are safe
 * from any thread.
 */
#include "llm/cache.h"

#include "core/clock.h"
#include "core/fail.h"
#include "core/log.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_KEY_PREFIX NR_PREFIX "llm:cache:"
#define CACHE_STATS_KEY  NR_PREFIX "llm:cache:stats"

struct llm_cache {
    struct rlink *l;
    int ttl_s;
};

struct llm_cache *llm_cache_new(struct rlink *l, int ttl_s)
{
    struct llm_cache *c = xcalloc(1, sizeof *c);

    c->l = l;
    c->ttl_s = ttl_s;
    return c;
}

void llm_cache_free(struct llm_cache *c)
{
    free(c);
}

/* Feeds s with white space folded to single spaces and trimmed. */
static void digest_folded(EVP_MD_CTX *md, const char *s)
{
    bool space = false, any = false;

    for (; *s != '\0'; s++) {
        if (isspace((unsigned char)*s)) {
            space = true;
            continue;
        }
        if (space && any)
            EVP_DigestUpdate(md, " ", 1);
        EVP_DigestUpdate(md, s, 1);
        space = false;
        any = true;
    }
}

void llm_cache_key(const char *kind, const struct llm_request *req, char out[LLM_CACHE_KEY_HEX])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sum[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char head[512];
    int hl;

    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        fail("SHA-256 is not available");
    /* The seed picks one sample of the answers: another seed is another question. */
    hl = snprintf(head, sizeof head, "v2\n%s\n%s\n%.3f\n%d\n%d\n%llu\n", kind,
                  req->model != NULL ? req->model : "", req->temperature, req->max_tokens,
                  req->json ? 1 : 0, (unsigned long long)req->seed);
    EVP_DigestUpdate(md, head, (size_t)(hl < (int)sizeof head ? hl : (int)sizeof head - 1));
    for (size_t i = 0; i < req->nmessages; i++) {
        EVP_DigestUpdate(md, req->messages[i].role, strlen(req->messages[i].role));
        EVP_DigestUpdate(md, "\x1f", 1);
        digest_folded(md, req->messages[i].content);
        EVP_DigestUpdate(md, "\x1e", 1);
    }
    EVP_DigestFinal_ex(md, sum, &n);
    EVP_MD_CTX_free(md);
    for (unsigned int i = 0; i < 32 && i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", sum[i]);
    out[64] = '\0';
}

/* Adds by to the counter field; a failure is logged, never returned (counting is best effort). */
static void count(struct llm_cache *c, const char *field, int by)
{
    char *cause = NULL;
    redisReply *r = rlink_command(c->l, &cause, "HINCRBY %s %s %d", CACHE_STATS_KEY, field, by);

    if (r == NULL) {
        log_debug("llm cache: counting %d %s: %s", by, field, cause);
        free(cause);
        return;
    }
    freeReplyObject(r);
}

int llm_cache_get(struct llm_cache *c, const char *kind, const struct llm_request *req,
                  struct llm_response *resp, char **cause)
{
    char hex[LLM_CACHE_KEY_HEX], key[sizeof CACHE_KEY_PREFIX + LLM_CACHE_KEY_HEX];
    const char *argv[2];
    int64_t t0 = clock_mono_ms();
    redisReply *r;
    json_t *j, *text, *pt, *ct, *conf;

    if (c->ttl_s <= 0)
        return 0;
    llm_cache_key(kind, req, hex);
    snprintf(key, sizeof key, "%s%s", CACHE_KEY_PREFIX, hex);
    argv[0] = key;
    argv[1] = CACHE_STATS_KEY;
    /* The script has counted the hit or miss; trouble (no reply) counts nothing. */
    r = rlink_eval(c->l, &lua_llm_cache_get, 2, 2, argv, cause);
    if (r == NULL)
        return 0;
    if (r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return 0;
    }
    j = json_loadb(r->str, r->len, 0, NULL);
    freeReplyObject(r);
    text = json_object_get(j, "text");
    pt = json_object_get(j, "prompt_tokens");
    ct = json_object_get(j, "completion_tokens");
    conf = json_object_get(j, "confidence");
    if (!json_is_string(text) || !json_is_integer(pt) || !json_is_integer(ct)) {
        /* Not ours or from another version: a miss (the script counted a hit, so the count
         * moves over), and the put after it replaces it. */
        json_decref(j);
        count(c, "hits", -1);
        count(c, "misses", 1);
        return 0;
    }
    memset(resp, 0, sizeof *resp);
    resp->text = xstrdup(json_string_value(text));
    resp->prompt_tokens = (int)json_integer_value(pt);
    resp->completion_tokens = (int)json_integer_value(ct);
    resp->confidence = json_is_number(conf) ? json_number_value(conf) : -1;
    resp->cached = true;
    resp->latency_ms = clock_mono_ms() - t0;
    json_decref(j);
    return 1;
}

int llm_cache_put(struct llm_cache *c, const char *kind, const struct llm_request *req,
                  const struct llm_response *resp, char **cause)
{
    char hex[LLM_CACHE_KEY_HEX], key[sizeof CACHE_KEY_PREFIX + LLM_CACHE_KEY_HEX];
    json_t *j;
    char *v;
    redisReply *r;

    if (c->ttl_s <= 0)
        return 0;
    llm_cache_key(kind, req, hex);
    snprintf(key, sizeof key, "%s%s", CACHE_KEY_PREFIX, hex);
    j = json_pack("{s:s, s:i, s:i, s:f}", "text", resp->text != NULL ? resp->text : "",
                  "prompt_tokens", resp->prompt_tokens, "completion_tokens",
                  resp->completion_tokens, "confidence", resp->confidence);
    if (j == NULL)
        fail("out of memory caching an answer");
    v = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (v == NULL)
        fail("out of memory caching an answer");
    r = rlink_command(c->l, cause, "SET %s %b EX %d", key, v, strlen(v), c->ttl_s);
    free(v);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int llm_cache_stats(struct llm_cache *c, struct llm_cache_stats *out, char **cause)
{
    redisReply *r = rlink_command(c->l, cause, "HMGET %s hits misses", CACHE_STATS_KEY);

    memset(out, 0, sizeof *out);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        if (r->element[0]->type == REDIS_REPLY_STRING)
            out->hits = strtoll(r->element[0]->str, NULL, 10);
        if (r->element[1]->type == REDIS_REPLY_STRING)
            out->misses = strtoll(r->element[1]->str, NULL, 10);
    }
    freeReplyObject(r);
    if (out->hits + out->misses > 0)
        out->hit_rate = (double)out->hits / (double)(out->hits + out->misses);
    return 0;
}

int llm_cache_stats_reset(struct llm_cache *c, char **cause)
{
    redisReply *r = rlink_command(c->l, cause, "DEL %s", CACHE_STATS_KEY);

    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int llm_complete_cached(struct llm_cache *cache, struct llm_provider *p,
                        const struct llm_request *req, struct llm_response *resp,
                        struct llm_error *err, int max_attempts, int64_t max_wait_ms, char **cause)
{
    const char *kind = llm_provider_kind(p);
    char *why = NULL;
    int rc;

    if (cache == NULL)
        return llm_complete_retry(p, req, resp, err, max_attempts, max_wait_ms, cause);
    if (llm_cache_get(cache, kind, req, resp, &why) == 1) {
        if (err != NULL) {
            memset(err, 0, sizeof *err);
            err->retry_after_ms = -1;
        }
        return 0;
    }
    if (why != NULL) {
        log_debug("llm cache lookup: %s", why);
        free(why);
        why = NULL;
    }
    rc = llm_complete_retry(p, req, resp, err, max_attempts, max_wait_ms, cause);
    /* A fallback's answer is not kept: once the first provider is back it answers again. */
    if (rc == 0 && !resp->fallback && llm_cache_put(cache, kind, req, resp, &why) == -1) {
        log_debug("llm cache store: %s", why);
        free(why);
    }
    return rc;
}

/* The next entry of a comma-separated list at *p: its start and length, blanks around it left
 * out (it may be empty). *p moves past it, to NULL after the last. False when *p is NULL. */
static bool list_entry(const char **p, const char **start, size_t *len)
{
    const char *s = *p, *comma, *end;

    if (s == NULL)
        return false;
    comma = strchr(s, ',');
    end = comma != NULL ? comma : s + strlen(s);
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *start = s;
    *len = (size_t)(end - s);
    *p = comma != NULL ? comma + 1 : NULL;
    return true;
}

/* The list's first entry, or NULL when it has none (NULL, empty or only blanks). */
static const char *list_first(const char *list)
{
    if (list == NULL)
        return NULL;
    for (const char *s = list; *s != '\0'; s++)
        if (*s != ' ' && *s != '\t')
            return list;
    return NULL;
}

int llm_cache_task_types_check(const char *list, char **why)
{
    const char *p = list_first(list), *e;
    size_t n;

    while (list_entry(&p, &e, &n)) {
        bool word = n > 0;

        if (n == 1 && *e == '*')
            continue;
        for (size_t i = 0; i < n; i++)
            if ((e[i] < 'a' || e[i] > 'z') && e[i] != '_')
                word = false;
        if (n == 0) {
            *why = xasprintf("\"%s\" has an empty entry (task types separated by commas, \"*\" "
                             "for every one, nothing for none)",
                             list);
            return -1;
        }
        if (!word) {
            *why = xasprintf("\"%.*s\" is not a task type (lower-case letters and '_', or \"*\")",
                             (int)n, e);
            return -1;
        }
    }
    return 0;
}

bool llm_cache_wants(const char *list, const char *task_type)
{
    const char *p = list_first(list), *e;
    size_t n, tl = task_type != NULL ? strlen(task_type) : 0;

    while (list_entry(&p, &e, &n))
        if ((n == 1 && *e == '*') || (tl > 0 && n == tl && memcmp(e, task_type, n) == 0))
            return true;
    return false;
}
