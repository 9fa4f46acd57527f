/*
 * bench_tui.c - `newsroom bench tui`: what the control room costs. The control room
 * (`newsroom --attach`, this very binary) runs in a pseudo-terminal of 120x40 against a
 * private redis-server seeded with stories, 5,000 of them waiting for review (--waiting), with
 * the review pane open (it has the focus from the start). First the keystrokes to approve the
 * top story from a fresh start are counted (a, then y: keys are sent one at a time until the
 * oldest waiting story is APPROVED in Redis; aim: at most 3). Then three phases as long each:
 * load (blackboard events at a fixed rate: new stories written, each one event), filter
 * typing (a producer typing a story id into the review pane's filter at 8 keys a second, the
 * whole queue searched on the server at every key, then Ctrl-U and again), idle. For each
 * phase: the bytes the control room wrote to the terminal per second, the CPU it used (user
 * and system time of the whole process, every thread, from /proc/PID/stat) as a share of one
 * core, and its frame times (p50, p99) from the frame statistics it writes on exit
 * ($NEWSROOM_UI_STATS). The figures are set against the aims as limits: idle under 1% of a
 * core; under load and typing at most 15% of a core, at most 30 KB/s to the terminal; p99
 * frame under 5 ms.
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

/* Wire story i of seed as a news item with id PREFIX-i, or NULL with *cause. */
static struct news_item *bench_item(uint64_t seed, long i, const char *prefix, char **cause)
{
    json_t *j = wire_story(seed, i, NULL, NULL);
    struct news_item *it;
    char id[64];

    snprintf(id, sizeof id, "%s-%08ld", prefix, i);
    json_object_set_new(j, "id", json_string(id));
    it = news_item_from_json(j, cause);
    json_decref(j);
    return it;
}

/* Writes item it (taken: freed) in status st with extra body fields (borrowed, may be NULL). */
static int bench_write(struct bb *b, struct news_item *it, const json_t *extra, int st,
                       char **cause)
{
    char existing[NEWS_ID_MAX + 1];
    int rc;

    if (it == NULL)
        return -1;
    rc = bb_write(b, it, extra, (enum bb_status)st, false, existing, cause);
    news_item_free(it);
    return rc == BB_OK || rc == BB_DUPLICATE ? 0 : -1;
}

/* Writes story i of the bench's stream (one blackboard event). */
static int write_story(struct bb *b, long i, char **cause)
{
    return bench_write(b, bench_item(77, i, "tui", cause), NULL, BB_PENDING, cause);
}

/* Writes story i of the review queue, waiting (REVIEWING) with a package and a QA verdict. */
static int write_waiting(struct bb *b, long i, char **cause)
{
    json_t *extra = json_pack("{s:{s:s, s:f}, s:[{s:i, s:f, s:b}]}", "package", "kind",
                              "storyboard", "duration_s", 40.0 + (double)(i % 20), "qa", "round",
                              1, "score", 6.0 + (double)(i % 40) / 10.0, "passed", 1);
    int rc = bench_write(b, bench_item(78, i, "wait", cause), extra, BB_REVIEWING, cause);

    json_decref(extra);
    return rc;
}

/* The oldest story waiting for review, into id (empty when none). */
static void oldest_waiting(struct rlink *l, char *id, size_t size)
{
    char *cause = NULL;
    redisReply *r = rlink_command(l, &cause, "ZRANGE %s 0 0", BB_PREFIX "st:REVIEWING");

    id[0] = '\0';
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1)
        snprintf(id, size, "%s", r->element[0]->str);
    if (r != NULL)
        freeReplyObject(r);
    free(cause);
}

/* Whether story id is APPROVED. */
static bool approved(struct bb *b, const char *id)
{
    struct bb_item *it = NULL;
    char *cause = NULL;
    bool yes = bb_read(b, id, &it, &cause) == BB_OK && it->status == BB_APPROVED;

    bb_item_free(it);
    free(cause);
    return yes;
}

/* Sends the keys a producer presses to approve the story on top of the review queue, one at a
 * time: each but the last is given until the control room draws its answer (bytes reach the
 * terminal), at most 2 s; after the last, the story must be APPROVED in Redis within 5 s.
 * Returns how many keys it took, or -1 when it was not approved. */
