/*
 * test_budget.c - budgets, usage and early stopping against the shared test Redis (database
 * 7, flushed before each test), with the wall clock injected (clock_set_wall) and the times
 * passed to the scripts, so windows roll over without waiting:
 *   the race: 8 threads with a link each and a second process (budget_racer) reserving and
 *   committing thousands of times against a small daily limit: committed spend never passes
 *   the limit, every sum is exact, reservations all return, one alert, one open request;
 *   reservations/s is printed on stderr;
 *   a killed caller's reservation lapses after its TTL (and not before);
 *   hourly and daily windows roll over; an alert goes out once per window (bus and event),
 *   never with alerts off; the per-task limit; the global limit; a refusal opens one request
 *   (more refusals add waiting tasks), a grant raises that limit for that window and is
 *   audited, a decline too; a commit is idempotent; the budgeted call with the sim provider
 *   commits what it used and defers when over the limit; usage sums by dimension; early
 *   stopping in both directions with its record and savings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "budget_race.h"
#include "core/clock.h"
#include "cost/budget.h"
#include "cost/cost.h"
#include "cost/early_stop.h"
#include "cost/pricing.h"
#include "cost/usage.h"
#include "store/audit.h"
#include "store/bus.h"
#include "store/rlink.h"
#include "testenv.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* 2026-11-28 12:30:00 UTC */
#define T0      1795869000000LL
#define HOUR_MS 3600000LL
#define DAY_MS  (24 * HOUR_MS)

static int64_t fake_now = T0;
static int64_t fake_clock(void)
{
    return fake_now;
}

static const struct budget_options base_opts = {
    .global_daily = 0, .alerts = true, .alert_ppm = 800000, .reservation_ttl_ms = 60000};

static redisReply *must(struct rlink *l, const char *fmt, ...)
{
    char *cause = NULL;
    const char *argv[8];
    int argc = 0;
    va_list ap;
    redisReply *r;

    /* fmt is a space-separated command without % directives; the va_args fill "?" words. */
    char *copy = strdup(fmt), *save = NULL;
    va_start(ap, fmt);
    for (char *w = strtok_r(copy, " ", &save); w != NULL && argc < 8;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = strcmp(w, "?") == 0 ? va_arg(ap, const char *) : w;
    va_end(ap);
    r = rlink_command_argv(l, &cause, argc, argv, NULL);
    free(copy);
    if (r == NULL)
        fail_msg("%s: %s", fmt, cause);
    return r;
}

static long long hget(struct rlink *l, const char *key, const char *field)
{
    redisReply *r = must(l, "HGET ? ?", key, field);
    long long v = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;

    freeReplyObject(r);
    return v;
}

static long long count(struct rlink *l, const char *cmd, const char *key)
{
    redisReply *r = must(l, cmd, key);
    long long v = r->integer;

    freeReplyObject(r);
    return v;
}

static char *day_key(int64_t ms)
{
    char day[USAGE_DAY_LEN], hour[USAGE_HOUR_LEN];

    usage_windows(ms, day, hour);
    char *key = malloc(64);

    snprintf(key, 64, "%sd:%s", COST_PREFIX, day);
    return key;
}

static int setup(void **state)
{
    struct rlink *l = budget_race_link("newsroom-test-budget");

    if (l == NULL)
        test_env("NEWSROOM_TEST_REDIS_SOCKET");
    freeReplyObject(must(l, "FLUSHDB"));
    fake_now = T0;
    clock_set_wall(fake_clock);
    *state = l;
    return 0;
}

static int teardown(void **state)
{
    clock_set_wall(NULL);
    rlink_free(*state);
    return 0;
}

static void set_limits(struct rlink *l, const char *agent, int64_t daily, int64_t hourly,
                       int64_t task)
{
    struct budget_limits lim = {.daily = daily, .hourly = hourly, .task = task};
    char *cause = NULL;

    if (budget_set_limits(l, agent, &lim, BUDGET_SET_DAILY | BUDGET_SET_HOURLY | BUDGET_SET_TASK,
                          &cause) == -1)
        fail_msg("%s", cause);
}

/* Reserves and expects rc; returns the id (static buffer) or the refusal in *ref. */
static const char *reserve(struct rlink *l, const struct budget_options *o, int64_t now,
                           const char *agent, const char *task, int64_t amount, int want,
                           struct budget_refusal *ref)
{
    static char id[BUDGET_ID_MAX];
    struct budget_refusal dummy;
    char *cause = NULL;
    int rc = budget_reserve(l, o, now, agent, task, amount, id, ref != NULL ? ref : &dummy, &cause);

    if (rc == -1)
        fail_msg("reserve: %s", cause);
    if (rc != want)
        fail_msg("reserve %s %lld at %lld: got %d, wanted %d", agent, (long long)amount,
                 (long long)now, rc, want);
    return id;
}

static int commit(struct rlink *l, const struct budget_options *o, int64_t now, const char *id,
                  const char *agent, const char *task, int64_t cost)
{
    struct usage_record u = {.agent = agent,
                             .task = task,
                             .task_type = "content_analysis",
                             .model = "sim-balanced",
                             .tier = LLM_BALANCED,
                             .prompt_tokens = 100,
                             .completion_tokens = 50,
                             .duration_ms = 7,
                             .confidence = 0.7,
                             .cost = cost};
    char *cause = NULL;
    int alerts = 0;

    if (budget_commit(l, o, now, id, &u, &alerts, &cause) == -1)
        fail_msg("commit: %s", cause);
    return alerts;
}

/* ---- the race ---- */

#define RACE_THREADS 8
#define RACE_ITERS   3000
#define RACE_LIMIT   200000 /* $0.20 */

struct racer {
    pthread_t th;
    unsigned seed;
    struct race_result r;
    char *error;
};

static void *race_thread(void *arg)
{
    struct racer *rc = arg;
    struct rlink *l = budget_race_link("newsroom-test-budget-race");

    if (budget_race_run(l, &base_opts, "racer", RACE_ITERS, rc->seed, T0, &rc->r, &rc->error) ==
            -1 &&
        rc->error == NULL)
        rc->error = strdup("failed");
    rlink_free(l);
    return NULL;
}

/* Runs the helper with args; its stdout on *out (a pipe). */
static pid_t spawn(const char *const args[], FILE **out)
{
    int fd[2];
    pid_t pid;

    if (pipe(fd) == -1)
        fail_msg("pipe");
    pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execv(args[0], (char *const *)(uintptr_t)args);
        _exit(127);
    }
    close(fd[1]);
    *out = fdopen(fd[0], "r");
    return pid;
}

