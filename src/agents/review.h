/*
 * review.h - how a review decision is kept on a story, shared by `ctl approve` / `ctl reject`,
 * the approver and the archivist. The decision itself is bb_decide() (status, decided_by,
 * decided_at and the audit record in one atomic step); a rejection that asks the writer for a
 * revision carries its note in that same step, as the decision's reason "revise: NOTE", so the
 * archivist can never mistake it for a plain rejection. The body field "review" {decision
 * ("approve", "reject" or "revise"), reason, by, at, at_ms, auto} is a readable copy written
 * right after the decision (and by the archivist when it finds it missing).
 *
 * Shared by `ctl` and the control room's command worker (src/room/): review_decide() carries
 * out an operator's decision exactly as `ctl approve` / `ctl reject [--revise]` do,
 * review_decided() says who decided a story already, and review_render() renders the
 * decisions the agents recorded in a body (`ctl item`, the room's detail view).
 *
 * Threads: the pure functions from any thread; review_decide() uses the blackboard's link, so
 * it belongs to that link's thread.
 */
#ifndef NEWSROOM_REVIEW_H
#define NEWSROOM_REVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REVIEW_REVISE_PREFIX "revise: "
/* The longest rendered line of review_render(), in bytes (longer ones end in "..."). */
#define REVIEW_LINE_MAX 400

struct bb;
struct bb_item;

/* An operator's decision on a story in REVIEWING. */
enum review_decision { REVIEW_APPROVE, REVIEW_REJECT, REVIEW_REVISE };

/* The writer's note when reason is a revise decision's reason, else NULL (borrowed from
 * reason). */
const char *review_revise_note(const char *reason);

/* {"review": {decision, reason, by, at, at_ms, auto}}: a patch for bb_update(), a new
 * reference. reason is the text the person gave (for "revise", the note). */
json_t *review_patch(const char *decision, const char *reason, const char *by, int64_t at_ms,
                     bool automatic);

/* "2026-11-28T16:40:00Z" for a time in ms since the epoch. Returns buf. */
const char *review_iso_time(int64_t ms, char *buf, size_t size);

/* "approve", "reject", "revise": the audit record's what and the review record's decision. */
const char *review_decision_name(enum review_decision d);

/* Checks what a person typed before anything is sent: a reject and a revise need a text (the
 * reason, the note for the writer), and a plain reject's reason may not start with
 * REVIEW_REVISE_PREFIX. Returns 0, or -1 with *cause (free it). */
int review_check(enum review_decision d, const char *text, char **cause);

/* Carries out decision d on story id as the blackboard's actor (the operator "user@from"):
 * REVIEWING -> APPROVED (approve) or REJECTED (reject, revise: reason "revise: TEXT"), with
 * the audit record of the current user (audit_record_fill(): what = the decision's name,
 * item, reason = text) and the body's review record, all in one atomic step (bb_decide_with).
 * text may be NULL for approve. Returns bb_decide_with()'s result (BB_OK, BB_REFUSED, BB_NONE,
 * BB_ERR) with *cause on failure; BB_REFUSED, nothing sent, when review_check() refuses. */
int review_decide(struct bb *b, const char *id, enum review_decision d, const char *text,
                  char **cause);

/* When someone already decided story it (not REVIEWING any more and decided_by set), writes
 * "already approved by X at T (it is now S)" ("approved", "rejected" or "sent back for
 * revision"; X made display-safe) into buf and returns 1; else returns 0. Pure. */
int review_decided(const struct bb_item *it, char *buf, size_t size);

/* Renders the decisions recorded in a story's body (analysis, consensus with each vote,
 * script revisions, QA verdicts with issues, package, review, revision request, publish, an
 * update at source, the further sources merged into it, and the error history of its failed
 * attempts and requeues), those present, in the order they are made: emit is called once per
 * line with the line
 * (display-safe through text_safe(), at most REVIEW_LINE_MAX bytes of text, borrowed for the
 * call). Nothing is emitted when the body holds none. Pure. */
void review_render(const json_t *body, void (*emit)(void *arg, const char *line), void *arg);

#endif
