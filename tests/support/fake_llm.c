/*
 * fake_llm.c - see fake_llm.h. The request shapes checked here follow the public API
 * references: OpenAI POST /v1/chat/completions (Authorization: Bearer, JSON body with model,
 * messages [{role, content}], optional temperature 0-2, max_tokens, response_format
 * {type}); Anthropic POST /v1/messages (x-api-key, anthropic-version, content-type; body with
 * model, max_tokens, messages of user/assistant turns starting with user, optional system
 * and temperature 0-1). Threads: one per connection (libmicrohttpd); state under f->mu.
 */
#include "fake_llm.h"

#include "fake_http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct fake_llm {
    enum fake_llm_api api;
    char key[256];
    char url[64];
    struct fake_http *http;
    pthread_mutex_t mu;
    char *violation;
    char *last_body;
    unsigned fail_status; /* 0: answer normally */
    int succeeded, failed;
    char *(*answer)(void *ctx, json_t *body);
    void *answer_ctx;
    char **prompts; /* every chat request's messages, joined */
    size_t nprompts;
};

void fake_llm_fail(struct fake_llm *f, unsigned status)
{
    pthread_mutex_lock(&f->mu);
    f->fail_status = status;
    pthread_mutex_unlock(&f->mu);
}

static int counter(struct fake_llm *f, const int *c)
{
    int n;

    pthread_mutex_lock(&f->mu);
    n = *c;
    pthread_mutex_unlock(&f->mu);
    return n;
}

int fake_llm_succeeded(struct fake_llm *f)
{
    return counter(f, &f->succeeded);
}

int fake_llm_failed(struct fake_llm *f)
{
    return counter(f, &f->failed);
}

void fake_llm_set_answer(struct fake_llm *f, char *(*answer)(void *ctx, json_t *body), void *ctx)
{
    pthread_mutex_lock(&f->mu);
    f->answer = answer;
    f->answer_ctx = ctx;
    pthread_mutex_unlock(&f->mu);
}

static void set_str(struct fake_llm *f, char **slot, const char *s)
{
    pthread_mutex_lock(&f->mu);
    free(*slot);
    *slot = s != NULL ? strdup(s) : NULL;
    pthread_mutex_unlock(&f->mu);
}

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned status, const char *body,
                                 const char *retry_after)
{
    const char *const headers[] = {"Content-Type", "application/json", "Retry-After", retry_after,
                                   NULL};

    return fake_http_reply(c, status, headers, body, strlen(body));
}

/* The API's error body for status with message. */
static enum MHD_Result send_error(struct fake_llm *f, struct MHD_Connection *c, unsigned status,
                                  const char *type, const char *message, const char *retry_after)
{
    json_t *j = f->api == FAKE_OPENAI ? json_pack("{s:{s:s, s:s, s:n, s:n}}", "error", "message",
                                                  message, "type", type, "param", "code")
                                      : json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
                                                  "type", type, "message", message);
    char *s = json_dumps(j, JSON_COMPACT);
    enum MHD_Result rc = send_body(c, status, s, retry_after);

    free(s);
    json_decref(j);
    return rc;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = malloc(512);

    va_start(ap, f);
    vsnprintf(s, 512, f, ap);
    va_end(ap);
    return s;
}

static bool header_is(struct MHD_Connection *c, const char *name, const char *want)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

    return v != NULL && strcmp(v, want) == 0;
}

static bool header_starts(struct MHD_Connection *c, const char *name, const char *want)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

    return v != NULL && strncasecmp(v, want, strlen(want)) == 0;
}

/* Checks messages: a non-empty array of {role, content: string}. */
static char *check_messages(json_t *msgs, bool anthropic)
{
    size_t i;
    json_t *m;

    if (!json_is_array(msgs) || json_array_size(msgs) == 0)
        return fmt("fake: \"messages\" must be a non-empty array");
    json_array_foreach(msgs, i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));

        if (!json_is_object(m) || role == NULL || !json_is_string(json_object_get(m, "content")))
            return fmt("fake: messages[%zu] needs a string role and a string content", i);
        if (anthropic ? strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0
                      : strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0 &&
                            strcmp(role, "system") != 0 && strcmp(role, "developer") != 0)
            return fmt("fake: messages[%zu].role \"%s\" is not allowed", i, role);
        if (anthropic && i == 0 && strcmp(role, "user") != 0)
            return fmt("fake: the first message must be a user turn");
    }
    return NULL;
}

