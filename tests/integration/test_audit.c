/*
 * test_audit.c - the operator audit stream and the operator's switches against a private
 * redis-server: who (user name, SSH client address or "local"), when, what, item and reason
 * written and read back newest first with a limit; long reasons cut at a UTF-8 boundary; the
 * stream capped; the emergency broadcast with and without the halt flag, resume, and the halt
 * record read back, each audited in the same step; nothing done when Redis refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "store/audit.h"
#include "store/bus.h"
#include "store/control.h"
#include "store/message.h"
#include "store/rlink.h"
#include "testenv.h"

#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000

static const struct rlink_options opts = {
    .connect_timeout_ms = 2000,
    .command_timeout_ms = 5000,
    .reconnect_base_ms = 20,
    .reconnect_max_ms = 200,
    .client_name = "newsroom-test-audit",
};

static struct rlink *l;

static int start_server(void **state)
{
    (void)state;
    return test_private_start(NULL);
}

static int stop_server(void **state)
{
    (void)state;
    test_private_stop();
    return 0;
}

/* Each test starts from an empty database with a fresh link and no SSH variables. */
static int fresh(void **state)
{
    char *cause = NULL;
    redisReply *r;

    (void)state;
    unsetenv("SSH_CLIENT");
    unsetenv("SSH_CONNECTION");
    l = rlink_new(test_private_addr(), &opts);
    r = rlink_command(l, &cause, "FLUSHALL");
    if (r == NULL) {
        fprintf(stderr, "FLUSHALL: %s\n", cause);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

static int done(void **state)
{
    (void)state;
    rlink_free(l);
    l = NULL;
    return 0;
}

static const char *my_user(void)
{
    static char name[64];
    struct passwd *pw = getpwuid(getuid());

    snprintf(name, sizeof name, "%s", pw != NULL ? pw->pw_name : "?");
    return name;
}

static long long stream_len(void)
{
    char *cause = NULL;
    redisReply *r = rlink_command(l, &cause, "XLEN %s", AUDIT_KEY);
    long long n;

    if (r == NULL)
        fail_msg("XLEN: %s", cause);
    n = r->integer;
    freeReplyObject(r);
    return n;
}

static void test_whoami(void **state)
{
    struct audit_who w;

    (void)state;
    audit_whoami(&w);
    assert_string_equal(w.user, my_user());
    assert_string_equal(w.from, "local");
    setenv("SSH_CONNECTION", "192.0.2.7 50022 198.51.100.1 22", 1);
    audit_whoami(&w);
    assert_string_equal(w.from, "192.0.2.7");
    /* SSH_CLIENT wins when both are there; IPv6 with a zone is fine. */
    setenv("SSH_CLIENT", "fe80::1%eth0 50022 22", 1);
    audit_whoami(&w);
    assert_string_equal(w.from, "fe80::1%eth0");
    /* Anything that is not an address never reaches a terminal or the stream. */
    setenv("SSH_CLIENT", "\033[31mevil 1 2", 1);
    audit_whoami(&w);
    assert_string_equal(w.from, "unknown");
}

static void test_append_and_read(void **state)
{
    struct audit_entry *e = NULL;
    size_t n = 0;
    char *cause = NULL;
    int64_t before = clock_wall_ms();
    json_t *j;

    (void)state;
    assert_int_equal(audit_read(l, 10, &e, &n, &cause), 0);
    assert_int_equal(n, 0);
    audit_entries_free(e, n);

    assert_int_equal(audit_append(l, "approve", "news-001", "solid sourcing", &cause), 0);
    setenv("SSH_CLIENT", "203.0.113.9 41000 22", 1);
    assert_int_equal(audit_append(l, "reject", "news-002", NULL, &cause), 0);
    assert_int_equal(audit_append(l, "theme", NULL, NULL, &cause), 0);
    assert_int_equal(audit_append(l, "", NULL, NULL, &cause), -1);
    assert_non_null(strstr(cause, "what"));
    free(cause);
    cause = NULL;
    assert_int_equal(stream_len(), 3);

    /* Newest first. */
    assert_int_equal(audit_read(l, 10, &e, &n, &cause), 0);
    assert_int_equal(n, 3);
    assert_string_equal(e[0].what, "theme");
    assert_null(e[0].item);
    assert_null(e[0].reason);
    assert_string_equal(e[1].what, "reject");
    assert_string_equal(e[1].item, "news-002");
    assert_null(e[1].reason);
    assert_string_equal(e[1].from, "203.0.113.9");
    assert_string_equal(e[2].what, "approve");
    assert_string_equal(e[2].item, "news-001");
    assert_string_equal(e[2].reason, "solid sourcing");
    assert_string_equal(e[2].from, "local");
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(e[i].user, my_user());
        assert_true(e[i].time_ms >= before && e[i].time_ms <= clock_wall_ms());
        assert_true(strchr(e[i].id, '-') != NULL);
    }
    j = audit_entry_to_json(&e[1]);
    assert_string_equal(json_string_value(json_object_get(j, "what")), "reject");
    assert_true(json_is_null(json_object_get(j, "reason")));
    assert_int_equal(json_integer_value(json_object_get(j, "time_ms")), e[1].time_ms);
    json_decref(j);
    audit_entries_free(e, n);

    /* The limit. */
    assert_int_equal(audit_read(l, 2, &e, &n, &cause), 0);
    assert_int_equal(n, 2);
    assert_string_equal(e[1].what, "reject");
    audit_entries_free(e, n);
    assert_int_equal(audit_read(l, 0, &e, &n, &cause), -1);
    free(cause);
}

/* The wall clock is the one clock.h gives, so a test can set it. */
static int64_t fixed_clock(void)
{
    return 1714560000123LL;
}

static void test_time_from_clock(void **state)
{
    struct audit_entry *e = NULL;
    size_t n = 0;
    char *cause = NULL;

    (void)state;
    clock_set_wall(fixed_clock);
    assert_int_equal(audit_append(l, "pause", NULL, NULL, &cause), 0);
    clock_set_wall(NULL);
    assert_int_equal(audit_read(l, 1, &e, &n, &cause), 0);
    assert_int_equal(e[0].time_ms, 1714560000123LL);
    audit_entries_free(e, n);
}

static void test_long_reason_cut_and_bad_utf8(void **state)
{
    char *reason = malloc(AUDIT_REASON_MAX + 100);
    struct audit_entry *e = NULL;
    size_t n = 0;
    char *cause = NULL;
    json_t *j;

    (void)state;
    /* "é" (two bytes) repeated: a cut in the middle of one must back up to its start. */
    for (size_t i = 0; i + 2 < AUDIT_REASON_MAX + 100; i += 2)
        memcpy(reason + i, "\xc3\xa9", 2);
    reason[AUDIT_REASON_MAX + 98] = '\0';
    assert_int_equal(audit_append(l, "reject", "news-9", reason, &cause), 0);
    assert_int_equal(audit_read(l, 1, &e, &n, &cause), 0);
    assert_true(strlen(e[0].reason) <= AUDIT_REASON_MAX);
    assert_int_equal(strcmp(e[0].reason + strlen(e[0].reason) - 3, "..."), 0);
    /* Still valid UTF-8 (json_string() checks): no sequence was cut in half. */
    j = json_string(e[0].reason);
    assert_non_null(j);
    json_decref(j);
    audit_entries_free(e, n);

    /* Bytes that are not UTF-8 are stored as given and shown as '?' in JSON. */
    assert_int_equal(audit_append(l, "reject", "news-10", "bad \xff byte", &cause), 0);
    assert_int_equal(audit_read(l, 1, &e, &n, &cause), 0);
    j = audit_entry_to_json(&e[0]);
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "bad ? byte");
    json_decref(j);
    audit_entries_free(e, n);
    free(reason);
}