static void test_race(void **state)
{
    struct rlink *l = *state;
    struct racer racers[RACE_THREADS];
    char now[24], iters[16], *dk = day_key(T0), line[256];
    const char *args[] = {
        test_env("NEWSROOM_BUDGET_RACER"), "race", "racer", iters, "99", now, NULL};
    struct race_result total = {0}, proc = {0};
    struct usage_sum *sums;
    size_t nsums;
    FILE *out;
    pid_t pid;
    int status;
    int64_t t0;
    double secs;
    char *cause = NULL;

    set_limits(l, "racer", RACE_LIMIT, 0, 0);
    snprintf(now, sizeof now, "%lld", T0);
    snprintf(iters, sizeof iters, "%d", RACE_ITERS);
    t0 = clock_mono_us();
    pid = spawn(args, &out);
    for (int i = 0; i < RACE_THREADS; i++) {
        memset(&racers[i], 0, sizeof racers[i]);
        racers[i].seed = 1000u + (unsigned)i;
        assert_int_equal(pthread_create(&racers[i].th, NULL, race_thread, &racers[i]), 0);
    }
    for (int i = 0; i < RACE_THREADS; i++) {
        pthread_join(racers[i].th, NULL);
        if (racers[i].error != NULL)
            fail_msg("racer %d: %s", i, racers[i].error);
        total.committed += racers[i].r.committed;
        total.ok += racers[i].r.ok;
        total.refused += racers[i].r.refused;
        total.commits += racers[i].r.commits;
        total.alerts += racers[i].r.alerts;
    }
    if (fgets(line, sizeof line, out) == NULL ||
        sscanf(line, "committed %lld ok %ld refused %ld released %ld commits %ld alerts %ld",
               (long long *)&proc.committed, &proc.ok, &proc.refused, &proc.released, &proc.commits,
               &proc.alerts) != 6)
        fail_msg("budget_racer said nothing useful");
    fclose(out);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    secs = (double)(clock_mono_us() - t0) / 1e6;
    total.committed += proc.committed;
    total.ok += proc.ok;
    total.refused += proc.refused;
    total.commits += proc.commits;
    total.alerts += proc.alerts;
    fprintf(stderr,
            "budget race: %d threads + 1 process, %ld reservations asked (%ld granted, %ld "
            "refused), %ld commits in %.2f s: %.0f reservations/s, %.0f script calls/s\n",
            RACE_THREADS, total.ok + total.refused, total.ok, total.refused, total.commits, secs,
            (double)(total.ok + total.refused) / secs,
            (double)(total.ok + total.refused + total.ok) / secs);
    /* Never past the limit, and exact to the micro-dollar. */
    assert_true(total.committed <= RACE_LIMIT);
    assert_int_equal(hget(l, dk, "spent:racer"), total.committed);
    assert_int_equal(hget(l, dk, "spent:*"), total.committed);
    assert_int_equal(hget(l, dk, "res:racer"), 0);
    assert_int_equal(hget(l, dk, "res:*"), 0);
    assert_int_equal(count(l, "ZCARD ?", BUDGET_RESV_KEY), 0);
    assert_true(total.refused > 0); /* the limit was reached: the race was real */
    assert_true(proc.ok > 0);
    /* One alert for the window, however many crossed it at once; one open request. */
    assert_int_equal(total.alerts, 1);
    assert_int_equal(count(l, "XLEN ?", BUDGET_EVENTS_KEY), 1);
    assert_int_equal(count(l, "HLEN ?", COST_PREFIX "req:open"), 1);
    /* The usage sums agree with the budget. */
    if (usage_sums(l, USAGE_BY_AGENT, T0, T0, &sums, &nsums, &cause) == -1)
        fail_msg("%s", cause);
    assert_int_equal(nsums, 1);
    assert_string_equal(sums[0].name, "racer");
    assert_int_equal(sums[0].cost, total.committed);
    assert_int_equal(sums[0].calls, total.commits);
    usage_sums_free(sums, nsums);
    free(dk);
}

