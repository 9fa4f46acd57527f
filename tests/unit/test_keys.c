/*
 * test_keys.c - the control room's pure logic: the key table (lookups, no key bound twice,
 * every action reachable and described, exactly the acting keys hidden by --read-only), the
 * prompts' tables, the line editor (UTF-8 aware), the filter's matching and the panes' text
 * formats.
 */
#include "ui/edit.h"
#include "ui/fmt.h"
#include "ui/keys.h"

#include <curses.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_lookup(void **state)
{
    (void)state;
    assert_int_equal(keys_action('?'), ACT_HELP);
    assert_int_equal(keys_action('\t'), ACT_NEXT_PANE);
    assert_int_equal(keys_action(UI_KEY_FN(KEY_BTAB)), ACT_PREV_PANE);
    assert_int_equal(keys_action('1'), ACT_PANE1);
    assert_int_equal(keys_action('7'), ACT_PANE7);
    assert_int_equal(keys_action('8'), ACT_PANE8);
    assert_int_equal(keys_action('u'), ACT_REQUEUE);
    assert_int_equal(keys_action('U'), ACT_REQUEUE_STEP);
    assert_int_equal(keys_action('A'), ACT_REQUEUE_ALL);
    assert_int_equal(keys_action('j'), ACT_DOWN);
    assert_int_equal(keys_action(UI_KEY_FN(KEY_DOWN)), ACT_DOWN);
    assert_int_equal(keys_action(UI_KEY_FN(KEY_NPAGE)), ACT_PGDN);
    assert_int_equal(keys_action(UI_KEY_FN(KEY_END)), ACT_END);
    assert_int_equal(keys_action('\r'), ACT_ENTER);
    assert_int_equal(keys_action(UI_KEY_ESC), ACT_BACK);
    assert_int_equal(keys_action('a'), ACT_APPROVE);
    assert_int_equal(keys_action('r'), ACT_REJECT);
    assert_int_equal(keys_action('R'), ACT_REVISE);
    assert_int_equal(keys_action('!'), ACT_EMERGENCY);
    assert_int_equal(keys_action(UI_CTRL('l')), ACT_REDRAW);
    assert_int_equal(keys_action('q'), ACT_QUIT);
    assert_int_equal(keys_action('z'), ACT_NONE);
    /* A character above 0x100 is never taken for a curses key code. */
    assert_int_equal(keys_action(KEY_DOWN), ACT_NONE);
    assert_int_equal(keys_norm(KEY_CODE_YES, KEY_DOWN), UI_KEY_FN(KEY_DOWN));
    assert_int_equal(keys_norm(OK, 0x102), 0x102);
}

static void test_table_sound(void **state)
{
    bool bound[ACT_COUNT] = {false};

    (void)state;
    for (size_t i = 0; i < keys_count; i++) {
        for (size_t j = i + 1; j < keys_count; j++)
            assert_int_not_equal(keys_table[i].key, keys_table[j].key);
        assert_true(keys_table[i].action > ACT_NONE && keys_table[i].action < ACT_COUNT);
        if (keys_table[i].label != NULL)
            bound[keys_table[i].action] = true;
    }
    for (int a = ACT_NONE + 1; a < ACT_COUNT; a++) {
        assert_true(bound[a]);                 /* every action has a key the help shows */
        assert_non_null(keys_actions[a].help); /* and a line of help */
    }
}

static void test_acting(void **state)
{
    /* Space marks for a decision; u, U and A requeue failed stories. */
    const int acting[] = {'a', 'r', 'R', '!', 'h', 'g', 'd', ' ', 'u', 'U', 'A'};
    int n = 0;

    (void)state;
    for (size_t i = 0; i < sizeof acting / sizeof acting[0]; i++)
        assert_true(keys_acting(keys_action(acting[i])));
    for (int a = ACT_NONE; a < ACT_COUNT; a++)
        n += keys_acting(a);
    assert_int_equal(n, 11);
    assert_false(keys_acting(keys_action('q')));
    assert_false(keys_acting(keys_action('/')));
    assert_false(keys_acting(ACT_COUNT));
}

