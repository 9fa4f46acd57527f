/*
 * chain.c - fallback chains (see chain.h): parsing a chain from the configuration, the router
 * provider (kind "chain") whose members are plain providers each with its circuit breaker,
 * and the walk down a chain. Threads: parsing is pure; a router belongs to one thread.
 */
#include "llm/chain.h"

#include "core/fail.h"
#include "llm/llm_int.h"
#include "recovery/breaker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chain_member {
    struct llm_provider *p;         /* owned */
    char model[LLM_CHAIN_NAME_MAX]; /* "" : the request's */
};

struct llm_chain {
    struct chain_member m[LLM_CHAIN_MAX];
    size_t n;
};

static const char *const tier_words[LLM_TIER_COUNT] = {"fast", "balanced", "premium"};

/* One member "kind[:model]" of len bytes at s, blanks around it already cut. */
static int parse_member(const char *s, size_t len, struct llm_chain_member_spec *out, char **why)
{
    const char *colon = memchr(s, ':', len);
    size_t klen = colon != NULL ? (size_t)(colon - s) : len;
    enum llm_kind k;
    char kind[16];

    if (len == 0) {
        *why = xstrdup("an empty member (members are \"kind\" or \"kind:model\" separated by "
                       "\"->\")");
        return -1;
    }
    if (klen >= sizeof kind) {
        *why = xasprintf("\"%.*s\": unknown provider kind (sim, openai or anthropic)", (int)len, s);
        return -1;
    }
    memcpy(kind, s, klen);
    kind[klen] = '\0';
    if (llm_kind_parse(kind, &k) == -1) {
        *why = xasprintf("\"%.*s\": unknown provider kind \"%s\" (sim, openai or anthropic)",
                         (int)len, s, kind);
        return -1;
    }
    memcpy(out->kind, kind, klen + 1);
    out->model[0] = '\0';
    if (colon != NULL) {
        size_t mlen = len - klen - 1;

        if (mlen == 0 || mlen >= sizeof out->model) {
            *why = xasprintf("\"%.*s\": a model name has 1 to %zu bytes", (int)len, s,
                             sizeof out->model - 1);
            return -1;
        }
        for (size_t i = 0; i < mlen; i++)
            if ((unsigned char)colon[1 + i] <= ' ' || colon[1 + i] == 0x7f) {
                *why = xasprintf("\"%.*s\": a model name holds no blank or control character",
                                 (int)len, s);
                return -1;
            }
        memcpy(out->model, colon + 1, mlen);
        out->model[mlen] = '\0';
    }
    return 0;
}

int llm_chain_parse(const char *spec, struct llm_chain_member_spec *out, size_t *n, char **why)
{
    const char *p = spec != NULL ? spec : "";

    *n = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 0;
    for (;;) {
        const char *arrow = strstr(p, "->");
        const char *end = arrow != NULL ? arrow : p + strlen(p), *s = p;

        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (*n == LLM_CHAIN_MAX) {
            *why = xasprintf("a chain has at most %d members", LLM_CHAIN_MAX);
            return -1;
        }
        if (parse_member(s, (size_t)(end - s), &out[*n], why) == -1)
            return -1;
        (*n)++;
        if (arrow == NULL)
            return 0;
        p = arrow + 2;
    }
}

int llm_chain_spec_check(const char *spec, char **why)
{
    struct llm_chain_member_spec m[LLM_CHAIN_MAX];
    size_t n;

    return llm_chain_parse(spec, m, &n, why);
}

void llm_breaker_where(const struct llm_provider *p, char *out, size_t size)
{
    if (p->base_url != NULL)
        snprintf(out, size, "%s@%s", p->ops->name, p->base_url);
    else
        snprintf(out, size, "%s", p->ops->name);
}

void llm_chain_free(struct llm_chain *ch)
{
    if (ch == NULL)
        return;
    for (size_t i = 0; i < ch->n; i++)
        llm_provider_free(ch->m[i].p);
    free(ch);
}

/* A member's provider: kind's settings from the configuration when there is one, else cfg's
 * own fields for cfg's kind and the defaults for another. */
static struct llm_provider *member_new(const struct llm_provider_config *cfg, const char *kind,
                                       char **cause)
{
    struct llm_provider_config mc;

    if (cfg->config != NULL) {
        llm_provider_config_from(&mc, cfg->config, kind);
    } else {
        mc = *cfg;
        mc.kind = kind;
        if (cfg->kind == NULL || strcmp(cfg->kind, kind) != 0)
            mc.base_url = mc.api_key = NULL;
    }
    memset(mc.chain, 0, sizeof mc.chain);
    return llm_provider_new(&mc, cause);
}

