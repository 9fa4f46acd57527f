/*
 * test_ring.c - the ring buffer on one thread: sizes, full, empty, wrap-around, batch pop,
 * drop counting and the wake-up descriptor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ring.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rec {
    uint64_t seq;
    char text[24];
};

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, 0) == 1;
}

static struct ring *make(size_t cap)
{
    char *cause = NULL;
    struct ring *r = ring_new(cap, sizeof(struct rec), &cause);

    assert_non_null(r);
    return r;
}

static void test_bad_sizes(void **state)
{
    char *cause = NULL;

    (void)state;
    assert_null(ring_new(0, 8, &cause));
    assert_non_null(strstr(cause, "capacity"));
    free(cause);
    cause = NULL;
    assert_null(ring_new(8, 0, &cause));
    assert_non_null(strstr(cause, "record size"));
    free(cause);
    cause = NULL;
    assert_null(ring_new(8, RING_MAX_RECORD + 1, &cause));
    free(cause);
}

static void test_capacity_rounds_up(void **state)
{
    struct ring *r = make(5);

    (void)state;
    assert_int_equal(ring_capacity(r), 8);
    assert_int_equal(ring_record_size(r), sizeof(struct rec));
    ring_free(r);
    ring_free(NULL);
}

static void test_empty(void **state)
{
    struct ring *r = make(4);
    struct rec out[4];

    (void)state;
    assert_int_equal(ring_pop_batch(r, out, 4), 0);
    assert_int_equal(ring_pending(r), 0);
    assert_false(readable(ring_fd(r)));
    assert_int_equal(ring_wait(r, 0), 0);
    ring_free(r);
}

static void test_full_drops_and_counts(void **state)
{
    struct ring *r = make(4);
    struct rec in = {0}, out[8];

    (void)state;
    for (int i = 0; i < 4; i++) {
        in.seq = (uint64_t)i;
        assert_int_equal(ring_push(r, &in), 0);
    }
    in.seq = 99;
    assert_int_equal(ring_push(r, &in), -1);
    assert_int_equal(ring_push(r, &in), -1);
    assert_int_equal(ring_dropped(r), 2);
    assert_int_equal(ring_pending(r), 4);
    assert_int_equal(ring_pop_batch(r, out, 8), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(out[i].seq, (uint64_t)i);
    /* Space again after the pop; the drop count stays. */
    assert_int_equal(ring_push(r, &in), 0);
    assert_int_equal(ring_dropped(r), 2);
    ring_free(r);
}

static void test_wrap_around_keeps_order(void **state)
{
    struct ring *r = make(8);
    struct rec in = {0}, out[3];
    uint64_t next_in = 0, next_out = 0;

    (void)state;
    /* Push 5, pop 3, many times: positions wrap the 8 slots many times over. */
    for (int round = 0; round < 1000; round++) {
        while (ring_pending(r) < 5) {
            in.seq = next_in++;
            snprintf(in.text, sizeof in.text, "rec %llu", (unsigned long long)in.seq);
            assert_int_equal(ring_push(r, &in), 0);
        }
        size_t n = ring_pop_batch(r, out, 3);

        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++) {
            char want[24];

            assert_int_equal(out[i].seq, next_out);
            snprintf(want, sizeof want, "rec %llu", (unsigned long long)next_out);
            assert_string_equal(out[i].text, want);
            next_out++;
        }
    }
    assert_int_equal(ring_dropped(r), 0);
    ring_free(r);
}

static void test_batch_pop_limits(void **state)
{
    struct ring *r = make(16);
    struct rec in = {0}, out[16];

    (void)state;
    for (int i = 0; i < 10; i++) {
        in.seq = (uint64_t)i;
        ring_push(r, &in);
    }
    assert_int_equal(ring_pop_batch(r, out, 4), 4);
    assert_int_equal(out[3].seq, 3);
    assert_int_equal(ring_pop_batch(r, out, 0), 0);
    assert_int_equal(ring_pop_batch(r, out, 16), 6);
    assert_int_equal(out[0].seq, 4);
    assert_int_equal(out[5].seq, 9);
    assert_int_equal(ring_pop_batch(r, out, 16), 0);
    ring_free(r);
}

static void test_wake_only_when_armed(void **state)
{
    struct ring *r = make(8);
    struct rec in = {0}, out[8];

    (void)state;
    /* A consumer that is awake costs producers nothing: no signal. */
    ring_push(r, &in);
    assert_false(readable(ring_fd(r)));
    /* Records waiting: arming says "do not sleep". */
    assert_int_equal(ring_arm(r), 0);
    assert_int_equal(ring_pop_batch(r, out, 8), 1);
    /* Empty and armed: the first push signals, the second does not signal again. */
    assert_int_equal(ring_arm(r), 1);
    ring_push(r, &in);
    assert_true(readable(ring_fd(r)));
    ring_push(r, &in);
    ring_clear_wake(r);
    assert_false(readable(ring_fd(r)));
    ring_push(r, &in);
    assert_false(readable(ring_fd(r)));
    assert_int_equal(ring_pop_batch(r, out, 8), 3);
    /* ring_wait arms, sleeps until the timeout on an empty ring, and returns 0. */
    assert_int_equal(ring_wait(r, 10), 0);
    /* Armed by that wait: the next push signals, and ring_wait sees it and clears it. */
    ring_push(r, &in);
    assert_int_equal(ring_wait(r, 1000), 1);
    assert_false(readable(ring_fd(r)));
    /* Records already there: ring_wait returns at once without sleeping. */
    assert_int_equal(ring_wait(r, -1), 1);
    ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_sizes),
        cmocka_unit_test(test_capacity_rounds_up),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_full_drops_and_counts),
        cmocka_unit_test(test_wrap_around_keeps_order),
        cmocka_unit_test(test_batch_pop_limits),
        cmocka_unit_test(test_wake_only_when_armed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
