/*
 * trace.c - the agents' tracing calls: Langfuse events for the exporter and Prometheus series;
 * see trace.h.
 *
 * Threads: the installed exporter and metrics are atomic pointers, set before the agents
 * start and cleared after they stop. Everything else is per thread: who the thread is, its
 * cycle and the task span it has open. Events are written as JSON text on the calling thread
 * (jsonw.h: straight into a buffer on the stack, no tree of values) and a copy is handed over
 * with tracer_push(), which never waits on the network.
 */
#include "observe/trace.h"

#include "core/clock.h"
#include "core/fail.h"
#include "cost/pricing.h"
#include "observe/jsonw.h"
#include "observe/metrics.h"
#include "observe/trace_store.h"
#include "observe/tracer.h"
#include "store/blackboard.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_STORY_MAX 160
/* Strings a score's comment and a span's status message carry at most. */
#define TRACE_NOTE_MAX 1000

static _Atomic(struct tracer *) g_tracer;
static _Atomic(struct metrics *) g_metrics;

/* Each role's step (the name of its task spans and its stage_duration label) and the stage
 * its tasks belong to (NULL: none, the task hangs from the trace). */
static const struct step {
    const char *role, *step, *stage;
} steps[] = {
    {"scout", "screening", NULL},
    {"analyst", "analysis", "analysis"},
    {"debater", "argument", "debate"},
    {"moderator", "consensus", "debate"},
    {"writer", "writing", "production"},
    {"qa", "qa", "production"},
    {"producer", "packaging", "production"},
    {"approver", "approval", "review"},
    {"publisher", "publishing", "review"},
    {"archivist", "archiving", NULL},
};
static const struct step no_step = {"", "task", NULL};

/* Decisions that move a story between stages. final: the status the story ends in, or -1. */
static const struct move {
    const char *type, *outcome, *ends, *starts;
    int final;
} moves[] = {
    {"coverage", "cover", "analysis", "debate", -1},
    {"coverage", "archive", "analysis", NULL, BB_ARCHIVED},
    {"production", "review", "production", "review", -1},
};

/* The stage a FAILED story was in, by the section it stayed in. */
static const char *const stage_of_section[BB_SECTION_COUNT] = {
    [BB_RAW_FEED] = "analysis",    [BB_DEBATE_QUEUE] = "debate",
    [BB_CONSENSUS] = "production", [BB_PRODUCTION_FLOOR] = "production",
    [BB_REVIEW_QUEUE] = "review",
};

static _Thread_local struct {
    char agent[128], role[32];
    const struct step *step;
    bool in_cycle, cycle_had_task;
    int64_t cycle_ms, cycle_mono; /* wall and monotonic, at the cycle's start */
    bool task_open;
    char task_story[TRACE_STORY_MAX], task_span[LANGFUSE_UUID_LEN];
    int64_t task_ms, task_mono;
} me;

/* Bumped by each trace_install(), so a thread knows a registry it has not seen yet. */
static atomic_uint g_installs;

void trace_install(struct tracer *t, struct metrics *m)
{
    atomic_store(&g_tracer, t);
    atomic_store(&g_metrics, m);
    atomic_fetch_add(&g_installs, 1);
}

/* Whether this thread has yet to make a family's known label sets (at zero, so a query sees 0
 * before the first count) since the registry was installed; *seen is the thread's note of it.
 * A series found once stays, so each thread makes them once, not on every call. */
static bool first_since_install(unsigned *seen)
{
    unsigned now = atomic_load(&g_installs);

    if (*seen == now)
        return false;
    *seen = now;
    return true;
}

bool trace_active(void)
{
    return atomic_load(&g_tracer) != NULL || atomic_load(&g_metrics) != NULL;
}

/* src (NULL: "") into dst of size bytes, cut to fit: snprintf("%s") without the formatter,
 * which costs more than the copy on the tracing calls' path. */
static void copy(char *dst, size_t size, const char *src)
{
    size_t n = src != NULL ? strnlen(src, size - 1) : 0;

    memcpy(dst, src != NULL ? src : "", n);
    dst[n] = '\0';
}

static const struct step *my_step(void)
{
    return me.step != NULL ? me.step : &no_step;
}

/* ---- building events ---- */

/* Bytes of an event written on the stack before the writer moves to the heap: every event but
 * a generation with a long prompt fits. */
#define TRACE_EVENT_STACK 4096

/* One event being written: the envelope {id, timestamp, type, body: {...}} around the body's
 * fields, which the caller writes between ev_begin() and ev_end(). Fields for Langfuse alone
 * (a generation's prompt and answer, its model parameters, the v2 usage and the cost details
 * beside usageDetails and the cost in metadata) are written last, after ev_langfuse_only():
 * ctl trace's copy keeps the text before them, closed. */