static void test_stream_capped(void **state)
{
    char *cause = NULL;
    redisReply *r;

    (void)state;
    /* Fill past the cap in one pipeline-free burst of XADDs through the API. */
    for (int i = 0; i < AUDIT_MAXLEN + 500; i++)
        if (audit_append(l, "approve", "news-x", NULL, &cause) == -1)
            fail_msg("%s", cause);
    /* MAXLEN ~ trims whole macro nodes: a little over the cap, never far. */
    assert_true(stream_len() >= AUDIT_MAXLEN);
    assert_true(stream_len() < AUDIT_MAXLEN + 500);
    r = rlink_command(l, &cause, "TYPE %s", AUDIT_KEY);
    assert_string_equal(r->str, "stream");
    freeReplyObject(r);
}

/* ---- the switches ---- */

struct catcher {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    struct msg *last;
    char channel[128];
};

static void catch (const struct msg *m, const char *channel, void *ctx)
{
    struct catcher *c = ctx;

    pthread_mutex_lock(&c->mu);
    msg_free(c->last);
    c->last = msg_dup(m);
    snprintf(c->channel, sizeof c->channel, "%s", channel);
    c->n++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static int catcher_wait(struct catcher *c, int n)
{
    int64_t deadline = clock_mono_ms() + WAIT_MS;
    int have;

    pthread_mutex_lock(&c->mu);
    while (c->n < n && clock_mono_ms() < deadline) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    have = c->n;
    pthread_mutex_unlock(&c->mu);
    return have;
}

static struct bus_sub *listen_broadcasts(struct catcher *c)
{
    struct bus_sub *s = bus_sub_new(test_private_addr(), &opts);
    char *cause = NULL;

    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    assert_int_equal(bus_sub_add_agent(s, "moderator-1", BUS_TIER_MODERATOR, &cause), 0);
    assert_int_equal(bus_sub_on_other(s, catch, c, &cause), 0);
    assert_int_equal(bus_sub_start(s, &cause), 0);
    assert_int_equal(bus_sub_wait_subscribed(s, 1, WAIT_MS), 0);
    return s;
}

static void catcher_done(struct catcher *c)
{
    msg_free(c->last);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

static void test_emergency_without_halt(void **state)
{
    struct catcher c;
    struct bus_sub *s = listen_broadcasts(&c);
    struct control_halt h;
    struct audit_entry *e = NULL;
    size_t n = 0;
    char *cause = NULL, *id = NULL;
    long long receivers = -1;

    (void)state;
    assert_int_equal(control_emergency(l, "feed flooded with spam", false, &receivers, &id, &cause),
                     0);
    assert_int_equal(receivers, 1);
    assert_int_equal(catcher_wait(&c, 1), 1);
    assert_string_equal(c.channel, "nr:bus:broadcast:emergency");
    assert_int_equal(c.last->type, MSG_EMERGENCY);
    assert_string_equal(c.last->id, id);
    assert_null(c.last->recipient);
    assert_non_null(strstr(c.last->sender, "operator:"));
    assert_string_equal(json_string_value(json_object_get(c.last->payload, "message")),
                        "feed flooded with spam");
    assert_true(json_is_false(json_object_get(c.last->payload, "halt")));
    assert_string_equal(json_string_value(json_object_get(c.last->payload, "user")), my_user());
    /* Not halted. */
    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_false(h.halted);
    assert_null(h.message);
    control_halt_clear(&h);
    /* Audited in the same step. */
    assert_int_equal(audit_read(l, 5, &e, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].what, "emergency");
    assert_string_equal(e[0].reason, "feed flooded with spam");
    assert_string_equal(e[0].user, my_user());
    audit_entries_free(e, n);
    free(id);
    bus_sub_free(s);
    catcher_done(&c);
}

static void test_halt_and_resume(void **state)
{
    struct catcher c;
    struct bus_sub *s = listen_broadcasts(&c);
    struct control_halt h, lifted;
    struct audit_entry *e = NULL;
    size_t n = 0;
    char *cause = NULL;
    long long receivers = -1;
    int64_t before = clock_wall_ms();

    (void)state;
    setenv("SSH_CLIENT", "198.51.100.23 51000 22", 1);
    assert_int_equal(control_emergency(l, "legal hold: stop all", true, &receivers, NULL, &cause),
                     0);
    assert_int_equal(catcher_wait(&c, 1), 1);
    assert_true(json_is_true(json_object_get(c.last->payload, "halt")));
    assert_string_equal(json_string_value(json_object_get(c.last->payload, "from")),
                        "198.51.100.23");

    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_true(h.halted);
    assert_string_equal(h.message, "legal hold: stop all");
    assert_string_equal(h.user, my_user());
    assert_string_equal(h.from, "198.51.100.23");
    assert_true(h.time_ms >= before && h.time_ms <= clock_wall_ms());
    control_halt_clear(&h);

    /* Resume: the flag goes, a CONTROL resume message goes out, both audited. */
    assert_int_equal(control_resume(l, "cleared by legal", &lifted, &receivers, &cause), 0);
    assert_true(lifted.halted);
    assert_string_equal(lifted.message, "legal hold: stop all");
    assert_int_equal(receivers, 1);
    control_halt_clear(&lifted);
    assert_int_equal(catcher_wait(&c, 2), 2);
    assert_string_equal(c.channel, "nr:bus:broadcast:control");
    assert_int_equal(c.last->type, MSG_CONTROL);
    assert_string_equal(json_string_value(json_object_get(c.last->payload, "command")),
                        CONTROL_CMD_RESUME);
    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_false(h.halted);
    control_halt_clear(&h);

    /* Resuming again changes, sends and audits nothing. */
    assert_int_equal(control_resume(l, NULL, &lifted, &receivers, &cause), 0);
    assert_false(lifted.halted);
    assert_int_equal(receivers, 0);
    control_halt_clear(&lifted);

    assert_int_equal(audit_read(l, 10, &e, &n, &cause), 0);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].what, "resume");
    assert_string_equal(e[0].reason, "cleared by legal");
    assert_string_equal(e[1].what, "emergency-halt");
    assert_string_equal(e[1].reason, "legal hold: stop all");
    assert_string_equal(e[1].from, "198.51.100.23");
    audit_entries_free(e, n);
    bus_sub_free(s);
    catcher_done(&c);
}

