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
    const char *model;     /* the provider's model name */
    const struct llm_message *messages;
    size_t nmessages;
    double temperature;    /* 0 to 2 */
    int max_tokens;        /* completion limit, > 0 */
    bool json;             /* ask for one JSON object as the answer */
    const char *task_type; /* news_scout, content_analysis, script_draft, ... (sim uses it) */
    uint64_t seed;         /* sim: same seed and input, same answer */
    int timeout_ms;        /* 0: the provider's default */
};

struct llm_response {
    char *text; /* owned; free with llm_response_clear() */
    int prompt_tokens;
    int completion_tokens;
    double confidence; /* 0 to 1 when known (sim, or parsed from a JSON answer), else -1 */
    int64_t latency_ms;
    bool cached;       /* served by the response cache: cost 0 */
};

enum llm_error_kind { LLM_ERR_NONE, LLM_ERR_RETRYABLE, LLM_ERR_FATAL };

struct llm_error {
    enum llm_error_kind kind;
    int http_status;         /* 0 when the request never got an answer */
    int64_t retry_after_ms;  /* from Retry-After on a 429 / 503, else -1 */
};

struct llm_provider;

/* Sends req; fills *resp (owned by the caller: llm_response_clear) or returns -1 with *cause
 * and *err (err may be NULL). */
int llm_complete(struct llm_provider *p, const struct llm_request *req, struct llm_response *resp,
                 struct llm_error *err, char **cause);
void llm_response_clear(struct llm_response *resp);
/* "sim", "openai" or "anthropic". */
const char *llm_provider_kind(const struct llm_provider *p);
void llm_provider_free(struct llm_provider *p);

#endif