/* A caller killed between reserve and commit: its reservation counts until its TTL, then
 * lapses. */
static void test_dead_caller_lapses(void **state)
{
    struct rlink *l = *state;
    char now[24], *dk = day_key(T0), line[128];
    const char *args[] = {
        test_env("NEWSROOM_BUDGET_RACER"), "hang", "victim", "500", now, "300", NULL};
    FILE *out;
    pid_t pid;
    int status;

    snprintf(now, sizeof now, "%lld", T0);
    set_limits(l, "victim", 1000, 0, 0);
    pid = spawn(args, &out);
    if (fgets(line, sizeof line, out) == NULL || strncmp(line, "reserved ", 9) != 0)
        fail_msg("budget_racer hang said \"%s\"", line);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    fclose(out);
    assert_int_equal(hget(l, dk, "res:victim"), 500);
    /* Before the TTL: still counted, so 600 more would pass the limit. */
    reserve(l, &base_opts, T0 + 299, "victim", NULL, 600, 1, NULL);
    assert_int_equal(hget(l, dk, "res:victim"), 500);
    /* After it: gone, and the budget is whole again. */
    reserve(l, &base_opts, T0 + 301, "victim", NULL, 1000, 0, NULL);
    assert_int_equal(hget(l, dk, "res:victim"), 1000);
    free(dk);
}

/* A reading (ctl budget, the control room) never shows a lapsed reservation as reserved. */
static void test_reading_skips_lapsed(void **state)
{
    struct rlink *l = *state;
    struct budget_options o = base_opts;
    struct budget_row *rows = NULL;
    struct budget_window g;
    size_t n = 0;
    char *cause = NULL;

    o.reservation_ttl_ms = 300;
    set_limits(l, "idle-1", 1000, 0, 0);
    reserve(l, &o, T0, "idle-1", NULL, 400, 0, NULL);
    assert_int_equal(budget_status(l, &o, T0 + 299, &rows, &n, &g, &cause), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].day.reserved, 400);
    assert_int_equal(g.reserved, 400);
    budget_rows_free(rows, n);
    assert_int_equal(budget_status(l, &o, T0 + 301, &rows, &n, &g, &cause), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].day.reserved, 0);
    assert_int_equal(rows[0].hour.reserved, 0);
    assert_int_equal(g.reserved, 0);
    budget_rows_free(rows, n);
}

