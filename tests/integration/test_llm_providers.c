/*
 * test_llm_providers.c - the openai and anthropic providers against a local fake of each API
 * (tests/support/fake_llm.c, started here on 127.0.0.1): every request must pass the fake's
 * checks of method, path, headers and body; success bodies are parsed into text and usage;
 * 429 (with Retry-After), 500, 529, a timeout, a malformed body, a body without the
 * documented fields, a 401 and a refused connection each give their documented outcome; and
 * the API key never appears in any cause.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "fake_llm.h"
#include "llm/llm.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "sk-test-Zq81v0PLkX9secretKEY"

struct fx {
    enum fake_llm_api api;
    struct fake_llm *fake;
    struct llm_provider *p;
};

static struct llm_provider *provider(enum fake_llm_api api, const char *url, const char *key,
                                     int timeout_ms)
{
    struct llm_provider_config cfg = {.kind = api == FAKE_OPENAI ? "openai" : "anthropic",
                                      .base_url = url,
                                      .api_key = key,
                                      .timeout_ms = timeout_ms};
    char *cause = NULL;
    struct llm_provider *p = llm_provider_new(&cfg, &cause);

    if (p == NULL)
        fail_msg("llm_provider_new: %s", cause);
    return p;
}

static int setup_api(void **state, enum fake_llm_api api)
{
    struct fx *f = calloc(1, sizeof *f);

    f->api = api;
    f->fake = fake_llm_start(api, KEY);
    /* A trailing '/' on the base URL is allowed. */
    {
        char url[80];

        snprintf(url, sizeof url, "%s/", fake_llm_url(f->fake));
        f->p = provider(api, url, KEY, 400);
    }
    *state = f;
    return 0;
}

static int setup_openai(void **state)
{
    return setup_api(state, FAKE_OPENAI);
}

static int setup_anthropic(void **state)
{
    return setup_api(state, FAKE_ANTHROPIC);
}

static int teardown(void **state)
{
    struct fx *f = *state;

    llm_provider_free(f->p);
    fake_llm_stop(f->fake);
    free(f);
    return 0;
}

static const struct llm_message msgs[] = {
    {"system", "You are a careful news editor."},
    {"user", "Is this newsworthy? The council approved a 4% budget rise, officials said."},
};

/* One call with model; returns llm_complete's result and fills the rest. */
static int call(struct fx *f, const char *model, bool json, struct llm_response *r,
                struct llm_error *e, char **cause)
{
    struct llm_request req = {.model = model,
                              .messages = msgs,
                              .nmessages = 2,
                              .temperature = 0.2,
                              .max_tokens = 200,
                              .json = json,
                              .task_type = "news_scout"};

    *cause = NULL;
    return llm_complete(f->p, &req, r, e, cause);
}

static void assert_no_key(const char *cause)
{
    if (cause != NULL && strstr(cause, KEY) != NULL)
        fail_msg("the API key appears in a cause: %s", cause);
    if (cause != NULL && strstr(cause, "Zq81v0PLkX9") != NULL)
        fail_msg("part of the API key appears in a cause: %s", cause);
}

static void assert_clean(struct fx *f)
{
    char *v = fake_llm_violation(f->fake);

    if (v != NULL)
        fail_msg("the fake server found the request broke the API: %s", v);
}

static void test_success(void **state)
{
    struct fx *f = *state;
    struct llm_response r;
    struct llm_error e;
    char *cause;

    if (call(f, "model-small", false, &r, &e, &cause) != 0)
        fail_msg("%s", cause);
    assert_clean(f);
    assert_string_equal(r.text, "Hello from the fake server.");
    assert_true(r.prompt_tokens > 10);
    assert_int_equal(r.completion_tokens, 9);
    assert_false(r.cached);
    assert_int_equal(e.kind, LLM_ERR_NONE);
    llm_response_clear(&r);
    assert_int_equal(fake_llm_requests(f->fake), 1);
}

