/*
 * room.h - what the control room reads and sends, engine side (no curses here): snapshots of
 * the swarm built by a background feed thread, a ring of events for the UI thread, and a
 * command worker that carries out operator actions.
 *
 *   feed thread (own Redis link)  --- snapshots (atomic hand-over) ---> UI thread
 *     follows nr:bb:events,       --- event ring (room_event) -------->   (poll() on the
 *     polls counts, agents, ...                                            terminal and
 *   command worker (own link)     <-- command ring (room_cmd) ---------    ring_fd())
 *                                 --- results as room_event ---------->
 *
 * Every string in a snapshot or an event has been through text_safe() (src/core/text.h):
 * what the UI draws is inert. Times are ms since the epoch on the Redis server's clock
 * unless named _mono (this process's monotonic clock).
 *
 * Threads: room_new/start/stop/free belong to the UI (owner) thread. room_take_snapshot(),
 * room_take_detail(), room_pop_events(), room_send() and room_fd() are the UI thread's (the
 * single consumer of the event ring; room_send() may in fact be called from any thread). The
 * feed and the worker each own their Redis link and touch nothing of the UI.
 */
#ifndef NEWSROOM_ROOM_H
#define NEWSROOM_ROOM_H

#include "store/bb_table.h"
#include "store/news_item.h"
#include "store/redis_url.h"
#include "store/rlink.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define ROOM_ID_MAX    (NEWS_ID_MAX + 1)
#define ROOM_TEXT_MAX  256 /* a title, a reason, a message: cut (text_safe max) to fit */
#define ROOM_NAME_MAX  128 /* agent ids, users, limits */
#define ROOM_FLOW_LEN  60  /* sparkline samples per section (one per snapshot period) */
#define ROOM_ITEMS_MAX 200 /* stories listed per section */

/* ---- snapshots ---- */

struct room_item {
    char id[ROOM_ID_MAX];
    char title[ROOM_TEXT_MAX];
    int section, status; /* enum bb_section, enum bb_status */
    char owner[ROOM_NAME_MAX];
    int64_t updated_ms, created_ms;
    int attempts;
};

struct room_vote {
    char agent[ROOM_NAME_MAX];
    int vote; /* 0 for, 1 against, 2 abstain */
    double confidence;
};

struct room_debate {
    char id[ROOM_ID_MAX];
    char title[ROOM_TEXT_MAX];
    bool open;
    int n_for, n_against, n_abstain;
    double w_for, w_against; /* summed confidences */
    double score, threshold; /* score: the current confidence-weighted share of "for" */
    int panel, quorum;
    int64_t opened_ms, deadline_ms, closed_ms;
    char outcome[24]; /* "" while open */
    struct room_vote votes[8];
    int nvotes; /* kept in votes[], at most 8 */
};

struct room_agent {
    char id[ROOM_NAME_MAX];
    char role[32], tier[16], status[16]; /* status: idle, busy, paused, dead */
    char host[64];
    int64_t heartbeat_ms;   /* last heartbeat */
    char task[ROOM_ID_MAX]; /* the story it holds now (its lock is held), "" when none */
    int64_t spent_today;    /* micro-dollars */
    bool budget_wait;       /* an open budget request refused one of its calls */
};

struct room_budget {
    char agent[ROOM_NAME_MAX];                     /* "*" for the swarm's global day */
    int64_t day_spent, day_reserved, day_limit;    /* micro-dollars; limit 0: none */
    int64_t hour_spent, hour_reserved, hour_limit; /* the global row has no hour */
    int64_t alert_ppm;                             /* the threshold in force */
};

struct room_request {
    char id[32];
    char agent[ROOM_NAME_MAX], limit[32], window[32];
    int64_t needed, cap, time_ms;
    long long waiting;                  /* tasks waiting on it */
    char waiting_agents[ROOM_TEXT_MAX]; /* the agents refused under it, comma-separated */
};

/* A story awaiting review, one row of a review page (struct room_review_page). */
enum { ROOM_MARK_VIDEO = 1, ROOM_MARK_STORYBOARD = 2, ROOM_MARK_REVISED = 4 };
struct room_review {
    char id[ROOM_ID_MAX];
    char title[ROOM_TEXT_MAX];
    char source[ROOM_NAME_MAX];
    double duration_s; /* the package's, 0 when none */
    int64_t cost;      /* micro-dollars spent on the story so far */
    double qa_score;   /* the last QA verdict's, -1 when none */
    double priority;   /* the body's "priority" number, 0 when none */
    unsigned marks;    /* ROOM_MARK_* */
    int64_t waiting_since_ms;
};

