/*
 * test_jsonw.c - the trace events' JSON writer: commas and nesting, string escapes as jansson
 * writes them (checked against json_dumps over random strings that cross the 8-byte fast path
 * at every offset, and long plain runs with one special at every offset of the 16-byte blocks),
 * invalid UTF-8 made U+FFFD and the result still read by jansson, numbers that read back as the
 * same double, jansson values written as they are, the move from the caller's buffer to the heap,
 * the longest string, and the paths that copy literal keys and made ids without a scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "observe/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The writer's text as a NUL-terminated copy (free it). */
static char *text_of(const struct jsonw *w)
{
    char *s = malloc(w->len + 1);

    memcpy(s, w->p, w->len);
    s[w->len] = '\0';
    return s;
}

static void test_structure(void **state)
{
    struct jsonw w;
    char buf[16], *s;

    (void)state;
    jsonw_init(&w, buf, sizeof buf); /* small: the text moves to the heap on the way */
    jsonw_open(&w, '{');
    jsonw_kstr(&w, "id", "a");
    jsonw_kint(&w, "n", -42);
    jsonw_key(&w, "list");
    jsonw_open(&w, '[');
    jsonw_str(&w, "x");
    jsonw_open(&w, '{');
    jsonw_close(&w, '}');
    jsonw_open(&w, '[');
    jsonw_close(&w, ']');
    jsonw_bool(&w, false);
    jsonw_raw(&w, "null", 4);
    jsonw_close(&w, ']');
    jsonw_kbool(&w, "ok", true);
    jsonw_kstr(&w, "none", NULL);
    jsonw_knum(&w, "r", 0.25);
    jsonw_close(&w, '}');
    s = text_of(&w);
    assert_string_equal(
        s, "{\"id\":\"a\",\"n\":-42,\"list\":[\"x\",{},[],false,null],\"ok\":true,\"none\":\"\","
           "\"r\":0.25}");
    assert_true(w.heap);
    free(s);
    jsonw_free(&w);
    jsonw_free(&w); /* twice is harmless */
}

/* s (n bytes) written by the writer and by jansson: the same text. */
static void same_as_jansson(const char *s, size_t n)
{
    struct jsonw w;
    json_t *j = json_stringn(s, n);
    char *want, *got;

    assert_non_null(j);
    want = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    jsonw_init(&w, NULL, 0);
    jsonw_strn(&w, s, n);
    got = text_of(&w);
    if (strcmp(got, want) != 0)
        fail_msg("wrote %s, jansson %s", got, want);
    free(got);
    free(want);
    json_decref(j);
    jsonw_free(&w);
}

static void test_strings(void **state)
{
    static const char alphabet[] = "abc \"\\\n\t\r\b\f\x01\x1f\x7f/\xc3\xa9\xe2\x82\xac";
    char s[64];

    (void)state;
    same_as_jansson("", 0);
#define SAME(lit) same_as_jansson(lit, sizeof lit - 1)
    SAME("plain text");
    SAME("a \"quote\" and a \\ back\nslash");
    SAME("\x01\x02\x1f\x7f");
    SAME("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb0");
    SAME("x\0y"); /* a NUL inside: \u0000 */
#undef SAME
    /* Every special byte at every offset around the 8-byte words. */
    srand(7);
    for (int round = 0; round < 20000; round++) {
        size_t n = 0, len = (size_t)(rand() % 40);

        while (n < len) {
            size_t k = (size_t)(rand() % (int)(sizeof alphabet - 1));

            if ((unsigned char)alphabet[k] >= 0x80)
                continue; /* whole characters only: see below */
            s[n++] = alphabet[k];
        }
        if (rand() % 3 == 0 && n + 3 < sizeof s) {
            memcpy(s + n, "\xe2\x82\xac", 3);
            n += 3;
        }
        same_as_jansson(s, n);
    }
    /* Long plain runs with one special byte or character at every offset: the 16-byte blocks
     * and the 8-byte words both meet it at each place they can. */
    for (size_t len = 1; len <= 70; len++)
        for (size_t at = 0; at < len; at++)
            for (size_t k = 0; k < 7; k++) {
                /* Two-byte escapes ('"', '\\', a line break), \u00XX ones (control bytes at
                 * both ends of their range), DEL (plain) and a two-byte character. */
                static const char *const odd[] = {"\"",   "\\",   "\n",      "\x01",
                                                  "\x1f", "\x7f", "\xc3\xa9"};
                size_t w = strlen(odd[k]);
                char t[80];

                if (at + w > len)
                    continue;
                memset(t, 'a' + (int)(at % 26), len);
                memcpy(t + at, odd[k], w);
                same_as_jansson(t, len);
            }
}

