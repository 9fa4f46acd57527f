/*
 * observe.c - one process's exporter, registry and /metrics server, started and stopped
 * together; see observe.h. Also the collectors of what lives in this process: the exporter's
 * counts, the swarm's counters (swarm_totals) and the control room's event ring.
 *
 * Threads: the owning thread starts and stops; the swarm and room pointers are atomics the
 * metrics thread reads at scrape time.
 */
#include "observe/observe.h"

#include "agents/agent.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "observe/collect.h"
#include "observe/metrics.h"
#include "observe/metrics_http.h"
#include "observe/trace.h"
#include "observe/tracer.h"
#include "room/room.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct observe {
    struct tracer *tracer;
    struct metrics *metrics;
    struct metrics_http *http;
    char *trace_file;
    _Atomic(struct swarm *) swarm;
    _Atomic(struct room *) room;
    double started_s;
};

static const struct metric_def fam_build = {"newsroom_build_info",
                                            "The running version (always 1).",
                                            METRIC_GAUGE,
                                            {"version", NULL},
                                            NULL,
                                            0};
static const struct metric_def fam_start = {"newsroom_process_start_time_seconds",
                                            "When this process started, in seconds since the "
                                            "epoch.",
                                            METRIC_GAUGE,
                                            {NULL},
                                            NULL,
                                            0};
static const struct metric_def fam_trace_events = {
    "newsroom_trace_events_total",
    "Trace events by what became of them: queued, delivered (Langfuse took the batch, or the "
    "file has it), rejected (listed in a 207's errors), dropped_full (the queue was full), "
    "dropped_failed (every attempt failed, or still queued at stop), dropped_refused (a 4xx).",
    METRIC_COUNTER,
    {"result", NULL},
    NULL,
    0};
static const struct metric_def fam_trace_queue = {"newsroom_trace_queue_events",
                                                  "Trace events waiting to be sent.",
                                                  METRIC_GAUGE,
                                                  {NULL},
                                                  NULL,
                                                  0};
static const struct metric_def fam_trace_queue_bytes = {"newsroom_trace_queue_bytes",
                                                        "Bytes of trace events waiting to be sent.",
                                                        METRIC_GAUGE,
                                                        {NULL},
                                                        NULL,
                                                        0};
static const struct metric_def fam_trace_batches = {"newsroom_trace_batches_total",
                                                    "Batches delivered, and retried attempts.",
                                                    METRIC_COUNTER,
                                                    {"result", NULL},
                                                    NULL,
                                                    0};
static const struct metric_def fam_trace_up = {
    "newsroom_trace_exporter_up",
    "Whether the trace exporter's target works: 1 Langfuse answered (or the file is in use), "
    "0 it fails.",
    METRIC_GAUGE,
    {"mode", NULL},
    NULL,
    0};
static const struct metric_def fam_swarm = {
    "newsroom_swarm_events_total",
    "What this process's agents did, by kind: cycles (that did work), llm_calls, deferred "
    "(model calls the budget deferred: backpressure from cost), written, duplicates, merged "
    "(near duplicates become further sources), updated, claimed, archived, advanced, failed "
    "(attempts), halt_checks.",
    METRIC_COUNTER,
    {"kind", NULL},
    NULL,
    0};
static const struct metric_def fam_agents_running = {"newsroom_swarm_agents_running",
                                                     "Agents of this process inside their loop.",
                                                     METRIC_GAUGE,
                                                     {NULL},
                                                     NULL,
                                                     0};
static const struct metric_def fam_ring = {
    "newsroom_room_events_dropped_total",
    "Events the control room's ring dropped because the UI was behind (the room rebuilds from "
    "its next snapshot).",
    METRIC_COUNTER,
    {NULL},
    NULL,
    0};

