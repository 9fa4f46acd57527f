/*
 * test_observe.c - tracing to Langfuse, against a local Langfuse that checks every request
 * against the API's own definition (tests/support/fake_langfuse.c: auth, envelope ids unique,
 * ISO 8601 timestamps, the ids each event needs, the generation usage fields):
 *
 *   schema      a story's events, as agents make them through trace.h, delivered with no
 *               violation; a 207 with some events refused counts them delivered, counts the
 *               refusals and logs each one
 *   retries     500, 500, a timeout, 429 (Retry-After: 1), then 207: one batch, delivered on
 *               the fifth attempt, four retries counted, the same envelope ids each time
 *   give up     every attempt 500: the batch dropped and counted after `retries` attempts
 *   refused     401: dropped at once, counted, one request
 *   bound       Langfuse holds the first request: pushing ten times the queue's size never
 *               waits, the oldest events are dropped and counted, the newest delivered
 *   batching    by count (never more than trace_batch_max events) and by bytes (1 MB events:
 *               never a body over 3.5 MB), and by time (a lone event goes within flush_ms)
 *   health      GET /api/public/health at start: up or down, said in the log
 *   file        without keys, one {"batch": [...]} line per batch in the JSON Lines file;
 *               `newsroom ctl traces replay FILE` sends them (exit 0), counts refusals (exit
 *               1), names a bad line (exit 1) and refuses without keys (exit 2)
 *   pipeline    a whole swarm over wire stories on the shared test Redis (database 36) with
 *               tracing to the local Langfuse: one trace per story with its generations; the
 *               costs in the traces add up, story by story and in all, to the cost manager's
 *               usage records; `newsroom ctl trace ID` shows the same cost from Redis, from
 *               a copy whose every event is the delivered one less a generation's fields
 *               for Langfuse alone (prompt, answer, model parameters, v2 usage, cost details)
 *   copy        ctl trace's copy through the tracer (database 58): a generation's prompt and
 *               answer left to Langfuse, ten long fields of a decision each cut
 *   store       ctl trace's copy (database 58): a trace's list keeps its newest entries up to
 *               the cap, in order, and expires; a batch of more traces than one ZADD chunk
 *               holds (450) lists every one in the index at the server's time
 *
 * Waits are conditions with deadlines (AWAIT), never blind sleeps. Single-threaded test code
 * (the exporter's, the swarm's and the fake's threads are the code under test).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/agent.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "fake_langfuse.h"
#include "observe/metrics.h"
#include "observe/trace.h"
#include "observe/trace_store.h"
#include "observe/trace_view.h"
#include "observe/tracer.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DB       36
#define STORE_DB 58 /* the trace store's own test */

static char *tmp; /* the test program's temporary folder */
static char logpath[512];

/* A tracer on f (keys: Langfuse; else the file), started; requests time out after 500 ms
 * (tests of slow answers) unless timeout_ms says otherwise. */
static int timeout_ms = 500;
/* The options of the tests' tracers: to the fake (NULL: nothing answers) or to file. */
static struct tracer_options options_for(struct fake_langfuse *f, size_t queue_max,
                                         size_t batch_max, int retries, const char *file)
{
    struct tracer_options o = {0};

    o.host = f != NULL ? fake_langfuse_url(f) : "http://127.0.0.1:1";
    o.public_key = f != NULL ? FAKE_LF_PUBLIC : "";
    o.secret_key = f != NULL ? FAKE_LF_SECRET : "";
    o.file = file;
    o.queue_max = queue_max;
    o.queue_max_bytes = 64u << 20;
    o.batch_max = batch_max;
    o.flush_ms = 50;
    o.timeout_ms = timeout_ms;
    o.retries = retries;
    o.retry_base_ms = 20;
    o.retry_max_ms = 2000;
    o.drain_ms = 10000;
    return o;
}

/* options_for()'s tracer, started. */
static struct tracer *tracer_on(struct fake_langfuse *f, size_t queue_max, size_t batch_max,
                                int retries, const char *file)
{
    struct tracer_options o = options_for(f, queue_max, batch_max, retries, file);
    char *cause = NULL;
    struct tracer *t = tracer_new(&o, &cause);

    if (t == NULL || tracer_start(t, &cause) == -1)
        fail_msg("tracer: %s", cause);
    return t;
}

/* Lines of the log containing text. */
static int log_count(const char *text)
{
    char *s = test_read_file(logpath), *p = s;
    int n = 0;

    while (p != NULL && (p = strstr(p, text)) != NULL) {
        n++;
        p += strlen(text);
    }
    free(s);
    return n;
}

static void no_violations(struct fake_langfuse *f)
{
    char *v = fake_langfuse_violations(f);

    if (v[0] != '\0')
        fail_msg("requests broke the Langfuse API:\n%s", v);
    free(v);
}

/* A story's life as the agents record it, on this thread: analysis with a model call and a
 * decision, a vote, the consensus, a revision, QA, the end. */
