/*
 * bench_observe.c - `newsroom bench observe`: what observability costs and sustains.
 *
 * Exporter: two threads make trace events through the agents' calls (trace.h: per unit a
 * model call's generation-create with a 1.6 KB prompt, its generation-update, a decision) as
 * fast as they can, into a tracer whose queue holds them all, sending to a local ingestion
 * endpoint (libmicrohttpd in a child process, answering 207 at once without parsing: the figure
 * is the exporter's, not a server's): events delivered per second from the first push to the last
 * delivery, bytes per second, and the cost of one call on the agent's thread. The peer is the
 * event rate the whole pipeline makes at zero model latency (from the traced run below), so
 * the ratio is the exporter's headroom.
 *
 * Memory bound: the endpoint stops answering (Langfuse down), the queue is bounded at 8 MiB,
 * and ten times that is pushed: the most the queue ever held against its bound, the events
 * dropped (oldest first), and the process's resident memory growth against the bound plus one
 * batch in flight.
 *
 * Pipeline: `bench pipeline`'s runs with observability off and on in the same run, in pairs
 * back to back (--rounds, 7 by default; the side that goes first alternates from pair to pair):
 * on is tracing to the local endpoint with each story's events kept in Redis for ctl trace, and
 * /metrics scraped every second. At zero model latency the pipeline is bound by CPU, so
 * "slower" is measured both as CPU per story (this process, where the agents and the exporter
 * run, plus the redis-server, from INFO cpu) and as stories per second, each as the median over
 * the pairs of on against off: a change in the shared machine's load between pairs cancels out
 * of a pair's ratio. Both are printed against the 3 % aim. Also Redis commands sent per story
 * (the aim of 40), the infrastructure share of ingest-to-review time at the sim's latencies (the
 * aim of 2 %), and stories per second through the pipeline at those latencies, on against off.
 * Observability starts before a run's clocks (its start-up is paid once per process), and the
 * scraper's own CPU (Prometheus's part) is left out. Beside these whole-run figures, which the
 * machine's load moves by a few percent, observability's own CPU as measured where it runs:
 * the exporter's and the metrics server's threads, and the tracing calls (events per story
 * times one call's CPU from the exporter run, whose events are larger than the pipeline's on
 * average). --part and --side run one part or one side alone, to profile it.
 *
 * The paired figures come with their quartiles over the windows, so a reader sees how far the
 * machine's load moved them. What the load does not move: --part instructions (not in all)
 * runs pairs of pipeline runs (3, or --rounds) in children of this binary under valgrind's
 * callgrind (the redis-server each starts traced too, the endpoint left out) and compares the
 * instructions per story, on against off, with the same 3 % aim, over the same windows as the
 * timed pairs: one pair alone moves by a couple of points, since how the threads interleave
 * decides how many idle polls and claim conflicts a run has; /metrics is scraped every 30 s there,
 * since a run lasts some thirty times longer, so a story pays about the scrapes it pays at full
 * speed. Instructions leave out the kernel's work (the exporter's sends, the server's appends),
 * which the CPU figures above include; and valgrind runs the threads one at a time, so the work
 * that comes with time rather than with stories (idle polls, heartbeats, reap passes) weighs more
 * per story there than at full speed, on the side that runs longer most.
 */
#include "bench.h"

#include "agents/agent.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "observe/metrics_http.h"
#include "observe/observe.h"
#include "observe/trace.h"
#include "observe/tracer.h"
#include "store/rlink.h"

#include <curl/curl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <time.h>

#define PIPELINE_ROLES                                                                             \
    "scout:1,analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,publisher:1,"                \
    "archivist:1,approver:1"
#define LATENCY_ROLES   "analyst:1,debater:3,moderator:1,writer:1,qa:1,producer:1"
#define PRODUCERS       2
#define BOUND_BYTES     (8u << 20)
#define SLOWER_AIM      0.03
#define CMDS_AIM        40.0
#define INFRA_AIM       0.02
#define SCRAPE_EVERY_MS 1000
/* Under callgrind a run of 200 stories took about a minute (55-60 s measured), against 1.5-2 s at
 * full speed: a scrape every 30 s keeps the scrapes per run near the one or two a run has at
 * full speed. */
#define CALLGRIND_SCRAPE_MS 30000
/* Pairs under callgrind unless --rounds says: one pair's share slower moved by about two points
 * from run to run (2.2 % and 4.6 % in two runs of the same build). */
#define INSTRUCTION_ROUNDS 3
#define MAX_ROUNDS         32

/* ---- the local ingestion endpoint ---- */

/* A child process, so its CPU is not counted as the exporter's: it answers 207 at once (or,
 * while stalled, holds the answer), counting requests and bytes in memory shared with us. */
struct endpoint_shared {
    atomic_int stalled, ready;
    atomic_uint port;
    atomic_long requests;
    atomic_llong bytes;
};

struct endpoint {
    struct endpoint_shared *sh;
    pid_t pid;
    unsigned port;
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    MHD_add_response_header(r, "Content-Type", "application/json");
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    static int first;
    struct endpoint_shared *sh = cls;