/* One operator's halt is never overwritten by another's, and a resume lifts only the halt its
 * operator saw: a halt set again since is left in force. */
static void test_halts_never_overwritten(void **state)
{
    struct control_halt h, first, lifted;
    char *cause = NULL;

    (void)state;
    assert_int_equal(control_emergency(l, "legal hold", true, NULL, NULL, &cause), 0);
    assert_int_equal(control_halt_read(l, &first, &cause), 0);
    assert_true(first.halted);
    /* A second halt: broadcast and audited, but the first halt's record stays. */
    assert_int_equal(control_emergency(l, "feed flooded", true, NULL, NULL, &cause), 0);
    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_string_equal(h.message, "legal hold");
    assert_int_equal(h.time_ms, first.time_ms);
    control_halt_clear(&h);
    /* A resume of a halt that is not the one in force changes nothing. */
    assert_int_equal(control_resume_seen(l, NULL, first.time_ms - 1, &lifted, NULL, &cause), 1);
    assert_true(lifted.halted);
    assert_string_equal(lifted.message, "legal hold");
    control_halt_clear(&lifted);
    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_true(h.halted);
    control_halt_clear(&h);
    /* The one seen is lifted. */
    assert_int_equal(control_resume_seen(l, NULL, first.time_ms, &lifted, NULL, &cause), 0);
    assert_true(lifted.halted);
    control_halt_clear(&lifted);
    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_false(h.halted);
    control_halt_clear(&h);
    control_halt_clear(&first);
}

