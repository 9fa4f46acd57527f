/*
 * test_langfuse.c - the ingestion API's pure parts: UUIDs (v4 random and unique, the hashed
 * ones stable), ISO 8601 times with milliseconds, batch bodies and their overhead,
 * what a status means, reading a 207's errors, the host check; and the events of the tracing
 * calls (trace.h) as the API defines them, with the same model, tokens and cost the caller
 * gave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "observe/langfuse.h"
#include "observe/trace.h"
#include "observe/tracer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void test_uuid(void **state)
{
    char a[LANGFUSE_UUID_LEN], b[LANGFUSE_UUID_LEN], c[LANGFUSE_UUID_LEN];
    json_t *seen = json_object();

    (void)state;
    for (int i = 0; i < 10000; i++) {
        langfuse_uuid(a);
        assert_int_equal(strlen(a), 36);
        assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
        assert_int_equal(a[14], '4');           /* version 4 */
        assert_non_null(strchr("89ab", a[19])); /* the RFC 4122 variant */
        assert_null(json_object_get(seen, a));  /* never twice */
        json_object_set_new(seen, a, json_true());
    }
    json_decref(seen);
    langfuse_uuid_of("wire-1|stage|debate", b);
    langfuse_uuid_of("wire-1|stage|debate", c);
    assert_string_equal(b, c);
    assert_int_equal(b[14], '8');
    langfuse_uuid_of("wire-1|stage|review", c);
    assert_string_not_equal(b, c);
}

/* langfuse_time(ms) is what gmtime_r() and strftime() make of it. */
static void same_as_gmtime(int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char want[LANGFUSE_TIME_LEN], got[LANGFUSE_TIME_LEN];

    gmtime_r(&secs, &tm);
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(want + 19, sizeof want - 19, ".%03dZ", (int)(ms % 1000));
    assert_string_equal(langfuse_time(ms, got), want);
}

static void test_time(void **state)
{
    char t[LANGFUSE_TIME_LEN];

    (void)state;
    assert_string_equal(langfuse_time(0, t), "1970-01-01T00:00:00.000Z");
    assert_string_equal(langfuse_time(1795860000123LL, t), "2026-11-28T10:00:00.123Z");
    assert_string_equal(langfuse_time(1795860000007LL, t), "2026-11-28T10:00:00.007Z");
    assert_string_equal(langfuse_time(951782400999LL, t), "2000-02-29T00:00:00.999Z");
    /* The date is computed without gmtime_r(): the same as it, over two centuries. */
    srand(3);
    for (int i = 0; i < 100000; i++)
        same_as_gmtime(((int64_t)rand() << 20 ^ rand()) % 7258118400000LL);
    /* A thread keeps the second it formatted last: times within one second, across the next
     * second, a day and a year, and going back (a clock stepped back) are all the same as
     * gmtime_r() says. */
    for (int pass = 0; pass < 2; pass++)
        for (int64_t k = -3000; k <= 3000; k += 7) /* around 2027-01-01T00:00:00Z */
            same_as_gmtime(1798761600000LL + (pass == 0 ? k : -k));
}

static void test_batch(void **state)
{
    char *ev[2] = {(char *)"{\"a\":1}", (char *)"{\"b\":2}"};
    size_t lens[2] = {7, 7}, len;
    char *body;

    (void)state;
    body = langfuse_batch_body(ev, lens, 2, &len);
    assert_string_equal(body, "{\"batch\":[{\"a\":1},{\"b\":2}]}");
    assert_int_equal(len, strlen(body));
    assert_int_equal(len, 14 + langfuse_batch_overhead(2));
    free(body);
}

static void on_error(const char *id, long status, const char *message, void *arg)
{
    char *log = arg;

    snprintf(log + strlen(log), 256 - strlen(log), "%s %ld %s;", id, status, message);
}

static void test_answer_and_verdict(void **state)
{
    char log[256] = "";
    size_t ok, bad;

    (void)state;
    assert_int_equal(langfuse_verdict(207), LANGFUSE_DELIVERED);
    assert_int_equal(langfuse_verdict(200), LANGFUSE_DELIVERED);
    assert_int_equal(langfuse_verdict(429), LANGFUSE_RETRY);
    assert_int_equal(langfuse_verdict(503), LANGFUSE_RETRY);
    assert_int_equal(langfuse_verdict(401), LANGFUSE_REFUSED);
    assert_int_equal(langfuse_verdict(413), LANGFUSE_REFUSED);
    assert_int_equal(langfuse_answer("{\"successes\": [{\"id\": \"a\", \"status\": 201}], "
                                     "\"errors\": [{\"id\": \"b\", \"status\": 400, \"message\": "
                                     "\"Invalid\"}, {\"id\": \"c\", \"status\": 500, \"error\": "
                                     "{\"x\": 1}}]}",
                                     &ok, &bad, on_error, log),
                     0);
    assert_int_equal(ok, 1);
    assert_int_equal(bad, 2);
    assert_string_equal(log, "b 400 Invalid;c 500 {\"x\":1};");
    assert_int_equal(langfuse_answer("not json", &ok, &bad, NULL, NULL), -1);
    assert_int_equal(ok + bad, 0);
}