static void story_events(const char *story)
{
    struct llm_message msgs[2] = {{"system", "You are a news analyst."},
                                  {"user", "Title: a story\n\nIts text."}};
    struct llm_request req = {.messages = msgs,
                              .nmessages = 2,
                              .temperature = 0.3,
                              .max_tokens = 400,
                              .json = true,
                              .task_type = "content_analysis"};
    struct llm_response resp = {.text = (char *)"{\"confidence\": 0.8}",
                                .prompt_tokens = 120,
                                .completion_tokens = 40,
                                .confidence = 0.8,
                                .latency_ms = 3};
    struct trace_gen g;
    struct bb_item it;

    trace_story_start(story, "a story", "Wire", NULL);
    trace_agent("analyst-test-1", "analyst");
    trace_cycle_begin();
    trace_task(story);
    trace_gen_begin(&g, story, &req, "sim-balanced", LLM_BALANCED);
    trace_gen_end(&g, &resp, NULL, 1234, 900, NULL);
    trace_decision(&(struct trace_decision){.story = story,
                                            .type = "coverage",
                                            .outcome = "cover",
                                            .reasoning = "worth covering",
                                            .confidence = 0.8,
                                            .since_ms = clock_wall_ms() - 500});
    trace_cycle_end(1, NULL);
    trace_agent("debater-test-1", "debater");
    trace_cycle_begin();
    trace_vote(story, "for", 0.9, "it holds up");
    trace_cycle_end(1, NULL);
    trace_agent("moderator-test-1", "moderator");
    trace_cycle_begin();
    trace_consensus(story, 0.9, 0.6, true, 1, "consensus 0.90 >= 0.60");
    trace_cycle_end(1, NULL);
    trace_agent("writer-test-1", "writer");
    trace_cycle_begin();
    trace_revision(story, 1, "tighten", 0.05, 0.8, 0.85, true, "tighter");
    trace_cycle_end(1, NULL);
    trace_agent("qa-test-1", "qa");
    trace_cycle_begin();
    trace_qa(story, 1, 8.5, true, "passed");
    trace_cycle_end(1, NULL);
    memset(&it, 0, sizeof it);
    snprintf(it.id, sizeof it.id, "%s", story);
    it.status = BB_APPROVED;
    it.section = BB_REVIEW_QUEUE;
    it.created_ms = clock_wall_ms() - 5000;
    it.decided_ms = clock_wall_ms() - 100;
    snprintf(it.decided_by, sizeof it.decided_by, "alice@local");
    trace_agent("publisher-test-1", "publisher");
    trace_cycle_begin();
    trace_story_moved(&it, BB_PUBLISHED_S, "published");
    trace_cycle_end(1, NULL);
}

static void test_schema_and_mixed_207(void **state)
{
    const enum fake_lf_answer script[] = {FAKE_LF_MIX};
    struct fake_langfuse *f = fake_langfuse_start(script, 1);
    struct tracer *t = tracer_on(f, 1000, 25, 3, NULL);
    struct metrics *m = metrics_new();
    struct tracer_stats st;
    json_t *got, *e;
    int before = log_count("Langfuse refused event"), types = 0;
    size_t i;
    char seen[8][24] = {{0}};

    (void)state;
    trace_install(t, m);
    story_events("story-schema-1");
    story_events("story-schema-2");
    trace_install(NULL, NULL);
    tracer_stop(t);
    tracer_stats(t, &st);
    no_violations(f);
    assert_true(st.queued >= 40);
    assert_int_equal(st.delivered, st.queued);
    assert_int_equal(st.dropped_full + st.dropped_failed + st.dropped_refused, 0);
    /* Every 4th event of each batch refused in the 207: counted and each one logged. */
    assert_true(st.rejected > 0);
    assert_int_equal((int)st.rejected, fake_langfuse_errors_answered(f));
    assert_int_equal(log_count("Langfuse refused event") - before, (int)st.rejected);
    /* Every event type the issue names was sent. */
    got = fake_langfuse_received(f);
    json_array_foreach(got, i, e)
    {
        const char *ty = json_string_value(json_object_get(e, "type"));
        int k;

        for (k = 0; k < types && strcmp(seen[k], ty) != 0; k++)
            ;
        if (k == types && types < 8)
            snprintf(seen[types++], sizeof seen[0], "%s", ty);
    }
    json_decref(got);
    assert_int_equal(types, 7); /* trace, span create/update, generation create/update, event,
                                   score */
    /* The metrics moved with the same calls. */
    assert_true(metrics_value(m, &metric_votes, (const char *[]){"for"}) == 2);
    assert_true(metrics_value(m, &metric_stories_finished, (const char *[]){"PUBLISHED"}) == 2);
    /* The known label sets are there at zero, in this registry and in the next one installed
     * (a thread makes them once per registry, not on every call). */
    for (int k = 0; k < 2; k++) {
        struct metrics *r = k == 0 ? m : metrics_new();
        struct metrics_text text = {0};

        if (k == 1) {
            trace_install(NULL, r);
            story_events("story-schema-3");
            trace_install(NULL, NULL);
        }
        metrics_render(r, &text);
        assert_non_null(strstr(text.p, "newsroom_debate_votes_total{vote=\"abstain\"} 0\n"));
        assert_non_null(strstr(text.p, "newsroom_debate_votes_total{vote=\"against\"} 0\n"));
        assert_non_null(
            strstr(text.p, "newsroom_debates_closed_total{outcome=\"no_consensus\"} 0\n"));
        assert_non_null(strstr(text.p, "newsroom_qa_verdicts_total{passed=\"false\"} 0\n"));
        metrics_text_free(&text);
        if (k == 1)
            metrics_free(r);
    }
    tracer_free(t);
    metrics_free(m);
    fake_langfuse_stop(f);
}

/* Pushes n events through the tracing calls (a decision each) on story. */
static void decisions(const char *story, int n)
{
    for (int i = 0; i < n; i++)
        trace_decision(&(struct trace_decision){.story = story,
                                                .type = "probe",
                                                .outcome = "seen",
                                                .reasoning = "a probe",
                                                .confidence = -1});
}

static void test_retries(void **state)
{
    const enum fake_lf_answer script[] = {FAKE_LF_500, FAKE_LF_500, FAKE_LF_SLOW, FAKE_LF_429,
                                          FAKE_LF_OK};
    struct fake_langfuse *f = fake_langfuse_start(script, 5);
    struct tracer *t = tracer_on(f, 1000, 100, 6, NULL);
    struct tracer_stats st;
    json_t *sizes;

    (void)state;
    trace_install(t, NULL);
    decisions("story-retry", 10);
    trace_install(NULL, NULL);
    AWAIT(30, fake_langfuse_requests(f) >= 5 && (tracer_stats(t, &st), st.delivered == 10));
    tracer_stop(t);
    tracer_stats(t, &st);
    no_violations(f);
    assert_int_equal(fake_langfuse_requests(f), 5);
    assert_int_equal(st.retries, 4);
    assert_int_equal(st.batches, 1);
    assert_int_equal(st.dropped_failed, 0);
    /* Each attempt sent the whole batch (the same envelope ids: Langfuse de-duplicates). */
    sizes = fake_langfuse_batch_sizes(f);
    for (size_t i = 0; i < json_array_size(sizes); i++)
        assert_int_equal(json_integer_value(json_array_get(sizes, i)), 10);
    json_decref(sizes);
    assert_int_equal(st.health, 1);
    tracer_free(t);
    fake_langfuse_stop(f);
}

