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
 * Pipeline: `bench pipeline`'s runs with observability off and on, alternated in the same run
 * (off, on, three times; medians): on is tracing to the local endpoint with each story's events
 * kept in Redis for ctl trace, and /metrics scraped every second. At zero model latency the
 * pipeline is bound by CPU, so "slower" is measured as CPU per story (this process, where the
 * agents and the exporter run, plus the redis-server, from INFO cpu) on against off: on a
 * machine shared with other work, wall-clock throughput moves by more than the 3 % aimed at
 * from one run to the next, while the CPU a story costs does not; the stories per second are
 * printed beside it. Also Redis commands sent per story (the aim of 40), then the
 * infrastructure share of ingest-to-review time at the sim's latencies (the aim of 2 %).
 */
#include "bench.h"

#include "agents/agent.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
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
#define ROUNDS          3

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
    int port;
    atomic_int stop;
    long scrapes;
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
        clock_sleep_ms_until(SCRAPE_EVERY_MS, &s->stop);
    }
    curl_easy_cleanup(c);
    return NULL;
}

struct observed {
    struct observe *ob;
    struct scraper sc;
};

/* Observability on for the bench env's swarm: tracing to the endpoint (each story's events kept
 * in Redis), /metrics on a free port scraped every second. */
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
    oo.cfg = env->cfg;
    oo.data_dir = env->dir;
    oo.addr = &env->addr;
    oo.link = &env->opt;
    oo.metrics = "127.0.0.1:0";
    memset(o, 0, sizeof *o);
    if ((o->ob = observe_start(&oo, cause)) == NULL)
        return -1;
    o->sc.port = observe_metrics_port(o->ob);
    if (pthread_create(&o->sc.thread, NULL, scraper_main, &o->sc) != 0)
        fail("bench observe: cannot start the scraper");
    return 0;
}

/* Stops observability; *metrics_cpu_us gets the metrics thread's CPU time, st the exporter's
 * counts (its CPU time included). */
