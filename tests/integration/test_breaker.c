/*
 * test_breaker.c - circuit breakers (src/recovery/breaker.c) on a private redis-server:
 *
 *   - alone (no board): closed -> open after N failures in the window, refused at once while
 *     open, half-open after the cool-down with `trials` trial calls a round, closed after M
 *     trial successes, open again on a failed trial;
 *   - shared (the board's sync thread on Redis): the hash and the events stream follow every
 *     transition; a breaker another process opened (breaker.lua called as that process would)
 *     refuses calls here within the refresh time; trial slots are shared, never more than
 *     `trials` a round across processes; `breaker_reset()` closes it with an event and an audit
 *     record; `breaker_list()` reads what `ctl breakers` prints;
 *   - the hot path: 20,000 checks and successes on a closed breaker send no Redis command of
 *     their own (the sync thread's refreshes only).
 *
 * Waits are conditions with deadlines (AWAIT), never blind sleeps.
 */
#include "core/clock.h"
#include "core/fail.h"
#include "recovery/breaker.h"
#include "store/audit.h"
#include "store/lua_scripts.h"
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

static const struct breaker_policy policy = {
    .failures = 3,
    .window_ms = 10000,
    .cooldown_ms = 400,
    .trials = 2,
    .successes = 2,
    .refresh_ms = 50,
};

static const struct rlink_options lopts = {
    .connect_timeout_ms = 2000,
    .command_timeout_ms = 2000,
    .reconnect_base_ms = 20,
    .reconnect_max_ms = 200,
};

static struct rlink *link_new(void)
{
    return rlink_new(test_private_addr(), &lopts);
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

static bool allowed(struct breaker *b)
{
    char *cause = NULL;

    if (breaker_allow(b, &cause) == 0)
        return true;
    free(cause);
    return false;
}

static void test_alone(void **state)
{
    struct breaker *b;
    char *cause = NULL;

    (void)state;
    breaker_set_local_policy(&policy);
    b = breaker_for("test", "alone");
    assert_ptr_equal(b, breaker_for("test", "alone"));
    assert_string_equal(breaker_name(b), "test:alone");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(breaker_state_of(b), BREAKER_CLOSED);
        assert_true(allowed(b));
        breaker_failure(b, "HTTP 503");
    }
    assert_int_equal(breaker_state_of(b), BREAKER_OPEN);
    assert_int_equal(breaker_allow(b, &cause), -1);
    assert_non_null(strstr(cause, "test:alone is open"));
    assert_non_null(strstr(cause, "HTTP 503"));
    free(cause);
    /* The cool-down: half-open, two trials a round, the third refused. */
    AWAIT(5, allowed(b));
    assert_int_equal(breaker_state_of(b), BREAKER_HALF_OPEN);
    assert_true(allowed(b));
    assert_false(allowed(b));
    breaker_success(b);
    assert_int_equal(breaker_state_of(b), BREAKER_HALF_OPEN);
    breaker_success(b);
    assert_int_equal(breaker_state_of(b), BREAKER_CLOSED);
    /* Open again, then a failed trial opens it at once. */
    for (int i = 0; i < 3; i++)
        breaker_failure(b, "timeout");
    assert_int_equal(breaker_state_of(b), BREAKER_OPEN);
    AWAIT(5, allowed(b));
    breaker_failure(b, "still down");
    assert_int_equal(breaker_state_of(b), BREAKER_OPEN);
    assert_false(allowed(b));
}

/* What another process's sync thread sends for breaker name: f failures, s trial successes,
 * w trial slots wanted. Returns {state, ms left, granted}. */
static void remote_sync(struct rlink *l, const char *name, int f, int s, int w, char *state,
                        long long *granted)
{
    char fs[16], ss[16], ws[16];
    const char *argv[] = {"sync",
                          BREAKER_PREFIX,
                          BREAKER_SET_KEY,
                          BREAKER_EVENTS_KEY,
                          "10000",
                          "3",
                          "10000",
                          "400",
                          "2",
                          "2",
                          name,
                          fs,
                          ss,
                          ws,
                          "remote failure"};
    char *cause = NULL;
    redisReply *r;

    snprintf(fs, sizeof fs, "%d", f);
    snprintf(ss, sizeof ss, "%d", s);
    snprintf(ws, sizeof ws, "%d", w);
    r = rlink_eval(l, &lua_breaker, 0, sizeof argv / sizeof argv[0], argv, &cause);
    if (r == NULL)
        fail_msg("breaker.lua: %s", cause);
    strcpy(state, rlink_reply_str(r->element[1]->element[0], 1));
    *granted = rlink_reply_int(r->element[1]->element[0], 3);
    freeReplyObject(r);
}

static long long stream_len(struct rlink *l, const char *key)
{
    redisReply *r = test_must(l, "XLEN %s", key);
    long long n = r->integer;

    freeReplyObject(r);
    return n;
}

/* Whether breaker name's hash in Redis says state. */
static bool hash_state(struct rlink *l, const char *name, const char *state)
{
    char key[300], *cause = NULL;
    redisReply *r;
    bool same;

    snprintf(key, sizeof key, "%s%s", BREAKER_PREFIX, name);
    r = rlink_command(l, &cause, "HGET %s state", key);
    same = r != NULL && r->type == REDIS_REPLY_STRING && strcmp(r->str, state) == 0;
    free(cause);
    freeReplyObject(r);
    return same;
}

