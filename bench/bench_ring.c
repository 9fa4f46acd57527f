/*
 * bench_ring.c - `newsroom bench ring`: records per second from 1, 2 and 4 producer threads
 * into one consumer, through the lock-free ring and, in the same run and interleaved with it,
 * through a mutex-and-condition-variable queue of the same capacity and record size (the
 * peer). Producers retry a full queue after sched_yield(), so every record arrives; the
 * consumer sleeps when the queue is empty (the ring's eventfd, the peer's condition
 * variable). Each figure is the median of --repeat runs.
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/clock.h"
#include "core/fail.h"
#include "core/ring.h"

#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REC_SIZE 64
#define CAPACITY 1024
#define BATCH    256

struct rec {
    uint32_t producer;
    uint32_t pad;
    uint64_t seq;
    unsigned char payload[REC_SIZE - 16];
};

/* The peer: a bounded queue under one mutex, with a condition variable for the consumer. */
struct mq {
    pthread_mutex_t mu;
    pthread_cond_t nonempty;
    size_t head, count;
    unsigned char buf[CAPACITY][REC_SIZE];
};

static int mq_push(struct mq *q, const void *rec)
{
    pthread_mutex_lock(&q->mu);
    if (q->count == CAPACITY) {
        pthread_mutex_unlock(&q->mu);
        return -1;
    }
    memcpy(q->buf[(q->head + q->count) % CAPACITY], rec, REC_SIZE);
    if (++q->count == 1)
        pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

static size_t mq_pop_batch(struct mq *q, void *out, size_t max)
{
    unsigned char *dst = out;
    size_t n = 0;
    struct timespec ts;

    pthread_mutex_lock(&q->mu);
    if (q->count == 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&q->nonempty, &q->mu, &ts);
    }
    while (n < max && q->count > 0) {
        memcpy(dst + n * REC_SIZE, q->buf[q->head], REC_SIZE);
        q->head = (q->head + 1) % CAPACITY;
        q->count--;
        n++;
    }
    pthread_mutex_unlock(&q->mu);
    return n;
}

enum kind { KIND_RING, KIND_MUTEX };

struct run {
    enum kind kind;
    struct ring *ring;
    struct mq *mq;
    uint64_t per_producer;
    atomic_int go;
};

struct producer_arg {
    struct run *run;
    uint32_t id;
};

static void *producer(void *p)
{
    struct producer_arg *a = p;
    struct run *run = a->run;
    struct rec r;

    memset(&r, 0, sizeof r);
    r.producer = a->id;
    while (!atomic_load_explicit(&run->go, memory_order_acquire))
        sched_yield();
    for (uint64_t i = 0; i < run->per_producer; i++) {
        r.seq = i;
        if (run->kind == KIND_RING)
            while (ring_push(run->ring, &r) == -1)
                sched_yield();
        else
            while (mq_push(run->mq, &r) == -1)
                sched_yield();
    }
    return NULL;
}

/* One timed run; returns records per second, or -1 if records went missing. */
static double one_run(enum kind kind, int producers, uint64_t records)
{
    struct run run = {.kind = kind, .per_producer = records / (uint64_t)producers};
    struct producer_arg args[4];
    pthread_t th[4];
    static struct rec buf[BATCH];
    uint64_t total = run.per_producer * (uint64_t)producers, got = 0, seqsum = 0, want = 0;
    int64_t t0, t1;
    char *cause = NULL;

    if (kind == KIND_RING) {
        run.ring = ring_new(CAPACITY, REC_SIZE, &cause);
        if (run.ring == NULL)
            fail("%s", cause);
    } else {
        run.mq = xcalloc(1, sizeof *run.mq);
        pthread_mutex_init(&run.mq->mu, NULL);
        pthread_cond_init(&run.mq->nonempty, NULL);
    }
    atomic_init(&run.go, 0);
    for (int i = 0; i < producers; i++) {
        args[i].run = &run;
        args[i].id = (uint32_t)i;
        pthread_create(&th[i], NULL, producer, &args[i]);
    }
    t0 = clock_mono_us();
    atomic_store_explicit(&run.go, 1, memory_order_release);
    while (got < total) {
        size_t n;

        if (kind == KIND_RING) {
            n = ring_pop_batch(run.ring, buf, BATCH);
            if (n == 0)
                ring_wait(run.ring, 100);
        } else {
            n = mq_pop_batch(run.mq, buf, BATCH);
        }
        for (size_t i = 0; i < n; i++)
            seqsum += buf[i].seq;
        got += n;
    }
    t1 = clock_mono_us();
    for (int i = 0; i < producers; i++)
        pthread_join(th[i], NULL);
    if (kind == KIND_RING) {
        ring_free(run.ring);
    } else {
        pthread_mutex_destroy(&run.mq->mu);
        pthread_cond_destroy(&run.mq->nonempty);
        free(run.mq);
    }
    want = (uint64_t)producers * (run.per_producer * (run.per_producer - 1) / 2);
    if (seqsum != want)
        return -1;
    return (double)total / ((double)(t1 - t0) / 1e6);
}

int bench_ring(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"records", required_argument, NULL, 'n'},
        {"repeat", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const int counts[] = {1, 2, 4};
    struct bench_figure figs[3];
    long records = 2000000, repeat = 5;
    bool json = false;
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            if (bench_parse_long("ring", "--records", optarg, 1000, 1000000000L, &records) == -1)
                return EXIT_USAGE;
            break;
        case 'r':
            if (bench_parse_long("ring", "--repeat", optarg, 1, 101, &repeat) == -1)
                return EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench ring [--json] [--records N] [--repeat K]\n");
            return EXIT_DONE;
        default:
            cli_error("bench ring: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    for (int i = 0; i < 3; i++) {
        double ring_v[101], mq_v[101];

        for (int k = 0; k < repeat; k++) {
            /* Interleaved, so both see the same machine load. */
            ring_v[k] = one_run(KIND_RING, counts[i], (uint64_t)records);
            mq_v[k] = one_run(KIND_MUTEX, counts[i], (uint64_t)records);
            if (ring_v[k] < 0 || mq_v[k] < 0) {
                cli_error("bench ring: records were lost or duplicated in a run");
                return EXIT_REFUSED;
            }
        }
        snprintf(figs[i].name, sizeof figs[i].name, "ring, %d producer%s", counts[i],
                 counts[i] > 1 ? "s" : "");
        figs[i].value = bench_median(ring_v, (int)repeat);
        figs[i].unit = "records/s";
        figs[i].peer = "mutex+condvar queue";
        figs[i].peer_value = bench_median(mq_v, (int)repeat);
        figs[i].ratio = figs[i].value / figs[i].peer_value;
    }
    if (!json)
        printf("%ld records of %d bytes per run, capacity %d, median of %ld runs\n", records,
               REC_SIZE, CAPACITY, repeat);
    bench_report("ring", figs, 3, json);
    return EXIT_DONE;
}