static void test_give_up(void **state)
{
    const enum fake_lf_answer script[] = {FAKE_LF_500};
    struct fake_langfuse *f = fake_langfuse_start(script, 1);
    struct tracer *t = tracer_on(f, 1000, 100, 3, NULL);
    struct tracer_stats st;

    (void)state;
    trace_install(t, NULL);
    decisions("story-down", 7);
    trace_install(NULL, NULL);
    AWAIT(30, (tracer_stats(t, &st), st.dropped_failed == 7));
    tracer_stop(t);
    tracer_stats(t, &st);
    assert_int_equal(fake_langfuse_requests(f), 3);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.health, 0);
    assert_non_null(strstr(st.health_detail, "HTTP 500"));
    tracer_free(t);
    fake_langfuse_stop(f);
}

static void test_refused(void **state)
{
    const enum fake_lf_answer script[] = {FAKE_LF_401};
    struct fake_langfuse *f = fake_langfuse_start(script, 1);
    struct tracer *t = tracer_on(f, 1000, 100, 5, NULL);
    struct tracer_stats st;
    char *log;

    (void)state;
    trace_install(t, NULL);
    decisions("story-401", 4);
    trace_install(NULL, NULL);
    AWAIT(30, (tracer_stats(t, &st), st.dropped_refused == 4));
    tracer_stop(t);
    assert_int_equal(fake_langfuse_requests(f), 1); /* a 401 is not retried */
    log = test_read_file(logpath);
    assert_non_null(strstr(log, "check the Langfuse keys"));
    assert_null(strstr(log, FAKE_LF_SECRET)); /* the key never in the log */
    free(log);
    tracer_free(t);
    fake_langfuse_stop(f);
}

static void test_queue_bound(void **state)
{
    const enum fake_lf_answer script[] = {FAKE_LF_HOLD, FAKE_LF_OK};
    struct fake_langfuse *f = fake_langfuse_start(script, 2);
    struct tracer *t;
    struct tracer_stats st;
    json_t *got, *e;
    size_t i;
    bool last = false;

    (void)state;
    timeout_ms = 30000; /* the held request is waited for, not timed out */
    t = tracer_on(f, 100, 50, 3, NULL);
    timeout_ms = 500;
    trace_install(t, NULL);
    decisions("story-bound-first", 50); /* the first batch, held by Langfuse */
    AWAIT(30, fake_langfuse_requests(f) == 1);
    /* Ten times the queue while the exporter waits on the network: every push returns. */
    decisions("story-bound-mid", 999);
    decisions("story-bound-last", 1);
    tracer_stats(t, &st);
    assert_int_equal(st.queue_events, 100);
    assert_int_equal(st.dropped_full, 900);
    assert_true(st.peak_events <= 100);
    trace_install(NULL, NULL);
    fake_langfuse_release(f);
    tracer_stop(t);
    tracer_stats(t, &st);
    no_violations(f);
    assert_int_equal(st.delivered, 150); /* the held batch and the newest 100 */
    assert_int_equal(st.dropped_full, 900);
    got = fake_langfuse_delivered(f);
    json_array_foreach(got, i, e)
    {
        const char *tr = json_string_value(json_object_get(json_object_get(e, "body"), "traceId"));

        last = last || (tr != NULL && strcmp(tr, "story-bound-last") == 0);
    }
    assert_true(last); /* the newest kept, the oldest dropped */
    json_decref(got);
    tracer_free(t);
    fake_langfuse_stop(f);
}

static void test_batching(void **state)
{
    const enum fake_lf_answer script[] = {FAKE_LF_OK};
    struct fake_langfuse *f = fake_langfuse_start(script, 1);
    struct tracer *t;
    struct tracer_stats st;
    json_t *sizes;
    char *big = malloc(1000001);

    (void)state;
    timeout_ms = 30000; /* 3 MB bodies through a sanitized fake take their time */
    t = tracer_on(f, 1000, 10, 3, NULL);
    timeout_ms = 500;
    trace_install(t, NULL);
    decisions("story-count", 35);
    trace_install(NULL, NULL);
    AWAIT(30, (tracer_stats(t, &st), st.delivered == 35));
    sizes = fake_langfuse_batch_sizes(f);
    for (size_t i = 0; i < json_array_size(sizes); i++)
        assert_true(json_integer_value(json_array_get(sizes, i)) <= 10);
    json_decref(sizes);
    /* By bytes: 1 MB events (a generation's prompt) go three to a batch, never a body over
     * 3.5 MB. */
    memset(big, 'x', 1000000);
    big[1000000] = '\0';
    trace_install(t, NULL);
    for (int i = 0; i < 7; i++) {
        struct llm_message msg = {"user", big};
        struct llm_request req = {.messages = &msg, .nmessages = 1, .task_type = "probe"};
        struct trace_gen g;

        trace_gen_begin(&g, "story-bytes", &req, "sim-fast", LLM_FAST);
        trace_gen_end(&g, NULL, "not answered", 0, 0, NULL);
    }
    trace_install(NULL, NULL);
    AWAIT(30, (tracer_stats(t, &st), st.delivered + st.dropped_refused == 35 + 14));
    no_violations(f);
    assert_int_equal(st.delivered, 35 + 14);
    assert_true(fake_langfuse_max_body(f) <= 3500000);
    assert_true(fake_langfuse_max_body(f) > 2000000);
    tracer_stop(t);
    no_violations(f);
    free(big);
    tracer_free(t);
    fake_langfuse_stop(f);
}

