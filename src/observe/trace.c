/*
 * trace.c - the agents' tracing calls: Langfuse events for the exporter and Prometheus series;
 * see trace.h.
 *
 * Threads: the installed exporter and metrics are atomic pointers, set before the agents
 * start and cleared after they stop. Everything else is per thread: who the thread is, its
 * cycle and the task span it has open. Events are built and serialised on the calling thread
 * and handed over with tracer_push(), which never waits on the network.
 */
#include "observe/trace.h"

#include "core/clock.h"
#include "core/fail.h"
#include "cost/pricing.h"
#include "observe/metrics.h"
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

void trace_install(struct tracer *t, struct metrics *m)
{
    atomic_store(&g_tracer, t);
    atomic_store(&g_metrics, m);
}

bool trace_active(void)
{
    return atomic_load(&g_tracer) != NULL || atomic_load(&g_metrics) != NULL;
}

static const struct step *my_step(void)
{
    return me.step != NULL ? me.step : &no_step;
}

/* ---- building events ---- */

/* Hands an event of type with body (taken) to the exporter, or drops it when none. */
static void emit(struct tracer *t, const char *type, json_t *body)
{
    const char *trace;
    json_t *ev;
    char *text;

    if (t == NULL || body == NULL) {
        json_decref(body);
        return;
    }
    trace = json_string_value(
        json_object_get(body, strcmp(type, "trace-create") == 0 ? "id" : "traceId"));
    ev = langfuse_event(type, body, clock_wall_ms());
    text = json_dumps(ev, JSON_COMPACT);
    if (text != NULL)
        tracer_push(t, text, strlen(text), trace);
    json_decref(ev);
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
    char ts[LANGFUSE_TIME_LEN];

    json_object_set_new(o, key, json_string(langfuse_time(ms, ts)));
}

/* {agent, role} of this thread (new reference). */
static json_t *who(void)
{
    json_t *m = json_object();

    if (me.agent[0] != '\0')
        json_object_set_new(m, "agent", json_string(me.agent));
    if (me.role[0] != '\0')
        json_object_set_new(m, "role", json_string(me.role));
    return m;
}

/* s cut to TRACE_NOTE_MAX bytes at a character boundary (new reference). */
static json_t *note(const char *s)
{
    size_t n = strlen(s != NULL ? s : "");

    if (n <= TRACE_NOTE_MAX)
        return json_string(s != NULL ? s : "");
    n = TRACE_NOTE_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return json_stringn(s, n);
}

static void stage_id(const char *story, const char *stage, char out[LANGFUSE_UUID_LEN])
{
    char text[TRACE_STORY_MAX + 64];

    snprintf(text, sizeof text, "%s|stage|%s", story, stage);
    langfuse_uuid_of(text, out);
}

/* The observation new ones of this thread about story hang from: the open task span, else
 * the stage span of this thread's role, else none (""). */
static void parent_of(const char *story, char out[LANGFUSE_UUID_LEN])
{
    out[0] = '\0';
    if (me.task_open && strcmp(me.task_story, story) == 0)
        snprintf(out, LANGFUSE_UUID_LEN, "%s", me.task_span);
    else if (my_step()->stage != NULL)
        stage_id(story, my_step()->stage, out);
}

static void set_parent(json_t *body, const char *story)
{
    char parent[LANGFUSE_UUID_LEN];

    parent_of(story, parent);
    if (parent[0] != '\0')
        json_object_set_new(body, "parentObservationId", json_string(parent));
}

/* An event-create about story: name, output (taken), input (borrowed, may be NULL). */
static void event(struct tracer *t, const char *story, const char *name, json_t *output,
                  const json_t *input)
{
    json_t *body;

    if (t == NULL) {
        json_decref(output);
        return;
    }
    body = json_pack("{s:s, s:s, s:o, s:o}", "traceId", story, "name", name, "output", output,
                     "metadata", who());
    set_time(body, "startTime", clock_wall_ms());
    if (input != NULL)
        json_object_set(body, "input", (json_t *)input);
    set_parent(body, story);
    emit(t, "event-create", body);
}

