/*
 * test_text.c - the terminal sanitiser: controls, escape sequences, C1, bidi overrides and
 * invalid UTF-8 replaced; valid text kept; cuts on character boundaries; time formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/text.h"

#include <stdlib.h>
#include <string.h>

static void same(const char *in, size_t max, const char *want)
{
    char *got = text_safe(in, max);

    if (strcmp(got, want) != 0)
        fail_msg("text_safe(\"%s\") = \"%s\", wanted \"%s\"", in, got, want);
    free(got);
}

static void test_safe(void **state)
{
    (void)state;
    same("plain text", 0, "plain text");
    same(NULL, 0, "-");
    same("", 0, "");
    same("Crème brûlée — “quoted” 日本 🎥", 0, "Crème brûlée — “quoted” 日本 🎥");
    same("\x1b[2J\x1b]0;owned\x07", 0, "?[2J?]0;owned?");
    same("tab\tnew\nline\rdel\x7f", 0, "tab?new?line?del?");
    same("c1 \xc2\x9b"
         "31m",
         0, "c1 ?31m");
    same("bidi \xe2\x80\xae"
         "txet"
         "\xe2\x81\xa6"
         "x",
         0, "bidi ?txet?x");
    same("bad \xff\xfe bytes", 0, "bad ?? bytes");
    same("overlong \xc0\xaf", 0, "overlong ??");
    same("surrogate \xed\xa0\x80", 0, "surrogate ???");
    same("truncated \xe6\x97", 0, "truncated ??");
    /* Cuts keep whole characters. */
    same("abcdef", 4, "abcd...");
    same("ab日本", 4, "ab...");
    same("ab日本", 5, "ab日...");
    same("abc", 3, "abc");
}

static void test_times(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(text_utc(0, buf, sizeof buf), "-");
    assert_string_equal(text_utc(1795860000000LL, buf, sizeof buf), "2026-11-28 10:00:00");
    assert_string_equal(text_age(-1, buf, sizeof buf), "-");
    assert_string_equal(text_age(1500, buf, sizeof buf), "1.5 s");
    assert_string_equal(text_age(180000, buf, sizeof buf), "3 min");
    assert_string_equal(text_age(7200000, buf, sizeof buf), "2 h");
    assert_string_equal(text_age(3 * 86400000LL, buf, sizeof buf), "3 d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safe),
        cmocka_unit_test(test_times),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
