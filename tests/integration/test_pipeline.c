/*
 * test_pipeline.c - the swarm end to end, as the newsroom binary runs it, against the shared
 * test redis-server (database 13, emptied before each test):
 *
 *   - 200 wire stories with --once --auto-approve: every story that is not a duplicate ends
 *     PUBLISHED, ARCHIVED with a reason or FAILED by QA's last verdict (terminal, with its
 *     error history), every published one has its package in the publish folder, the
 *     duplicates were merged at ingest as further sources, every decided debate has at
 *     least the quorum of votes, and the spend per agent is the same in the usage records,
 *     their sums and the budget windows.
 *   - Human review: stories wait in REVIEWING until `ctl approve` (then published); a
 *     rejection is archived with its reason; a "revise" goes back to the writer and returns
 *     to review with the note in its revisions.
 *   - Scale-out: two swarm processes with the same roles over 500 stories: no story is
 *     claimed or taken twice in one status (events stream), no model call of one story's
 *     step is made twice (usage stream), and both processes did work.
 *   - Halt: `ctl emergency --halt` stops every claim and model call within one second;
 *     `ctl resume` brings them back.
 *
 * The binary comes from $NEWSROOM_BINARY; every child gets REDIS_URL, a data directory and a
 * publish folder of its own test.
 */
#include "agents/wire.h"
#include "core/clock.h"
#include "core/fail.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define DB 13

struct fx {
    char *dir;
    char url[512];
    char publish[600];
    struct rlink *l;
    struct bb *b;
};

static struct fx *fx_of(void **state)
{
    return *state;
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    const char *base = test_shared_url();
    size_t n = strlen(base);
    redisReply *r;