static void test_json_mode(void **state)
{
    struct fx *f = *state;
    struct llm_response r;
    struct llm_error e;
    char *cause, *body;
    json_t *b;

    if (call(f, "model-small", true, &r, &e, &cause) != 0)
        fail_msg("%s", cause);
    assert_clean(f);
    /* The answer's confidence is read from the JSON. */
    assert_true(r.confidence > 0.74 && r.confidence < 0.76);
    body = fake_llm_last_body(f->fake);
    b = json_loads(body, 0, NULL);
    assert_non_null(b);
    assert_int_equal(json_integer_value(json_object_get(b, "max_tokens")), 200);
    assert_true(json_real_value(json_object_get(b, "temperature")) > 0.19);
    if (f->api == FAKE_OPENAI) {
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(b, "response_format"), "type")),
            "json_object");
        assert_int_equal(json_array_size(json_object_get(b, "messages")), 2);
    } else {
        /* The system message moves to "system"; messages keep user/assistant turns only. */
        assert_non_null(
            strstr(json_string_value(json_object_get(b, "system")), "careful news editor"));
        assert_int_equal(json_array_size(json_object_get(b, "messages")), 1);
        assert_null(json_object_get(b, "response_format"));
    }
    json_decref(b);
    free(body);
    llm_response_clear(&r);
}

static void expect_failure(struct fx *f, const char *model, enum llm_error_kind kind, int status,
                           int64_t retry_after_ms, const char *in_cause)
{
    struct llm_response r;
    struct llm_error e;
    char *cause;

    assert_int_equal(call(f, model, false, &r, &e, &cause), -1);
    assert_non_null(cause);
    assert_clean(f);
    assert_no_key(cause);
    if (e.kind != kind || e.http_status != status || e.retry_after_ms != retry_after_ms)
        fail_msg("%s: kind %d status %d retry_after %lld; want %d %d %lld (%s)", model, e.kind,
                 e.http_status, (long long)e.retry_after_ms, kind, status,
                 (long long)retry_after_ms, cause);
    if (in_cause != NULL && strstr(cause, in_cause) == NULL)
        fail_msg("%s: the cause \"%s\" does not say \"%s\"", model, cause, in_cause);
    assert_null(r.text);
    free(cause);
}

static void test_429_retry_after(void **state)
{
    expect_failure(*state, "scenario-429", LLM_ERR_RETRYABLE, 429, 2000, "Rate limit reached");
}

static bool never_go_on(void *arg)
{
    (void)arg;
    return false;
}

/* Retry-After honoured: the retrying call waits what the server asked and then succeeds; with
 * too little time allowed it gives up at once, without waiting; fatal errors are not retried. */
static void test_retry_honours_retry_after(void **state)
{
    struct fx *f = *state;
    struct llm_message m[] = {{"user", "Screen this: storm hits coast."}};
    struct llm_request req = {.model = "scenario-429-once",
                              .messages = m,
                              .nmessages = 1,
                              .temperature = 0.2,
                              .max_tokens = 50,
                              .task_type = "news_scout"};
    struct llm_response r;
    struct llm_error e;
    char *cause = NULL;
    int64_t t0 = clock_mono_ms();

    if (llm_complete_retry(f->p, &req, &r, &e, 3, 5000, &cause) != 0)
        fail_msg("%s", cause);
    assert_clean(f);
    assert_true(clock_mono_ms() - t0 >= 1000); /* Retry-After: 1 */
    assert_int_equal(fake_llm_requests(f->fake), 2);
    llm_response_clear(&r);

    req.model = "scenario-429"; /* Retry-After: 2, but only 500 ms allowed */
    t0 = clock_mono_ms();
    assert_int_equal(llm_complete_retry(f->p, &req, &r, &e, 3, 500, &cause), -1);
    assert_true(clock_mono_ms() - t0 < 1500);
    assert_int_equal(e.kind, LLM_ERR_RETRYABLE);
    assert_non_null(strstr(cause, "not retried"));
    assert_no_key(cause);
    assert_int_equal(fake_llm_requests(f->fake), 3);
    free(cause);
    cause = NULL;

    req.model = "scenario-401";
    assert_int_equal(llm_complete_retry(f->p, &req, &r, &e, 3, 5000, &cause), -1);
    assert_int_equal(e.kind, LLM_ERR_FATAL);
    assert_int_equal(fake_llm_requests(f->fake), 4);
    assert_no_key(cause);
    free(cause);
    cause = NULL;

    /* A caller that must stop (a halt, a shutdown) gives up instead of waiting out the
     * Retry-After, and never sends the retry. */
    req.model = "scenario-429";
    llm_provider_set_abort(f->p, never_go_on, NULL);
    assert_int_equal(llm_complete_retry(f->p, &req, &r, &e, 3, 5000, &cause), -1);
    assert_non_null(strstr(cause, "stopped"));
    assert_int_equal(fake_llm_requests(f->fake), 5);
    llm_provider_set_abort(f->p, NULL, NULL);
    free(cause);
}