struct ev {
    struct jsonw w;
    size_t keep; /* the bytes ctl trace's copy keeps, before "}}"; SIZE_MAX: all of them */
    char buf[TRACE_EVENT_STACK];
};

/* key: an id this program made (langfuse_uuid(), langfuse_uuid_of()), which needs no escape. */
static inline void put_id(struct jsonw *w, const char *key, const char *id)
{
    jsonw_kplain(w, key, id, strlen(id));
}

static void ev_begin(struct ev *e, const char *type)
{
    char id[LANGFUSE_UUID_LEN], ts[LANGFUSE_TIME_LEN];

    jsonw_init(&e->w, e->buf, sizeof e->buf);
    e->keep = SIZE_MAX;
    e->w.long_min = TRACE_STORE_STRING_MAX; /* the strings ctl trace's copy cuts, listed */
    langfuse_uuid(id);
    jsonw_open(&e->w, '{');
    put_id(&e->w, "id", id);
    langfuse_time(clock_wall_ms(), ts);
    jsonw_kplain(&e->w, "timestamp", ts, strlen(ts));
    jsonw_kplain(&e->w, "type", type, strlen(type));
    jsonw_key(&e->w, "body");
    jsonw_open(&e->w, '{');
}

/* The body's fields from here on are for Langfuse alone (see struct ev). Between two fields of
 * the body only. */
static void ev_langfuse_only(struct ev *e)
{
    e->keep = e->w.len;
}

/* Closes the event and hands a copy to the exporter, as an event of trace `trace`. */
static void ev_end(struct tracer *t, struct ev *e, const char *trace)
{
    jsonw_close(&e->w, '}');
    jsonw_close(&e->w, '}');
    tracer_push(t, e->w.p, e->w.len, e->keep, trace, e->w.longs, e->w.nlong);
    jsonw_free(&e->w);
}

static void put_time(struct jsonw *w, const char *key, int64_t ms)
{
    char ts[LANGFUSE_TIME_LEN];

    langfuse_time(ms, ts);
    jsonw_kplain(w, key, ts, strlen(ts));
}

/* The agent and role of this thread, as fields of an open object. */
static void put_who(struct jsonw *w)
{
    if (me.agent[0] != '\0')
        jsonw_kstr(w, "agent", me.agent);
    if (me.role[0] != '\0')
        jsonw_kstr(w, "role", me.role);
}

/* "metadata": {agent, role}. */
static void put_metadata(struct jsonw *w)
{
    jsonw_key(w, "metadata");
    jsonw_open(w, '{');
    put_who(w);
    jsonw_close(w, '}');
}

