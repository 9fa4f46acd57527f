/*
 * debate.h - debates: a panel of debater agents argues whether a story (in DEBATING) should be
 * covered, each voting for, against or abstaining with a confidence and a reasoning, and a
 * moderator closes the debate with a consensus (or without one) once the panel has voted, the
 * votes cast settle it whatever the empty seats would vote (then no more debaters are seated),
 * or the deadline has passed. One debate per story; its id is the story's id.
 *
 * Keys (docs/redis-keys.md), all written by the debate_*.lua scripts with the Redis server's
 * clock, so machines whose clocks disagree still agree on seats, deadlines and leases:
 *   nr:debate:<id>         hash: story, title, summary, brief, by, opened, deadline, span,
 *                          started, paused, panel, quorum, threshold, state (open | closed), lease,
 *                          lease_until, and once closed: outcome, score, reason, closed, closed_by
 *   nr:debate:seated:<agent> set: the debates where the agent holds a seat without a vote
 *   nr:debate:<id>:votes   hash: agent -> {"vote", "confidence", "reasoning", "t"} (JSON)
 *   nr:debate:<id>:seats   hash: agent -> time seated (ms)
 *   nr:debates:open        sorted set of open debate ids by their story's priority, then the
 *                          time they opened (the blackboard's queue order, bb_lib.lua)
 *   nr:debates:closed      sorted set of closed debate ids by the time they closed (the newest
 *                          DEBATE_CLOSED_MAX); a closed debate's keys expire after DEBATE_KEEP_S
 *
 * Seats: a debater takes a seat before it asks its model and votes from it. A seat is live while
 * it holds a vote, its debater lives (registry heartbeat) or it is younger than the seat TTL the
 * debater gave; a debate seats at most `panel` live seats. A debater that dies frees its seats
 * at once (the reaper, bb_reap.lua, through nr:debate:seated:<agent>). A vote is accepted once
 * per agent, from a seat, while the debate is open.
 *
 * Closing: debate_ready() hands a moderator the oldest open debate with a full panel of votes or
 * whose clock has run out (from its first seat, paused while its debaters are deferred), under a
 * lease, so two moderators never close the same debate at once; a
 * moderator that dies lets the lease lapse and another takes the debate over.
 *
 * Threads: every call uses the caller's link, so it belongs to the link's thread. The pure
 * functions (debate_consensus, the names, the options) are safe from any thread.
 * Return values: DEBATE_OK, DEBATE_REFUSED (*cause says why; nothing changed), DEBATE_NONE (no
 * such debate, or nothing to take), DEBATE_ERR (Redis failed, or bad input: *cause).
 */
#ifndef NEWSROOM_DEBATE_H
#define NEWSROOM_DEBATE_H

#include "store/keys.h"
#include "store/news_item.h"
#include "store/registry.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct rlink;

#define DEBATE_PREFIX      NR_PREFIX "debate:"
#define DEBATES_OPEN_KEY   NR_PREFIX "debates:open"
#define DEBATES_CLOSED_KEY NR_PREFIX "debates:closed"
/* How many closed debates the closed index keeps (the newest), and how long a closed debate's
 * keys are kept. */
#define DEBATE_CLOSED_MAX 1000
#define DEBATE_KEEP_S     (7 * 24 * 3600)
/* The longest reasoning a vote keeps (longer ones are cut). */
#define DEBATE_REASONING_MAX 2000

enum { DEBATE_ERR = -1, DEBATE_OK = 0, DEBATE_REFUSED = 1, DEBATE_NONE = 2 };

enum debate_vote_kind { DEBATE_FOR, DEBATE_AGAINST, DEBATE_ABSTAIN };

/* "for", "against", "abstain"; "?" outside the enum. */
const char *debate_vote_name(enum debate_vote_kind v);
/* Parses a vote name. Returns 0, or -1 when it is none. */
int debate_vote_parse(const char *name, enum debate_vote_kind *out);

/* Outcomes of a closed debate. */
#define DEBATE_CONSENSUS    "consensus"
#define DEBATE_NO_CONSENSUS "no_consensus"
#define DEBATE_STORY_MOVED  "story_moved"