static int keys_to_approve(struct drain *d, struct bb *b, const char *top)
{
    static const char keys[] = {'a', 'y'};

    for (size_t k = 0; k < sizeof keys; k++) {
        long long before = atomic_load(&d->bytes);
        int64_t end = clock_mono_ms() + (k + 1 < sizeof keys ? 2000 : 5000);

        if (write(d->fd, &keys[k], 1) != 1)
            return -1;
        while (clock_mono_ms() < end) {
            if (approved(b, top))
                return (int)k + 1;
            if (k + 1 < sizeof keys && atomic_load(&d->bytes) > before)
                break; /* the question is on the screen */
            clock_sleep_ms(10, NULL);
        }
    }
    return approved(b, top) ? (int)sizeof keys : -1;
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
        {"json", no_argument, NULL, 'j'},          {"rate", required_argument, NULL, 'r'},
        {"seconds", required_argument, NULL, 's'}, {"waiting", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct bench_env env;
    struct drain d = {.fd = -1};
    struct winsize ws = {.ws_row = TUI_ROWS, .ws_col = TUI_COLS};
    struct phase *ph;
    struct bench_figure figs[16];
    pthread_t drainer;
    char stats[128], url[300], *cause = NULL;
    long rate = 1000, seconds = 10, next = 0, waiting = 5000;
    char top[NEWS_ID_MAX + 1];
    int nkeys = -1;
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
        case 'w':
            if (bench_parse_long("tui", "--waiting", optarg, 1, 100000, &waiting) == -1)
                return EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench tui [--json] [--rate EVENTS_PER_S] [--seconds S] "
                   "[--waiting N]\n");
            return EXIT_DONE;
        default:
            cli_error("bench tui: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    ph = xcalloc(3, sizeof *ph); /* after the options: --help and bad ones leave nothing */
    if (bench_env_start(&env, "tui", &cause) == -1) {
        cli_error("bench tui: %s", cause);
        free(cause);
        free(ph);
        return EXIT_UNREACHABLE;
    }
    b = bb_new(env.link, "bench");
    /* Something on every list before the control room opens, and the review queue. */
    for (; next < 200; next++)
        if (write_story(b, next, &cause) == -1)
            goto failed;
    for (long i = 0; i < waiting; i++)
        if (write_waiting(b, i, &cause) == -1)
            goto failed;
    oldest_waiting(env.link, top, sizeof top);
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

    /* From a fresh start: the keys to approve the top story. */
    nkeys = keys_to_approve(&d, b, top);

    /* Load: `rate` events a second, written in 10 ms slices, the review pane open. */
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

    /* Filter typing: "/" then a story id at 8 keys a second, Ctrl-U, again; Esc at the end. */
    ph[1].name = "filter typing";
    ph[1].t0_us = clock_mono_us();
    ph[1].bytes = atomic_load(&d.bytes);
    ph[1].ticks = cpu_ticks(pid);
    {
        static const char typed[] = "wait-000042";
        size_t k = 0;

        if (write(d.fd, "/", 1) != 1)
            goto stop_child;
        for (long key = 0; key < seconds * 8; key++) {
            int64_t due = ph[1].t0_us + (key + 1) * 125000;
            char ch = k < sizeof typed - 1 ? typed[k] : '\x15'; /* Ctrl-U */

            k = k < sizeof typed - 1 ? k + 1 : 0;
            if (write(d.fd, &ch, 1) != 1)
                goto stop_child;
            while (clock_mono_us() < due)
                clock_sleep_ms((due - clock_mono_us()) / 1000 + 1, NULL);
        }
        if (write(d.fd, "\033", 1) != 1)
            goto stop_child;
    }
    ph[1].t1_us = clock_mono_us();
    ph[1].bytes = atomic_load(&d.bytes) - ph[1].bytes;
    ph[1].ticks = cpu_ticks(pid) - ph[1].ticks;

    /* Idle: nothing happens for as long. */
    ph[2].name = "idle";
    ph[2].t0_us = clock_mono_us();
    ph[2].bytes = atomic_load(&d.bytes);
    ph[2].ticks = cpu_ticks(pid);
    clock_sleep_ms(seconds * 1000, NULL);
    ph[2].t1_us = clock_mono_us();
    ph[2].bytes = atomic_load(&d.bytes) - ph[2].bytes;
    ph[2].ticks = cpu_ticks(pid) - ph[2].ticks;

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
    read_frames(stats, ph, 3);
    figure(&figs[nfig++], "keystrokes to approve the top story from a fresh start",
           nkeys > 0 ? nkeys : 99, "keys", "aim (at most)", 3);
    for (int i = 0; i < 3; i++) {
        double secs = (double)(ph[i].t1_us - ph[i].t0_us) / 1e6;
        double cpu = ph[i].ticks >= 0 ? (double)ph[i].ticks / (double)clk / secs * 100 : -1;
        char name[64];
        bool idle = i == 2;

        snprintf(name, sizeof name, "%s: to the terminal", ph[i].name);
        figure(&figs[nfig++], name, (double)ph[i].bytes / secs / 1024, "KB/s",
               idle ? NULL : "aim (at most)", 30);
        snprintf(name, sizeof name, "%s: CPU of the process", ph[i].name);
        figure(&figs[nfig++], name, cpu, "% of a core", "aim (at most)", idle ? 1 : 15);
        snprintf(name, sizeof name, "%s: frame p50 (%d frames)", ph[i].name, ph[i].nframes);
        figure(&figs[nfig++], name, percentile(ph[i].frames, ph[i].nframes, 0.5), "ms", NULL, 0);
        snprintf(name, sizeof name, "%s: frame p99", ph[i].name);
        figure(&figs[nfig++], name, percentile(ph[i].frames, ph[i].nframes, 0.99), "ms",
               "aim (at most)", 5);
    }
    if (!json)
        printf("newsroom --attach in a %dx%d pseudo-terminal (TERM=xterm-256color, UTF-8) on a "
               "private redis-server with %ld stories waiting for review, the review pane open; "
               "%ld events/s for %ld s, filter typing at 8 keys/s for %ld s, then idle for %ld "
               "s; the child exited with status %d\n",
               TUI_COLS, TUI_ROWS, waiting, rate, seconds, seconds, seconds, status);
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