static void test_labels(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(keys_labels(ACT_DOWN, " ", buf, sizeof buf), "j Down");
    assert_string_equal(keys_labels(ACT_ENTER, " ", buf, sizeof buf), "Enter");
    assert_string_equal(keys_labels(ACT_DOWN, " ", buf, 4), "j");
}

static void test_modal_tables(void **state)
{
    (void)state;
    assert_int_equal(keys_edit_op('\r'), EDIT_SUBMIT);
    assert_int_equal(keys_edit_op(UI_KEY_ESC), EDIT_CANCEL);
    assert_int_equal(keys_edit_op(127), EDIT_BACKSPACE);
    assert_int_equal(keys_edit_op(UI_KEY_FN(KEY_BACKSPACE)), EDIT_BACKSPACE);
    assert_int_equal(keys_edit_op(UI_CTRL('u')), EDIT_KILL_LINE);
    assert_int_equal(keys_edit_op('x'), EDIT_INSERT);
    assert_int_equal(keys_edit_op(0xe9), EDIT_INSERT); /* é */
    assert_int_equal(keys_edit_op(0x9b), EDIT_NONE);   /* C1 CSI */
    assert_int_equal(keys_edit_op(UI_CTRL('x')), EDIT_NONE);
    assert_int_equal(keys_edit_op(UI_KEY_FN(KEY_F(5))), EDIT_NONE);
    assert_int_equal(keys_confirm('y'), 1);
    assert_int_equal(keys_confirm('Y'), 1);
    assert_int_equal(keys_confirm('n'), 0);
    assert_int_equal(keys_confirm(UI_KEY_ESC), 0);
    assert_int_equal(keys_confirm('x'), -1);
    assert_int_equal(keys_choice('1'), CHOICE_ALERT);
    assert_int_equal(keys_choice('2'), CHOICE_HALT);
    assert_int_equal(keys_choice(UI_KEY_ESC), CHOICE_CANCEL);
    assert_int_equal(keys_choice('x'), CHOICE_NONE);
}

static void type(struct edit *e, const int *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        edit_apply(e, keys_edit_op(keys[i]), keys[i]);
}

static void test_edit(void **state)
{
    struct edit e;
    const int word[] = {'n', 0xe9, 'e', ' ', 'o', 'k'}; /* "née ok" */
    char out[64];

    (void)state;
    edit_clear(&e);
    type(&e, word, 6);
    assert_string_equal(e.buf, "n\xc3\xa9"
                               "e ok");
    assert_int_equal(e.cur, 7);
    edit_apply(&e, EDIT_KILL_WORD, 0);
    assert_string_equal(e.buf, "n\xc3\xa9"
                               "e ");
    edit_apply(&e, EDIT_LEFT, 0);
    edit_apply(&e, EDIT_LEFT, 0);
    edit_apply(&e, EDIT_BACKSPACE, 0); /* the é goes whole */
    assert_string_equal(e.buf, "ne ");
    assert_int_equal(e.cur, 1);
    edit_apply(&e, EDIT_INSERT, 0x4e2d); /* 中 */
    assert_string_equal(e.buf, "n\xe4\xb8\xad"
                               "e ");
    edit_apply(&e, EDIT_DELETE, 0);
    assert_string_equal(e.buf, "n\xe4\xb8\xad ");
    edit_apply(&e, EDIT_HOME, 0);
    assert_int_equal(e.cur, 0);
    assert_int_equal(edit_apply(&e, EDIT_BACKSPACE, 0), 0);
    edit_apply(&e, EDIT_END, 0);
    assert_int_equal(e.cur, e.len);
    assert_string_equal(edit_trimmed(&e, out, sizeof out), "n\xe4\xb8\xad");
    edit_apply(&e, EDIT_KILL_LINE, 0);
    assert_int_equal(e.len, 0);
    assert_string_equal(edit_trimmed(&e, out, sizeof out), "");
    /* Surrogates are not characters. */
    assert_int_equal(edit_apply(&e, EDIT_INSERT, 0xd800), 0);
    /* Full: a character that does not fit is refused. */
    for (int i = 0; i < EDIT_MAX; i++)
        edit_apply(&e, EDIT_INSERT, 'x');
    assert_int_equal(e.len, EDIT_MAX);
    assert_int_equal(edit_apply(&e, EDIT_INSERT, 'y'), 0);
    edit_set(&e, "  padded  ");
    assert_string_equal(edit_trimmed(&e, out, sizeof out), "padded");
}