static void test_bad_messages_and_unreadable_flag(void **state)
{
    char big[CONTROL_MESSAGE_MAX + 2];
    struct control_halt h;
    char *cause = NULL;
    redisReply *r;

    (void)state;
    assert_int_equal(control_emergency(l, "", true, NULL, NULL, &cause), -1);
    assert_non_null(strstr(cause, "empty"));
    free(cause);
    assert_int_equal(control_emergency(l, "bad \xff", true, NULL, NULL, &cause), -1);
    assert_non_null(strstr(cause, "UTF-8"));
    free(cause);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(control_emergency(l, big, true, NULL, NULL, &cause), -1);
    assert_non_null(strstr(cause, "more than"));
    free(cause);
    /* Nothing was done. */
    assert_int_equal(stream_len(), 0);
    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_false(h.halted);
    control_halt_clear(&h);

    /* A flag someone wrote by hand still halts. */
    r = rlink_command(l, &cause, "SET %s %s", CONTROL_HALT_KEY, "stop!");
    freeReplyObject(r);
    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_true(h.halted);
    assert_non_null(strstr(h.message, "unreadable"));
    control_halt_clear(&h);
}

/* When the audit record cannot be written, nothing is done: no flag, no broadcast. (Redis
 * keeps a script's writes when a later command fails, so the script checks first.) */