    (void)version;
    (void)upload;
    (void)method;
    if (*con_cls == NULL) {
        *con_cls = &first;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        atomic_fetch_add(&sh->bytes, (long long)*upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/api/public/health") == 0)
        return answer(c, 200, "{\"status\":\"OK\",\"version\":\"bench\"}");
    while (atomic_load(&sh->stalled))
        clock_sleep_ms(1, NULL);
    atomic_fetch_add(&sh->requests, 1);
    return answer(c, 207, "{\"successes\":[],\"errors\":[]}");
}

/* Forks the endpoint; before any thread of ours exists. */
static int endpoint_start(struct endpoint *e, char **cause)
{
    int64_t deadline = clock_mono_ms() + 10000;

    memset(e, 0, sizeof *e);
    e->sh = mmap(NULL, sizeof *e->sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (e->sh == MAP_FAILED) {
        e->sh = NULL;
        *cause = xstrdup("cannot map the endpoint's shared counters");
        return -1;
    }
    memset(e->sh, 0, sizeof *e->sh);
    e->pid = fork();
    if (e->pid == 0) {
        struct MHD_Daemon *d;
        const union MHD_DaemonInfo *info;

        /* The parent's handlers came with the fork: SIGTERM ends this one. */
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                             NULL, NULL, on_request, e->sh, MHD_OPTION_END);
        info = d != NULL ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        if (info == NULL)
            _exit(1);
        atomic_store(&e->sh->port, info->port);
        atomic_store(&e->sh->ready, 1);
        for (;;)
            pause(); /* until SIGTERM */
    }
    if (e->pid < 0) {
        *cause = xasprintf("cannot fork the endpoint: %s", strerror(errno));
        return -1;
    }
    while (!atomic_load(&e->sh->ready)) {
        if (clock_mono_ms() > deadline || waitpid(e->pid, NULL, WNOHANG) == e->pid) {
            *cause = xstrdup("the local ingestion endpoint did not start");
            e->pid = 0;
            return -1;
        }
        clock_sleep_ms(5, NULL);
    }
    e->port = atomic_load(&e->sh->port);
    return 0;
}

static void endpoint_stall(struct endpoint *e, bool stalled)
{
    atomic_store(&e->sh->stalled, stalled ? 1 : 0);
}

static void endpoint_stop(struct endpoint *e)
{
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        waitpid(e->pid, NULL, 0);
    }
    if (e->sh != NULL)
        munmap(e->sh, sizeof *e->sh);
    memset(e, 0, sizeof *e);
}

/* ---- event producers ---- */

static char prompt[1600];
#define PROMPT_TEXT "The council voted 7-2 on Tuesday to \"pause\" the transit plan.\n"

struct producer {
    long units;
    int64_t push_us; /* time spent inside the tracing calls */
    pthread_t thread;
};

/* One unit: a model call (create and update) and a decision: three events. */
static void unit(long i)
{
    struct llm_message m[2] = {{"system", "You are a news analyst."}, {"user", prompt}};
    struct llm_request req = {.messages = m,
                              .nmessages = 2,
                              .temperature = 0.3,
                              .max_tokens = 400,
                              .json = true,
                              .task_type = "content_analysis"};
    struct llm_response resp = {.text = (char *)"{\"summary\": \"a summary of the story\", "
                                                "\"confidence\": 0.8}",
                                .prompt_tokens = 400,
                                .completion_tokens = 120,
                                .latency_ms = 1};
    struct trace_gen g;
    char story[32];

    snprintf(story, sizeof story, "bench-%ld", i % 1000);
    trace_gen_begin(&g, story, &req, "sim-balanced", LLM_BALANCED);
    trace_gen_end(&g, &resp, NULL, 5400, 3000, NULL);
    trace_decision(&(struct trace_decision){.story = story,
                                            .type = "coverage",
                                            .outcome = "probe",
                                            .reasoning = "worth covering: newsworthiness 0.62",
                                            .confidence = 0.8});
}

/* CPU time of the calling thread, microseconds. */
static int64_t thread_cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    int64_t t0 = thread_cpu_us();

    trace_agent("analyst-bench-1", "analyst");
    for (long i = 0; i < p->units; i++)
        unit(i);
    p->push_us = thread_cpu_us() - t0; /* CPU, not wall: the machine is shared */
    return NULL;
}

/* CPU time of this process (every thread), microseconds. */
static int64_t process_cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

/* CPU time the redis-server has used, microseconds (INFO cpu), or -1. */
static int64_t redis_cpu_us(struct rlink *l)
{
    char *cause = NULL;
    redisReply *r = rlink_command(l, &cause, "INFO cpu");
    const char *u, *s;
    int64_t us = -1;

    if (r == NULL) {
        free(cause);
        return -1;
    }
    if (r->type == REDIS_REPLY_STRING && (u = strstr(r->str, "used_cpu_user:")) != NULL &&
        (s = strstr(r->str, "used_cpu_sys:")) != NULL)
        us = (int64_t)((strtod(u + 14, NULL) + strtod(s + 13, NULL)) * 1e6);
    freeReplyObject(r);
    return us;
}

static struct tracer *bench_tracer(const struct endpoint *e, size_t queue_max, size_t bytes,
                                   char **cause)
{
    struct tracer_options o = {0};
    struct tracer *t;
    char host[64];

    snprintf(host, sizeof host, "http://127.0.0.1:%u", e->port);
    o.host = host;
    o.public_key = "pk-bench";
    o.secret_key = "sk-bench";
    o.queue_max = queue_max;
    o.queue_max_bytes = bytes;
    o.batch_max = 200;
    o.flush_ms = 50;
    o.timeout_ms = 600000; /* a stalled endpoint holds the request, it does not fail it */
    o.retries = 3;
    o.drain_ms = 60000;
    t = tracer_new(&o, cause);
    if (t != NULL && tracer_start(t, cause) == -1) {
        tracer_free(t);
        t = NULL;
    }
    return t;
}

/* Resident memory of this process, bytes. */
static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = 0;

    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtoll(line + 6, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kb * 1024;
}

struct exporter_result {
    double events_per_s, mb_per_s, push_us_per_event;
    long events;
};

static int exporter_run(struct endpoint *e, long units, struct exporter_result *r, char **cause)
{
    struct producer p[PRODUCERS];
    struct tracer_stats st;
    struct tracer *t;
    int64_t t0, push = 0;
    long long bytes0;

    /* The events are made while the endpoint holds its answer to the first batch, so the
     * exporter's rate is measured alone, from the release to the last delivery. */
    endpoint_stall(e, true);
    t = bench_tracer(e, (size_t)units * 3 + 100, 1u << 30, cause);
    if (t == NULL) {
        endpoint_stall(e, false);
        return -1;
    }
    trace_install(t, NULL);
    for (int i = 0; i < PRODUCERS; i++) {
        p[i].units = units / PRODUCERS;
        if (pthread_create(&p[i].thread, NULL, producer_main, &p[i]) != 0)
            fail("bench observe: cannot start a producer");
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(p[i].thread, NULL);
        push += p[i].push_us;
    }
    trace_install(NULL, NULL);
    tracer_stats(t, &st);
    bytes0 = atomic_load(&e->sh->bytes);
    t0 = clock_mono_us();
    endpoint_stall(e, false);
    for (;;) {
        tracer_stats(t, &st);
        if (st.delivered + st.dropped_failed + st.dropped_refused + st.dropped_full >= st.queued)
            break;
        clock_sleep_ms(1, NULL);
    }
    r->events = (long)st.delivered;
    r->events_per_s = (double)st.delivered / ((double)(clock_mono_us() - t0) / 1e6);
    r->mb_per_s = (double)(atomic_load(&e->sh->bytes) - bytes0) / 1e6 /
                  ((double)(clock_mono_us() - t0) / 1e6);
    /* Each producer's time over its own events. */
    r->push_us_per_event = (double)push / (double)st.queued;
    tracer_free(t);
    if (st.delivered != st.queued) {
        *cause = xasprintf("%llu of %llu events were not delivered",
                           (unsigned long long)(st.queued - st.delivered),
                           (unsigned long long)st.queued);
        return -1;
    }
    return 0;
}

