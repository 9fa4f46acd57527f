/*
 * test_retention.c - retention (src/recovery/retention.c) on a private redis-server:
 *
 *   - two batches of wire stories run by a real swarm to their end (published, archived),
 *     the second started after the first had ended; a pass with a window that reaches back to
 *     between the batches deletes every story of the first batch with every key of theirs
 *     (SCAN finds no key naming one of their ids, no index, debate list or count holds them)
 *     and leaves the second batch as it was, key for key and field for field;
 *   - budget requests decided longer ago than the archived window go, open ones stay;
 *   - agents dead longer than dead_agents leave the registry, live ones stay;
 *   - a pass while another holds the lock does nothing.
 *
 * Waits are conditions with deadlines (AWAIT).
 */
#include "agents/agent.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "cost/budget.h"
#include "cost/pricing.h"
#include "memory/embed.h"
#include "memory/memory.h"
#include "memory/vmem.h"
#include "recovery/retention.h"
#include "store/blackboard.h"
#include "store/registry.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define BATCH 12

static const struct rlink_options lopts = {
    .connect_timeout_ms = 2000,
    .command_timeout_ms = 5000,
    .reconnect_base_ms = 20,
    .reconnect_max_ms = 200,
};

struct ids {
    char **id;
    size_t n;
};

static void ids_free(struct ids *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->id[i]);
    free(s->id);
    s->id = NULL;
    s->n = 0;
}

/* Every key of the database, sorted, one string each. */
static struct ids all_keys(struct rlink *l)
{
    struct ids out = {0};
    char cursor[32] = "0";

    do {
        redisReply *r = test_must(l, "SCAN %s COUNT 1000", cursor);

        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            out.id = xrealloc(out.id, (out.n + 1) * sizeof *out.id);
            out.id[out.n++] = xstrdup(r->element[1]->element[i]->str);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    for (size_t i = 1; i < out.n; i++)
        for (size_t j = i; j > 0 && strcmp(out.id[j - 1], out.id[j]) > 0; j--) {
            char *t = out.id[j];

            out.id[j] = out.id[j - 1];
            out.id[j - 1] = t;
        }
    return out;
}

/* The ids of every story on the blackboard. */
static struct ids story_ids(struct rlink *l)
{
    struct ids keys = all_keys(l), out = {0};

    for (size_t i = 0; i < keys.n; i++)
        if (strncmp(keys.id[i], BB_PREFIX "item:", strlen(BB_PREFIX "item:")) == 0) {
            out.id = xrealloc(out.id, (out.n + 1) * sizeof *out.id);
            out.id[out.n++] = xstrdup(keys.id[i] + strlen(BB_PREFIX "item:"));
        }
    ids_free(&keys);
    return out;
}

static bool has(const struct ids *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->id[i], id) == 0)
            return true;
    return false;
}

/* A swarm over BATCH wire stories of seed, until none is left open. */
static void run_batch(struct config *cfg, struct pricing *pricing, struct bb *b, uint64_t seed)
{
    struct swarm_options o;
    struct swarm *s;

    memset(&o, 0, sizeof o);
    o.addr = *test_private_addr();
    o.link = lopts;
    o.cfg = cfg;
    o.pricing = pricing;
    o.roles = "scout:1,analyst:1,debater:3,moderator:1,writer:1,qa:1,producer:1,publisher:1,"
              "archivist:1,approver:1";
    o.auto_approve = true;
    o.wire = true;
    o.wire_seed = seed;
    o.wire_limit = BATCH;
    o.heartbeat_ttl_ms = 5000;
    s = swarmenv_start(&o);
    AWAIT(120, swarm_settled(s) && swarmenv_open(b) == 0);
    swarm_stop(s);
    swarm_free(s);
}

/* Every field of every key naming one of ids (a fingerprint to compare). */
static char *snapshot(struct rlink *l, const struct ids *ids)
{
    struct ids keys = all_keys(l);
    char *out = xstrdup("");

    for (size_t i = 0; i < keys.n; i++) {
        bool mine = false;
        redisReply *r;
        char *s;

        for (size_t k = 0; k < ids->n && !mine; k++)
            mine = strstr(keys.id[i], ids->id[k]) != NULL;
        if (!mine)
            continue;
        r = test_must(l, "DUMP %s", keys.id[i]);
        s = xasprintf("%s%s=%zu;", out, keys.id[i], r->type == REDIS_REPLY_STRING ? r->len : 0);
        free(out);
        out = s;
        freeReplyObject(r);
    }
    ids_free(&keys);
    return out;
}