static char *check_openai(struct fake_llm *f, struct MHD_Connection *c, const char *method,
                          const char *url, json_t *b)
{
    char want[300];
    json_t *t, *mt, *rf;

    if (strcmp(method, "POST") != 0 || strcmp(url, "/v1/chat/completions") != 0)
        return fmt("fake: %s %s is not POST /v1/chat/completions", method, url);
    snprintf(want, sizeof want, "Bearer %s", f->key);
    if (!header_is(c, "Authorization", want))
        return fmt("fake: the Authorization header is missing or not \"Bearer <the key>\"");
    if (!header_starts(c, "Content-Type", "application/json"))
        return fmt("fake: Content-Type is not application/json");
    if (!json_is_object(b))
        return fmt("fake: the body is not a JSON object");
    if (!json_is_string(json_object_get(b, "model")))
        return fmt("fake: \"model\" must be a string");
    t = json_object_get(b, "temperature");
    if (t != NULL && (!json_is_number(t) || json_number_value(t) < 0 || json_number_value(t) > 2))
        return fmt("fake: \"temperature\" must be a number from 0 to 2");
    mt = json_object_get(b, "max_tokens");
    if (mt != NULL && (!json_is_integer(mt) || json_integer_value(mt) < 1))
        return fmt("fake: \"max_tokens\" must be a positive integer");
    rf = json_object_get(b, "response_format");
    if (rf != NULL) {
        const char *type = json_string_value(json_object_get(rf, "type"));

        if (type == NULL || (strcmp(type, "json_object") != 0 && strcmp(type, "text") != 0 &&
                             strcmp(type, "json_schema") != 0))
            return fmt("fake: \"response_format\" must be {\"type\": \"json_object\"|...}");
    }
    return check_messages(json_object_get(b, "messages"), false);
}

static char *check_anthropic(struct fake_llm *f, struct MHD_Connection *c, const char *method,
                             const char *url, json_t *b)
{
    json_t *t, *mt, *sys;

    if (strcmp(method, "POST") != 0 || strcmp(url, "/v1/messages") != 0)
        return fmt("fake: %s %s is not POST /v1/messages", method, url);
    if (!header_is(c, "x-api-key", f->key))
        return fmt("fake: the x-api-key header is missing or not the key");
    if (!header_is(c, "anthropic-version", "2023-06-01"))
        return fmt("fake: anthropic-version is missing or not 2023-06-01");
    if (!header_starts(c, "content-type", "application/json"))
        return fmt("fake: content-type is not application/json");
    if (!json_is_object(b))
        return fmt("fake: the body is not a JSON object");
    if (!json_is_string(json_object_get(b, "model")))
        return fmt("fake: \"model\" must be a string");
    mt = json_object_get(b, "max_tokens");
    if (!json_is_integer(mt) || json_integer_value(mt) < 1)
        return fmt("fake: \"max_tokens\" is required, a positive integer");
    t = json_object_get(b, "temperature");
    if (t != NULL && (!json_is_number(t) || json_number_value(t) < 0 || json_number_value(t) > 1))
        return fmt("fake: \"temperature\" must be a number from 0 to 1");
    sys = json_object_get(b, "system");
    if (sys != NULL && !json_is_string(sys) && !json_is_array(sys))
        return fmt("fake: \"system\" must be a string");
    return check_messages(json_object_get(b, "messages"), true);
}

/* POST /v1/embeddings: {model, input: string or array of strings, encoding_format?,
 * dimensions?}; Authorization as for chat. */
