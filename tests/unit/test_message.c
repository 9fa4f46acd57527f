/*
 * test_message.c - bus messages: the type table both ways, new messages (fresh ids, time,
 * payload ownership), the JSON round trip, every kind of bad input refused with a reason that
 * names the field, and expiry by TTL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "store/message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_type_table_round_trip(void **state)
{
    static const char *const expected[] = {
        "TASK_ASSIGN", "TASK_COMPLETE", "TASK_FAILED",  "DEBATE_INVITE", "DEBATE_VOTE",
        "PROD_START",  "HEARTBEAT",     "BUDGET_ALERT", "CONTROL",       "EMERGENCY",
    };
    enum msg_type t;

    (void)state;
    assert_int_equal(MSG_TYPE_COUNT, 10);
    for (int i = 0; i < MSG_TYPE_COUNT; i++) {
        const char *name = msg_type_name((enum msg_type)i);

        assert_non_null(name);
        assert_string_equal(name, expected[i]);
        assert_int_equal(msg_type_parse(name, &t), 0);
        assert_int_equal((int)t, i);
    }
    assert_null(msg_type_name((enum msg_type)MSG_TYPE_COUNT));
    assert_null(msg_type_name((enum msg_type) - 1));
    assert_int_equal(msg_type_parse("task_assign", &t), -1); /* exact, upper case */
    assert_int_equal(msg_type_parse("", &t), -1);
    assert_int_equal(msg_type_parse("NOPE", &t), -1);
}

static void test_new_message(void **state)
{
    int64_t before = clock_wall_ms();
    struct msg *a = msg_new(MSG_TASK_ASSIGN, "analyst-1", "writer-1",
                            json_pack("{s:s}", "task", "write_script"));
    struct msg *b = msg_new(MSG_HEARTBEAT, "scout-2", NULL, NULL);

    (void)state;
    assert_int_equal(strlen(a->id), 32);
    assert_int_equal(strspn(a->id, "0123456789abcdef"), 32);
    assert_string_not_equal(a->id, b->id);
    assert_string_equal(a->sender, "analyst-1");
    assert_string_equal(a->recipient, "writer-1");
    assert_null(a->correlation_id);
    assert_true(a->time_ms >= before && a->time_ms <= clock_wall_ms());
    assert_int_equal(a->ttl_ms, 0);
    assert_string_equal(json_string_value(json_object_get(a->payload, "task")), "write_script");
    assert_null(b->recipient);
    assert_true(json_is_object(b->payload));
    assert_int_equal(json_object_size(b->payload), 0);
    msg_set_correlation(b, a->id);
    assert_string_equal(b->correlation_id, a->id);
    msg_set_correlation(b, NULL);
    assert_null(b->correlation_id);
    msg_free(a);
    msg_free(b);
    msg_free(NULL);
}

static void test_round_trip(void **state)
{
    struct msg *m =
        msg_new(MSG_DEBATE_VOTE, "debater-3", "moderator-1",
                json_pack("{s:s, s:f, s:[i,i]}", "vote", "for", "confidence", 0.9, "ids", 1, 2));
    struct msg *d, *c;
    char *text, *cause = NULL;

    (void)state;
    m->ttl_ms = 30000;
    msg_set_correlation(m, "debate-42");
    text = msg_encode(m, &cause);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"type\":\"DEBATE_VOTE\""));
    d = msg_decode(text, strlen(text), &cause);
    assert_non_null(d);
    assert_string_equal(d->id, m->id);
    assert_int_equal(d->type, MSG_DEBATE_VOTE);
    assert_string_equal(d->sender, "debater-3");
    assert_string_equal(d->recipient, "moderator-1");
    assert_string_equal(d->correlation_id, "debate-42");
    assert_int_equal(d->time_ms, m->time_ms);
    assert_int_equal(d->ttl_ms, 30000);
    assert_true(json_equal(d->payload, m->payload));
    /* A copy is deep: changing it leaves the original alone. */
    c = msg_dup(d);
    json_object_set_new(c->payload, "vote", json_string("against"));
    assert_string_equal(json_string_value(json_object_get(d->payload, "vote")), "for");
    msg_free(c);
    msg_free(d);
    free(text);

    /* A broadcast: no recipient, no correlation; encoded as null, read back as NULL. */
    free(m->recipient);
    m->recipient = NULL;
    msg_set_correlation(m, NULL);
    text = msg_encode(m, &cause);
    assert_non_null(strstr(text, "\"recipient\":null"));
    d = msg_decode(text, strlen(text), &cause);
    assert_non_null(d);
    assert_null(d->recipient);
    assert_null(d->correlation_id);
    msg_free(d);
    free(text);
    msg_free(m);
}

static void test_minimal_and_unknown_fields(void **state)
{
    const char *text = "{\"id\":\"x1\",\"type\":\"CONTROL\",\"sender\":\"ops\",\"time_ms\":5,"
                       "\"future_field\":[1,2,3]}";
    char *cause = NULL;
    struct msg *m = msg_decode(text, strlen(text), &cause);

    (void)state;
    assert_non_null(m);
    assert_int_equal(m->type, MSG_CONTROL);
    assert_int_equal(m->ttl_ms, 0);
    assert_true(json_is_object(m->payload));
    assert_int_equal(json_object_size(m->payload), 0);
    msg_free(m);
}

