/*
 * anthropic.c - the Anthropic messages provider: POST {base}/v1/messages with the x-api-key
 * and anthropic-version headers. A provider of this kind belongs to one thread (its CURL
 * handle).
 *
 * Request:  {"model", "max_tokens", "messages": [{"role": "user"|"assistant", "content"}],
 *            "system" (the system message, if any), "temperature"}
 * Answer:   {"content": [{"type": "text", "text"}], "usage": {"input_tokens",
 *            "output_tokens"}}; 529 (overloaded) is retryable like 429 and 5xx.
 * The messages API has no JSON mode: asking for JSON adds an instruction to the system prompt.
 * Its temperature runs from 0 to 1, so a request's 1 to 2 is sent as 1.
 */
#include "llm/llm_int.h"

#include "core/fail.h"

#include <stdlib.h>
#include <string.h>

#define ANTHROPIC_VERSION "2023-06-01"
#define JSON_INSTRUCTION  "Answer with one JSON object and nothing else."

static json_t *anthropic_body(const struct llm_request *req)
{
    json_t *msgs = json_array();
    const char *sys = llm_system_text(req);
    json_t *b;

    for (size_t i = 0; i < req->nmessages; i++) {
        if (strcmp(req->messages[i].role, "system") == 0)
            continue;
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", req->messages[i].role,
                                              "content", req->messages[i].content));
    }
    b = json_pack("{s:s, s:i, s:o, s:f}", "model", req->model, "max_tokens", req->max_tokens,
                  "messages", msgs, "temperature", req->temperature > 1 ? 1.0 : req->temperature);
    if (b == NULL)
        fail("out of memory building a request");
    if (req->json) {
        char *s =
            sys != NULL ? xasprintf("%s\n\n%s", sys, JSON_INSTRUCTION) : xstrdup(JSON_INSTRUCTION);

        json_object_set_new(b, "system", json_string(s));
        free(s);
    } else if (sys != NULL) {
        json_object_set_new(b, "system", json_string(sys));
    }
    return b;
}

static int anthropic_complete(struct llm_provider *p, const struct llm_request *req,
                              struct llm_response *resp, struct llm_error *err, char **cause)
{
    char *key = xasprintf("x-api-key: %s", p->api_key);
    const char *headers[] = {key, "anthropic-version: " ANTHROPIC_VERSION,
                             "content-type: application/json", "accept: application/json", NULL};
    json_t *body, *ans = NULL, *first, *text, *usage, *it, *ot;
    int timeout = req->timeout_ms > 0 ? req->timeout_ms : p->timeout_ms;
    int rc;

    if (llm_system_text(req) != NULL && req->nmessages == 1) {
        free(key);
        return llm_fail(p, err, LLM_ERR_FATAL, 0, -1, cause,
                        "bad request: the messages API needs at least one user message");
    }
    body = anthropic_body(req);
    rc = llm_post_json(p, "/v1/messages", headers, body, timeout, &ans, err, cause);
    memset(key, 0, strlen(key));
    free(key);
    json_decref(body);
    if (rc == -1)
        return -1;
    first = json_array_get(json_object_get(ans, "content"), 0);
    text = json_object_get(first, "text");
    usage = json_object_get(ans, "usage");
    it = json_object_get(usage, "input_tokens");
    ot = json_object_get(usage, "output_tokens");
    if (!json_is_string(text) || !json_is_integer(it) || !json_is_integer(ot)) {
        json_decref(ans);
        return llm_fail(p, err, LLM_ERR_FATAL, 200, -1, cause,
                        "malformed answer: it lacks content[0].text (a string) or "
                        "usage.input_tokens / usage.output_tokens (integers)");
    }
    resp->text = xstrdup(json_string_value(text));
    resp->prompt_tokens = (int)json_integer_value(it);
    resp->completion_tokens = (int)json_integer_value(ot);
    json_decref(ans);
    return 0;
}

const struct llm_ops llm_anthropic_ops = {
    .name = "anthropic",
    .kind = LLM_KIND_ANTHROPIC,
    .shareable = false,
    .key_env = "ANTHROPIC_API_KEY",
    .default_base = "https://api.anthropic.com",
    .complete = anthropic_complete,
};
