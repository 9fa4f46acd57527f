/*
 * test_theme.c - theme files: the four shipped ones parse (dark equal to the built-in
 * default), a bad line names FILE:LINE and what is wrong and leaves the default theme, the
 * themes directory lists and resolves names, and 256-colour indexes map down to 16 and 8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testenv.h"
#include "ui/theme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char themes_dir[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(themes_dir, sizeof themes_dir, "%s/themes", test_env("NEWSROOM_SOURCE_DIR"));
    return 0;
}

static bool is_default(const struct theme *t)
{
    struct theme d;

    theme_default(&d);
    return memcmp(t->style, d.style, sizeof d.style) == 0;
}

static void test_shipped_themes_parse(void **state)
{
    static const char *const names[] = {"dark", "light", "high-contrast", "mono"};
    struct theme t;

    (void)state;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1200];
        char *cause = NULL;

        snprintf(path, sizeof path, "%s/%s.theme", themes_dir, names[i]);
        if (theme_load(path, &t, &cause) == -1)
            fail_msg("%s", cause);
        assert_string_equal(t.name, names[i]);
        if (strcmp(names[i], "dark") == 0)
            assert_true(is_default(&t));
        else
            assert_false(is_default(&t));
        if (strcmp(names[i], "mono") == 0)
            for (int r = 0; r < THEME_ROLE_COUNT; r++) {
                assert_int_equal(t.style[r].fg, -1);
                assert_int_equal(t.style[r].bg, -1);
            }
    }
    /* mono.theme (the last loaded) shows the selection in reverse. */
    assert_true(t.style[THEME_SELECTED].attrs & THEME_A_REVERSE);
}

static void test_parse_values(void **state)
{
    struct theme t;
    char *cause = NULL;

    (void)state;
    assert_int_equal(theme_parse("; a comment\n# another\n\n[theme]\r\n"
                                 "  alert = bright-red , 17, bold underline\n"
                                 "ok=green\n"
                                 "dim = 0, default, none\n"
                                 "banner = 255, black, reverse standout dim\n",
                                 "/some/where/x.theme", &t, &cause),
                     0);
    assert_string_equal(t.name, "x");
    assert_int_equal(t.style[THEME_ALERT].fg, 9);
    assert_int_equal(t.style[THEME_ALERT].bg, 17);
    assert_int_equal(t.style[THEME_ALERT].attrs, THEME_A_BOLD | THEME_A_UNDERLINE);
    assert_int_equal(t.style[THEME_OK].fg, 2);
    assert_int_equal(t.style[THEME_OK].bg, -1);
    assert_int_equal(t.style[THEME_OK].attrs, 0);
    assert_int_equal(t.style[THEME_DIM].fg, 0);
    assert_int_equal(t.style[THEME_BANNER].attrs, THEME_A_REVERSE | THEME_A_STANDOUT | THEME_A_DIM);
    /* A role the file leaves out keeps the default's style. */
    {
        struct theme d;

        theme_default(&d);
        assert_memory_equal(&t.style[THEME_HEADER], &d.style[THEME_HEADER],
                            sizeof d.style[THEME_HEADER]);
    }
    /* An empty file is the default theme. */
    assert_int_equal(theme_parse("", "empty.theme", &t, &cause), 0);
    assert_true(is_default(&t));
}

static void bad(const char *text, const char *want)
{
    struct theme t;
    char *cause = NULL;

    t.style[0].fg = 99;
    if (theme_parse(text, "bad.theme", &t, &cause) != -1)
        fail_msg("accepted: %s", text);
    if (cause == NULL || strstr(cause, want) != cause)
        fail_msg("\"%s\": cause \"%s\", wanted it to start \"%s\"", text,
                 cause != NULL ? cause : "(null)", want);
    assert_true(is_default(&t));
    free(cause);
}

static void test_bad_lines(void **state)
{
    (void)state;
    bad("[theme]\nnormal = default\nshiny = red\n", "bad.theme:3: unknown role \"shiny\"");
    bad("[theme]\nalert = purple, default\n", "bad.theme:2: alert: \"purple\" is not a colour");
    bad("[theme]\nalert = 256\n", "bad.theme:2: alert: \"256\" is not a colour");
    bad("[theme]\nalert = -2\n", "bad.theme:2: alert: \"-2\" is not a colour");
    bad("[theme]\nalert = red, default, blink\n",
        "bad.theme:2: alert: \"blink\" is not an attribute");
    bad("[theme]\n\nalert red\n", "bad.theme:3: missing '='");
    bad("[theme]\nalert =\n", "bad.theme:2: alert: missing foreground colour");
    bad("[theme]\nalert = red,\n", "bad.theme:2: alert: missing background colour");
    bad("[theme]\nalert = red, blue, bold, extra\n", "bad.theme:2: alert: too many fields");
    bad("alert = red\n", "bad.theme:1: \"alert\" is outside the [theme] section");
    bad("[colours]\n", "bad.theme:1: unknown section [colours]");
    bad("[theme\n", "bad.theme:1: a section line must end in ']'");
    /* Outside text in a message is cut and made printable. */
    bad("[theme]\n\x1b[31m = red\n", "bad.theme:2: unknown role \"?[31m\"");
}