static void test_windows(void **state)
{
    struct config *cfg;
    struct pricing *pricing;
    struct rlink *l = rlink_new(test_private_addr(), &lopts);
    struct bb *b = bb_new(l, "test");
    struct ids first, second, keys;
    struct retention_policy p;
    struct retention_report rep;
    char *before, *after, *cause = NULL;
    int64_t between, window;
    long published = 0;

    (void)state;
    freeReplyObject(test_must(l, "FLUSHDB%s", ""));
    swarmenv_models(true, &cfg, &pricing);
    free(cfg->video_ffmpeg);
    cfg->video_ffmpeg = xstrdup("none");
    run_batch(cfg, pricing, b, 101);
    first = story_ids(l);
    assert_true(first.n >= BATCH / 2);
    /* The second batch starts strictly after the first has ended (server clock). */
    between = swarmenv_server_ms(l) + 5;
    AWAIT(5, swarmenv_server_ms(l) > between);
    run_batch(cfg, pricing, b, 202);
    second = story_ids(l);
    for (size_t i = 0; i < first.n; i++) {
        redisReply *r;

        assert_true(has(&second, first.id[i]));
        r = test_must(l, "ZSCORE " BB_PREFIX "st:PUBLISHED %s", first.id[i]);
        published += r->type == REDIS_REPLY_STRING;
        freeReplyObject(r);
    }
    assert_true(published > 0);
    /* Keep only the second batch's ids in `second`. */
    {
        struct ids only = {0};

        for (size_t i = 0; i < second.n; i++)
            if (!has(&first, second.id[i])) {
                only.id = xrealloc(only.id, (only.n + 1) * sizeof *only.id);
                only.id[only.n++] = xstrdup(second.id[i]);
            }
        ids_free(&second);
        second = only;
    }
    assert_true(second.n > 0);
    before = snapshot(l, &second);

    /* Windows reaching back to between the batches. */
    window = swarmenv_server_ms(l) - between;
    memset(&p, 0, sizeof p);
    p.window_ms[RETENTION_PUBLISHED] = p.window_ms[RETENTION_ARCHIVED] =
        p.window_ms[RETENTION_FAILED] = window;
    p.dead_agents_ms = 3600000;
    p.batch = 5; /* several steps */
    p.mem = memory_open(cfg, l, &cause);
    assert_non_null(p.mem);
    assert_int_equal(retention_run(l, &p, "test", &rep, &cause), 0);
    assert_true(rep.ran);
    print_message("deleted %ld published, %ld archived, %ld failed of %zu first-batch stories; "
                  "%zu second-batch stories kept\n",
                  rep.stories[RETENTION_PUBLISHED], rep.stories[RETENTION_ARCHIVED],
                  rep.stories[RETENTION_FAILED], first.n, second.n);
    assert_int_equal(rep.stories[0] + rep.stories[1] + rep.stories[2], (long)first.n);

    /* Nothing of the first batch is left: no key names one, no set holds one. */
    keys = all_keys(l);
    for (size_t i = 0; i < keys.n; i++)
        for (size_t k = 0; k < first.n; k++)
            if (strstr(keys.id[i], first.id[k]) != NULL)
                fail_msg("key %s of deleted story %s is still there", keys.id[i], first.id[k]);
    for (size_t i = 0; i < keys.n; i++) {
        redisReply *t = test_must(l, "TYPE %s", keys.id[i]);
        bool zset = strcmp(t->str, "zset") == 0, set = strcmp(t->str, "set") == 0;

        freeReplyObject(t);
        for (size_t k = 0; k < first.n && (zset || set); k++) {
            redisReply *r = rlink_command(l, &cause, zset ? "ZSCORE %s %s" : "SISMEMBER %s %s",
                                          keys.id[i], first.id[k]);

            assert_non_null(r);
            if ((zset && r->type != REDIS_REPLY_NIL) || (set && r->integer == 1))
                fail_msg("%s still holds deleted story %s", keys.id[i], first.id[k]);
            freeReplyObject(r);
        }
    }
    ids_free(&keys);
    /* Nor in the vector memory: no news_articles record of a deleted story (its own, or an
     * item merged into it), and no alias of a merged item pointing at one. */
    {
        char name[200];
        struct vmem_coll *c = vmem_collection(
            memory_vmem(p.mem), memory_collection_name(p.mem, MEMORY_NEWS, name, sizeof name),
            embedder_dim(memory_embedder(p.mem)), &cause);
        json_t *in = json_array(), *where;
        struct vmem_result res = {0};
        long left_before = 0;

        assert_non_null(c);
        for (size_t k = 0; k < first.n; k++)
            json_array_append_new(in, json_string(first.id[k]));
        where = json_pack("{s:{s:o}}", "story", "$in", in);
        assert_int_equal(vmem_get(c, NULL, 0, where, 0, 0, 0, &res, &cause), 0);
        if (res.n != 0)
            fail_msg("%zu news_articles records of deleted stories are left", res.n);
        vmem_result_clear(&res);
        json_decref(where);
        assert_int_equal(vmem_count(c, &left_before, &cause), 0);
        assert_true(left_before > 0); /* the second batch's records stay */
        keys = all_keys(l);
        for (size_t i = 0; i < keys.n; i++) {
            redisReply *r;

            if (strncmp(keys.id[i], BB_PREFIX "alias:", strlen(BB_PREFIX "alias:")) != 0)
                continue;
            r = test_must(l, "HGET %s story", keys.id[i]);
            for (size_t k = 0; k < first.n && r->type == REDIS_REPLY_STRING; k++)
                if (strcmp(r->str, first.id[k]) == 0)
                    fail_msg("alias %s still points at deleted story %s", keys.id[i], r->str);
            freeReplyObject(r);
        }
        ids_free(&keys);
    }
    memory_free(p.mem);
    /* The counts still match the items. */
    {
        long c[BB_SECTION_COUNT][BB_STATUS_COUNT], total = 0;

        assert_int_equal(bb_counts(b, c, &cause), BB_OK);
        for (int s = 0; s < BB_SECTION_COUNT; s++)
            for (int st = 0; st < BB_STATUS_COUNT; st++)
                total += c[s][st];
        assert_int_equal(total, (long)second.n);
    }
    /* The second batch is untouched, every key and every byte. */
    after = snapshot(l, &second);
    assert_string_equal(before, after);
    free(before);
    free(after);
    ids_free(&first);
    ids_free(&second);
    bb_free(b);
    rlink_free(l);
    config_free(cfg);
    pricing_free(pricing);
}

