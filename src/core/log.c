/*
 * log.c - see log.h. The level is atomic so any thread may read it; the descriptor and sink
 * are set while the process is single-threaded.
 */
#include "core/log.h"

#include "core/clock.h"
#include "core/fail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static int log_fd = -1;
static atomic_int log_level_now = LOG_INFO;
static void (*log_sink)(enum log_level, const char *, void *);
static void *log_sink_ctx;

int log_open(const char *path, enum log_level level, char **cause)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

    if (fd == -1) {
        *cause = xasprintf("cannot open log file %s: %s", path, strerror(errno));
        return -1;
    }
    if (log_fd != -1)
        close(log_fd);
    log_fd = fd;
    atomic_store(&log_level_now, (int)level);
    return 0;
}

void log_close(void)
{
    if (log_fd != -1)
        close(log_fd);
    log_fd = -1;
}

void log_set_level(enum log_level level)
{
    atomic_store(&log_level_now, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&log_level_now);
}

int log_level_parse(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return level_names[level];
}

void log_set_sink(void (*sink)(enum log_level, const char *, void *), void *ctx)
{
    log_sink = sink;
    log_sink_ctx = ctx;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;
    int64_t now;
    time_t secs;
    struct tm tm;
    size_t n;
    int rc;

    if ((int)level > atomic_load(&log_level_now) || (log_fd == -1 && log_sink == NULL))
        return;
    now = clock_wall_ms();
    secs = (time_t)(now / 1000);
    gmtime_r(&secs, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    rc = snprintf(line + n, sizeof line - n, ".%03dZ %-5s [%d] ", (int)(now % 1000),
                  level_names[level], (int)getpid());
    n += rc > 0 ? (size_t)rc : 0;
    va_start(ap, fmt);
    rc = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (rc > 0)
        n += (size_t)rc < sizeof line - n - 1 ? (size_t)rc : sizeof line - n - 2;
    if (log_sink != NULL)
        log_sink(level, line, log_sink_ctx);
    if (log_fd != -1) {
        ssize_t w;

        line[n++] = '\n';
        w = write(log_fd, line, n);
        (void)w;
    }
}
