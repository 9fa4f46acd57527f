/*
 * llm.h - the one interface every chat-completion provider implements (sim, openai,
 * anthropic), and the request and response the rest of the swarm uses to talk to a model.
 * The cost layer (src/cost/) wraps llm_complete() with budget reservation and usage
 * recording; the response cache and batching sit beside it here.
 *
 * Threads: a provider may be shared by threads only if its kind says so (sim is pure and
 * shareable; network providers hold a CURL easy handle, so each thread makes its own).
 * Errors: functions return 0 or -1 with *cause (never containing an API key); a failed call
 * also says in err->kind whether retrying may help and, for a 429, how long to wait.
 */
#ifndef NEWSROOM_LLM_H
#define NEWSROOM_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum llm_tier { LLM_FAST, LLM_BALANCED, LLM_PREMIUM, LLM_TIER_COUNT };

struct llm_message {
    const char *role; /* "system", "user" or "assistant" */
    const char *content;
};

struct llm_request {
    const char *model; /* the provider's model name */
    const struct llm_message *messages;
    size_t nmessages;
    double temperature;    /* 0 to 2 */
    int max_tokens;        /* completion limit, > 0 */
    bool json;             /* ask for one JSON object as the answer */
    const char *task_type; /* news_scout, content_analysis, script_draft, ... (sim uses it) */
    uint64_t seed;         /* sim: same seed and input, same answer */
    int timeout_ms;        /* 0: the provider's default */
    enum llm_tier tier;    /* which fallback chain serves it (chain.h); the cost layer sets it */
};

/* "kind:model" of the provider that answered, e.g. "openai:gpt-4o-mini". */
#define LLM_SERVED_MAX 128

struct llm_response {
    char *text; /* owned; free with llm_response_clear() */
    int prompt_tokens;
    int completion_tokens;
    double confidence; /* 0 to 1 when known (sim, or parsed from a JSON answer), else -1 */
    int64_t latency_ms;
    bool cached;                    /* served by the response cache: cost 0 */
    char served_by[LLM_SERVED_MAX]; /* who answered: "kind:model" ("" when cached) */
    bool fallback;                  /* a later member of a fallback chain answered (chain.h) */
};

enum llm_error_kind { LLM_ERR_NONE, LLM_ERR_RETRYABLE, LLM_ERR_FATAL };

struct llm_error {
    enum llm_error_kind kind;
    int http_status;        /* 0 when the request never got an answer */
    int64_t retry_after_ms; /* from Retry-After on a 429 / 503, else -1 */
    bool breaker_open;      /* no call was made: the provider's circuit breaker is open (every
                             * member's, for a chain); the kind is RETRYABLE (an outage) */
};

struct llm_provider;
struct config;

/* The kinds, in the order of the provider table in provider.c. */
enum llm_kind { LLM_KIND_SIM, LLM_KIND_OPENAI, LLM_KIND_ANTHROPIC, LLM_KIND_COUNT };

/* What llm_provider_new() needs. Strings are borrowed for the call only (the provider copies
 * them). Zeroed fields take the defaults named here. */
struct llm_provider_config {
    const char *kind;     /* "sim", "openai" or "anthropic"; NULL: "sim" */
    const char *base_url; /* NULL or "": https://api.openai.com, https://api.anthropic.com */
    const char *api_key;  /* NULL or "": $OPENAI_API_KEY / $ANTHROPIC_API_KEY; never shown */
    int timeout_ms;       /* whole request, when the request sets none; <= 0: 60000 */
    int sim_latency_ms[LLM_TIER_COUNT]; /* sim: simulated latency per tier; 0: none */
    uint64_t sim_seed;                  /* sim: mixed into every request's seed */
    size_t max_response_bytes;          /* a longer answer is refused; 0: 4 MiB */
    /* Fallback chains per tier ([fallback] keys, chain.h): "openai:gpt-4o-mini -> sim"; NULL or
     * "" for a tier: kind with the request's model. When any is set, llm_provider_new() makes
     * a router of kind "chain" whose members are built from config (may be NULL: then from
     * this structure's own fields, with each other kind's defaults). */
    const char *chain[LLM_TIER_COUNT];
    const struct config *config;
};

