/*
 * test_blackboard.c - the blackboard against a real redis-server (the shared test server,
 * database 1, flushed before each test): writes and duplicates, every forbidden transition
 * refused with nothing changed and every allowed one applied with its event, locks and
 * fencing, 8 threads claiming 1,000 items, fail and retry, updates, queries with a cursor,
 * counts, and following the events stream across a reconnect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "testenv.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB 1

static struct rlink *connect_db(void)
{
    return test_shared_link(DB, "newsroom-test-bb");
}

static long long integer(struct rlink *l, const char *fmt, const char *arg)
{
    redisReply *r = test_must(l, fmt, arg);
    long long v = r->integer;

    freeReplyObject(r);
    return v;
}

struct fx {
    struct rlink *l;
    struct bb *b;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    f->l = connect_db();
    freeReplyObject(test_must(f->l, "FLUSHDB%s", ""));
    f->b = bb_new(f->l, "tester");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    bb_free(f->b);
    rlink_free(f->l);
    free(f);
    return 0;
}

static struct news_item *item(const char *id, const char *title)
{
    char text[512], *cause = NULL;
    json_t *j;
    struct news_item *it;

    snprintf(text, sizeof text,
             "{\"id\": \"%s\", \"title\": \"%s\", \"content\": \"Body of %s.\", \"source\": "
             "\"Wire\"}",
             id, title, title);
    j = json_loads(text, 0, NULL);
    it = news_item_from_json(j, &cause);
    json_decref(j);
    if (it == NULL)
        fail_msg("%s", cause);
    return it;
}

static void write_ok(struct bb *b, const char *id, const char *title)
{
    struct news_item *it = item(id, title);
    char existing[NEWS_ID_MAX + 1], *cause = NULL;
    int rc = bb_write(b, it, NULL, BB_PENDING, true, existing, &cause);

    if (rc != BB_OK)
        fail_msg("write %s: %d %s", id, rc, cause ? cause : "");
    news_item_free(it);
}

static int status_of(struct bb *b, const char *id)
{
    struct bb_item *it;
    char *cause = NULL;
    int st;

    assert_int_equal(bb_read(b, id, &it, &cause), BB_OK);
    st = it->status;
    bb_item_free(it);
    return st;
}

static void test_write_read_duplicate(void **state)
{
    struct fx *f = *state;
    struct news_item *it = item("story-1", "Storm hits coast"), *dup;
    json_t *extra = json_pack("{s:s}", "desk", "weather");
    char existing[NEWS_ID_MAX + 1] = "", *cause = NULL;
    struct bb_item *got;

    (void)state;
    assert_int_equal(bb_write(f->b, it, extra, BB_PENDING, true, existing, &cause), BB_OK);
    assert_int_equal(bb_read(f->b, "story-1", &got, &cause), BB_OK);
    assert_string_equal(got->id, "story-1");
    assert_int_equal(got->section, BB_RAW_FEED);
    assert_int_equal(got->status, BB_PENDING);
    assert_int_equal(got->version, 1);
    assert_string_equal(got->hash, it->hash);
    assert_string_equal(got->by, "tester");
    assert_string_equal(json_string_value(json_object_get(got->body, "title")), "Storm hits coast");
    assert_string_equal(json_string_value(json_object_get(got->body, "desk")), "weather");
    assert_true(got->created_ms > 0);
    bb_item_free(got);

    /* Same content under another id: a story of its own (the identity is the source's; a
     * rewording is the vector memory's to merge). */
    dup = item("story-2", "STORM hits coast!");
    free(dup->content);
    dup->content = strdup("body of storm hits coast");
    news_content_hash(dup->title, dup->content, dup->hash);
    assert_string_equal(dup->hash, it->hash);
    assert_int_equal(bb_write(f->b, dup, NULL, BB_PENDING, true, existing, &cause), BB_OK);
    assert_int_equal(bb_read(f->b, "story-2", &got, &cause), BB_OK);
    bb_item_free(got);
    /* Items identified by their content alone are exact duplicates by hash. */
    {
        json_t *a = json_pack("{s:s, s:s, s:s}", "title", "Quiet day", "content", "Nothing.",
                              "source", "A");
        json_t *b = json_pack("{s:s, s:s, s:s}", "title", "QUIET day!", "content", "nothing",
                              "source", "B");
        struct news_item *ia = news_item_from_json(a, &cause), *ib = news_item_from_json(b, &cause);

        assert_false(news_item_has_identity(ia));
        assert_int_equal(bb_write(f->b, ia, NULL, BB_PENDING, true, existing, &cause), BB_OK);
        assert_int_equal(bb_write(f->b, ib, NULL, BB_PENDING, true, existing, &cause),
                         BB_DUPLICATE);
        assert_string_equal(existing, ia->id);
        free(cause);
        cause = NULL;
        news_item_free(ia);
        news_item_free(ib);
        json_decref(a);
        json_decref(b);
    }
    /* The same id again: a duplicate of itself. */
    existing[0] = '\0';
    assert_int_equal(bb_write(f->b, it, NULL, BB_PENDING, false, existing, &cause), BB_DUPLICATE);
    assert_non_null(strstr(cause, "already exists"));
    assert_string_equal(existing, "story-1");
    free(cause);
    cause = NULL;
    /* A new item cannot start as FAILED (it has no section of its own). */
    assert_int_equal(bb_write(f->b, dup, NULL, BB_FAILED, false, existing, &cause), BB_REFUSED);
    free(cause);
    json_decref(extra);
    news_item_free(it);
    news_item_free(dup);
}

