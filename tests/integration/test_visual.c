/*
 * test_visual.c - the visual chain's network providers (visual.h: HeyGen, RunwayML, OpenAI
 * images, Pexels) against a local fake of their four APIs (fake_visual.h) that checks every
 * request against each provider's documented API and plays their job lifecycles:
 *  - all of them answering: a clip from each story picture (Runway: create, poll, download),
 *    the presenter on the lead sentence (HeyGen: create, poll, download), a generated
 *    illustration (OpenAI), no request breaking the documented API; each paid call recorded
 *    in the usage records at its price and no reservation left; the key in no log line, no
 *    report, no saved choice and no manifest of the video rendered from them;
 *  - jobs that fail (HeyGen "failed", Runway FAILED) and an API answering 500 (OpenAI): each
 *    shot falls down the chain (the story's picture as a still, Pexels' stock photographs
 *    credited as Pexels asks), the failures recorded, their reservations released;
 *  - jobs that never finish: given up at [visual] job_timeout_s, the Runway task cancelled
 *    (DELETE), the shot served further down the chain;
 *  - the budget refusing: paid providers step aside without a request;
 *  - a provider failing often enough opens its circuit breaker: the next story's calls are
 *    refused by the breaker and never reach the service.
 * Costs go through the shared test Redis (database 48). Single-threaded test code (the fake
 * answers on its own threads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/storyboard.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/paths.h"
#include "cost/budget.h"
#include "cost/cost.h"
#include "cost/pricing.h"
#include "cost/usage.h"
#include "fake_visual.h"
#include "media/proc.h"
#include "media/video.h"
#include "media/visual.h"
#include "recovery/breaker.h"
#include "store/rlink.h"
#include "testenv.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB    48
#define KEY   "sk-test-VISUAL-secret-7731"
#define AGENT "producer-v"

static const char script[] = "A crane collapsed at the harbour on Monday. Nobody was hurt, the "
                             "port authority said. Engineers are inspecting the other cranes.";

/* Every log line, to look for the key in. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_text;
static size_t log_len;

static void sink(enum log_level level, const char *line, void *ctx)
{
    size_t n = strlen(line);

    (void)level;
    (void)ctx;
    pthread_mutex_lock(&log_mu);
    log_text = realloc(log_text, log_len + n + 2);
    memcpy(log_text + log_len, line, n);
    log_len += n;
    log_text[log_len++] = '\n';
    log_text[log_len] = '\0';
    pthread_mutex_unlock(&log_mu);
}

struct fx {
    char *dir;
    struct fake_visual *fake;
    struct config *cfg;
    struct rlink *l;
    struct pricing *p;
    struct cost *cost;
};

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = strdup(v);
}

static void picture(struct fx *f, const char *src, const char *name)
{
    char path[700], *cause = NULL, *ff = paths_which("ffmpeg");
    const char *argv[] = {ff,   "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                          "-i", src,        "-frames:v", "1",     path, NULL};

    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    if (proc_run(argv, NULL, 0, NULL, &cause) == -1)
        fail_msg("ffmpeg: %s", cause);
    free(ff);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct budget_options bo;
    const struct breaker_policy lax = {1000, 60000, 60000, 2, 2, 500};
    char tpl[700];

    f->dir = test_tmpdir();
    f->fake = fake_visual_start(KEY, f->dir);
    f->cfg = config_new();
    set_str(&f->cfg->data_dir, f->dir);
    set_str(&f->cfg->video_preset, "ultrafast");
    snprintf(tpl, sizeof tpl, "%s/config/video.conf", test_env("NEWSROOM_SOURCE_DIR"));
    set_str(&f->cfg->video_template, tpl);
    set_str(&f->cfg->pexels_api_key, KEY);
    set_str(&f->cfg->openai_api_key, KEY);
    set_str(&f->cfg->heygen_api_key, KEY);
    set_str(&f->cfg->runway_api_key, KEY);
    set_str(&f->cfg->pexels_base_url, fake_visual_url(f->fake));
    set_str(&f->cfg->openai_base_url, fake_visual_url(f->fake));
    set_str(&f->cfg->heygen_base_url, fake_visual_url(f->fake));
    set_str(&f->cfg->runway_base_url, fake_visual_url(f->fake));
    f->cfg->visual_poll_ms = 20;
    f->cfg->visual_poll_max_ms = 80;
    f->cfg->visual_job_timeout_s = 1;
    f->cfg->visual_request_timeout_ms = 5000;
    breaker_set_local_policy(&lax);
    picture(f, "color=c=0xC03020:s=960x540", "a.png");
    picture(f, "color=c=0x2050D0:s=960x540", "b.png");
    f->l = test_shared_link(DB, "test_visual");
    freeReplyObject(test_must(f->l, "FLUSHDB", NULL));
    f->p = pricing_default();
    budget_options_from_config(&bo, f->cfg);
    f->cost = cost_new(f->l, f->p, &bo, AGENT);
    log_set_level(LOG_DEBUG);
    log_set_sink(sink, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    log_set_sink(NULL, NULL);
    cost_free(f->cost);
    pricing_free(f->p);
    rlink_free(f->l);
    config_free(f->cfg);
    fake_visual_stop(f->fake);
    test_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static json_t *story(struct fx *f, bool pictures)
{
    json_t *images = json_array();

    if (pictures) {
        json_array_append_new(images, json_pack("{s:s, s:s}", "url", "", "kind", "media:content"));
        json_object_set_new(json_array_get(images, 0), "url",
                            json_sprintf("file://%s/a.png", f->dir));
        json_array_append_new(images, json_pack("{s:s, s:s}", "url", "", "kind", "og:image"));
        json_object_set_new(json_array_get(images, 1), "url",
                            json_sprintf("file://%s/b.png", f->dir));
    }
    return json_pack("{s:s, s:s, s:s, s:{s:o}}", "title", "Harbour crane collapses at the port",
                     "source", "Valley Herald", "content", script, "feed", "images", images);
}

/* Runs the chain for story id on a fresh storyboard of the script; returns it. */
static json_t *choose(struct fx *f, const char *id, bool pictures, json_t **report)
{
    struct visual_env ve = {f->cfg, f->cost, id, NULL, NULL};
    struct storyboard_options so;
    json_t *body = story(f, pictures), *sb;
    char work[700], *cause = NULL;

    storyboard_options_default(&so);
    sb = storyboard_build(script, "Harbour crane collapses at the port", "Valley Herald", &so);
    assert_int_equal(json_array_size(json_object_get(sb, "shots")), 6);
    snprintf(work, sizeof work, "%s/visuals/%s", f->dir, id);
    if (visual_choose(&ve, body, sb, work, report, &cause) == -1)
        fail_msg("visual_choose: %s", cause);
    json_decref(body);
    return sb;
}

