/*
 * clock.c - wall and monotonic clocks; see clock.h. The only state is the test override of
 * wall time, an atomic function pointer, so any thread may read the clocks while a test
 * swaps it.
 */
#include "core/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

static _Atomic(int64_t (*)(void)) wall_override;

static int64_t ts_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void)
{
    int64_t (*fn)(void) = atomic_load(&wall_override);

    return fn != NULL ? fn() : ts_ms(CLOCK_REALTIME);
}

int64_t clock_mono_ms(void)
{
    return ts_ms(CLOCK_MONOTONIC);
}

int64_t clock_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_set_wall(int64_t (*fn)(void))
{
    atomic_store(&wall_override, fn);
}

void clock_sleep_ms(int64_t ms, const volatile sig_atomic_t *stop)
{
    int64_t end = clock_mono_ms() + ms;

    for (;;) {
        int64_t left = end - clock_mono_ms();
        struct timespec ts;

        if (left <= 0 || (stop != NULL && *stop))
            return;
        /* Wake at least every 100 ms so a stop flag set by a signal handler is seen. */
        if (left > 100)
            left = 100;
        ts.tv_sec = (time_t)(left / 1000);
        ts.tv_nsec = (long)(left % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
            if (stop != NULL && *stop)
                return;
        }
    }
}

void clock_sleep_ms_until(int64_t ms, const atomic_int *stop)
{
    int64_t end = clock_mono_ms() + ms;

    for (;;) {
        int64_t left = end - clock_mono_ms();
        struct timespec ts;

        if (left <= 0 || (stop != NULL && atomic_load(stop)))
            return;
        /* Wake at least every 20 ms to look at the flag. */
        if (left > 20)
            left = 20;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left * 1000000L;
        nanosleep(&ts, NULL);
    }
}
