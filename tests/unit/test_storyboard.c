/*
 * test_storyboard.c - the storyboard package: SRT captions that are valid (numbered cues,
 * HH:MM:SS,mmm times, lines of at most 42 characters, at most two lines) and cover the whole
 * narration without gaps, durations from the speaking rate, the shot list, and the edges: an
 * empty script, a very long sentence, a word longer than a caption line, UTF-8 that is never
 * cut inside a character, control characters, invalid UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/storyboard.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cue {
    int64_t start, end;
    char text[2048]; /* lines joined by '\n' */
    int lines;
};

static int64_t parse_time(const char *s)
{
    int h, m, sec, ms;

    if (sscanf(s, "%2d:%2d:%2d,%3d", &h, &m, &sec, &ms) != 4 || s[2] != ':' || s[5] != ':' ||
        s[8] != ',')
        fail_msg("bad SRT time \"%.12s\"", s);
    assert_in_range(m, 0, 59);
    assert_in_range(sec, 0, 59);
    return ((int64_t)h * 3600 + m * 60 + sec) * 1000 + ms;
}

static int chars(const char *s, size_t n)
{
    int k = 0;

    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* Parses srt strictly into cues; checks numbering, times, line lengths and UTF-8. */
static int parse_srt(const char *srt, struct cue *out, int max)
{
    const char *p = srt;
    int n = 0;

    while (*p != '\0') {
        char num[16];
        const char *nl = strchr(p, '\n');
        struct cue *c = &out[n];

        assert_true(n < max);
        assert_non_null(nl);
        snprintf(num, sizeof num, "%d", n + 1);
        assert_int_equal((int)(nl - p), (int)strlen(num));
        assert_memory_equal(p, num, strlen(num));
        p = nl + 1;
        c->start = parse_time(p);
        assert_memory_equal(p + 12, " --> ", 5);
        c->end = parse_time(p + 17);
        assert_int_equal(p[29], '\n');
        assert_true(c->end >= c->start);
        p += 30;
        c->text[0] = '\0';
        c->lines = 0;
        while (*p != '\n') {
            const char *e = strchr(p, '\n');
            json_t *valid;

            assert_non_null(e);
            assert_true(e > p); /* no empty line inside a cue */
            assert_true(chars(p, (size_t)(e - p)) <= 42);
            valid = json_stringn(p, (size_t)(e - p)); /* NULL for cut UTF-8 */
            assert_non_null(valid);
            json_decref(valid);
            if (c->lines++ > 0)
                strcat(c->text, "\n");
            strncat(c->text, p, (size_t)(e - p));
            p = e + 1;
        }
        assert_true(c->lines >= 1 && c->lines <= 2);
        p++; /* the blank line that ends the cue */
        n++;
    }
    return n;
}

/* The cues cover [from, to] without a gap or an overlap. */
static void check_cover(const struct cue *c, int n, int64_t from, int64_t to)
{
    assert_true(n > 0);
    assert_int_equal(c[0].start, from);
    for (int i = 1; i < n; i++)
        assert_int_equal(c[i].start, c[i - 1].end);
    assert_int_equal(c[n - 1].end, to);
}

/* The cue texts with line breaks as spaces, joined by spaces. */
static char *joined(const struct cue *c, int n)
{
    size_t cap = 1;
    char *s;

    for (int i = 0; i < n; i++)
        cap += strlen(c[i].text) + 1;
    s = calloc(1, cap);
    for (int i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, " ");
        strcat(s, c[i].text);
    }
    for (char *q = s; *q != '\0'; q++)
        if (*q == '\n')
            *q = ' ';
    return s;
}

static json_t *build(const char *script)
{
    struct storyboard_options o;

    storyboard_options_default(&o);
    return storyboard_build(script, "Council approves budget", "Newsroom Wire", &o);
}

