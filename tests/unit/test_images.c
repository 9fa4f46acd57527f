/*
 * test_images.c - terminal pictures (ui/images.c): the query's answers read right (kitty,
 * sixel in DA1, neither, not complete yet), detection over a real pseudo-terminal whose far
 * end answers or stays silent (the timeout), the sixel and kitty encoders' output, and the
 * choice of mode (--no-images, too few colours, $NEWSROOM_IMAGES).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "ui/images.h"

#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_parse_reply(void **state)
{
    static const char kitty[] = "\033_Gi=31;OK\033\\\033[?62;22c";

    (void)state;
    assert_int_equal(images_parse_reply("\033[?62;4;22c", 11), IMAGES_SIXEL);
    assert_int_equal(images_parse_reply("\033[?4c", 5), IMAGES_SIXEL);
    assert_int_equal(images_parse_reply("\033[?1;2c", 7), IMAGES_HALF);
    assert_int_equal(images_parse_reply("\033[?62;14;44c", 12), IMAGES_HALF); /* 14, 44: not 4 */
    assert_int_equal(images_parse_reply(kitty, sizeof kitty - 1), IMAGES_KITTY);
    assert_int_equal(images_parse_reply("\033[?62;4", 7), -1); /* not complete */
    assert_int_equal(images_parse_reply("", 0), -1);
    assert_int_equal(images_parse_reply("garbage", 7), -1);
}

struct far {
    int master;
    const char *answer; /* NULL: stay silent */
    char got[256];
};

/* The terminal's far end: reads the query, answers (or not). */
static void *far_end(void *arg)
{
    struct far *f = arg;
    struct pollfd p = {.fd = f->master, .events = POLLIN};
    size_t n = 0;

    while (n < sizeof f->got - 1 && poll(&p, 1, 1000) > 0) {
        ssize_t r = read(f->master, f->got + n, sizeof f->got - 1 - n);

        if (r <= 0)
            break;
        n += (size_t)r;
        if (strstr(f->got, "\033[c") != NULL)
            break;
    }
    if (f->answer != NULL && write(f->master, f->answer, strlen(f->answer)) < 0)
        return NULL;
    return NULL;
}

static int detect_with(const char *answer, int timeout_ms, int64_t *took, char *query, size_t qs)
{
    int master, slave, mode;
    struct far f = {0};
    pthread_t t;
    int64_t t0;

    assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
    f.master = master;
    f.answer = answer;
    pthread_create(&t, NULL, far_end, &f);
    t0 = clock_mono_ms();
    mode = images_detect(slave, slave, timeout_ms);
    *took = clock_mono_ms() - t0;
    pthread_join(t, NULL);
    snprintf(query, qs, "%s", f.got);
    close(slave);
    close(master);
    return mode;
}

static void test_detect(void **state)
{
    char q[256];
    int64_t took;

    (void)state;
    assert_int_equal(detect_with("\033[?62;4;22c", 2000, &took, q, sizeof q), IMAGES_SIXEL);
    assert_non_null(strstr(q, "_Gi=31,s=1,v=1,a=q")); /* the kitty query went out */
    assert_non_null(strstr(q, "\033[c"));             /* and DA1 */
    assert_true(took < 1500);                         /* the answer ended the wait */
    assert_int_equal(detect_with("\033_Gi=31;OK\033\\\033[?62c", 2000, &took, q, sizeof q),
                     IMAGES_KITTY);
    assert_int_equal(detect_with("\033[?1;2c", 2000, &took, q, sizeof q), IMAGES_HALF);
    /* A terminal that does not answer: half-blocks at most, after the timeout. */
    assert_int_equal(detect_with(NULL, 150, &took, q, sizeof q), IMAGES_HALF);
    assert_true(took >= 140);
}

static void test_sixel(void **state)
{
    uint8_t rgb[2 * 6 * 3];
    size_t len;
    char *s;

    (void)state;
    for (size_t i = 0; i < sizeof rgb; i += 3) {
        rgb[i] = 255; /* red */
        rgb[i + 1] = 0;
        rgb[i + 2] = 0;
    }
    s = images_sixel(rgb, 2, 6, &len);
    assert_int_equal(strlen(s), len);
    assert_memory_equal(s, "\033P0;1;0q\"1;1;2;6", 16);
    assert_non_null(strstr(s, "#180;2;100;0;0")); /* red in the 6x6x6 cube */
    assert_non_null(strstr(s, "#180~~-"));        /* both columns, all six rows */
    assert_string_equal(s + len - 2, "\033\\");
    free(s);
    /* A long run is run-length encoded. */
    {
        uint8_t wide[40 * 6 * 3] = {0};

        s = images_sixel(wide, 40, 6, &len);
        assert_non_null(strstr(s, "#0!40~-"));
        free(s);
    }
}

static void test_kitty(void **state)
{
    static const uint8_t one[3] = {1, 2, 3};
    uint8_t *big = calloc(100 * 100 * 3, 1);
    size_t len;
    char *s;

    (void)state;
    s = images_kitty(one, 1, 1, 2, 1, &len);
    assert_string_equal(s, "\033_Ga=T,f=24,s=1,v=1,c=2,r=1,q=2,C=1,m=0;AQID\033\\");
    free(s);
    /* 30,000 bytes: base64 of 40,000, in chunks of 4,096 with m=1, the last with m=0. */
    s = images_kitty(big, 100, 100, 16, 5, &len);
    {
        size_t chunks = 0;

        for (const char *p = s; (p = strstr(p, "\033_G")) != NULL; p += 3)
            chunks++;
        assert_int_equal(chunks, 10);
    }
    assert_non_null(strstr(s, "c=16,r=5,q=2,C=1,m=1;"));
    assert_non_null(strstr(s, "\033_Gm=0;"));
    free(s);
    free(big);
}

static void test_choose(void **state)
{
    struct term t = {.colors = TERM_COLORS_256, .glyphs = &term_glyphs_utf8};

    (void)state;
    unsetenv("NEWSROOM_IMAGES");
    assert_int_equal(images_choose(true, IMAGES_KITTY, &t), IMAGES_NONE);
    assert_int_equal(images_choose(false, IMAGES_KITTY, &t), IMAGES_KITTY);
    assert_int_equal(images_choose(false, IMAGES_HALF, &t), IMAGES_HALF);
    t.colors = TERM_COLORS_16; /* half-blocks need 256 colours; real images do not */
    assert_int_equal(images_choose(false, IMAGES_HALF, &t), IMAGES_NONE);
    assert_int_equal(images_choose(false, IMAGES_SIXEL, &t), IMAGES_SIXEL);
    t.colors = TERM_COLORS_256;
    t.glyphs = &term_glyphs_ascii;
    assert_int_equal(images_choose(false, IMAGES_HALF, &t), IMAGES_NONE);
    t.glyphs = &term_glyphs_utf8;
    setenv("NEWSROOM_IMAGES", "none", 1);
    assert_int_equal(images_choose(false, IMAGES_KITTY, &t), IMAGES_NONE);
    setenv("NEWSROOM_IMAGES", "sixel", 1);
    assert_int_equal(images_choose(false, IMAGES_HALF, &t), IMAGES_SIXEL);
    unsetenv("NEWSROOM_IMAGES");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_reply), cmocka_unit_test(test_detect),
        cmocka_unit_test(test_sixel),       cmocka_unit_test(test_kitty),
        cmocka_unit_test(test_choose),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