struct debate_options {
    int panel;        /* seats: votes that close a debate before its deadline (1..64) */
    int quorum;       /* votes needed for a consensus (1..panel) */
    double threshold; /* the weighted share of "for" a consensus needs (0..1) */
    int deadline_ms;  /* from opening: after it the debate closes with the votes it has */
    /* Seat the quorum first and close as soon as the votes cast settle the outcome (an early
     * stop: no call is made that could not change it); false seats the whole panel at once
     * and waits for every vote (the cost baseline). */
    bool settle_early;
    /* Open afresh a debate that was closed with any outcome (not only story_moved): its story
     * was requeued to be debated again. */
    bool reopen_closed;
    /* The story's priority (blackboard.h): open debates are seated and closed highest first,
     * then oldest. */
    int priority;
};

/* panel 3, quorum 2, threshold 0.6, deadline 60 s, settling early. */
void debate_options_default(struct debate_options *o);
/* The [debate] keys of a configuration; a quorum above the panel counts as the panel. */
void debate_options_from(struct debate_options *o, const struct config *c);

struct debate_vote {
    char agent[REGISTRY_ID_MAX + 1];
    enum debate_vote_kind vote;
    double confidence; /* 0..1 */
    char *reasoning;   /* owned; "" when none */
    int64_t t_ms;      /* server time it was cast (read back only) */
};

struct debate {
    char id[NEWS_ID_MAX + 1]; /* the story's id */
    char *title, *summary;    /* owned, "" when none */
    char *brief;              /* owned: the story's text the debaters argue over, "" when none */
    char by[REGISTRY_ID_MAX + 1];              /* who opened it */
    int64_t opened_ms, deadline_ms, closed_ms; /* closed_ms 0 while open */
    int panel, quorum;
    double threshold;
    bool open;
    /* Its clock: started with the first seat (0: not yet; the deadline then only says what it
     * would be), standing still since paused_ms while its debaters are deferred (0: running). */
    int64_t started_ms, paused_ms;
    /* Once closed: */
    char outcome[16]; /* DEBATE_CONSENSUS, DEBATE_NO_CONSENSUS, DEBATE_STORY_MOVED; "" while open */
    double score;
    char *reason; /* owned, "" while open */
    char closed_by[REGISTRY_ID_MAX + 1];
    /* The lease of the moderator closing it, "" and 0 when none. */
    char lease[REGISTRY_ID_MAX + 1];
    int64_t lease_until_ms;
    long seats;                /* seats taken (live or lapsed, with or without a vote) */
    struct debate_vote *votes; /* owned, oldest first; NULL when none */
    size_t nvotes;
    int64_t now_ms; /* the server's time when it was read */
};

/* Frees what a debate holds and zeroes it. NULL is a no-op. */
void debate_clear(struct debate *d);
/* The debate as a JSON object with every vote. New reference. */
json_t *debate_to_json(const struct debate *d);

/* Opens the debate of story `story_id` with these options, opened by agent `by`. Opening one
 * that exists changes nothing (*created false), except that a debate closed as story_moved
 * (its story went away and came back) opens afresh, without its old seats and votes. A new
 * debate is announced with a DEBATE_INVITE message to the debater tier (best effort: pub/sub
 * may be missed). brief (may be NULL) is the story's text, kept with the debate so a debater
 * has all it needs from its seat. *created may be NULL. */
int debate_open(struct rlink *l, const char *story_id, const char *title, const char *summary,
                const char *brief, const struct debate_options *o, const char *by, bool *created,
                char **cause);

/* Seats `agent` at the oldest open debate whose clock has not run out, where it has no seat and
 * no vote and whose live seats are fewer than its panel. DEBATE_OK with *out filled (without
 * votes; debate_clear() it), or DEBATE_NONE when no debate has a free seat for it. A seat is
 * live while it holds a vote, its debater's heartbeat is live (registry.h) or it is younger
 * than seat_ttl_ms; others are removed on the way. The first seat starts the debate's clock
 * (deadline_ms from now), and a seat taken while it is paused adds the pause to the deadline.
 * Every seat is indexed per debater (nr:debate:seated:<agent>), so the reaper frees the seats
 * of a dead debater at once and gives the debate back the time they were held. */