struct bound_result {
    double peak_bytes, rss_growth;
    long dropped, pushed_bytes;
};

static int bound_run(struct endpoint *e, struct bound_result *r, char **cause)
{
    struct tracer_stats st;
    struct tracer *t;
    long long rss0, rss_max;
    long i = 0;

    endpoint_stall(e, true);
    t = bench_tracer(e, 1000000, BOUND_BYTES, cause);
    if (t == NULL) {
        endpoint_stall(e, false);
        return -1;
    }
    trace_install(t, NULL);
    trace_agent("analyst-bench-2", "analyst");
    rss0 = rss_max = rss_bytes();
    /* Ten times the bound, while the endpoint holds the first batch's answer. */
    do {
        long long now;

        for (int k = 0; k < 500; k++)
            unit(i++);
        now = rss_bytes();
        rss_max = now > rss_max ? now : rss_max;
        tracer_stats(t, &st);
    } while (st.queued_bytes < 10ull * BOUND_BYTES);
    trace_install(NULL, NULL);
    r->peak_bytes = (double)st.peak_bytes;
    r->dropped = (long)st.dropped_full;
    r->rss_growth = (double)(rss_max - rss0);
    r->pushed_bytes = (long)st.queued_bytes;
    endpoint_stall(e, false);
    tracer_free(t);
    return 0;
}

/* ---- the pipeline, observability off and on ---- */

struct scraper {
    int port, every_ms;
    atomic_int stop;
    long scrapes;
    int64_t cpu_us; /* its own CPU time, which plays Prometheus's part (not this process's) */
    pthread_t thread;
};

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static void *scraper_main(void *arg)
{
    struct scraper *s = arg;
    CURL *c = curl_easy_init();
    char url[64];

    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", s->port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    while (!atomic_load(&s->stop)) {
        if (curl_easy_perform(c) == CURLE_OK)
            s->scrapes++;
        clock_sleep_ms_until(s->every_ms, &s->stop);
    }
    curl_easy_cleanup(c);
    s->cpu_us = thread_cpu_us();
    return NULL;
}

struct observed {
    struct observe *ob;
    struct scraper sc;
};

/* Observability on for the bench env's swarm: tracing to the endpoint (each story's events kept
 * in Redis), /metrics on a free port scraped every second; --on-parts leaves parts out, to see
 * what each costs. */
static int scrape_ms = SCRAPE_EVERY_MS;
static bool scrape_given; /* --scrape-ms given: --part instructions uses it too */
enum { ON_METRICS = 1, ON_TRACING = 2, ON_COPY = 4, ON_ALL = 7 };
static unsigned on_parts = ON_ALL;
static int cfg_keep_days; /* the configuration's trace_keep_days, for the runs with the copy */
static const char *const on_part_names[] = {"metrics", "tracing", "copy"};

static int observe_on(struct bench_env *env, const struct endpoint *e, struct observed *o,
                      char **cause)
{
    struct observe_options oo = {0};
    char host[64];

    snprintf(host, sizeof host, "http://127.0.0.1:%u", e->port);
    free(env->cfg->langfuse_host);
    env->cfg->langfuse_host = xstrdup(host);
    free(env->cfg->langfuse_public_key);
    env->cfg->langfuse_public_key = xstrdup("pk-bench");
    free(env->cfg->langfuse_secret_key);
    env->cfg->langfuse_secret_key = xstrdup("sk-bench");
    env->cfg->tracing = true;
    env->cfg->trace_keep_days = (on_parts & ON_COPY) != 0 ? cfg_keep_days : 0;
    oo.no_tracing = (on_parts & ON_TRACING) == 0;
    oo.cfg = env->cfg;
    oo.data_dir = env->dir;
    oo.addr = &env->addr;
    oo.link = &env->opt;
    oo.metrics = (on_parts & ON_METRICS) != 0 ? "127.0.0.1:0" : "";
    memset(o, 0, sizeof *o);
    if ((o->ob = observe_start(&oo, cause)) == NULL)
        return -1;
    if ((on_parts & ON_METRICS) == 0)
        return 0;
    o->sc.port = observe_metrics_port(o->ob);
    o->sc.every_ms = scrape_ms;
    if (pthread_create(&o->sc.thread, NULL, scraper_main, &o->sc) != 0)
        fail("bench observe: cannot start the scraper");
    return 0;
}

/* Stops observability; *metrics_cpu_us gets the metrics thread's CPU time, st the exporter's
 * counts (its CPU time included); returns the scraper's CPU time, microseconds. */
static int64_t observe_off(struct observed *o, struct tracer_stats *st, int64_t *metrics_cpu_us)
{
    if ((on_parts & ON_METRICS) != 0) {
        atomic_store(&o->sc.stop, 1);
        pthread_join(o->sc.thread, NULL);
    }
    *metrics_cpu_us = observe_metrics_cpu_us(o->ob);
    memset(st, 0, sizeof *st);
    if (observe_tracer(o->ob) != NULL) {
        tracer_stop(observe_tracer(o->ob));
        tracer_stats(observe_tracer(o->ob), st);
    }
    observe_stop(o->ob);
    return o->sc.cpu_us;
}

static void fig(struct bench_figure *f, const char *name, double value, const char *unit,
                const char *peer, double peer_value, double ratio)
{
    snprintf(f->name, sizeof f->name, "%s", name);
    f->value = value;
    f->unit = unit;
    f->peer = peer;
    f->peer_value = peer_value;
    f->ratio = ratio;
}