/* A numeric score-create on story's trace, on the open task span when it is about story. */
static void score(struct tracer *t, const char *story, const char *name, double value,
                  const char *comment)
{
    char id[LANGFUSE_UUID_LEN];
    json_t *body;

    if (t == NULL)
        return;
    langfuse_uuid(id);
    body = json_pack("{s:s, s:s, s:s, s:f, s:s, s:o, s:o}", "id", id, "traceId", story, "name",
                     name, "value", value, "dataType", "NUMERIC", "comment", note(comment),
                     "metadata", who());
    if (me.task_open && strcmp(me.task_story, story) == 0)
        json_object_set_new(body, "observationId", json_string(me.task_span));
    emit(t, "score-create", body);
}

/* trace-create for story naming it after stage (upsert: the first one creates the trace). */
static void name_trace(struct tracer *t, const char *story, const char *name, json_t *output)
{
    json_t *body;

    if (t == NULL) {
        json_decref(output);
        return;
    }
    body = json_pack("{s:s, s:s, s:s}", "id", story, "sessionId", story, "name", name);
    if (output != NULL)
        json_object_set_new(body, "output", output);
    emit(t, "trace-create", body);
}

/* Ends stage `ends` (since_ms > 0: it is sent whole, from since_ms) and starts `starts`;
 * either may be NULL. level "ERROR" with message marks a stage that failed. */
static void move_stage(struct tracer *t, const char *story, const char *ends, const char *starts,
                       int64_t since_ms, int64_t end_ms, json_t *output, const char *message)
{
    char id[LANGFUSE_UUID_LEN];
    json_t *body;

    if (t == NULL) {
        json_decref(output);
        return;
    }
    if (ends != NULL) {
        stage_id(story, ends, id);
        body = json_pack("{s:s, s:s, s:s}", "id", id, "traceId", story, "name", ends);
        if (since_ms > 0)
            set_time(body, "startTime", since_ms);
        set_time(body, "endTime", end_ms);
        if (output != NULL)
            json_object_set(body, "output", output);
        if (message != NULL) {
            json_object_set_new(body, "level", json_string("ERROR"));
            json_object_set_new(body, "statusMessage", note(message));
        }
        emit(t, since_ms > 0 ? "span-create" : "span-update", body);
    }
    json_decref(output);
    if (starts != NULL) {
        stage_id(story, starts, id);
        body = json_pack("{s:s, s:s, s:s}", "id", id, "traceId", story, "name", starts);
        set_time(body, "startTime", clock_wall_ms());
        emit(t, "span-create", body);
        name_trace(t, story, starts, NULL);
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
    name_trace(t, story, lower, json_pack("{s:s, s:o}", "status", name, "reason", note(reason)));
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
    snprintf(me.agent, sizeof me.agent, "%s", agent != NULL ? agent : "");
    snprintf(me.role, sizeof me.role, "%s", role != NULL ? role : "");
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
        json_t *body = json_pack("{s:s, s:s, s:{s:s}}", "id", me.task_span, "traceId",
                                 me.task_story, "output", "outcome", outcome);

        set_time(body, "endTime", clock_wall_ms());
        if (rc < 0) {
            json_object_set_new(body, "level", json_string("ERROR"));
            json_object_set_new(body, "statusMessage", note(cause != NULL ? cause : "failed"));
        }
        emit(t, "span-update", body);
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
    snprintf(me.task_story, sizeof me.task_story, "%s", story);
    langfuse_uuid(me.task_span);
    /* The cycle's first task started with the cycle (its claim); a later one starts now. */
    me.task_ms = me.cycle_had_task ? clock_wall_ms() : me.cycle_ms;
    me.task_mono = me.cycle_had_task ? clock_mono_ms() : me.cycle_mono;
    me.cycle_had_task = true;
    if (t != NULL) {
        json_t *body;
        char parent[LANGFUSE_UUID_LEN] = "";

        /* The trace exists (an upsert that changes nothing when it does): a story written by
         * ctl ingest has no scout to start it, and the analyst is the first to see it. */
        if (strcmp(me.role, "analyst") == 0)
            emit(t, "trace-create",
                 json_pack("{s:s, s:s}", "id", me.task_story, "sessionId", me.task_story));
        body = json_pack("{s:s, s:s, s:s, s:o}", "id", me.task_span, "traceId", me.task_story,
                         "name", my_step()->step, "metadata", who());
        set_time(body, "startTime", me.task_ms);
        if (my_step()->stage != NULL) {
            stage_id(me.task_story, my_step()->stage, parent);
            json_object_set_new(body, "parentObservationId", json_string(parent));
        }
        emit(t, "span-create", body);
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
    json_t *body;

    metrics_add(atomic_load(&g_metrics), &metric_stories_ingested, NULL, 1);
    if (t == NULL)
        return;
    body = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s?}, s:o, s:[s]}", "id", story, "name",
                     "analysis", "sessionId", story, "input", "title", title != NULL ? title : "",
                     "source", source != NULL ? source : "", "url", url, "metadata", who(), "tags",
                     "story");
    set_time(body, "timestamp", clock_wall_ms());
    emit(t, "trace-create", body);
}

