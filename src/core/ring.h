/*
 * ring.h - the bounded lock-free ring that carries fixed-size records from any number of
 * producer threads to one consumer thread (the UI thread, in the control room).
 *
 * Threads: ring_push() may be called from any thread at once; ring_pop_batch(),
 * ring_clear_wake() and ring_wait() belong to the single consumer thread. Nothing is locked
 * and nothing is allocated per record: records are copied into slots sized at ring_new().
 * A push into a full ring fails at once and is counted in ring_dropped(); it never blocks.
 *
 * Wake-up: the ring owns an eventfd. A consumer that wants to sleep arms the ring first
 * (ring_arm()); the first producer whose record lands after that writes to the descriptor,
 * so the consumer can sleep in poll() on ring_fd() beside other descriptors (the terminal,
 * in the control room). Producers whose consumer is awake make no system call. The loop of a
 * consumer is:
 *
 *     for (;;) {
 *         while ((n = ring_pop_batch(r, buf, max)) > 0) handle(buf, n);
 *         if (ring_arm(r)) poll(... ring_fd(r) ...);   // else records came: no sleep
 *         ring_clear_wake(r);
 *     }
 *
 * ring_wait() is that arm-poll-clear step for a consumer with nothing else to watch.
 *
 * Like every bounded queue of its kind, a producer that is preempted between claiming a slot
 * and filling it holds up the records behind it until it runs again (they are not lost).
 */
#ifndef NEWSROOM_RING_H
#define NEWSROOM_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_MAX_RECORD 4096

struct ring;

/* A ring of at least `capacity` records (rounded up to a power of two) of `record_size`
 * bytes each (1 to RING_MAX_RECORD). Returns NULL and sets *cause (free it) on bad sizes or
 * when the eventfd cannot be made. Free with ring_free(). */
struct ring *ring_new(size_t capacity, size_t record_size, char **cause);
/* Frees the ring and closes its descriptor; NULL is a no-op. No thread may still use it. */
void ring_free(struct ring *r);

/* Copies record_size bytes from record into the ring. Returns 0, or -1 when the ring is full
 * (the record is dropped and counted). Safe from any thread. */
int ring_push(struct ring *r, const void *record);

/* Consumer only: copies up to max records, oldest first, into out (max * record_size bytes).
 * Returns how many were copied. */
size_t ring_pop_batch(struct ring *r, void *out, size_t max);

/* The wake-up descriptor: readable when records may be waiting. Owned by the ring. */
int ring_fd(const struct ring *r);
/* Consumer only: announces that the consumer is about to sleep. Returns 1 when the ring is
 * still empty (sleep: the next push will signal), 0 when a record is already there. */
int ring_arm(struct ring *r);
/* Consumer only: resets the wake-up descriptor after a sleep. */
void ring_clear_wake(struct ring *r);
/* Consumer only: arms the ring and sleeps until a producer signals or timeout_ms passes (-1
 * waits forever), then clears the descriptor. Returns 1 when records may be waiting (woken,
 * or they arrived before it slept), 0 on timeout. */
int ring_wait(struct ring *r, int timeout_ms);

size_t ring_capacity(const struct ring *r);
size_t ring_record_size(const struct ring *r);
/* Records pushed and not yet popped; a snapshot that may be stale by the time it returns. */
size_t ring_pending(const struct ring *r);
/* Records refused because the ring was full, since ring_new(). */
uint64_t ring_dropped(const struct ring *r);

#endif
