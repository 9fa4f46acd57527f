/*
 * test_halfblock.c - pictures as half-block cells: RGB to the nearest xterm 256-colour index
 * (cube and grey ramp), a small two-colour picture cell by cell, and scaling down and up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/halfblock.h"

#include <stdlib.h>
#include <string.h>

static void test_xterm256(void **state)
{
    static const struct {
        uint8_t r, g, b;
        short want;
    } cases[] = {
        {0, 0, 0, 16},        {255, 255, 255, 231}, {255, 0, 0, 196},     {0, 255, 0, 46},
        {0, 0, 255, 21},      {255, 255, 0, 226},   {0, 255, 255, 51},    {255, 0, 255, 201},
        {95, 135, 175, 67},   {215, 175, 95, 179},  {128, 128, 128, 244}, {8, 8, 8, 232},
        {238, 238, 238, 255}, {18, 18, 18, 233},    {100, 100, 100, 241}, {250, 0, 0, 196},
        {130, 0, 0, 88},      {90, 96, 94, 59},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        short got = halfblock_xterm256(cases[i].r, cases[i].g, cases[i].b);

        if (got != cases[i].want)
            fail_msg("(%d,%d,%d) -> %d, wanted %d", cases[i].r, cases[i].g, cases[i].b, got,
                     cases[i].want);
    }
}

/* Fills pixel (x, y) of a w-wide picture. */
static void px(uint8_t *rgb, int w, int x, int y, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;

    p[0] = r;
    p[1] = g;
    p[2] = b;
}

static void test_two_colour_picture(void **state)
{
    uint8_t rgb[4 * 4 * 3];
    struct halfblock_cell out[4 * 2];

    (void)state;
    /* Rows 0 and 2 red, 1 and 3 blue, except the right half of row 3, which is white. */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            if (y % 2 == 0)
                px(rgb, 4, x, y, 255, 0, 0);
            else if (y == 3 && x >= 2)
                px(rgb, 4, x, y, 255, 255, 255);
            else
                px(rgb, 4, x, y, 0, 0, 255);
        }
    assert_int_equal(halfblock_render(rgb, 4, 4, 4, 2, out), 0);
    for (int c = 0; c < 4; c++) {
        assert_int_equal(out[c].fg, 196);
        assert_int_equal(out[c].bg, 21);
        assert_int_equal(out[4 + c].fg, 196);
        assert_int_equal(out[4 + c].bg, c >= 2 ? 231 : 21);
    }
}

static void test_scaling(void **state)
{
    uint8_t *big = malloc(64 * 32 * 3);
    uint8_t one[3] = {0, 255, 0};
    struct halfblock_cell out[16 * 8], cell;

    (void)state;
    /* 64x32: left half black, right half white; into 4 columns by 2 rows (4 pixel rows). */
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 64; x++)
            px(big, 64, x, y, x < 32 ? 0 : 255, x < 32 ? 0 : 255, x < 32 ? 0 : 255);
    assert_int_equal(halfblock_render(big, 64, 32, 4, 2, out), 0);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 4; c++) {
            short want = c < 2 ? 16 : 231;

            assert_int_equal(out[r * 4 + c].fg, want);
            assert_int_equal(out[r * 4 + c].bg, want);
        }
    /* Into 3 columns: the middle one averages black and white into a mid grey. */
    assert_int_equal(halfblock_render(big, 64, 32, 3, 1, out), 0);
    assert_int_equal(out[0].fg, 16);
    assert_int_equal(out[2].fg, 231);
    assert_in_range(out[1].fg, 243, 246);
    /* One pixel scaled up fills every cell. */
    assert_int_equal(halfblock_render(one, 1, 1, 16, 8, out), 0);
    for (int i = 0; i < 16 * 8; i++) {
        assert_int_equal(out[i].fg, 46);
        assert_int_equal(out[i].bg, 46);
    }
    /* Sizes below 1 are refused. */
    assert_int_equal(halfblock_render(one, 1, 1, 0, 1, &cell), -1);
    assert_int_equal(halfblock_render(one, 1, 1, 1, 0, &cell), -1);
    assert_int_equal(halfblock_render(one, 0, 1, 1, 1, &cell), -1);
    assert_int_equal(halfblock_render(NULL, 1, 1, 1, 1, &cell), -1);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xterm256),
        cmocka_unit_test(test_two_colour_picture),
        cmocka_unit_test(test_scaling),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