static void collect_process(struct metrics_text *out, struct rlink *l, void *arg)
{
    struct observe *ob = arg;
    struct swarm *s = atomic_load(&ob->swarm);
    struct room *r = atomic_load(&ob->room);

    (void)l;
    metrics_text_family(out, &fam_build);
    metrics_text_sample(out, &fam_build, "", (const char *[]){NEWSROOM_VERSION}, NULL, NULL, 1);
    metrics_text_family(out, &fam_start);
    metrics_text_sample(out, &fam_start, "", NULL, NULL, NULL, ob->started_s);
    if (ob->tracer != NULL) {
        struct tracer_stats st;
        const char *mode = tracer_to_langfuse(ob->tracer) ? "langfuse" : "file";

        tracer_stats(ob->tracer, &st);
        metrics_text_family(out, &fam_trace_events);
        {
            const struct {
                const char *name;
                uint64_t v;
            } rows[] = {{"queued", st.queued},
                        {"delivered", st.delivered},
                        {"rejected", st.rejected},
                        {"dropped_full", st.dropped_full},
                        {"dropped_failed", st.dropped_failed},
                        {"dropped_refused", st.dropped_refused}};

            for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
                metrics_text_sample(out, &fam_trace_events, "", (const char *[]){rows[i].name},
                                    NULL, NULL, (double)rows[i].v);
        }
        metrics_text_family(out, &fam_trace_queue);
        metrics_text_sample(out, &fam_trace_queue, "", NULL, NULL, NULL, (double)st.queue_events);
        metrics_text_family(out, &fam_trace_queue_bytes);
        metrics_text_sample(out, &fam_trace_queue_bytes, "", NULL, NULL, NULL,
                            (double)st.queue_bytes);
        metrics_text_family(out, &fam_trace_batches);
        metrics_text_sample(out, &fam_trace_batches, "", (const char *[]){"delivered"}, NULL, NULL,
                            (double)st.batches);
        metrics_text_sample(out, &fam_trace_batches, "", (const char *[]){"retried"}, NULL, NULL,
                            (double)st.retries);
        metrics_text_family(out, &fam_trace_up);
        metrics_text_sample(out, &fam_trace_up, "", (const char *[]){mode}, NULL, NULL,
                            st.health == 0 ? 0 : 1);
    }
    if (s != NULL) {
        struct swarm_totals t;

        swarm_totals(s, &t);
        {
            const struct {
                const char *name;
                long v;
            } rows[] = {{"cycles", t.cycles},         {"llm_calls", t.llm_calls},
                        {"deferred", t.deferred},     {"written", t.written},
                        {"duplicates", t.duplicates}, {"merged", t.merged},
                        {"updated", t.updated},       {"claimed", t.claimed},
                        {"archived", t.archived},     {"advanced", t.advanced},
                        {"failed", t.failed},         {"halt_checks", t.halt_checks}};

            metrics_text_family(out, &fam_swarm);
            for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
                metrics_text_sample(out, &fam_swarm, "", (const char *[]){rows[i].name}, NULL, NULL,
                                    (double)rows[i].v);
        }
        metrics_text_family(out, &fam_agents_running);
        metrics_text_sample(out, &fam_agents_running, "", NULL, NULL, NULL,
                            (double)swarm_running(s));
    }
    if (r != NULL) {
        metrics_text_family(out, &fam_ring);
        metrics_text_sample(out, &fam_ring, "", NULL, NULL, NULL, (double)room_dropped(r));
    }
}

struct observe *observe_start(const struct observe_options *o, char **cause)
{
    struct observe *ob = xcalloc(1, sizeof *ob);
    const char *listen = o->metrics != NULL ? o->metrics : o->cfg->metrics;

    ob->started_s = (double)clock_wall_ms() / 1000.0;
    if (listen[0] != '\0') {
        ob->metrics = metrics_new();
        ob->http = metrics_http_new(listen, ob->metrics, o->addr, o->link, cause);
        if (ob->http == NULL)
            goto fail;
        metrics_http_add(ob->http, collect_process, ob);
        metrics_http_add(ob->http, collect_redis, (void *)o->cfg);
        if (metrics_http_start(ob->http, cause) == -1)
            goto fail;
    }
    if (o->cfg->tracing && !o->no_tracing) {
        struct tracer_options to;

        tracer_options_from(&to, o->cfg, o->data_dir, &ob->trace_file);
        to.addr = o->addr;
        to.link = o->link;
        ob->tracer = tracer_new(&to, cause);
        if (ob->tracer == NULL || tracer_start(ob->tracer, cause) == -1)
            goto fail;
    }
    trace_install(ob->tracer, ob->metrics);
    return ob;
fail:
    observe_stop(ob);
    return NULL;
}

void observe_set_swarm(struct observe *ob, struct swarm *s)
{
    if (ob != NULL)
        atomic_store(&ob->swarm, s);
}

void observe_set_room(struct observe *ob, struct room *r)
{
    if (ob != NULL)
        atomic_store(&ob->room, r);
}

struct tracer *observe_tracer(struct observe *ob)
{
    return ob != NULL ? ob->tracer : NULL;
}

struct metrics *observe_metrics(struct observe *ob)
{
    return ob != NULL ? ob->metrics : NULL;
}

int observe_metrics_port(const struct observe *ob)
{
    return ob != NULL && ob->http != NULL ? metrics_http_port(ob->http) : 0;
}

int64_t observe_metrics_cpu_us(const struct observe *ob)
{
    return ob != NULL && ob->http != NULL ? metrics_http_cpu_us(ob->http) : 0;
}

void observe_stop(struct observe *ob)
{
    if (ob == NULL)
        return;
    trace_install(NULL, NULL);
    metrics_http_free(ob->http);
    if (ob->tracer != NULL) {
        struct tracer_stats st;

        tracer_stop(ob->tracer);
        tracer_stats(ob->tracer, &st);
        log_info("trace: %llu event(s) queued, %llu delivered (%llu rejected by Langfuse), "
                 "%llu dropped (%llu queue full, %llu failed, %llu refused)",
                 (unsigned long long)st.queued, (unsigned long long)st.delivered,
                 (unsigned long long)st.rejected,
                 (unsigned long long)(st.dropped_full + st.dropped_failed + st.dropped_refused),
                 (unsigned long long)st.dropped_full, (unsigned long long)st.dropped_failed,
                 (unsigned long long)st.dropped_refused);
    }
    tracer_free(ob->tracer);
    metrics_free(ob->metrics);
    free(ob->trace_file);
    free(ob);
}