/* A path of allowed moves from PENDING to target (breadth first over the table). */
static int path_to(int target, int path[BB_STATUS_COUNT])
{
    int prev[BB_STATUS_COUNT], queue[BB_STATUS_COUNT], head = 0, tail = 0, n = 0, s;

    for (int i = 0; i < BB_STATUS_COUNT; i++)
        prev[i] = -2;
    prev[BB_PENDING] = -1;
    queue[tail++] = BB_PENDING;
    while (head < tail) {
        s = queue[head++];
        for (const int *x = bb_statuses[s].next; *x != BB_STATUS_NONE; x++) {
            if (prev[*x] == -2) {
                prev[*x] = s;
                queue[tail++] = *x;
            }
        }
    }
    for (s = target; s != BB_PENDING; s = prev[s])
        path[n++] = s;
    /* reverse */
    for (int i = 0; i < n / 2; i++) {
        int t = path[i];

        path[i] = path[n - 1 - i];
        path[n - 1 - i] = t;
    }
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The item's hash as sorted "field=value|" pairs (hash iteration order is not stable). */
static char *dump_item(struct rlink *l, const char *id)
{
    char key[200];
    redisReply *r;
    char **pairs;
    size_t len = 1, n = 0;
    char *out;

    snprintf(key, sizeof key, "nr:bb:item:%s", id);
    r = test_must(l, "HGETALL %s", key);
    pairs = calloc(r->elements / 2 + 1, sizeof *pairs);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        size_t k = strlen(r->element[i]->str) + strlen(r->element[i + 1]->str) + 3;

        pairs[n] = malloc(k);
        snprintf(pairs[n++], k, "%s=%s|", r->element[i]->str, r->element[i + 1]->str);
        len += k;
    }
    qsort(pairs, n, sizeof *pairs, cmp_str);
    out = calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        strcat(out, pairs[i]);
        free(pairs[i]);
    }
    free(pairs);
    freeReplyObject(r);
    return out;
}

static void test_every_transition(void **state)
{
    struct fx *f = *state;
    int n = 0;

    for (int from = 0; from < BB_STATUS_COUNT; from++) {
        for (int to = 0; to < BB_STATUS_COUNT; to++) {
            char id[64], *cause = NULL, *before, *after, *counts_before, *counts_after;
            int path[BB_STATUS_COUNT], len = path_to(from, path);
            long long events;
            redisReply *r;

            snprintf(id, sizeof id, "t-%d-%d", from, to);
            write_ok(f->b, id, id);
            for (int i = 0; i < len; i++)
                if (bb_transition(f->b, id, (enum bb_status)path[i], "walk", NULL, &cause) != BB_OK)
                    fail_msg("walk %s to %s: %s", id, bb_statuses[path[i]].name, cause);
            assert_int_equal(status_of(f->b, id), from);
            before = dump_item(f->l, id);
            r = test_must(f->l, "HGETALL nr:bb:counts%s", "");
            counts_before = calloc(1, 4096);
            for (size_t i = 0; i < r->elements; i++)
                strcat(strcat(counts_before, r->element[i]->str), ",");
            freeReplyObject(r);
            events = integer(f->l, "XLEN %s", "nr:bb:events");

            if (bb_move_allowed((enum bb_status)from, (enum bb_status)to)) {
                redisReply *last;

                if (bb_transition(f->b, id, (enum bb_status)to, "go", NULL, &cause) != BB_OK)
                    fail_msg("allowed %s -> %s refused: %s", bb_statuses[from].name,
                             bb_statuses[to].name, cause);
                assert_int_equal(status_of(f->b, id), to);
                assert_int_equal(integer(f->l, "XLEN %s", "nr:bb:events"), events + 1);
                last = test_must(f->l, "XREVRANGE nr:bb:events + - COUNT 1%s", "");
                {
                    redisReply *fl = last->element[0]->element[1];
                    char seen[256] = "";

                    for (size_t i = 0; i < fl->elements; i++)
                        strcat(strcat(seen, fl->element[i]->str), "|");
                    assert_non_null(strstr(seen, bb_statuses[to].name));
                    assert_non_null(strstr(seen, id));
                }
                freeReplyObject(last);
                n++;
            } else {
                int rc = bb_transition(f->b, id, (enum bb_status)to, "nope", NULL, &cause);

                if (rc != BB_REFUSED)
                    fail_msg("forbidden %s -> %s gave %d", bb_statuses[from].name,
                             bb_statuses[to].name, rc);
                assert_non_null(strstr(cause, "cannot move"));
                free(cause);
                cause = NULL;
                after = dump_item(f->l, id);
                assert_string_equal(before, after);
                free(after);
                r = test_must(f->l, "HGETALL nr:bb:counts%s", "");
                counts_after = calloc(1, 4096);
                for (size_t i = 0; i < r->elements; i++)
                    strcat(strcat(counts_after, r->element[i]->str), ",");
                freeReplyObject(r);
                assert_string_equal(counts_before, counts_after);
                free(counts_after);
                assert_int_equal(integer(f->l, "XLEN %s", "nr:bb:events"), events);
            }
            free(before);
            free(counts_before);
        }
    }
    /* The table has this many moves (expiry's CONSENSUS_REACHED and REVIEWING to ARCHIVED
     * among them); every one was applied once. */
    assert_int_equal(n, 25);
}