static const json_t *pic(const json_t *sb, size_t i)
{
    return json_object_get(json_array_get(json_object_get(sb, "shots"), i), "picture");
}

static const char *field(const json_t *sb, size_t i, const char *k)
{
    const char *v = json_string_value(json_object_get(pic(sb, i), k));

    return v != NULL ? v : "";
}

/* Whether shot i's "tried" holds provider with outcome and a why containing what. */
static bool tried(const json_t *sb, size_t i, const char *provider, const char *outcome,
                  const char *what)
{
    const json_t *t = json_object_get(pic(sb, i), "tried"), *e;
    size_t k;

    json_array_foreach(t, k, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "provider")), provider) == 0 &&
            strcmp(json_string_value(json_object_get(e, "outcome")), outcome) == 0 &&
            strstr(json_string_value(json_object_get(e, "why")), what) != NULL)
            return true;
    }
    return false;
}

static void no_violation(struct fx *f)
{
    char *v = fake_visual_violation(f->fake);

    if (v != NULL)
        fail_msg("a request broke the documented API: %s", v);
}

/* Calls and cost (µ$) the usage records give model in the last hour. */
static void usage_of(struct fx *f, const char *model, int64_t *calls, int64_t *cost)
{
    struct usage_sum *s = NULL;
    size_t n = 0;
    char *cause = NULL;
    int64_t now = clock_wall_ms();

    if (usage_sums(f->l, USAGE_BY_MODEL, now - 3600000, now, &s, &n, &cause) == -1)
        fail_msg("usage: %s", cause);
    *calls = *cost = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s[i].name, model) == 0) {
            *calls = s[i].calls;
            *cost = s[i].cost;
        }
    usage_sums_free(s, n);
}