/* key: s cut to TRACE_NOTE_MAX bytes at a character boundary. */
static void put_note(struct jsonw *w, const char *key, const char *s)
{
    size_t n = strlen(s != NULL ? s : "");

    if (n > TRACE_NOTE_MAX) {
        n = TRACE_NOTE_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    jsonw_key(w, key);
    jsonw_strn(w, s != NULL ? s : "", n);
}

/* "level": "ERROR" and "statusMessage": message. */
static void put_error(struct jsonw *w, const char *message)
{
    jsonw_kstr(w, "level", "ERROR");
    put_note(w, "statusMessage", message);
}

/* The stage ids this thread made last: each event about a story asks for its stage's id (its
 * parent), and the hash behind one costs more than writing the event. */
#define STAGE_IDS 4
static _Thread_local struct {
    char text[TRACE_STORY_MAX + 64], id[LANGFUSE_UUID_LEN];
} stage_ids[STAGE_IDS];
static _Thread_local unsigned stage_next;

static void stage_id(const char *story, const char *stage, char out[LANGFUSE_UUID_LEN])
{
    char text[TRACE_STORY_MAX + 64];
    size_t n = 0;
    unsigned k;

    /* "story|stage|NAME", cut to fit as snprintf() cut it. */
    for (const char *const *p = (const char *const[]){story, "|stage|", stage, NULL}; *p != NULL;
         p++) {
        size_t m = strnlen(*p, sizeof text - 1 - n);

        memcpy(text + n, *p, m);
        n += m;
    }
    text[n] = '\0';
    for (k = 0; k < STAGE_IDS; k++)
        if (strcmp(stage_ids[k].text, text) == 0) {
            memcpy(out, stage_ids[k].id, LANGFUSE_UUID_LEN);
            return;
        }
    langfuse_uuid_of(text, out);
    k = stage_next++ % STAGE_IDS;
    memcpy(stage_ids[k].text, text, sizeof text);
    memcpy(stage_ids[k].id, out, LANGFUSE_UUID_LEN);
}

/* The observation new ones of this thread about story hang from: the open task span, else
 * the stage span of this thread's role, else none (""). */
static void parent_of(const char *story, char out[LANGFUSE_UUID_LEN])
{
    out[0] = '\0';
    if (me.task_open && strcmp(me.task_story, story) == 0)
        copy(out, LANGFUSE_UUID_LEN, me.task_span);
    else if (my_step()->stage != NULL)
        stage_id(story, my_step()->stage, out);
}

static void put_parent(struct jsonw *w, const char *story)
{
    char parent[LANGFUSE_UUID_LEN];

    parent_of(story, parent);
    if (parent[0] != '\0')
        put_id(w, "parentObservationId", parent);
}

/* An event-create about story named name: begins it and opens its output object, whose fields
 * the caller writes before event_end(). */
static void event_begin(struct ev *e, const char *story, const char *name)
{
    ev_begin(e, "event-create");
    jsonw_kstr(&e->w, "traceId", story);
    jsonw_kstr(&e->w, "name", name);
    put_metadata(&e->w);
    put_time(&e->w, "startTime", clock_wall_ms());
    put_parent(&e->w, story);
    jsonw_key(&e->w, "output");
    jsonw_open(&e->w, '{');
}

/* Closes the output, adds input (borrowed, may be NULL) and sends the event. */
static void event_end(struct tracer *t, struct ev *e, const char *story, const json_t *input)
{
    jsonw_close(&e->w, '}');
    if (input != NULL) {
        jsonw_key(&e->w, "input");
        jsonw_value(&e->w, input);
    }
    ev_end(t, e, story);
}

/* A numeric score-create on story's trace, on the open task span when it is about story. */
static void score(struct tracer *t, const char *story, const char *name, double value,
                  const char *comment)
{
    char id[LANGFUSE_UUID_LEN];
    struct ev e;

    if (t == NULL)
        return;
    langfuse_uuid(id);
    ev_begin(&e, "score-create");
    put_id(&e.w, "id", id);
    jsonw_kstr(&e.w, "traceId", story);
    jsonw_kstr(&e.w, "name", name);
    jsonw_knum(&e.w, "value", value);
    jsonw_kstr(&e.w, "dataType", "NUMERIC");
    put_note(&e.w, "comment", comment);
    put_metadata(&e.w);
    if (me.task_open && strcmp(me.task_story, story) == 0)
        put_id(&e.w, "observationId", me.task_span);
    ev_end(t, &e, story);
}

/* trace-create for story naming it name (upsert: the first one creates the trace); status, when
 * not NULL, is its output with reason. */
static void name_trace(struct tracer *t, const char *story, const char *name, const char *status,
                       const char *reason)
{
    struct ev e;

    ev_begin(&e, "trace-create");
    jsonw_kstr(&e.w, "id", story);
    jsonw_kstr(&e.w, "sessionId", story);
    jsonw_kstr(&e.w, "name", name);
    if (status != NULL) {
        jsonw_key(&e.w, "output");
        jsonw_open(&e.w, '{');
        jsonw_kstr(&e.w, "status", status);
        put_note(&e.w, "reason", reason);
        jsonw_close(&e.w, '}');
    }
    ev_end(t, &e, story);
}

/* What a stage span that ends says: the decision that ended it, and with it a score or who
 * decided (NULL, or has_score false: not said). */
struct stage_out {
    const char *decision, *by;
    bool has_score;
    double score;
};

/* Ends stage `ends` (since_ms > 0: it is sent whole, from since_ms) with output and starts
 * `starts`; either may be NULL. A message marks a stage that failed (level ERROR). */
static void move_stage(struct tracer *t, const char *story, const char *ends, const char *starts,
                       int64_t since_ms, int64_t end_ms, const struct stage_out *output,
                       const char *message)
{
    char id[LANGFUSE_UUID_LEN];
    struct ev e;

    if (t == NULL)
        return;
    if (ends != NULL) {
        stage_id(story, ends, id);
        ev_begin(&e, since_ms > 0 ? "span-create" : "span-update");
        put_id(&e.w, "id", id);
        jsonw_kstr(&e.w, "traceId", story);
        jsonw_kstr(&e.w, "name", ends);
        if (since_ms > 0)
            put_time(&e.w, "startTime", since_ms);
        put_time(&e.w, "endTime", end_ms);
        if (output != NULL) {
            jsonw_key(&e.w, "output");
            jsonw_open(&e.w, '{');
            jsonw_kstr(&e.w, "decision", output->decision);
            if (output->has_score)
                jsonw_knum(&e.w, "score", output->score);
            if (output->by != NULL)
                jsonw_kstr(&e.w, "by", output->by);
            jsonw_close(&e.w, '}');
        }
        if (message != NULL)
            put_error(&e.w, message);
        ev_end(t, &e, story);
    }
    if (starts != NULL) {
        stage_id(story, starts, id);
        ev_begin(&e, "span-create");
        put_id(&e.w, "id", id);
        jsonw_kstr(&e.w, "traceId", story);
        jsonw_kstr(&e.w, "name", starts);
        put_time(&e.w, "startTime", clock_wall_ms());
        ev_end(t, &e, story);
        name_trace(t, story, starts, NULL, NULL);
    }
}

/* The story reached status `status` (PUBLISHED or ARCHIVED) with reason: the trace ends. */
static void end_trace(struct tracer *t, struct metrics *m, const char *story, int status,
                      const char *reason, int64_t created_ms)
{
    const char *name = bb_statuses[status].name;
    char lower[24];
    size_t i;

    /* The trace is named after how it ended: "published", "archived". */
    for (i = 0; name[i] != '\0' && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    if (t != NULL)
        name_trace(t, story, lower, name, reason);
    metrics_add(m, &metric_stories_finished, (const char *[]){name}, 1);
    if (created_ms > 0)
        metrics_observe(m, &metric_story_duration, (const char *[]){lower},
                        (double)(clock_wall_ms() - created_ms) / 1000.0);
}

/* ---- the agent's thread ---- */

void trace_agent(const char *agent, const char *role)
{
    struct metrics *m = atomic_load(&g_metrics);
    static const char *const outcomes[] = {"done", "gave_back", "error"};

    memset(&me, 0, sizeof me);
    copy(me.agent, sizeof me.agent, agent);
    copy(me.role, sizeof me.role, role);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (strcmp(steps[i].role, me.role) == 0)
            me.step = &steps[i];
    /* Known label sets start at zero, so a query sees 0 before the first error. */
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        metrics_touch(m, &metric_tasks, (const char *[]){me.role, outcomes[i]});
    metrics_touch(m, &metric_failed_attempts, (const char *[]){me.role});
}

static void close_task(int rc, const char *cause)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);
    const char *outcome = rc < 0 ? "error" : rc == 0 ? "gave_back" : "done";

    if (!me.task_open)
        return;
    if (t != NULL) {
        struct ev e;

        ev_begin(&e, "span-update");
        put_id(&e.w, "id", me.task_span);
        jsonw_kstr(&e.w, "traceId", me.task_story);
        jsonw_key(&e.w, "output");
        jsonw_open(&e.w, '{');
        jsonw_kstr(&e.w, "outcome", outcome);
        jsonw_close(&e.w, '}');
        put_time(&e.w, "endTime", clock_wall_ms());
        if (rc < 0)
            put_error(&e.w, cause != NULL ? cause : "failed");
        ev_end(t, &e, me.task_story);
    }
    metrics_add(m, &metric_tasks, (const char *[]){me.role, outcome}, 1);
    metrics_observe(m, &metric_stage_duration, (const char *[]){my_step()->step},
                    (double)(clock_mono_ms() - me.task_mono) / 1000.0);
    me.task_open = false;
}

