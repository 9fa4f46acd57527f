/*
 * review.h - how a review decision is kept on a story, shared by `ctl approve` / `ctl reject`,
 * the approver and the archivist. The decision itself is bb_decide() (status, decided_by,
 * decided_at and the audit record in one atomic step); a rejection that asks the writer for a
 * revision carries its note in that same step, as the decision's reason "revise: NOTE", so the
 * archivist can never mistake it for a plain rejection. The body field "review" {decision
 * ("approve", "reject" or "revise"), reason, by, at, at_ms, auto} is a readable copy written
 * right after the decision (and by the archivist when it finds it missing). Pure functions:
 * any thread.
 */
#ifndef NEWSROOM_REVIEW_H
#define NEWSROOM_REVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REVIEW_REVISE_PREFIX "revise: "

/* The writer's note when reason is a revise decision's reason, else NULL (borrowed from
 * reason). */
const char *review_revise_note(const char *reason);

/* {"review": {decision, reason, by, at, at_ms, auto}}: a patch for bb_update(), a new
 * reference. reason is the text the person gave (for "revise", the note). */
json_t *review_patch(const char *decision, const char *reason, const char *by, int64_t at_ms,
                     bool automatic);

/* "2026-11-28T16:40:00Z" for a time in ms since the epoch. Returns buf. */
const char *review_iso_time(int64_t ms, char *buf, size_t size);

#endif
