/*
 * provider.c - the table of provider kinds (sim, openai, anthropic), the constructor that
 * picks one, llm_complete()'s dispatch and what the kinds share: the JSON POST with its error
 * classification, the key-scrubbing error helper and the token estimates.
 *
 * Threads: the table is const. A provider is read-only after llm_provider_new() except for
 * its CURL handle, which is why a network provider belongs to one thread (see llm.h).
 */
#include "llm/llm_int.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "recovery/breaker.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_MAX_BYTES  (4u << 20)

static const struct llm_ops *const kinds[LLM_KIND_COUNT] = {
    [LLM_KIND_SIM] = &llm_sim_ops,
    [LLM_KIND_OPENAI] = &llm_openai_ops,
    [LLM_KIND_ANTHROPIC] = &llm_anthropic_ops,
};

int llm_kind_parse(const char *name, enum llm_kind *out)
{
    for (int i = 0; i < LLM_KIND_COUNT; i++)
        if (name != NULL && strcmp(kinds[i]->name, name) == 0) {
            *out = (enum llm_kind)i;
            return 0;
        }
    return -1;
}

void llm_provider_config_from(struct llm_provider_config *out, const struct config *c,
                              const char *kind)
{
    memset(out, 0, sizeof *out);
    out->kind = kind != NULL ? kind : c->llm_kind;
    if (strcmp(out->kind, "openai") == 0) {
        out->base_url = c->openai_base_url;
        out->api_key = c->openai_api_key;
    } else if (strcmp(out->kind, "anthropic") == 0) {
        out->base_url = c->anthropic_base_url;
        out->api_key = c->anthropic_api_key;
    }
    out->timeout_ms = c->llm_timeout_ms;
    out->sim_latency_ms[LLM_FAST] = c->sim_latency_fast_ms;
    out->sim_latency_ms[LLM_BALANCED] = c->sim_latency_balanced_ms;
    out->sim_latency_ms[LLM_PREMIUM] = c->sim_latency_premium_ms;
    out->sim_seed = (uint64_t)c->sim_seed;
    for (int t = 0; t < LLM_TIER_COUNT; t++)
        out->chain[t] = c->fallback_chain[t];
    out->config = c;
}

/* Whether cfg asks for a router: a chain on any tier. */
static bool wants_chain(const struct llm_provider_config *cfg)
{
    for (int t = 0; t < LLM_TIER_COUNT; t++)
        for (const char *s = cfg->chain[t]; s != NULL && *s != '\0'; s++)
            if (*s != ' ' && *s != '\t')
                return true;
    return false;
}

struct llm_provider *llm_provider_new(const struct llm_provider_config *cfg, char **cause)
{
    const char *name = cfg->kind != NULL ? cfg->kind : "sim";
    const struct llm_ops *ops;
    struct llm_provider *p;
    enum llm_kind k;
    const char *key = cfg->api_key;
    size_t n;

    if (wants_chain(cfg)) {
        p = xcalloc(1, sizeof *p);
        p->ops = &llm_chain_ops;
        p->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
        if (llm_chain_build(p, cfg, cause) == -1) {
            llm_provider_free(p);
            return NULL;
        }
        return p;
    }
    if (llm_kind_parse(name, &k) == -1) {
        *cause = xasprintf("unknown LLM provider \"%s\" (sim, openai or anthropic)", name);
        return NULL;
    }
    ops = kinds[k];
    if (ops->key_env != NULL && (key == NULL || *key == '\0'))
        key = getenv(ops->key_env);
    if (ops->key_env != NULL && (key == NULL || *key == '\0')) {
        *cause = xasprintf("the %s provider needs an API key: set %s", ops->name, ops->key_env);
        return NULL;
    }
    /* A key goes into an HTTP header: a control character (a stray newline from a file) would
     * break or inject headers. The message names the variable, never the key. */
    for (const char *c = key; ops->key_env != NULL && *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *cause =
                xasprintf("the %s API key (%s) holds a control character", ops->name, ops->key_env);
            return NULL;
        }
    }
    if (ops->default_base != NULL && cfg->base_url != NULL && strchr(cfg->base_url, '@') != NULL) {
        *cause = xasprintf("the %s base URL must not carry credentials (user:password@): the "
                           "key is set on its own",
                           ops->name);
        return NULL;
    }
    p = xcalloc(1, sizeof *p);
    p->ops = ops;
    if (ops->default_base != NULL) {
        const char *base =
            cfg->base_url != NULL && *cfg->base_url != '\0' ? cfg->base_url : ops->default_base;

        p->base_url = xstrdup(base);
        n = strlen(p->base_url);
        while (n > 0 && p->base_url[n - 1] == '/')
            p->base_url[--n] = '\0';
        p->api_key = xstrdup(key);
        p->http = llm_http_new();
    }
    if (ops->default_base != NULL) {
        char where[BREAKER_NAME_MAX];

        llm_breaker_where(p, where, sizeof where);
        p->breaker = breaker_for("llm", where);
    }
    p->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    memcpy(p->sim_latency_ms, cfg->sim_latency_ms, sizeof p->sim_latency_ms);
    p->sim_seed = cfg->sim_seed;
    p->max_response_bytes =
        cfg->max_response_bytes > 0 ? cfg->max_response_bytes : DEFAULT_MAX_BYTES;
    return p;
}