static void test_rollover(void **state)
{
    struct rlink *l = *state;
    /* 23:30 on day one. */
    int64_t late = T0 + 11 * HOUR_MS, next_hour = late + HOUR_MS / 2, next_day = next_hour;
    struct budget_refusal ref;
    const char *id;

    set_limits(l, "r", 1000, 600, 0);
    id = reserve(l, &base_opts, late, "r", NULL, 600, 0, NULL);
    commit(l, &base_opts, late, id, "r", NULL, 600);
    reserve(l, &base_opts, late, "r", NULL, 1, 1, &ref);
    assert_string_equal(ref.limit, "agent_hourly");
    assert_string_equal(ref.window, "2026112823");
    /* Midnight: a new hour and a new day. */
    id = reserve(l, &base_opts, next_day, "r", NULL, 600, 0, NULL);
    commit(l, &base_opts, next_day, id, "r", NULL, 400);
    id = reserve(l, &base_opts, next_day + HOUR_MS, "r", NULL, 600, 0, NULL);
    commit(l, &base_opts, next_day + HOUR_MS, id, "r", NULL, 600);
    /* Day two has 1000 spent: the daily limit refuses, an hour later too. */
    reserve(l, &base_opts, next_day + 2 * HOUR_MS, "r", NULL, 1, 1, &ref);
    assert_string_equal(ref.limit, "agent_daily");
    assert_string_equal(ref.window, "20261129");
    assert_int_equal(ref.cap, 1000);
    assert_int_equal(ref.used, 1000);
    reserve(l, &base_opts, next_day + DAY_MS, "r", NULL, 600, 0, NULL);
}

static atomic_int alerts_heard;
static void on_alert(const struct msg *m, const char *channel, void *ctx)
{
    (void)channel;
    (void)ctx;
    if (m->type == MSG_BUDGET_ALERT)
        atomic_fetch_add(&alerts_heard, 1);
}

static void test_alert_once_per_window(void **state)
{
    struct rlink *l = *state;
    struct redis_addr a = {.transport = REDIS_UNIX, .db = BUDGET_RACE_DB};
    struct rlink_options o = {.connect_timeout_ms = 2000,
                              .command_timeout_ms = 5000,
                              .reconnect_base_ms = 20,
                              .reconnect_max_ms = 200,
                              .client_name = "newsroom-test-budget-sub"};
    struct budget_options off = base_opts;
    struct bus_sub *s;
    char *cause = NULL;
    const char *id;

    snprintf(a.path, sizeof a.path, "%s", test_env("NEWSROOM_TEST_REDIS_SOCKET"));
    snprintf(a.password, sizeof a.password, "%s", test_env("NEWSROOM_TEST_REDIS_PASSWORD"));
    atomic_store(&alerts_heard, 0);
    s = bus_sub_new(&a, &o);
    assert_int_equal(bus_sub_add_channel(s, bus_broadcast_channel(BUS_ALL), &cause), 0);
    assert_int_equal(bus_sub_on(s, MSG_BUDGET_ALERT, on_alert, NULL, &cause), 0);
    assert_int_equal(bus_sub_start(s, &cause), 0);
    assert_int_equal(bus_sub_wait_subscribed(s, 1, 5000), 0);

    set_limits(l, "al", 1000, 0, 0);
    id = reserve(l, &base_opts, T0, "al", NULL, 500, 0, NULL);
    assert_int_equal(commit(l, &base_opts, T0, id, "al", NULL, 500), 0);
    id = reserve(l, &base_opts, T0, "al", NULL, 400, 0, NULL);
    assert_int_equal(commit(l, &base_opts, T0, id, "al", NULL, 300), 1); /* 800 of 1000 */
    id = reserve(l, &base_opts, T0, "al", NULL, 100, 0, NULL);
    assert_int_equal(commit(l, &base_opts, T0, id, "al", NULL, 100), 0); /* once per window */
    /* The next day is a new window; with alerts off nothing goes out. */
    id = reserve(l, &off, T0 + DAY_MS, "al", NULL, 900, 0, NULL);
    assert_int_equal(commit(l, &base_opts, T0 + DAY_MS, id, "al", NULL, 900), 1);
    off.alerts = false;
    id = reserve(l, &off, T0 + 2 * DAY_MS, "al", NULL, 900, 0, NULL);
    assert_int_equal(commit(l, &off, T0 + 2 * DAY_MS, id, "al", NULL, 900), 0);
    assert_int_equal(count(l, "XLEN ?", BUDGET_EVENTS_KEY), 2);
    /* Both alerts arrive on the bus: await them (a third would be counted before the end). */
    for (int64_t end = clock_mono_ms() + 5000;
         atomic_load(&alerts_heard) < 2 && clock_mono_ms() < end;)
        clock_sleep_ms(5, NULL);
    bus_sub_free(s);
    assert_int_equal(atomic_load(&alerts_heard), 2);
}