static void test_flush_by_time(void **state)
{
    const enum fake_lf_answer script[] = {FAKE_LF_OK};
    struct fake_langfuse *f = fake_langfuse_start(script, 1);
    struct tracer *t = tracer_on(f, 1000, 1000, 3, NULL);
    struct tracer_stats st;

    (void)state;
    trace_install(t, NULL);
    decisions("story-lone", 1);
    trace_install(NULL, NULL);
    /* Far from a full batch, and no stop: it goes because it waited flush_ms. */
    AWAIT(10, (tracer_stats(t, &st), st.delivered == 1));
    assert_int_equal(fake_langfuse_requests(f), 1);
    tracer_free(t);
    fake_langfuse_stop(f);
}

static void test_health(void **state)
{
    const enum fake_lf_answer script[] = {FAKE_LF_OK};
    struct fake_langfuse *f = fake_langfuse_start(script, 1);
    struct tracer *t;
    struct tracer_stats st;
    int up = log_count("is up (version 3.29.0-fake): tracing works");
    int down = log_count("does not answer its health check");

    (void)state;
    t = tracer_on(f, 100, 10, 1, NULL);
    AWAIT(10, fake_langfuse_health_checks(f) == 1 && (tracer_stats(t, &st), st.health == 1));
    tracer_free(t);
    assert_int_equal(log_count("is up (version 3.29.0-fake): tracing works"), up + 1);
    fake_langfuse_set_down(f, true);
    t = tracer_on(f, 100, 10, 1, NULL);
    AWAIT(10, fake_langfuse_health_checks(f) == 2 && (tracer_stats(t, &st), st.health == 0));
    assert_non_null(strstr(st.health_detail, "503"));
    tracer_free(t);
    assert_int_equal(log_count("does not answer its health check"), down + 1);
    fake_langfuse_stop(f);
}

/* Runs the binary with args, LANGFUSE_* pointing at f (or unset), output in out; its exit
 * code. */
static int run_newsroom(struct fake_langfuse *f, const char *redis_url, const char *out,
                        const char *const *args)
{
    const char *argv[16];
    int n = 0, status;
    pid_t pid;
    int64_t deadline = clock_mono_ms() + 60000;

    argv[n++] = test_env("NEWSROOM_BINARY");
    while (args[n - 1] != NULL && n < 15) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        char data[600];

        snprintf(data, sizeof data, "%s/data", tmp);
        if (freopen(out, "w", stdout) == NULL || freopen(out, "a", stderr) == NULL)
            _exit(127);
        unsetenv("NEWSROOM_CONFIG");
        setenv("NEWSROOM_DATA_DIR", data, 1);
        if (redis_url != NULL)
            setenv("REDIS_URL", redis_url, 1);
        if (f != NULL) {
            setenv("LANGFUSE_HOST", fake_langfuse_url(f), 1);
            setenv("LANGFUSE_PUBLIC_KEY", FAKE_LF_PUBLIC, 1);
            setenv("LANGFUSE_SECRET_KEY", FAKE_LF_SECRET, 1);
        } else {
            unsetenv("LANGFUSE_PUBLIC_KEY");
            unsetenv("LANGFUSE_SECRET_KEY");
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    assert_true(pid > 0);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (clock_mono_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("newsroom %s did not end within 60 s", args[0]);
        }
        clock_sleep_ms(10, NULL);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_jsonl_and_replay(void **state)
{
    const enum fake_lf_answer ok[] = {FAKE_LF_OK}, mix[] = {FAKE_LF_MIX};
    struct fake_langfuse *f;
    struct tracer *t;
    struct tracer_stats st;
    char file[600], out[600], bad[600], *text, *line, *save = NULL;
    json_t *got;
    int lines = 0;
    size_t events = 0;

    (void)state;
    snprintf(file, sizeof file, "%s/traces.jsonl", tmp);
    snprintf(out, sizeof out, "%s/replay.out", tmp);
    t = tracer_on(NULL, 1000, 20, 1, file); /* no keys: the file */
    assert_false(tracer_to_langfuse(t));
    trace_install(t, NULL);
    story_events("story-file-1");
    story_events("story-file-2");
    trace_install(NULL, NULL);
    tracer_stop(t);
    tracer_stats(t, &st);
    assert_int_equal(st.delivered, st.queued);
    tracer_free(t);
    /* One batch a line, each a valid request body. */
    text = test_read_file(file);
    assert_non_null(text);
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        json_t *b = json_loads(line, 0, NULL);

        assert_true(json_is_array(json_object_get(b, "batch")));
        assert_true(json_array_size(json_object_get(b, "batch")) <= 20);
        events += json_array_size(json_object_get(b, "batch"));
        json_decref(b);
        lines++;
    }
    free(text);
    assert_true(lines >= 2);
    assert_int_equal(events, st.queued);

    /* Replayed: every event reaches Langfuse, checked like live traffic. */
    f = fake_langfuse_start(ok, 1);
    assert_int_equal(
        run_newsroom(f, NULL, out, (const char *[]){"ctl", "traces", "replay", file, NULL}), 0);
    no_violations(f);
    got = fake_langfuse_delivered(f);
    assert_int_equal(json_array_size(got), events);
    json_decref(got);
    text = test_read_file(out);
    assert_non_null(strstr(text, "delivered"));
    free(text);
    fake_langfuse_stop(f);

    /* Refusals in the 207 are counted and said: exit 1. */
    f = fake_langfuse_start(mix, 1);
    assert_int_equal(
        run_newsroom(f, NULL, out,
                     (const char *[]){"ctl", "traces", "replay", file, "--json", NULL}),
        1);
    text = test_read_file(out);
    assert_non_null(strstr(text, "Langfuse refused event"));
    free(text);
    fake_langfuse_stop(f);

    /* A bad line is named; no keys is a configuration error; a missing file too. */
    snprintf(bad, sizeof bad, "%s/bad.jsonl", tmp);
    test_write_file(bad, "{\"batch\": []}\nnot json\n");
    f = fake_langfuse_start(ok, 1);
    assert_int_equal(
        run_newsroom(f, NULL, out, (const char *[]){"ctl", "traces", "replay", bad, NULL}), 1);
    text = test_read_file(out);
    assert_non_null(strstr(text, "line 2"));
    free(text);
    assert_int_equal(
        run_newsroom(NULL, NULL, out, (const char *[]){"ctl", "traces", "replay", file, NULL}), 2);
    assert_int_equal(
        run_newsroom(f, NULL, out,
                     (const char *[]){"ctl", "traces", "replay", "/nonexistent/t.jsonl", NULL}),
        2);
    fake_langfuse_stop(f);
}

/* The usage records' cost by task (micro-dollars): "" for calls about no story. */
static json_t *usage_by_task(struct rlink *l, int64_t *total)
{
    redisReply *r = test_must(l, "XRANGE %s - +", "nr:cost:usage");
    json_t *by = json_object();

    *total = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *fv = r->element[i]->element[1];
        const char *task = "";
        int64_t cost = 0;

        for (size_t k = 0; k + 1 < fv->elements; k += 2) {
            if (strcmp(fv->element[k]->str, "task") == 0)
                task = fv->element[k + 1]->str;
            else if (strcmp(fv->element[k]->str, "cost") == 0)
                cost = strtoll(fv->element[k + 1]->str, NULL, 10);
        }
        json_object_set_new(by, task,
                            json_integer(json_integer_value(json_object_get(by, task)) + cost));
        *total += cost;
    }
    freeReplyObject(r);
    return by;
}

