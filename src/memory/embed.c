/*
 * embed.c - the embedders of embed.h: the table of kinds, the embedding cache in Redis and
 * the OpenAI-compatible client (POST {base}/v1/embeddings through src/llm/http.h).
 *
 *   Request:  {"model", "input": [texts], "encoding_format": "float", "dimensions"?}
 *             Authorization: Bearer <key> (left out when there is no key), Content-Type:
 *             application/json
 *   Answer:   {"object": "list", "data": [{"object": "embedding", "index", "embedding":
 *             [floats]}], "model", "usage": {"prompt_tokens", "total_tokens"}}
 *
 * Threads: an embedder belongs to the thread that uses it (its CURL handle and borrowed link).
 */
#include "memory/embed.h"

#include "core/config.h"
#include "core/fail.h"
#include "llm/http.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMBED_CACHE_PREFIX NR_PREFIX "mem:emb:"
/* The biggest answer taken from an embeddings API. */
#define EMBED_ANSWER_MAX (64u * 1024 * 1024)

struct embedder;

struct embed_ops {
    const char *name;
    bool cached; /* its calls cost something: keep a cache */
    int (*embed)(struct embedder *e, const char *const *texts, size_t n, float *out, char **cause);
};

struct embedder {
    const struct embed_ops *ops;
    int dim;
    char *model, *base_url, *api_key;
    int timeout_ms, cache_ttl_s;
    struct rlink *link; /* borrowed; NULL: no cache */
    struct llm_http *http;
    long hits, misses;
};

static int hash_embed(struct embedder *e, const char *const *texts, size_t n, float *out,
                      char **cause)
{
    (void)cause;
    for (size_t i = 0; i < n; i++)
        embed_hash(texts[i], e->dim, out + i * (size_t)e->dim);
    return 0;
}

/* The message of an API error body ({"error": {"message"}} or {"error": "..."}), or the start of
 * the body, made short. New string. */
static char *api_message(const char *body)
{
    json_t *j = json_loads(body, 0, NULL), *err = json_object_get(j, "error");
    const char *m = json_is_string(err) ? json_string_value(err)
                                        : json_string_value(json_object_get(err, "message"));
    char *out = xasprintf("%.300s", m != NULL ? m : body);

    json_decref(j);
    return out;
}

static void normalise(float *v, int dim)
{
    double sum = 0;

    for (int i = 0; i < dim; i++)
        sum += (double)v[i] * (double)v[i];
    if (sum > 0) {
        float inv = (float)(1.0 / sqrt(sum));

        for (int i = 0; i < dim; i++)
            v[i] *= inv;
    }
}

/* One request for n <= EMBED_BATCH_MAX texts. */
static int openai_batch(struct embedder *e, const char *const *texts, size_t n, float *out,
                        char **cause)
{
    char *url = xasprintf("%s/v1/embeddings", e->base_url), *auth = NULL, *text, *why = NULL;
    const char *headers[4] = {"Content-Type: application/json", "Accept: application/json"};
    json_t *input = json_array(), *body, *ans = NULL, *data;
    struct llm_http_result r = {0};
    json_error_t je;
    size_t i;
    json_t *d;
    int rc = -1;

    if (e->api_key[0] != '\0') {
        auth = xasprintf("Authorization: Bearer %s", e->api_key);
        headers[2] = auth;
    }
    for (i = 0; i < n; i++)
        json_array_append_new(input, json_string(texts[i]));
    body =
        json_pack("{s:s, s:o, s:s}", "model", e->model, "input", input, "encoding_format", "float");
    if (e->dim > 0)
        json_object_set_new(body, "dimensions", json_integer(e->dim));
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (llm_http_post(e->http, url, headers, text, e->timeout_ms, EMBED_ANSWER_MAX, &r, &why) ==
        -1) {
        *cause = xasprintf("embeddings: %s", why);
        free(why);
        goto done;
    }
    if (r.status < 200 || r.status > 299) {
        char *m = api_message(r.body);

        *cause = xasprintf("embeddings: POST %s answered HTTP %ld: %s", url, r.status, m);
        free(m);
        goto done;
    }
    ans = json_loads(r.body, 0, &je);
    data = json_object_get(ans, "data");
    if (!json_is_array(data) || json_array_size(data) != n) {
        *cause = xasprintf("embeddings: malformed answer from %s: expected \"data\" with %zu "
                           "embeddings%s%s",
                           url, n, ans == NULL ? "; not JSON: " : "", ans == NULL ? je.text : "");
        goto done;
    }
    json_array_foreach(data, i, d)
    {
        json_t *vec = json_object_get(d, "embedding"), *x;
        json_t *idx = json_object_get(d, "index");
        size_t at = json_is_integer(idx) ? (size_t)json_integer_value(idx) : i, k;

        if (!json_is_array(vec) || at >= n) {
            *cause = xasprintf("embeddings: malformed answer from %s: data[%zu] lacks an "
                               "\"embedding\" array or has a bad \"index\"",
                               url, i);
            goto done;
        }
        if (e->dim == 0 && json_array_size(vec) > 0 && json_array_size(vec) <= EMBED_DIM_MAX)
            e->dim = (int)json_array_size(vec);
        if (json_array_size(vec) != (size_t)e->dim) {
            *cause = xasprintf("embeddings: %s answered %zu-dimension vectors, expected %d "
                               "([memory] embedding_dim)",
                               url, json_array_size(vec), e->dim);
            goto done;
        }
        json_array_foreach(vec, k, x)
        {
            if (!json_is_number(x)) {
                *cause = xasprintf("embeddings: malformed answer from %s: data[%zu].embedding "
                                   "holds a non-number",
                                   url, i);
                goto done;
            }
            out[at * (size_t)e->dim + k] = (float)json_number_value(x);
        }
        normalise(out + at * (size_t)e->dim, e->dim);
    }
    rc = 0;
done:
    json_decref(ans);
    llm_http_result_clear(&r);
    if (auth != NULL) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    free(text);
    free(url);
    return rc;
}