static void test_requests_agents_lock(void **state)
{
    struct rlink *l = rlink_new(test_private_addr(), &lopts);
    struct registry *reg = registry_new(l);
    struct budget_options bo = {.alert_ppm = 800000, .reservation_ttl_ms = 60000};
    struct budget_limits lim = {.daily = 10};
    struct budget_refusal ref;
    struct retention_policy p = {{0, 300, 0}, 300, 0, 0, NULL};
    struct retention_report rep;
    struct registry_agent dead = {.id = "dead-1", .role = "scout", .tier = "FAST"};
    struct registry_agent *all = NULL;
    char id[BUDGET_ID_MAX], first[BUDGET_ID_MAX], *cause = NULL;
    size_t n = 0;
    redisReply *r;

    (void)state;
    freeReplyObject(test_must(l, "FLUSHDB%s", ""));
    /* Two requests: one declined (goes once old), one open (stays). */
    assert_int_equal(budget_set_limits(l, "a1", &lim, BUDGET_SET_DAILY, &cause), 0);
    assert_int_equal(budget_set_limits(l, "a2", &lim, BUDGET_SET_DAILY, &cause), 0);
    assert_int_equal(
        budget_reserve(l, &bo, clock_wall_ms(), "a1", "story-x", 100, id, &ref, &cause), 1);
    snprintf(first, sizeof first, "%s", ref.request_id);
    assert_int_equal(
        budget_reserve(l, &bo, clock_wall_ms(), "a2", "story-y", 100, id, &ref, &cause), 1);
    assert_int_equal(budget_decline(l, first, &cause), 0);
    /* An agent whose heartbeat lapsed (100 ms), and this one, alive. */
    assert_int_equal(registry_register(reg, &dead, 100, &cause), 0);
    {
        struct registry *live = registry_new(l);
        struct registry_agent a = {.id = "live-1", .role = "scout", .tier = "FAST"};
        int64_t t0 = clock_mono_ms();

        assert_int_equal(registry_register(live, &a, 60000, &cause), 0);
        /* Held: this pass does nothing. */
        freeReplyObject(test_must(l, "SET " RETENTION_LOCK_KEY " %s", "someone-else"));
        assert_int_equal(retention_run(l, &p, "test", &rep, &cause), 0);
        assert_false(rep.ran);
        freeReplyObject(test_must(l, "DEL %s", RETENTION_LOCK_KEY));
        /* Past the windows: 100 ms of heartbeat, 300 ms dead, 300 ms since the decision. */
        AWAIT(5, clock_mono_ms() - t0 > 500);
        assert_int_equal(retention_run(l, &p, "test", &rep, &cause), 0);
        assert_true(rep.ran);
        assert_int_equal(rep.requests, 1);
        assert_int_equal(rep.agents, 1);
        registry_free(live);
    }
    r = test_must(l, "ZRANGE nr:cost:requests 0 -1%s", "");
    assert_int_equal(r->elements, 1);
    assert_string_equal(r->element[0]->str, ref.request_id);
    freeReplyObject(r);
    r = test_must(l, "EXISTS nr:cost:req:%s", first);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    assert_int_equal(registry_list(reg, &all, &n, NULL, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(all[0].id, "live-1");
    free(all);
    r = test_must(l, "EXISTS %s", RETENTION_LOCK_KEY);
    assert_int_equal(r->integer, 0); /* released */
    freeReplyObject(r);
    registry_free(reg);
    rlink_free(l);
}

static int group_setup(void **state)
{
    (void)state;
    return test_private_start(NULL);
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
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_requests_agents_lock),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