/* Stories not yet PUBLISHED or ARCHIVED. */
static long unfinished(struct bb *bb)
{
    long n = 0;

    for (int st = 0; st < BB_STATUS_COUNT; st++)
        if (st != BB_PUBLISHED_S && st != BB_ARCHIVED && st != BB_FAILED)
            n += swarmenv_count(bb, st);
    return n;
}

/* trace_store_put() straight against the shared server: the cap, the order, the expiry, the
 * index with a batch of hundreds of traces, the index's window and its size bound, and a batch
 * Redis refuses. */
static void test_store(void **state)
{
    struct rlink *l = test_shared_link(STORE_DB, "test_observe");
    enum { MANY = 450, CAP = 3 };
    static char idbuf[MANY][16], entbuf[MANY][32];
    char *ids[MANY], *entries[MANY], *cause = NULL;
    json_t *events = NULL, *list = NULL;
    redisReply *r;
    long long t0;

    (void)state;
    r = test_must(l, "FLUSHDB%s", "");
    freeReplyObject(r);
    t0 = test_server_ms(l);
    /* One trace, five batches: never more than three kept, the newest, oldest first. */
    for (int b = 0; b < 5; b++) {
        snprintf(idbuf[0], sizeof idbuf[0], "story-a");
        snprintf(entbuf[0], sizeof entbuf[0], "[{\"id\":\"e%d\"}]", b);
        ids[0] = idbuf[0];
        entries[0] = entbuf[0];
        if (trace_store_put(l, ids, entries, 1, 60000, CAP, &cause) == -1)
            fail_msg("trace_store_put: %s", cause);
        r = test_must(l, "LLEN %s", TRACE_KEY_PREFIX "story-a");
        assert_int_equal(r->integer, b + 1 < CAP ? b + 1 : CAP);
        freeReplyObject(r);
    }
    assert_int_equal(trace_store_get(l, "story-a", &events, &cause), 0);
    assert_int_equal(json_array_size(events), CAP);
    for (int k = 0; k < CAP; k++) {
        char want[8];

        snprintf(want, sizeof want, "e%d", k + 2);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(events, (size_t)k), "id")), want);
    }
    json_decref(events);
    r = test_must(l, "PTTL %s", TRACE_KEY_PREFIX "story-a");
    assert_true(r->integer > 0 && r->integer <= 60000);
    freeReplyObject(r);
    /* The window: a trace whose last event is older than keep_ms leaves the index at the next
     * batch (the index far below its size bound). */
    r = test_must(l, "ZADD " TRACE_INDEX_KEY " 1000 %s", "story-old");
    freeReplyObject(r);
    /* One batch of MANY traces: each one listed, scored at the writer's time (this host's
     * clock, the server's too). */
    for (int k = 0; k < MANY; k++) {
        snprintf(idbuf[k], sizeof idbuf[k], "story-%03d", k);
        snprintf(entbuf[k], sizeof entbuf[k], "[{\"id\":\"m%d\"}]", k);
        ids[k] = idbuf[k];
        entries[k] = entbuf[k];
    }
    if (trace_store_put(l, ids, entries, MANY, 60000, CAP, &cause) == -1)
        fail_msg("trace_store_put: %s", cause);
    r = test_must(l, "ZCARD %s", TRACE_INDEX_KEY);
    assert_int_equal(r->integer, MANY + 1);
    freeReplyObject(r);
    r = test_must(l, "ZSCORE " TRACE_INDEX_KEY " %s", "story-old");
    assert_int_equal(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    for (int k = 0; k < MANY; k += 149) {
        r = test_must(l, "ZSCORE " TRACE_INDEX_KEY " %s", ids[k]);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_true(atoll(r->str) >= t0 && atoll(r->str) <= test_server_ms(l));
        freeReplyObject(r);
    }
    assert_int_equal(trace_store_list(l, 1000, &list, &cause), 0);
    assert_int_equal(json_array_size(list), MANY + 1);
    json_decref(list);
    /* The size: at TRACE_INDEX_MAX, the oldest go. The index is filled with traces scored half
     * a window ago, lower than every trace above, in one script: fill-<i> at t0 - 30000 + i. */
    {
        char fmt[128];

        snprintf(fmt, sizeof fmt, "EVAL %%s 1 %s %lld %d", TRACE_INDEX_KEY, (long long)t0 - 30000,
                 TRACE_INDEX_MAX);
        r = test_must(l, fmt,
                      "for i = 0, tonumber(ARGV[2]) - 1, 1000 do local m = {} "
                      "for j = i, math.min(i + 999, ARGV[2] - 1) do "
                      "m[#m + 1] = ARGV[1] + j; m[#m + 1] = 'fill-' .. j end "
                      "redis.call('ZADD', KEYS[1], unpack(m)) end");
        freeReplyObject(r);
    }
    ids[0] = idbuf[0];
    entries[0] = entbuf[0];
    if (trace_store_put(l, ids, entries, 1, 60000, CAP, &cause) == -1)
        fail_msg("trace_store_put: %s", cause);
    /* MANY + 1 traces and TRACE_INDEX_MAX fills: the MANY + 1 oldest fills go, to the one. */
    r = test_must(l, "ZCARD %s", TRACE_INDEX_KEY);
    assert_int_equal(r->integer, TRACE_INDEX_MAX);
    freeReplyObject(r);
    {
        char gone[32], kept[32];

        snprintf(gone, sizeof gone, "fill-%d", MANY);
        snprintf(kept, sizeof kept, "fill-%d", MANY + 1);
        r = test_must(l, "ZSCORE " TRACE_INDEX_KEY " %s", gone);
        assert_int_equal(r->type, REDIS_REPLY_NIL);
        freeReplyObject(r);
        r = test_must(l, "ZSCORE " TRACE_INDEX_KEY " %s", kept);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        freeReplyObject(r);
    }
    r = test_must(l, "ZSCORE " TRACE_INDEX_KEY " %s", ids[0]);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    /* A batch Redis refuses (a trace's key holds a string): -1, the cause says why, and the
     * link answers the next command with its own reply. */
    r = test_must(l, "SET " TRACE_KEY_PREFIX "story-str %s", "not a list");
    freeReplyObject(r);
    snprintf(idbuf[1], sizeof idbuf[1], "story-str");
    ids[1] = idbuf[1];
    entries[1] = entbuf[1];
    assert_int_equal(trace_store_put(l, ids, entries, 2, 60000, CAP, &cause), -1);
    assert_non_null(strstr(cause, "WRONGTYPE"));
    free(cause);
    cause = NULL;
    r = test_must(l, "LLEN %s", TRACE_KEY_PREFIX "story-001");
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    r = test_must(l, "FLUSHDB%s", "");
    freeReplyObject(r);
    rlink_free(l);
}

