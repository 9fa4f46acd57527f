/*
 * bench_queue.c - `newsroom bench queue [--n N] [--workers W] [--batch B] [--repeat R]
 * [--no-peer] [--json]`: tasks per second through the work queue (queue.h), enqueue -> dequeue
 * -> ack, and the Redis commands each task costs; in the same run, BullMQ (the npm package) on
 * the same Redis with the same task count, worker concurrency and batch size, and the ratios.
 *
 * Each run: one producer thread enqueues N small tasks while W worker threads, each with its
 * own link, take and complete them (queue_ack_next: the ack and the next read share a round
 * trip); the clock runs from the first enqueue to the N-th ack. Two shapes: "1 by 1", where the
 * producer enqueues one task per call (queue_enqueue; BullMQ: each queue.add() awaited), and
 * "batches of B" (queue_enqueue_batch; BullMQ: queue.addBulk()), where our workers also complete
 * what they hold and take up to PREFETCH (16) more tasks per round trip (queue_ack_take; BullMQ's
 * Worker has no batch take, so its workers stay one job per slot). The 1-by-1 producer cannot go
 * faster than one round trip per task, so the bench also measures that ceiling: sequential
 * PINGs per second from one client. The peer is bench/peers/bullmq_bench.mjs: one producer and
 * one Worker of concurrency W with a no-op processor. Runs alternate ours and the peer's, R
 * times; each figure is the median.
 *
 * Commands per task: the delta of INFO commandstats calls (all commands, those inside scripts
 * included; INFO left out) over the timed window, divided by N, counted the same way on both
 * sides. The count is server-wide, so other clients of the same Redis inflate it: run the bench
 * on a quiet server.
 *
 * Redis: the configured one (REDIS_URL and friends, $NEWSROOM_CONFIG or the XDG file; the
 * global --config flag does not reach benchmarks), else the embedded server on its Unix socket,
 * which BullMQ reaches through ioredis's `path`. Keys: each run's queue bench-PID-... is deleted
 * after it (its done markers expire after a minute); the peer obliterates its own queues.
 *
 * BullMQ is installed with npm into $NEWSROOM_PEERS_DIR/bullmq (default: build/peers/bullmq in
 * the source tree) when missing. Without node, npm or the network the bench says why on stderr
 * and reports its own figures with null peer fields. Main thread, plus the bench's own worker
 * threads, each with its own link.
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "store/embedded.h"
#include "store/lua_scripts.h"
#include "store/queue.h"
#include "store/rlink.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NEWSROOM_SOURCE_DIR
#define NEWSROOM_SOURCE_DIR "."
#endif

#define MAX_WORKERS 64
/* Batches row: the tasks a worker completes and takes in one round trip. */
#define PREFETCH        16
#define PEER_TIMEOUT_MS (10 * 60 * 1000)
#define BULLMQ_SPEC     "bullmq@5"

struct run {
    const struct redis_addr *addr;
    const struct rlink_options *opt;
    const char *name;
    int n, workers, batch;
    atomic_int ready;
    atomic_int go;
    atomic_int acked;
    atomic_int failed;
    pthread_mutex_t mu; /* guards error */
    char *error;
};

struct thread_arg {
    struct run *run;
    int index; /* -1 for the producer */
    pthread_t th;
};

static bool stopping(struct run *run)
{
    return cli_stop || atomic_load(&run->failed);
}

static void set_error(struct run *run, char *cause)
{
    pthread_mutex_lock(&run->mu);
    if (run->error == NULL)
        run->error = cause;
    else
        free(cause);
    pthread_mutex_unlock(&run->mu);
    atomic_store(&run->failed, 1);
}

/* Waits, spinning on a yield, until the main thread starts the clock. */
static void await_go(struct run *run)
{
    atomic_fetch_add(&run->ready, 1);
    while (!atomic_load(&run->go) && !stopping(run))
        clock_sleep_ms(1, NULL); /* start barrier: the clock starts only after this */
}

