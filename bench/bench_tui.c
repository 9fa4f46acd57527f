/*
 * bench_tui.c - `newsroom bench tui`: what the control room costs. The control room
 * (`newsroom --attach`, this very binary) runs in a pseudo-terminal of 120x40 against a
 * private redis-server seeded with stories; the bench feeds it blackboard events at a fixed
 * rate (new stories written, each one event) for a while, then leaves it idle as long. For
 * each phase: the bytes the control room wrote to the terminal per second, the CPU it used
 * (user and system time of the whole process, every thread, from /proc/PID/stat) as a share
 * of one core, and its frame times (p50, p99) from the frame statistics it writes on exit
 * ($NEWSROOM_UI_STATS). The figures are set against the aims as limits: idle under 1% of a
 * core; under load at most 15% of a core, at most 30 KB/s to the terminal; p99 frame under
 * 5 ms.
 *
 * Threads: the main thread writes the events; one thread drains the terminal, counting bytes.
 */
#include "bench.h"

#include "agents/wire.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TUI_COLS 120
#define TUI_ROWS 40

struct drain {
    int fd;
    atomic_llong bytes;
    atomic_int stop;
};

static void *drain_main(void *arg)
{
    struct drain *d = arg;
    char buf[65536];

    while (!atomic_load(&d->stop)) {
        struct pollfd p = {.fd = d->fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, 100) <= 0)
            continue;
        n = read(d->fd, buf, sizeof buf);
        if (n <= 0)
            break; /* the child closed the terminal */
        atomic_fetch_add(&d->bytes, (long long)n);
    }
    return NULL;
}

