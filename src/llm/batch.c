/*
 * batch.c - batched screening calls; see batch.h. No state: everything lives in the caller's
 * arguments, so it runs on whichever thread owns the provider and cache it is given.
 */
#include "llm/batch.h"

#include "llm/cache.h"

#include "core/fail.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void llm_batch_split(int total, const int *weights, size_t n, int *out)
{
    long long wsum = 0;
    int given = 0;
    long long rem[LLM_BATCH_MAX];
    bool took[LLM_BATCH_MAX] = {false};

    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        wsum += weights[i] > 0 ? weights[i] : 0;
    for (size_t i = 0; i < n; i++) {
        long long w = wsum > 0 ? (weights[i] > 0 ? weights[i] : 0) : 1;
        long long ws = wsum > 0 ? wsum : (long long)n;
        long long num = (long long)total * w;

        out[i] = (int)(num / ws);
        rem[i % LLM_BATCH_MAX] = num % ws;
        given += out[i];
    }
    /* The largest remainders (earliest first on ties) get the units left over. */
    while (given < total) {
        size_t best = n;

        for (size_t i = 0; i < n && i < LLM_BATCH_MAX; i++)
            if (!took[i] && (best == n || rem[i] > rem[best]))
                best = i;
        if (best == n) {
            memset(took, 0, sizeof took);
            continue;
        }
        took[best] = true;
        out[best]++;
        given++;
    }
}

char *llm_batch_prompt(const struct llm_batch_item *items, size_t n)
{
    size_t cap = 64, len = 0;
    char *buf = xmalloc(cap);

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char *part = xasprintf("%s%zu\n%s\n", LLM_BATCH_MARK, i + 1, items[i].text);
        size_t pl = strlen(part);

        if (len + pl + 1 > cap) {
            cap = (len + pl + 1) * 2;
            buf = xrealloc(buf, cap);
        }
        memcpy(buf + len, part, pl + 1);
        len += pl;
        free(part);
    }
    return buf;
}

void llm_batch_verdict_clear(struct llm_batch_verdict *v)
{
    free(v->json);
    memset(v, 0, sizeof *v);
    v->confidence = -1;
}

int llm_batch_parse(const char *answer, size_t n, struct llm_batch_verdict *verdicts, char **cause)
{
    json_error_t je;
    json_t *j, *arr, *v;
    size_t i;
    int got = 0;

    for (i = 0; i < n; i++) {
        memset(&verdicts[i], 0, sizeof verdicts[i]);
        verdicts[i].confidence = -1;
    }
    j = json_loads(answer != NULL ? answer : "", 0, &je);
    if (j == NULL) {
        *cause = xasprintf("batch answer is not JSON: %s", je.text);
        return -1;
    }
    arr = json_is_array(j) ? j : json_object_get(j, "verdicts");
    if (!json_is_array(arr)) {
        json_decref(j);
        *cause = xstrdup("batch answer has no \"verdicts\" array");
        return -1;
    }
    json_array_foreach(arr, i, v)
    {
        json_t *item = json_object_get(v, "item"), *c;
        json_int_t k;

        if (!json_is_object(v) || !json_is_integer(item))
            continue;
        k = json_integer_value(item);
        if (k < 1 || (size_t)k > n || verdicts[k - 1].json != NULL)
            continue;
        verdicts[k - 1].json = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(4));
        c = json_object_get(v, "confidence");
        if (json_is_number(c) && json_number_value(c) >= 0 && json_number_value(c) <= 1)
            verdicts[k - 1].confidence = json_number_value(c);
        got++;
    }
    json_decref(j);
    return got;
}

#define BATCH_SYSTEM                                                                               \
    "You screen news items for a newsroom. Each item follows a line \"" LLM_BATCH_MARK "N\". "     \
    "Judge every item on its own and answer with one JSON object {\"verdicts\": [...]} holding "   \
    "one object per item with \"item\": N, your verdict fields for the task \"%s\" and "           \
    "\"confidence\" from 0 to 1."

int llm_batch_screen(struct llm_provider *p, struct llm_cache *cache,
                     const struct llm_request *tmpl, const char *task_type,
                     const struct llm_batch_item *items, size_t n,
                     struct llm_batch_verdict *verdicts, struct llm_response *total,
                     struct llm_error *err, char **cause)
{
    struct llm_request req = *tmpl;
    struct llm_message msgs[2];
    char *sys, *user;
    int weights[LLM_BATCH_MAX], pshare[LLM_BATCH_MAX], cshare[LLM_BATCH_MAX];
    int got, rc;

    if (n == 0 || n > LLM_BATCH_MAX) {
        *cause = xasprintf("a batch holds 1 to %d items, not %zu", LLM_BATCH_MAX, n);
        if (err != NULL) {
            err->kind = LLM_ERR_FATAL;
            err->http_status = 0;
            err->retry_after_ms = -1;
        }
        return -1;
    }
    sys = xasprintf(BATCH_SYSTEM, task_type);
    user = llm_batch_prompt(items, n);
    msgs[0] = (struct llm_message){"system", sys};
    msgs[1] = (struct llm_message){"user", user};
    req.messages = msgs;
    req.nmessages = 2;
    req.json = true;
    req.task_type = task_type;
    /* About 120 tokens a verdict, as a single screening answer takes. */
    req.max_tokens = 64 + 160 * (int)n;
    rc = llm_complete_cached(cache, p, &req, total, err, 1, 0, cause);
    free(sys);
    free(user);
    if (rc == -1)
        return -1;
    got = llm_batch_parse(total->text, n, verdicts, cause);
    if (got == -1) {
        if (err != NULL) {
            err->kind = LLM_ERR_FATAL;
            err->http_status = 0;
            err->retry_after_ms = -1;
        }
        llm_response_clear(total);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        weights[i] = llm_estimate_tokens(items[i].text) + 4;
    llm_batch_split(total->prompt_tokens, weights, n, pshare);
    /* Completion tokens follow each verdict's length; items without one get an equal
     * share's weight of nothing. */
    for (size_t i = 0; i < n; i++)
        weights[i] = verdicts[i].json != NULL ? llm_estimate_tokens(verdicts[i].json) : 0;
    llm_batch_split(total->completion_tokens, weights, n, cshare);
    for (size_t i = 0; i < n; i++) {
        verdicts[i].prompt_tokens = pshare[i];
        verdicts[i].completion_tokens = cshare[i];
    }
    return got;
}