/* Each bad input is refused, and the reason says what is wrong with which field. */
static void test_bad_input_refused(void **state)
{
    static const struct {
        const char *text;
        const char *reason;
    } cases[] = {
        {"", "not valid JSON"},
        {"{\"id\":", "not valid JSON"},
        {"[1,2]", "must be a JSON object, not an array"},
        {"\"TASK_ASSIGN\"", "must be a JSON object, not a string"},
        {"{\"id\":\"a\",\"sender\":\"s\",\"time_ms\":1}", "\"type\" is missing"},
        {"{\"id\":\"a\",\"type\":7,\"sender\":\"s\",\"time_ms\":1}",
         "\"type\" must be a string, not an integer"},
        {"{\"id\":\"a\",\"type\":\"LUNCH\",\"sender\":\"s\",\"time_ms\":1}",
         "unknown message type \"LUNCH\""},
        {"{\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":1}", "\"id\" is missing"},
        {"{\"id\":\"\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":1}", "\"id\" is empty"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":{},\"time_ms\":1}",
         "\"sender\" must be a string, not an object"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"time_ms\":1}", "\"sender\" is missing"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"recipient\":3,\"time_ms\":1}",
         "\"recipient\" must be a string, not an integer"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"correlation_id\":true,"
         "\"time_ms\":1}",
         "\"correlation_id\" must be a string, not a boolean"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"s\"}", "\"time_ms\" is missing"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":\"now\"}",
         "\"time_ms\" must be an integer, not a string"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":1.5}",
         "\"time_ms\" must be an integer, not a number with a fraction"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":-1}",
         "\"time_ms\" is negative"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":1,\"ttl_ms\":null}",
         "\"ttl_ms\" must be an integer, not null"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":1,\"payload\":[]}",
         "\"payload\" must be an object, not an array"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":1,\"payload\":\"x\"}",
         "\"payload\" must be an object, not a string"},
        {"{\"id\":\"a\",\"id\":\"b\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":1}",
         "duplicate"},
        {"{\"id\":\"a\\u0000b\",\"type\":\"HEARTBEAT\",\"sender\":\"s\",\"time_ms\":1}",
         "not valid JSON"},
        {"{\"id\":\"a\",\"type\":\"HEARTBEAT\",\"sender\":\"\xff\xfe\",\"time_ms\":1}",
         "not valid JSON"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *cause = NULL;
        struct msg *m = msg_decode(cases[i].text, strlen(cases[i].text), &cause);

        char why[512];

        if (m != NULL)
            fail_msg("case %zu was accepted: %s", i, cases[i].text);
        assert_non_null(cause);
        snprintf(why, sizeof why, "%s", cause);
        free(cause);
        if (strstr(why, cases[i].reason) == NULL)
            fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, why, cases[i].reason);
    }
}

static void test_long_field_refused(void **state)
{
    char sender[MSG_FIELD_MAX + 2];
    json_t *o;
    char *cause = NULL;
    struct msg *m;

    (void)state;
    memset(sender, 's', sizeof sender - 1);
    sender[sizeof sender - 1] = '\0';
    o = json_pack("{s:s, s:s, s:s, s:i}", "id", "a", "type", "HEARTBEAT", "sender", sender,
                  "time_ms", 1);
    assert_null(msg_from_json(o, &cause));
    assert_non_null(strstr(cause, "\"sender\" is 257 bytes long"));
    free(cause);
    /* A NUL inside a string (possible in a jansson object, never in text jansson parses
     * without JSON_ALLOW_NUL) is refused too. */
    json_object_set_new(o, "sender", json_stringn("a\0b", 3));
    assert_null(msg_from_json(o, &cause));
    assert_non_null(strstr(cause, "\"sender\" contains a NUL"));
    free(cause);
    /* MSG_FIELD_MAX bytes are fine. */
    sender[MSG_FIELD_MAX] = '\0';
    json_object_set_new(o, "sender", json_string(sender));
    m = msg_from_json(o, &cause);
    assert_non_null(m);
    msg_free(m);
    json_decref(o);
}

static void test_encode_refuses_bad_fields(void **state)
{
    struct msg *m = msg_new(MSG_HEARTBEAT, "ok", NULL, json_array());
    char *cause = NULL;

    (void)state;
    assert_null(msg_encode(m, &cause));
    assert_non_null(strstr(cause, "payload must be a JSON object"));
    free(cause);
    cause = NULL;
    json_decref(m->payload);
    m->payload = json_object();
    free(m->sender);
    m->sender = strdup("bad\xff");
    assert_null(msg_encode(m, &cause));
    assert_non_null(strstr(cause, "\"sender\" is not valid UTF-8"));
    free(cause);
    msg_free(m);
}

static void test_expiry(void **state)
{
    struct msg *m = msg_new(MSG_TASK_ASSIGN, "a", "b", NULL);

    (void)state;
    m->time_ms = 1000000;
    m->ttl_ms = 0;
    assert_false(msg_expired(m, INT64_MAX / 2)); /* no TTL: never */
    m->ttl_ms = 500;
    assert_false(msg_expired(m, 1000000));
    assert_false(msg_expired(m, 1000499));
    assert_true(msg_expired(m, 1000500));
    assert_true(msg_expired(m, 9000000));
    /* A fresh message with a TTL is not expired now. */
    m->time_ms = clock_wall_ms();
    m->ttl_ms = 60000;
    assert_false(msg_expired(m, clock_wall_ms()));
    /* Absurd values do not overflow into "fresh". */
    m->time_ms = 0;
    m->ttl_ms = INT64_MAX;
    assert_false(msg_expired(m, clock_wall_ms()));
    msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_table_round_trip),
        cmocka_unit_test(test_new_message),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_minimal_and_unknown_fields),
        cmocka_unit_test(test_bad_input_refused),
        cmocka_unit_test(test_long_field_refused),
        cmocka_unit_test(test_encode_refuses_bad_fields),
        cmocka_unit_test(test_expiry),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
