/*
 * test_chaos_provider.c - chaos test 3 of issue 11: an LLM provider that fails every call for
 * 60 s, then recovers. A local OpenAI-compatible server under the test's control
 * (tests/support/fake_llm.c: every request checked against the documented chat completions
 * API; its answers are the sim's, so the roles can use them) stands for OpenAI; one
 * `newsroom swarm` process runs every role with the fallback chain "openai:gpt-4o-mini -> sim"
 * on every tier, on a private redis-server with AOF. Stories arrive one every 2 s for 80 s.
 *
 * What must happen, and is checked: the breaker opens after `failures` failures (plus at most
 * the calls already in flight), the sim serves meanwhile, each half-open round lets at most
 * `trials` calls reach the failing service, once the service is back a half-open round closes
 * it and OpenAI serves again; no story fails or is lost; the fake saw no request that breaks
 * the API. Printed: calls at the provider (failed, answered) and by member from the usage
 * stream, every transition with its time from the start, stories by final status.
 *
 * The binary comes from $NEWSROOM_BINARY. Waits are conditions with deadlines; stories are
 * written at a pace, which is the load, not synchronisation.
 */
#include "agents/wire.h"
#include "core/clock.h"
#include "core/fail.h"
#include "fake_llm.h"
#include "llm/llm.h"
#include "recovery/breaker.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define KEY         "sk-chaos-provider-424242"
#define OUTAGE_MS   60000
#define WRITE_MS    80000
#define WRITE_EVERY 2000
#define FAILURES    5
#define COOLDOWN_S  10
#define TRIALS      2
#define SUCCESSES   2
/* Agents of the swarm that call models at once: the most calls in flight when it opens. */
#define CALLERS 9
#define ROLES                                                                                      \
    "analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,publisher:1,archivist:1,approver:1"

static const char *const aof[] = {"--appendonly", "yes", NULL};

/* The sim behind the fake: which task a request is, from the role's system prompt. */
static const struct {
    const char *prefix, *task_type;
} prompts[] = {
    {"You are a news analyst.", "content_analysis"},
    {"You sit on a newsroom's editorial panel", "debate_argument"},
    {"You are the quality desk", "quality_assurance"},
    {"You screen news items for a newsroom.", "topic_tagging"},
    {"You are a broadcast news writer.", "script_draft"},
    {"You are a broadcast news editor.", "script_draft"},
    {"You are the senior news writer.", "script_final"},
};

struct sim_answer {
    struct llm_provider *sim;
    int unknown; /* requests whose system prompt matched no row (read after the fake stops) */
};

/* fake_llm's answer hook: the sim's answer to the same messages (on the server's threads;
 * the sim provider is shareable). */
static char *answer_like_sim(void *ctx, json_t *body)
{
    struct sim_answer *a = ctx;
    struct llm_message msgs[8];
    struct llm_request req = {0};
    struct llm_response resp;
    const char *sys = "";
    size_t i, n = 0;
    json_t *m;
    char *cause = NULL, *text;

    json_array_foreach(json_object_get(body, "messages"), i, m)
    {
        if (n < 8) {
            msgs[n].role = json_string_value(json_object_get(m, "role"));
            msgs[n].content = json_string_value(json_object_get(m, "content"));
            if (strcmp(msgs[n].role, "system") == 0)
                sys = msgs[n].content;
            n++;
        }
    }
    for (i = 0; i < sizeof prompts / sizeof prompts[0]; i++)
        if (strncmp(sys, prompts[i].prefix, strlen(prompts[i].prefix)) == 0)
            req.task_type = prompts[i].task_type;
    if (req.task_type == NULL) {
        a->unknown++;
        return NULL;
    }
    req.model = json_string_value(json_object_get(body, "model"));
    req.messages = msgs;
    req.nmessages = n;
    req.temperature = 0.3;
    req.max_tokens = (int)json_integer_value(json_object_get(body, "max_tokens"));
    req.json = json_object_get(body, "response_format") != NULL;
    if (llm_complete(a->sim, &req, &resp, NULL, &cause) != 0) {
        free(cause);
        return NULL;
    }
    text = resp.text;
    resp.text = NULL;
    llm_response_clear(&resp);
    return text;
}