static int openai_embed(struct embedder *e, const char *const *texts, size_t n, float *out,
                        char **cause)
{
    for (size_t i = 0; i < n; i += EMBED_BATCH_MAX) {
        size_t m = n - i < EMBED_BATCH_MAX ? n - i : EMBED_BATCH_MAX;

        if (openai_batch(e, texts + i, m, out + i * (size_t)e->dim, cause) == -1)
            return -1;
    }
    return 0;
}

static const struct embed_ops embed_table[] = {
    {"hash", false, hash_embed},
    {"openai", true, openai_embed},
};

void embed_config_from(struct embed_config *out, const struct config *c)
{
    out->kind = c->embedding_kind;
    out->dim = c->embedding_dim;
    out->model = c->embedding_model;
    out->base_url = c->embedding_base_url[0] != '\0' ? c->embedding_base_url : c->openai_base_url;
    out->api_key = c->openai_api_key;
    out->timeout_ms = c->llm_timeout_ms;
    out->cache_ttl_s = c->embedding_cache_ttl_s;
}

struct embedder *embedder_new(const struct embed_config *cfg, struct rlink *l, char **cause)
{
    const char *kind = cfg->kind != NULL && cfg->kind[0] != '\0' ? cfg->kind : "hash";
    const struct embed_ops *ops = NULL;
    struct embedder *e;

    for (size_t i = 0; i < sizeof embed_table / sizeof embed_table[0]; i++)
        if (strcmp(kind, embed_table[i].name) == 0)
            ops = &embed_table[i];
    if (ops == NULL) {
        *cause = xasprintf("unknown embedding kind \"%s\" (hash, openai)", kind);
        return NULL;
    }
    if (cfg->dim < 0 || cfg->dim > EMBED_DIM_MAX || (ops->embed == hash_embed && cfg->dim < 8)) {
        *cause = xasprintf("embedding dimension %d is out of range (%s: %d to %d)", cfg->dim, kind,
                           ops->embed == hash_embed ? 8 : 0, EMBED_DIM_MAX);
        return NULL;
    }
    e = xcalloc(1, sizeof *e);
    e->ops = ops;
    e->dim = cfg->dim;
    e->model = xstrdup(cfg->model != NULL ? cfg->model : "");
    e->base_url = xstrdup(cfg->base_url != NULL ? cfg->base_url : "");
    e->api_key = xstrdup(cfg->api_key != NULL ? cfg->api_key : "");
    e->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000;
    e->cache_ttl_s = cfg->cache_ttl_s;
    e->link = ops->cached && cfg->cache_ttl_s > 0 ? l : NULL;
    if (ops->embed == openai_embed) {
        size_t bn = strlen(e->base_url);

        while (bn > 0 && e->base_url[bn - 1] == '/')
            e->base_url[--bn] = '\0';
        e->http = llm_http_new();
    }
    return e;
}

void embedder_free(struct embedder *e)
{
    if (e == NULL)
        return;
    llm_http_free(e->http);
    memset(e->api_key, 0, strlen(e->api_key));
    free(e->api_key);
    free(e->model);
    free(e->base_url);
    free(e);
}

const char *embedder_kind(const struct embedder *e)
{
    return e->ops->name;
}

int embedder_dim(const struct embedder *e)
{
    return e->dim;
}

void embedder_cache_stats(const struct embedder *e, long *hits, long *misses)
{
    *hits = e->hits;
    *misses = e->misses;
}