static void open_task(const char *story)
{
    struct tracer *t = atomic_load(&g_tracer);

    if (!me.in_cycle || story == NULL || *story == '\0')
        return;
    if (me.task_open && strcmp(me.task_story, story) == 0)
        return;
    if (me.task_open)
        close_task(1, NULL); /* a cycle that goes on to another story finished this one */
    me.task_open = true;
    copy(me.task_story, sizeof me.task_story, story);
    langfuse_uuid(me.task_span);
    /* The cycle's first task started with the cycle (its claim); a later one starts now. */
    me.task_ms = me.cycle_had_task ? clock_wall_ms() : me.cycle_ms;
    me.task_mono = me.cycle_had_task ? clock_mono_ms() : me.cycle_mono;
    me.cycle_had_task = true;
    if (t != NULL) {
        struct ev e;

        /* The trace exists (an upsert that changes nothing when it does): a story written by
         * ctl ingest has no scout to start it, and the analyst is the first to see it. */
        if (strcmp(me.role, "analyst") == 0) {
            ev_begin(&e, "trace-create");
            jsonw_kstr(&e.w, "id", me.task_story);
            jsonw_kstr(&e.w, "sessionId", me.task_story);
            ev_end(t, &e, me.task_story);
        }
        ev_begin(&e, "span-create");
        put_id(&e.w, "id", me.task_span);
        jsonw_kstr(&e.w, "traceId", me.task_story);
        jsonw_kstr(&e.w, "name", my_step()->step);
        put_metadata(&e.w);
        put_time(&e.w, "startTime", me.task_ms);
        if (my_step()->stage != NULL) {
            char parent[LANGFUSE_UUID_LEN];

            stage_id(me.task_story, my_step()->stage, parent);
            put_id(&e.w, "parentObservationId", parent);
        }
        ev_end(t, &e, me.task_story);
    }
}