    f->dir = test_tmpdir();
    /* The shared URL ends in "/0": the same server in database DB. */
    snprintf(f->url, sizeof f->url, "%.*s/%d", (int)(n - 2), base, DB);
    snprintf(f->publish, sizeof f->publish, "%s/publish", f->dir);
    /* The sim provider at zero latency: the tests are about the flow, not the wait; and no
     * video rendering (storyboards: test_video renders). */
    {
        char conf[700];

        snprintf(conf, sizeof conf, "%s/newsroom.conf", f->dir);
        test_write_file(conf, "[providers]\nsim_latency_fast_ms = 0\nsim_latency_balanced_ms = "
                              "0\nsim_latency_premium_ms = 0\n[video]\nffmpeg = none\n"
                              "[cost]\nglobal_daily_budget = 0\n");
    }
    f->l = test_shared_link(DB, "test_pipeline");
    r = test_must(f->l, "FLUSHDB%s", "");
    freeReplyObject(r);
    f->b = bb_new(f->l, "test");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    bb_free(f->b);
    rlink_free(f->l);
    test_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Starts the newsroom binary with args (NULL-terminated) in f's environment, its stdout and
 * stderr into <dir>/<name>.out and .err. */
static pid_t spawn(struct fx *f, const char *name, const char *const *args)
{
    char out[700], err[700], data[700], conf[700];
    const char *argv[32];
    int n = 0;
    pid_t pid;

    argv[n++] = test_env("NEWSROOM_BINARY");
    for (; args[n - 1] != NULL && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    snprintf(out, sizeof out, "%s/%s.out", f->dir, name);
    snprintf(err, sizeof err, "%s/%s.err", f->dir, name);
    snprintf(data, sizeof data, "%s/data", f->dir);
    snprintf(conf, sizeof conf, "%s/newsroom.conf", f->dir);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        if (freopen(out, "w", stdout) == NULL || freopen(err, "w", stderr) == NULL)
            _exit(127);
        setenv("REDIS_URL", f->url, 1);
        setenv("NEWSROOM_DATA_DIR", data, 1);
        setenv("NEWSROOM_PUBLISH_DIR", f->publish, 1);
        setenv("NEWSROOM_LOG_LEVEL", "info", 1);
        setenv("NEWSROOM_CONFIG", conf, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    assert_true(pid > 0);
    return pid;
}

/* Waits up to secs for pid; its exit code, or fails the test (killing it). */
static int reap(struct fx *f, const char *name, pid_t pid, int secs)
{
    int64_t end = clock_mono_ms() + secs * 1000LL;
    int st;

    while (clock_mono_ms() < end) {
        pid_t got = waitpid(pid, &st, WNOHANG);

        if (got == pid) {
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                char path[700], *text;

                snprintf(path, sizeof path, "%s/%s.err", f->dir, name);
                text = test_read_file(path);
                fprintf(stderr, "%s ended with status %d:\n%s\n", name, st, text ? text : "");
                free(text);
            }
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        clock_sleep_ms(20, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    fail_msg("%s did not end within %d s", name, secs);
    return -1;
}

/* Runs the binary to its end; its exit code. */
static int run(struct fx *f, const char *name, int secs, const char *const *args)
{
    return reap(f, name, spawn(f, name, args), secs);
}

/* Writes wire stories [0, n) of seed to <dir>/<name>.jsonl with `newsroom wire` and ingests
 * them with `ctl ingest`; returns how many of them are the wire's deliberate duplicates. */
static long ingest_wire(struct fx *f, long n, long seed)
{
    char path[700], ns[32], ss[32], *text;
    long dups = 0;
    FILE *fp;

    snprintf(path, sizeof path, "%s/stories.jsonl", f->dir);
    snprintf(ns, sizeof ns, "%ld", n);
    snprintf(ss, sizeof ss, "%ld", seed);
    fp = fopen(path, "w");
    assert_non_null(fp);
    for (long i = 0; i < n; i++) {
        enum wire_kind kind;
        json_t *j = wire_story((uint64_t)seed, i, &kind, NULL);

        dups += kind == WIRE_DUPLICATE;
        json_dumpf(j, fp, JSON_COMPACT);
        fputc('\n', fp);
        json_decref(j);
    }
    fclose(fp);
    /* The binary prints the same stories. */
    assert_int_equal(run(f, "wire", 30, (const char *[]){"wire", "--n", ns, "--seed", ss, NULL}),
                     0);
    {
        char wpath[700];
        char *a, *b;

        snprintf(wpath, sizeof wpath, "%s/wire.out", f->dir);
        a = test_read_file(wpath);
        b = test_read_file(path);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    assert_int_equal(run(f, "ingest", 60, (const char *[]){"ctl", "ingest", path, NULL}), 0);
    snprintf(path, sizeof path, "%s/ingest.out", f->dir);
    text = test_read_file(path);
    assert_non_null(text);
    {
        char want[96];

        /* The wire's deliberate duplicates are the same text under another id: another outlet's
         * copy, merged into its story as a further source. */
        snprintf(want, sizeof want, "accepted %ld, updated 0, merged %ld, duplicate 0, invalid 0",
                 n - dups, dups);
        if (strstr(text, want) == NULL)
            fail_msg("ingest said \"%s\", wanted \"%s\"", text, want);
    }
    free(text);
    return dups;
}

/* Every item, oldest first (free each with bb_item_free, then the array). */
static struct bb_item **all_items(struct fx *f, size_t *n)
{
    struct bb_item **all = NULL;
    size_t have = 0;
    char cursor[BB_CURSOR_MAX + 1] = "";

    for (int sec = 0; sec < BB_SECTION_COUNT; sec++) {
        cursor[0] = '\0';
        do {
            struct bb_item **page;
            size_t got;
            char *cause = NULL;

            if (bb_query(f->b, sec, -1, cursor, 200, &page, &got, cursor, &cause) != BB_OK)
                fail_msg("query: %s", cause);
            all = xrealloc(all, (have + got + 1) * sizeof *all);
            memcpy(all + have, page, got * sizeof *page);
            have += got;
            free(page);
        } while (cursor[0] != '\0');
    }
    *n = have;
    return all;
}

static void items_free(struct bb_item **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bb_item_free(items[i]);
    free(items);
}

static long count_status(struct fx *f, enum bb_status st)
{
    return swarmenv_count(f->b, (int)st);
}

/* A stream's entries as JSON objects of their fields (new reference). */
static json_t *stream(struct fx *f, const char *key)
{
    redisReply *r = test_must(f->l, "XRANGE %s - +", key);
    json_t *out = json_array();

    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *fl = r->element[i]->element[1];
        json_t *o = json_object();

        json_object_set_new(o, "_id", json_string(r->element[i]->element[0]->str));
        for (size_t k = 0; k + 1 < fl->elements; k += 2)
            json_object_set_new(o, fl->element[k]->str, json_string(fl->element[k + 1]->str));
        json_array_append_new(out, o);
    }
    freeReplyObject(r);
    return out;
}

static const char *sget(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v != NULL ? v : "";
}

static void test_end_to_end_200(void **state)
{
    struct fx *f = fx_of(state);
    struct bb_item **items;
    size_t n;
    long dups, published = 0, archived = 0, debated = 0;
    json_t *usage, *per_agent = json_object(), *e;
    size_t i;
    redisReply *r;

    dups = ingest_wire(f, 200, 7);
    assert_true(dups > 0);
    assert_int_equal(
        run(f, "swarm", 600, (const char *[]){"swarm", "--once", "--auto-approve", NULL}), 0);
    items = all_items(f, &n);
    assert_int_equal((long)n, 200 - dups);
    for (i = 0; i < n; i++) {
        const struct bb_item *it = items[i];
        const json_t *cons = json_object_get(it->body, "consensus");

        if (it->status == BB_PUBLISHED_S) {
            char path[800];
            struct stat sb;

            published++;
            snprintf(path, sizeof path, "%s/%s/package.json", f->publish, it->id);
            if (stat(path, &sb) != 0 || sb.st_size == 0)
                fail_msg("published story %s has no package at %s", it->id, path);
            assert_non_null(json_object_get(it->body, "package"));
            assert_non_null(json_object_get(it->body, "script"));
            assert_true(json_array_size(json_object_get(it->body, "qa")) >= 1);
        } else if (it->status == BB_ARCHIVED) {
            archived++;
            if (it->archive_reason[0] == '\0')
                fail_msg("story %s was archived without a reason", it->id);
        } else if (it->status == BB_FAILED) {
            /* The one decision that fails a story: its script below QA's bar in the last
             * round. FAILED is terminal: it waits in the dead set with its history. */
            if (strcmp(it->failed_step, "qa") != 0 || strncmp(it->fail_reason, "QA: ", 4) != 0 ||
                json_array_size(json_object_get(it->body, "errors")) != 1)
                fail_msg("story %s FAILED at %s: %s", it->id, it->failed_step, it->fail_reason);
        } else {
            fail_msg("story %s ended %s (%s)", it->id, bb_statuses[it->status].name,
                     it->fail_reason);
        }
        /* Every decided debate had its quorum (the default: 2 votes). */
        if (cons != NULL && json_is_true(json_object_get(cons, "reached"))) {
            debated++;
            if (json_array_size(json_object_get(cons, "votes")) < 2)
                fail_msg("story %s reached consensus with %zu votes", it->id,
                         json_array_size(json_object_get(cons, "votes")));
        }
    }
    assert_true(published > 0);
    assert_true(archived > 0);
    assert_true(debated >= published);
    items_free(items, n);

    /* Spend per agent: the usage records, their per-day sums and the budget windows agree. */
    usage = stream(f, "nr:cost:usage");
    assert_true(json_array_size(usage) > 0);
    json_array_foreach(usage, i, e)
    {
        const char *agent = sget(e, "agent");
        json_int_t was = json_integer_value(json_object_get(per_agent, agent));

        json_object_set_new(per_agent, agent,
                            json_integer(was + strtoll(sget(e, "cost"), NULL, 10)));
    }
    {
        const char *agent;
        json_t *v;
        char day[16];
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(day, sizeof day, "%Y%m%d", &tm);
        json_object_foreach(per_agent, agent, v)
        {
            for (size_t w = 0; w < 2; w++) {
                char key[64], field[200], *cause = NULL;

                /* The usage sums of the day, and the budget's day window. */
                if (w == 0) {
                    snprintf(key, sizeof key, "nr:cost:u:d:%s", day);
                    snprintf(field, sizeof field, "cost:agent:%s", agent);
                } else {
                    snprintf(key, sizeof key, "nr:cost:d:%s", day);
                    snprintf(field, sizeof field, "spent:%s", agent);
                }
                r = rlink_command(f->l, &cause, "HGET %s %s", key, field);
                if (r == NULL)
                    fail_msg("%s", cause);
                if (r->type != REDIS_REPLY_STRING ||
                    strtoll(r->str, NULL, 10) != json_integer_value(v))
                    fail_msg("agent %s: the usage records say %lld, %s %s says %s", agent,
                             (long long)json_integer_value(v), key, field,
                             r->type == REDIS_REPLY_STRING ? r->str : "nothing");
                freeReplyObject(r);
            }
        }
    }
    json_decref(usage);
    json_decref(per_agent);
}

/* Status of story id, -1 when it does not exist. */
static int status_of(struct fx *f, const char *id)
{
    struct bb_item *it = NULL;
    char *cause = NULL;
    int st;

    if (bb_read(f->b, id, &it, &cause) != BB_OK) {
        free(cause);
        return -1;
    }
    st = it->status;
    bb_item_free(it);
    return st;
}

/* Waits up to secs for story id to be in status st; fails the test otherwise. */
static void await_status(struct fx *f, const char *id, enum bb_status st, int secs)
{
    int64_t end = clock_mono_ms() + secs * 1000LL;

    while (status_of(f, id) != (int)st) {
        if (clock_mono_ms() > end)
            fail_msg("story %s is %s after %d s, wanted %s", id,
                     status_of(f, id) >= 0 ? bb_statuses[status_of(f, id)].name : "gone", secs,
                     bb_statuses[st].name);
        clock_sleep_ms(20, NULL);
    }
}

/* Whether every story is REVIEWING or terminal, with at least `want` REVIEWING. */
static bool settled_for_review(struct fx *f, long want)
{
    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT], busy = 0, reviewing = 0;
    char *cause = NULL;

    if (bb_counts(f->b, counts, &cause) != BB_OK)
        fail_msg("counts: %s", cause);
    for (int s = 0; s < BB_SECTION_COUNT; s++)
        for (int st = 0; st < BB_STATUS_COUNT; st++) {
            if (st == BB_REVIEWING)
                reviewing += counts[s][st];
            else if (!bb_statuses[st].terminal)
                busy += counts[s][st];
        }
    return busy == 0 && reviewing >= want;
}

static void test_human_review(void **state)
{
    struct fx *f = fx_of(state);
    struct bb_item **items, *it = NULL;
    size_t n;
    char ids[3][NEWS_ID_MAX + 1], *cause = NULL;
    int found = 0;
    long long version;
    pid_t swarm;
    int64_t end;
    const json_t *revs, *last;

    ingest_wire(f, 12, 5);
    swarm = spawn(f, "swarm",
                  (const char *[]){"swarm", "--roles",
                                   "analyst:1,debater:3,moderator:1,writer:1,qa:1,producer:1,"
                                   "publisher:1,archivist:1",
                                   "--duration", "300", NULL});
    end = clock_mono_ms() + 120000;
    while (!settled_for_review(f, 3)) {
        if (clock_mono_ms() > end)
            fail_msg("three stories did not reach review within 120 s");
        clock_sleep_ms(50, NULL);
    }
    /* Nobody decides for the producer: they stay in review. */
    items = all_items(f, &n);
    for (size_t i = 0; i < n && found < 3; i++)
        if (items[i]->status == BB_REVIEWING)
            snprintf(ids[found++], sizeof ids[0], "%s", items[i]->id);
    items_free(items, n);
    assert_int_equal(found, 3);

    assert_int_equal(run(f, "approve", 30, (const char *[]){"ctl", "approve", ids[0], NULL}), 0);
    await_status(f, ids[0], BB_PUBLISHED_S, 60);
    assert_int_equal(run(f, "reject", 30,
                         (const char *[]){"ctl", "reject", ids[1], "--reason", "off brand", NULL}),
                     0);
    await_status(f, ids[1], BB_ARCHIVED, 60);
    assert_int_equal(bb_read(f->b, ids[1], &it, &cause), BB_OK);
    assert_non_null(strstr(it->archive_reason, "off brand"));
    bb_item_free(it);

    assert_int_equal(bb_read(f->b, ids[2], &it, &cause), BB_OK);
    version = it->version;
    bb_item_free(it);
    assert_int_equal(run(f, "revise", 30,
                         (const char *[]){"ctl", "reject", ids[2], "--revise", "--reason",
                                          "open with the figures", NULL}),
                     0);
    /* Back through the writer (and QA, and the producer) to review, the note in its
     * revisions. */
    end = clock_mono_ms() + 60000;
    for (;;) {
        assert_int_equal(bb_read(f->b, ids[2], &it, &cause), BB_OK);
        if (it->status == BB_REVIEWING && it->version > version + 3)
            break;
        bb_item_free(it);
        if (clock_mono_ms() > end)
            fail_msg("the revised story %s did not come back to review", ids[2]);
        clock_sleep_ms(50, NULL);
    }
    revs = json_object_get(json_object_get(it->body, "script"), "revisions");
    last = json_array_get(revs, json_array_size(revs) - 1);
    assert_non_null(last);
    {
        char *dump = json_dumps(it->body, JSON_COMPACT);

        if (strstr(dump, "open with the figures") == NULL)
            fail_msg("the reviewer's note is not on the revised story: %s", dump);
        free(dump);
    }
    bb_item_free(it);
    /* The approved one was published once; the swarm stops cleanly on SIGTERM. */
    kill(swarm, SIGTERM);
    assert_int_equal(reap(f, "swarm", swarm, 60), 0);
}

static void test_scale_out(void **state)
{
    struct fx *f = fx_of(state);
    static const char *const roles =
        "analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,publisher:1,archivist:1";
    json_t *events, *usage, *seen = json_object(), *agents = json_object(), *e;
    pid_t a, b;
    size_t i;
    long dups, pids_a = 0, pids_b = 0;
    char pa[32], pb[32];

    dups = ingest_wire(f, 500, 11);
    a = spawn(f, "swarm-a",
              (const char *[]){"swarm", "--once", "--auto-approve", "--roles", roles, NULL});
    b = spawn(f, "swarm-b",
              (const char *[]){"swarm", "--once", "--auto-approve", "--roles", roles, NULL});
    assert_int_equal(reap(f, "swarm-a", a, 900), 0);
    assert_int_equal(reap(f, "swarm-b", b, 900), 0);
    assert_int_equal(count_status(f, BB_PUBLISHED_S) + count_status(f, BB_ARCHIVED) +
                         count_status(f, BB_FAILED),
                     500 - dups);

    /* No story claimed twice into one status between its retries, nor taken from a stage more
     * often than it was handed there; no claimer lost its lock. */
    events = stream(f, "nr:bb:events");
    json_array_foreach(events, i, e)
    {
        const char *k = sget(e, "k");
        char key[200];
        json_int_t was;

        /* A claimer that lost its lock would show as a retry or failure saying so. */
        if ((strcmp(k, "retry") == 0 || strcmp(k, "failed") == 0) &&
            strstr(sget(e, "why"), "lost the lock") != NULL)
            fail_msg("story %s: %s event (%s)", sget(e, "id"), k, sget(e, "why"));
        if (strcmp(k, "retry") == 0) {
            /* A retry sends the story back: its next claims are new ones. */
            const char *id = sget(e, "id");
            const char *kk;
            json_t *vv;
            void *tmp;
            char prefix[200];

            snprintf(prefix, sizeof prefix, "claim|%s|", id);
            json_object_foreach_safe(seen, tmp, kk, vv)
            {
                if (strncmp(kk, prefix, strlen(prefix)) == 0)
                    json_object_del(seen, kk);
            }
            continue;
        }
        if (strcmp(k, "claim") == 0) {
            snprintf(key, sizeof key, "claim|%s|%s", sget(e, "id"), sget(e, "to"));
            was = json_integer_value(json_object_get(seen, key));
            if (was > 0)
                fail_msg("story %s was claimed into %s twice", sget(e, "id"), sget(e, "to"));
            json_object_set_new(seen, key, json_integer(1));
        } else if (strcmp(k, "handoff") == 0 || strcmp(k, "take") == 0) {
            /* Never more takes from a stage than hand-offs to it, at any point. */
            snprintf(key, sizeof key, "stage|%s|%s", sget(e, "id"), sget(e, "stage"));
            was = json_integer_value(json_object_get(seen, key));
            was += strcmp(k, "handoff") == 0 ? 1 : -1;
            if (was < 0)
                fail_msg("story %s was taken from stage %s twice", sget(e, "id"), sget(e, "stage"));
            json_object_set_new(seen, key, json_integer(was));
        }
    }
    assert_true(json_object_size(seen) > 0);
    json_decref(events);

    /* Each story's analysis was paid for once, and both processes did work. */
    snprintf(pa, sizeof pa, "-%d-", (int)a);
    snprintf(pb, sizeof pb, "-%d-", (int)b);
    usage = stream(f, "nr:cost:usage");
    json_array_foreach(usage, i, e)
    {
        char key[200];

        if (strstr(sget(e, "agent"), pa) != NULL)
            pids_a++;
        if (strstr(sget(e, "agent"), pb) != NULL)
            pids_b++;
        if (strcmp(sget(e, "type"), "content_analysis") != 0)
            continue;
        snprintf(key, sizeof key, "%s", sget(e, "task"));
        if (json_object_get(agents, key) != NULL)
            fail_msg("story %s was analysed twice (%s and %s)", key,
                     json_string_value(json_object_get(agents, key)), sget(e, "agent"));
        json_object_set_new(agents, key, json_string(sget(e, "agent")));
    }
    if (pids_a == 0 || pids_b == 0)
        fail_msg("one process did no work (%ld and %ld calls)", pids_a, pids_b);
    json_decref(usage);
    json_decref(seen);
    json_decref(agents);
}

/* Events (claims, takes) and usage records at or after t_ms. */
static long activity_since(struct fx *f, int64_t t_ms)
{
    json_t *events = stream(f, "nr:bb:events"), *usage = stream(f, "nr:cost:usage"), *e;
    long n = 0;
    size_t i;

    json_array_foreach(events, i, e)
    {
        const char *k = sget(e, "k");

        if ((strcmp(k, "claim") == 0 || strcmp(k, "take") == 0) &&
            strtoll(sget(e, "t"), NULL, 10) >= t_ms)
            n++;
    }
    json_array_foreach(usage, i, e) if (strtoll(sget(e, "t"), NULL, 10) >= t_ms) n++;
    json_decref(events);
    json_decref(usage);
    return n;
}

static void test_halt_and_resume(void **state)
{
    struct fx *f = fx_of(state);
    pid_t swarm;
    int64_t halted_at, end, resumed_at;

    swarm = spawn(f, "swarm", (const char *[]){"swarm", "--duration", "300", NULL});
    end = clock_mono_ms() + 60000;
    while (activity_since(f, 0) < 20) {
        if (clock_mono_ms() > end)
            fail_msg("the swarm did not get going within 60 s");
        clock_sleep_ms(50, NULL);
    }
    halted_at = test_server_ms(f->l);
    assert_int_equal(
        run(f, "halt", 30,
            (const char *[]){"ctl", "emergency", "--message", "test halt", "--halt", NULL}),
        0);
    /* Whatever was under way when the flag went up may finish within the second; after it,
     * nothing. The window is watched for three seconds: absence can only be observed. */
    clock_sleep_ms(4000, NULL);
    if (activity_since(f, halted_at + 1000) != 0)
        fail_msg("%ld claims or model calls more than 1 s after the halt",
                 activity_since(f, halted_at + 1000));
    resumed_at = test_server_ms(f->l);
    assert_int_equal(run(f, "resume", 30, (const char *[]){"ctl", "resume", NULL}), 0);
    end = clock_mono_ms() + 30000;
    while (activity_since(f, resumed_at) == 0) {
        if (clock_mono_ms() > end)
            fail_msg("nothing happened within 30 s of ctl resume");
        clock_sleep_ms(50, NULL);
    }
    kill(swarm, SIGTERM);
    assert_int_equal(reap(f, "swarm", swarm, 60), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_end_to_end_200, setup, teardown),
        cmocka_unit_test_setup_teardown(test_human_review, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_halt_and_resume, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
