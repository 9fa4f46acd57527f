/*
 * test_trace_store.c - the copy of an event kept for ctl trace: long strings cut at a
 * character or escape boundary with "...", everything else (short strings, numbers, keys,
 * escapes) byte for byte, and the result still JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "observe/trace_store.h"

#include <stdlib.h>
#include <string.h>

static char *cut(const char *in, size_t max)
{
    size_t n;
    char *out = trace_store_cut(in, strlen(in), max, &n);

    assert_int_equal(n, strlen(out));
    return out;
}

static void same(const char *in, size_t max, const char *want)
{
    char *got = cut(in, max);

    if (strcmp(got, want) != 0)
        fail_msg("cut(%s, %zu) = %s, wanted %s", in, max, got, want);
    free(got);
}

static void test_cut(void **state)
{
    char big[5000], *out;
    json_t *j;

    (void)state;
    same("{\"a\":\"short\",\"n\":12.5,\"t\":true}", 8, "{\"a\":\"short\",\"n\":12.5,\"t\":true}");
    same("{\"a\":\"0123456789\"}", 4, "{\"a\":\"0123...\"}");
    /* An escape is never split: \" and \u00e9 stay whole or go. */
    same("{\"a\":\"ab\\\"cd\"}", 3, "{\"a\":\"ab...\"}");
    same("{\"a\":\"a\\u00e9bcdef\"}", 7, "{\"a\":\"a\\u00e9...\"}");
    same("{\"a\":\"a\\u00e9bcdef\"}", 5, "{\"a\":\"a...\"}");
    /* A UTF-8 character is never split. */
    same("{\"a\":\"x\xc3\xa9y\"}", 2, "{\"a\":\"x...\"}");
    same("{\"k\":[\"0123456789\",\"ab\"]}", 5, "{\"k\":[\"01234...\",\"ab\"]}");
    /* A long prompt inside a real event: still JSON, the rest intact. */
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    j = json_pack("{s:s, s:{s:s, s:[{s:s, s:s}], s:i}}", "type", "generation-create", "body",
                  "traceId", "s1", "input", "role", "user", "content", big, "n", 3);
    {
        char *text = json_dumps(j, JSON_COMPACT);
        json_t *back;

        out = cut(text, 400);
        back = json_loads(out, 0, NULL);
        assert_non_null(back);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(back, "body"), "traceId")), "s1");
        assert_int_equal(
            strlen(json_string_value(json_object_get(
                json_array_get(json_object_get(json_object_get(back, "body"), "input"), 0),
                "content"))),
            403);
        json_decref(back);
        free(text);
        free(out);
    }
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
