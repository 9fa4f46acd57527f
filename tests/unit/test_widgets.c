/*
 * test_widgets.c - display widths and cuts (ASCII, accented, wide CJK, combining, emoji,
 * invalid bytes), the list cursor, the glyph sets, and, on a curses screen writing to
 * /dev/null, that text and boxes drawn with the ASCII glyph set leave nothing above 0x7e in
 * any cell and that a cut ends in the ellipsis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/widgets.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static int setup(void **state)
{
    (void)state;
    if (setlocale(LC_ALL, "C.UTF-8") == NULL && setlocale(LC_ALL, "C.utf8") == NULL &&
        setlocale(LC_ALL, "en_US.UTF-8") == NULL) {
        fprintf(stderr, "test_widgets: no UTF-8 locale\n");
        return -1;
    }
    return 0;
}

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(ui_width(NULL), 0);
    assert_int_equal(ui_width(""), 0);
    assert_int_equal(ui_width("hello"), 5);
    assert_int_equal(ui_width("Cr\u00e8me br\u00fbl\u00e9e"), 12);
    assert_int_equal(ui_width("\u65e5\u672c\u8a9e"), 6); /* 日本語 */
    assert_int_equal(ui_width("e\u0301"), 1);            /* e + combining acute */
    assert_int_equal(ui_width("a\U0001F3A5b"), 4);       /* an emoji is wide */
    assert_int_equal(ui_width("\u2500\u2026"), 2);       /* box line, ellipsis */
    assert_int_equal(ui_width("bad \xff\xfe end"), 10);  /* invalid bytes: 1 each */
    assert_int_equal(ui_width("tab\there"), 7);          /* controls: 0 */
    assert_int_equal(ui_width("trunc \xe6\x97"), 8);     /* a cut sequence: 1 a byte */
}

static void test_cut(void **state)
{
    const char *cjk = "\u65e5\u672c\u8a9e"; /* 3 bytes and 2 columns a character */

    (void)state;
    term_glyphs_use(&term_glyphs_utf8);
    assert_int_equal(ui_cut("hello", 5, true), 5); /* fits: whole */
    assert_int_equal(ui_cut("hello", 9, false), 5);
    assert_int_equal(ui_cut("hello", 3, false), 3);
    assert_int_equal(ui_cut("hello world", 5, true), 4); /* room for "…" */
    assert_int_equal(ui_cut("hello", 0, false), 0);
    assert_int_equal(ui_cut("hello", -3, true), 0);
    assert_int_equal(ui_cut(NULL, 5, true), 0);
    assert_int_equal(ui_cut("Cr\u00e8me", 3, false), 4); /* "Crè": è is 2 bytes */
    assert_int_equal(ui_cut(cjk, 3, false), 3);          /* a wide character never splits */
    assert_int_equal(ui_cut(cjk, 4, false), 6);
    assert_int_equal(ui_cut(cjk, 5, true), 6); /* 4 columns and the ellipsis */
    assert_int_equal(ui_cut(cjk, 1, false), 0);
    assert_int_equal(ui_cut("e\u0301xyz", 1, false), 3); /* the accent stays with its e */
    assert_int_equal(ui_cut("a\U0001F3A5b", 2, false), 1);
    assert_int_equal(ui_cut("a\U0001F3A5b", 3, false), 5);

    /* The ASCII ellipsis is "...": three columns of room. */
    term_glyphs_use(&term_glyphs_ascii);
    assert_int_equal(ui_cut("hello world", 5, true), 2);
    assert_int_equal(ui_cut("hello world", 2, true), 0);
    assert_int_equal(ui_cut("hello", 5, true), 5);
    term_glyphs_use(NULL);
    assert_ptr_equal(term_glyphs_current(), &term_glyphs_utf8);
}

static void ascii_only(const char *what, const char *s)
{
    if (s == NULL)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p > 0x7e)
            fail_msg("ASCII glyph %s has byte 0x%02x", what, *p);
}

static void test_glyph_sets(void **state)
{
    const struct term_glyphs *a = &term_glyphs_ascii, *u = &term_glyphs_utf8;
    const char *const *strs[] = {&a->h,        &a->v,      &a->tl,    &a->tr,   &a->bl,
                                 &a->br,       &a->full,   &a->empty, &a->mark, &a->upper_half,
                                 &a->ellipsis, &a->bullet, &a->arrow};

    (void)state;
    assert_false(a->utf8);
    assert_true(u->utf8);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        ascii_only("field", *strs[i]);
    for (int i = 0; i < 8; i++) {
        ascii_only("spark", a->spark[i]);
        assert_int_equal(ui_width(a->spark[i]), 1);
        assert_int_equal(ui_width(u->spark[i]), 1);
    }
    assert_null(a->upper_half);
    assert_string_equal(u->upper_half, "\u2580");
    assert_string_equal(a->ellipsis, "...");
    assert_int_equal(ui_width(u->ellipsis), 1);
    assert_int_equal(ui_width(u->h), 1);
    assert_int_equal(ui_width(u->full), 1);
    assert_int_equal(ui_width(u->empty), 1);
    assert_int_equal(ui_width(u->bullet), 1);
    assert_int_equal(ui_width(u->arrow), 1);
}