static void test_load_errors(void **state)
{
    struct theme t;
    char *cause = NULL;

    (void)state;
    assert_int_equal(theme_load("/nonexistent/x.theme", &t, &cause), -1);
    assert_non_null(strstr(cause, "/nonexistent/x.theme"));
    assert_true(is_default(&t));
    free(cause);
}

static void test_list_and_resolve(void **state)
{
    char **names = NULL, *cause = NULL, *dir;
    size_t n = 0;
    struct theme t;

    (void)state;
    assert_int_equal(theme_list(themes_dir, &names, &n, &cause), 0);
    assert_int_equal(n, 4);
    assert_string_equal(names[0], "dark");
    assert_string_equal(names[1], "high-contrast");
    assert_string_equal(names[2], "light");
    assert_string_equal(names[3], "mono");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    assert_int_equal(theme_list("/nonexistent", &names, &n, &cause), -1);
    free(cause);

    assert_int_equal(theme_resolve("light", themes_dir, &t, &cause), 0);
    assert_string_equal(t.name, "light");
    assert_int_equal(theme_resolve("dark", NULL, &t, &cause), 0);
    assert_true(is_default(&t));
    assert_int_equal(theme_resolve("", NULL, &t, &cause), 0);
    assert_true(is_default(&t));
    assert_int_equal(theme_resolve("light", NULL, &t, &cause), -1);
    assert_non_null(strstr(cause, "NEWSROOM_THEMES_DIR"));
    free(cause);
    assert_int_equal(theme_resolve("nosuch", themes_dir, &t, &cause), -1);
    assert_non_null(strstr(cause, "nosuch.theme"));
    free(cause);
    assert_int_equal(theme_resolve("../etc", themes_dir, &t, &cause), -1);
    free(cause);
    {
        char path[1200];

        snprintf(path, sizeof path, "%s/mono.theme", themes_dir);
        assert_int_equal(theme_resolve(path, NULL, &t, &cause), 0);
        assert_string_equal(t.name, "mono");
    }
    dir = theme_dir("/etc/newsroom/themes");
    assert_string_equal(dir, "/etc/newsroom/themes");
    free(dir);
}

/* Every shipped theme's roles: foreground on background at least 4.5:1 (WCAG AA for text),
 * "light" on a light terminal, the others on a dark one. */
static void test_contrast(void **state)
{
    char **names = NULL, *cause = NULL;
    size_t n = 0;
    int bad = 0;

    (void)state;
    assert_int_equal(theme_list(themes_dir, &names, &n, &cause), 0);
    assert_true(n >= 4);
    for (size_t i = 0; i < n; i++) {
        struct theme t;
        bool light = strcmp(names[i], "light") == 0;

        assert_int_equal(theme_resolve(names[i], themes_dir, &t, &cause), 0);
        for (int r = 0; r < THEME_ROLE_COUNT; r++) {
            double c = theme_contrast(&t, (enum theme_role)r, light);

            if (c < 4.5) {
                print_message("theme %s: %s is %.2f:1\n", names[i], theme_role_names[r], c);
                bad++;
            }
        }
        free(names[i]);
    }
    free(names);
    {
        struct theme t;

        theme_default(&t);
        for (int r = 0; r < THEME_ROLE_COUNT; r++)
            if (theme_contrast(&t, (enum theme_role)r, false) < 4.5)
                bad++;
        /* The check itself: a grey on grey is refused. */
        t.style[THEME_DIM].fg = 240;
        t.style[THEME_DIM].bg = 238;
        assert_true(theme_contrast(&t, THEME_DIM, false) < 1.5);
    }
    assert_int_equal(bad, 0);
}

static void test_colour_mapping(void **state)
{
    static const struct {
        short c256, c16, c8;
    } cases[] = {
        {-1, -1, -1}, {0, 0, 0},    {5, 5, 5},    {8, 8, 7},    {12, 12, 4},  {16, 0, 0},
        {196, 9, 1},  {160, 1, 1},  {21, 12, 4},  {25, 4, 4},   {31, 6, 6},   {28, 2, 2},
        {114, 2, 2},  {214, 11, 3}, {136, 3, 3},  {211, 13, 5}, {81, 14, 6},  {231, 15, 7},
        {232, 0, 0},  {236, 0, 0},  {240, 8, 7},  {244, 8, 7},  {250, 7, 7},  {255, 15, 7},
        {59, 8, 7},   {145, 7, 7},  {188, 15, 7}, {226, 11, 3}, {201, 13, 5}, {46, 10, 2},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (theme_to16(cases[i].c256) != cases[i].c16)
            fail_msg("to16(%d) = %d, wanted %d", cases[i].c256, theme_to16(cases[i].c256),
                     cases[i].c16);
        if (theme_to8(cases[i].c256) != cases[i].c8)
            fail_msg("to8(%d) = %d, wanted %d", cases[i].c256, theme_to8(cases[i].c256),
                     cases[i].c8);
    }
    for (short c = -1; c < 256; c++) {
        assert_in_range(theme_to16(c) + 1, 0, 16);
        assert_in_range(theme_to8(c) + 1, 0, 8);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_themes_parse),
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_list_and_resolve),
        cmocka_unit_test(test_colour_mapping),
        cmocka_unit_test(test_contrast),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