/* ctl trace's copy through the tracer (database 58): a generation with ten prompt messages
 * over the cut, all of them in the fields for Langfuse alone, keeps none of them; a decision
 * with ten long fields (more than the writer lists) has each cut to TRACE_STORE_STRING_MAX
 * bytes and "..."; both read back as JSON with their other fields whole. */
static void test_copy_cuts(void **state)
{
    const struct rlink_options lo = {.connect_timeout_ms = 2000,
                                     .command_timeout_ms = 5000,
                                     .reconnect_base_ms = 20,
                                     .reconnect_max_ms = 200,
                                     .client_name = "test_observe"};
    struct redis_addr a = {.transport = REDIS_UNIX, .db = STORE_DB, .db_set = true};
    const enum fake_lf_answer script[] = {FAKE_LF_OK};
    struct fake_langfuse *f = fake_langfuse_start(script, 1);
    struct rlink *l = test_shared_link(STORE_DB, "test_observe");
    struct tracer_options o;
    struct llm_message msgs[10];
    char big[10][600], *cause = NULL;
    struct llm_response resp = {.text = big[0], .prompt_tokens = 900, .completion_tokens = 30};
    json_t *out = json_object(), *events = NULL, *e;
    struct trace_gen g;
    struct tracer *t;
    redisReply *r;
    size_t i;
    int gens = 0, decisions = 0;

    (void)state;
    r = test_must(l, "FLUSHDB%s", "");
    freeReplyObject(r);
    snprintf(a.path, sizeof a.path, "%s", test_env("NEWSROOM_TEST_REDIS_SOCKET"));
    snprintf(a.password, sizeof a.password, "%s", test_env("NEWSROOM_TEST_REDIS_PASSWORD"));
    for (int k = 0; k < 10; k++) {
        memset(big[k], 'a' + k, sizeof big[k] - 1);
        big[k][sizeof big[k] - 1] = '\0';
        msgs[k] = (struct llm_message){"user", big[k]};
        json_object_set_new(out, (char[]){'f', (char)('0' + k), '\0'}, json_string(big[k]));
    }
    o = options_for(f, 1000, 100, 3, NULL);
    o.addr = &a;
    o.link = &lo;
    o.keep_days = 1;
    o.story_max = 100;
    t = tracer_new(&o, &cause);
    if (t == NULL || tracer_start(t, &cause) == -1)
        fail_msg("tracer: %s", cause);
    trace_install(t, NULL);
    trace_agent("writer-test-1", "writer");
    trace_cycle_begin();
    trace_gen_begin(&g, "story-cut",
                    &(struct llm_request){.messages = msgs, .nmessages = 10, .task_type = "draft"},
                    "sim-balanced", LLM_BALANCED);
    trace_gen_end(&g, &resp, NULL, 1500, 1000, NULL);
    trace_decision(&(struct trace_decision){.story = "story-cut",
                                            .type = "probe",
                                            .outcome = "seen",
                                            .reasoning = "long fields",
                                            .confidence = -1,
                                            .output = out});
    trace_cycle_end(1, NULL);
    trace_install(NULL, NULL);
    tracer_stop(t);
    assert_int_equal(trace_store_get(l, "story-cut", &events, &cause), 0);
    json_array_foreach(events, i, e)
    {
        const char *type = json_string_value(json_object_get(e, "type"));
        const json_t *b = json_object_get(e, "body");

        if (strncmp(type, "generation", 10) == 0) {
            gens++;
            assert_null(json_object_get(b, "input"));
            assert_null(json_object_get(b, "output"));
            assert_string_equal(json_string_value(json_object_get(b, "traceId")), "story-cut");
            if (strcmp(type, "generation-update") == 0) {
                assert_int_equal(json_integer_value(
                                     json_object_get(json_object_get(b, "usageDetails"), "input")),
                                 900);
                assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "metadata"),
                                                                    "cost_micro_usd")),
                                 1500);
            }
        } else if (strcmp(type, "event-create") == 0) {
            const json_t *ob = json_object_get(b, "output");

            decisions++;
            for (int k = 0; k < 10; k++) {
                const char *v =
                    json_string_value(json_object_get(ob, (char[]){'f', (char)('0' + k), '\0'}));

                assert_non_null(v);
                assert_int_equal(strlen(v), TRACE_STORE_STRING_MAX + 3);
                assert_memory_equal(v, big[k], TRACE_STORE_STRING_MAX);
                assert_string_equal(v + TRACE_STORE_STRING_MAX, "...");
            }
            assert_string_equal(json_string_value(json_object_get(ob, "decision")), "seen");
        }
    }
    assert_int_equal(gens, 2);
    assert_int_equal(decisions, 1);
    json_decref(events);
    json_decref(out);
    tracer_free(t);
    rlink_free(l);
    fake_langfuse_stop(f);
}

