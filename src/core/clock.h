/*
 * clock.h - the process's clocks. Wall time can be replaced for tests (budget windows roll
 * over on the UTC clock and tests must move it); the monotonic clock is always real.
 * clock_set_wall() is meant for start-up or single-threaded tests; the override is an atomic
 * pointer so reading it from any thread is safe.
 */
#ifndef NEWSROOM_CLOCK_H
#define NEWSROOM_CLOCK_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch, UTC (or the test override). */
int64_t clock_wall_ms(void);
/* Milliseconds on CLOCK_MONOTONIC: for timeouts, latencies and ages. */
int64_t clock_mono_ms(void);
/* Microseconds on CLOCK_MONOTONIC, for latency figures. */
int64_t clock_mono_us(void);
/* Replace wall time with fn (NULL restores the real clock). */
void clock_set_wall(int64_t (*fn)(void));
/* Sleep for ms milliseconds, resuming after signals until the time has passed or *stop is set
 * (stop may be NULL). */
void clock_sleep_ms(int64_t ms, const volatile sig_atomic_t *stop);

/* The same with a stop flag that other threads set (an atomic, so the read is not a race). */
void clock_sleep_ms_until(int64_t ms, const atomic_int *stop);

#endif