int llm_chain_build(struct llm_provider *p, const struct llm_provider_config *cfg, char **cause)
{
    for (int t = 0; t < LLM_TIER_COUNT; t++) {
        struct llm_chain_member_spec spec[LLM_CHAIN_MAX];
        struct llm_chain *ch = xcalloc(1, sizeof *ch);
        size_t n;
        char *why = NULL;

        p->chains[t] = ch;
        if (llm_chain_parse(cfg->chain[t], spec, &n, &why) == -1) {
            *cause = xasprintf("[fallback] %s: %s", tier_words[t], why);
            free(why);
            return -1;
        }
        if (n == 0) {
            /* No chain for this tier: the configured kind alone, as before chains. */
            snprintf(spec[0].kind, sizeof spec[0].kind, "%s",
                     cfg->kind != NULL ? cfg->kind : "sim");
            spec[0].model[0] = '\0';
            n = 1;
        }
        for (size_t i = 0; i < n; i++) {
            struct chain_member *m = &ch->m[i];
            char where[BREAKER_NAME_MAX];

            if ((m->p = member_new(cfg, spec[i].kind, &why)) == NULL) {
                *cause = xasprintf("[fallback] %s, member %zu (%s): %s", tier_words[t], i + 1,
                                   spec[i].kind, why);
                free(why);
                return -1;
            }
            ch->n++;
            memcpy(m->model, spec[i].model, sizeof m->model);
            /* Every member of a chain has a breaker: the sim's never opens (it never fails),
             * and a chain of sims is how a benchmark measures what breakers cost. */
            if (m->p->breaker == NULL) {
                llm_breaker_where(m->p, where, sizeof where);
                m->p->breaker = breaker_for("llm", where);
            }
        }
    }
    return 0;
}

size_t llm_chain_models(const struct llm_chain *ch, const char **models, size_t max)
{
    size_t i;

    for (i = 0; i < ch->n && i < max; i++)
        models[i] = ch->m[i].model;
    return i;
}

/* Appends "; what" to *all (a new string or NULL). */
static void add_reason(char **all, const char *what)
{
    char *s = *all != NULL ? xasprintf("%s; %s", *all, what) : xstrdup(what);

    free(*all);
    *all = s;
}

static int chain_complete(struct llm_provider *p, const struct llm_request *req,
                          struct llm_response *resp, struct llm_error *err, char **cause)
{
    int t = (int)req->tier >= 0 && req->tier < LLM_TIER_COUNT ? (int)req->tier : LLM_FAST;
    const struct llm_chain *ch = p->chains[t];
    char *reasons = NULL;
    bool all_open = true;
    int64_t retry_after = -1;
    int rc;

    for (size_t i = 0; i < ch->n; i++) {
        const struct chain_member *m = &ch->m[i];
        struct llm_request r = *req;
        struct llm_error e;
        char *why = NULL;

        if (m->model[0] != '\0')
            r.model = m->model;
        if (llm_complete(m->p, &r, resp, &e, &why) == 0) {
            resp->fallback = i > 0;
            free(reasons);
            return 0;
        }
        if (e.kind == LLM_ERR_FATAL) {
            /* The request itself is wrong, or the answer was: another provider would not
             * mend it. */
            rc = llm_fail(p, err, LLM_ERR_FATAL, e.http_status, -1, cause, "%s", why);
            free(why);
            free(reasons);
            return rc;
        }
        all_open = all_open && e.breaker_open;
        if (e.retry_after_ms >= 0 && (retry_after < 0 || e.retry_after_ms < retry_after))
            retry_after = e.retry_after_ms;
        add_reason(&reasons, why);
        free(why);
    }
    rc = llm_fail(p, err, LLM_ERR_RETRYABLE, 0, retry_after, cause,
                  "every provider of the %s chain is unavailable: %s", tier_words[t],
                  reasons != NULL ? reasons : "none");
    if (err != NULL)
        err->breaker_open = all_open;
    free(reasons);
    return rc;
}

const struct llm_ops llm_chain_ops = {
    .name = "chain",
    .kind = LLM_KIND_COUNT, /* not a kind one can ask for: made from [fallback] */
    .shareable = false,
    .key_env = NULL,
    .default_base = NULL,
    .complete = chain_complete,
};
