/*
 * metrics.c - the registry of one process's series and the text exposition; see metrics.h.
 *
 * Threads: a series is found in a hash table (family pointer and label values) and changed
 * under m->mu; rendering copies nothing and holds m->mu while it writes the text, which is
 * quick (a few hundred series).
 */
#include "observe/metrics.h"

#include "core/fail.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_BUCKETS 1024 /* hash buckets */

/* Seconds: a model call, an agent's task, a story end to end. */
static const double secs_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                      2.5,   5,    10,    30,   60,  120,  300, 600};
static const double story_buckets[] = {1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600};
/* A confidence or a score from 0 to 1. */
static const double ratio_buckets[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1};
/* A revision's improvement of the measured score (may be negative). */
static const double improvement_buckets[] = {-0.1, 0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5};
/* QA's score, 0 to 10. */
static const double qa_buckets[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

#define NB(a) ((int)(sizeof a / sizeof a[0]))

const struct metric_def metric_llm_calls = {
    "newsroom_llm_calls_total",
    "Model calls made through the budget, by agent, role, tier, model, task type and outcome "
    "(ok, cached: served by the response cache, error: failed after its retries).",
    METRIC_COUNTER,
    {"agent", "role", "tier", "model", "task_type", "outcome", NULL},
    NULL,
    0};
const struct metric_def metric_llm_tokens = {
    "newsroom_llm_tokens_total",
    "Tokens of the model calls, by agent, tier, model, task type and kind (prompt, completion).",
    METRIC_COUNTER,
    {"agent", "tier", "model", "task_type", "kind", NULL},
    NULL,
    0};
const struct metric_def metric_llm_cost = {
    "newsroom_llm_cost_dollars_total",
    "What the model calls cost in US dollars (as the cost manager records it), by agent, tier, "
    "model and task type.",
    METRIC_COUNTER,
    {"agent", "tier", "model", "task_type", NULL},
    NULL,
    0};
const struct metric_def metric_llm_duration = {
    "newsroom_llm_call_duration_seconds",
    "How long a model call took (with its retries), by tier and model.",
    METRIC_HISTOGRAM,
    {"tier", "model", NULL},
    secs_buckets,
    NB(secs_buckets)};
const struct metric_def metric_tasks = {
    "newsroom_agent_tasks_total",
    "Agent tasks on a story, by role and outcome (done, gave_back: returned without an "
    "attempt counted, error).",
    METRIC_COUNTER,
    {"role", "outcome", NULL},
    NULL,
    0};
const struct metric_def metric_stage_duration = {
    "newsroom_stage_duration_seconds",
    "Time an agent works on a story at one stage of the pipeline (analysis, argument, "
    "consensus, writing, qa, packaging, approval, publishing, archiving).",
    METRIC_HISTOGRAM,
    {"stage", NULL},
    secs_buckets,
    NB(secs_buckets)};
const struct metric_def metric_story_duration = {
    "newsroom_story_duration_seconds",
    "Time from a story's arrival on the blackboard to its end, by outcome (published, "
    "archived).",
    METRIC_HISTOGRAM,
    {"outcome", NULL},
    story_buckets,
    NB(story_buckets)};
const struct metric_def metric_stories_finished = {
    "newsroom_stories_finished_total",
    "Stories this process's agents brought to an end, by the status they ended in.",
    METRIC_COUNTER,
    {"status", NULL},
    NULL,
    0};
const struct metric_def metric_stories_ingested = {
    "newsroom_stories_ingested_total",
    "Stories this process's scouts wrote to the blackboard.",
    METRIC_COUNTER,
    {NULL},
    NULL,
    0};
const struct metric_def metric_decisions = {
    "newsroom_agent_decisions_total",
    "Decisions agents made, by role, decision type and outcome.",
    METRIC_COUNTER,
    {"role", "type", "outcome", NULL},
    NULL,
    0};
const struct metric_def metric_decision_confidence = {
    "newsroom_agent_decision_confidence",
    "The confidence of agents' decisions (0 to 1), by role and decision type.",
    METRIC_HISTOGRAM,
    {"role", "type", NULL},
    ratio_buckets,
    NB(ratio_buckets)};
const struct metric_def metric_votes = {"newsroom_debate_votes_total",
                                        "Debate votes cast, by vote (for, against, abstain).",
                                        METRIC_COUNTER,
                                        {"vote", NULL},
                                        NULL,
                                        0};
const struct metric_def metric_vote_confidence = {"newsroom_debate_vote_confidence",
                                                  "The confidence of debate votes (0 to 1).",
                                                  METRIC_HISTOGRAM,
                                                  {NULL},
                                                  ratio_buckets,
                                                  NB(ratio_buckets)};
const struct metric_def metric_consensus_score = {
    "newsroom_consensus_score",
    "The consensus score of closed debates: the confidence-weighted share of votes for (0 to "
    "1).",
    METRIC_HISTOGRAM,
    {NULL},
    ratio_buckets,
    NB(ratio_buckets)};
const struct metric_def metric_debates = {"newsroom_debates_closed_total",
                                          "Debates closed, by outcome (reached, no_consensus).",
                                          METRIC_COUNTER,
                                          {"outcome", NULL},
                                          NULL,
                                          0};
const struct metric_def metric_revisions = {
    "newsroom_script_revisions_total",
    "Script revisions, by type (tighten, clarity, sources, qa_rework, reviewer_note) and "
    "whether the revision was kept.",
    METRIC_COUNTER,
    {"type", "kept", NULL},
    NULL,
    0};
const struct metric_def metric_revision_improvement = {
    "newsroom_script_revision_improvement",
    "How much a revision changed the script's measured score (after minus before), by type.",
    METRIC_HISTOGRAM,
    {"type", NULL},
    improvement_buckets,
    NB(improvement_buckets)};
const struct metric_def metric_qa_score = {
    "newsroom_qa_score", "Scores quality assurance gave final scripts (0 to 10).",
    METRIC_HISTOGRAM,    {NULL},
    qa_buckets,          NB(qa_buckets)};
const struct metric_def metric_qa_verdicts = {
    "newsroom_qa_verdicts_total",
    "Quality assurance verdicts, by whether the script passed.",
    METRIC_COUNTER,
    {"passed", NULL},
    NULL,
    0};
const struct metric_def metric_reclaims = {
    "newsroom_reclaims_total",
    "Stories taken back from their claimers, by why: dead_agent (its heartbeat lapsed or its "
    "process is gone) or lapsed_lock.",
    METRIC_COUNTER,
    {"why", NULL},
    NULL,
    0};
const struct metric_def metric_failed_attempts = {
    "newsroom_failed_attempts_total",
    "Failed attempts at a story counted by agents (retried, or FAILED once out of attempts), "
    "by role.",
    METRIC_COUNTER,
    {"role", NULL},
    NULL,
    0};

/* ---- text ---- */

void metrics_text_printf(struct metrics_text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        size_t room = t->cap - t->len;

        va_start(ap, fmt);
        n = vsnprintf(t->p != NULL ? t->p + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->p = xrealloc(t->p, t->cap);
    }
}

void metrics_text_free(struct metrics_text *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
}

static const char *type_name(enum metric_type t)
{
    static const char *const names[] = {"counter", "gauge", "histogram"};

    return names[t];
}

void metrics_text_family(struct metrics_text *t, const struct metric_def *d)
{
    metrics_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name,
                        type_name(d->type));
}