void trace_gen_begin(struct trace_gen *g, const char *story, const struct llm_request *req,
                     const char *model, enum llm_tier tier)
{
    struct tracer *t = atomic_load(&g_tracer);
    char temp[32];
    json_t *body, *input;

    memset(g, 0, sizeof *g);
    if (t == NULL && atomic_load(&g_metrics) == NULL)
        return;
    g->on = true;
    g->tier = tier;
    g->start_ms = clock_wall_ms();
    snprintf(g->model, sizeof g->model, "%s", model != NULL ? model : "");
    snprintf(g->task_type, sizeof g->task_type, "%s", req->task_type != NULL ? req->task_type : "");
    langfuse_uuid(g->id);
    if (story != NULL && *story != '\0') {
        snprintf(g->story, sizeof g->story, "%s", story);
        snprintf(g->trace_id, sizeof g->trace_id, "%s", story);
        open_task(story);
    } else {
        char id[LANGFUSE_UUID_LEN];

        /* A call about no single story (a screening batch): a trace of its own. */
        langfuse_uuid(id);
        snprintf(g->trace_id, sizeof g->trace_id, "batch-%s", id);
        if (t != NULL)
            emit(t, "trace-create",
                 json_pack("{s:s, s:s, s:o, s:[s]}", "id", g->trace_id, "name",
                           g->task_type[0] != '\0' ? g->task_type : "batch", "metadata", who(),
                           "tags", "batch"));
    }
    if (t == NULL)
        return;
    input = json_array();
    for (size_t i = 0; i < req->nmessages; i++)
        json_array_append_new(
            input,
            json_pack("{s:s, s:s}", "role",
                      req->messages[i].role != NULL ? req->messages[i].role : "user", "content",
                      req->messages[i].content != NULL ? req->messages[i].content : ""));
    /* modelParameters values are strings, integers, booleans or string lists (MapValue). */
    snprintf(temp, sizeof temp, "%g", req->temperature);
    body = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:i, s:s}, s:o, s:o}", "id", g->id, "traceId",
                     g->trace_id, "name", g->task_type[0] != '\0' ? g->task_type : "call", "model",
                     g->model, "modelParameters", "temperature", temp, "max_tokens",
                     req->max_tokens, "response_format", req->json ? "json_object" : "text",
                     "input", input, "metadata", who());
    json_object_set_new(json_object_get(body, "metadata"), "tier",
                        json_string(pricing_tier_name(tier)));
    json_object_set_new(json_object_get(body, "metadata"), "task_type", json_string(g->task_type));
    set_time(body, "startTime", g->start_ms);
    if (g->story[0] != '\0')
        set_parent(body, g->story);
    emit(t, "generation-create", body);
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
        snprintf(g->model, sizeof g->model, "%s", served); /* a fallback answered */
    if (t != NULL) {
        json_t *body =
            json_pack("{s:s, s:s, s:s}", "id", g->id, "traceId", g->trace_id, "model", g->model);

        set_time(body, "endTime", end);
        if (resp != NULL) {
            double in = (double)input_cost / 1e6, total = (double)cost / 1e6;
            int p = resp->prompt_tokens, c = resp->completion_tokens;

            json_object_set_new(body, "output", json_string(resp->text != NULL ? resp->text : ""));
            set_time(body, "completionStartTime", end);
            json_object_set_new(body, "usage",
                                json_pack("{s:i, s:i, s:i, s:s, s:f, s:f, s:f}", "input", p,
                                          "output", c, "total", p + c, "unit", "TOKENS",
                                          "inputCost", in, "outputCost", total - in, "totalCost",
                                          total));
            json_object_set_new(
                body, "usageDetails",
                json_pack("{s:i, s:i, s:i}", "input", p, "output", c, "total", p + c));
            json_object_set_new(
                body, "costDetails",
                json_pack("{s:f, s:f, s:f}", "input", in, "output", total - in, "total", total));
            json_object_set_new(body, "metadata",
                                json_pack("{s:I, s:b, s:I}", "cost_micro_usd", (json_int_t)cost,
                                          "cached", resp->cached, "latency_ms",
                                          (json_int_t)resp->latency_ms));
            if (resp->served_by[0] != '\0')
                json_object_set_new(json_object_get(body, "metadata"), "served_by",
                                    json_string(resp->served_by));
            if (resp->fallback)
                json_object_set_new(json_object_get(body, "metadata"), "fallback", json_true());
        } else {
            json_object_set_new(body, "level", json_string("ERROR"));
            json_object_set_new(body, "statusMessage", note(error != NULL ? error : "failed"));
        }
        emit(t, "generation-update", body);
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
    char name[96];
    json_t *out;

    if (t == NULL && m == NULL)
        return;
    open_task(d->story);
    metrics_add(m, &metric_decisions, (const char *[]){me.role, d->type, d->outcome}, 1);
    if (d->confidence >= 0)
        metrics_observe(m, &metric_decision_confidence, (const char *[]){me.role, d->type},
                        d->confidence);
    out = json_pack("{s:s, s:o}", "decision", d->outcome, "reasoning", note(d->reasoning));
    if (d->confidence >= 0)
        json_object_set_new(out, "confidence", json_real(d->confidence));
    if (d->output != NULL)
        json_object_update(out, (json_t *)d->output);
    snprintf(name, sizeof name, "decision: %s", d->type);
    event(t, d->story, name, out, d->input);
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (strcmp(moves[i].type, d->type) == 0 && strcmp(moves[i].outcome, d->outcome) == 0) {
            move_stage(t, d->story, moves[i].ends, moves[i].starts, d->since_ms, clock_wall_ms(),
                       json_pack("{s:s}", "decision", d->outcome), NULL);
            if (moves[i].final >= 0)
                end_trace(t, m, d->story, moves[i].final, d->reasoning, 0);
        }
}