static void test_all_or_nothing(void **state)
{
    struct catcher c;
    struct bus_sub *s = listen_broadcasts(&c);
    struct control_halt h;
    struct msg *fence = msg_new(MSG_HEARTBEAT, "fence", NULL, NULL);
    char *cause = NULL;
    redisReply *r;

    (void)state;
    r = rlink_command(l, &cause, "SET %s %s", AUDIT_KEY, "not a stream");
    freeReplyObject(r);
    assert_int_equal(control_emergency(l, "stop", true, NULL, NULL, &cause), -1);
    assert_non_null(strstr(cause, "WRONGTYPE"));
    free(cause);
    assert_true(rlink_connected(l));
    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_false(h.halted);
    control_halt_clear(&h);
    /* Resume refuses the same way and leaves a real flag in place. */
    r = rlink_command(l, &cause, "SET %s %s", CONTROL_HALT_KEY, "{\"message\":\"m\"}");
    freeReplyObject(r);
    assert_int_equal(control_resume(l, NULL, NULL, NULL, &cause), -1);
    assert_non_null(strstr(cause, "WRONGTYPE"));
    free(cause);
    assert_int_equal(control_halt_read(l, &h, &cause), 0);
    assert_true(h.halted);
    control_halt_clear(&h);
    /* No broadcast went out: the fence is the first thing the listener hears. */
    assert_int_equal(bus_broadcast(l, BUS_ALL, fence, NULL, &cause), 0);
    assert_int_equal(catcher_wait(&c, 1), 1);
    assert_string_equal(c.last->id, fence->id);
    msg_free(fence);
    bus_sub_free(s);
    catcher_done(&c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whoami, fresh, done),
        cmocka_unit_test_setup_teardown(test_append_and_read, fresh, done),
        cmocka_unit_test_setup_teardown(test_time_from_clock, fresh, done),
        cmocka_unit_test_setup_teardown(test_long_reason_cut_and_bad_utf8, fresh, done),
        cmocka_unit_test_setup_teardown(test_stream_capped, fresh, done),
        cmocka_unit_test_setup_teardown(test_emergency_without_halt, fresh, done),
        cmocka_unit_test_setup_teardown(test_halt_and_resume, fresh, done),
        cmocka_unit_test_setup_teardown(test_halts_never_overwritten, fresh, done),
        cmocka_unit_test_setup_teardown(test_bad_messages_and_unreadable_flag, fresh, done),
        cmocka_unit_test_setup_teardown(test_all_or_nothing, fresh, done),
    };

    return cmocka_run_group_tests(tests, start_server, stop_server);
}
