/*
 * deadset.h - the dead set: stories whose step ran out of attempts end FAILED, with their
 * whole error history (the body's "errors": every attempt's step, agent, error and time), and
 * stay FAILED (terminal, listed here) until an operator requeues them. A requeue puts a story
 * back at the step that failed (or one the operator names), keeping every checkpoint, with a
 * fresh attempt budget for that step, and is audited in the same atomic step (what "requeue").
 * A story archived by a fault before there was a dead set (the old "failed: ..." archiving)
 * cannot come back through ingest (its content hash is taken), so a requeue by id also takes
 * an ARCHIVED story; its step is read from its checkpoints.
 *
 * Used by `newsroom ctl failed` and `ctl requeue`, and callable from the control room's command
 * worker. Threads: every call uses the blackboard's link, so it belongs to that link's thread.
 */
#ifndef NEWSROOM_DEADSET_H
#define NEWSROOM_DEADSET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct bb;
struct bb_item;

/* The step a FAILED or ARCHIVED story resumes at: the step whose attempts ran out, else the
 * first step its checkpoints have not done (analysis, consensus, script, a passed QA verdict,
 * package, review, publication). A name of bb_steps; borrowed, static. */
const char *deadset_resume_step(const struct bb_item *it);

/* The FAILED stories, oldest first, at most limit (free each with bb_item_free, then the
 * array). Returns BB_OK or BB_ERR (*cause). */
int deadset_list(struct bb *b, size_t limit, struct bb_item ***items, size_t *n, char **cause);

/* The story as `ctl failed --json` shows it: id, title, status, the failed step, attempts,
 * the last error, when it failed, and its whole error history. New reference. */
json_t *deadset_item_json(const struct bb_item *it);

/* Requeues story id as the blackboard's actor (an operator, "user@from"), audited as the
 * current user: at `step` (NULL: deadset_resume_step()), which, when named, also retires the
 * checkpoints of that step and the steps after it into the body's "superseded" so that they
 * are made again. A FAILED story, or an ARCHIVED one when archived is true. *step_out (may be
 * NULL) receives the step (static). Returns bb_requeue()'s code: BB_OK, BB_REFUSED (*cause:
 * not FAILED, unknown step), BB_NONE, BB_ERR. */
int deadset_requeue(struct bb *b, const char *id, const char *step, bool archived,
                    const char **step_out, char **cause);

/* Requeues every FAILED story (as deadset_requeue without archived): *done and *refused (may
 * be NULL) count them. Returns BB_OK, or BB_ERR (*cause) when Redis failed. */
int deadset_requeue_all(struct bb *b, const char *step, long *done, long *refused, char **cause);

#endif