/* No reservation of the agent is left: every one was committed or released. */
static void nothing_reserved(struct fx *f)
{
    struct budget_options bo;
    struct budget_row *rows = NULL;
    struct budget_window g;
    size_t n = 0;
    char *cause = NULL;

    budget_options_from_config(&bo, f->cfg);
    if (budget_status(f->l, &bo, clock_wall_ms(), &rows, &n, &g, &cause) == -1)
        fail_msg("budget: %s", cause);
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].agent, AGENT) == 0)
            assert_int_equal(rows[i].day.reserved, 0);
    assert_int_equal(g.reserved, 0);
    budget_rows_free(rows, n);
}

static void no_key_in(const char *what, const char *text)
{
    if (text != NULL && strstr(text, KEY) != NULL)
        fail_msg("the key is in %s", what);
}

static void no_key_in_json(const char *what, const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);

    no_key_in(what, s);
    free(s);
}

static void test_all_answer(void **state)
{
    struct fx *f = *state;
    json_t *report = NULL, *sb, *pkg = NULL, *man;
    char path[800], *cause = NULL, *text, *saved;
    int64_t calls, cost;

    fake_visual_jobs(f->fake, "heygen", FAKE_JOB_DONE, 2);
    fake_visual_jobs(f->fake, "runway", FAKE_JOB_DONE, 2);
    sb = choose(f, "vis-1", true, &report);
    no_violation(f);
    /* Title: a clip from the first picture; lead: the presenter; then a clip from the second
     * picture; then, the story's pictures used, a generated illustration; closing: text. */
    assert_string_equal(field(sb, 0, "source"), "clip");
    assert_string_equal(field(sb, 0, "link"), "visual_designer");
    assert_string_equal(field(sb, 0, "mark"), "Illustration");
    assert_string_equal(field(sb, 1, "source"), "text");
    assert_string_equal(field(sb, 2, "source"), "presenter");
    assert_string_equal(field(sb, 2, "media"), "clip");
    assert_string_equal(field(sb, 3, "source"), "clip");
    assert_string_equal(field(sb, 4, "source"), "generated");
    assert_string_equal(field(sb, 4, "link"), "visual_designer_simple");
    assert_true(json_is_true(json_object_get(pic(sb, 4), "illustration")));
    assert_string_equal(field(sb, 4, "credit"), "Illustration: generated by OpenAI (gpt-image-1)");
    assert_string_equal(field(sb, 5, "source"), "text");
    /* What each service was asked: the lead sentence read by the avatar. */
    text = fake_visual_last(f->fake, "heygen");
    assert_string_equal(text, "A crane collapsed at the harbour on Monday.");
    free(text);
    text = fake_visual_last(f->fake, "runway");
    assert_non_null(strstr(text, "Harbour crane collapses"));
    free(text);
    assert_int_equal(fake_visual_count(f->fake, "heygen.generate"), 1);
    assert_true(fake_visual_count(f->fake, "heygen.status") >= 3);
    assert_int_equal(fake_visual_count(f->fake, "runway.create"), 2);
    assert_int_equal(fake_visual_count(f->fake, "runway.cancel"), 0);
    assert_int_equal(fake_visual_count(f->fake, "openai.generate"), 1);
    assert_int_equal(fake_visual_count(f->fake, "pexels.search"), 0);
    /* Paid at their prices: two 5 s clips, 3 s of presenter, one image. */
    usage_of(f, "gen4_turbo", &calls, &cost);
    assert_int_equal(calls, 2);
    assert_int_equal(cost, 2 * 250000);
    usage_of(f, "heygen-avatar", &calls, &cost);
    assert_int_equal(calls, 1);
    assert_int_equal(cost, 49500);
    usage_of(f, "gpt-image-1", &calls, &cost);
    assert_int_equal(calls, 1);
    assert_int_equal(cost, 63000);
    assert_true(json_number_value(json_object_get(report, "cost_usd")) > 0.61);
    nothing_reserved(f);
    /* The key nowhere: the storyboard, the report, the saved choice, the log. */
    no_key_in_json("the storyboard", sb);
    no_key_in_json("the report", report);
    snprintf(path, sizeof path, "%s/visuals/vis-1/visuals.json", f->dir);
    saved = test_read_file(path);
    no_key_in("visuals.json", saved);
    free(saved);
    /* The video made of them: clips play, the manifest names every shot's source. */
    json_object_set(sb, "visuals", report);
    snprintf(path, sizeof path, "%s/packages", f->dir);
    if (video_render(f->cfg, path, "vis-1", sb, &pkg, &cause) == -1)
        fail_msg("render: %s", cause);
    snprintf(path, sizeof path, "%s/packages/vis-1/manifest.json", f->dir);
    man = json_load_file(path, 0, NULL);
    assert_non_null(man);
    {
        static const char *const want[] = {"clip", "text",      "presenter",
                                           "clip", "generated", "text"};

        for (size_t i = 0; i < 6; i++)
            assert_string_equal(field(man, i, "source"), want[i]);
        assert_string_equal(field(man, 0, "motion"), "clip");
        assert_string_equal(field(man, 4, "motion"), "pan_right");
    }
    saved = test_read_file(path);
    no_key_in("the manifest", saved);
    free(saved);
    pthread_mutex_lock(&log_mu);
    no_key_in("the log", log_text);
    pthread_mutex_unlock(&log_mu);
    json_decref(man);
    json_decref(pkg);
    json_decref(report);
    json_decref(sb);
}