static void test_429_retry_after_date(void **state)
{
    struct fx *f = *state;
    struct llm_response r;
    struct llm_error e;
    char *cause;

    /* Retry-After may also be an HTTP date (RFC 9110); 3 s ahead, to the second. */
    assert_int_equal(call(f, "scenario-429-date", false, &r, &e, &cause), -1);
    assert_int_equal(e.kind, LLM_ERR_RETRYABLE);
    assert_int_equal(e.http_status, 429);
    if (e.retry_after_ms < 1000 || e.retry_after_ms > 3500)
        fail_msg("retry_after_ms %lld from an HTTP date 3 s ahead", (long long)e.retry_after_ms);
    free(cause);
}

static void test_500(void **state)
{
    expect_failure(*state, "scenario-500", LLM_ERR_RETRYABLE, 500, -1, "HTTP 500");
}

static void test_529_overloaded(void **state)
{
    expect_failure(*state, "scenario-529", LLM_ERR_RETRYABLE, 529, -1, "Overloaded");
}

static void test_401_fatal_without_key(void **state)
{
    /* The API echoes the key in its message; the cause must not. */
    expect_failure(*state, "scenario-401", LLM_ERR_FATAL, 401, -1, "Incorrect API key");
}

static void test_malformed(void **state)
{
    expect_failure(*state, "scenario-malformed", LLM_ERR_FATAL, 200, -1, "malformed");
}

static void test_missing_fields(void **state)
{
    expect_failure(*state, "scenario-missing", LLM_ERR_FATAL, 200, -1, "malformed answer");
}

static void test_timeout(void **state)
{
    int64_t t0 = clock_mono_ms(), took;

    expect_failure(*state, "scenario-timeout", LLM_ERR_RETRYABLE, 0, -1, "no answer within 400");
    took = clock_mono_ms() - t0;
    if (took > FAKE_LLM_DELAY_MS - 200)
        fail_msg("the call took %lld ms; the timeout is 400", (long long)took);
}

static void test_request_timeout_overrides(void **state)
{
    struct fx *f = *state;
    struct llm_request req = {.model = "scenario-timeout",
                              .messages = msgs,
                              .nmessages = 2,
                              .temperature = 0,
                              .max_tokens = 50,
                              .timeout_ms = 3000};
    struct llm_response r;
    char *cause = NULL;

    /* A request's own timeout wins over the provider's 400 ms. */
    if (llm_complete(f->p, &req, &r, NULL, &cause) != 0)
        fail_msg("%s", cause);
    llm_response_clear(&r);
}

static void test_wrong_key_is_caught(void **state)
{
    struct fx *f = *state;
    struct llm_provider *p = provider(f->api, fake_llm_url(f->fake), "sk-wrong-key-123456", 2000);
    struct llm_request req = {.model = "m", .messages = msgs, .nmessages = 2, .max_tokens = 5};
    struct llm_response r;
    struct llm_error e;
    char *cause = NULL, *v;

    /* The fake checks the auth header: a wrong one is a 400 naming the header. */
    assert_int_equal(llm_complete(p, &req, &r, &e, &cause), -1);
    assert_int_equal(e.kind, LLM_ERR_FATAL);
    assert_int_equal(e.http_status, 400);
    assert_non_null(strstr(cause, f->api == FAKE_OPENAI ? "Authorization" : "x-api-key"));
    assert_null(strstr(cause, "sk-wrong-key-123456"));
    v = fake_llm_violation(f->fake);
    assert_non_null(v);
    free(v);
    free(cause);
    llm_provider_free(p);
}

