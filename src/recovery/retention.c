/*
 * retention.c - retention passes; see retention.h. Stateless: the caller's link and thread.
 */
#include "recovery/retention.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "cost/usage.h"
#include "memory/memory.h"
#include "observe/trace_store.h"
#include "store/blackboard.h"
#include "store/debate.h"
#include "store/lua_scripts.h"
#include "store/registry.h"
#include "store/rlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A pass never holds the lock longer than this (a holder that died frees it by itself). */
#define RETENTION_LOCK_MS 120000

/* Keys of a story beyond those retention_sweep.lua knows, "{id}" for its id: one row for each
 * per-story key a subsystem adds (the stage checkpoints, when they live apart from the
 * story's hash). */
static const char *const story_keys[] = {
    TRACE_KEY_PREFIX "{id}", /* its trace kept for ctl trace (src/observe/trace_store.h) */
    NULL,
};

/* The terminal statuses in the order of the windows. */
static const int window_status[RETENTION_STATUSES] = {
    [RETENTION_PUBLISHED] = BB_PUBLISHED_S,
    [RETENTION_ARCHIVED] = BB_ARCHIVED,
    [RETENTION_FAILED] = BB_FAILED,
};

void retention_policy_from_config(struct retention_policy *p, const struct config *c)
{
    memset(p, 0, sizeof *p);
    p->window_ms[RETENTION_PUBLISHED] = c->retention_published_ms;
    p->window_ms[RETENTION_ARCHIVED] = c->retention_archived_ms;
    p->window_ms[RETENTION_FAILED] = c->retention_failed_ms;
    p->dead_agents_ms = c->retention_agents_ms;
}

/* One step over status st: deletes up to batch stories past window, and their records in mem.
 * Returns how many, or -1. */
static long sweep(struct rlink *l, struct memory *mem, int st, int64_t window, int batch,
                  char **cause)
{
    const char *argv[9 + sizeof story_keys / sizeof story_keys[0]];
    char win[24], lim[16];
    redisReply *r;
    long n;
    int argc = 0;

    snprintf(win, sizeof win, "%lld", (long long)window);
    snprintf(lim, sizeof lim, "%d", batch);
    argv[argc++] = "stories";
    argv[argc++] = BB_PREFIX;
    argv[argc++] = DEBATE_PREFIX;
    argv[argc++] = DEBATES_OPEN_KEY;
    argv[argc++] = DEBATES_CLOSED_KEY;
    argv[argc++] = COST_PREFIX;
    argv[argc++] = bb_statuses[st].name;
    argv[argc++] = win;
    argv[argc++] = lim;
    for (size_t i = 0; story_keys[i] != NULL; i++)
        argv[argc++] = story_keys[i];
    r = rlink_eval(l, &lua_retention_sweep, 0, argc, argv, cause);
    if (r == NULL)
        return -1;
    n = r->type == REDIS_REPLY_ARRAY ? (long)r->elements : 0;
    if (n > 0 && mem != NULL) {
        const char **ids = xcalloc((size_t)n, sizeof *ids);
        char *why = NULL;

        for (long i = 0; i < n; i++)
            ids[i] = r->element[i]->str;
        /* The stories are gone from the blackboard whatever happens here; a record left in
         * the memory is found again by no one but search, and the next pass does not see it. */
        if (memory_forget_stories(mem, ids, (size_t)n, &why) == -1) {
            log_warn("retention: the memory keeps records of %ld deleted stories: %s", n, why);
            free(why);
        }
        free(ids);
    }
    freeReplyObject(r);
    return n;
}

static int passes(struct rlink *l, const struct retention_policy *p, struct retention_report *out,
                  char **cause)
{
    int batch = p->batch > 0 ? p->batch : 100, rounds = p->max_rounds > 0 ? p->max_rounds : 20;
    struct registry *reg;
    int rc;

    for (int w = 0; w < RETENTION_STATUSES; w++) {
        if (p->window_ms[w] <= 0)
            continue;
        for (int i = 0; i < rounds; i++) {
            long n = sweep(l, p->mem, window_status[w], p->window_ms[w], batch, cause);

            if (n < 0)
                return -1;
            out->stories[w] += n;
            if (n < batch)
                break;
        }
    }
    if (p->window_ms[RETENTION_ARCHIVED] > 0) {
        char win[24], lim[16];
        const char *argv[4] = {"requests", COST_PREFIX, win, lim};
        redisReply *r;

        snprintf(win, sizeof win, "%lld", (long long)p->window_ms[RETENTION_ARCHIVED]);
        snprintf(lim, sizeof lim, "%d", batch);
        if ((r = rlink_eval(l, &lua_retention_sweep, 0, 4, argv, cause)) == NULL)
            return -1;
        out->requests = r->type == REDIS_REPLY_INTEGER ? (long)r->integer : 0;
        freeReplyObject(r);
    }
    reg = registry_new(l);
    rc = registry_prune(reg, p->dead_agents_ms, batch * rounds, &out->agents, cause);
    registry_free(reg);
    return rc;
}

int retention_run(struct rlink *l, const struct retention_policy *p, const char *owner,
                  struct retention_report *out, char **cause)
{
    char token[160], ttl[16];
    const char *argv[2] = {RETENTION_LOCK_KEY, token};
    redisReply *r;
    char *why = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    snprintf(token, sizeof token, "%s:%ld:%lld", owner, (long)getpid(), (long long)clock_mono_us());
    snprintf(ttl, sizeof ttl, "%d", RETENTION_LOCK_MS);
    r = rlink_command(l, cause, "SET %s %s NX PX %s", RETENTION_LOCK_KEY, token, ttl);
    if (r == NULL)
        return -1;
    out->ran = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (!out->ran)
        return 0;
    rc = passes(l, p, out, cause);
    r = rlink_eval(l, &lua_lock_release, 1, 2, argv, rc == -1 ? &why : cause);
    if (r == NULL && rc == 0)
        rc = -1;
    free(why);
    freeReplyObject(r);
    if (rc == 0 &&
        (out->stories[0] + out->stories[1] + out->stories[2] + out->requests + out->agents > 0))
        log_info("retention: deleted %ld published, %ld archived, %ld failed stories, %ld budget "
                 "requests, %d dead agents",
                 out->stories[RETENTION_PUBLISHED], out->stories[RETENTION_ARCHIVED],
                 out->stories[RETENTION_FAILED], out->requests, out->agents);
    return rc;
}