static void test_list(void **state)
{
    struct ui_list l = {100, 0, 0};

    (void)state;
    assert_int_equal(ui_list_key(&l, KEY_DOWN, 10), 1);
    assert_int_equal(l.selected, 1);
    assert_int_equal(ui_list_key(&l, 'j', 10), 1);
    assert_int_equal(l.selected, 2);
    assert_int_equal(ui_list_key(&l, KEY_END, 10), 1);
    assert_int_equal(l.selected, 99);
    assert_int_equal(l.top, 90);
    assert_int_equal(ui_list_key(&l, KEY_PPAGE, 10), 1);
    assert_int_equal(l.selected, 89);
    assert_int_equal(l.top, 89);
    assert_int_equal(ui_list_key(&l, KEY_NPAGE, 10), 1);
    assert_int_equal(l.selected, 99);
    assert_int_equal(l.top, 90);
    assert_int_equal(ui_list_key(&l, KEY_NPAGE, 10), 1); /* at the end: stays */
    assert_int_equal(l.selected, 99);
    assert_int_equal(ui_list_key(&l, KEY_HOME, 10), 1);
    assert_int_equal(l.selected, 0);
    assert_int_equal(l.top, 0);
    assert_int_equal(ui_list_key(&l, 'k', 10), 1);
    assert_int_equal(l.selected, 0);
    assert_int_equal(ui_list_key(&l, KEY_UP, 10), 1);
    assert_int_equal(l.selected, 0);
    assert_int_equal(ui_list_key(&l, 'x', 10), 0);
    assert_int_equal(ui_list_key(&l, '\n', 10), 0);

    /* The list shrinks under the cursor. */
    l = (struct ui_list){100, 95, 90};
    l.count = 5;
    ui_list_fit(&l, 10);
    assert_int_equal(l.selected, 4);
    assert_int_equal(l.top, 0);
    /* A resize to fewer rows keeps the selection visible. */
    l = (struct ui_list){50, 20, 15};
    ui_list_fit(&l, 3);
    assert_int_equal(l.top, 18);
    /* No blank rows below the last item when the list could fill them. */
    l = (struct ui_list){50, 45, 45};
    ui_list_fit(&l, 10);
    assert_int_equal(l.top, 40);
    l = (struct ui_list){0, 7, 3};
    ui_list_fit(&l, 10);
    assert_int_equal(l.selected, 0);
    assert_int_equal(l.top, 0);
    assert_int_equal(ui_list_key(&l, KEY_DOWN, 10), 1);
    assert_int_equal(l.selected, 0);
    l = (struct ui_list){10, 5, 0};
    ui_list_fit(&l, 0);
    assert_int_equal(l.top, 5);
}

/* A curses screen on /dev/null, so cells can be read back. */
static SCREEN *screen_open(FILE **in, FILE **out)
{
    SCREEN *sp;

    *in = fopen("/dev/null", "r");
    *out = fopen("/dev/null", "w");
    if (*in == NULL || *out == NULL)
        return NULL;
    sp = newterm("xterm-256color", *out, *in);
    if (sp == NULL)
        sp = newterm("xterm", *out, *in);
    return sp;
}

static void row_text(WINDOW *w, int y, int n, char *buf)
{
    for (int x = 0; x < n; x++) {
        chtype c = mvwinch(w, y, x);
        unsigned ch = (unsigned)(c & A_CHARTEXT);

        if (ch > 0x7e || ch < 0x20)
            fail_msg("cell %d,%d holds 0x%x", y, x, ch);
        buf[x] = (char)ch;
    }
    buf[n] = '\0';
}

static void test_ascii_drawing(void **state)
{
    FILE *in = NULL, *out = NULL;
    SCREEN *sp = screen_open(&in, &out);
    struct term t = {.open = true, .colors = TERM_MONO, .glyphs = &term_glyphs_ascii};
    struct theme th;
    WINDOW *w;
    char row[64];
    uint16_t v[5] = {0, 1, 4, 8, 2};

    (void)state;
    if (sp == NULL) {
        if (in != NULL)
            fclose(in);
        if (out != NULL)
            fclose(out);
        skip();
        return;
    }
    theme_default(&th);
    theme_apply(&th, &t);
    w = newwin(6, 20, 0, 0);
    ui_box(w, &t, "Caf\u00e9 \u65e5\u672c \U0001F3A5 news of the day", true);
    assert_int_equal(ui_text(w, &t, 1, 1, "Cr\u00e8me e\u0301 \u65e5!", 18, THEME_NORMAL), 11);
    assert_int_equal(ui_text(w, &t, 2, 1, "a long line that will not fit", 10, THEME_NORMAL), 10);
    assert_int_equal(ui_textf(w, &t, 3, 1, 18, THEME_OK, "%d of %s", 3, "\xff"), 6);
    ui_gauge(w, &t, 4, 1, 10, 0.5, 0.8);
    ui_sparkline(w, &t, 4, 12, 6, v, 5);
    row_text(w, 0, 20, row);
    assert_string_equal(row, "+ Caf? ???? ??... -+");
    row_text(w, 1, 20, row);
    assert_string_equal(row, "|Cr?me e ??"
                             "!       |");
    row_text(w, 2, 20, row);
    assert_string_equal(row, "|a long ...        |");
    row_text(w, 3, 20, row);
    assert_string_equal(row, "|3 of ?            |");
    row_text(w, 4, 20, row);
    assert_string_equal(row, "|#####...|.  _.=#: |");
    row_text(w, 5, 20, row);
    assert_string_equal(row, "+------------------+");
    delwin(w);
    endwin();
    delscreen(sp);
    fclose(in);
    fclose(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width),         cmocka_unit_test(test_cut),
        cmocka_unit_test(test_glyph_sets),    cmocka_unit_test(test_list),
        cmocka_unit_test(test_ascii_drawing),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