static void test_counts_follow_moves(void **state)
{
    struct fx *f = *state;
    long c[BB_SECTION_COUNT][BB_STATUS_COUNT];
    char *cause = NULL;
    int now;

    write_ok(f->b, "c1", "one");
    write_ok(f->b, "c2", "two");
    write_ok(f->b, "c3", "three");
    assert_int_equal(bb_transition(f->b, "c1", BB_PROCESSING, NULL, NULL, &cause), BB_OK);
    assert_int_equal(bb_transition(f->b, "c1", BB_DEBATING, NULL, NULL, &cause), BB_OK);
    assert_int_equal(bb_fail(f->b, "c2", NULL, "broken", 1, &now, &cause), BB_OK);
    assert_int_equal(now, BB_FAILED);
    assert_int_equal(bb_counts(f->b, c, &cause), BB_OK);
    assert_int_equal(c[BB_RAW_FEED][BB_PENDING], 1);
    assert_int_equal(c[BB_RAW_FEED][BB_PROCESSING], 0);
    assert_int_equal(c[BB_DEBATE_QUEUE][BB_DEBATING], 1);
    /* FAILED keeps the section the item failed in. */
    assert_int_equal(c[BB_RAW_FEED][BB_FAILED], 1);
}

static void test_fail_retries_then_fails(void **state)
{
    struct fx *f = *state;
    struct bb_lock lk;
    struct bb_item *it;
    char *cause = NULL;
    int now;

    write_ok(f->b, "f1", "flaky");
    for (int attempt = 1; attempt <= 3; attempt++) {
        assert_int_equal(bb_claim(f->b, BB_PENDING, BB_PROCESSING, 5000, &lk, &cause), BB_OK);
        assert_string_equal(lk.id, "f1");
        assert_int_equal(bb_fail(f->b, "f1", &lk, "provider timed out", 3, &now, &cause), BB_OK);
        assert_int_equal(now, attempt < 3 ? BB_PENDING : BB_FAILED);
        /* The lock went with the failure. */
        assert_int_equal(integer(f->l, "EXISTS %s", "nr:bb:lock:f1"), 0);
    }
    assert_int_equal(bb_read(f->b, "f1", &it, &cause), BB_OK);
    assert_int_equal(it->attempts, 3);
    assert_string_equal(it->fail_reason, "provider timed out");
    assert_int_equal(it->section, BB_RAW_FEED);
    bb_item_free(it);
    assert_int_equal(bb_claim(f->b, BB_PENDING, BB_PROCESSING, 5000, &lk, &cause), BB_NONE);
}

static void test_refusals_write_nothing(void **state)
{
    struct fx *f = *state;
    char *cause = NULL, *before, *after;
    long long events;
    int now;

    write_ok(f->b, "r1", "refusable");
    assert_int_equal(bb_transition(f->b, "r1", BB_PROCESSING, NULL, NULL, &cause), BB_OK);
    assert_int_equal(bb_transition(f->b, "r1", BB_DEBATING, NULL, NULL, &cause), BB_OK);
    assert_int_equal(bb_transition(f->b, "r1", BB_CONSENSUS_REACHED, NULL, NULL, &cause), BB_OK);
    assert_int_equal(bb_transition(f->b, "r1", BB_PRODUCING, NULL, NULL, &cause), BB_OK);
    assert_int_equal(bb_transition(f->b, "r1", BB_REVIEWING, NULL, NULL, &cause), BB_OK);
    /* A story awaiting a person cannot fail: refused, and not even its attempts move. */
    before = dump_item(f->l, "r1");
    events = integer(f->l, "XLEN %s", "nr:bb:events");
    assert_int_equal(bb_fail(f->b, "r1", NULL, "boom", 3, &now, &cause), BB_REFUSED);
    assert_non_null(strstr(cause, "cannot fail"));
    free(cause);
    cause = NULL;
    after = dump_item(f->l, "r1");
    assert_string_equal(before, after);
    free(after);
    assert_int_equal(integer(f->l, "XLEN %s", "nr:bb:events"), events);
    /* A decision whose audit record cannot be written is refused before anything changes. */
    freeReplyObject(test_must(f->l, "SET nr:audit %s", "not-a-stream"));
    {
        const char *audit[] = {"user", "tester", "what", "approve"};

        assert_int_equal(bb_decide(f->b, "r1", BB_APPROVED, "ok", 4, audit, &cause), BB_REFUSED);
    }
    assert_non_null(strstr(cause, "not a stream"));
    free(cause);
    after = dump_item(f->l, "r1");
    assert_string_equal(before, after);
    free(after);
    free(before);
    assert_int_equal(integer(f->l, "XLEN %s", "nr:bb:events"), events);
}