static void test_connection_refused(void **state)
{
    struct fx *f = *state;
    struct fake_llm *gone = fake_llm_start(f->api, KEY);
    char url[64];
    struct llm_provider *p;
    struct llm_request req = {.model = "m", .messages = msgs, .nmessages = 2, .max_tokens = 5};
    struct llm_response r;
    struct llm_error e;
    char *cause = NULL;

    snprintf(url, sizeof url, "%s", fake_llm_url(gone));
    fake_llm_stop(gone);
    p = provider(f->api, url, KEY, 1000);
    assert_int_equal(llm_complete(p, &req, &r, &e, &cause), -1);
    assert_int_equal(e.kind, LLM_ERR_RETRYABLE);
    assert_int_equal(e.http_status, 0);
    assert_no_key(cause);
    free(cause);
    llm_provider_free(p);
}

static void test_answer_too_big(void **state)
{
    struct fx *f = *state;
    struct llm_provider_config cfg = {.kind = f->api == FAKE_OPENAI ? "openai" : "anthropic",
                                      .base_url = fake_llm_url(f->fake),
                                      .api_key = KEY,
                                      .timeout_ms = 2000,
                                      .max_response_bytes = 64};
    struct llm_request req = {.model = "m", .messages = msgs, .nmessages = 2, .max_tokens = 5};
    struct llm_provider *p;
    struct llm_response r;
    struct llm_error e;
    char *cause = NULL;

    p = llm_provider_new(&cfg, &cause);
    assert_non_null(p);
    /* A bounded answer: past the limit the call fails, and retrying would not help. */
    assert_int_equal(llm_complete(p, &req, &r, &e, &cause), -1);
    assert_int_equal(e.kind, LLM_ERR_FATAL);
    assert_non_null(strstr(cause, "longer than 64 bytes"));
    free(cause);
    llm_provider_free(p);
}

static void test_bad_request_refused_locally(void **state)
{
    struct fx *f = *state;
    struct llm_request req = {.model = "m", .messages = msgs, .nmessages = 2, .max_tokens = 0};
    struct llm_response r;
    struct llm_error e;
    char *cause = NULL;

    assert_int_equal(llm_complete(f->p, &req, &r, &e, &cause), -1);
    assert_int_equal(e.kind, LLM_ERR_FATAL);
    assert_int_equal(fake_llm_requests(f->fake), 0);
    free(cause);
}

static void test_key_from_environment(void **state)
{
    struct llm_provider_config cfg = {.kind = "openai", .base_url = "http://127.0.0.1:9"};
    struct llm_provider *p;
    char *cause = NULL;

    (void)state;
    unsetenv("OPENAI_API_KEY");
    assert_null(llm_provider_new(&cfg, &cause));
    assert_non_null(strstr(cause, "OPENAI_API_KEY"));
    free(cause);
    cause = NULL;
    setenv("OPENAI_API_KEY", KEY, 1);
    p = llm_provider_new(&cfg, &cause);
    assert_non_null(p);
    assert_string_equal(llm_provider_kind(p), "openai");
    assert_false(llm_provider_shareable(p));
    llm_provider_free(p);
    unsetenv("OPENAI_API_KEY");
    cfg.kind = "gpt";
    assert_null(llm_provider_new(&cfg, &cause));
    assert_non_null(strstr(cause, "unknown LLM provider"));
    free(cause);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, setup_openai, teardown),                                   \
        cmocka_unit_test_setup_teardown(fn, setup_anthropic, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_success),
        BOTH(test_json_mode),
        BOTH(test_429_retry_after),
        BOTH(test_429_retry_after_date),
        BOTH(test_retry_honours_retry_after),
        BOTH(test_500),
        BOTH(test_529_overloaded),
        BOTH(test_401_fatal_without_key),
        BOTH(test_malformed),
        BOTH(test_missing_fields),
        BOTH(test_timeout),
        BOTH(test_request_timeout_overrides),
        BOTH(test_wrong_key_is_caught),
        BOTH(test_connection_refused),
        BOTH(test_bad_request_refused_locally),
        BOTH(test_answer_too_big),
        cmocka_unit_test(test_key_from_environment),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