/* One pipeline run with observability off or on, per story. */
struct side_run {
    double cpu_ms;   /* CPU of this process (agents, exporter, metrics server) and the server */
    double redis_ms; /* of that, the redis-server's */
    double per_s;    /* stories per second, wall clock */
    double cmds;     /* Redis commands sent (round trips) */
    double exp_ms, met_ms, events, bytes; /* on: the exporter's and the metrics server's CPU,
                                             the trace events and their bytes */
    double seconds;
    double ir; /* --part instructions: instructions per story, under callgrind */
};

/* n wire stories through the pipeline roles with observability on or off (see the top). */
static int pipeline_run(struct bench_env *env, const struct endpoint *ep, bool on, long n,
                        struct side_run *r, char **cause)
{
    struct bench_run run = {0};
    struct observed o;
    struct tracer_stats st;
    int64_t cpu0, rcpu0, mcpu = 0, rcpu, scpu = 0;

    memset(r, 0, sizeof *r);
    run.roles = PIPELINE_ROLES;
    run.n = n;
    run.seed = 2026;
    run.timeout_s = 900;
    /* Observability starts before the clocks do: its start-up (libcurl's and OpenSSL's
     * initialisation, the health check, the server's socket) is paid once per process, not
     * per story. */
    /* The last run's stories (and on its side, their traces) are flushed before the clocks start
     * too: deleting them is neither side's cost, and would fall on whichever ran next. */
    if (bench_flush(env, cause) == -1 || (on && observe_on(env, ep, &o, cause) == -1))
        return -1;
    cpu0 = process_cpu_us();
    rcpu0 = redis_cpu_us(env->link);
    if (bench_swarm_run(env, &run, cause) == -1) {
        if (on)
            observe_off(&o, &st, &mcpu);
        return -1;
    }
    /* The run's CPU: the agents, the exporter and the server; the delivery of what the
     * exporter still held at the end belongs to the run, so it is counted too. The scraper
     * plays Prometheus, another process's part: its CPU is not the run's. */
    if (on)
        scpu = observe_off(&o, &st, &mcpu);
    rcpu = redis_cpu_us(env->link) - rcpu0;
    r->cpu_ms = (double)(process_cpu_us() - cpu0 - scpu + rcpu) / 1000.0 / (double)n;
    r->redis_ms = (double)rcpu / 1000.0 / (double)n;
    r->per_s = (double)n / run.seconds;
    r->seconds = run.seconds;
    r->cmds = (double)run.sent / (double)n;
    if (on) {
        r->exp_ms = (double)st.cpu_us / 1000.0 / (double)n;
        r->met_ms = (double)mcpu / 1000.0 / (double)n;
        r->events = (double)st.queued / (double)n;
        r->bytes = (double)st.queued_bytes / (double)n;
    }
    return 0;
}

/* The median of field f over n runs. */
static double median_of(const struct side_run *runs, int n, size_t f)
{
    double v[MAX_ROUNDS];

    for (int i = 0; i < n; i++)
        memcpy(&v[i], (const char *)&runs[i] + f, sizeof v[i]);
    return n > 0 ? bench_median(v, n) : 0;
}

/* The shares on is slower by in field f (per_s: a rate, else a cost) over windows of two
 * neighbouring pairs, on's sum against off's, into v, sorted; returns how many. Pairs run back
 * to back, so a change in the machine's load between pairs cancels out; the two pairs of a
 * window ran in opposite orders (off first, then on first), so a drift within a pair (the
 * second run of a pair faster or slower than the first) cancels out too, where one pair alone
 * would carry it to one side (and with an odd number of pairs, most of them run in the same
 * order). One pair: its own. */
static int windows(const struct side_run *off, const struct side_run *on, int n, size_t f,
                   bool per_s, double v[MAX_ROUNDS])
{
    int k = 0, w = n > 1 ? 2 : 1;

    for (int i = 0; i + w <= n; i++) {
        double a = 0, b = 0;

        for (int j = i; j < i + w; j++) {
            double x, y;

            memcpy(&x, (const char *)&off[j] + f, sizeof x);
            memcpy(&y, (const char *)&on[j] + f, sizeof y);
            a += x;
            b += y;
        }
        if (a > 0 && b > 0)
            v[k++] = per_s ? a / b - 1.0 : b / a - 1.0;
    }
    if (k > 0)
        bench_median(v, k); /* sorts them */
    return k;
}

/* The median of windows() and, when q1 and q3 are not NULL, its quartiles (with fewer than four
 * windows, the lowest and the highest). Returns how many windows there were. */
static int paired(const struct side_run *off, const struct side_run *on, int n, size_t f,
                  bool per_s, double *median, double *q1, double *q3)
{
    double v[MAX_ROUNDS];
    int k = windows(off, on, n, f, per_s, v); /* sorted */

    *median = k == 0 ? 0 : k % 2 == 1 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2.0;
    if (q1 != NULL && q3 != NULL) {
        *q1 = k > 0 ? v[(k - 1) / 4] : 0;
        *q3 = k > 0 ? v[k - 1 - (k - 1) / 4] : 0;
    }
    return k;
}

/* The spread of a share slower: two figures, "slower, <what>: 1st quartile" and "3rd
 * quartile" of the windows, or with fewer than four windows their lowest and highest. Returns 2. */
static int spread(struct bench_figure *figs, const char *what, int nwin, double q1, double q3)
{
    char lo[64], hi[64];

    snprintf(lo, sizeof lo, "slower, %s: %s", what, nwin >= 4 ? "1st quartile" : "lowest window");
    snprintf(hi, sizeof hi, "slower, %s: %s", what, nwin >= 4 ? "3rd quartile" : "highest window");
    fig(&figs[0], lo, q1 * 100, "%", NULL, 0, 0);
    fig(&figs[1], hi, q3 * 100, "%", NULL, 0, 0);
    return 2;
}

/* The ratio printed beside a share slower: what on against off may cost at most over what it
 * cost, (1 + aim) / (1 + slower); 1.00x or more is within the aim (also when on was faster). */
static double within(double slower)
{
    return slower > -1 ? (1 + SLOWER_AIM) / (1 + slower) : 0;
}

