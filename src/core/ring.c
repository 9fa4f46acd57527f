/*
 * ring.c - bounded many-producer, one-consumer ring; see ring.h for the contract.
 *
 * The algorithm is Dmitry Vyukov's bounded queue: every slot carries a sequence number.
 * A slot at position pos is free for a producer when seq == pos and holds a record for the
 * consumer when seq == pos + 1; the consumer frees it by setting seq = pos + capacity.
 * Producers claim positions with a compare-and-swap on enqueue_pos; the one consumer owns
 * `head` and mirrors it in dequeue_pos for ring_pending().
 *
 * Wake-up without lost signals: before it sleeps, the consumer arms the ring (waiting = 1)
 * and looks at the next slot once more; a producer publishes its slot and then reads
 * `waiting`. All four accesses are sequentially consistent, so of the two at least one sees
 * the other's store (the Dekker pattern): either the consumer finds the record and does not
 * sleep, or the producer sees the consumer waiting, takes the flag (so only the first of
 * several producers signals) and writes the eventfd. A producer whose consumer is awake pays
 * no system call, which is what lets the ring beat a mutex queue whose condition variable is
 * signalled without a system call when nobody waits.
 */
#include "core/ring.h"

#include "core/fail.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define CACHE_LINE 64

struct slot {
    atomic_size_t seq;
    unsigned char data[];
};

struct ring {
    /* Written by producers. */
    _Alignas(CACHE_LINE) atomic_size_t enqueue_pos;
    /* Written by the consumer: where it stands (for ring_pending) and whether it sleeps. */
    _Alignas(CACHE_LINE) atomic_size_t dequeue_pos;
    atomic_int waiting;
    _Alignas(CACHE_LINE) atomic_uint_fast64_t dropped;
    /* Consumer-private and read-only fields. */
    _Alignas(CACHE_LINE) size_t head;
    size_t mask;
    size_t record_size;
    size_t stride;
    int efd;
    unsigned char *slots;
};

static struct slot *slot_at(const struct ring *r, size_t pos)
{
    return (struct slot *)(void *)(r->slots + (pos & r->mask) * r->stride);
}

struct ring *ring_new(size_t capacity, size_t record_size, char **cause)
{
    struct ring *r;
    size_t cap = 2, i;

    if (capacity == 0 || capacity > ((size_t)1 << 30)) {
        *cause =
            xasprintf("ring capacity %zu is out of range (1 to %zu)", capacity, (size_t)1 << 30);
        return NULL;
    }
    if (record_size == 0 || record_size > RING_MAX_RECORD) {
        *cause = xasprintf("ring record size %zu is out of range (1 to %d bytes)", record_size,
                           RING_MAX_RECORD);
        return NULL;
    }
    while (cap < capacity)
        cap <<= 1;

    r = aligned_alloc(CACHE_LINE, sizeof *r);
    if (r == NULL)
        fail("out of memory allocating a ring");
    memset(r, 0, sizeof *r);
    r->mask = cap - 1;
    r->record_size = record_size;
    r->stride = (sizeof(struct slot) + record_size + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->efd == -1) {
        *cause = xasprintf("eventfd for the ring: %s", strerror(errno));
        free(r);
        return NULL;
    }
    r->slots = aligned_alloc(CACHE_LINE, cap * r->stride);
    if (r->slots == NULL)
        fail("out of memory allocating %zu ring slots", cap);
    for (i = 0; i < cap; i++)
        atomic_init(&slot_at(r, i)->seq, i);
    atomic_init(&r->enqueue_pos, 0);
    atomic_init(&r->dequeue_pos, 0);
    atomic_init(&r->waiting, 0);
    atomic_init(&r->dropped, 0);
    r->head = 0;
    return r;
}

void ring_free(struct ring *r)
{
    if (r == NULL)
        return;
    close(r->efd);
    free(r->slots);
    free(r);
}

int ring_push(struct ring *r, const void *record)
{
    size_t pos = atomic_load_explicit(&r->enqueue_pos, memory_order_relaxed);
    struct slot *s;
    uint64_t one = 1;

    for (;;) {
        size_t seq;
        intptr_t diff;

        s = slot_at(r, pos);
        seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        diff = (intptr_t)seq - (intptr_t)pos;
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->enqueue_pos, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed))
                break;
        } else if (diff < 0) {
            atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
            return -1;
        } else {
            pos = atomic_load_explicit(&r->enqueue_pos, memory_order_relaxed);
        }
    }
    memcpy(s->data, record, r->record_size);
    atomic_store_explicit(&s->seq, pos + 1, memory_order_seq_cst);
    if (atomic_load_explicit(&r->waiting, memory_order_seq_cst) &&
        atomic_exchange_explicit(&r->waiting, 0, memory_order_seq_cst)) {
        /* A full eventfd counter (2^64 - 2) cannot happen: the consumer resets it. */
        ssize_t n = write(r->efd, &one, sizeof one);
        (void)n;
    }
    return 0;
}

size_t ring_pop_batch(struct ring *r, void *out, size_t max)
{
    unsigned char *dst = out;
    size_t pos = r->head, n = 0;

    while (n < max) {
        struct slot *s = slot_at(r, pos);
        size_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);

        if (seq != pos + 1)
            break;
        memcpy(dst + n * r->record_size, s->data, r->record_size);
        atomic_store_explicit(&s->seq, pos + r->mask + 1, memory_order_release);
        pos++;
        n++;
    }
    r->head = pos;
    atomic_store_explicit(&r->dequeue_pos, pos, memory_order_relaxed);
    return n;
}

int ring_fd(const struct ring *r)
{
    return r->efd;
}

int ring_arm(struct ring *r)
{
    struct slot *s = slot_at(r, r->head);

    atomic_store_explicit(&r->waiting, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&s->seq, memory_order_seq_cst) == r->head + 1) {
        /* A record arrived after all: stay awake. */
        atomic_store_explicit(&r->waiting, 0, memory_order_relaxed);
        return 0;
    }
    return 1;
}

void ring_clear_wake(struct ring *r)
{
    uint64_t v;
    ssize_t n = read(r->efd, &v, sizeof v);

    (void)n; /* EAGAIN: nothing to clear */
}

int ring_wait(struct ring *r, int timeout_ms)
{
    struct pollfd pfd = {.fd = r->efd, .events = POLLIN};
    int rc;

    if (!ring_arm(r)) {
        ring_clear_wake(r); /* a signal from an earlier arming may still be pending */
        return 1;
    }
    do
        rc = poll(&pfd, 1, timeout_ms);
    while (rc == -1 && errno == EINTR);
    if (rc <= 0)
        return 0;
    ring_clear_wake(r);
    return 1;
}

size_t ring_capacity(const struct ring *r)
{
    return r->mask + 1;
}

size_t ring_record_size(const struct ring *r)
{
    return r->record_size;
}

size_t ring_pending(const struct ring *r)
{
    size_t in = atomic_load_explicit(&r->enqueue_pos, memory_order_relaxed);
    size_t outp = atomic_load_explicit(&r->dequeue_pos, memory_order_relaxed);

    return in >= outp ? in - outp : 0;
}

uint64_t ring_dropped(const struct ring *r)
{
    return atomic_load_explicit(&r->dropped, memory_order_relaxed);
}