static void observe_off(struct observed *o, struct tracer_stats *st, int64_t *metrics_cpu_us)
{
    atomic_store(&o->sc.stop, 1);
    pthread_join(o->sc.thread, NULL);
    *metrics_cpu_us = observe_metrics_cpu_us(o->ob);
    tracer_stop(observe_tracer(o->ob));
    tracer_stats(observe_tracer(o->ob), st);
    observe_stop(o->ob);
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

int bench_observe(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},    {"units", required_argument, NULL, 'u'},
        {"n", required_argument, NULL, 'n'}, {"latency-n", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},    {NULL, 0, NULL, 0},
    };
    struct endpoint ep;
    struct exporter_result ex;
    struct bound_result bd;
    struct bench_env env;
    struct bench_figure figs[24];
    double tput[2][ROUNDS], cmds[2][ROUNDS], cpu[2][ROUNDS], exp_cpu[ROUNDS], met_cpu[ROUNDS],
        share[2][64], infra[2][64];
    double events_per_story = 0, traced_seconds = 0, traced_events = 0;
    long units = 40000, n = 200, ln = 6;
    int nfig = 0, c, code = EXIT_DONE, got[2] = {0, 0};
    bool json = false;
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
        case 'l':
            if (bench_parse_long("observe", "--latency-n", optarg, 1, 64, &ln) == -1)
                return EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench observe [--json] [--units N] [--n STORIES] "
                   "[--latency-n STORIES]\n");
            return EXIT_DONE;
        default:
            cli_error("bench observe: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    memset(prompt, 'a', sizeof prompt - 1);
    for (size_t i = 7; i < sizeof prompt - 1; i += 8)
        prompt[i] = ' ';
    if (endpoint_start(&ep, &cause) == -1 || bench_env_start(&env, "observe", &cause) == -1) {
        cli_error("bench observe: %s", cause);
        free(cause);
        endpoint_stop(&ep);
        return EXIT_UNREACHABLE;
    }

    /* The pipeline first: its event rate is the exporter's peer. */
    for (int round = 0; round < ROUNDS && cause == NULL; round++)
        for (int on = 0; on < 2 && cause == NULL; on++) {
            struct bench_run run = {0};
            struct observed o;
            struct tracer_stats st;
            int64_t cpu0 = process_cpu_us(), rcpu0 = redis_cpu_us(env.link), mcpu = 0;

            run.roles = PIPELINE_ROLES;
            run.n = n;
            run.seed = 2026;
            run.timeout_s = 600;
            if (on && observe_on(&env, &ep, &o, &cause) == -1)
                break;
            if (bench_swarm_run(&env, &run, &cause) == -1) {
                if (on)
                    observe_off(&o, &st, &mcpu);
                break;
            }
            /* The run's CPU: the agents, the exporter and the server; the delivery of what
             * the exporter still held at the end belongs to the run, so it is counted too. */
            if (on)
                observe_off(&o, &st, &mcpu);
            cpu[on][round] = (double)(process_cpu_us() - cpu0 + redis_cpu_us(env.link) - rcpu0) /
                             1000.0 / (double)n;
            if (on) {
                exp_cpu[round] = (double)st.cpu_us / 1000.0 / (double)n;
                met_cpu[round] = (double)mcpu / 1000.0 / (double)n;
                traced_events += (double)st.queued;
                traced_seconds += run.seconds;
                events_per_story = (double)st.queued / (double)n;
            }
            tput[on][round] = (double)n / run.seconds;
            cmds[on][round] = (double)run.sent / (double)n;
        }
    if (cause == NULL) {
        env.cfg->sim_latency_fast_ms = 200;
        env.cfg->sim_latency_balanced_ms = 600;
        env.cfg->sim_latency_premium_ms = 1200;
        for (int on = 0; on < 2 && cause == NULL; on++) {
            double e2e[64], crit[64];
            int skipped;
            struct observed o;
            struct tracer_stats st;
            int64_t mcpu = 0;

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
    }
    bench_env_stop(&env);
    if (cause != NULL) {
        cli_error("bench observe: pipeline: %s", cause);
        free(cause);
        endpoint_stop(&ep);
        return EXIT_UNREACHABLE;
    }
    if (exporter_run(&ep, units, &ex, &cause) == -1 || bound_run(&ep, &bd, &cause) == -1) {
        cli_error("bench observe: exporter: %s", cause);
        free(cause);
        endpoint_stop(&ep);
        return EXIT_UNREACHABLE;
    }
    endpoint_stop(&ep);

    {
        double demand = traced_seconds > 0 ? traced_events / traced_seconds : 0;
        double off = bench_median(tput[0], ROUNDS), on = bench_median(tput[1], ROUNDS);
        double cpu_off = bench_median(cpu[0], ROUNDS), cpu_on = bench_median(cpu[1], ROUNDS);
        double slower = cpu_off > 0 ? cpu_on / cpu_off - 1.0 : 0;
        /* What observability itself spends, measured where it runs: the exporter's and the
         * metrics server's threads, and the tracing calls on the agents' threads (the events a
         * story makes times the CPU one call costs, from the exporter run). Redis's share (the
         * copy for ctl trace, the scrapes' readings) is in the CPU per story above only. */
        double agent_ms = events_per_story * ex.push_us_per_event / 1000.0;
        double own = bench_median(exp_cpu, ROUNDS) + bench_median(met_cpu, ROUNDS) + agent_ms;
        double share_off = bench_median(share[0], got[0]) * 100;
        double share_on = bench_median(share[1], got[1]) * 100;

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
        fig(&figs[nfig++], "trace events per story", events_per_story, "events", NULL, 0, 0);
        fig(&figs[nfig++], "CPU per story, observability on", cpu_on, "ms", "observability off",
            cpu_off, cpu_on > 0 ? cpu_off / cpu_on : 0);
        fig(&figs[nfig++], "exporter thread CPU per story", bench_median(exp_cpu, ROUNDS), "ms",
            NULL, 0, 0);
        fig(&figs[nfig++], "metrics server CPU per story", bench_median(met_cpu, ROUNDS), "ms",
            NULL, 0, 0);
        fig(&figs[nfig++], "tracing calls CPU per story (est.)", agent_ms, "ms", NULL, 0, 0);
        fig(&figs[nfig++], "observability's own CPU per story", own, "ms", "aim: 3% of CPU off",
            SLOWER_AIM * cpu_off, own > 0 ? SLOWER_AIM * cpu_off / own : 0);
        fig(&figs[nfig++], "slower with observability on (CPU)", slower * 100, "%", "aim (at most)",
            SLOWER_AIM * 100, slower > 0 ? SLOWER_AIM / slower : 0);
        fig(&figs[nfig++], "stories/s (wall), observability on", on, "stories/s",
            "observability off", off, off > 0 ? on / off : 0);
        fig(&figs[nfig++], "Redis commands sent per story, on", bench_median(cmds[1], ROUNDS),
            "commands", "aim (at most)", CMDS_AIM, CMDS_AIM / bench_median(cmds[1], ROUNDS));
        fig(&figs[nfig++], "Redis commands sent per story, off", bench_median(cmds[0], ROUNDS),
            "commands", "aim (at most)", CMDS_AIM, CMDS_AIM / bench_median(cmds[0], ROUNDS));
        fig(&figs[nfig++], "infrastructure share, on (median)", share_on, "%", "aim (at most)",
            INFRA_AIM * 100, share_on > 0 ? INFRA_AIM * 100 / share_on : 0);
        fig(&figs[nfig++], "infrastructure share, off (median)", share_off, "%", "aim (at most)",
            INFRA_AIM * 100, share_off > 0 ? INFRA_AIM * 100 / share_off : 0);
        fig(&figs[nfig++], "infrastructure per story, on (median)", bench_median(infra[1], got[1]),
            "ms", "off", bench_median(infra[0], got[0]),
            bench_median(infra[1], got[1]) > 0
                ? bench_median(infra[0], got[0]) / bench_median(infra[1], got[1])
                : 0);
        if (!json)
            printf("exporter: %ld events from %d threads to a local endpoint (207 at once); "
                   "bound: 8 MiB queue, %.0f MiB pushed while the endpoint holds its answer\n"
                   "pipeline: %ld wire stories, roles %s, zero latency, off/on %d times; latency: "
                   "%ld stories each way at FAST 200 / BALANCED 600 / PREMIUM 1200 ms; on = "
                   "tracing to the endpoint with ctl trace's copy in Redis, /metrics scraped "
                   "every %d ms\n",
                   ex.events, PRODUCERS, (double)bd.pushed_bytes / 1048576.0, n, PIPELINE_ROLES,
                   ROUNDS, ln, SCRAPE_EVERY_MS);
    }
    bench_report("observe", figs, nfig, json);
    return code;
}