/* ---- instructions, under callgrind ---- */

/* The instructions (Ir) of one callgrind output file, and its pid and command; -1 when it is
 * not one. */
static long long callgrind_file(const char *path, long *pid, char *cmd, size_t cmd_size)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    long long ir = -1;

    cmd[0] = '\0';
    *pid = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "cmd:", 4) == 0)
            snprintf(cmd, cmd_size, "%s", line + 4 + strspn(line + 4, " "));
        else if (strncmp(line, "pid:", 4) == 0)
            *pid = strtol(line + 4, NULL, 10);
        else if (strncmp(line, "summary:", 8) == 0 || strncmp(line, "totals:", 7) == 0)
            ir = strtoll(line + (line[0] == 's' ? 8 : 7), NULL, 10);
    }
    if (f != NULL)
        fclose(f);
    return ir;
}

/* The pipeline part on one side, n stories, in a child of this binary under callgrind (its
 * children traced: the redis-server it starts): *ir gets the instructions of the bench process
 * (the agents, the exporter, the metrics server, the scraper's few) and of the redis-server;
 * the local ingestion endpoint (a fork of the bench) plays Langfuse and is left out. The runs
 * start and stop the swarm and its server like the timed ones, so a fixed start-up cost is in
 * both sides. Returns 0, or -1 with *cause. */
static int callgrind_side(const char *dir, bool on, int round, long n, double *ir, char **cause)
{
    char *self = realpath("/proc/self/exe", NULL), out[600], ns[24], scrape[24], *logp, side[16];
    char parts[64] = "";
    pid_t pid;
    int status = 0, found = 0;
    long redis_pid = -1;
    double redis_ir = 0;
    DIR *d;
    struct dirent *de;

    if (self == NULL) {
        *cause = xasprintf("cannot find this program: %s", strerror(errno));
        return -1;
    }
    /* The files of this run: "on3.<pid>", "off3.log". */
    snprintf(side, sizeof side, "%s%d", on ? "on" : "off", round);
    snprintf(out, sizeof out, "--callgrind-out-file=%s/%s.%%p", dir, side);
    snprintf(ns, sizeof ns, "%ld", n);
    snprintf(scrape, sizeof scrape, "%d", scrape_given ? scrape_ms : CALLGRIND_SCRAPE_MS);
    for (size_t k = 0; k < sizeof on_part_names / sizeof on_part_names[0]; k++)
        if (on_parts & 1u << k)
            snprintf(parts + strlen(parts), sizeof parts - strlen(parts), "%s%s",
                     parts[0] != '\0' ? "," : "", on_part_names[k]);
    logp = xasprintf("%s/%s.log", dir, side);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execlp("valgrind", "valgrind", "--tool=callgrind", "--trace-children=yes", out, self,
               "bench", "observe", "--part", "pipeline", "--side", on ? "on" : "off", "--rounds",
               "1", "--n", ns, "--scrape-ms", scrape, "--on-parts", parts, "--json", (char *)NULL);
        _exit(127);
    }
    free(self);
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        *cause = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127
                     ? xstrdup("valgrind could not be run (is it installed? apt-get install "
                               "valgrind)")
                     : xasprintf("the %s side under callgrind failed (see %s)", side, logp);
        free(logp);
        return -1;
    }
    free(logp);
    *ir = 0;
    if ((d = opendir(dir)) == NULL) {
        *cause = xasprintf("cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char path[900], cmd[512];
        long fpid;
        long long v;

        if (strncmp(de->d_name, side, strlen(side)) != 0 || de->d_name[strlen(side)] != '.' ||
            strstr(de->d_name, ".log") != NULL)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        v = callgrind_file(path, &fpid, cmd, sizeof cmd);
        if (v < 0)
            continue;
        /* The bench's own file, and the server's: the first redis-server (a fork of it, such as
         * an AOF rewrite, writes a file of the same command with a later pid). */
        if (fpid == (long)pid) {
            *ir += (double)v;
            found++;
        } else if (strstr(cmd, "redis-server") != NULL && (redis_pid < 0 || fpid < redis_pid)) {
            redis_pid = fpid;
            redis_ir = (double)v;
        }
    }
    closedir(d);
    if (redis_pid >= 0) {
        *ir += redis_ir;
        found++;
    }
    if (found < 2) {
        *cause = xasprintf("the %s side under callgrind left %d of its 2 counts in %s", side, found,
                           dir);
        return -1;
    }
    return 0;
}

#define F(field) offsetof(struct side_run, field)

static const char *const parts[] = {"all", "pipeline", "latency", "exporter", "instructions"};
#define PART_INSTRUCTIONS 4

/* --part instructions: rounds pairs of runs under callgrind, n stories each way (see
 * callgrind_side), the side that goes first alternating; the share slower over windows of
 * neighbouring pairs, as for the timed runs, and its quartiles. */