static char *check_embeddings(struct fake_llm *f, struct MHD_Connection *c, const char *method,
                              json_t *b)
{
    char want[300];
    json_t *in = json_object_get(b, "input"), *dim = json_object_get(b, "dimensions"), *x;
    const char *ef = json_string_value(json_object_get(b, "encoding_format"));
    size_t i;

    if (strcmp(method, "POST") != 0)
        return fmt("fake: %s /v1/embeddings is not POST", method);
    snprintf(want, sizeof want, "Bearer %s", f->key);
    if (!header_is(c, "Authorization", want))
        return fmt("fake: the Authorization header is missing or not \"Bearer <the key>\"");
    if (!header_starts(c, "Content-Type", "application/json"))
        return fmt("fake: Content-Type is not application/json");
    if (!json_is_object(b) || !json_is_string(json_object_get(b, "model")))
        return fmt("fake: the body must be an object with a string \"model\"");
    if (!json_is_string(in) &&
        (!json_is_array(in) || json_array_size(in) == 0 || json_array_size(in) > 2048))
        return fmt("fake: \"input\" must be a string or an array of 1 to 2048 strings");
    json_array_foreach(in, i, x) if (!json_is_string(x) || json_string_length(x) == 0) return fmt(
        "fake: input[%zu] must be a non-empty string", i);
    if (ef != NULL && strcmp(ef, "float") != 0 && strcmp(ef, "base64") != 0)
        return fmt("fake: \"encoding_format\" must be float or base64");
    if (dim != NULL && (!json_is_integer(dim) || json_integer_value(dim) < 1))
        return fmt("fake: \"dimensions\" must be a positive integer");
    return NULL;
}

/* The embeddings answer: vectors of the asked dimension (8 when none) made from each input's
 * bytes, so equal inputs give equal vectors; model "scenario-dim-mismatch" answers one
 * dimension more than asked. */
static enum MHD_Result embeddings(struct MHD_Connection *c, json_t *b)
{
    json_t *in = json_object_get(b, "input"), *data = json_array(), *j;
    const char *model = json_string_value(json_object_get(b, "model"));
    int dim = json_is_integer(json_object_get(b, "dimensions"))
                  ? (int)json_integer_value(json_object_get(b, "dimensions"))
                  : 8;
    size_t n = json_is_array(in) ? json_array_size(in) : 1, tokens = 0;
    enum MHD_Result rc;
    char *s;

    if (strcmp(model, "scenario-dim-mismatch") == 0)
        dim++;
    for (size_t i = 0; i < n; i++) {
        const char *text = json_string_value(json_is_array(in) ? json_array_get(in, i) : in);
        json_t *vec = json_array();
        unsigned h = 2166136261u;

        for (const char *p = text; *p != '\0'; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        for (int k = 0; k < dim; k++) {
            h = h * 1103515245u + 12345u;
            json_array_append_new(vec, json_real((double)(h >> 8) / 16777216.0 - 0.5));
        }
        tokens += strlen(text) / 4 + 1;
        json_array_append_new(data, json_pack("{s:s, s:I, s:o}", "object", "embedding", "index",
                                              (json_int_t)i, "embedding", vec));
    }
    j = json_pack("{s:s, s:o, s:s, s:{s:I, s:I}}", "object", "list", "data", data, "model", model,
                  "usage", "prompt_tokens", (json_int_t)tokens, "total_tokens", (json_int_t)tokens);
    s = json_dumps(j, JSON_COMPACT);
    rc = send_body(c, 200, s, NULL);
    free(s);
    json_decref(j);
    return rc;
}

static int prompt_tokens(json_t *b)
{
    size_t i, n = 0;
    json_t *m;

    json_array_foreach(json_object_get(b, "messages"), i, m) n +=
        strlen(json_string_value(json_object_get(m, "content")));
    if (json_is_string(json_object_get(b, "system")))
        n += strlen(json_string_value(json_object_get(b, "system")));
    return (int)(n / 4) + 1;
}

static enum MHD_Result success(struct fake_llm *f, struct MHD_Connection *c, json_t *b)
{
    const char *model = json_string_value(json_object_get(b, "model"));
    bool json = f->api == FAKE_OPENAI
                    ? json_object_get(b, "response_format") != NULL
                    : json_is_string(json_object_get(b, "system")) &&
                          strstr(json_string_value(json_object_get(b, "system")), "JSON") != NULL;
    const char *text =
        json ? "{\"verdict\": \"keep\", \"confidence\": 0.75}" : "Hello from the fake server.";
    int pt = prompt_tokens(b);
    json_t *j;
    char *s, *own = NULL;
    enum MHD_Result rc;

    if (f->answer != NULL && (own = f->answer(f->answer_ctx, b)) != NULL)
        text = own;
    pthread_mutex_lock(&f->mu);
    f->succeeded++;
    pthread_mutex_unlock(&f->mu);