/* The orders a review page can come in (room_sort_names: "priority", ...), the first the
 * review desk's own: the review queue is read by priority (the analyst's newsworthiness and
 * urgency, breaking news first), then the longest waiting. Priority, QA score and cost put the
 * highest first (ties: the oldest); a story without a priority counts as 0. */
enum room_sort {
    ROOM_SORT_PRIORITY,
    ROOM_SORT_OLDEST,
    ROOM_SORT_NEWEST,
    ROOM_SORT_QA,
    ROOM_SORT_COST,
    ROOM_SORT_COUNT
};
extern const char *const room_sort_names[ROOM_SORT_COUNT];

#define ROOM_FILTER_MAX  128
#define ROOM_REVIEW_PAGE 200 /* rows a page holds at most */

/* One page of the review queue, asked for with ROOM_CMD_REVIEW: the whole REVIEWING index
 * filtered (id, title, source) and sorted in Redis (room_review.lua), then rows offset ..
 * offset + nrows - 1 of what matched. */
struct room_review_page {
    uint64_t seq; /* the ROOM_CMD_REVIEW it answers */
    int sort;     /* enum room_sort */
    char filter[ROOM_FILTER_MAX];
    int64_t taken_ms;
    long total;    /* stories waiting */
    long matching; /* of those, passing the filter */
    long offset;
    bool any_priority; /* some story looked at carries a priority */
    struct room_review *rows;
    size_t nrows;
    char *error; /* display-safe; NULL when fetched */
};
void room_review_page_free(struct room_review_page *p);

/* A story of the dead set, one row of a failed page (struct room_failed_page). */
struct room_failed {
    char id[ROOM_ID_MAX];
    char title[ROOM_TEXT_MAX];
    char step[24]; /* the step that failed: where a requeue puts it back (deadset.h) */
    int attempts;
    int64_t failed_ms; /* when it entered FAILED */
    char error[ROOM_TEXT_MAX];
};

#define ROOM_FAILED_PAGE 200 /* rows a failed page holds at most */

/* One page of the dead set, asked for with ROOM_CMD_FAILED: the FAILED index, newest failure
 * first, filtered (id, title, step, last error) in Redis (room_failed.lua), then rows offset ..
 * offset + nrows - 1 of what matched. */
struct room_failed_page {
    uint64_t seq; /* the ROOM_CMD_FAILED it answers */
    char filter[ROOM_FILTER_MAX];
    int64_t taken_ms;
    long total;    /* stories FAILED */
    long matching; /* of those, passing the filter */
    long offset;
    struct room_failed *rows;
    size_t nrows;
    char *error; /* display-safe; NULL when fetched */
};
void room_failed_page_free(struct room_failed_page *p);

/* A circuit breaker that is not closed (recovery/breaker.h), as the snapshot carries it. */
struct room_breaker {
    char name[ROOM_TEXT_MAX];
    char state[16];     /* "open", "half_open" */
    int64_t changed_ms; /* its last transition (server ms) */
    int64_t next_ms;    /* open: when it lets trial calls through (server ms); 0: now */
    long long opens;    /* times it opened */
    char last_error[ROOM_TEXT_MAX];
};

struct room_audit {
    int64_t time_ms;
    char user[64], from[64], what[32];
    char item[ROOM_ID_MAX];
    char reason[ROOM_TEXT_MAX];
};

struct room_snapshot {
    uint64_t seq;           /* grows with every snapshot */
    int64_t taken_ms;       /* server time it was taken */
    int64_t taken_mono;     /* this process's monotonic ms */
    char swarm[64];         /* [general] swarm_name */
    char address[256];      /* the Redis link, password masked */
    int64_t latency_us;     /* PING round trip */
    int64_t started_mono;   /* when the control room started */
    double stories_per_min; /* stories that entered PUBLISHED or ARCHIVED in the last minute */
    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT];
    /* Stories that entered each section per snapshot period, oldest first (sparklines). */
    uint16_t flow[BB_SECTION_COUNT][ROOM_FLOW_LEN];
    /* Feed sources ([feeds] sources; 0 when none): how many are in each state, and the first
     * error with its source. */
    int feeds, feeds_error;
    char feed_error[ROOM_TEXT_MAX];
    /* The swarm's tracing as its processes report it ("langfuse ok (2 processes)", "langfuse
     * DOWN: HTTP 503", "file traces.jsonl"); "" when no process reports (tracer.h). */
    char tracing[ROOM_TEXT_MAX];
    /* Halt and the last emergency. */
    bool halted;
    char halt_by[ROOM_NAME_MAX], halt_message[ROOM_TEXT_MAX];
    int64_t halt_ms;
    /* Lists; each array is owned by the snapshot. */
    struct room_item *items; /* per section, newest first, at most ROOM_ITEMS_MAX each */
    size_t nitems;
    struct room_debate *debates; /* open ones (oldest first), then recently closed */
    size_t ndebates;
    struct room_agent *agents; /* by id */
    size_t nagents;
    struct room_budget *budgets; /* per agent, then the global row ("*") last */
    size_t nbudgets;
    int64_t spend_rate_per_h;      /* global, micro-dollars per hour over the last 10 minutes */
    struct room_request *requests; /* open budget requests, oldest first */
    size_t nrequests;
    int64_t review_oldest_ms; /* when the longest waiting story entered REVIEWING; 0: none */
    /* The flow (bb_table.h's stages): each stage's depth and high-water mark (the swarm's, as
     * its heart publishes them, else this room's configuration; 0: none), and the stage that
     * holds the flow back (the furthest downstream at or above its mark), -1 when none. */
    long flow_depth[BB_FLOW_COUNT], flow_hwm[BB_FLOW_COUNT];
    int flow_holding;
    struct room_audit *audit; /* newest first, at most 100 */
    size_t naudit;
    struct room_breaker *breakers; /* those not closed, by name */
    size_t nbreakers;
};

