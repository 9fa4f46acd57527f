/*
 * breaker.h - circuit breakers, one per external service: each LLM provider (kind and base
 * URL), the speech provider, each feed host, and later Langfuse and Chroma. A breaker is
 * closed (calls go through); after `failures` failures within `window` it opens (calls fail at
 * once with the breaker's own error, so the caller can fall back); after `cooldown` it is
 * half-open and lets `trials` trial calls through per round; `successes` trial successes close
 * it, one failed trial opens it again. The policy is [breakers] in the configuration.
 *
 * Shared state: the truth lives in Redis (nr:breaker:<name>, changed only by breaker.lua), so
 * every process and the control room see one view; every transition is appended to
 * nr:breaker:events and logged. Cost: a check never talks to Redis. Each process keeps a view
 * of its breakers, refreshed by the board's sync thread (its own link) at most every
 * refresh_ms while they are used; a failure, a trial's success and a wish for trial slots are
 * sent at once (by that thread), a success on a closed breaker is never sent. Between two
 * syncs the view counts the process's own failures, so a breaker opens here at its Nth local
 * failure without waiting. Without a board (breaker_board_start() not called: tools, tests)
 * every breaker works on the process's view alone.
 *
 * Adding a service is one line: `struct breaker *b = breaker_for("chroma", url);` then
 * breaker_allow() before the call and breaker_success() / breaker_failure() after it.
 *
 * Threads: any thread. Breakers are interned for the life of the process (never freed); the
 * view is guarded by one mutex; Redis is touched only by the sync thread, and by
 * breaker_list() / breaker_reset() on the caller's own link.
 */
#ifndef NEWSROOM_BREAKER_H
#define NEWSROOM_BREAKER_H

#include "store/keys.h"
#include "store/redis_url.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct rlink;
struct rlink_options;

#define BREAKER_PREFIX     NR_PREFIX "breaker:"
#define BREAKER_SET_KEY    NR_PREFIX "breakers"
#define BREAKER_EVENTS_KEY NR_PREFIX "breaker:events"
#define BREAKER_EVENTS_MAX 10000
#define BREAKER_NAME_MAX   200

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

/* "closed", "open", "half_open". */
const char *breaker_state_name(enum breaker_state s);

struct breaker_policy {
    int failures;        /* failures within window that open it */
    int64_t window_ms;   /* the window they are counted in */
    int64_t cooldown_ms; /* open this long, then half-open; also the length of a trial round */
    int trials;          /* trial calls per half-open round (at least successes) */
    int successes;       /* trial successes that close it */
    int refresh_ms;      /* the view is at most this old while breakers are used */
};

/* The [breakers] keys of c. */
void breaker_policy_from_config(struct breaker_policy *p, const struct config *c);

/* Starts the process's board: the policy, and a sync thread with its own link to addr (lo's
 * options; its client name is set here). Counted: every start needs a breaker_board_stop(),
 * and only the first start's policy and address apply. Returns 0, or -1 with *cause. */
int breaker_board_start(const struct redis_addr *addr, const struct rlink_options *lo,
                        const struct breaker_policy *p, char **cause);
/* Stops the sync thread when the last start is stopped (flushing what it has to tell). */
void breaker_board_stop(void);
/* The policy breakers use without a board (tools, tests); a started board's policy wins. */
void breaker_set_local_policy(const struct breaker_policy *p);

struct breaker;

/* The breaker of a service ("llm", "speech", "feed", "langfuse", "chroma") at `where` (a base
 * URL, a host): its name is "service:where", cut at BREAKER_NAME_MAX bytes. The same name
 * gives the same breaker; it lives as long as the process. Never NULL. */
struct breaker *breaker_for(const char *service, const char *where);
/* Its name, borrowed for the life of the process. */
const char *breaker_name(const struct breaker *b);

/* May a call go now? 0: yes (in half-open, it takes a trial slot: report its outcome with
 * breaker_success() or breaker_failure()); -1: no, the breaker is open (or half-open with no
 * trial slot free), with *cause "circuit breaker NAME is open: ..." (free it). */
int breaker_allow(struct breaker *b, char **cause);
/* The outcome of a call that breaker_allow() let through. A failure is one the service is to
 * blame for (no answer, a timeout, 5xx, 429), never the caller's own mistake; why (may be
 * NULL) is kept as the breaker's last error (it must hold no secret). */
void breaker_success(struct breaker *b);
void breaker_failure(struct breaker *b, const char *why);
/* The state this process sees now. */
enum breaker_state breaker_state_of(struct breaker *b);

/* One breaker as Redis holds it (breaker_list()). */
struct breaker_info {
    char name[BREAKER_NAME_MAX + 1];
    enum breaker_state state;
    int failures;       /* in the current window (closed) */
    int successes;      /* trial successes in this half-open state */
    int64_t changed_ms; /* last transition, server ms */
    int64_t opened_ms;  /* when it last opened, 0: never */
    int64_t next_ms;    /* open: when it becomes half-open (server ms); else 0 */
    long long opens;    /* times it opened */
    char last_error[256];
    int64_t last_failure_ms;
};
/* Every breaker any process has reported, by name, with *now_ms the server's time (may be
 * NULL). *out: free(). Returns 0, or -1 with *cause. */
int breaker_list(struct rlink *l, struct breaker_info **out, size_t *n, int64_t *now_ms,
                 char **cause);
/* Closes breaker name by hand, with its event and an audit record ("breaker-reset") as the
 * current user, in one step. Processes see it at their next sync. Returns 0, or -1 with
 * *cause (an unknown breaker is named). */
int breaker_reset(struct rlink *l, const char *name, char **cause);

#endif