static void *bench_thread(void *p)
{
    struct thread_arg *a = p;
    struct run *run = a->run;
    struct rlink *l = rlink_new(run->addr, run->opt);
    struct queue_options o;
    struct queue *q;
    char consumer[32], *cause = NULL;

    queue_options_default(&o);
    o.done_ttl_ms = 60000; /* the bench's done markers need not outlive it */
    snprintf(consumer, sizeof consumer, "bench-%d", a->index);
    q = queue_open(l, run->name, a->index >= 0 ? consumer : NULL, &o, &cause);
    if (q == NULL) {
        set_error(run, cause);
        atomic_fetch_add(&run->ready, 1);
        rlink_free(l);
        return NULL;
    }
    if (a->index < 0) {
        struct queue_new_task *batch = xcalloc((size_t)run->batch, sizeof *batch);

        await_go(run);
        for (int i = 0; i < run->n && !stopping(run); i += run->batch) {
            int k = run->n - i < run->batch ? run->n - i : run->batch;

            for (int j = 0; j < k; j++) {
                batch[j].type = "bench";
                batch[j].payload = json_pack("{s:i, s:s}", "n", i + j, "title", "bench");
                batch[j].priority = QUEUE_NORMAL;
            }
            if (run->batch == 1 ? queue_enqueue(q, "bench", batch[0].payload, QUEUE_NORMAL, NULL,
                                                NULL, &cause) == -1
                                : queue_enqueue_batch(q, batch, (size_t)k, NULL, &cause) == -1)
                set_error(run, cause);
            for (int j = 0; j < k; j++)
                json_decref((json_t *)batch[j].payload);
        }
        free(batch);
    } else {
        struct queue_task *t = NULL, *next = NULL;

        /* Warm up: join the group before the clock starts. */
        if (queue_dequeue(q, 0, &t, &cause) == -1)
            set_error(run, cause);
        queue_task_free(t);
        t = NULL;
        await_go(run);
        if (run->batch > 1) {
            /* Batches: each worker completes what it holds and takes up to PREFETCH more in
             * one round trip (queue_ack_take). */
            struct queue_task *held[PREFETCH], *more[PREFETCH];
            size_t nheld = 0, nmore = 0;

            while (atomic_load(&run->acked) < run->n && !stopping(run)) {
                if (queue_ack_take(q, held, nheld, PREFETCH, 100, more, &nmore, &cause) == -1) {
                    set_error(run, cause);
                    break;
                }
                atomic_fetch_add(&run->acked, (int)nheld);
                for (size_t i = 0; i < nheld; i++)
                    queue_task_free(held[i]);
                memcpy(held, more, nmore * sizeof *more);
                nheld = nmore;
            }
            for (size_t i = 0; i < nheld; i++)
                queue_task_free(held[i]);
            queue_free(q);
            rlink_free(l);
            return NULL;
        }
        while (atomic_load(&run->acked) < run->n && !stopping(run)) {
            if (t == NULL && queue_dequeue(q, 100, &t, &cause) == -1) {
                set_error(run, cause);
                break;
            }
            if (t == NULL)
                continue;
            next = NULL;
            if (queue_ack_next(q, t, NULL, NULL, 0, &next, &cause) == -1)
                set_error(run, cause);
            else
                atomic_fetch_add(&run->acked, 1);
            queue_task_free(t);
            t = next;
        }
        queue_task_free(t);
    }
    queue_free(q);
    rlink_free(l);
    return NULL;
}

/* Deletes the bench queue's keys. */
static void drop_queue(struct rlink *l, const char *name)
{
    char *cause = NULL;
    redisReply *r;

    r = rlink_command(l, &cause, "DEL %s%s:breaking %s%s:normal %s%s:delayed %s%s:dead",
                      QUEUE_PREFIX, name, QUEUE_PREFIX, name, QUEUE_PREFIX, name, QUEUE_PREFIX,
                      name);
    freeReplyObject(r);
    free(cause);
    cause = NULL;
    r = rlink_command(l, &cause, "SREM %s %s", QUEUE_NAMES_KEY, name);
    freeReplyObject(r);
    free(cause);
}