static void test_invalid_utf8(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a\x80z", "\"a\xef\xbf\xbdz\""},                             /* a lone continuation byte */
        {"\xc0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\""},                 /* an overlong NUL */
        {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* a surrogate */
        {"\xf5\x80\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"ok\xe2\x82", "\"ok\xef\xbf\xbd\xef\xbf\xbd\""}, /* cut short at the end */
        {"\xf0\x9f\x93\xb0", "\"\xf0\x9f\x93\xb0\""},     /* a valid 4-byte one stays */
    };
    struct jsonw w;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got;
        json_t *back;

        jsonw_init(&w, NULL, 0);
        jsonw_str(&w, cases[i].in);
        got = text_of(&w);
        assert_string_equal(got, cases[i].want);
        back = json_loads(got, JSON_DECODE_ANY, NULL);
        assert_non_null(back); /* always JSON jansson (and Langfuse) reads */
        json_decref(back);
        free(got);
        jsonw_free(&w);
    }
}

/* v written and read back. */
static double round_trip(double v, char *text, size_t size)
{
    struct jsonw w;
    char *s;
    double back;

    jsonw_init(&w, NULL, 0);
    jsonw_num(&w, v);
    s = text_of(&w);
    snprintf(text, size, "%s", s);
    back = strtod(s, NULL);
    free(s);
    jsonw_free(&w);
    return back;
}

static void test_numbers(void **state)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0.8, "0.8"},         {1.0, "1.0"},       {0, "0.0"},
        {-0.5, "-0.5"},       {0.0024, "0.0024"}, {0.005400, "0.0054"},
        {123.456, "123.456"}, {1e20, "1e+20"},    {123456789012.0, "123456789012.0"},
    };
    char text[64];
    struct jsonw w;
    char *s;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(round_trip(cases[i].v, text, sizeof text) == cases[i].v);
        assert_string_equal(text, cases[i].want);
    }
    /* Micro-dollars over 1e6 are written exactly; any other double reads back the same. */
    for (int64_t micros = -5000; micros < 2000000; micros += 997)
        assert_true(round_trip((double)micros / 1e6, text, sizeof text) == (double)micros / 1e6);
    srand(11);
    for (int i = 0; i < 100000; i++) {
        double v = (double)rand() / RAND_MAX * pow(10, rand() % 30 - 15);

        if (round_trip(v, text, sizeof text) != v)
            fail_msg("%.17g came back as %s", v, text);
    }
    jsonw_init(&w, NULL, 0);
    jsonw_open(&w, '[');
    jsonw_num(&w, NAN);
    jsonw_num(&w, INFINITY);
    jsonw_int(&w, INT64_MIN);
    jsonw_int(&w, INT64_MAX);
    jsonw_close(&w, ']');
    s = text_of(&w);
    assert_string_equal(s, "[null,null,-9223372036854775808,9223372036854775807]");
    free(s);
    jsonw_free(&w);
}