static void test_match(void **state)
{
    const char *fields[] = {"wire-42", "Storm Elin", NULL};

    (void)state;
    assert_true(fmt_match("Storm Elin brought winds", "elin"));
    assert_true(fmt_match("abc", ""));
    assert_true(fmt_match("abc", NULL));
    assert_false(fmt_match("abc", "abcd"));
    assert_false(fmt_match(NULL, "a"));
    assert_true(fmt_match("aab", "ab"));
    assert_true(fmt_match_any(fields, 2, "WIRE"));
    assert_false(fmt_match_any(fields, 2, "rain"));
    assert_true(fmt_match_any(fields, 3, ""));
}

static void test_formats(void **state)
{
    char b[32];

    (void)state;
    assert_string_equal(fmt_money(0, b, sizeof b), "$0.00");
    assert_string_equal(fmt_money(1250000, b, sizeof b), "$1.25");
    assert_string_equal(fmt_money(4200, b, sizeof b), "$0.0042");
    assert_string_equal(fmt_money(999999, b, sizeof b), "$1.00");
    assert_string_equal(fmt_money(1999999, b, sizeof b), "$2.00");
    assert_string_equal(fmt_money(1234500000, b, sizeof b), "$1235");
    assert_string_equal(fmt_money(-500000, b, sizeof b), "-$0.5000");
    assert_string_equal(fmt_age(12000, b, sizeof b), "12s");
    assert_string_equal(fmt_age(600000, b, sizeof b), "10m");
    assert_string_equal(fmt_age(3 * 3600000, b, sizeof b), "3h");
    assert_string_equal(fmt_age(3LL * 86400000, b, sizeof b), "3d");
    assert_string_equal(fmt_age(-1, b, sizeof b), "-");
    assert_string_equal(fmt_duration(65, b, sizeof b), "1:05");
    assert_string_equal(fmt_duration(0, b, sizeof b), "-");
    /* Ids cut in the middle keep their distinguishing end. */
    {
        char m1[64], m2[64];

        assert_string_equal(fmt_middle("scout-buildhost-12345-1", 13, "\u2026", m1, sizeof m1),
                            "scout\u202612345-1");
        fmt_middle("scout-buildhost-12345-2", 13, "\u2026", m2, sizeof m2);
        assert_string_not_equal(m1, m2);
        assert_string_equal(fmt_middle("short", 13, "\u2026", m1, sizeof m1), "short");
        assert_string_equal(fmt_middle("scout-buildhost-12345-1", 13, "...", m1, sizeof m1),
                            "scou...2345-1");
    }
    assert_string_equal(fmt_uptime(3723000, b, sizeof b), "01:02:03");
    assert_string_equal(fmt_uptime(90061000, b, sizeof b), "1d 01:01:01");
    /* Noon UTC, $1/h: twelve more dollars by midnight. */
    assert_int_equal(fmt_day_end(5000000, 1000000, 86400000LL * 20000 + 43200000), 17000000);
    assert_int_equal(fmt_day_end(5000000, 0, 86400000LL * 20000), 5000000);
    assert_int_equal(fmt_staleness(1000, 5000, 15000), 0);
    assert_int_equal(fmt_staleness(6000, 5000, 15000), 1);
    assert_int_equal(fmt_staleness(15000, 5000, 15000), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),       cmocka_unit_test(test_table_sound),
        cmocka_unit_test(test_acting),       cmocka_unit_test(test_labels),
        cmocka_unit_test(test_modal_tables), cmocka_unit_test(test_edit),
        cmocka_unit_test(test_match),        cmocka_unit_test(test_formats),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