/* The fields of a generation that only Langfuse gets: ctl trace's copy leaves them out. */
static const char *const langfuse_only[] = {"input", "output",      "modelParameters",
                                            "usage", "costDetails", "completionStartTime"};

/* Each event ctl trace's copy kept (a JSON array, as `ctl trace --json` gives) is the event
 * delivered to Langfuse with the same envelope id: the same type, time and body fields, long
 * strings cut with "...", less the generation fields for Langfuse alone, which the delivered
 * one has. */
static void kept_as_sent(const json_t *kept, struct fake_langfuse *f)
{
    json_t *sent = fake_langfuse_delivered(f), *e, *byid = json_object();
    size_t i, gens = 0;

    json_array_foreach(sent, i, e)
        json_object_set(byid, json_string_value(json_object_get(e, "id")), e);
    assert_true(json_array_size(kept) >= 10);
    json_array_foreach(kept, i, e)
    {
        const json_t *s = json_object_get(byid, json_string_value(json_object_get(e, "id")));
        const json_t *kb = json_object_get(e, "body"), *sb = json_object_get(s, "body"), *v;
        const char *type = json_string_value(json_object_get(e, "type")), *key;

        if (s == NULL)
            fail_msg("kept event %s was not delivered",
                     json_string_value(json_object_get(e, "id")));
        assert_true(json_equal(json_object_get(e, "type"), json_object_get(s, "type")));
        assert_true(json_equal(json_object_get(e, "timestamp"), json_object_get(s, "timestamp")));
        json_object_foreach((json_t *)kb, key, v)
        {
            const json_t *w = json_object_get(sb, key);

            if (json_is_string(v) && json_string_length(v) >= 3 &&
                strcmp(json_string_value(v) + json_string_length(v) - 3, "...") == 0)
                assert_memory_equal(json_string_value(v), json_string_value(w),
                                    json_string_length(v) - 3);
            else if (!json_equal(v, w))
                fail_msg("kept event %s: \"%s\" differs from the delivered one",
                         json_string_value(json_object_get(e, "id")), key);
        }
        if (strncmp(type, "generation", 10) != 0) {
            assert_int_equal(json_object_size(kb), json_object_size(sb));
            continue;
        }
        gens++;
        for (size_t k = 0; k < sizeof langfuse_only / sizeof langfuse_only[0]; k++)
            assert_null(json_object_get(kb, langfuse_only[k]));
        if (strcmp(type, "generation-create") == 0)
            assert_non_null(json_object_get(sb, "input"));
        else if (json_object_get(sb, "level") == NULL)
            assert_non_null(json_object_get(sb, "usage"));
    }
    assert_true(gens >= 6); /* three calls or more, each created and updated */
    json_decref(byid);
    json_decref(sent);
}