int debate_seat(struct rlink *l, const char *agent, int seat_ttl_ms, struct debate *out,
                char **cause);
/* debate_seat() under backpressure: while the depth of flow stage `gate` (BB_FLOW_*, -1: none)
 * is at least hwm (0: no mark), only debates whose clock has started (seated before) take a
 * debater: no new debate is opened to its panel while the queue its stories go on to is full.
 * Being held there is noted (nr:bb:flow held:<stage>), so the stage's next drain rings the
 * doorbell 'drained:<stage>'. A debate whose story has ended (archived, failed: expired while it
 * waited) seats nobody. */
int debate_seat_gated(struct rlink *l, const char *agent, int seat_ttl_ms, int gate, long hwm,
                      struct debate *out, char **cause);
/* Gives a seat back (the agent will not vote): DEBATE_OK, or DEBATE_NONE when it held no seat
 * without a vote there. pause: the agent's call was deferred (budget) or failed for an
 * outage, not for the debate's sake: the debate's clock stands still until the next seat. */
int debate_unseat(struct rlink *l, const char *id, const char *agent, bool pause, char **cause);

/* Records v (agent, vote, confidence clamped to 0..1, reasoning cut at DEBATE_REASONING_MAX)
 * in debate id: DEBATE_OK; DEBATE_REFUSED when the agent has no seat there, has voted already
 * or the debate is closed; DEBATE_NONE when there is no such debate. *nvotes (may be NULL)
 * receives the votes it now has. */
int debate_vote(struct rlink *l, const char *id, const struct debate_vote *v, long *nvotes,
                char **cause);

/* Takes the oldest open debate whose votes fill its panel (or settle it), or whose clock has run
 * out (started, not paused, past its deadline), and that no moderator holds a live lease on (its
 * own included, so a moderator can put a debate aside until its lease lapses); leases it to
 * `moderator` for lease_ms. DEBATE_OK with *out filled with every vote, or DEBATE_NONE. */
int debate_ready(struct rlink *l, const char *moderator, int lease_ms, struct debate *out,
                 char **cause);

/* Closes debate id with its outcome (DEBATE_CONSENSUS, DEBATE_NO_CONSENSUS or
 * DEBATE_STORY_MOVED), score and reason, as `moderator`: DEBATE_OK; DEBATE_REFUSED when it is
 * closed already or another moderator holds a live lease; DEBATE_NONE without it. */
int debate_close(struct rlink *l, const char *id, const char *moderator, const char *outcome,
                 double score, const char *reason, char **cause);

/* One debate with every vote: DEBATE_OK with *out (debate_clear() it), or DEBATE_NONE. */
int debate_get(struct rlink *l, const char *id, struct debate *out, char **cause);
/* Open debates (oldest first) or closed ones (newest first), at most limit, with their votes.
 * *out is an array of *n debates: free with debate_list_free(). */
int debate_list(struct rlink *l, bool open, size_t limit, struct debate **out, size_t *n,
                char **cause);
void debate_list_free(struct debate *list, size_t n);

/* What the votes of a debate amount to. */
struct consensus {
    double score;     /* confidence-weighted share of "for" among for and against, 0..1 */
    double threshold; /* the debate's */
    int votes, n_for, n_against, n_abstain;
    int quorum, panel;
    bool quorum_met; /* votes >= quorum */
    bool reached;    /* quorum_met && score >= threshold */
    char reason[256];
};

/* Pure: score = sum(confidence of "for") / sum(confidence of "for" and "against"), 0 when that
 * sum is 0. Abstentions count toward the quorum (the debater took part and had no case to make
 * either way) but not toward the score, so they neither help nor block a consensus. The reason
 * reads "consensus 0.78 >= 0.60 with 3 of 3 votes (2 for, 1 against)", "no consensus: 0.40 <
 * 0.60 with ..." or "no consensus: quorum not reached (1 of 2 votes by the deadline)". */
void debate_consensus(const struct debate *d, struct consensus *out);

#endif