/* The cache key of a text: SHA-256 of kind, model, dimension and the text. */
static void cache_key(const struct embedder *e, const char *text,
                      char key[sizeof EMBED_CACHE_PREFIX + 64])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char head[300];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int hn = snprintf(head, sizeof head, "%s\n%.200s\n%d\n", e->ops->name, e->model, e->dim);

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, head, (size_t)hn) != 1 ||
        EVP_DigestUpdate(ctx, text, strlen(text)) != 1 || EVP_DigestFinal_ex(ctx, md, &len) != 1)
        fail("SHA-256 is not available from libcrypto");
    EVP_MD_CTX_free(ctx);
    memcpy(key, EMBED_CACHE_PREFIX, sizeof EMBED_CACHE_PREFIX - 1);
    for (unsigned int i = 0; i < 32; i++)
        snprintf(key + sizeof EMBED_CACHE_PREFIX - 1 + 2 * i, 3, "%02x", md[i]);
}

/* Looks every text up (one MGET): found[i] set and out filled for the hits. A cache that
 * cannot be read is a miss, never an error. */
static void cache_get(struct embedder *e, const char *const *texts, size_t n, float *out,
                      bool *found)
{
    const char **argv = xcalloc(n + 1, sizeof *argv);
    char(*keys)[sizeof EMBED_CACHE_PREFIX + 64] = xcalloc(n, sizeof *keys);
    char *why = NULL;
    redisReply *r;

    argv[0] = "MGET";
    for (size_t i = 0; i < n; i++) {
        cache_key(e, texts[i], keys[i]);
        argv[i + 1] = keys[i];
    }
    r = rlink_command_argv(e->link, &why, (int)n + 1, argv, NULL);
    free(why);
    for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements && i < n; i++) {
        const redisReply *v = r->element[i];

        if (v->type == REDIS_REPLY_STRING && v->len == (size_t)e->dim * sizeof(float)) {
            memcpy(out + i * (size_t)e->dim, v->str, v->len);
            found[i] = true;
        }
    }
    if (r != NULL)
        freeReplyObject(r);
    free(keys);
    free(argv);
}

/* Stores the vectors of the texts not found (one round trip); a failure only costs a later
 * miss. */
static void cache_put(struct embedder *e, const char *const *texts, size_t n, const float *out,
                      const bool *found)
{
    const char **argv = xcalloc(2 * n + 2, sizeof *argv);
    size_t *lens = xcalloc(2 * n + 2, sizeof *lens);
    char(*keys)[sizeof EMBED_CACHE_PREFIX + 64] = xcalloc(n, sizeof *keys);
    char ttl[24], *why = NULL;
    int argc = 0;
    redisReply *r;

    snprintf(ttl, sizeof ttl, "%d", e->cache_ttl_s);
    argv[argc] = ttl;
    lens[argc++] = strlen(ttl);
    for (size_t i = 0; i < n; i++) {
        if (found[i])
            continue;
        cache_key(e, texts[i], keys[i]);
        argv[argc] = keys[i];
        lens[argc++] = strlen(keys[i]);
        argv[argc] = (const char *)(out + i * (size_t)e->dim);
        lens[argc++] = (size_t)e->dim * sizeof(float);
    }
    r = rlink_eval_bin(e->link, &lua_embed_cache_put, 0, argc, argv, lens, &why);
    if (r != NULL)
        freeReplyObject(r);
    free(why);
    free(keys);
    free(lens);
    free(argv);
}

int embedder_probe(struct embedder *e, char **cause)
{
    const char *probe = "dimension probe";
    float *tmp;
    int rc;

    if (e->dim > 0)
        return 0;
    tmp = xcalloc(EMBED_DIM_MAX, sizeof *tmp);
    rc = e->ops->embed(e, &probe, 1, tmp, cause);
    free(tmp);
    return rc;
}

int embed_texts(struct embedder *e, const char *const *texts, size_t n, float *out, char **cause)
{
    bool *found;
    const char **miss;
    size_t nmiss = 0;
    float *tmp;
    int rc;

    if (n == 0)
        return 0;
    if (e->dim == 0) {
        *cause = xasprintf("the embedding dimension is not known yet (embedder_probe)");
        return -1;
    }
    if (e->link == NULL)
        return e->ops->embed(e, texts, n, out, cause);
    found = xcalloc(n, sizeof *found);
    miss = xcalloc(n, sizeof *miss);
    cache_get(e, texts, n, out, found);
    for (size_t i = 0; i < n; i++)
        if (!found[i])
            miss[nmiss++] = texts[i];
    e->hits += (long)(n - nmiss);
    e->misses += (long)nmiss;
    rc = 0;
    if (nmiss > 0) {
        tmp = xcalloc(nmiss * (size_t)e->dim, sizeof *tmp);
        rc = e->ops->embed(e, miss, nmiss, tmp, cause);
        if (rc == 0) {
            for (size_t i = 0, k = 0; i < n; i++)
                if (!found[i])
                    memcpy(out + i * (size_t)e->dim, tmp + (k++) * (size_t)e->dim,
                           (size_t)e->dim * sizeof(float));
            cache_put(e, texts, n, out, found);
        }
        free(tmp);
    }
    free(miss);
    free(found);
    return rc;
}