static void test_shared(void **state)
{
    struct rlink *l = link_new();
    struct breaker *b = breaker_for("test", "shared");
    struct breaker_info *rows = NULL;
    char st[32], *cause = NULL;
    long long granted, events;
    size_t n = 0;
    int64_t now;
    redisReply *r;

    (void)state;
    freeReplyObject(test_must(l, "FLUSHDB%s", ""));
    assert_int_equal(breaker_board_start(test_private_addr(), &lopts, &policy, &cause), 0);
    /* Three failures here: open in Redis too, with one event. */
    for (int i = 0; i < 3; i++) {
        assert_true(allowed(b));
        breaker_failure(b, "HTTP 502 from the test");
    }
    assert_int_equal(breaker_state_of(b), BREAKER_OPEN);
    AWAIT(5, hash_state(l, "test:shared", "open"));
    /* Every breaker this process has that is not closed is shared too: test:alone is open. */
    assert_int_equal(breaker_list(l, &rows, &n, &now, &cause), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "test:alone");
    assert_string_equal(rows[1].name, "test:shared");
    assert_int_equal(rows[1].state, BREAKER_OPEN);
    assert_int_equal(rows[1].opens, 1);
    assert_string_equal(rows[1].last_error, "HTTP 502 from the test");
    assert_true(rows[1].next_ms > now - 1000 && rows[1].next_ms <= now + 400);
    free(rows);
    freeReplyObject(test_must(l, "DEL %s", BREAKER_EVENTS_KEY));
    assert_true(breaker_reset(l, "test:alone", &cause) == 0);
    AWAIT(5, breaker_state_of(breaker_for("test", "alone")) == BREAKER_CLOSED);
    freeReplyObject(test_must(l, "DEL %s", BREAKER_EVENTS_KEY));
    events = 0;

    /* Half-open after the cool-down: this process asks for trial slots; another process asks
     * too, and the two never hold more than `trials` between them. */
    AWAIT(5, allowed(b));
    assert_int_equal(breaker_state_of(b), BREAKER_HALF_OPEN);
    /* This process asked for both slots of the round and holds the second: none is left. */
    remote_sync(l, "test:shared", 0, 0, 2, st, &granted);
    assert_string_equal(st, "half_open");
    assert_int_equal(granted, 0);
    breaker_success(b);
    assert_true(allowed(b));
    assert_false(allowed(b)); /* both slots of the round used */
    breaker_success(b);
    AWAIT(5, breaker_state_of(b) == BREAKER_CLOSED);
    events = stream_len(l, BREAKER_EVENTS_KEY);
    assert_int_equal(events, 2); /* half_open, closed */

    /* Another process opens it: this view follows within the refresh time. */
    remote_sync(l, "test:shared", 3, 0, 0, st, &granted);
    assert_string_equal(st, "open");
    AWAIT(5, !allowed(b));
    assert_int_equal(breaker_state_of(b), BREAKER_OPEN);

    /* An operator closes it: an event, an audit record, and this view follows. */
    assert_int_equal(breaker_reset(l, "test:shared", &cause), 0);
    AWAIT(5, breaker_state_of(b) == BREAKER_CLOSED);
    r = test_must(l, "XREVRANGE " AUDIT_KEY " + - COUNT 1%s", "");
    assert_int_equal(r->elements, 1);
    assert_string_equal(rlink_reply_field(r->element[0]->element[1], "what"), "breaker-reset");
    assert_string_equal(rlink_reply_field(r->element[0]->element[1], "item"), "test:shared");
    freeReplyObject(r);
    assert_int_equal(breaker_reset(l, "test:nobody", &cause), -1);
    assert_non_null(strstr(cause, "no breaker named test:nobody"));
    free(cause);
    breaker_board_stop();
    rlink_free(l);
}

static void test_hot_path(void **state)
{
    struct breaker *b = breaker_for("test", "hot");
    struct rlink *l = link_new();
    char *cause = NULL;
    long long before, sent;
    int64_t t0, ms;

    (void)state;
    assert_int_equal(breaker_board_start(test_private_addr(), &lopts, &policy, &cause), 0);
    /* Let the first sync (the breaker's creation in Redis) happen before counting. */
    assert_true(allowed(b));
    breaker_success(b);
    AWAIT(5, hash_state(l, "test:hot", "closed"));
    before = rlink_commands_sent();
    t0 = clock_mono_ms();
    for (int i = 0; i < 200000; i++) {
        if (!allowed(b))
            fail_msg("a closed breaker refused call %d", i);
        breaker_success(b);
    }
    ms = clock_mono_ms() - t0;
    sent = rlink_commands_sent() - before;
    /* Only the sync thread's refreshes: one per refresh_ms at most, and one more at each end. */
    print_message("200000 checks in %lld ms: %lld Redis commands (refresh every %d ms)\n",
                  (long long)ms, sent, policy.refresh_ms);
    assert_true(sent <= ms / policy.refresh_ms + 2);
    breaker_board_stop();
    rlink_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alone),
        cmocka_unit_test(test_shared),
        cmocka_unit_test(test_hot_path),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