static void test_pipeline(void **state)
{
    const enum fake_lf_answer script[] = {FAKE_LF_OK};
    struct fake_langfuse *f = fake_langfuse_start(script, 1);
    struct swarmenv_fx *fx = swarmenv_fx_new(DB, "test_observe", true);
    struct swarm_options so;
    struct tracer_options o = {0};
    struct tracer *t;
    struct swarm *s;
    struct tracer_stats st;
    json_t *got, *e, *traces = json_object(), *gen_cost = json_object(), *by_task;
    struct bb_item **items;
    size_t n = 0, nq, i;
    char next[BB_CURSOR_MAX + 1], *cause = NULL, out[600], url[300], id[NEWS_ID_MAX + 1] = "";
    int64_t usage_total, trace_total = 0;
    const char *key;
    json_t *v;

    (void)state;
    swarmenv_options(&so, DB, fx->cfg, fx->pricing,
                     "scout:1,analyst:2,debater:3,moderator:1,writer:1,qa:1,producer:1,"
                     "publisher:1,archivist:1,approver:1",
                     20, 14);
    so.auto_approve = true;
    o.host = fake_langfuse_url(f);
    o.public_key = FAKE_LF_PUBLIC;
    o.secret_key = FAKE_LF_SECRET;
    o.queue_max = 100000;
    o.queue_max_bytes = 256u << 20;
    o.batch_max = 200;
    o.flush_ms = 100;
    o.timeout_ms = 5000;
    o.retries = 3;
    o.addr = &so.addr;
    o.link = &so.link;
    o.keep_days = 1;
    o.story_max = 2000;
    t = tracer_new(&o, &cause);
    if (t == NULL || tracer_start(t, &cause) == -1)
        fail_msg("tracer: %s", cause);
    trace_install(t, NULL);
    s = swarmenv_start(&so);
    /* Every story terminal: published, archived or FAILED. */
    AWAIT(240, swarm_settled(s) && unfinished(fx->bb) == 0);
    swarm_stop(s);
    swarm_free(s);
    trace_install(NULL, NULL);
    tracer_stop(t);
    tracer_stats(t, &st);
    no_violations(f);
    assert_int_equal(st.delivered, st.queued);

    /* One trace per story: each story on the blackboard has its trace (its session too). */
    got = fake_langfuse_delivered(f);
    json_array_foreach(got, i, e)
    {
        const json_t *body = json_object_get(e, "body");
        const char *type = json_string_value(json_object_get(e, "type"));

        if (strcmp(type, "trace-create") == 0 &&
            json_equal(json_object_get(body, "id"), json_object_get(body, "sessionId")))
            json_object_set_new(traces, json_string_value(json_object_get(body, "id")),
                                json_true());
        if (strcmp(type, "generation-update") == 0 && json_object_get(body, "output") != NULL) {
            const char *tr = json_string_value(json_object_get(body, "traceId"));
            const char *k = strncmp(tr, "batch-", 6) == 0 ? "" : tr;
            json_int_t c = json_integer_value(
                json_object_get(json_object_get(body, "metadata"), "cost_micro_usd"));

            json_object_set_new(gen_cost, k,
                                json_integer(json_integer_value(json_object_get(gen_cost, k)) + c));
            trace_total += c;
        }
    }
    json_decref(got);
    for (int e_i = 0; e_i < 3; e_i++) {
        static const int ends[] = {BB_PUBLISHED_S, BB_ARCHIVED, BB_FAILED};

        assert_int_equal(bb_query(fx->bb, -1, ends[e_i], "", 1000, &items, &nq, next, &cause),
                         BB_OK);
        for (i = 0; i < nq; i++) {
            if (json_object_get(traces, items[i]->id) == NULL)
                fail_msg("story %s has no trace", items[i]->id);
            if (items[i]->status == BB_PUBLISHED_S && id[0] == '\0')
                snprintf(id, sizeof id, "%s", items[i]->id);
            bb_item_free(items[i]);
        }
        free(items);
        n += nq;
    }
    assert_true(n >= 10);
    assert_int_equal(json_object_size(traces), n);
    /* The costs: story by story, and in all, what the cost manager recorded. */
    by_task = usage_by_task(fx->l, &usage_total);
    assert_true(usage_total > 0);
    assert_int_equal(trace_total, usage_total);
    json_object_foreach(by_task, key, v)
    {
        if (json_integer_value(json_object_get(gen_cost, key)) != json_integer_value(v))
            fail_msg("story \"%s\": the trace's generations cost %lld µ$, usage records %lld µ$",
                     key, (long long)json_integer_value(json_object_get(gen_cost, key)),
                     (long long)json_integer_value(v));
        assert_true(*key == '\0' || json_object_get(traces, key) != NULL);
    }
    assert_int_equal(json_object_size(by_task), json_object_size(gen_cost));

    /* ctl trace shows the same story from Redis, with the same cost. */
    assert_true(id[0] != '\0');
    snprintf(out, sizeof out, "%s/trace.out", tmp);
    snprintf(url, sizeof url, "%s", test_shared_url());
    *strrchr(url, '/') = '\0';
    snprintf(url + strlen(url), sizeof url - strlen(url), "/%d", DB);
    assert_int_equal(
        run_newsroom(NULL, url, out, (const char *[]){"ctl", "trace", id, "--json", NULL}), 0);
    {
        char *text = test_read_file(out);
        json_t *j = json_loads(text, 0, NULL);

        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "cost_micro_usd")),
                         json_integer_value(json_object_get(by_task, id)));
        assert_string_equal(json_string_value(json_object_get(j, "status")), "PUBLISHED");
        assert_true(json_integer_value(json_object_get(j, "calls")) >= 3);
        kept_as_sent(json_object_get(j, "events"), f);
        json_decref(j);
        free(text);
    }
    assert_int_equal(run_newsroom(NULL, url, out, (const char *[]){"ctl", "trace", id, NULL}), 0);
    {
        char *text = test_read_file(out);

        assert_non_null(strstr(text, "cost by step"));
        assert_non_null(strstr(text, "decision: coverage"));
        assert_non_null(strstr(text, "sim-"));
        free(text);
    }
    assert_int_equal(
        run_newsroom(NULL, url, out, (const char *[]){"ctl", "trace", "no-such-story", NULL}), 1);
    json_decref(by_task);
    json_decref(traces);
    json_decref(gen_cost);
    tracer_free(t);
    swarmenv_fx_free(fx);
    fake_langfuse_stop(f);
}

static int group_setup(void **state)
{
    char *cause = NULL;

    (void)state;
    tmp = test_tmpdir();
    snprintf(logpath, sizeof logpath, "%s/test.log", tmp);
    if (log_open(logpath, LOG_DEBUG, &cause) == -1) {
        fprintf(stderr, "log: %s\n", cause);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    log_close();
    test_rmrf(tmp);
    free(tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_and_mixed_207),
        cmocka_unit_test(test_retries),
        cmocka_unit_test(test_give_up),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_queue_bound),
        cmocka_unit_test(test_batching),
        cmocka_unit_test(test_flush_by_time),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_jsonl_and_replay),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_copy_cuts),
        cmocka_unit_test(test_pipeline),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
