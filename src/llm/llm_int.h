/*
 * llm_int.h - what the provider kinds share inside src/llm/ and nobody else sees: the
 * provider object, the table entry each kind fills, and the error helper that keeps API keys
 * out of every cause. Threads: as llm.h says, a network provider belongs to one thread.
 */
#ifndef NEWSROOM_LLM_INT_H
#define NEWSROOM_LLM_INT_H

#include "llm/http.h"
#include "llm/llm.h"

#include <jansson.h>

struct breaker;

struct llm_ops {
    const char *name;
    enum llm_kind kind;
    bool shareable;           /* pure, no handle: threads may share it */
    const char *key_env;      /* the variable the key comes from, NULL when none is needed */
    const char *default_base; /* NULL when the kind has no network side */
    int (*complete)(struct llm_provider *p, const struct llm_request *req,
                    struct llm_response *resp, struct llm_error *err, char **cause);
};

struct llm_provider {
    const struct llm_ops *ops;
    char *base_url; /* without a trailing '/' */
    char *api_key;  /* secret: only ever written into a request header */
    int timeout_ms;
    int sim_latency_ms[LLM_TIER_COUNT];
    uint64_t sim_seed;
    size_t max_response_bytes;
    struct llm_http *http; /* network kinds only */
    bool (*go_on)(void *); /* llm_provider_set_abort(); NULL: always */
    void *go_on_arg;
    struct breaker *breaker;                  /* NULL: none (sim outside a chain) */
    struct llm_chain *chains[LLM_TIER_COUNT]; /* a router (chain.c) only */
};

/* A fallback chain: its members in order (chain.c). */
struct llm_chain;

extern const struct llm_ops llm_sim_ops;
extern const struct llm_ops llm_openai_ops;
extern const struct llm_ops llm_anthropic_ops;
extern const struct llm_ops llm_chain_ops;

/* chain.c: the router's members, made from cfg->chain (llm_provider_new() calls it when one is
 * set): fills p->chains for every tier. Returns 0, or -1 with *cause. */
int llm_chain_build(struct llm_provider *p, const struct llm_provider_config *cfg, char **cause);
void llm_chain_free(struct llm_chain *ch);
size_t llm_chain_models(const struct llm_chain *ch, const char **models, size_t max);
/* The name of a network provider's breaker, "KIND@BASE_URL". */
void llm_breaker_where(const struct llm_provider *p, char *out, size_t size);

/* Sets *err (may be NULL) and *cause = the formatted message with every occurrence of the
 * provider's API key replaced by "***". Returns -1, for `return llm_fail(...)`. */
int llm_fail(const struct llm_provider *p, struct llm_error *err, enum llm_error_kind kind,
             int http_status, int64_t retry_after_ms, char **cause, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Whether an HTTP status may succeed on a retry: 408, 429 and every 5xx (529 included). */
bool llm_status_retryable(long status);

/* The system message's content (NULL when there is none). Borrowed from req. */
const char *llm_system_text(const struct llm_request *req);

/* For a JSON answer, its "confidence" member when it is a number in [0, 1]; else -1. */
double llm_confidence_of(const char *text);

/* Does one POST of body (JSON) with headers, and turns the outcome into either 0 with the
 * parsed JSON answer in *answer (a new reference) or -1 with *cause and *err classified:
 * no answer / timeout -> RETRYABLE, an answer over max_response_bytes -> FATAL, 408/429/5xx ->
 * RETRYABLE with Retry-After, other non-2xx
 * -> FATAL with the API's own error message, a 2xx body that is not JSON -> FATAL. */
int llm_post_json(struct llm_provider *p, const char *path, const char *const *headers,
                  json_t *body, int timeout_ms, json_t **answer, struct llm_error *err,
                  char **cause);

#endif