void room_snapshot_free(struct room_snapshot *s);

/* A story opened with Enter, built around the decision: its sections in the order a
 * producer reads them. Each section is display-safe text, one line per '\n' ("" when the
 * story has nothing for it). */
enum room_section {
    ROOM_SEC_DECISION, /* title, source and URL, priority, length, cost, QA, the video, preview */
    ROOM_SEC_SCRIPT,   /* the script as it will be read */
    ROOM_SEC_CAPTIONS, /* the captions (SRT) */
    ROOM_SEC_WIRE,     /* the original wire copy */
    ROOM_SEC_DEBATE,   /* analysis, debate and votes, revisions, QA rounds, review, state */
    ROOM_SEC_HISTORY,  /* the story's events, oldest first */
    ROOM_SEC_COUNT
};
extern const char *const room_section_names[ROOM_SEC_COUNT];

struct room_detail {
    char id[ROOM_ID_MAX];
    bool found;
    bool reviewing; /* it waits for a decision now */
    /* FAILED: the step that failed (where u requeues it; "" when not FAILED), its attempts and
     * its last error. */
    char failed_step[24];
    int attempts;
    char fail_reason[ROOM_TEXT_MAX];
    char title[ROOM_TEXT_MAX];
    char *section[ROOM_SEC_COUNT]; /* owned; never NULL once fetched */
    char *error;                   /* display-safe; NULL when fetched */
    /* The preview server's address of its video, and the ssh line that reaches it from the
     * producer's machine ("" when the story has no rendered video or the preview is off). */
    char preview_url[512];
    char preview_ssh[256];
    bool frames_coming; /* a rendered video: its frames follow as a struct room_frames */
};
void room_detail_free(struct room_detail *d);

/* Frames of a story's video, extracted by ffmpeg on the worker (never the UI thread): the
 * thumbnail and a contact sheet of one frame from the middle of each shot. Pictures are RGB,
 * 3 bytes a pixel, rows top down. */
struct room_picture {
    int w, h;
    uint8_t *rgb;   /* owned; NULL when none */
    double at_s;    /* where in the video */
    char label[48]; /* what the shot shows ("feed image", "chart", "text slide"), display-safe;
                       "" for the thumbnail and packages made before pictures */
};
struct room_frames {
    char id[ROOM_ID_MAX];
    struct room_picture thumb;
    struct room_picture *sheet;
    size_t nsheet;
    char note[ROOM_TEXT_MAX]; /* why some or all are missing, display-safe; "" when none */
};
void room_frames_free(struct room_frames *f);
void room_detail_free(struct room_detail *d);

/* ---- events (the ring) ---- */

enum room_event_kind {
    ROOM_EV_SNAPSHOT, /* a new snapshot is ready: room_take_snapshot() */
    ROOM_EV_DETAIL,   /* a detail asked for is ready: room_take_detail() */
    ROOM_EV_BB,       /* a blackboard event (claim, move, decide, ...) */
    ROOM_EV_ALERT,    /* a budget alert */
    ROOM_EV_RESULT,   /* the outcome of an operator command (ok, text) */
    ROOM_EV_LINK,     /* the feed's link was lost (ok false) or is back (ok true) */
    ROOM_EV_REVIEW,   /* a review page asked for is ready: room_take_review() */
    ROOM_EV_FRAMES,   /* a detail's frames are ready: room_take_frames() */
    ROOM_EV_FAILED,   /* a failed page asked for is ready: room_take_failed() */
};