void trace_cycle_begin(void)
{
    me.in_cycle = true;
    me.cycle_had_task = false;
    me.cycle_ms = clock_wall_ms();
    me.cycle_mono = clock_mono_ms();
}

void trace_cycle_end(int rc, const char *cause)
{
    close_task(rc, cause);
    me.in_cycle = false;
}

void trace_task(const char *story)
{
    open_task(story);
}

void trace_reclaimed(const char *why, int n)
{
    /* Added even when n is 0: the series exists from the first look, so a rate over it reads
     * 0 rather than nothing. */
    metrics_add(atomic_load(&g_metrics), &metric_reclaims, (const char *[]){why}, n);
}

void trace_failed_attempt(void)
{
    metrics_add(atomic_load(&g_metrics), &metric_failed_attempts, (const char *[]){me.role}, 1);
}

/* ---- the story ---- */

void trace_story_start(const char *story, const char *title, const char *source, const char *url)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct ev e;

    metrics_add(atomic_load(&g_metrics), &metric_stories_ingested, NULL, 1);
    if (t == NULL)
        return;
    ev_begin(&e, "trace-create");
    jsonw_kstr(&e.w, "id", story);
    jsonw_kstr(&e.w, "name", "analysis");
    jsonw_kstr(&e.w, "sessionId", story);
    jsonw_key(&e.w, "input");
    jsonw_open(&e.w, '{');
    jsonw_kstr(&e.w, "title", title);
    jsonw_kstr(&e.w, "source", source);
    if (url != NULL)
        jsonw_kstr(&e.w, "url", url);
    jsonw_close(&e.w, '}');
    put_metadata(&e.w);
    jsonw_key(&e.w, "tags");
    jsonw_open(&e.w, '[');
    jsonw_str(&e.w, "story");
    jsonw_close(&e.w, ']');
    put_time(&e.w, "timestamp", clock_wall_ms());
    ev_end(t, &e, story);
}

void trace_gen_begin(struct trace_gen *g, const char *story, const struct llm_request *req,
                     const char *model, enum llm_tier tier)
{
    struct tracer *t = atomic_load(&g_tracer);
    char temp[32];
    struct ev e;

    memset(g, 0, sizeof *g);
    if (t == NULL && atomic_load(&g_metrics) == NULL)
        return;
    g->on = true;
    g->tier = tier;
    g->start_ms = clock_wall_ms();
    copy(g->model, sizeof g->model, model);
    copy(g->task_type, sizeof g->task_type, req->task_type);
    langfuse_uuid(g->id);
    if (story != NULL && *story != '\0') {
        copy(g->story, sizeof g->story, story);
        copy(g->trace_id, sizeof g->trace_id, story);
        open_task(story);
    } else {
        char id[LANGFUSE_UUID_LEN];

        /* A call about no single story (a screening batch): a trace of its own. */
        langfuse_uuid(id);
        snprintf(g->trace_id, sizeof g->trace_id, "batch-%s", id);
        if (t != NULL) {
            ev_begin(&e, "trace-create");
            jsonw_kstr(&e.w, "id", g->trace_id);
            jsonw_kstr(&e.w, "name", g->task_type[0] != '\0' ? g->task_type : "batch");
            put_metadata(&e.w);
            jsonw_key(&e.w, "tags");
            jsonw_open(&e.w, '[');
            jsonw_str(&e.w, "batch");
            jsonw_close(&e.w, ']');
            ev_end(t, &e, g->trace_id);
        }
    }
    if (t == NULL)
        return;
    ev_begin(&e, "generation-create");
    put_id(&e.w, "id", g->id);
    jsonw_kstr(&e.w, "traceId", g->trace_id);
    jsonw_kstr(&e.w, "name", g->task_type[0] != '\0' ? g->task_type : "call");
    jsonw_kstr(&e.w, "model", g->model);
    jsonw_key(&e.w, "metadata");
    jsonw_open(&e.w, '{');
    put_who(&e.w);
    jsonw_kstr(&e.w, "tier", pricing_tier_name(tier));
    jsonw_kstr(&e.w, "task_type", g->task_type);
    jsonw_close(&e.w, '}');
    put_time(&e.w, "startTime", g->start_ms);
    if (g->story[0] != '\0')
        put_parent(&e.w, g->story);
    ev_langfuse_only(&e);
    /* modelParameters values are strings, integers, booleans or string lists (MapValue). */
    snprintf(temp, sizeof temp, "%g", req->temperature);
    jsonw_key(&e.w, "modelParameters");
    jsonw_open(&e.w, '{');
    jsonw_kstr(&e.w, "temperature", temp);
    jsonw_kint(&e.w, "max_tokens", req->max_tokens);
    jsonw_kstr(&e.w, "response_format", req->json ? "json_object" : "text");
    jsonw_close(&e.w, '}');
    jsonw_key(&e.w, "input");
    jsonw_open(&e.w, '[');
    for (size_t i = 0; i < req->nmessages; i++) {
        jsonw_open(&e.w, '{');
        jsonw_kstr(&e.w, "role", req->messages[i].role != NULL ? req->messages[i].role : "user");
        jsonw_kstr(&e.w, "content", req->messages[i].content);
        jsonw_close(&e.w, '}');
    }
    jsonw_close(&e.w, ']');
    ev_end(t, &e, g->trace_id);
}