static int64_t ival(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *sval(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_srt_time(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(storyboard_srt_time(0, buf, sizeof buf), "00:00:00,000");
    assert_string_equal(storyboard_srt_time(3723004, buf, sizeof buf), "01:02:03,004");
    assert_string_equal(storyboard_srt_time(59999, buf, sizeof buf), "00:00:59,999");
}

static void test_package(void **state)
{
    const char *script =
        "The council approved a budget of 4.2 million dollars on Tuesday.\n\n"
        "Key facts: the vote was 7 to 2, officials said. Spending on parks rises by a third!\n"
        "That's the latest on this story. For Newsroom, I'm Alex Morgan.";
    json_t *p = build(script), *shots;
    struct cue cues[64];
    int64_t words, nar;
    int n;

    (void)state;
    assert_non_null(p);
    assert_string_equal(sval(p, "kind"), "storyboard");
    words = ival(p, "words");
    assert_int_equal(words, 39);
    nar = ival(p, "narration_ms");
    assert_int_equal(nar, words * 60000 / 150);
    assert_int_equal(ival(p, "duration_ms"), 2000 + nar + 2000);
    assert_true(json_number_value(json_object_get(p, "duration_s")) * 1000 ==
                (double)ival(p, "duration_ms"));
    /* The narration is the script on one line. */
    assert_null(strchr(sval(p, "narration"), '\n'));
    assert_non_null(strstr(sval(p, "narration"), "dollars on Tuesday. Key facts:"));

    shots = json_object_get(p, "shots");
    assert_int_equal(json_array_size(shots), 2 + 5 + 1);
    assert_string_equal(sval(json_array_get(shots, 0), "kind"), "title_card");
    assert_string_equal(sval(json_array_get(shots, 0), "text"), "Council approves budget");
    assert_string_equal(sval(json_array_get(shots, 1), "kind"), "lower_third");
    assert_string_equal(sval(json_array_get(shots, 1), "source"), "Newsroom Wire");
    assert_true(json_is_true(json_object_get(json_array_get(shots, 1), "overlay")));
    assert_string_equal(sval(json_array_get(shots, 2), "kind"), "key_fact");
    assert_string_equal(sval(json_array_get(shots, 2), "visual"), "full-screen figure: 4.2");
    assert_string_equal(sval(json_array_get(shots, 3), "kind"), "key_fact");
    assert_string_equal(sval(json_array_get(shots, 4), "kind"), "narration");
    assert_string_equal(sval(json_array_get(shots, 4), "text"),
                        "Spending on parks rises by a third!");
    assert_string_equal(sval(json_array_get(shots, 7), "kind"), "closing");
    assert_int_equal(ival(json_array_get(shots, 7), "end_ms"), ival(p, "duration_ms"));
    /* Sentence shots follow each other from the end of the title card to the closing. */
    assert_int_equal(ival(json_array_get(shots, 2), "start_ms"), 2000);
    for (size_t i = 3; i < 7; i++)
        assert_int_equal(ival(json_array_get(shots, i), "start_ms"),
                         ival(json_array_get(shots, i - 1), "end_ms"));
    assert_int_equal(ival(json_array_get(shots, 6), "end_ms"),
                     ival(json_array_get(shots, 7), "start_ms"));
    for (size_t i = 0; i < json_array_size(shots); i++)
        assert_int_equal(ival(json_array_get(shots, i), "n"), (int64_t)i + 1);

    n = parse_srt(sval(p, "captions_srt"), cues, 64);
    assert_int_equal(n, ival(p, "cues"));
    check_cover(cues, n, 2000, 2000 + nar);
    {
        char *all = joined(cues, n);
        assert_string_equal(all, sval(p, "narration"));
        free(all);
    }
    /* A cue never spans two sentences: the first ends where the first sentence does. */
    assert_int_equal(cues[0].end > ival(json_array_get(shots, 2), "end_ms"), 0);
    json_decref(p);
}

static void test_rate(void **state)
{
    struct storyboard_options o;
    json_t *p;

    (void)state;
    storyboard_options_default(&o);
    o.words_per_minute = 120;
    o.title_ms = 0;
    o.closing_ms = 0;
    p = storyboard_build("one two three four five six seven eight nine ten", "", "", &o);
    assert_int_equal(ival(p, "duration_ms"), 5000); /* 10 words at 2 a second */
    assert_string_equal(sval(p, "narration"), "one two three four five six seven eight nine ten.");
    assert_string_equal(sval(json_array_get(json_object_get(p, "shots"), 0), "kind"), "title_card");
    json_decref(p);
}

static void test_empty(void **state)
{
    const char *scripts[] = {NULL, "", "  \n\n\t ", "\x01\x02"};

    (void)state;
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        json_t *p = build(scripts[i]), *shots = json_object_get(p, "shots");

        assert_non_null(p);
        assert_int_equal(ival(p, "words"), 0);
        assert_int_equal(ival(p, "cues"), 0);
        assert_string_equal(sval(p, "captions_srt"), "");
        assert_string_equal(sval(p, "narration"), "");
        assert_int_equal(ival(p, "duration_ms"), 4000);
        assert_int_equal(json_array_size(shots), 2);
        assert_string_equal(sval(json_array_get(shots, 1), "kind"), "closing");
        json_decref(p);
    }
}

static void test_long_sentence(void **state)
{
    char script[4096] = "";
    struct cue cues[256];
    json_t *p;
    int n;

    (void)state;
    for (int i = 0; i < 300; i++)
        strcat(script, i % 7 == 3 ? "extraordinarily " : "word ");
    strcat(script, "end.");
    p = build(script);
    assert_int_equal(ival(p, "words"), 301);
    n = parse_srt(sval(p, "captions_srt"), cues, 256);
    assert_true(n > 20);
    check_cover(cues, n, 2000, 2000 + ival(p, "narration_ms"));
    {
        char *all = joined(cues, n);
        assert_string_equal(all, sval(p, "narration"));
        free(all);
    }
    json_decref(p);
}

static void test_utf8(void **state)
{
    char script[4096] = "Le café de Zürich a fermé, dit l'économiste. 東京の市場は上昇した。 ";
    struct cue cues[128];
    json_t *p;
    int n;

    (void)state;
    /* One word of 100 two-byte characters: longer than a caption line. */
    for (int i = 0; i < 100; i++)
        strcat(script, "é");
    strcat(script, " fin.");
    p = build(script);
    assert_non_null(p);
    n = parse_srt(sval(p, "captions_srt"), cues, 128);
    check_cover(cues, n, 2000, 2000 + ival(p, "narration_ms"));
    /* The long word is cut at character boundaries into full lines of 42 characters (84
     * bytes) and a rest that shares its line with the next word. */
    {
        int full = 0;

        for (int i = 0; i < n; i++) {
            char *l = cues[i].text;

            while (l != NULL) {
                char *e = strchr(l, '\n');
                size_t len = e != NULL ? (size_t)(e - l) : strlen(l);

                if (strncmp(l, "éé", 4) == 0) {
                    size_t run = strcspn(l, " \n");

                    assert_true(run % 2 == 0);
                    full += len == 84;
                }
                l = e != NULL ? e + 1 : NULL;
            }
        }
        assert_int_equal(full, 2);
        assert_non_null(strstr(sval(p, "captions_srt"), "éééééééééééééééé fin."));
    }
    json_decref(p);
}

static void test_controls_and_invalid(void **state)
{
    json_t *p;

    (void)state;
    p = build("Bad\x1b[31m text\x07 here.");
    assert_non_null(p);
    assert_null(strchr(sval(p, "narration"), '\x1b'));
    assert_null(strchr(sval(p, "captions_srt"), '\x07'));
    json_decref(p);
    assert_null(build("broken \xc3 utf-8."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srt_time),
        cmocka_unit_test(test_package),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_long_sentence),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_controls_and_invalid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