    if (f->api == FAKE_OPENAI)
        j = json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:s, s:s, s:n}, s:n, s:s}], "
                      "s:{s:i, s:i, s:i}}",
                      "id", "chatcmpl-fake1", "object", "chat.completion", "created", 1700000000,
                      "model", model, "choices", "index", 0, "message", "role", "assistant",
                      "content", text, "refusal", "logprobs", "finish_reason", "stop", "usage",
                      "prompt_tokens", pt, "completion_tokens", 9, "total_tokens", pt + 9);
    else
        j = json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:s, s:n, s:{s:i, s:i}}", "id",
                      "msg_fake1", "type", "message", "role", "assistant", "model", model,
                      "content", "type", "text", "text", text, "stop_reason", "end_turn",
                      "stop_sequence", "usage", "input_tokens", pt, "output_tokens", 9);
    s = json_dumps(j, JSON_COMPACT);
    rc = send_body(c, 200, s, NULL);
    free(s);
    free(own);
    json_decref(j);
    return rc;
}

static enum MHD_Result on_request(void *cls, const struct fake_http_request *req)
{
    struct fake_llm *f = cls;
    struct MHD_Connection *c = req->conn;
    const char *url = req->url, *method = req->method;
    json_t *b = json_loads(req->body, 0, NULL);
    char *bad;
    const char *model;
    enum MHD_Result rc;
    unsigned outage;
    int n = req->seq;

    set_str(f, &f->last_body, req->body);
    if (f->api == FAKE_OPENAI && strcmp(url, "/v1/embeddings") == 0) {
        bad = check_embeddings(f, c, method, b);
        model = json_string_value(json_object_get(b, "model"));
        if (bad == NULL && model != NULL && strcmp(model, "scenario-401") == 0)
            rc =
                send_error(f, c, 401, "invalid_request_error", "Incorrect API key provided.", NULL);
        else if (bad == NULL && model != NULL && strcmp(model, "scenario-malformed") == 0)
            rc = send_body(c, 200, "{\"object\": \"list\", \"data\": [{\"index\": 0}]}", NULL);
        else if (bad == NULL)
            rc = embeddings(c, b);
        else {
            set_str(f, &f->violation, bad);
            rc = send_error(f, c, 400, "invalid_request_error", bad, NULL);
        }
        free(bad);
        json_decref(b);
        return rc;
    }
    bad = f->api == FAKE_OPENAI ? check_openai(f, c, method, url, b)
                                : check_anthropic(f, c, method, url, b);
    if (bad != NULL) {
        set_str(f, &f->violation, bad);
        rc = send_error(f, c, 400, "invalid_request_error", bad, NULL);
        free(bad);
        json_decref(b);
        return rc;
    }
    model = json_string_value(json_object_get(b, "model"));
    {
        /* Every prompt is kept, for tests that look at what a model was asked. */
        size_t i;
        json_t *m;
        char *all = strdup("");

        json_array_foreach(json_object_get(b, "messages"), i, m)
        {
            const char *content = json_string_value(json_object_get(m, "content"));
            size_t len = strlen(all) + strlen(content) + 2;
            char *next = malloc(len);

            snprintf(next, len, "%s%s\n", all, content);
            free(all);
            all = next;
        }
        if (json_is_string(json_object_get(b, "system"))) {
            const char *sys = json_string_value(json_object_get(b, "system"));
            size_t len = strlen(all) + strlen(sys) + 2;
            char *next = malloc(len);

            snprintf(next, len, "%s%s\n", sys, all);
            free(all);
            all = next;
        }
        pthread_mutex_lock(&f->mu);
        f->prompts = realloc(f->prompts, (f->nprompts + 1) * sizeof *f->prompts);
        f->prompts[f->nprompts++] = all;
        pthread_mutex_unlock(&f->mu);
    }
    pthread_mutex_lock(&f->mu);
    outage = f->fail_status;
    if (outage != 0)
        f->failed++;
    pthread_mutex_unlock(&f->mu);
    if (outage != 0)
        rc = send_error(f, c, outage,
                        f->api == FAKE_OPENAI ? "server_error"
                                              : (outage == 529 ? "overloaded_error" : "api_error"),
                        "The service is unavailable (the test's outage).", NULL);
    else if (strcmp(model, "scenario-429-once") == 0 && n % 2 == 1)
        rc = send_error(f, c, 429, f->api == FAKE_OPENAI ? "requests" : "rate_limit_error",
                        "Rate limit reached; retry after 1s.", "1");
    else if (strcmp(model, "scenario-429-once") == 0)
        rc = success(f, c, b);
    else if (strcmp(model, "scenario-429") == 0)
        rc = send_error(f, c, 429, f->api == FAKE_OPENAI ? "requests" : "rate_limit_error",
                        "Rate limit reached; retry after 2s.", "2");
    else if (strcmp(model, "scenario-429-date") == 0) {
        char date[64];
        time_t when = time(NULL) + 3;
        struct tm tm;

        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&when, &tm));
        rc = send_error(f, c, 429, f->api == FAKE_OPENAI ? "requests" : "rate_limit_error",
                        "Rate limit reached.", date);
    } else if (strcmp(model, "scenario-500") == 0)
        rc = send_error(f, c, 500, f->api == FAKE_OPENAI ? "server_error" : "api_error",
                        "The server had an error while processing your request.", NULL);
    else if (strcmp(model, "scenario-529") == 0)
        rc = send_error(f, c, 529, "overloaded_error", "Overloaded", NULL);
    else if (strcmp(model, "scenario-401") == 0) {
        char msg[400];

        snprintf(msg, sizeof msg,
                 "Incorrect API key provided: %s. You can find your API key "
                 "in your account settings.",
                 f->key);
        rc = send_error(f, c, 401,
                        f->api == FAKE_OPENAI ? "invalid_request_error" : "authentication_error",
                        msg, NULL);
    } else if (strcmp(model, "scenario-timeout") == 0) {
        struct timespec ts = {FAKE_LLM_DELAY_MS / 1000, (FAKE_LLM_DELAY_MS % 1000) * 1000000L};

        nanosleep(&ts, NULL);
        rc = success(f, c, b);
    } else if (strcmp(model, "scenario-malformed") == 0)
        rc = send_body(c, 200, "{\"id\": \"chatcmpl-x\", \"choices\": [", NULL);
    else if (strcmp(model, "scenario-missing") == 0)
        rc = send_body(c, 200, "{\"id\": \"x\", \"object\": \"chat.completion\"}", NULL);
    else
        rc = success(f, c, b);
    json_decref(b);
    return rc;
}

