/*
 * trace.h - what agents record about their work, as the design's monitor reads: start a
 * trace, track an agent decision, a consensus vote, a revision, an LLM call, end the trace.
 * Every call becomes Langfuse events (langfuse.h) handed to the process's exporter (tracer.h)
 * and updates the process's Prometheus series (metrics.h); with neither installed each call
 * returns at once.
 *
 * The shape of a story's trace (its id is the story id, its session too):
 *   trace          named after the stage the story is in: analysis, debate, production,
 *                  review, then published or archived; input the title and source, output
 *                  the final status and reason
 *   stage spans    analysis (from the story's arrival), debate, production, review: started
 *                  by the decision that moves the story into the stage and ended by the one
 *                  that moves it out (span-create, span-update); their ids are a hash of story
 *                  and stage, so an agent in another process ends the span another started
 *   task spans     each agent's work on the story in one cycle of its loop, under its stage
 *                  (span-create when the work starts, span-update with the outcome at the
 *                  cycle's end)
 *   generations    each model call under the task (generation-create with model, parameters
 *                  and prompt; generation-update with the answer, times, usage, usageDetails
 *                  and costDetails)
 *   events         each decision with its reasoning (event-create)
 *   scores         consensus, each vote's confidence, QA, each revision's improvement
 * A screening call for a batch of stories (no single story) gets a trace of its own.
 *
 * Threads: every function may be called from any thread; the identity, cycle and open task
 * are per thread (agent threads call trace_agent() first). trace_install() is for start-up
 * and shutdown, before agents start and after they stop.
 */
#ifndef NEWSROOM_TRACE_H
#define NEWSROOM_TRACE_H

#include "llm/llm.h"
#include "observe/langfuse.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct bb_item;
struct metrics;
struct tracer;

/* The process's exporter and metrics (borrowed, either may be NULL); NULL, NULL uninstalls. */
void trace_install(struct tracer *t, struct metrics *m);
/* Whether anything is installed. */
bool trace_active(void);

/* This thread works as agent (its id) in role; both copied. */
void trace_agent(const char *agent, const char *role);
/* The agent loop's cycle: begin before the role's cycle; end after it with its result (1
 * did work, 0 idle or gave back, -1 error with cause), which ends the task span the cycle
 * opened, if any. */
void trace_cycle_begin(void);
void trace_cycle_end(int rc, const char *cause);
/* The cycle works on story (its claim): opens the task span now (other calls about a story
 * open it too). */
void trace_task(const char *story);
/* Stories taken back from their claimers (n of them; why: "dead_agent" or "lapsed_lock"); and
 * a failed attempt counted by this thread's role. Metrics only. */
void trace_reclaimed(const char *why, int n);
void trace_failed_attempt(void);

/* A story arrived (written by a scout): the trace starts. */
void trace_story_start(const char *story, const char *title, const char *source, const char *url);

/* One model call, from the cost layer: begin after the budget reserved it, end with the
 * answer (resp not NULL) or the failure (error). The struct lives on the caller's stack. */
struct trace_gen {
    bool on;
    char id[LANGFUSE_UUID_LEN];
    char trace_id[LANGFUSE_UUID_LEN + 16];
    char story[160];
    char model[96], task_type[64];
    enum llm_tier tier;
    int64_t start_ms; /* wall clock */
};
void trace_gen_begin(struct trace_gen *g, const char *story, const struct llm_request *req,
                     const char *model, enum llm_tier tier);
/* cost and input_cost in micro-dollars (the output's is cost - input_cost); served: the model
 * that answered (a fallback chain's member, as the usage record names it), NULL or "" when it
 * is the one begun with. */
void trace_gen_end(struct trace_gen *g, const struct llm_response *resp, const char *error,
                   int64_t cost, int64_t input_cost, const char *served);

/* An agent's decision about a story: type (coverage, production, ...), outcome, confidence
 * (-1: none), reasoning; input and output (borrowed, may be NULL) are shown with it. Some
 * decisions move the story between stages (coverage: cover -> debate, archive -> archived;
 * production: review -> review). since_ms, when > 0, is when the stage this decision ends
 * began (the analyst gives the story's arrival). */
struct trace_decision {
    const char *story, *type, *outcome, *reasoning;
    double confidence;
    const json_t *input, *output;
    int64_t since_ms;
};
void trace_decision(const struct trace_decision *d);
/* A debater's vote ("for", "against", "abstain") with its confidence and reasoning. */
void trace_vote(const char *story, const char *vote, double confidence, const char *reasoning);
/* The moderator's consensus: score against threshold from votes votes; reached moves the
 * story to production, else it is archived with reason. */
void trace_consensus(const char *story, double score, double threshold, bool reached, int votes,
                     const char *reason);
/* A script revision: its number and type, the measured improvement (after - before), whether
 * it was kept, its reasoning. */
void trace_revision(const char *story, int number, const char *type, double improvement,
                    double before, double after, bool kept, const char *reasoning);
/* QA's verdict on a final script (score 0 to 10). */
void trace_qa(const char *story, int round, double score, bool passed, const char *reasoning);
/* A story leaves review or a dead end: it (as read before the move) goes to status `to`
 * (PUBLISHED, ARCHIVED: the trace ends; PRODUCING: back to the writer) with reason. */
void trace_story_moved(const struct bb_item *it, int to, const char *reason);

#endif