static void test_reclaim_after_claimer_died(void **state)
{
    struct fx *f = *state;
    struct bb_retry policy = {.max_attempts = 3};
    struct bb_lock dead, alive;
    struct bb_item *it;
    char *cause = NULL;
    int n = -1;
    int64_t deadline;

    write_ok(f->b, "k1", "claimer dies");
    write_ok(f->b, "k2", "claimer lives");
    assert_int_equal(bb_claim(f->b, BB_PENDING, BB_PROCESSING, 100, &dead, &cause), BB_OK);
    assert_int_equal(bb_claim(f->b, BB_PENDING, BB_PROCESSING, 60000, &alive, &cause), BB_OK);
    assert_string_equal(dead.id, "k1");
    /* Nothing to take back while both locks live. */
    assert_int_equal(bb_reclaim(f->b, BB_PROCESSING, &policy, 100, &n, &cause), BB_OK);
    assert_int_equal(n, 0);
    deadline = clock_mono_ms() + 5000;
    while (integer(f->l, "EXISTS %s", "nr:bb:lock:k1") == 1 && clock_mono_ms() < deadline)
        clock_sleep_ms(10, NULL);
    assert_int_equal(bb_reclaim(f->b, BB_PROCESSING, &policy, 100, &n, &cause), BB_OK);
    assert_int_equal(n, 1);
    /* Back where its claim took it from, at the front, and no attempt counted: a dead claimer
     * is not the story's fault. */
    assert_int_equal(status_of(f->b, "k1"), BB_PENDING);
    assert_int_equal(status_of(f->b, "k2"), BB_PROCESSING);
    assert_int_equal(bb_read(f->b, "k1", &it, &cause), BB_OK);
    assert_int_equal(it->attempts, 0);
    assert_int_equal(it->reclaims, 1);
    assert_non_null(strstr(it->reason, "lapsed"));
    bb_item_free(it);
    /* The dead claimer's late completion is refused: the item has moved on without it. */
    assert_int_equal(bb_complete(f->b, &dead, BB_DEBATING, NULL, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(bb_reclaim(f->b, BB_REVIEWING, &policy, 100, &n, &cause), BB_REFUSED);
    free(cause);
}

/* Stages: a claimed item handed on to a stage waits there unlocked, untouched by reclaim;
 * bb_take takes it with a lock (oldest first), a taker that dies leaves it to reclaim (back
 * onto the stage), and an item moved off its status meanwhile is dropped from the stage.
 * bb_claim_item and bb_complete_with do their extra work in the same step. */
static void test_stages_hand_on_and_take(void **state)
{
    struct fx *f = *state;
    struct bb_retry policy = {.max_attempts = 3};
    struct bb_lock lk, lk2;
    struct bb_item *it = NULL;
    char *cause = NULL;
    json_t *patch;
    long waiting = -1;
    int n = -1;
    int64_t deadline;

    write_ok(f->b, "s1", "stage one");
    write_ok(f->b, "s2", "stage two");
    assert_int_equal(bb_claim_item(f->b, BB_PENDING, BB_PROCESSING, 60000, &lk, &it, &cause),
                     BB_OK);
    assert_non_null(it);
    assert_string_equal(it->id, "s1");
    assert_int_equal(it->status, BB_PROCESSING);
    assert_string_equal(json_string_value(json_object_get(it->body, "title")), "stage one");
    bb_item_free(it);
    /* complete_with: the move and the patch at once; a refused move writes no patch. */
    patch = json_pack("{s:s}", "note", "kept");
    assert_int_equal(bb_complete_with(f->b, &lk, BB_REVIEWING, patch, "bad", &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(bb_read(f->b, "s1", &it, &cause), BB_OK);
    assert_null(json_object_get(it->body, "note"));
    bb_item_free(it);
    assert_int_equal(bb_complete_with(f->b, &lk, BB_DEBATING, patch, "on", &cause), BB_OK);
    json_decref(patch);
    assert_int_equal(integer(f->l, "EXISTS %s", "nr:bb:lock:s1"), 0);
    assert_int_equal(bb_read(f->b, "s1", &it, &cause), BB_OK);
    assert_int_equal(it->status, BB_DEBATING);
    assert_string_equal(json_string_value(json_object_get(it->body, "note")), "kept");
    bb_item_free(it);

    /* Hand s2 on to stage "qa": it keeps its status, nobody holds it, reclaim leaves it. */
    assert_int_equal(bb_claim(f->b, BB_PENDING, BB_PROCESSING, 60000, &lk, &cause), BB_OK);
    assert_int_equal(bb_handoff(f->b, &lk, "Bad-Stage", NULL, "x", &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    patch = json_pack("{s:i}", "draft", 1);
    assert_int_equal(bb_handoff(f->b, &lk, "qa", patch, "to qa", &cause), BB_OK);
    json_decref(patch);
    assert_int_equal(bb_stage_len(f->b, "qa", &waiting, &cause), BB_OK);
    assert_int_equal(waiting, 1);
    assert_int_equal(integer(f->l, "EXISTS %s", "nr:bb:lock:s2"), 0);
    assert_int_equal(bb_reclaim(f->b, BB_PROCESSING, &policy, 100, &n, &cause), BB_OK);
    assert_int_equal(n, 0);
    /* Nothing waits on another stage or in another status. */
    assert_int_equal(bb_take(f->b, "produce", BB_PROCESSING, 60000, &lk2, NULL, &cause), BB_NONE);
    assert_int_equal(bb_take(f->b, "qa", BB_PROCESSING, 100, &lk2, &it, &cause), BB_OK);
    assert_string_equal(lk2.id, "s2");
    assert_string_equal(it->stage, "qa");
    assert_int_equal(json_integer_value(json_object_get(it->body, "draft")), 1);
    bb_item_free(it);
    /* The hander's old lock no longer writes: the taker's grant is later. */
    assert_int_equal(bb_complete(f->b, &lk, BB_DEBATING, NULL, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(bb_stage_len(f->b, "qa", &waiting, &cause), BB_OK);
    assert_int_equal(waiting, 0);
    /* The taker dies: its lock lapses and reclaim takes the item back to the front of the stage
     * it was taken from, its status kept, no attempt counted. */
    deadline = clock_mono_ms() + 5000;
    while (integer(f->l, "EXISTS %s", "nr:bb:lock:s2") == 1 && clock_mono_ms() < deadline)
        clock_sleep_ms(10, NULL);
    assert_int_equal(bb_reclaim(f->b, BB_PROCESSING, &policy, 100, &n, &cause), BB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(status_of(f->b, "s2"), BB_PROCESSING);
    assert_int_equal(bb_stage_len(f->b, "qa", &waiting, &cause), BB_OK);
    assert_int_equal(waiting, 1);

    /* An item that left its status while waiting is dropped from the stage. */
    assert_int_equal(bb_transition(f->b, "s2", BB_ARCHIVED, "operator", NULL, &cause), BB_OK);
    assert_int_equal(bb_take(f->b, "qa", BB_PROCESSING, 60000, &lk2, NULL, &cause), BB_NONE);
    assert_int_equal(bb_stage_len(f->b, "qa", &waiting, &cause), BB_OK);
    assert_int_equal(waiting, 0);
    /* A terminal item cannot be handed on. */
    assert_int_equal(bb_handoff(f->b, &lk, "qa", NULL, "late", &cause), BB_REFUSED);
    free(cause);
}

/* A lock that lapsed writes nothing, even before anyone else took the item: a late hand-off
 * after reclaim would otherwise queue a story that is back at the start. The guarded moves:
 * complete_from only from its status, handoff_to moves and queues at once, fail_with records
 * its patch with the failure. */
static void test_lapsed_locks_and_guarded_moves(void **state)
{
    struct fx *f = *state;
    struct bb_lock lk;
    struct bb_item *it = NULL;
    char *cause = NULL;
    json_t *patch = json_pack("{s:s}", "verdict", "kept");
    long waiting = -1;
    int64_t deadline;
    int now = -1;

    write_ok(f->b, "g1", "guarded one");
    assert_int_equal(bb_claim(f->b, BB_PENDING, BB_PROCESSING, 100, &lk, &cause), BB_OK);
    deadline = clock_mono_ms() + 5000;
    while (integer(f->l, "EXISTS %s", "nr:bb:lock:g1") == 1 && clock_mono_ms() < deadline)
        clock_sleep_ms(10, NULL);
    assert_int_equal(bb_handoff(f->b, &lk, "qa", NULL, "late", &cause), BB_REFUSED);
    assert_non_null(strstr(cause, "lapsed"));
    free(cause);
    cause = NULL;
    assert_int_equal(bb_complete(f->b, &lk, BB_DEBATING, NULL, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(bb_stage_len(f->b, "qa", &waiting, &cause), BB_OK);
    assert_int_equal(waiting, 0);
    assert_int_equal(status_of(f->b, "g1"), BB_PROCESSING);

    /* complete_from: refused from another status, nothing written. */
    assert_int_equal(bb_lock_acquire(f->b, "g1", 60000, &lk, &cause), BB_OK);
    assert_int_equal(bb_complete_from(f->b, &lk, BB_DEBATING, BB_ARCHIVED, patch, "x", &cause),
                     BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(status_of(f->b, "g1"), BB_PROCESSING);
    assert_int_equal(bb_complete_from(f->b, &lk, BB_PROCESSING, BB_DEBATING, patch, "on", &cause),
                     BB_OK);

    /* handoff_to: DEBATING cannot go to PRODUCING; CONSENSUS_REACHED can, onto a stage. */
    assert_int_equal(bb_lock_acquire(f->b, "g1", 60000, &lk, &cause), BB_OK);
    assert_int_equal(bb_handoff_to(f->b, &lk, BB_PRODUCING, "rewrite", NULL, "no", &cause),
                     BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(bb_complete(f->b, &lk, BB_CONSENSUS_REACHED, NULL, &cause), BB_OK);
    assert_int_equal(bb_lock_acquire(f->b, "g1", 60000, &lk, &cause), BB_OK);
    assert_int_equal(bb_handoff_to(f->b, &lk, BB_PRODUCING, "rewrite", NULL, "back", &cause),
                     BB_OK);
    assert_int_equal(status_of(f->b, "g1"), BB_PRODUCING);
    assert_int_equal(bb_stage_len(f->b, "rewrite", &waiting, &cause), BB_OK);
    assert_int_equal(waiting, 1);

    /* A stale stage entry (handed to another stage since) is dropped by a take. */
    assert_int_equal(bb_take(f->b, "rewrite", BB_PRODUCING, 60000, &lk, NULL, &cause), BB_OK);
    assert_int_equal(bb_handoff(f->b, &lk, "qa", NULL, "to qa", &cause), BB_OK);
    assert_int_equal(integer(f->l, "ZADD nr:bb:stage:rewrite 1 %s", "g1"), 1);
    assert_int_equal(bb_take(f->b, "rewrite", BB_PRODUCING, 60000, &lk, NULL, &cause), BB_NONE);
    assert_int_equal(bb_stage_len(f->b, "rewrite", &waiting, &cause), BB_OK);
    assert_int_equal(waiting, 0);

    /* fail_with: the patch and the failure together. */
    assert_int_equal(bb_take(f->b, "qa", BB_PRODUCING, 60000, &lk, NULL, &cause), BB_OK);
    assert_int_equal(bb_fail_with(f->b, "g1", &lk, "below the bar", 1, patch, &now, &cause), BB_OK);
    assert_int_equal(now, BB_FAILED);
    assert_int_equal(bb_read(f->b, "g1", &it, &cause), BB_OK);
    assert_string_equal(json_string_value(json_object_get(it->body, "verdict")), "kept");
    assert_string_equal(it->fail_reason, "below the bar");
    bb_item_free(it);
    json_decref(patch);
}

static void test_locks_and_fencing(void **state)
{
    struct fx *f = *state;
    struct bb *other = bb_new(f->l, "other");
    struct bb_lock a, b2;
    char *cause = NULL;
    int64_t deadline;

    write_ok(f->b, "l1", "locked story");
    assert_int_equal(bb_lock_acquire(f->b, "l1", 150, &a, &cause), BB_OK);
    {
        struct bb_item *it;

        /* A grant is a write: the version moves and the event names the holder. */
        assert_int_equal(bb_read(f->b, "l1", &it, &cause), BB_OK);
        assert_int_equal(it->version, 2);
        assert_int_equal(it->fence, a.fence);
        assert_string_equal(it->owner, "tester");
        bb_item_free(it);
    }
    /* Held: another holder is refused, and so is a writer without the lock. */
    assert_int_equal(bb_lock_acquire(other, "l1", 5000, &b2, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(bb_transition(other, "l1", BB_PROCESSING, NULL, NULL, &cause), BB_REFUSED);
    assert_non_null(strstr(cause, "locked by another holder"));
    free(cause);
    cause = NULL;
    assert_int_equal(bb_lock_extend(f->b, &a, 150, &cause), BB_OK);
    /* Let it expire: wait for the key to go, as Redis decides. */
    deadline = clock_mono_ms() + 5000;
    while (integer(f->l, "EXISTS %s", "nr:bb:lock:l1") == 1 && clock_mono_ms() < deadline)
        clock_sleep_ms(10, NULL);
    assert_int_equal(integer(f->l, "EXISTS %s", "nr:bb:lock:l1"), 0);
    assert_int_equal(bb_lock_extend(f->b, &a, 150, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    /* A later grant: the stale holder is refused by the fencing check, before and after the
     * new holder writes and even after it lets go. */
    assert_int_equal(bb_lock_acquire(other, "l1", 5000, &b2, &cause), BB_OK);
    assert_true(b2.fence > a.fence);
    assert_int_equal(bb_transition(f->b, "l1", BB_PROCESSING, NULL, &a, &cause), BB_REFUSED);
    assert_non_null(strstr(cause, "locked by another holder"));
    free(cause);
    cause = NULL;
    assert_int_equal(bb_transition(other, "l1", BB_PROCESSING, NULL, &b2, &cause), BB_OK);
    assert_int_equal(bb_lock_release(other, &b2, &cause), BB_OK);
    assert_int_equal(bb_transition(f->b, "l1", BB_DEBATING, NULL, &a, &cause), BB_REFUSED);
    assert_non_null(strstr(cause, "stale fencing number"));
    free(cause);
    cause = NULL;
    assert_int_equal(status_of(f->b, "l1"), BB_PROCESSING);
    /* Releasing twice: the second is refused, nothing breaks. */
    assert_int_equal(bb_lock_release(other, &b2, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(bb_lock_acquire(f->b, "nope", 100, &a, &cause), BB_NONE);
    free(cause);
    bb_free(other);
}

static int fails_inside(struct bb *b, const struct bb_lock *lk, void *ctx)
{
    char *cause = NULL;

    (void)ctx;
    /* The holder may write... */
    if (bb_transition(b, lk->id, BB_PROCESSING, NULL, lk, &cause) != BB_OK)
        return BB_ERR;
    return BB_REFUSED; /* ...and then give up: the lock must still be released. */
}

static void test_with_lock_releases(void **state)
{
    struct fx *f = *state;
    char *cause = NULL;

    write_ok(f->b, "w1", "scoped");
    assert_int_equal(bb_with_lock(f->b, "w1", 5000, fails_inside, NULL, &cause), BB_REFUSED);
    assert_int_equal(integer(f->l, "EXISTS %s", "nr:bb:lock:w1"), 0);
    assert_int_equal(status_of(f->b, "w1"), BB_PROCESSING);
}

static void test_update_merges(void **state)
{
    struct fx *f = *state;
    json_t *patch =
        json_pack("{s:s, s:[s,s], s:n}", "summary", "Short.", "topics", "a", "b", "url");
    struct bb_item *it;
    char *cause = NULL;

    write_ok(f->b, "u1", "updatable");
    assert_int_equal(bb_update(f->b, "u1", patch, NULL, &cause), BB_OK);
    assert_int_equal(bb_read(f->b, "u1", &it, &cause), BB_OK);
    assert_int_equal(it->version, 2);
    assert_string_equal(json_string_value(json_object_get(it->body, "summary")), "Short.");
    assert_int_equal(json_array_size(json_object_get(it->body, "topics")), 2);
    assert_null(json_object_get(it->body, "url"));
    assert_string_equal(json_string_value(json_object_get(it->body, "title")), "updatable");
    bb_item_free(it);
    json_decref(patch);
    patch = json_object();
    assert_int_equal(bb_update(f->b, "missing", patch, NULL, &cause), BB_NONE);
    json_decref(patch);
    free(cause);
}

static void test_query_pages(void **state)
{
    struct fx *f = *state;
    struct bb_item **items;
    size_t n, total = 0;
    char next[BB_CURSOR_MAX + 1] = "", *cause = NULL, id[32];
    int seen[25] = {0};

    for (int i = 0; i < 25; i++) {
        snprintf(id, sizeof id, "q%02d", i);
        write_ok(f->b, id, id);
    }
    assert_int_equal(bb_transition(f->b, "q03", BB_PROCESSING, NULL, NULL, &cause), BB_OK);
    do {
        assert_int_equal(
            bb_query(f->b, BB_RAW_FEED, BB_PENDING, next, 10, &items, &n, next, &cause), BB_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(items[i]->status, BB_PENDING);
            seen[atoi(items[i]->id + 1)]++;
            bb_item_free(items[i]);
        }
        free(items);
        total += n;
        /* Items leave between pages: the cursor is a position, so nothing is skipped. */
        if (total == 10) {
            assert_int_equal(bb_transition(f->b, "q00", BB_PROCESSING, NULL, NULL, &cause), BB_OK);
            assert_int_equal(bb_transition(f->b, "q01", BB_PROCESSING, NULL, NULL, &cause), BB_OK);
        }
    } while (next[0] != '\0');
    assert_int_equal(total, 24);
    for (int i = 0; i < 25; i++)
        assert_int_equal(seen[i], i == 3 ? 0 : 1);
    assert_int_equal(bb_query(f->b, BB_RAW_FEED, -1, "", 100, &items, &n, next, &cause), BB_OK);
    assert_int_equal(n, 25);
    assert_string_equal(next, "");
    for (size_t i = 0; i < n; i++)
        bb_item_free(items[i]);
    free(items);
    assert_int_equal(bb_query(f->b, -1, -1, "", 10, &items, &n, next, &cause), BB_REFUSED);
    free(cause);
    cause = NULL;
    assert_int_equal(bb_query(f->b, BB_RAW_FEED, -1, "nonsense", 10, &items, &n, next, &cause),
                     BB_REFUSED);
    assert_non_null(strstr(cause, "bad cursor"));
    free(cause);
}

struct claimer {
    pthread_t th;
    char (*ids)[16];
    size_t n;
};

static void *claim_all(void *p)
{
    struct claimer *c = p;
    struct rlink *l = connect_db();
    char name[32];
    struct bb *b;
    struct bb_lock lk;
    char *cause = NULL;
    int rc = BB_NONE;

    snprintf(name, sizeof name, "claimer-%p", p);
    b = bb_new(l, name);
    c->ids = calloc(1000, sizeof *c->ids);
    while (c->n < 1000 &&
           (rc = bb_claim(b, BB_PENDING, BB_PROCESSING, 30000, &lk, &cause)) == BB_OK)
        snprintf(c->ids[c->n++], sizeof c->ids[0], "%.15s", lk.id);
    if (rc != BB_NONE)
        fprintf(stderr, "claim: %s\n", cause);
    free(cause);
    bb_free(b);
    rlink_free(l);
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_eight_threads_claim_each_once(void **state)
{
    struct fx *f = *state;
    struct claimer c[8];
    char(*all)[16] = calloc(1000, sizeof *all);
    size_t total = 0;
    char id[16];

    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "m%04d", i);
        write_ok(f->b, id, id);
    }
    memset(c, 0, sizeof c);
    for (int i = 0; i < 8; i++)
        pthread_create(&c[i].th, NULL, claim_all, &c[i]);
    for (int i = 0; i < 8; i++) {
        pthread_join(c[i].th, NULL);
        for (size_t k = 0; k < c[i].n && total < 1000; k++)
            memcpy(all[total++], c[i].ids[k], 16);
        assert_true(c[i].n <= 1000);
        free(c[i].ids);
    }
    assert_int_equal(total, 1000);
    qsort(all, total, sizeof *all, cmp_id);
    for (size_t i = 0; i < total; i++) {
        snprintf(id, sizeof id, "m%04d", (int)i);
        assert_string_equal(all[i], id); /* each exactly once: sorted, they are m0000..m0999 */
    }
    assert_int_equal(integer(f->l, "ZCARD %s", "nr:bb:st:PROCESSING"), 1000);
    assert_int_equal(integer(f->l, "ZCARD %s", "nr:bb:st:PENDING"), 0);
    free(all);
}

static void test_events_follow_across_reconnect(void **state)
{
    struct fx *f = *state;
    struct bb_event ev[16];
    size_t n;
    char *cause = NULL, last[32];
    struct rlink *l2;
    struct bb *b2;

    write_ok(f->b, "e1", "first");
    assert_int_equal(bb_events_read(f->b, "0", 0, ev, 16, &n, &cause), BB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].kind, "write");
    assert_string_equal(ev[0].id, "e1");
    assert_string_equal(ev[0].to, "PENDING");
    assert_string_equal(ev[0].by, "tester");
    snprintf(last, sizeof last, "%s", ev[0].sid);
    /* Nothing new: an empty read, also when waiting a little. */
    assert_int_equal(bb_events_read(f->b, last, 50, ev, 16, &n, &cause), BB_OK);
    assert_int_equal(n, 0);
    /* Changes happen while the reader is away; a new link resumes where it stopped. */
    assert_int_equal(bb_transition(f->b, "e1", BB_PROCESSING, "go", NULL, &cause), BB_OK);
    write_ok(f->b, "e2", "second");
    l2 = connect_db();
    b2 = bb_new(l2, "reader");
    assert_int_equal(bb_events_read(b2, last, 0, ev, 16, &n, &cause), BB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].kind, "move");
    assert_string_equal(ev[0].from, "PENDING");
    assert_string_equal(ev[0].to, "PROCESSING");
    assert_string_equal(ev[0].why, "go");
    assert_int_equal(ev[0].version, 2);
    assert_string_equal(ev[1].id, "e2");
    bb_free(b2);
    rlink_free(l2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_read_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_transition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_follow_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_retries_then_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reclaim_after_claimer_died, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stages_hand_on_and_take, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lapsed_locks_and_guarded_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locks_and_fencing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_with_lock_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_merges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eight_threads_claim_each_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_follow_across_reconnect, setup, teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