/* user + system CPU ticks of pid; -1 when it cannot be read. */
static long long cpu_ticks(pid_t pid)
{
    char path[64], buf[2048], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which may hold spaces: from the last ')'. */
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

/* Writes story i of the bench's stream (one blackboard event). */
static int write_story(struct bb *b, long i, char **cause)
{
    json_t *j = wire_story(77, i, NULL, NULL);
    struct news_item *it;
    char existing[NEWS_ID_MAX + 1];
    char id[64];
    int rc;

    snprintf(id, sizeof id, "tui-%08ld", i);
    json_object_set_new(j, "id", json_string(id));
    it = news_item_from_json(j, cause);
    json_decref(j);
    if (it == NULL)
        return -1;
    rc = bb_write(b, it, NULL, BB_PENDING, false, existing, cause);
    news_item_free(it);
    return rc == BB_OK || rc == BB_DUPLICATE ? 0 : -1;
}

struct phase {
    const char *name;
    int64_t t0_us, t1_us;
    long long bytes, ticks;
    double frames[65536];
    int nframes;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double percentile(double *v, int n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(int)(q * (n - 1) + 0.5)];
}

/* Reads the control room's frame statistics into the phases they fall in. */
static void read_frames(const char *path, struct phase *ph, int nph)
{
    FILE *f = fopen(path, "r");
    long long start, dur;

    if (f == NULL)
        return;
    while (fscanf(f, "%lld %lld", &start, &dur) == 2)
        for (int i = 0; i < nph; i++)
            if (start >= ph[i].t0_us && start < ph[i].t1_us &&
                ph[i].nframes < (int)(sizeof ph[i].frames / sizeof ph[i].frames[0]))
                ph[i].frames[ph[i].nframes++] = (double)dur / 1000.0;
    fclose(f);
}

/* A figure of the control room's: lower is better (> 1 means within the limit). */
static void figure(struct bench_figure *f, const char *name, double v, const char *unit,
                   const char *peer, double limit)
{
    bench_figure(f, name, v, unit, peer, limit, true);
}

int bench_tui(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"rate", required_argument, NULL, 'r'},
        {"seconds", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bench_env env;
    struct drain d = {.fd = -1};
    struct winsize ws = {.ws_row = TUI_ROWS, .ws_col = TUI_COLS};
    struct phase *ph = xcalloc(2, sizeof *ph);
    struct bench_figure figs[8];
    pthread_t drainer;
    char stats[128], url[300], *cause = NULL;
    long rate = 1000, seconds = 10, next = 0;
    long clk = sysconf(_SC_CLK_TCK);
    bool json = false;
    int c, nfig = 0, code = EXIT_DONE, status = 0;
    struct bb *b;
    pid_t pid;
    int64_t warm;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'r':
            if (bench_parse_long("tui", "--rate", optarg, 1, 100000, &rate) == -1)
                return EXIT_USAGE;
            break;
        case 's':
            if (bench_parse_long("tui", "--seconds", optarg, 1, 600, &seconds) == -1)
                return EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench tui [--json] [--rate EVENTS_PER_S] [--seconds S]\n");
            return EXIT_DONE;
        default:
            cli_error("bench tui: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (bench_env_start(&env, "tui", &cause) == -1) {
        cli_error("bench tui: %s", cause);
        free(cause);
        free(ph);
        return EXIT_UNREACHABLE;
    }
    b = bb_new(env.link, "bench");
    /* Something on every list before the control room opens. */
    for (; next < 200; next++)
        if (write_story(b, next, &cause) == -1)
            goto failed;
    snprintf(stats, sizeof stats, "%s/frames.txt", env.dir);
    snprintf(url, sizeof url, "unix://%s", env.addr.path);
    pid = forkpty(&d.fd, NULL, NULL, &ws);
    if (pid == -1) {
        cause = xasprintf("forkpty: %s", strerror(errno));
        goto failed;
    }
    if (pid == 0) {
        char data[200];

        snprintf(data, sizeof data, "%s/room", env.dir);
        setenv("REDIS_URL", url, 1);
        setenv("NEWSROOM_DATA_DIR", data, 1);
        setenv("NEWSROOM_UI_STATS", stats, 1);
        setenv("TERM", "xterm-256color", 1);
        setenv("LANG", "C.UTF-8", 1);
        unsetenv("NEWSROOM_CONFIG");
        unsetenv("NO_COLOR");
        execl("/proc/self/exe", "newsroom", "--attach", (char *)NULL);
        _exit(127);
    }
    atomic_init(&d.bytes, 0);
    atomic_init(&d.stop, 0);
    pthread_create(&drainer, NULL, drain_main, &d);
    /* Warm-up: the first snapshots drawn (not synchronisation: the figures start after). */
    warm = clock_mono_ms() + 3000;
    while (clock_mono_ms() < warm && waitpid(pid, &status, WNOHANG) == 0)
        clock_sleep_ms(50, NULL);
    if (waitpid(pid, &status, WNOHANG) != 0) {
        cause = xasprintf("the control room ended during its start (status %d)", status);
        pthread_join(drainer, NULL);
        goto failed;
    }

    /* Load: `rate` events a second, written in 10 ms slices. */
    ph[0].name = "load";
    ph[0].t0_us = clock_mono_us();
    ph[0].bytes = atomic_load(&d.bytes);
    ph[0].ticks = cpu_ticks(pid);
    for (long slice = 0; slice < seconds * 100; slice++) {
        int64_t due = ph[0].t0_us + (slice + 1) * 10000;
        long want = rate * (slice + 1) / 100 - rate * slice / 100;

        for (long k = 0; k < want; k++)
            if (write_story(b, next++, &cause) == -1)
                goto stop_child;
        while (clock_mono_us() < due)
            clock_sleep_ms((due - clock_mono_us()) / 1000 + 1, NULL);
    }
    ph[0].t1_us = clock_mono_us();
    ph[0].bytes = atomic_load(&d.bytes) - ph[0].bytes;
    ph[0].ticks = cpu_ticks(pid) - ph[0].ticks;

    /* Idle: nothing happens for as long. */
    ph[1].name = "idle";
    ph[1].t0_us = clock_mono_us();
    ph[1].bytes = atomic_load(&d.bytes);
    ph[1].ticks = cpu_ticks(pid);
    clock_sleep_ms(seconds * 1000, NULL);
    ph[1].t1_us = clock_mono_us();
    ph[1].bytes = atomic_load(&d.bytes) - ph[1].bytes;
    ph[1].ticks = cpu_ticks(pid) - ph[1].ticks;

stop_child:
    if (write(d.fd, "q", 1) != 1)
        kill(pid, SIGTERM);
    warm = clock_mono_ms() + 10000;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (clock_mono_ms() > warm) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        clock_sleep_ms(20, NULL);
    }
    atomic_store(&d.stop, 1);
    pthread_join(drainer, NULL);
    close(d.fd);
    if (cause != NULL)
        goto failed;
    read_frames(stats, ph, 2);
    for (int i = 0; i < 2; i++) {
        double secs = (double)(ph[i].t1_us - ph[i].t0_us) / 1e6;
        double cpu = ph[i].ticks >= 0 ? (double)ph[i].ticks / (double)clk / secs * 100 : -1;
        char name[64];
        bool load = i == 0;

        snprintf(name, sizeof name, "%s: to the terminal", ph[i].name);
        figure(&figs[nfig++], name, (double)ph[i].bytes / secs / 1024, "KB/s",
               load ? "aim (at most)" : NULL, 30);
        snprintf(name, sizeof name, "%s: CPU of the process", ph[i].name);
        figure(&figs[nfig++], name, cpu, "% of a core", "aim (at most)", load ? 15 : 1);
        snprintf(name, sizeof name, "%s: frame p50 (%d frames)", ph[i].name, ph[i].nframes);
        figure(&figs[nfig++], name, percentile(ph[i].frames, ph[i].nframes, 0.5), "ms", NULL, 0);
        snprintf(name, sizeof name, "%s: frame p99", ph[i].name);
        figure(&figs[nfig++], name, percentile(ph[i].frames, ph[i].nframes, 0.99), "ms",
               "aim (at most)", 5);
    }
    if (!json)
        printf("newsroom --attach in a %dx%d pseudo-terminal (TERM=xterm-256color, UTF-8) on a "
               "private redis-server; %ld events/s for %ld s, then idle for %ld s; the child "
               "exited with status %d\n",
               TUI_COLS, TUI_ROWS, rate, seconds, seconds, status);
    bench_report("tui", figs, nfig, json);
    bb_free(b);
    bench_env_stop(&env);
    free(ph);
    return code;

failed:
    cli_error("bench tui: %s", cause);
    free(cause);
    bb_free(b);
    bench_env_stop(&env);
    free(ph);
    return EXIT_UNREACHABLE;
}