/* "key": {input, output, total} of micro-dollars, as dollars. */
static void put_costs(struct jsonw *w, const char *key, int64_t in, int64_t total)
{
    jsonw_key(w, key);
    jsonw_open(w, '{');
    jsonw_knum(w, "input", (double)in / 1e6);
    jsonw_knum(w, "output", (double)(total - in) / 1e6);
    jsonw_knum(w, "total", (double)total / 1e6);
    jsonw_close(w, '}');
}

void trace_gen_end(struct trace_gen *g, const struct llm_response *resp, const char *error,
                   int64_t cost, int64_t input_cost, const char *served)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);
    const char *tier = pricing_tier_name(g->tier);
    const char *outcome = resp == NULL ? "error" : resp->cached ? "cached" : "ok";
    int64_t end = clock_wall_ms();

    if (!g->on)
        return;
    if (served != NULL && *served != '\0' && strcmp(served, g->model) != 0)
        copy(g->model, sizeof g->model, served); /* a fallback answered */
    if (t != NULL) {
        struct ev e;

        ev_begin(&e, "generation-update");
        put_id(&e.w, "id", g->id);
        jsonw_kstr(&e.w, "traceId", g->trace_id);
        jsonw_kstr(&e.w, "model", g->model);
        put_time(&e.w, "endTime", end);
        if (resp != NULL) {
            int p = resp->prompt_tokens, c = resp->completion_tokens;

            jsonw_key(&e.w, "usageDetails");
            jsonw_open(&e.w, '{');
            jsonw_kint(&e.w, "input", p);
            jsonw_kint(&e.w, "output", c);
            jsonw_kint(&e.w, "total", (int64_t)p + c);
            jsonw_close(&e.w, '}');
            jsonw_key(&e.w, "metadata");
            jsonw_open(&e.w, '{');
            jsonw_kint(&e.w, "cost_micro_usd", cost);
            jsonw_kbool(&e.w, "cached", resp->cached);
            jsonw_kint(&e.w, "latency_ms", resp->latency_ms);
            if (resp->served_by[0] != '\0')
                jsonw_kstr(&e.w, "served_by", resp->served_by);
            if (resp->fallback)
                jsonw_kbool(&e.w, "fallback", true);
            jsonw_close(&e.w, '}');
            ev_langfuse_only(&e);
            jsonw_kstr(&e.w, "output", resp->text);
            put_time(&e.w, "completionStartTime", end);
            jsonw_key(&e.w, "usage");
            jsonw_open(&e.w, '{');
            jsonw_kint(&e.w, "input", p);
            jsonw_kint(&e.w, "output", c);
            jsonw_kint(&e.w, "total", (int64_t)p + c);
            jsonw_kstr(&e.w, "unit", "TOKENS");
            jsonw_knum(&e.w, "inputCost", (double)input_cost / 1e6);
            jsonw_knum(&e.w, "outputCost", (double)(cost - input_cost) / 1e6);
            jsonw_knum(&e.w, "totalCost", (double)cost / 1e6);
            jsonw_close(&e.w, '}');
            put_costs(&e.w, "costDetails", input_cost, cost);
        } else {
            put_error(&e.w, error != NULL ? error : "failed");
        }
        ev_end(t, &e, g->trace_id);
    }
    if (m != NULL) {
        const char *agent = me.agent, *role = me.role;

        metrics_add(m, &metric_llm_calls,
                    (const char *[]){agent, role, tier, g->model, g->task_type, outcome}, 1);
        metrics_touch(m, &metric_llm_calls,
                      (const char *[]){agent, role, tier, g->model, g->task_type, "error"});
        if (resp != NULL) {
            metrics_add(m, &metric_llm_tokens,
                        (const char *[]){agent, tier, g->model, g->task_type, "prompt"},
                        resp->prompt_tokens);
            metrics_add(m, &metric_llm_tokens,
                        (const char *[]){agent, tier, g->model, g->task_type, "completion"},
                        resp->completion_tokens);
            metrics_add(m, &metric_llm_cost, (const char *[]){agent, tier, g->model, g->task_type},
                        (double)cost / 1e6);
        }
        metrics_observe(
            m, &metric_llm_duration, (const char *[]){tier, g->model},
            (double)(resp != NULL && resp->latency_ms > 0 ? resp->latency_ms : end - g->start_ms) /
                1000.0);
    }
    g->on = false;
}