/* Our run: fills *tps and *cpt, or returns -1 after printing why. */
static int run_ours(struct rlink *l, const struct redis_addr *addr, const struct rlink_options *opt,
                    int n, int workers, int batch, double *tps, double *cpt)
{
    static const struct lua_script *const preload[] = {
        &lua_queue_open, &lua_queue_dequeue, &lua_queue_ack, &lua_queue_nack, &lua_queue_enqueue};
    struct run run = {.addr = addr, .opt = opt, .n = n, .workers = workers, .batch = batch};
    struct thread_arg *args = xcalloc((size_t)workers + 1, sizeof *args);
    char name[64], *cause = NULL;
    long long calls0, calls1;
    int64_t t0, t1;
    int rc = 0;

    snprintf(name, sizeof name, "bench-%d-%lld", (int)getpid(), (long long)clock_wall_ms());
    run.name = name;
    pthread_mutex_init(&run.mu, NULL);
    for (size_t i = 0; i < sizeof preload / sizeof preload[0]; i++) {
        redisReply *r = rlink_command(l, &cause, "SCRIPT LOAD %s", preload[i]->body);

        if (r == NULL) {
            cli_error("bench queue: %s", cause);
            free(cause);
            free(args);
            return -1;
        }
        freeReplyObject(r);
    }
    for (int i = 0; i <= workers; i++) {
        args[i].run = &run;
        args[i].index = i == workers ? -1 : i;
        pthread_create(&args[i].th, NULL, bench_thread, &args[i]);
    }
    while (atomic_load(&run.ready) < workers + 1 && !stopping(&run))
        clock_sleep_ms(1, NULL); /* start barrier */
    calls0 = bench_command_calls(l);
    t0 = clock_mono_us();
    atomic_store(&run.go, 1);
    for (int i = 0; i <= workers; i++)
        pthread_join(args[i].th, NULL);
    t1 = clock_mono_us();
    calls1 = bench_command_calls(l);
    if (run.error != NULL || cli_stop || atomic_load(&run.acked) != n) {
        cli_error("bench queue: %s", run.error != NULL ? run.error
                                     : cli_stop        ? "interrupted"
                                                       : "tasks went missing");
        rc = -1;
    } else {
        *tps = (double)n / ((double)(t1 - t0) / 1e6);
        *cpt = calls0 >= 0 && calls1 >= 0 ? (double)(calls1 - calls0) / n : -1;
    }
    drop_queue(l, name);
    free(run.error);
    pthread_mutex_destroy(&run.mu);
    free(args);
    return rc;
}

/* Runs argv (argv[0] looked up on PATH) with extra environment entries, its stdout into *out
 * (or onto our stderr when out is NULL, so that --json output stays clean), its stderr onto
 * ours, stdin from /dev/null; kills it after timeout_ms. Returns its exit status, or -1 with
 * *cause. */