/* Appends n bytes of s. */
static void put(struct metrics_text *t, const char *s, size_t n)
{
    if (t->cap - t->len <= n) {
        t->cap = (t->cap + n + 1) * 2;
        t->p = xrealloc(t->p, t->cap);
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

/* A label value as the format wants it: backslash, double quote and newline escaped. */
static void put_value(struct metrics_text *t, const char *v)
{
    const char *p = v != NULL ? v : "", *run = p;

    for (;; p++) {
        if (*p != '\\' && *p != '"' && *p != '\n' && *p != '\0')
            continue;
        put(t, run, (size_t)(p - run));
        if (*p == '\0')
            return;
        put(t, *p == '\n' ? "\\n" : *p == '"' ? "\\\"" : "\\\\", 2);
        run = p + 1;
    }
}

static void put_number(struct metrics_text *t, double v)
{
    if (isnan(v))
        metrics_text_printf(t, "NaN");
    else if (isinf(v))
        metrics_text_printf(t, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(int64_t)v && fabs(v) < 1e15)
        metrics_text_printf(t, "%lld", (long long)v);
    else
        metrics_text_printf(t, "%.17g", v);
}

/* One label="value" pair, after '{' or ','. */
static void put_label(struct metrics_text *t, int *n, const char *label, const char *value)
{
    put(t, (*n)++ == 0 ? "{" : ",", 1);
    put(t, label, strlen(label));
    put(t, "=\"", 2);
    put_value(t, value);
    put(t, "\"", 1);
}

void metrics_text_sample(struct metrics_text *t, const struct metric_def *d, const char *suffix,
                         const char *const *values, const char *extra_label,
                         const char *extra_value, double v)
{
    int n = 0;

    put(t, d->name, strlen(d->name));
    put(t, suffix, strlen(suffix));
    for (int i = 0; d->labels[i] != NULL; i++)
        put_label(t, &n, d->labels[i], values != NULL ? values[i] : "");
    if (extra_label != NULL)
        put_label(t, &n, extra_label, extra_value);
    if (n > 0)
        put(t, "}", 1);
    put(t, " ", 1);
    put_number(t, v);
    put(t, "\n", 1);
}

/* ---- the registry ---- */

struct series {
    const struct metric_def *d;
    char **values; /* one per label */
    char *key;     /* the values joined, for lookups */
    size_t key_len;
    double value;     /* counter, gauge; histogram: the sum */
    uint64_t *counts; /* histogram: per bucket (not cumulative), then +Inf */
    uint64_t count;
    struct series *next_hash;
    struct series *next_family; /* series of the same family, in order of creation */
};

struct family {
    const struct metric_def *d;
    struct series *first, *last;
    struct family *next;
};

struct metrics {
    pthread_mutex_t mu;
    struct series *hash[METRICS_BUCKETS];
    struct family *families, *last_family;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = xcalloc(1, sizeof *m);

    if (pthread_mutex_init(&m->mu, NULL) != 0)
        fail("metrics: cannot make its mutex");
    return m;
}

void metrics_free(struct metrics *m)
{
    struct family *f, *nf;

    if (m == NULL)
        return;
    for (f = m->families; f != NULL; f = nf) {
        struct series *s, *ns;

        nf = f->next;
        for (s = f->first; s != NULL; s = ns) {
            ns = s->next_family;
            for (int i = 0; s->d->labels[i] != NULL; i++)
                free(s->values[i]);
            free(s->values);
            free(s->key);
            free(s->counts);
            free(s);
        }
        free(f);
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* The bucket hash of family d's key of len bytes: eight bytes at a time (a key joins an agent
 * id, a model and a task type, some 60 to 100 bytes, looked up on every count). */
static uint64_t hash_of(const struct metric_def *d, const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(uintptr_t)d ^ len;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w;

        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
    return h ^ h >> 32;
}

/* The label values joined by \x1f into buf (cut at size: long values are not labels); returns
 * its length. */
static size_t key_of(const struct metric_def *d, const char *const *values, char *buf, size_t size)
{
    size_t len = 0;

    for (int i = 0; d->labels[i] != NULL && size - len >= 2; i++) {
        const char *v = values != NULL && values[i] != NULL ? values[i] : "";
        size_t n = strlen(v);

        if (n > size - len - 2)
            n = size - len - 2;
        memcpy(buf + len, v, n);
        len += n;
        buf[len++] = '\x1f';
    }
    buf[len] = '\0';
    return len;
}

/* The series of d whose key is key (len bytes, in bucket h), or NULL. With m->mu held. */
static struct series *lookup(struct metrics *m, const struct metric_def *d, const char *key,
                             size_t len, uint64_t h)
{
    for (struct series *s = m->hash[h]; s != NULL; s = s->next_hash)
        if (s->d == d && s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    return NULL;
}

/* The series of d with values, made when missing. With m->mu held. */
static struct series *find(struct metrics *m, const struct metric_def *d, const char *const *values)
{
    char key[1024];
    size_t len = key_of(d, values, key, sizeof key);
    uint64_t h = hash_of(d, key, len) % METRICS_BUCKETS;
    struct series *s = lookup(m, d, key, len, h);
    struct family *f;
    int nl = 0;

    if (s != NULL)
        return s;
    for (f = m->families; f != NULL && f->d != d; f = f->next)
        ;
    if (f == NULL) {
        f = xcalloc(1, sizeof *f);
        f->d = d;
        if (m->last_family != NULL)
            m->last_family->next = f;
        else
            m->families = f;
        m->last_family = f;
    }
    while (d->labels[nl] != NULL)
        nl++;
    s = xcalloc(1, sizeof *s);
    s->d = d;
    s->key = xstrdup(key);
    s->key_len = len;
    s->values = xcalloc((size_t)nl + 1, sizeof *s->values);
    for (int i = 0; i < nl; i++)
        s->values[i] = xstrdup(values != NULL && values[i] != NULL ? values[i] : "");
    if (d->type == METRIC_HISTOGRAM)
        s->counts = xcalloc((size_t)d->nbuckets + 1, sizeof *s->counts);
    s->next_hash = m->hash[h];
    m->hash[h] = s;
    if (f->last != NULL)
        f->last->next_family = s;
    else
        f->first = s;
    f->last = s;
    return s;
}

void metrics_add(struct metrics *m, const struct metric_def *d, const char *const *values, double v)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    find(m, d, values)->value += v;
    pthread_mutex_unlock(&m->mu);
}

void metrics_set(struct metrics *m, const struct metric_def *d, const char *const *values, double v)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    find(m, d, values)->value = v;
    pthread_mutex_unlock(&m->mu);
}

void metrics_touch(struct metrics *m, const struct metric_def *d, const char *const *values)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    (void)find(m, d, values);
    pthread_mutex_unlock(&m->mu);
}

void metrics_observe(struct metrics *m, const struct metric_def *d, const char *const *values,
                     double v)
{
    struct series *s;
    int b = 0;

    if (m == NULL || isnan(v))
        return;
    while (b < d->nbuckets && v > d->buckets[b])
        b++;
    pthread_mutex_lock(&m->mu);
    s = find(m, d, values);
    s->counts[b]++;
    s->count++;
    s->value += v;
    pthread_mutex_unlock(&m->mu);
}

double metrics_value(struct metrics *m, const struct metric_def *d, const char *const *values)
{
    char key[1024];
    const struct series *s;
    double v = 0;
    size_t len = key_of(d, values, key, sizeof key);

    pthread_mutex_lock(&m->mu);
    s = lookup(m, d, key, len, hash_of(d, key, len) % METRICS_BUCKETS);
    if (s != NULL)
        v = d->type == METRIC_HISTOGRAM ? (double)s->count : s->value;
    pthread_mutex_unlock(&m->mu);
    return v;
}

void metrics_render(struct metrics *m, struct metrics_text *out)
{
    pthread_mutex_lock(&m->mu);
    for (struct family *f = m->families; f != NULL; f = f->next) {
        const struct metric_def *d = f->d;

        metrics_text_family(out, d);
        for (struct series *s = f->first; s != NULL; s = s->next_family) {
            const char *const *values = (const char *const *)s->values;
            uint64_t cum = 0;

            if (d->type != METRIC_HISTOGRAM) {
                metrics_text_sample(out, d, "", values, NULL, NULL, s->value);
                continue;
            }
            for (int b = 0; b <= d->nbuckets; b++) {
                char le[32];

                cum += s->counts[b];
                if (b < d->nbuckets)
                    snprintf(le, sizeof le, "%g", d->buckets[b]);
                else
                    snprintf(le, sizeof le, "+Inf");
                metrics_text_sample(out, d, "_bucket", values, "le", le, (double)cum);
            }
            metrics_text_sample(out, d, "_sum", values, NULL, NULL, s->value);
            metrics_text_sample(out, d, "_count", values, NULL, NULL, (double)s->count);
        }
    }
    pthread_mutex_unlock(&m->mu);
}