struct room_event {
    int kind; /* enum room_event_kind */
    bool ok;
    uint64_t cmd_seq; /* ROOM_EV_RESULT: the command's seq */
    int64_t t_ms;
    char what[24];            /* event kind: "claim", "move", "approve", ... */
    char id[ROOM_ID_MAX];     /* the story, when one */
    char by[ROOM_NAME_MAX];   /* who */
    char text[ROOM_TEXT_MAX]; /* a one-line description (display-safe) */
};

/* ---- commands (operator actions) ---- */

enum room_cmd_kind {
    ROOM_CMD_APPROVE,   /* id, text: note (may be "") */
    ROOM_CMD_REJECT,    /* id, text: reason (not empty) */
    ROOM_CMD_REVISE,    /* id, text: the note for the writer (not empty) */
    ROOM_CMD_EMERGENCY, /* text: message; halt: also halt the swarm */
    ROOM_CMD_HALT,      /* text: message */
    ROOM_CMD_RESUME,    /* text: note (may be ""); amount: the halt_ms the operator saw (0: any) */
    ROOM_CMD_GRANT,     /* id: the request; amount: micro-dollars (0: what it needed) */
    ROOM_CMD_DECLINE,   /* id: the request */
    ROOM_CMD_DETAIL,    /* id: the story to fetch for room_take_detail(); halt: no frames */
    ROOM_CMD_REVIEW,    /* a review page: text the filter, sort, amount the offset */
    ROOM_CMD_DECIDED,   /* id: who decided it, if someone did (a stale question's answer) */
    ROOM_CMD_REQUEUE,   /* id: a FAILED (or ARCHIVED) story; text: the step ("": the one that
                           failed) */
    ROOM_CMD_FAILED,    /* a failed page: text the filter, amount the offset */
    ROOM_CMD_REQUEUE_ALL, /* every FAILED story, each at the step that failed; amount: how many
                             the operator was told (the result says if it differs) */
};

struct room_cmd {
    int kind;     /* enum room_cmd_kind */
    uint64_t seq; /* set by room_send() */
    char id[ROOM_ID_MAX];
    char text[1024];
    bool halt;
    int sort; /* ROOM_CMD_REVIEW: enum room_sort */
    int64_t amount;
};

/* ---- the room ---- */

struct room_options {
    struct redis_addr addr;    /* the feed and the worker each link to it */
    struct rlink_options link; /* client names are set per thread */
    const struct config *cfg;  /* borrowed; must outlive the room */
    int period_ms;             /* between snapshots (<= 0: 1000) */
    bool no_frames;            /* --no-images: never extract frames */
    size_t event_capacity;     /* event ring (<= 0: 4096) */
};

struct room;

/* A room (not started). Never NULL; free with room_free(). */
struct room *room_new(const struct room_options *o);
/* Starts the feed and the worker threads. 0, or -1 with *cause. */
int room_start(struct room *r, char **cause);
/* Stops and joins both threads (within the link's command timeout). */
void room_stop(struct room *r);
void room_free(struct room *r);

/* The event ring's wake-up descriptor (poll it beside the terminal) and its consumer side:
 * up to max events into out; returns how many. room_arm() before sleeping, room_clear()
 * after (ring.h's protocol). */
int room_fd(const struct room *r);
size_t room_pop_events(struct room *r, struct room_event *out, size_t max);
int room_arm(struct room *r);
void room_clear(struct room *r);
/* Events dropped because the ring was full. */
uint64_t room_dropped(const struct room *r);

/* The newest snapshot, or NULL when none arrived since the last take. Takes ownership
 * (room_snapshot_free). */
struct room_snapshot *room_take_snapshot(struct room *r);
/* The detail last asked for with ROOM_CMD_DETAIL, or NULL. Takes ownership. */
struct room_detail *room_take_detail(struct room *r);
/* The frames of the last detail, or NULL. Takes ownership (room_frames_free). */
struct room_frames *room_take_frames(struct room *r);
/* The review page last asked for with ROOM_CMD_REVIEW, or NULL. Takes ownership
 * (room_review_page_free). */
struct room_review_page *room_take_review(struct room *r);
/* The failed page last asked for with ROOM_CMD_FAILED, or NULL. Takes ownership
 * (room_failed_page_free). */
struct room_failed_page *room_take_failed(struct room *r);

/* Queues a command for the worker; fills c->seq. Returns the seq, or 0 when the command ring
 * is full (the action is refused at once; say so). */
uint64_t room_send(struct room *r, struct room_cmd *c);

/* Whether the feed's link is up now, and since when it is down (monotonic ms, 0 when up). */
bool room_link_ok(const struct room *r, int64_t *down_since_mono);

#endif