/* Fills *out for kind from the [providers] keys of c (base URL, key, timeout, sim latency and
 * seed) and the [fallback] chains. The strings are borrowed from c: valid until
 * config_free(). */
void llm_provider_config_from(struct llm_provider_config *out, const struct config *c,
                              const char *kind);

/* A provider of cfg->kind, or the router of cfg->chain when one is set (chain.h). Returns NULL
 * with *cause for an unknown kind or a network kind without an API key (the cause names the
 * variable, never a value). Free with llm_provider_free(). A sim provider may be shared by
 * threads; a network provider (and a router) holds CURL easy handles and belongs to the thread
 * that uses it. Every network provider, and every member of a configured chain, has its
 * circuit breaker (recovery/breaker.h, named "llm:KIND@BASE_URL"): a call while it is open
 * fails at once as RETRYABLE with err->breaker_open; a retryable failure counts against it. */
struct llm_provider *llm_provider_new(const struct llm_provider_config *cfg, char **cause);
/* Whether threads may share p (sim: yes; network kinds: no). */
bool llm_provider_shareable(const struct llm_provider *p);
/* "sim", "openai", "anthropic" -> 0 and *out, or -1 for anything else. */
int llm_kind_parse(const char *name, enum llm_kind *out);

/* Tokenizer estimates (a short word one token, long words a token per 6 letters, digits in
 * groups of three, punctuation on its own: about 4 to 5 bytes a token on English prose), as
 * sim counts them and as a budget reservation can estimate a prompt before sending it. */
int llm_estimate_tokens(const char *text);
/* The prompt's tokens: every message's content plus a few tokens of framing per message. */
int llm_estimate_prompt_tokens(const struct llm_request *req);

/* Sends req; fills *resp (owned by the caller: llm_response_clear) or returns -1 with *cause
 * and *err (err may be NULL). */
int llm_complete(struct llm_provider *p, const struct llm_request *req, struct llm_response *resp,
                 struct llm_error *err, char **cause);
void llm_response_clear(struct llm_response *resp);
/* llm_complete() that tries again on a retryable error, up to max_attempts calls in all,
 * waiting what the server's Retry-After asks (else 250 ms, doubling) between them, and never
 * more than max_wait_ms in all: when the next wait would pass that, it gives up at once with
 * the last error. The waits are the backoff itself. */
int llm_complete_retry(struct llm_provider *p, const struct llm_request *req,
                       struct llm_response *resp, struct llm_error *err, int max_attempts,
                       int64_t max_wait_ms, char **cause);
/* A check llm_complete_retry() makes before every retry and through its wait (every 100 ms at
 * most): once go_on(arg) returns false the call gives up with the last error, saying it was
 * stopped, so a halt or a shutdown never waits out a Retry-After and never starts another
 * call. go_on runs on the calling thread. NULL removes it. */
void llm_provider_set_abort(struct llm_provider *p, bool (*go_on)(void *arg), void *arg);
/* "sim", "openai", "anthropic", or "chain" for a router. */
const char *llm_provider_kind(const struct llm_provider *p);
/* The models a call of tier t may be answered by, in chain order, into models[0..max) (""
 * for "the request's model"); a plain provider has one, "". Returns how many (borrowed from
 * p). The cost layer reserves the dearest. */
size_t llm_provider_models(const struct llm_provider *p, enum llm_tier t, const char **models,
                           size_t max);
/* Sim completions made by every sim provider of this process since it started (the paid calls
 * a test compares the usage records with). Any thread. */
long long llm_sim_calls(void);
void llm_provider_free(struct llm_provider *p);

#endif