void trace_vote(const char *story, const char *vote, double confidence, const char *reasoning)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);
    static const char *const votes[] = {"for", "against", "abstain"};
    char comment[TRACE_NOTE_MAX + 32];

    if (t == NULL && m == NULL)
        return;
    open_task(story);
    for (size_t i = 0; i < sizeof votes / sizeof votes[0]; i++)
        metrics_touch(m, &metric_votes, (const char *[]){votes[i]});
    metrics_add(m, &metric_votes, (const char *[]){vote}, 1);
    metrics_observe(m, &metric_vote_confidence, NULL, confidence);
    metrics_add(m, &metric_decisions, (const char *[]){me.role, "vote", vote}, 1);
    metrics_observe(m, &metric_decision_confidence, (const char *[]){me.role, "vote"}, confidence);
    event(t, story, "vote",
          json_pack("{s:s, s:f, s:o}", "vote", vote, "confidence", confidence, "reasoning",
                    note(reasoning)),
          NULL);
    snprintf(comment, sizeof comment, "%s: %.*s", vote, TRACE_NOTE_MAX,
             reasoning != NULL ? reasoning : "");
    score(t, story, "vote_confidence", confidence, comment);
}

void trace_consensus(const char *story, double score_v, double threshold, bool reached, int votes,
                     const char *reason)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);
    const char *outcome = reached ? "reached" : "no_consensus";

    if (t == NULL && m == NULL)
        return;
    open_task(story);
    metrics_touch(m, &metric_debates, (const char *[]){"reached"});
    metrics_touch(m, &metric_debates, (const char *[]){"no_consensus"});
    metrics_add(m, &metric_debates, (const char *[]){outcome}, 1);
    metrics_observe(m, &metric_consensus_score, NULL, score_v);
    metrics_add(m, &metric_decisions, (const char *[]){me.role, "consensus", outcome}, 1);
    event(t, story, "consensus",
          json_pack("{s:s, s:f, s:f, s:b, s:i, s:o}", "decision", outcome, "score", score_v,
                    "threshold", threshold, "reached", reached, "votes", votes, "reason",
                    note(reason)),
          NULL);
    score(t, story, "consensus", score_v, reason);
    move_stage(t, story, "debate", reached ? "production" : NULL, 0, clock_wall_ms(),
               json_pack("{s:s, s:f}", "decision", outcome, "score", score_v), NULL);
    if (!reached)
        end_trace(t, m, story, BB_ARCHIVED, reason, 0);
}

