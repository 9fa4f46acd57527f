/*
 * test_ring_mt.c - the ring under real concurrency (and ThreadSanitizer in its own build):
 * 4 producers x 1,000,000 records into one consumer that sleeps on the wake-up descriptor;
 * every record is seen exactly once and each producer's order is kept. Then the same with a
 * small ring and producers that never retry, where drops must be counted exactly:
 * received + dropped == pushed, per producer and in ring_dropped().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ring.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCERS 4

struct rec {
    uint32_t producer;
    uint32_t check;
    uint64_t seq;
};

struct shared {
    struct ring *ring;
    uint64_t per_producer;
    bool retry;                  /* retry when full (no drops) or give up (count drops) */
    atomic_int finished;         /* producers that have pushed everything */
    uint64_t refused[PRODUCERS]; /* pushes refused (full ring), as each producer saw them */
};

struct parg {
    struct shared *sh;
    uint32_t id;
};

static void *producer(void *p)
{
    struct parg *a = p;
    struct shared *sh = a->sh;
    struct rec r = {.producer = a->id};

    for (uint64_t i = 0; i < sh->per_producer; i++) {
        r.seq = i;
        r.check = (uint32_t)(i * 2654435761u) ^ a->id;
        while (ring_push(sh->ring, &r) == -1) {
            sh->refused[a->id]++;
            if (!sh->retry)
                break;
            sched_yield();
        }
    }
    atomic_fetch_add(&sh->finished, 1);
    return NULL;
}

/* Runs producers against one consumer (this thread). got[p] counts what arrived from p;
 * order and integrity are asserted as records arrive. */
static void run(struct shared *sh, uint64_t got[PRODUCERS])
{
    pthread_t th[PRODUCERS];
    struct parg args[PRODUCERS];
    uint64_t next[PRODUCERS] = {0};
    struct rec buf[128];
    int done = 0;

    for (int i = 0; i < PRODUCERS; i++) {
        args[i].sh = sh;
        args[i].id = (uint32_t)i;
        assert_int_equal(pthread_create(&th[i], NULL, producer, &args[i]), 0);
    }
    for (;;) {
        size_t n;

        ring_clear_wake(sh->ring);
        while ((n = ring_pop_batch(sh->ring, buf, 128)) > 0) {
            for (size_t k = 0; k < n; k++) {
                struct rec *r = &buf[k];

                assert_true(r->producer < PRODUCERS);
                assert_int_equal(r->check, (uint32_t)(r->seq * 2654435761u) ^ r->producer);
                /* Order per producer: strictly increasing; with retries, no gaps either. */
                if (sh->retry)
                    assert_int_equal(r->seq, next[r->producer]);
                else
                    assert_true(r->seq >= next[r->producer]);
                next[r->producer] = r->seq + 1;
                got[r->producer]++;
            }
        }
        if (done)
            break;
        if (sh->retry) {
            uint64_t total = 0;

            for (int i = 0; i < PRODUCERS; i++)
                total += got[i];
            if (total == sh->per_producer * PRODUCERS)
                break;
            /* Sleeps on the eventfd; a lost wake-up would hang here until ctest's timeout. */
            ring_wait(sh->ring, -1);
        } else if (atomic_load(&sh->finished) == PRODUCERS) {
            done = 1; /* one more drain: what the last pushes left */
        } else {
            /* Draining while producers push and drop; a producer that finishes does not
             * signal, so do not sleep: yield and look at `finished` again. */
            sched_yield();
        }
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
}

static void test_every_record_once_in_order(void **state)
{
    struct shared sh = {.per_producer = 1000000, .retry = true};
    uint64_t got[PRODUCERS] = {0}, refused = 0;
    char *cause = NULL;

    (void)state;
    sh.ring = ring_new(1024, sizeof(struct rec), &cause);
    assert_non_null(sh.ring);
    run(&sh, got);
    for (int i = 0; i < PRODUCERS; i++) {
        assert_int_equal(got[i], sh.per_producer);
        refused += sh.refused[i];
    }
    /* Every refused attempt (later retried) was counted, and nothing else. */
    assert_int_equal(ring_dropped(sh.ring), refused);
    assert_int_equal(ring_pending(sh.ring), 0);
    ring_free(sh.ring);
}

static void test_drops_counted_exactly(void **state)
{
    struct shared sh = {.per_producer = 200000, .retry = false};
    uint64_t got[PRODUCERS] = {0}, refused = 0, received = 0;
    char *cause = NULL;

    (void)state;
    sh.ring = ring_new(8, sizeof(struct rec), &cause);
    assert_non_null(sh.ring);
    run(&sh, got);
    for (int i = 0; i < PRODUCERS; i++) {
        assert_int_equal(got[i] + sh.refused[i], sh.per_producer);
        refused += sh.refused[i];
        received += got[i];
    }
    assert_int_equal(ring_dropped(sh.ring), refused);
    assert_int_equal(received + refused, sh.per_producer * PRODUCERS);
    /* A ring of 8 against 4 busy producers must have refused something; how much the consumer
     * got meanwhile depends on the scheduler, so only the exact accounting above is asserted. */
    assert_true(refused > 0);
    assert_true(received > 0);
    ring_free(sh.ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_record_once_in_order),
        cmocka_unit_test(test_drops_counted_exactly),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
