/*
 * bb_table.h - the blackboard's sections and its status machine, as data: which section an
 * item of each status lives in, which moves are allowed, and where a failed attempt goes to
 * be retried. This one table is the truth for C and for Lua: tools/gen_bb_lua.c prints it as
 * the Lua prelude of every bb_*.lua script at build time, so the two can never disagree.
 * Constant data; safe from any thread.
 */
#ifndef NEWSROOM_BB_TABLE_H
#define NEWSROOM_BB_TABLE_H

#include <stdbool.h>
#include <stddef.h>

enum bb_section {
    BB_RAW_FEED,
    BB_DEBATE_QUEUE,
    BB_CONSENSUS,
    BB_PRODUCTION_FLOOR,
    BB_REVIEW_QUEUE,
    BB_PUBLISHED,
    BB_ARCHIVE,
    BB_AGENT_STATE,
    BB_SECTION_COUNT
};

enum bb_status {
    BB_PENDING,
    BB_PROCESSING,
    BB_DEBATING,
    BB_CONSENSUS_REACHED,
    BB_PRODUCING,
    BB_REVIEWING,
    BB_APPROVED,
    BB_REJECTED,
    BB_PUBLISHED_S,
    BB_ARCHIVED,
    BB_FAILED,
    BB_STATUS_COUNT
};

#define BB_SECTION_KEEP (-1) /* the status keeps the item in the section it was in */
#define BB_STATUS_NONE  (-1)

struct bb_status_info {
    const char *name;
    int section;   /* enum bb_section, or BB_SECTION_KEEP */
    bool terminal; /* PUBLISHED, ARCHIVED, FAILED: nothing follows but archiving (and, for
                      FAILED and ARCHIVED, an operator's requeue: bb_steps) */
    int retry;     /* where a claim that moved a story into this status returns it when the
                      claim is taken back or retried (the status it was claimed from);
                      BB_STATUS_NONE: it stays in this status */
    int next[6];   /* the statuses it may move to, ended by BB_STATUS_NONE */
    /* The step whose work a claim does when it moves a story into this status or locks it
     * here ("analyze", "write", "publish", ...; attempts are counted per step), NULL for none,
     * and, for a claim that moves a story in, the stage it is taken back or retried onto
     * instead of its retry status (PRODUCING: "write", so a writer's story never goes back to
     * CONSENSUS_REACHED), NULL for none. */
    const char *step;
    const char *resume;
};

/* The steps of a story's way, in order: where a story waits for each (a status, and a stage
 * inside it or NULL). A story taken back or retried waits in its step's place; a requeue
 * (bb_requeue) puts a FAILED or ARCHIVED story back in one. "debate" waits as PENDING: the
 * analyst finds its analysis kept and opens the debate afresh. */
struct bb_step_info {
    const char *name;
    int status; /* enum bb_status */
    const char *stage;
};
#define BB_STEP_COUNT 8
extern const struct bb_step_info bb_steps[BB_STEP_COUNT];
/* A step by name, or NULL. */
const struct bb_step_info *bb_step_find(const char *name);
/* "analyze, debate, write, ...": every step's name, for messages. Returns buf. */
char *bb_step_names(char *buf, size_t size);

/* The flow: the queues a story waits in on its way, upstream first, each with a high-water mark
 * ([flow] <name>_hwm). A stage's depth is the number of stories in its status, or waiting on
 * its blackboard stage. Above its mark, the role feeding it stops taking new stories for it
 * (backpressure): `held` says who. The stage that holds the flow back is the furthest
 * downstream at or above its mark (bb_flow_holding). */
enum bb_flow {
    BB_FLOW_PENDING,
    BB_FLOW_DEBATE,
    BB_FLOW_WRITE,
    BB_FLOW_FLOOR,
    BB_FLOW_QA,
    BB_FLOW_PRODUCE,
    BB_FLOW_REVIEW,
    BB_FLOW_COUNT
};
struct bb_flow_stage {
    const char *name;  /* pending, debate, write, floor, qa, produce, review */
    int status;        /* its depth: the stories in this status, or BB_STATUS_NONE */
    const char *stage; /* else the stories waiting on this blackboard stage */
    const char *held;  /* what stops while it is full */
};
extern const struct bb_flow_stage bb_flow_stages[BB_FLOW_COUNT];
/* The furthest downstream stage whose depth is at or above its mark (a mark of 0 is none), or
 * -1 when the flow runs freely. */
int bb_flow_holding(const long depth[BB_FLOW_COUNT], const long hwm[BB_FLOW_COUNT]);

extern const char *const bb_section_names[BB_SECTION_COUNT];
extern const struct bb_status_info bb_statuses[BB_STATUS_COUNT];

/* Name <-> value; the lookups return -1 for an unknown name. */
int bb_section_parse(const char *name);
int bb_status_parse(const char *name);
/* Whether the table allows from -> to. */
bool bb_move_allowed(enum bb_status from, enum bb_status to);

#endif
