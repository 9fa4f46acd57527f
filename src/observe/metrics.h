/*
 * metrics.h - Prometheus metrics of one process, in the text exposition format (version
 * 0.0.4): counters, gauges and histograms with labels, kept in memory and rendered when
 * /metrics is scraped (metrics_http.h). Each family is a const struct metric_def: the name
 * (Prometheus conventions: newsroom_ prefix, base units in the name, counters ending in
 * _total), its help, type, label names and, for histograms, bucket bounds. The families the
 * swarm's hooks feed (trace.h) are defined in metrics.c and declared below; families read from
 * Redis at scrape time are written straight into the text by collectors (collect.h).
 *
 * Threads: metrics_add/set/observe and metrics_render from any thread; one mutex guards the
 * series, held for a hash lookup and an addition.
 */
#ifndef NEWSROOM_METRICS_H
#define NEWSROOM_METRICS_H

#include <stdbool.h>
#include <stddef.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

#define METRIC_LABELS_MAX 6

struct metric_def {
    const char *name;
    const char *help;
    enum metric_type type;
    const char *labels[METRIC_LABELS_MAX + 1]; /* NULL-terminated */
    const double *buckets;                     /* histograms: upper bounds, ascending */
    int nbuckets;
};

/* A growing text buffer for the exposition. */
struct metrics_text {
    char *p;
    size_t len, cap;
};
void metrics_text_printf(struct metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void metrics_text_free(struct metrics_text *t);
/* "# HELP name help\n# TYPE name type\n". */
void metrics_text_family(struct metrics_text *t, const struct metric_def *d);
/* One sample "name{l1="v1",...} value\n", values escaped; suffix ("_bucket", "") is added to
 * the name; extra_label/extra_value (may be NULL) is one more label (le). */
void metrics_text_sample(struct metrics_text *t, const struct metric_def *d, const char *suffix,
                         const char *const *values, const char *extra_label,
                         const char *extra_value, double v);

struct metrics;

/* An empty registry. Free with metrics_free(). */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* values: one per label name of d, in order (NULL or "" stands for an empty value). */
void metrics_add(struct metrics *m, const struct metric_def *d, const char *const *values,
                 double v);
void metrics_set(struct metrics *m, const struct metric_def *d, const char *const *values,
                 double v);
void metrics_observe(struct metrics *m, const struct metric_def *d, const char *const *values,
                     double v);
/* Makes the series exist at 0 (a counter whose label set is known before its first event,
 * such as an error count, so queries see a zero instead of nothing). */
void metrics_touch(struct metrics *m, const struct metric_def *d, const char *const *values);
/* The value of a counter or gauge series (0 when it does not exist), or a histogram's count. */
double metrics_value(struct metrics *m, const struct metric_def *d, const char *const *values);

/* Appends every family that has a series, in the order first used. */
void metrics_render(struct metrics *m, struct metrics_text *out);

/* The families fed by the hooks (see the help of each in metrics.c). */
extern const struct metric_def metric_llm_calls;      /* agent,role,tier,model,task_type,outcome */
extern const struct metric_def metric_llm_tokens;     /* agent,tier,model,task_type,kind */
extern const struct metric_def metric_llm_cost;       /* agent,tier,model,task_type */
extern const struct metric_def metric_llm_duration;   /* tier,model */
extern const struct metric_def metric_tasks;          /* role,outcome */
extern const struct metric_def metric_stage_duration; /* stage */
extern const struct metric_def metric_story_duration; /* outcome */
extern const struct metric_def metric_stories_finished;     /* status */
extern const struct metric_def metric_stories_ingested;     /* (none) */
extern const struct metric_def metric_decisions;            /* role,type,outcome */
extern const struct metric_def metric_decision_confidence;  /* role,type */
extern const struct metric_def metric_votes;                /* vote */
extern const struct metric_def metric_vote_confidence;      /* (none) */
extern const struct metric_def metric_consensus_score;      /* (none) */
extern const struct metric_def metric_debates;              /* outcome */
extern const struct metric_def metric_revisions;            /* type,kept */
extern const struct metric_def metric_revision_improvement; /* type */
extern const struct metric_def metric_qa_score;             /* (none) */
extern const struct metric_def metric_qa_verdicts;          /* passed */
extern const struct metric_def metric_reclaims;             /* status */
extern const struct metric_def metric_failed_attempts;      /* role */

#endif