static int instructions(long n, int rounds, bool json)
{
    char dir[] = "/tmp/newsroom-callgrind-XXXXXX", *cause = NULL;
    struct bench_figure figs[5];
    struct side_run runs[2][MAX_ROUNDS];
    double q1, q3, slower, ir_on, ir_off;
    int nwin;

    if (mkdtemp(dir) == NULL) {
        cli_error("bench observe: cannot make a temporary folder: %s", strerror(errno));
        return EXIT_UNREACHABLE;
    }
    memset(runs, 0, sizeof runs);
    for (int r = 0; r < rounds && cause == NULL; r++)
        for (int k = 0; k < 2 && cause == NULL; k++) {
            int on = r % 2 == 0 ? k : 1 - k;

            if (callgrind_side(dir, on, r, n, &runs[on][r].ir, &cause) == 0)
                runs[on][r].ir /= (double)n;
        }
    if (cause != NULL) {
        cli_error("bench observe: instructions: %s", cause);
        /* The log named in the cause stays for reading; without valgrind there is none. */
        if (strstr(cause, "could not be run") != NULL)
            paths_rmrf(dir);
        free(cause);
        return EXIT_UNREACHABLE;
    }
    paths_rmrf(dir);
    nwin = paired(runs[0], runs[1], rounds, F(ir), false, &slower, &q1, &q3);
    ir_on = median_of(runs[1], rounds, F(ir));
    ir_off = median_of(runs[0], rounds, F(ir));
    fig(&figs[0], "instructions per story, observability on", ir_on / 1e6, "M", "observability off",
        ir_off / 1e6, ir_on > 0 ? ir_off / ir_on : 0);
    fig(&figs[1], "slower, instructions per story", slower * 100, "%", "aim (at most)",
        SLOWER_AIM * 100, within(slower));
    spread(figs + 2, "instructions", nwin, q1, q3);
    fig(&figs[4], "pairs under callgrind", rounds, "pairs", NULL, 0, 0);
    if (!json)
        printf("instructions: %d pair(s) of pipeline runs of %ld wire stories (roles %s, zero "
               "latency) under valgrind --tool=callgrind, the side that goes first alternating, "
               "counting this process (agents, exporter, metrics server) and its redis-server, "
               "not the local ingestion endpoint; on runs%s%s%s, /metrics scraped every %d ms "
               "while on; start-up included on both sides; the share slower is the median over "
               "windows of two neighbouring pairs\n",
               rounds, n, PIPELINE_ROLES, (on_parts & ON_METRICS) ? " metrics" : "",
               (on_parts & ON_TRACING) ? " tracing" : "", (on_parts & ON_COPY) ? " copy" : "",
               scrape_given ? scrape_ms : CALLGRIND_SCRAPE_MS);
    bench_report("observe", figs, 5, json);
    return EXIT_DONE;
}

/* --on-parts LIST: the comma-separated parts of observability the on side runs. Returns 0, or
 * -1 having said what is wrong. */