static void test_jansson_values(void **state)
{
    json_t *v = json_pack("{s:s, s:i, s:f, s:b, s:n, s:[s, i, {s:[]}], s:{}}", "s", "t\"x", "i", 7,
                          "f", 0.125, "b", 1, "n", "a", "q", 2, "o", "e", "empty");
    struct jsonw w;
    char *s;
    json_t *back;

    (void)state;
    jsonw_init(&w, NULL, 0);
    jsonw_value(&w, v);
    s = text_of(&w);
    back = json_loads(s, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, v));
    /* In the object's own order, as json_dumps() gives it. */
    {
        char *want = json_dumps(v, JSON_COMPACT);

        assert_string_equal(s, want);
        free(want);
    }
    json_decref(back);
    json_decref(v);
    free(s);
    jsonw_free(&w);
}

static void test_longest(void **state)
{
    struct jsonw w;
    char big[600];

    (void)state;
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    jsonw_init(&w, NULL, 0);
    jsonw_open(&w, '{');
    jsonw_kstr(&w, "short", "abc");
    assert_int_equal(w.longest, 5); /* the key "short" */
    jsonw_kstr(&w, "q", "\"\"\"");
    assert_int_equal(w.longest, 6); /* escapes count as written */
    jsonw_kstr(&w, "big", big);
    assert_int_equal(w.longest, 599);
    jsonw_close(&w, '}');
    jsonw_free(&w);
}

/* The paths that copy without scanning (literal keys, ids and times this program makes) write
 * the same text as the escaping one, growing the buffer on the way, with commas after them. */
static void test_plain(void **state)
{
    const char *keys[] = {"id", "timestamp", "parentObservationId", "k"};
    const char *vals[] = {"0b5c3a0e-54d2-4f7b-9d42-1c3e5a7b9d11", "2026-12-03T17:40:00.123Z", "x",
                          ""};
    struct jsonw a, b;
    char abuf[8], bbuf[8], *sa, *sb;

    (void)state;
    jsonw_init(&a, abuf, sizeof abuf); /* small: each path moves to the heap on the way */
    jsonw_init(&b, bbuf, sizeof bbuf);
    jsonw_open(&a, '{');
    jsonw_open(&b, '{');
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        jsonw_kplain_n(&a, keys[i], strlen(keys[i]), vals[i], strlen(vals[i]));
        jsonw_key_any(&b, keys[i]);
        jsonw_str(&b, vals[i]);
        jsonw_key_plain(&a, keys[i], strlen(keys[i]));
        jsonw_key_any(&b, keys[i]);
        jsonw_open(&a, '[');
        jsonw_open(&b, '[');
        jsonw_int(&a, (int64_t)i);
        jsonw_int(&b, (int64_t)i);
        jsonw_close(&a, ']');
        jsonw_close(&b, ']');
    }
    jsonw_kstr(&a, "last", "z"); /* the inline path, whichever way this build takes it */
    jsonw_key_any(&b, "last");
    jsonw_str(&b, "z");
    jsonw_close(&a, '}');
    jsonw_close(&b, '}');
    sa = text_of(&a);
    sb = text_of(&b);
    assert_string_equal(sa, sb);
    assert_string_equal(sa, "{\"id\":\"0b5c3a0e-54d2-4f7b-9d42-1c3e5a7b9d11\",\"id\":[0],"
                            "\"timestamp\":\"2026-12-03T17:40:00.123Z\",\"timestamp\":[1],"
                            "\"parentObservationId\":\"x\",\"parentObservationId\":[2],"
                            "\"k\":\"\",\"k\":[3],\"last\":\"z\"}");
    assert_int_equal(a.longest, b.longest);
    assert_int_equal(a.longest, 36);
    assert_true(a.heap);
    free(sa);
    free(sb);
    jsonw_free(&a);
    jsonw_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),      cmocka_unit_test(test_strings),
        cmocka_unit_test(test_invalid_utf8),   cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_jansson_values), cmocka_unit_test(test_longest),
        cmocka_unit_test(test_plain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