static void test_failures_fall_back(void **state)
{
    struct fx *f = *state;
    json_t *report = NULL, *sb;
    int64_t calls, cost;

    fake_visual_jobs(f->fake, "heygen", FAKE_JOB_FAIL, 1);
    fake_visual_jobs(f->fake, "runway", FAKE_JOB_FAIL, 1);
    fake_visual_fail(f->fake, "openai", 500);
    sb = choose(f, "vis-2", true, &report);
    no_violation(f);
    /* Title: Runway's task failed, the same picture as a still. */
    assert_string_equal(field(sb, 0, "source"), "feed");
    assert_true(tried(sb, 0, "runway", "failed",
                      "the task failed: The input image could not "
                      "be processed (INPUT_PREPROCESSING.SAFETY)"));
    /* Lead: HeyGen's video failed, then Runway's task, then the second picture. */
    assert_string_equal(field(sb, 2, "source"), "feed");
    assert_true(tried(sb, 2, "heygen", "failed", "the video failed: The avatar could not be"));
    assert_true(tried(sb, 2, "runway", "failed", "the task failed"));
    /* Then OpenAI answers 500: Pexels' photographs, credited as Pexels asks. */
    assert_string_equal(field(sb, 3, "source"), "stock");
    assert_string_equal(field(sb, 3, "link"), "stock_image_agent");
    assert_true(tried(sb, 3, "openai", "failed", "HTTP 500"));
    assert_string_equal(field(sb, 3, "credit"), "Photo by Jo Park on Pexels");
    assert_string_equal(field(sb, 3, "origin"), "https://www.pexels.com/photo/1001/");
    assert_string_equal(field(sb, 4, "source"), "stock");
    assert_string_equal(field(sb, 4, "credit"), "Photo by Ana Ruiz on Pexels");
    assert_int_equal(fake_visual_count(f->fake, "pexels.search"), 1);
    /* Failed calls cost nothing and hold nothing; the search is recorded at its price, $0. */
    usage_of(f, "gen4_turbo", &calls, &cost);
    assert_int_equal(calls, 0);
    usage_of(f, "heygen-avatar", &calls, &cost);
    assert_int_equal(calls, 0);
    usage_of(f, "gpt-image-1", &calls, &cost);
    assert_int_equal(calls, 0);
    usage_of(f, "pexels-search", &calls, &cost);
    assert_int_equal(calls, 1);
    assert_int_equal(cost, 0);
    nothing_reserved(f);
    pthread_mutex_lock(&log_mu);
    no_key_in("the log", log_text);
    pthread_mutex_unlock(&log_mu);
    json_decref(report);
    json_decref(sb);
}