static void test_host_check(void **state)
{
    char *why = NULL;

    (void)state;
    assert_int_equal(langfuse_host_check("https://cloud.langfuse.com", &why), 0);
    assert_int_equal(langfuse_host_check("http://localhost:3000", &why), 0);
    assert_int_equal(langfuse_host_check("ftp://x", &why), -1);
    assert_non_null(strstr(why, "ftp://x"));
    free(why);
    assert_int_equal(langfuse_host_check("https://", &why), -1);
    free(why);
}

/* The events the tracing calls produce, read back from the JSON Lines file of a tracer
 * without keys. */
static json_t *events_of(void (*calls)(void))
{
    char dir[] = "/tmp/nr-lf-XXXXXX", path[64];
    struct tracer_options o = {0};
    struct tracer *t;
    char *cause = NULL, *text, *line, *save = NULL;
    json_t *all = json_array();
    FILE *f;
    long size;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.jsonl", dir);
    o.file = path;
    o.queue_max = 1000;
    o.queue_max_bytes = 1u << 20;
    o.batch_max = 1000;
    o.flush_ms = 10;
    t = tracer_new(&o, &cause);
    assert_non_null(t);
    assert_int_equal(tracer_start(t, &cause), 0);
    trace_install(t, NULL);
    calls();
    trace_install(NULL, NULL);
    tracer_free(t);
    f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)size + 1);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        json_t *b = json_loads(line, 0, NULL);

        json_array_extend(all, json_object_get(b, "batch"));
        json_decref(b);
    }
    free(text);
    unlink(path);
    rmdir(dir);
    return all;
}

static json_t *first_of(json_t *events, const char *type)
{
    size_t i;
    json_t *e;

    json_array_foreach(events, i, e) if (strcmp(json_string_value(json_object_get(e, "type")),
                                                type) == 0) return json_object_get(e, "body");
    return NULL;
}

static void one_call(void)
{
    struct llm_message m[2] = {{"system", "sys"}, {"user", "the story"}};
    struct llm_request req = {.messages = m,
                              .nmessages = 2,
                              .temperature = 0.3,
                              .max_tokens = 400,
                              .json = true,
                              .task_type = "content_analysis"};
    struct llm_response resp = {
        .text = (char *)"{}", .prompt_tokens = 100, .completion_tokens = 50};
    struct trace_gen g;

    trace_agent("analyst-x-1", "analyst");
    trace_cycle_begin();
    trace_task("story-1");
    trace_gen_begin(&g, "story-1", &req, "sim-balanced", LLM_BALANCED);
    trace_gen_end(&g, &resp, NULL, 2500, 1500, NULL);
    trace_cycle_end(1, NULL);
}

static void test_generation_events(void **state)
{
    json_t *ev = events_of(one_call), *create, *update, *span;

    (void)state;
    /* Every envelope: a UUID v4 of its own, an ISO 8601 time with milliseconds, its type and a
     * body object. */
    {
        json_t *seen = json_object(), *e;
        size_t i;

        json_array_foreach(ev, i, e)
        {
            const char *id = json_string_value(json_object_get(e, "id"));
            const char *ts = json_string_value(json_object_get(e, "timestamp"));

            assert_non_null(id);
            assert_int_equal(strlen(id), 36);
            assert_int_equal(id[14], '4');
            assert_null(json_object_get(seen, id));
            json_object_set_new(seen, id, json_true());
            assert_non_null(ts);
            assert_int_equal(strlen(ts), 24);
            assert_true(ts[4] == '-' && ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z');
            assert_non_null(json_string_value(json_object_get(e, "type")));
            assert_true(json_is_object(json_object_get(e, "body")));
        }
        assert_true(json_object_size(seen) >= 4);
        json_decref(seen);
    }
    create = first_of(ev, "generation-create");
    update = first_of(ev, "generation-update");
    span = first_of(ev, "span-create");
    assert_non_null(create);
    assert_non_null(update);
    assert_non_null(span);
    assert_string_equal(json_string_value(json_object_get(create, "traceId")), "story-1");
    assert_string_equal(json_string_value(json_object_get(create, "model")), "sim-balanced");
    assert_string_equal(json_string_value(json_object_get(create, "parentObservationId")),
                        json_string_value(json_object_get(span, "id")));
    /* modelParameters are MapValues: strings, integers, booleans. */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(create, "modelParameters"), "temperature")),
                        "0.3");
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(create, "modelParameters"), "max_tokens")),
                     400);
    assert_int_equal(json_array_size(json_object_get(create, "input")), 2);
    assert_string_equal(json_string_value(json_object_get(update, "id")),
                        json_string_value(json_object_get(create, "id")));
    /* Usage both ways (v2 usage with costs, v3 usageDetails and costDetails), the cost exact. */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(update, "usage"), "total")),
                     150);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(update, "usageDetails"), "input")), 100);
    assert_true(json_real_value(json_object_get(json_object_get(update, "costDetails"), "total")) ==
                0.0025);
    assert_true(json_real_value(json_object_get(json_object_get(update, "costDetails"), "input")) ==
                0.0015);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(update, "metadata"), "cost_micro_usd")),
        2500);
    json_decref(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid),       cmocka_unit_test(test_time),
        cmocka_unit_test(test_batch),      cmocka_unit_test(test_answer_and_verdict),
        cmocka_unit_test(test_host_check), cmocka_unit_test(test_generation_events),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