static int parse_on_parts(const char *list)
{
    char buf[128], *save = NULL;
    unsigned want = 0;

    if (strlen(list) >= sizeof buf) {
        cli_error("bench observe: --on-parts \"%.40s...\" is too long", list);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", list);
    for (char *w = strtok_r(buf, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
        size_t k = 0;

        while (k < sizeof on_part_names / sizeof on_part_names[0] &&
               strcmp(w, on_part_names[k]) != 0)
            k++;
        if (k == sizeof on_part_names / sizeof on_part_names[0]) {
            cli_error("bench observe: --on-parts: \"%s\" is not metrics, tracing or copy", w);
            return -1;
        }
        want |= 1u << k;
    }
    if (want == 0) {
        cli_error("bench observe: --on-parts \"%s\" names no part", list);
        return -1;
    }
    if ((want & ON_COPY) != 0 && (want & ON_TRACING) == 0) {
        cli_error("bench observe: --on-parts \"%s\": copy (ctl trace's copy in Redis) needs "
                  "tracing",
                  list);
        return -1;
    }
    on_parts = want;
    return 0;
}

int bench_observe(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"units", required_argument, NULL, 'u'},
        {"n", required_argument, NULL, 'n'},
        {"rounds", required_argument, NULL, 'r'},
        {"latency-n", required_argument, NULL, 'l'},
        {"latency-stories", required_argument, NULL, 't'},
        {"part", required_argument, NULL, 'p'},
        {"side", required_argument, NULL, 's'},
        {"scrape-ms", required_argument, NULL, 'm'},
        {"on-parts", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct endpoint ep;
    struct exporter_result ex = {0};
    struct bound_result bd = {0};
    struct bench_env env;
    struct bench_figure figs[32];
    struct side_run runs[2][MAX_ROUNDS], paced[2];
    double share[2][64], infra[2][64];
    long units = 40000, n = 200, ln = 6, rounds = 7, lt = 24;
    int nfig = 0, c, got[2] = {0, 0}, part = 0, side = -1;
    bool json = false, rounds_given = false;
    char metrics_every[32] = "";
    char *cause = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'u':
            if (bench_parse_long("observe", "--units", optarg, 100, 10000000, &units) == -1)
                return EXIT_USAGE;
            break;
        case 'n':
            if (bench_parse_long("observe", "--n", optarg, 10, 100000, &n) == -1)
                return EXIT_USAGE;
            break;
        case 'r':
            if (bench_parse_long("observe", "--rounds", optarg, 1, MAX_ROUNDS, &rounds) == -1)
                return EXIT_USAGE;
            rounds_given = true;
            break;
        case 'l':
            if (bench_parse_long("observe", "--latency-n", optarg, 1, 64, &ln) == -1)
                return EXIT_USAGE;
            break;
        case 't':
            if (bench_parse_long("observe", "--latency-stories", optarg, 0, 10000, &lt) == -1)
                return EXIT_USAGE;
            break;
        case 'm': {
            long v;

            if (bench_parse_long("observe", "--scrape-ms", optarg, 100, 600000, &v) == -1)
                return EXIT_USAGE;
            scrape_ms = (int)v;
            scrape_given = true;
            break;
        }
        case 'o':
            if (parse_on_parts(optarg) == -1)
                return EXIT_USAGE;
            break;
        case 'p':
            for (part = 0; part < (int)(sizeof parts / sizeof parts[0]); part++)
                if (strcmp(optarg, parts[part]) == 0)
                    break;
            if (part == (int)(sizeof parts / sizeof parts[0])) {
                cli_error("bench observe: --part \"%s\" must be all, pipeline, latency, "
                          "exporter or instructions",
                          optarg);
                return EXIT_USAGE;
            }
            break;
        case 's':
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0 &&
                strcmp(optarg, "both") != 0) {
                cli_error("bench observe: --side \"%s\" must be on, off or both", optarg);
                return EXIT_USAGE;
            }
            side = strcmp(optarg, "on") == 0 ? 1 : strcmp(optarg, "off") == 0 ? 0 : -1;
            break;
        case 'h':
            printf("usage: newsroom bench observe [--json] [--units N] [--n STORIES] [--rounds N]\n"
                   "                              [--latency-n STORIES] [--latency-stories N]\n"
                   "                              [--part all|pipeline|latency|exporter|"
                   "instructions]\n"
                   "                              [--side both|on|off] [--scrape-ms MS]\n"
                   "                              [--on-parts metrics,tracing,copy]\n"
                   "  --rounds N           pairs of pipeline runs, off and on back to back, the\n"
                   "                       order alternating (default 7); medians\n"
                   "  --latency-n N        stories each way for the infrastructure share (6)\n"
                   "  --latency-stories N  stories each way for stories/s at the sim's latencies\n"
                   "                       (24; 0 skips it)\n"
                   "  --part P             only that part; --side S only that side (to profile\n"
                   "                       one with perf or callgrind); instructions (not in\n"
                   "                       all): --rounds pairs (3 here by default) of runs of\n"
                   "                       --n stories under valgrind's callgrind,\n"
                   "                       instructions per story counted, which the machine's\n"
                   "                       load does not move (about 2 minutes a pair at the\n"
                   "                       default --n 200)\n"
                   "  --scrape-ms MS       /metrics scraped every MS ms while on (1000; 30000\n"
                   "                       for instructions)\n"
                   "  --on-parts LIST      what the on side runs, comma-separated: metrics\n"
                   "                       (/metrics, scraped), tracing (to the endpoint), copy\n"
                   "                       (ctl trace's copy in Redis; needs tracing); all three\n"
                   "                       by default, fewer to see what each part costs\n");
            return EXIT_DONE;
        default:
            cli_error("bench observe: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (part == PART_INSTRUCTIONS)
        return instructions(n, rounds_given ? (int)rounds : INSTRUCTION_ROUNDS, json);
    memset(runs, 0, sizeof runs);
    memset(paced, 0, sizeof paced);
    /* A prompt like the agents' (a story, and JSON they quote): three quotes or line breaks in
     * every 62 bytes. */
    for (size_t i = 0; i < sizeof prompt - 1; i++)
        prompt[i] = PROMPT_TEXT[i % (sizeof PROMPT_TEXT - 1)];
    if (endpoint_start(&ep, &cause) == -1 || bench_env_start(&env, "observe", &cause) == -1) {
        cli_error("bench observe: %s", cause);
        free(cause);
        endpoint_stop(&ep);
        return EXIT_UNREACHABLE;
    }
    cfg_keep_days = env.cfg->trace_keep_days;

    /* The pipeline at zero latency: pairs back to back, the side that goes first alternating,
     * so neither gets the quieter half of the machine's load. */
    for (int i = 0; (part == 0 || part == 1) && i < rounds && cause == NULL; i++)
        for (int k = 0; k < 2 && cause == NULL; k++) {
            int on = i % 2 == 0 ? k : 1 - k;

            if (side < 0 || on == side)
                pipeline_run(&env, &ep, on, n, &runs[on][i], &cause);
        }
    /* At the sim's latencies: the infrastructure share, then stories per second. */
    if (cause == NULL && (part == 0 || part == 2)) {
        env.cfg->sim_latency_fast_ms = 200;
        env.cfg->sim_latency_balanced_ms = 600;
        env.cfg->sim_latency_premium_ms = 1200;
        for (int on = 0; on < 2 && cause == NULL; on++) {
            double e2e[64], crit[64];
            int skipped;
            struct observed o;
            struct tracer_stats st;
            int64_t mcpu = 0;

            if (side >= 0 && on != side)
                continue;
            if (on && observe_on(&env, &ep, &o, &cause) == -1)
                break;
            got[on] = bench_latency_run(&env, LATENCY_ROLES, (int)ln, e2e, crit, &skipped, &cause);
            if (on)
                observe_off(&o, &st, &mcpu);
            for (int i = 0; i < got[on]; i++) {
                infra[on][i] = e2e[i] - crit[i];
                share[on][i] = e2e[i] > 0 ? (e2e[i] - crit[i]) / e2e[i] : 0;
            }
            if (got[on] <= 0 && cause == NULL)
                cause = xstrdup("no story became review-ready");
        }
        for (int k = 0; lt > 0 && k < 2 && cause == NULL; k++) {
            int on = 1 - k; /* on first: the zero-latency pairs began with off */

            if (side < 0 || on == side)
                pipeline_run(&env, &ep, on, lt, &paced[on], &cause);
        }
    }
    bench_env_stop(&env);
    if (cause != NULL) {
        cli_error("bench observe: pipeline: %s", cause);
        free(cause);
        endpoint_stop(&ep);
        return EXIT_UNREACHABLE;
    }
    if ((part == 0 || part == 3) &&
        (exporter_run(&ep, units, &ex, &cause) == -1 || bound_run(&ep, &bd, &cause) == -1)) {
        cli_error("bench observe: exporter: %s", cause);
        free(cause);
        endpoint_stop(&ep);
        return EXIT_UNREACHABLE;
    }
    endpoint_stop(&ep);

    if (part == 0 || part == 3) {
        double demand =
            median_of(runs[1], rounds, F(events)) * median_of(runs[1], rounds, F(per_s));

        fig(&figs[nfig++], "exporter: events delivered", ex.events_per_s, "events/s",
            "pipeline's events (0 latency)", demand, demand > 0 ? ex.events_per_s / demand : 0);
        fig(&figs[nfig++], "exporter: bytes delivered", ex.mb_per_s, "MB/s", NULL, 0, 0);
        fig(&figs[nfig++], "tracing call on the agent's thread", ex.push_us_per_event,
            "us CPU/event", NULL, 0, 0);
        fig(&figs[nfig++], "queue peak while Langfuse is down", bd.peak_bytes / 1048576.0, "MiB",
            "bound", BOUND_BYTES / 1048576.0, bd.peak_bytes > 0 ? BOUND_BYTES / bd.peak_bytes : 0);
        fig(&figs[nfig++], "RSS growth while Langfuse is down", bd.rss_growth / 1048576.0, "MiB",
            "bound + one batch", (BOUND_BYTES + 3500000) / 1048576.0,
            bd.rss_growth > 0 ? (BOUND_BYTES + 3500000) / bd.rss_growth : 0);
        fig(&figs[nfig++], "events dropped (oldest first)", (double)bd.dropped, "events", NULL, 0,
            0);
    }
    if ((part == 0 || part == 1) && side < 0) {
        const struct side_run *off = runs[0], *on = runs[1];
        int k = (int)rounds;
        double cpu_off = median_of(off, k, F(cpu_ms)), cpu_on = median_of(on, k, F(cpu_ms));
        double slower_cpu, slower_tput, q1t, q3t, q1c, q3c;
        int nwin = paired(off, on, k, F(per_s), true, &slower_tput, &q1t, &q3t);
        double per_event = ex.push_us_per_event;
        /* What observability itself spends, measured where it runs: the exporter's and the
         * metrics server's threads, and the tracing calls on the agents' threads (the events a
         * story makes times the CPU one call costs, from the exporter run; without it, not
         * counted). Redis's share (ctl trace's copy, the scrapes' readings) is in the Redis CPU
         * per story. */
        double agent_ms = median_of(on, k, F(events)) * per_event / 1000.0;
        double own = median_of(on, k, F(exp_ms)) + median_of(on, k, F(met_ms)) + agent_ms;

        paired(off, on, k, F(cpu_ms), false, &slower_cpu, &q1c, &q3c);
        fig(&figs[nfig++], "trace events per story", median_of(on, k, F(events)), "events", NULL, 0,
            0);
        fig(&figs[nfig++], "trace bytes per story", median_of(on, k, F(bytes)) / 1000.0, "kB", NULL,
            0, 0);
        fig(&figs[nfig++], "stories/s (wall), observability on", median_of(on, k, F(per_s)),
            "stories/s", "observability off", median_of(off, k, F(per_s)),
            median_of(off, k, F(per_s)) > 0
                ? median_of(on, k, F(per_s)) / median_of(off, k, F(per_s))
                : 0);
        fig(&figs[nfig++], "slower, stories/s (median, paired)", slower_tput * 100, "%",
            "aim (at most)", SLOWER_AIM * 100, within(slower_tput));
        nfig += spread(figs + nfig, "stories/s", nwin, q1t, q3t);
        fig(&figs[nfig++], "CPU per story, observability on", cpu_on, "ms", "observability off",
            cpu_off, cpu_on > 0 ? cpu_off / cpu_on : 0);
        fig(&figs[nfig++], "slower, CPU per story (median, paired)", slower_cpu * 100, "%",
            "aim (at most)", SLOWER_AIM * 100, within(slower_cpu));
        nfig += spread(figs + nfig, "CPU per story", nwin, q1c, q3c);
        fig(&figs[nfig++], "Redis CPU per story, observability on", median_of(on, k, F(redis_ms)),
            "ms", "observability off", median_of(off, k, F(redis_ms)),
            median_of(on, k, F(redis_ms)) > 0
                ? median_of(off, k, F(redis_ms)) / median_of(on, k, F(redis_ms))
                : 0);
        fig(&figs[nfig++], "exporter thread CPU per story", median_of(on, k, F(exp_ms)), "ms", NULL,
            0, 0);
        fig(&figs[nfig++], "metrics server CPU per story", median_of(on, k, F(met_ms)), "ms", NULL,
            0, 0);
        if (per_event > 0) {
            fig(&figs[nfig++], "tracing calls CPU per story (est.)", agent_ms, "ms", NULL, 0, 0);
            fig(&figs[nfig++], "observability's own CPU per story", own, "ms", "aim: 3% of CPU off",
                SLOWER_AIM * cpu_off, own > 0 ? SLOWER_AIM * cpu_off / own : 0);
        }
        fig(&figs[nfig++], "Redis commands sent per story, on", median_of(on, k, F(cmds)),
            "commands", "aim (at most)", CMDS_AIM, CMDS_AIM / median_of(on, k, F(cmds)));
        fig(&figs[nfig++], "Redis commands sent per story, off", median_of(off, k, F(cmds)),
            "commands", "aim (at most)", CMDS_AIM, CMDS_AIM / median_of(off, k, F(cmds)));
    }
    if ((part == 0 || part == 2) && side < 0) {
        double share_off = bench_median(share[0], got[0]) * 100;
        double share_on = bench_median(share[1], got[1]) * 100;
        double i_off = bench_median(infra[0], got[0]), i_on = bench_median(infra[1], got[1]);

        fig(&figs[nfig++], "infrastructure share, on (median)", share_on, "%", "aim (at most)",
            INFRA_AIM * 100, share_on > 0 ? INFRA_AIM * 100 / share_on : 0);
        fig(&figs[nfig++], "infrastructure share, off (median)", share_off, "%", "aim (at most)",
            INFRA_AIM * 100, share_off > 0 ? INFRA_AIM * 100 / share_off : 0);
        fig(&figs[nfig++], "infrastructure per story, on (median)", i_on, "ms", "off", i_off,
            i_on > 0 ? i_off / i_on : 0);
        if (lt > 0)
            fig(&figs[nfig++], "stories/s at sim latencies, on", paced[1].per_s, "stories/s",
                "observability off", paced[0].per_s,
                paced[0].per_s > 0 ? paced[1].per_s / paced[0].per_s : 0);
    }
    if ((on_parts & ON_METRICS) != 0)
        snprintf(metrics_every, sizeof metrics_every, "%d ms", scrape_ms);
    if (!json)
        printf("exporter: %ld events from %d threads to a local endpoint (207 at once); "
               "bound: 8 MiB queue, %.0f MiB pushed while the endpoint holds its answer\n"
               "pipeline: %ld wire stories, roles %s, zero latency, %ld pairs off/on back to back "
               "(the first side alternating); latency: %ld stories each way one at a time, and "
               "%ld each way through the pipeline roles, at FAST 200 / BALANCED 600 / PREMIUM "
               "1200 ms; on = %s%s%s%s%s; a \"slower\" figure's ratio is (1 + aim) / (1 + "
               "slower): 1.00x or more is within the aim\n",
               ex.events, PRODUCERS, (double)bd.pushed_bytes / 1048576.0, n, PIPELINE_ROLES, rounds,
               ln, lt, (on_parts & ON_TRACING) != 0 ? "tracing to the endpoint" : "",
               (on_parts & ON_COPY) != 0      ? " with ctl trace's copy in Redis"
               : (on_parts & ON_TRACING) != 0 ? " without ctl trace's copy"
                                              : "",
               (on_parts & ON_TRACING) != 0 && (on_parts & ON_METRICS) != 0 ? ", " : "",
               (on_parts & ON_METRICS) != 0 ? "/metrics scraped every " : "", metrics_every);
    bench_report("observe", figs, nfig, json);
    return EXIT_DONE;
}