void trace_revision(const char *story, int number, const char *type, double improvement,
                    double before, double after, bool kept, const char *reasoning)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);
    char name[96];

    if (t == NULL && m == NULL)
        return;
    open_task(story);
    metrics_add(m, &metric_revisions, (const char *[]){type, kept ? "true" : "false"}, 1);
    metrics_observe(m, &metric_revision_improvement, (const char *[]){type}, improvement);
    snprintf(name, sizeof name, "revision %d: %s", number, type);
    event(t, story, name,
          json_pack("{s:i, s:s, s:f, s:f, s:f, s:b, s:o}", "number", number, "type", type,
                    "improvement", improvement, "score_before", before, "score_after", after,
                    "kept", kept, "reasoning", note(reasoning)),
          NULL);
    score(t, story, "revision_improvement", improvement, reasoning);
}

void trace_qa(const char *story, int round, double score_v, bool passed, const char *reasoning)
{
    struct tracer *t = atomic_load(&g_tracer);
    struct metrics *m = atomic_load(&g_metrics);
    char name[64];

    if (t == NULL && m == NULL)
        return;
    open_task(story);
    metrics_touch(m, &metric_qa_verdicts, (const char *[]){"true"});
    metrics_touch(m, &metric_qa_verdicts, (const char *[]){"false"});
    metrics_add(m, &metric_qa_verdicts, (const char *[]){passed ? "true" : "false"}, 1);
    metrics_observe(m, &metric_qa_score, NULL, score_v);
    metrics_add(m, &metric_decisions,
                (const char *[]){me.role, "qa_verdict", passed ? "passed" : "failed"}, 1);
    snprintf(name, sizeof name, "qa round %d", round);
    event(t, story, name,
          json_pack("{s:i, s:f, s:b, s:o}", "round", round, "score", score_v, "passed", passed,
                    "reasoning", note(reasoning)),
          NULL);
    score(t, story, "qa_score", score_v, reasoning);
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
        event(t, it->id, "retention", json_pack("{s:s}", "reason", reason), NULL);
        return;
    }
    if ((it->status == BB_APPROVED || it->status == BB_REJECTED) && it->decided_ms > 0)
        /* The review ended when the reviewer decided. */
        move_stage(
            t, it->id, "review", NULL, 0, it->decided_ms,
            json_pack("{s:s, s:s}", "decision", bb_statuses[it->status].name, "by", it->decided_by),
            NULL);
    else if (it->status == BB_FAILED && it->section >= 0 && it->section < BB_SECTION_COUNT &&
             stage_of_section[it->section] != NULL)
        move_stage(t, it->id, stage_of_section[it->section], NULL,
                   it->section == BB_RAW_FEED ? it->created_ms : 0, clock_wall_ms(),
                   json_pack("{s:s}", "decision", "FAILED"), it->fail_reason);
    if (to == BB_PRODUCING)
        move_stage(t, it->id, NULL, "production", 0, 0, NULL, NULL);
    else if (to == BB_PUBLISHED_S || to == BB_ARCHIVED)
        end_trace(t, m, it->id, to, reason, it->created_ms);
}