static void test_jobs_never_finish(void **state)
{
    struct fx *f = *state;
    json_t *report = NULL, *sb;
    int64_t t0 = clock_mono_ms(), calls, cost;

    set_str(&f->cfg->visual_designer_simple, "");
    set_str(&f->cfg->stock_image_agent, "");
    fake_visual_jobs(f->fake, "heygen", FAKE_JOB_NEVER, 0);
    fake_visual_jobs(f->fake, "runway", FAKE_JOB_NEVER, 0);
    sb = choose(f, "vis-3", true, &report);
    no_violation(f);
    assert_string_equal(field(sb, 0, "source"), "feed");
    assert_true(tried(sb, 0, "runway", "failed", "did not finish within 1 s"));
    assert_string_equal(field(sb, 2, "source"), "feed");
    assert_true(tried(sb, 2, "heygen", "failed", "did not finish within 1 s"));
    assert_string_equal(field(sb, 3, "source"), "text");
    assert_string_equal(field(sb, 4, "source"), "text");
    /* Both Runway tasks were cancelled when given up; polled, not hammered. */
    assert_int_equal(fake_visual_count(f->fake, "runway.cancel"), 2);
    assert_true(fake_visual_count(f->fake, "runway.task") <= 2 * 20);
    assert_true(clock_mono_ms() - t0 < 30000);
    usage_of(f, "gen4_turbo", &calls, &cost);
    assert_int_equal(calls, 0);
    nothing_reserved(f);
    json_decref(report);
    json_decref(sb);
}

static void test_budget_refuses(void **state)
{
    struct fx *f = *state;
    struct budget_limits lim = {.task = 1}; /* one micro-dollar a story */
    json_t *report = NULL, *sb;
    char *cause = NULL;

    assert_int_equal(budget_set_limits(f->l, AGENT, &lim, BUDGET_SET_TASK, &cause), 0);
    set_str(&f->cfg->stock_image_agent, "");
    sb = choose(f, "vis-4", true, &report);
    assert_true(tried(sb, 0, "runway", "refused", "the budget refused it: the agent_task limit"));
    assert_true(tried(sb, 2, "heygen", "refused", "the budget refused it"));
    assert_true(tried(sb, 3, "openai", "refused", "the budget refused it"));
    assert_string_equal(field(sb, 0, "source"), "feed");
    assert_string_equal(field(sb, 2, "source"), "feed");
    assert_string_equal(field(sb, 3, "source"), "text");
    assert_int_equal(fake_visual_count(f->fake, "runway.create"), 0);
    assert_int_equal(fake_visual_count(f->fake, "heygen.generate"), 0);
    assert_int_equal(fake_visual_count(f->fake, "openai.generate"), 0);
    json_decref(report);
    json_decref(sb);
}

static void test_breaker_opens(void **state)
{
    struct fx *f = *state;
    const struct breaker_policy tight = {2, 60000, 60000, 1, 1, 500};
    json_t *report = NULL, *sb;
    int before;

    breaker_set_local_policy(&tight);
    set_str(&f->cfg->heygen_api_key, "");
    set_str(&f->cfg->runway_api_key, "");
    set_str(&f->cfg->stock_image_agent, "");
    fake_visual_fail(f->fake, "openai", 503);
    /* No pictures of the story: OpenAI is asked for the title and the three sentences. */
    sb = choose(f, "vis-5", false, &report);
    assert_true(tried(sb, 0, "openai", "failed", "HTTP 503"));
    assert_true(tried(sb, 2, "openai", "failed", "HTTP 503"));
    assert_true(tried(sb, 3, "openai", "failed", "circuit breaker visual:openai@"));
    before = fake_visual_count(f->fake, "openai.generate");
    assert_int_equal(before, 2);
    json_decref(report);
    json_decref(sb);
    sb = choose(f, "vis-6", false, &report);
    assert_true(tried(sb, 0, "openai", "failed", "is open"));
    assert_int_equal(fake_visual_count(f->fake, "openai.generate"), before);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(field(sb, i, "source"), "text");
    json_decref(report);
    json_decref(sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_fall_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_never_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breaker_opens, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