void trace_decision(const struct trace_decision *d)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);

    if (t == NULL && m == NULL)
        return;
    open_task(d->story);
    metrics_add(m, &metric_decisions, (const char *[]){me.role, d->type, d->outcome}, 1);
    if (d->confidence >= 0)
        metrics_observe(m, &metric_decision_confidence, (const char *[]){me.role, d->type},
                        d->confidence);
    if (t != NULL) {
        char name[96];
        const json_t *o = json_is_object(d->output) ? d->output : NULL;
        const char *key;
        json_t *v;
        struct ev e;

        snprintf(name, sizeof name, "decision: %s", d->type);
        event_begin(&e, d->story, name);
        /* The decision's own fields, then what the role adds (which wins a name both have). */
        if (json_object_get(o, "decision") == NULL)
            jsonw_kstr(&e.w, "decision", d->outcome);
        if (json_object_get(o, "reasoning") == NULL)
            put_note(&e.w, "reasoning", d->reasoning);
        if (d->confidence >= 0 && json_object_get(o, "confidence") == NULL)
            jsonw_knum(&e.w, "confidence", d->confidence);
        if (o != NULL)
            json_object_foreach((json_t *)o, key, v)
            {
                jsonw_key(&e.w, key);
                jsonw_value(&e.w, v);
            }
        event_end(t, &e, d->story, d->input);
    }
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (strcmp(moves[i].type, d->type) == 0 && strcmp(moves[i].outcome, d->outcome) == 0) {
            move_stage(t, d->story, moves[i].ends, moves[i].starts, d->since_ms, clock_wall_ms(),
                       &(struct stage_out){.decision = d->outcome}, NULL);
            if (moves[i].final >= 0)
                end_trace(t, m, d->story, moves[i].final, d->reasoning, 0);
        }
}

void trace_vote(const char *story, const char *vote, double confidence, const char *reasoning)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);
    static const char *const votes[] = {"for", "against", "abstain"};
    static _Thread_local unsigned votes_seen;

    if (t == NULL && m == NULL)
        return;
    open_task(story);
    if (first_since_install(&votes_seen))
        for (size_t i = 0; i < sizeof votes / sizeof votes[0]; i++)
            metrics_touch(m, &metric_votes, (const char *[]){votes[i]});
    metrics_add(m, &metric_votes, (const char *[]){vote}, 1);
    metrics_observe(m, &metric_vote_confidence, NULL, confidence);
    metrics_add(m, &metric_decisions, (const char *[]){me.role, "vote", vote}, 1);
    metrics_observe(m, &metric_decision_confidence, (const char *[]){me.role, "vote"}, confidence);
    if (t != NULL) {
        char comment[TRACE_NOTE_MAX + 32];
        struct ev e;

        event_begin(&e, story, "vote");
        jsonw_kstr(&e.w, "vote", vote);
        jsonw_knum(&e.w, "confidence", confidence);
        put_note(&e.w, "reasoning", reasoning);
        event_end(t, &e, story, NULL);
        snprintf(comment, sizeof comment, "%s: %.*s", vote, TRACE_NOTE_MAX,
                 reasoning != NULL ? reasoning : "");
        score(t, story, "vote_confidence", confidence, comment);
    }
}