static int run_child(const char *const argv[], char *const env[], char **out, int timeout_ms,
                     char **cause)
{
    int fds[2], status = 0;
    size_t len = 0, cap = 4096;
    char *buf = NULL;
    int64_t deadline = clock_mono_ms() + timeout_ms;
    bool timed_out = false;
    pid_t pid;

    if (pipe(fds) == -1) {
        *cause = xasprintf("pipe: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid == -1) {
        *cause = xasprintf("fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        dup2(devnull, 0);
        dup2(out != NULL ? fds[1] : 2, 1);
        close(fds[0]);
        close(fds[1]);
        for (int i = 0; env != NULL && env[i] != NULL; i++)
            putenv(env[i]);
        execvp(argv[0], (char *const *)(void *)argv);
        fprintf(stderr, "newsroom: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    buf = xmalloc(cap);
    for (;;) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int64_t left = deadline - clock_mono_ms();
        ssize_t got;

        if (left <= 0 || cli_stop) {
            timed_out = true;
            break;
        }
        if (poll(&p, 1, left > 1000 ? 1000 : (int)left) <= 0)
            continue;
        if (len + 1024 > cap)
            buf = xrealloc(buf, cap *= 2);
        got = read(fds[0], buf + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    buf[len] = '\0';
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    if (timed_out) {
        *cause = xasprintf("%s %s", argv[0], cli_stop ? "was interrupted" : "took too long");
        free(buf);
        return -1;
    }
    if (out != NULL)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Makes sure bullmq is installed in dir. Returns 0, or -1 with *cause. */
static int ensure_bullmq(const char *dir, char **cause)
{
    return bench_peer_install(dir, "bullmq", BULLMQ_SPEC, cause);
}

/* Figures of one shape: [0] one task per call, [1] batches. */
enum { ONE_BY_ONE, BATCHED, SHAPES };

struct figures {
    double tps[SHAPES], cpt[SHAPES];
};

/* The peer's runs: fills *f and version, or returns -1 with *cause. */
static int run_bullmq(const struct redis_addr *addr, int n, int workers, int batch,
                      struct figures *f, char *version, size_t vsize, char **cause)
{
    static const char *const shape_keys[SHAPES] = {"single", "batch_run"};
    char *dir = bench_peer_dir("bullmq"), *node = paths_which("node");
    char *script = xasprintf("%s/bench/peers/bullmq_bench.mjs", NEWSROOM_SOURCE_DIR);
    char ns[16], ws[16], bs[16], *out = NULL;
    char *env[8] = {NULL};
    int ne = 0, rc = -1;
    struct stat st;
    json_t *j = NULL;

    if (node == NULL) {
        *cause = xasprintf("node is not installed (Debian: apt-get install nodejs)");
        goto done;
    }
    if (stat(script, &st) != 0) {
        *cause = xasprintf("the peer's script %s is missing (the bench runs it from the source "
                           "tree the binary was built from)",
                           script);
        goto done;
    }
    if (ensure_bullmq(dir, cause) == -1)
        goto done;
    if (addr->transport == REDIS_UNIX) {
        env[ne++] = xasprintf("BENCH_REDIS_PATH=%s", addr->path);
    } else {
        env[ne++] = xasprintf("BENCH_REDIS_HOST=%s", addr->host);
        env[ne++] = xasprintf("BENCH_REDIS_PORT=%d", addr->port);
    }
    if (addr->user[0] != '\0')
        env[ne++] = xasprintf("BENCH_REDIS_USER=%s", addr->user);
    if (addr->password[0] != '\0')
        env[ne++] = xasprintf("BENCH_REDIS_PASSWORD=%s", addr->password);
    env[ne++] = xasprintf("BENCH_REDIS_DB=%d", addr->db);
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(ws, sizeof ws, "%d", workers);
    snprintf(bs, sizeof bs, "%d", batch);
    {
        const char *argv[] = {node, script, dir, ns, ws, bs, NULL};

        rc = run_child(argv, env, &out, PEER_TIMEOUT_MS, cause);
    }
    if (rc == -1)
        goto done;
    rc = -1;
    {
        /* The report is the last line. */
        char *last = out + strlen(out);

        while (last > out && (last[-1] == '\n' || last[-1] == '\r'))
            *--last = '\0';
        while (last > out && last[-1] != '\n')
            last--;
        j = json_loads(last, 0, NULL);
    }
    if (j == NULL || !json_is_true(json_object_get(j, "ok"))) {
        const char *err = json_string_value(json_object_get(j, "error"));

        *cause = xasprintf("the BullMQ run failed: %s",
                           err != NULL ? err : "no report from bullmq_bench.mjs");
        goto done;
    }
    for (int k = 0; k < SHAPES; k++) {
        json_t *x = json_object_get(j, shape_keys[k]);

        f->tps[k] = json_number_value(json_object_get(x, "tasks_per_s"));
        f->cpt[k] = json_number_value(json_object_get(x, "commands_per_task"));
        if (!(f->tps[k] > 0)) {
            *cause = xasprintf("the BullMQ run reported no throughput");
            goto done;
        }
    }
    snprintf(version, vsize, "%s",
             json_string_value(json_object_get(j, "version")) != NULL
                 ? json_string_value(json_object_get(j, "version"))
                 : "?");
    rc = 0;
done:
    for (int i = 0; i < ne; i++) {
        memset(env[i], 0, strlen(env[i])); /* one of them holds the password */
        free(env[i]);
    }
    json_decref(j);
    free(out);
    free(script);
    free(node);
    free(dir);
    return rc;
}

/* An int option through bench_parse_long(). */
static int parse_int(const char *what, const char *s, long lo, long hi, int *out)
{
    long v;

    if (bench_parse_long("queue", what, s, lo, hi, &v) == -1)
        return -1;
    *out = (int)v;
    return 0;
}

#define MAX_REPEAT 21

int bench_queue(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},          {"n", required_argument, NULL, 'n'},
        {"workers", required_argument, NULL, 'w'}, {"batch", required_argument, NULL, 'b'},
        {"repeat", required_argument, NULL, 'r'},  {"no-peer", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int n = 20000, workers = 4, batch = 100, repeat = 3, c, code = EXIT_DONE, runs = 0;
    int peer_runs = 0;
    bool json = false, peer = true, embedded = false, config_error = false;
    struct config *cfg;
    struct redis_addr addr;
    struct rlink_options opt;
    struct embedded *emb = NULL;
    struct rlink *l = NULL;
    struct bench_figure figs[5];
    double ours[SHAPES * 2][MAX_REPEAT], theirs[SHAPES * 2][MAX_REPEAT], pings;
    char version[32] = "", peer_name[48], client[64], *cause = NULL, *data_dir = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            if (parse_int("--n", optarg, 100, 10000000, &n) == -1)
                return EXIT_USAGE;
            break;
        case 'w':
            if (parse_int("--workers", optarg, 1, MAX_WORKERS, &workers) == -1)
                return EXIT_USAGE;
            break;
        case 'b':
            if (parse_int("--batch", optarg, 2, QUEUE_BATCH_MAX, &batch) == -1)
                return EXIT_USAGE;
            break;
        case 'r':
            if (parse_int("--repeat", optarg, 1, MAX_REPEAT, &repeat) == -1)
                return EXIT_USAGE;
            break;
        case 'P':
            peer = false;
            break;
        case 'h':
            printf("usage: newsroom bench queue [--json] [--n N] [--workers W] [--batch B] "
                   "[--repeat R] [--no-peer]\n");
            return EXIT_DONE;
        default:
            cli_error("bench queue: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("bench queue: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    cfg = config_resolve(NULL, &cause);
    if (cfg == NULL || config_redis_addr(cfg, &addr, &embedded, &cause) == -1) {
        cli_error("bench queue: %s", cause);
        free(cause);
        config_free(cfg);
        return EXIT_USAGE;
    }
    if (embedded) {
        data_dir = config_data_dir(cfg);
        if (paths_mkdir_p(data_dir, 0700, &cause) == -1)
            config_error = true;
        else
            emb = embedded_start(cfg, data_dir, &addr, &config_error, &cause);
        if (emb == NULL) {
            cli_error("bench queue: cannot start the embedded Redis: %s", cause);
            code = config_error ? EXIT_USAGE : EXIT_UNREACHABLE;
            goto out;
        }
    }
    rlink_options_from_config(&opt, cfg);
    opt.client_name = embedded_client_name("bench", client, sizeof client);
    l = rlink_new(&addr, &opt);
    if (rlink_ensure(l, &cause) == -1) {
        cli_error("bench queue: %s", cause);
        code = EXIT_UNREACHABLE;
        goto out;
    }
    pings = bench_ping_rate(l, n < 20000 ? n : 20000);
    for (int r = 0; r < repeat; r++) {
        struct figures f;

        /* Ours and the peer's alternate, so that both see the same machine load. */
        for (int k = 0; k < SHAPES; k++)
            if (run_ours(l, &addr, &opt, n, workers, k == ONE_BY_ONE ? 1 : batch, &f.tps[k],
                         &f.cpt[k]) == -1) {
                code = rlink_connected(l) ? EXIT_REFUSED : EXIT_UNREACHABLE;
                goto out;
            }
        for (int k = 0; k < SHAPES; k++) {
            ours[k][runs] = f.tps[k];
            ours[SHAPES + k][runs] = f.cpt[k];
        }
        runs++;
        if (!peer)
            continue;
        if (run_bullmq(&addr, n, workers, batch, &f, version, sizeof version, &cause) == -1) {
            cli_error("bench queue: no peer figures: %s", cause);
            free(cause);
            cause = NULL;
            peer = false;
            continue;
        }
        for (int k = 0; k < SHAPES; k++) {
            theirs[k][peer_runs] = f.tps[k];
            theirs[SHAPES + k][peer_runs] = f.cpt[k];
        }
        peer_runs++;
    }
    snprintf(peer_name, sizeof peer_name, "BullMQ %s", version);
    for (int i = 0; i < 4; i++) {
        bool have = peer_runs > 0;

        figs[i].value = bench_median(ours[i], runs);
        figs[i].unit = i < SHAPES ? "tasks/s" : "commands";
        figs[i].peer = have ? peer_name : NULL;
        figs[i].peer_value = have ? bench_median(theirs[i], peer_runs) : 0;
        if (!have)
            figs[i].ratio = 0;
        else if (i < SHAPES)
            figs[i].ratio = figs[i].value / figs[i].peer_value;
        else /* fewer is better */
            figs[i].ratio = figs[i].value > 0 ? figs[i].peer_value / figs[i].value : 0;
    }
    snprintf(figs[0].name, sizeof figs[0].name, "tasks/s, 1 by 1");
    snprintf(figs[1].name, sizeof figs[1].name, "tasks/s, batches of %d", batch);
    snprintf(figs[2].name, sizeof figs[2].name, "commands/task, 1 by 1");
    snprintf(figs[3].name, sizeof figs[3].name, "commands/task, batches");
    snprintf(figs[4].name, sizeof figs[4].name, "PING round trips/s");
    figs[4].value = pings;
    figs[4].unit = "ping/s";
    figs[4].peer = NULL;
    figs[4].peer_value = 0;
    figs[4].ratio = 0;
    if (!json)
        printf("%d tasks enqueue -> dequeue -> ack, 1 producer, %d worker%s, batches of %d, on "
               "%s;\nmedian of %d run%s each\n",
               n, workers, workers == 1 ? "" : "s", batch, rlink_address(l), runs,
               runs == 1 ? "" : "s");
    bench_report("queue", figs, 5, json);
    if (!json)
        printf(
            "\ncommands/task: INFO commandstats calls in the timed window per task, fewer is "
            "better\n(its ratio is BullMQ's over ours). PING round trips/s, one client: the "
            "most a\nproducer that waits for each enqueue (1 by 1) can reach here. In batches our "
            "workers take up to %d\ntasks per round trip (queue_ack_take).\n",
            PREFETCH);
out:
    free(cause);
    rlink_free(l);
    embedded_release(emb);
    free(data_dir);
    config_free(cfg);
    return code;
}