struct run {
    char *dir;
    char conf[600], data[600], publish[600], url[700];
    struct fake_llm *fake;
    struct rlink *l;
    struct bb *b;
    pid_t swarm;
    int64_t t0_server;
};

static pid_t spawn_swarm(struct run *r)
{
    char out[700], err[700];
    pid_t pid;

    snprintf(out, sizeof out, "%s/swarm.out", r->dir);
    snprintf(err, sizeof err, "%s/swarm.err", r->dir);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        if (freopen(out, "w", stdout) == NULL || freopen(err, "w", stderr) == NULL)
            _exit(127);
        setenv("REDIS_URL", r->url, 1);
        setenv("NEWSROOM_DATA_DIR", r->data, 1);
        setenv("NEWSROOM_PUBLISH_DIR", r->publish, 1);
        setenv("NEWSROOM_CONFIG", r->conf, 1);
        setenv("OPENAI_API_KEY", KEY, 1);
        setenv("NEWSROOM_LOG_LEVEL", "info", 1);
        execl(test_env("NEWSROOM_BINARY"), "newsroom", "swarm", "--roles", ROLES, "--auto-approve",
              (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    return pid;
}

struct transition {
    char from[16], to[16], why[200];
    int64_t at; /* ms from the start */
};

/* The breaker's transitions, oldest first; how many (at most max). */
static int transitions(struct run *r, const char *name, struct transition *out, int max)
{
    redisReply *x = test_must(r->l, "XRANGE %s - +", BREAKER_EVENTS_KEY);
    int n = 0;

    for (size_t i = 0; i < x->elements && n < max; i++) {
        const redisReply *h = x->element[i]->element[1];

        if (strcmp(rlink_reply_field(h, "name"), name) != 0)
            continue;
        snprintf(out[n].from, sizeof out[n].from, "%s", rlink_reply_field(h, "from"));
        snprintf(out[n].to, sizeof out[n].to, "%s", rlink_reply_field(h, "to"));
        snprintf(out[n].why, sizeof out[n].why, "%s", rlink_reply_field(h, "why"));
        out[n].at = strtoll(rlink_reply_field(h, "t"), NULL, 10) - r->t0_server;
        n++;
    }
    freeReplyObject(x);
    return n;
}

/* Usage records by provider, and how many were fallbacks. */
static void usage_by_member(struct run *r, long *openai, long *sim, long *fallbacks)
{
    redisReply *x = test_must(r->l, "XRANGE %s - +", "nr:cost:usage");

    *openai = *sim = *fallbacks = 0;
    for (size_t i = 0; i < x->elements; i++) {
        const redisReply *h = x->element[i]->element[1];
        const char *p = rlink_reply_field(h, "provider");

        *openai += strcmp(p, "openai") == 0;
        *sim += strcmp(p, "sim") == 0;
        *fallbacks += strcmp(rlink_reply_field(h, "fallback"), "1") == 0;
    }
    freeReplyObject(x);
}

static void test_provider_outage(void **state)
{
    struct sim_answer ans = {0};
    struct llm_provider_config sc = {.kind = "sim"};
    struct run r = {0};
    struct transition tr[64];
    char name[BREAKER_NAME_MAX], *cause = NULL, *v;
    long written = 0, counts[BB_STATUS_COUNT] = {0}, openai, sim, fallbacks, failed_stories = 0,
         verdicts = 0;
    int64_t start, next;
    int nt, st, fails, half_rounds = 0;
    bool recovered = false;

    (void)state;
    r.dir = test_tmpdir();
    snprintf(r.conf, sizeof r.conf, "%s/newsroom.conf", r.dir);
    snprintf(r.data, sizeof r.data, "%s/data", r.dir);
    snprintf(r.publish, sizeof r.publish, "%s/publish", r.dir);
    snprintf(r.url, sizeof r.url, "unix://%s", test_private()->sock);
    ans.sim = llm_provider_new(&sc, &cause);
    assert_non_null(ans.sim);
    r.fake = fake_llm_start(FAKE_OPENAI, KEY);
    fake_llm_set_answer(r.fake, answer_like_sim, &ans);
    snprintf(name, sizeof name, "llm:openai@%s", fake_llm_url(r.fake));
    {
        char *text = xasprintf(
            "[providers]\nopenai_base_url = %s\nsim_latency_fast_ms = 50\n"
            "sim_latency_balanced_ms = 100\nsim_latency_premium_ms = 150\n"
            "[fallback]\nfast = openai:gpt-4o-mini -> sim\nbalanced = openai:gpt-4o-mini -> sim\n"
            "premium = openai:gpt-4o-mini -> sim\n"
            "[breakers]\nfailures = %d\nwindow = 60s\ncooldown = %ds\ntrials = %d\n"
            "successes = %d\nrefresh_ms = 200\n[video]\nffmpeg = none\n",
            fake_llm_url(r.fake), FAILURES, COOLDOWN_S, TRIALS, SUCCESSES);

        test_write_file(r.conf, text);
        free(text);
    }
    r.l = rlink_new(test_private_addr(), &(struct rlink_options){.connect_timeout_ms = 2000,
                                                                 .command_timeout_ms = 5000,
                                                                 .reconnect_base_ms = 20,
                                                                 .reconnect_max_ms = 200});
    r.b = bb_new(r.l, "chaos");
    freeReplyObject(test_must(r.l, "FLUSHALL%s", ""));

    /* The outage is on from the start. */
    fake_llm_fail(r.fake, 503);
    r.t0_server = swarmenv_server_ms(r.l);
    start = clock_mono_ms();
    r.swarm = spawn_swarm(&r);
    for (long i = 0; clock_mono_ms() - start < WRITE_MS; i++) {
        enum wire_kind kind;
        json_t *j = wire_story(33, i, &kind, NULL);
        struct news_item *it = kind == WIRE_NORMAL ? news_item_from_json(j, &cause) : NULL;
        char existing[NEWS_ID_MAX + 1];

        json_decref(j);
        if (it != NULL) {
            if (bb_write(r.b, it, NULL, BB_PENDING, true, existing, &cause) == BB_OK)
                written++;
            news_item_free(it);
        }
        next = start + (i + 1) * WRITE_EVERY;
        while (clock_mono_ms() < next) {
            if (!recovered && clock_mono_ms() - start >= OUTAGE_MS) {
                fake_llm_fail(r.fake, 0); /* the provider is back */
                recovered = true;
            }
            clock_sleep_ms(50, NULL); /* the pace of the load */
        }
        assert_int_equal(waitpid(r.swarm, &st, WNOHANG), 0);
    }
    /* Every story ends; the breaker ends closed. */
    AWAIT(180, swarmenv_open(r.b) == 0);
    AWAIT(60, (nt = transitions(&r, name, tr, 64)) > 0 && strcmp(tr[nt - 1].to, "closed") == 0);
    kill(r.swarm, SIGTERM);
    assert_int_equal(waitpid(r.swarm, &st, 0), r.swarm);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* The figures. */
    {
        long c[BB_SECTION_COUNT][BB_STATUS_COUNT];

        assert_int_equal(bb_counts(r.b, c, &cause), BB_OK);
        for (int s = 0; s < BB_SECTION_COUNT; s++)
            for (int k = 0; k < BB_STATUS_COUNT; k++)
                counts[k] += c[s][k];
    }
    {
        redisReply *x = test_must(r.l, "ZRANGE " BB_PREFIX "st:FAILED 0 -1%s", "");

        for (size_t i = 0; i < x->elements; i++) {
            redisReply *h =
                test_must(r.l, "HGET " BB_PREFIX "item:%s fail_reason", x->element[i]->str);

            /* A script QA judged below the bar in its last round is the newsroom's verdict on
             * the story (FAILED, in the dead set), as in any run; a failure that names the model
             * calls would be the outage's. */
            if (h->str != NULL) {
                bool outage = strstr(h->str, "call failed") != NULL ||
                              strstr(h->str, "unavailable") != NULL ||
                              strstr(h->str, "breaker") != NULL || strstr(h->str, "503") != NULL;

                print_message("story %s ended FAILED %s: %s\n", x->element[i]->str,
                              outage ? "BY THE OUTAGE" : "on its merits", h->str);
                failed_stories += outage;
                verdicts += !outage;
            }
            freeReplyObject(h);
        }
        freeReplyObject(x);
    }
    usage_by_member(&r, &openai, &sim, &fallbacks);
    nt = transitions(&r, name, tr, 64);
    print_message("provider: %d calls failed during the outage, %d answered after it\n",
                  fake_llm_failed(r.fake), fake_llm_succeeded(r.fake));
    print_message("usage records: %ld served by openai, %ld by sim (%ld as a fallback)\n", openai,
                  sim, fallbacks);
    for (int i = 0; i < nt; i++)
        print_message("  %7.1f s  %s -> %s (%s)\n", (double)tr[i].at / 1000, tr[i].from, tr[i].to,
                      tr[i].why);
    print_message("stories: %ld written; %ld published, %ld archived, %ld FAILED (%ld by QA on "
                  "their merits, %ld by the outage), %ld not terminal\n",
                  written, counts[BB_PUBLISHED_S], counts[BB_ARCHIVED], counts[BB_FAILED],
                  verdicts, failed_stories, swarmenv_open(r.b));

    /* The policy, call by call. */
    assert_true(nt >= 3);
    assert_string_equal(tr[0].from, "closed");
    assert_string_equal(tr[0].to, "open");
    assert_true(strncmp(tr[0].why, "5 failure(s) within", 19) == 0);
    fails = fake_llm_failed(r.fake);
    for (int i = 0; i < nt; i++)
        half_rounds += strcmp(tr[i].to, "half_open") == 0;
    /* N failures opened it (and at most the calls in flight then); then at most `trials` calls
     * a half-open round reached the failing service. */
    assert_true(fails >= FAILURES);
    assert_true(fails <= FAILURES + CALLERS + TRIALS * half_rounds);
    /* Half-open rounds while it failed reopened it; the last closed it after the recovery. */
    assert_string_equal(tr[nt - 2].to, "half_open");
    assert_string_equal(tr[nt - 1].to, "closed");
    assert_true(strncmp(tr[nt - 1].why, "2 trial call(s) succeeded", 25) == 0);
    assert_true(tr[nt - 1].at >= OUTAGE_MS - 1000);
    assert_true(tr[nt - 1].at <= OUTAGE_MS + 2 * COOLDOWN_S * 1000 + 5000);
    for (int i = 1; i < nt - 1; i++)
        if (strcmp(tr[i].to, "closed") == 0)
            fail_msg("the breaker closed at %.1f s, during the outage", (double)tr[i].at / 1000);
    /* The fallback served in the outage; OpenAI after it. */
    assert_true(fallbacks > 0);
    assert_true(openai >= SUCCESSES);
    assert_true(fake_llm_succeeded(r.fake) >= SUCCESSES);
    /* No story failed or was lost. */
    assert_true(written >= 20);
    assert_int_equal(counts[BB_FAILED], verdicts);
    assert_int_equal(failed_stories, 0);
    assert_int_equal(swarmenv_open(r.b), 0);
    v = fake_llm_violation(r.fake);
    if (v != NULL)
        fail_msg("a request broke the API: %s", v);
    fake_llm_stop(r.fake);
    assert_int_equal(ans.unknown, 0);
    llm_provider_free(ans.sim);
    bb_free(r.b);
    rlink_free(r.l);
    test_rmrf(r.dir);
    free(r.dir);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    return test_private_start(aof);
}

static int group_teardown(void **state)
{
    (void)state;
    test_private_stop();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_outage),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