void llm_provider_free(struct llm_provider *p)
{
    if (p == NULL)
        return;
    for (int t = 0; t < LLM_TIER_COUNT; t++)
        llm_chain_free(p->chains[t]);
    llm_http_free(p->http);
    if (p->api_key != NULL) {
        /* Do not leave the key in freed memory. */
        volatile char *k = p->api_key;

        for (size_t i = 0; k[i] != '\0'; i++)
            k[i] = '\0';
        free(p->api_key);
    }
    free(p->base_url);
    free(p);
}

const char *llm_provider_kind(const struct llm_provider *p)
{
    return p->ops->name;
}

bool llm_provider_shareable(const struct llm_provider *p)
{
    return p->ops->shareable;
}

size_t llm_provider_models(const struct llm_provider *p, enum llm_tier t, const char **models,
                           size_t max)
{
    if ((int)t < 0 || t >= LLM_TIER_COUNT)
        t = LLM_FAST;
    if (p->chains[t] != NULL)
        return llm_chain_models(p->chains[t], models, max);
    if (max == 0)
        return 0;
    models[0] = "";
    return 1;
}

void llm_response_clear(struct llm_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->text);
    memset(resp, 0, sizeof *resp);
    resp->confidence = -1;
}

int llm_complete(struct llm_provider *p, const struct llm_request *req, struct llm_response *resp,
                 struct llm_error *err, char **cause)
{
    struct llm_error local;
    int64_t t0;
    int rc;

    if (err == NULL)
        err = &local;
    memset(err, 0, sizeof *err);
    err->retry_after_ms = -1;
    memset(resp, 0, sizeof *resp);
    resp->confidence = -1;
    if (req->model == NULL || *req->model == '\0' || req->nmessages == 0 || req->messages == NULL ||
        req->max_tokens <= 0 || req->temperature < 0 || req->temperature > 2)
        return llm_fail(p, err, LLM_ERR_FATAL, 0, -1, cause,
                        "bad request: it needs a model, at least one message, max_tokens > 0 and "
                        "a temperature from 0 to 2");
    for (size_t i = 0; i < req->nmessages; i++) {
        const char *r = req->messages[i].role;

        if (r == NULL || req->messages[i].content == NULL ||
            (strcmp(r, "system") != 0 && strcmp(r, "user") != 0 && strcmp(r, "assistant") != 0))
            return llm_fail(p, err, LLM_ERR_FATAL, 0, -1, cause,
                            "bad request: message %zu needs content and a role of system, user "
                            "or assistant",
                            i);
    }
    if (p->breaker != NULL && breaker_allow(p->breaker, cause) == -1) {
        err->kind = LLM_ERR_RETRYABLE;
        err->breaker_open = true;
        return -1;
    }
    t0 = clock_mono_ms();
    rc = p->ops->complete(p, req, resp, err, cause);
    if (rc == 0) {
        resp->latency_ms = clock_mono_ms() - t0;
        err->kind = LLM_ERR_NONE;
        if (resp->confidence < 0 && req->json)
            resp->confidence = llm_confidence_of(resp->text);
        if (resp->served_by[0] == '\0')
            snprintf(resp->served_by, sizeof resp->served_by, "%s:%s", p->ops->name, req->model);
    }
    if (p->breaker != NULL) {
        /* Only an outage counts against the service: a request it refused as wrong does not. */
        if (rc == 0 || err->kind != LLM_ERR_RETRYABLE)
            breaker_success(p->breaker);
        else
            breaker_failure(p->breaker, *cause);
    }
    return rc;
}