static void test_task_and_global_limits(void **state)
{
    struct rlink *l = *state;
    struct budget_options g = base_opts;
    struct budget_refusal ref;
    const char *id;

    set_limits(l, "t", 0, 0, 300);
    id = reserve(l, &g, T0, "t", "task-a", 200, 0, NULL);
    commit(l, &g, T0, id, "t", "task-a", 200);
    reserve(l, &g, T0, "t", "task-a", 200, 1, &ref);
    assert_string_equal(ref.limit, "agent_task");
    assert_string_equal(ref.window, "task:task-a");
    reserve(l, &g, T0, "t", "task-b", 200, 0, NULL);
    /* Global: 1000 for the swarm; two agents without limits of their own. */
    g.global_daily = 1000;
    reserve(l, &g, T0, "g1", NULL, 500, 0, NULL); /* 200 + 200 + 500 = 900 */
    reserve(l, &g, T0, "g2", NULL, 200, 1, &ref);
    assert_string_equal(ref.limit, "global_daily");
    assert_int_equal(ref.used, 900);
    reserve(l, &g, T0, "g2", NULL, 100, 0, NULL);
}

static void test_requests_grant_decline(void **state)
{
    struct rlink *l = *state;
    struct budget_refusal ref, ref2;
    struct budget_request *reqs;
    struct audit_entry *audit;
    size_t n, na;
    int64_t granted = 0;
    char *cause = NULL, rid[BUDGET_ID_MAX];
    const char *id;

    set_limits(l, "q", 1000, 0, 0);
    id = reserve(l, &base_opts, T0, "q", NULL, 900, 0, NULL);
    commit(l, &base_opts, T0, id, "q", NULL, 900);
    reserve(l, &base_opts, T0, "q", "story-1", 300, 1, &ref);
    reserve(l, &base_opts, T0, "q", "story-2", 400, 1, &ref2);
    reserve(l, &base_opts, T0, "q", "story-2", 150, 1, NULL);
    assert_string_equal(ref.request_id, ref2.request_id);
    snprintf(rid, sizeof rid, "%s", ref.request_id);
    assert_int_equal(budget_requests(l, true, 100, &reqs, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(reqs[0].agent, "q");
    assert_string_equal(reqs[0].limit, "agent_daily");
    assert_string_equal(reqs[0].window, "20261128");
    assert_int_equal(reqs[0].needed, 300); /* the largest shortfall */
    assert_int_equal(reqs[0].waiting, 2);
    budget_requests_free(reqs, n);
    /* Grant the amount needed: the limit for this day is 1300, and only for this day. */
    assert_int_equal(budget_grant(l, rid, -1, &granted, &cause), 0);
    assert_int_equal(granted, 300);
    reserve(l, &base_opts, T0, "q", "story-2", 400, 0, NULL);
    assert_int_equal(budget_grant(l, rid, -1, NULL, &cause), -1);
    assert_non_null(strstr(cause, "already granted"));
    free(cause);
    cause = NULL;
    /* A new refusal opens a new request; decline it. */
    reserve(l, &base_opts, T0, "q", "story-3", 100, 1, &ref);
    assert_string_not_equal(ref.request_id, rid);
    assert_int_equal(budget_decline(l, ref.request_id, &cause), 0);
    assert_int_equal(budget_requests(l, true, 100, &reqs, &n, &cause), 0);
    assert_int_equal(n, 0);
    budget_requests_free(reqs, n);
    assert_int_equal(budget_requests(l, false, 100, &reqs, &n, &cause), 0);
    assert_int_equal(n, 2);
    assert_string_equal(reqs[0].status, "declined");
    assert_string_equal(reqs[1].status, "granted");
    budget_requests_free(reqs, n);
    assert_int_equal(audit_read(l, 10, &audit, &na, &cause), 0);
    assert_int_equal(na, 2);
    assert_string_equal(audit[0].what, "budget-decline");
    assert_string_equal(audit[1].what, "budget-grant");
    audit_entries_free(audit, na);
    assert_int_equal(budget_grant(l, "999", 5, NULL, &cause), -1);
    free(cause);
    cause = NULL;
    assert_int_equal(budget_grant(l, "1; DROP", 5, NULL, &cause), -1);
    free(cause);
}

static void test_commit_idempotent_and_release(void **state)
{
    struct rlink *l = *state;
    char *dk = day_key(T0), id[BUDGET_ID_MAX], *cause = NULL;

    snprintf(id, sizeof id, "%s", reserve(l, &base_opts, T0, "i", "x", 100, 0, NULL));
    commit(l, &base_opts, T0, id, "i", "x", 80);
    assert_int_equal(commit(l, &base_opts, T0, id, "i", "x", 80), 0);
    assert_int_equal(hget(l, dk, "spent:i"), 80);
    snprintf(id, sizeof id, "%s", reserve(l, &base_opts, T0, "i", "x", 100, 0, NULL));
    assert_int_equal(hget(l, dk, "res:i"), 100);
    assert_int_equal(budget_release(l, &base_opts, T0, id, &cause), 0);
    assert_int_equal(hget(l, dk, "res:i"), 0);
    assert_int_equal(hget(l, COST_PREFIX "task:x", "res:t"), 0);
    assert_int_equal(hget(l, COST_PREFIX "task:x", "spent:t"), 80);
    free(dk);
}

static void test_budgeted_call_sim(void **state)
{
    struct rlink *l = *state;
    struct llm_provider_config pc = {.kind = "sim"};
    struct pricing *p = pricing_default();
    struct llm_message msgs[] = {{"user", "Storm closes the harbour; ferries cancelled until "
                                          "Friday, the port authority said on Tuesday."}};
    struct llm_request req = {.model = "sim-fast",
                              .messages = msgs,
                              .nmessages = 1,
                              .temperature = 0.2,
                              .max_tokens = 200,
                              .task_type = "news_scout",
                              .seed = 7};
    struct llm_response resp;
    struct budget_refusal ref;
    struct usage_sum *sums;
    size_t n;
    char *cause = NULL, *dk = day_key(T0);
    struct llm_provider *prov = llm_provider_new(&pc, &cause);
    struct cost *c;
    int64_t est = cost_estimate(p, &req);

    if (prov == NULL)
        fail_msg("%s", cause);
    assert_true(est > 0);
    c = cost_new(l, p, &base_opts, "scout-1");
    if (cost_complete(c, prov, "item-1", &req, &resp, &ref, NULL, &cause) != COST_OK)
        fail_msg("%s", cause != NULL ? cause : ref.limit);
    assert_true(hget(l, dk, "spent:scout-1") == pricing_cost(pricing_model(p, "sim-fast"),
                                                             resp.prompt_tokens,
                                                             resp.completion_tokens));
    assert_true(hget(l, dk, "spent:scout-1") <= est);
    assert_int_equal(hget(l, dk, "res:scout-1"), 0);
    llm_response_clear(&resp);
    /* A limit below the estimate: deferred, nothing called, nothing spent. */
    set_limits(l, "scout-1", hget(l, dk, "spent:scout-1") + est - 1, 0, 0);
    assert_int_equal(cost_complete(c, prov, "item-2", &req, &resp, &ref, NULL, &cause),
                     COST_DEFERRED);
    assert_string_equal(ref.limit, "agent_daily");
    assert_int_equal(usage_sums(l, USAGE_BY_TYPE, T0, T0, &sums, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(sums[0].name, "news_scout");
    assert_int_equal(sums[0].calls, 1);
    usage_sums_free(sums, n);
    assert_int_equal(usage_sums(l, USAGE_BY_TIER, T0 - 30 * DAY_MS, T0, &sums, &n, &cause), 0);
    assert_int_equal(n, 1); /* by day over a long span */
    assert_string_equal(sums[0].name, "FAST");
    usage_sums_free(sums, n);
    cost_free(c);
    llm_provider_free(prov);
    pricing_free(p);
    free(dk);
}

/* A cache hit has no reservation: recorded as usage with cost 0 and the cached flag, counted
 * in the sums, spending nothing. */
static void test_usage_record_cached(void **state)
{
    struct rlink *l = *state;
    struct usage_record u = {.agent = "c1",
                             .task = "item-5",
                             .task_type = "topic_tagging",
                             .model = "sim-fast",
                             .tier = LLM_FAST,
                             .prompt_tokens = 40,
                             .completion_tokens = 10,
                             .confidence = -1,
                             .cached = true};
    struct usage_sum *sums;
    size_t n;
    char *cause = NULL, *dk = day_key(T0);

    assert_int_equal(usage_record(l, &base_opts, &u, &cause), 0);
    u.cached = false;
    u.cost = 75;
    assert_int_equal(usage_record(l, &base_opts, &u, &cause), 0);
    assert_int_equal(hget(l, dk, "spent:c1"), 75);
    assert_int_equal(usage_sums(l, USAGE_BY_MODEL, T0, T0, &sums, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(sums[0].name, "sim-fast");
    assert_int_equal(sums[0].calls, 2);
    assert_int_equal(sums[0].cached, 1);
    assert_int_equal(sums[0].cost, 75);
    assert_int_equal(sums[0].prompt_tokens, 80);
    usage_sums_free(sums, n);
    assert_int_equal(count(l, "XLEN ?", USAGE_STREAM_KEY), 2);
    free(dk);
}

static void test_early_stop(void **state)
{
    struct rlink *l = *state;
    struct early_stop_config e = {.low = 0.3, .high = 0.9};
    struct early_stop_stats st;
    char *cause = NULL;

    assert_int_equal(early_stop_decide(&e, 0.1), EARLY_STOP_LOW_QUALITY);
    assert_int_equal(early_stop_decide(&e, 0.95), EARLY_STOP_GOOD_ENOUGH);
    assert_int_equal(early_stop_decide(&e, 0.3), EARLY_STOP_CONTINUE);
    assert_int_equal(early_stop_decide(&e, 0.9), EARLY_STOP_CONTINUE);
    assert_int_equal(early_stop_decide(&e, 0.6), EARLY_STOP_CONTINUE);
    assert_int_equal(early_stop_decide(&e, -1), EARLY_STOP_CONTINUE);
    assert_int_equal(
        early_stop_record(l, "a1", "item-9", EARLY_STOP_LOW_QUALITY, 0.1, 3, 1500, &cause), 0);
    assert_int_equal(
        early_stop_record(l, "a1", "item-8", EARLY_STOP_GOOD_ENOUGH, 0.95, 2, 15000, &cause), 0);
    assert_int_equal(early_stop_record(l, "a1", "x", EARLY_STOP_CONTINUE, 0.5, 1, 1, &cause), -1);
    free(cause);
    cause = NULL;
    assert_int_equal(early_stop_stats(l, &st, &cause), 0);
    assert_int_equal(st.low_quality, 1);
    assert_int_equal(st.good_enough, 1);
    assert_int_equal(st.calls_saved, 5);
    assert_int_equal(st.saved, 3 * 1500 + 2 * 15000);
    assert_int_equal(count(l, "XLEN ?", EARLY_STOP_STREAM_KEY), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_caller_lapses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reading_skips_lapsed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_once_per_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_and_global_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests_grant_decline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_idempotent_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budgeted_call_sim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_record_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_stop, setup, teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
