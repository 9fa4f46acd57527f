/*
 * openai.c - the OpenAI-compatible chat completions provider: POST {base}/v1/chat/completions
 * with a Bearer key, as OpenAI, Ollama, vLLM and the llama.cpp server speak it. A provider
 * of this kind belongs to one thread (its CURL handle).
 *
 * Request:  {"model", "messages": [{"role", "content"}], "temperature", "max_tokens",
 *            "response_format": {"type": "json_object"} when JSON is asked for}
 * Answer:   {"choices": [{"message": {"content"}}], "usage": {"prompt_tokens",
 *            "completion_tokens"}}
 */
#include "llm/llm_int.h"

#include "core/fail.h"

#include <stdlib.h>
#include <string.h>

static json_t *openai_body(const struct llm_request *req)
{
    json_t *msgs = json_array();
    json_t *b;

    for (size_t i = 0; i < req->nmessages; i++)
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", req->messages[i].role,
                                              "content", req->messages[i].content));
    b = json_pack("{s:s, s:o, s:f, s:i}", "model", req->model, "messages", msgs, "temperature",
                  req->temperature, "max_tokens", req->max_tokens);
    if (b == NULL)
        fail("out of memory building a request");
    if (req->json)
        json_object_set_new(b, "response_format", json_pack("{s:s}", "type", "json_object"));
    return b;
}

static int openai_complete(struct llm_provider *p, const struct llm_request *req,
                           struct llm_response *resp, struct llm_error *err, char **cause)
{
    char *auth = xasprintf("Authorization: Bearer %s", p->api_key);
    const char *headers[] = {auth, "Content-Type: application/json", "Accept: application/json",
                             NULL};
    json_t *body = openai_body(req), *ans = NULL, *content, *usage, *pt, *ct;
    int timeout = req->timeout_ms > 0 ? req->timeout_ms : p->timeout_ms;
    int rc;

    rc = llm_post_json(p, "/v1/chat/completions", headers, body, timeout, &ans, err, cause);
    memset(auth, 0, strlen(auth));
    free(auth);
    json_decref(body);
    if (rc == -1)
        return -1;
    content = json_object_get(
        json_object_get(json_array_get(json_object_get(ans, "choices"), 0), "message"), "content");
    usage = json_object_get(ans, "usage");
    pt = json_object_get(usage, "prompt_tokens");
    ct = json_object_get(usage, "completion_tokens");
    if (!json_is_string(content) || !json_is_integer(pt) || !json_is_integer(ct)) {
        json_decref(ans);
        return llm_fail(p, err, LLM_ERR_FATAL, 200, -1, cause,
                        "malformed answer: it lacks choices[0].message.content (a string) or "
                        "usage.prompt_tokens / usage.completion_tokens (integers)");
    }
    resp->text = xstrdup(json_string_value(content));
    resp->prompt_tokens = (int)json_integer_value(pt);
    resp->completion_tokens = (int)json_integer_value(ct);
    json_decref(ans);
    return 0;
}

const struct llm_ops llm_openai_ops = {
    .name = "openai",
    .kind = LLM_KIND_OPENAI,
    .shareable = false,
    .key_env = "OPENAI_API_KEY",
    .default_base = "https://api.openai.com",
    .complete = openai_complete,
};