struct fake_llm *fake_llm_start(enum fake_llm_api api, const char *key)
{
    struct fake_llm *f = calloc(1, sizeof *f);
    unsigned port;

    f->api = api;
    snprintf(f->key, sizeof f->key, "%s", key);
    pthread_mutex_init(&f->mu, NULL);
    f->http = fake_http_start("fake_llm", on_request, f, &port);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", port);
    return f;
}

void fake_llm_stop(struct fake_llm *f)
{
    if (f == NULL)
        return;
    fake_http_stop(f->http);
    pthread_mutex_destroy(&f->mu);
    free(f->violation);
    free(f->last_body);
    for (size_t i = 0; i < f->nprompts; i++)
        free(f->prompts[i]);
    free(f->prompts);
    free(f);
}

const char *fake_llm_url(const struct fake_llm *f)
{
    return f->url;
}

int fake_llm_requests(struct fake_llm *f)
{
    return fake_http_requests(f->http);
}

static char *copy_of(struct fake_llm *f, char *const *slot)
{
    char *s;

    pthread_mutex_lock(&f->mu);
    s = *slot != NULL ? strdup(*slot) : NULL;
    pthread_mutex_unlock(&f->mu);
    return s;
}

char *fake_llm_violation(struct fake_llm *f)
{
    return copy_of(f, &f->violation);
}

char *fake_llm_last_body(struct fake_llm *f)
{
    return copy_of(f, &f->last_body);
}

char *fake_llm_prompt_with(struct fake_llm *f, const char *marker, const char *also)
{
    char *s = NULL;

    pthread_mutex_lock(&f->mu);
    for (size_t i = f->nprompts; s == NULL && i > 0; i--)
        if (strstr(f->prompts[i - 1], marker) != NULL &&
            (also == NULL || strstr(f->prompts[i - 1], also) != NULL))
            s = strdup(f->prompts[i - 1]);
    pthread_mutex_unlock(&f->mu);
    return s;
}