/* Replaces every occurrence of key in s (a malloc'd string) by "***". */
static char *scrub(char *s, const char *key)
{
    size_t kl;
    char *hit;

    if (key == NULL || (kl = strlen(key)) == 0)
        return s;
    while ((hit = strstr(s, key)) != NULL) {
        char *t = xasprintf("%.*s***%s", (int)(hit - s), s, hit + kl);

        free(s);
        s = t;
    }
    return s;
}

int llm_fail(const struct llm_provider *p, struct llm_error *err, enum llm_error_kind kind,
             int http_status, int64_t retry_after_ms, char **cause, const char *fmt, ...)
{
    va_list ap;
    char *msg;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    msg = xmalloc((size_t)(n > 0 ? n : 0) + 1);
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
    va_end(ap);
    msg = scrub(msg, p->api_key);
    if (err != NULL) {
        err->kind = kind;
        err->http_status = http_status;
        err->retry_after_ms = retry_after_ms;
    }
    *cause = xasprintf("%s: %s", p->ops->name, msg);
    free(msg);
    return -1;
}

bool llm_status_retryable(long status)
{
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

const char *llm_system_text(const struct llm_request *req)
{
    for (size_t i = 0; i < req->nmessages; i++)
        if (strcmp(req->messages[i].role, "system") == 0)
            return req->messages[i].content;
    return NULL;
}

double llm_confidence_of(const char *text)
{
    json_t *j, *c;
    double v = -1;

    if (text == NULL)
        return -1;
    j = json_loads(text, JSON_DECODE_ANY, NULL);
    c = json_is_object(j) ? json_object_get(j, "confidence") : NULL;
    if (json_is_number(c)) {
        v = json_number_value(c);
        if (v < 0 || v > 1)
            v = -1;
    }
    json_decref(j);
    return v;
}

/* The API's own words for an error body: OpenAI {"error": {"message"}}, Anthropic
 * {"type": "error", "error": {"type", "message"}}; else the start of the body. */
static char *api_message(const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    json_t *e = json_is_object(j) ? json_object_get(j, "error") : NULL;
    const char *m = json_string_value(json_object_get(e, "message"));
    const char *t = json_string_value(json_object_get(e, "type"));
    char *out;

    if (m != NULL)
        out = t != NULL ? xasprintf("%s (%s)", m, t) : xstrdup(m);
    else if (json_is_string(e))
        out = xstrdup(json_string_value(e));
    else
        out = xasprintf("%.200s", body);
    json_decref(j);
    for (char *c = out; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    return out;
}

int llm_post_json(struct llm_provider *p, const char *path, const char *const *headers,
                  json_t *body, int timeout_ms, json_t **answer, struct llm_error *err,
                  char **cause)
{
    struct llm_http_result r;
    json_error_t je;
    char *url, *text, *why = NULL;
    int rc;

    *answer = NULL;
    url = xasprintf("%s%s", p->base_url, path);
    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL)
        fail("out of memory encoding a request");
    rc = llm_http_post(p->http, url, headers, text, timeout_ms, p->max_response_bytes, &r, &why);
    free(text);
    free(url);
    if (rc == -1) {
        /* No answer (refused, reset, timed out) may go better next time; an answer too big
         * to take will not. */
        rc = llm_fail(p, err, r.too_big ? LLM_ERR_FATAL : LLM_ERR_RETRYABLE, 0, -1, cause, "%s",
                      why);
        free(why);
        return rc;
    }
    if (r.status < 200 || r.status > 299) {
        char *m = api_message(r.body);
        bool again = llm_status_retryable(r.status);

        rc = llm_fail(p, err, again ? LLM_ERR_RETRYABLE : LLM_ERR_FATAL, (int)r.status,
                      again ? r.retry_after_ms : -1, cause, "HTTP %ld%s: %s", r.status,
                      again ? " (retryable)" : "", m);
        free(m);
        llm_http_result_clear(&r);
        return rc;
    }
    *answer = json_loads(r.body, 0, &je);
    if (*answer == NULL || !json_is_object(*answer)) {
        rc = llm_fail(p, err, LLM_ERR_FATAL, (int)r.status, -1, cause,
                      "HTTP %ld with a malformed body (not a JSON object: %s at offset %d)",
                      r.status, *answer == NULL ? je.text : "another JSON value",
                      *answer == NULL ? je.position : 0);
        json_decref(*answer);
        *answer = NULL;
        llm_http_result_clear(&r);
        return rc;
    }
    llm_http_result_clear(&r);
    return 0;
}

/* Tokens as BPE tokenizers split English text: a word of up to 7 letters is one token,
 * longer ones a token per 6 letters, digits in groups of three, each punctuation mark one. On
 * news prose that comes to about 4 to 5 bytes a token, as tiktoken's cl100k does. */
int llm_estimate_tokens(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    int tokens = 0;

    if (text == NULL)
        return 0;
    while (*s != '\0') {
        size_t n = 0;

        if (isspace(*s)) {
            s++;
            continue;
        }
        if (isalpha(*s) || *s >= 0x80) {
            while (isalpha(s[n]) || s[n] >= 0x80 || s[n] == '\'')
                n++;
            /* Common words are one token; longer ones split into pieces of about 6. */
            tokens += n <= 7 ? 1 : (int)((n + 5) / 6);
        } else if (isdigit(*s)) {
            while (isdigit(s[n]))
                n++;
            tokens += (int)((n + 2) / 3);
        } else {
            n = 1;
            tokens++;
        }
        s += n;
    }
    return tokens;
}

int llm_estimate_prompt_tokens(const struct llm_request *req)
{
    int t = 3; /* the reply's priming */

    for (size_t i = 0; i < req->nmessages; i++)
        t += 4 + llm_estimate_tokens(req->messages[i].content);
    return t;
}

int llm_complete_retry(struct llm_provider *p, const struct llm_request *req,
                       struct llm_response *resp, struct llm_error *err, int max_attempts,
                       int64_t max_wait_ms, char **cause)
{
    int64_t waited = 0;

    for (int attempt = 1;; attempt++) {
        struct llm_error e = {LLM_ERR_NONE, 0, -1, false};
        char *why = NULL;
        int64_t wait;

        if (llm_complete(p, req, resp, &e, &why) == 0) {
            if (err != NULL)
                *err = e;
            return 0;
        }
        if (err != NULL)
            *err = e;
        /* An open breaker answers the same until its cool-down is over: no wait helps. */
        if (e.kind != LLM_ERR_RETRYABLE || e.breaker_open || attempt >= max_attempts) {
            *cause = why;
            return -1;
        }
        wait = e.retry_after_ms >= 0 ? e.retry_after_ms : (int64_t)250 << (attempt - 1);
        if (waited + wait > max_wait_ms) {
            *cause = xasprintf("%s (not retried: waiting %lld ms more would pass the %lld ms "
                               "allowed)",
                               why, (long long)wait, (long long)max_wait_ms);
            free(why);
            return -1;
        }
        log_info("llm: %s: attempt %d failed (%s); retrying in %lld ms", llm_provider_kind(p),
                 attempt, why, (long long)wait);
        /* The backoff the server asked for (not synchronisation), cut short when the caller
         * must stop: no further call then. */
        for (int64_t slept = 0; slept < wait || wait == 0; slept += 100) {
            if (p->go_on != NULL && !p->go_on(p->go_on_arg)) {
                *cause = xasprintf("%s (not retried: stopped)", why);
                free(why);
                return -1;
            }
            if (wait == 0)
                break;
            clock_sleep_ms(wait - slept < 100 ? wait - slept : 100, NULL);
        }
        free(why);
        waited += wait;
    }
}

void llm_provider_set_abort(struct llm_provider *p, bool (*go_on)(void *arg), void *arg)
{
    p->go_on = go_on;
    p->go_on_arg = arg;
}