void trace_consensus(const char *story, double score_v, double threshold, bool reached, int votes,
                     const char *reason)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);
    const char *outcome = reached ? "reached" : "no_consensus";
    static _Thread_local unsigned debates_seen;

    if (t == NULL && m == NULL)
        return;
    open_task(story);
    if (first_since_install(&debates_seen)) {
        metrics_touch(m, &metric_debates, (const char *[]){"reached"});
        metrics_touch(m, &metric_debates, (const char *[]){"no_consensus"});
    }
    metrics_add(m, &metric_debates, (const char *[]){outcome}, 1);
    metrics_observe(m, &metric_consensus_score, NULL, score_v);
    metrics_add(m, &metric_decisions, (const char *[]){me.role, "consensus", outcome}, 1);
    if (t != NULL) {
        struct ev e;

        event_begin(&e, story, "consensus");
        jsonw_kstr(&e.w, "decision", outcome);
        jsonw_knum(&e.w, "score", score_v);
        jsonw_knum(&e.w, "threshold", threshold);
        jsonw_kbool(&e.w, "reached", reached);
        jsonw_kint(&e.w, "votes", votes);
        put_note(&e.w, "reason", reason);
        event_end(t, &e, story, NULL);
        score(t, story, "consensus", score_v, reason);
    }
    move_stage(t, story, "debate", reached ? "production" : NULL, 0, clock_wall_ms(),
               &(struct stage_out){.decision = outcome, .has_score = true, .score = score_v}, NULL);
    if (!reached)
        end_trace(t, m, story, BB_ARCHIVED, reason, 0);
}

void trace_revision(const char *story, int number, const char *type, double improvement,
                    double before, double after, bool kept, const char *reasoning)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);

    if (t == NULL && m == NULL)
        return;
    open_task(story);
    metrics_add(m, &metric_revisions, (const char *[]){type, kept ? "true" : "false"}, 1);
    metrics_observe(m, &metric_revision_improvement, (const char *[]){type}, improvement);
    if (t != NULL) {
        char name[96];
        struct ev e;

        snprintf(name, sizeof name, "revision %d: %s", number, type);
        event_begin(&e, story, name);
        jsonw_kint(&e.w, "number", number);
        jsonw_kstr(&e.w, "type", type);
        jsonw_knum(&e.w, "improvement", improvement);
        jsonw_knum(&e.w, "score_before", before);
        jsonw_knum(&e.w, "score_after", after);
        jsonw_kbool(&e.w, "kept", kept);
        put_note(&e.w, "reasoning", reasoning);
        event_end(t, &e, story, NULL);
        score(t, story, "revision_improvement", improvement, reasoning);
    }
}

void trace_qa(const char *story, int round, double score_v, bool passed, const char *reasoning)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);
    static _Thread_local unsigned verdicts_seen;

    if (t == NULL && m == NULL)
        return;
    open_task(story);
    if (first_since_install(&verdicts_seen)) {
        metrics_touch(m, &metric_qa_verdicts, (const char *[]){"true"});
        metrics_touch(m, &metric_qa_verdicts, (const char *[]){"false"});
    }
    metrics_add(m, &metric_qa_verdicts, (const char *[]){passed ? "true" : "false"}, 1);
    metrics_observe(m, &metric_qa_score, NULL, score_v);
    metrics_add(m, &metric_decisions,
                (const char *[]){me.role, "qa_verdict", passed ? "passed" : "failed"}, 1);
    if (t != NULL) {
        char name[64];
        struct ev e;

        snprintf(name, sizeof name, "qa round %d", round);
        event_begin(&e, story, name);
        jsonw_kint(&e.w, "round", round);
        jsonw_knum(&e.w, "score", score_v);
        jsonw_kbool(&e.w, "passed", passed);
        put_note(&e.w, "reasoning", reasoning);
        event_end(t, &e, story, NULL);
        score(t, story, "qa_score", score_v, reasoning);
    }
}

void trace_story_moved(const struct bb_item *it, int to, const char *reason)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);

    if (t == NULL && m == NULL)
        return;
    open_task(it->id);
    if (it->status == BB_PUBLISHED_S) {
        /* Retention of a story that ended long ago: said, nothing else changes. */
        if (t != NULL) {
            struct ev e;

            event_begin(&e, it->id, "retention");
            jsonw_kstr(&e.w, "reason", reason);
            event_end(t, &e, it->id, NULL);
        }
        return;
    }
    if ((it->status == BB_APPROVED || it->status == BB_REJECTED) && it->decided_ms > 0)
        /* The review ended when the reviewer decided. */
        move_stage(
            t, it->id, "review", NULL, 0, it->decided_ms,
            &(struct stage_out){.decision = bb_statuses[it->status].name, .by = it->decided_by},
            NULL);
    else if (it->status == BB_FAILED && it->section >= 0 && it->section < BB_SECTION_COUNT &&
             stage_of_section[it->section] != NULL)
        move_stage(t, it->id, stage_of_section[it->section], NULL,
                   it->section == BB_RAW_FEED ? it->created_ms : 0, clock_wall_ms(),
                   &(struct stage_out){.decision = "FAILED"}, it->fail_reason);
    if (to == BB_PRODUCING)
        move_stage(t, it->id, NULL, "production", 0, 0, NULL, NULL);
    else if (to == BB_PUBLISHED_S || to == BB_ARCHIVED)
        end_trace(t, m, it->id, to, reason, it->created_ms);
}
