/*
 * breaker.c - circuit breakers; see breaker.h. The process's breakers hang off one board: a
 * list of interned breakers and their view, guarded by board.mu, and, once started, a sync
 * thread that owns the only link this module uses for the hot path. Callers of
 * breaker_allow(), breaker_success() and breaker_failure() take the mutex for a few
 * instructions and never wait on Redis; what Redis must hear is left in each breaker's
 * pending counts and the sync thread is woken (board.cv, CLOCK_MONOTONIC). The sync thread
 * sends the pending counts and reads the shared state back in one EVALSHA of breaker.lua,
 * only for breakers used since its last round, not closed, or with something to tell.
 *
 * Threads: any thread for the breaker calls; the sync thread for its link; breaker_list()
 * and breaker_reset() on the caller's link. board.starts and the thread handle are guarded by
 * board.mu too.
 */
#include "recovery/breaker.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "store/audit.h"
#include "store/embedded.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Breakers a sync carries at most (the rest wait for the next round). */
#define SYNC_MAX 64

struct breaker {
    struct breaker *next;
    char name[BREAKER_NAME_MAX + 1];
    /* The view (board.mu): */
    enum breaker_state state;
    int64_t open_until;   /* monotonic ms: open ends (cool-down) */
    int window_failures;  /* this process's failures in its own window */
    int64_t window_start; /* monotonic ms */
    int permits;          /* trial slots Redis granted this process */
    int trials_out;       /* trial calls let through and not yet reported */
    int round_trials;     /* without a board: trials of this round */
    int64_t round_start;  /* without a board: monotonic ms */
    int half_successes;   /* without a board: trial successes */
    int64_t last_use;     /* monotonic ms */
    /* To tell Redis (board.mu): */
    int pend_fail, pend_succ, want;
    char last_error[200];
};

static struct {
    pthread_once_t once;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC: wakes the sync thread */
    struct breaker *list;
    struct breaker_policy policy;
    int starts;   /* breaker_board_start() calls not yet stopped */
    bool running; /* the sync thread runs: the view follows Redis */
    bool wake, stop;
    pthread_t thread;
    struct redis_addr addr;
    struct rlink_options lo;
    char client_name[64];
    int64_t last_sync; /* monotonic ms */
} board = {.once = PTHREAD_ONCE_INIT};

static const char *const state_names[] = {
    [BREAKER_CLOSED] = "closed",
    [BREAKER_OPEN] = "open",
    [BREAKER_HALF_OPEN] = "half_open",
};

const char *breaker_state_name(enum breaker_state s)
{
    return (int)s >= 0 && s <= BREAKER_HALF_OPEN ? state_names[s] : "?";
}

static int state_parse(const char *s, enum breaker_state *out)
{
    for (int i = 0; i <= BREAKER_HALF_OPEN; i++)
        if (strcmp(s, state_names[i]) == 0) {
            *out = (enum breaker_state)i;
            return 0;
        }
    return -1;
}

static void policy_default(struct breaker_policy *p)
{
    p->failures = 5;
    p->window_ms = 60000;
    p->cooldown_ms = 30000;
    p->trials = 2;
    p->successes = 2;
    p->refresh_ms = 500;
}

/* A policy that can close: at least as many trials a round as successes needed. */
static void policy_fix(struct breaker_policy *p)
{
    if (p->trials < p->successes)
        p->trials = p->successes;
}

static void board_init(void)
{
    pthread_condattr_t ca;

    pthread_mutex_init(&board.mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&board.cv, &ca);
    pthread_condattr_destroy(&ca);
    policy_default(&board.policy);
}

static void lock(void)
{
    pthread_once(&board.once, board_init);
    pthread_mutex_lock(&board.mu);
}

static void unlock(void)
{
    pthread_mutex_unlock(&board.mu);
}

void breaker_policy_from_config(struct breaker_policy *p, const struct config *c)
{
    p->failures = c->breaker_failures;
    p->window_ms = c->breaker_window_ms;
    p->cooldown_ms = c->breaker_cooldown_ms;
    p->trials = c->breaker_trials;
    p->successes = c->breaker_successes;
    p->refresh_ms = c->breaker_refresh_ms;
    policy_fix(p);
}

void breaker_set_local_policy(const struct breaker_policy *p)
{
    lock();
    if (board.starts == 0) {
        board.policy = *p;
        policy_fix(&board.policy);
    }
    unlock();
}

struct breaker *breaker_for(const char *service, const char *where)
{
    char name[BREAKER_NAME_MAX + 1];
    struct breaker *b;

    snprintf(name, sizeof name, "%s:%s", service, where != NULL ? where : "");
    lock();
    for (b = board.list; b != NULL; b = b->next)
        if (strcmp(b->name, name) == 0)
            break;
    if (b == NULL) {
        b = xcalloc(1, sizeof *b);
        memcpy(b->name, name, sizeof b->name);
        b->state = BREAKER_CLOSED;
        b->next = board.list;
        board.list = b;
    }
    unlock();
    return b;
}

const char *breaker_name(const struct breaker *b)
{
    return b->name;
}

static void wake_sync(void)
{
    board.wake = true;
    pthread_cond_signal(&board.cv);
}

/* A transition this process made on its own view (board.mu held). With a board, Redis makes
 * the real one and the sync thread logs it; without one, this is the only record. */
static void local_move(struct breaker *b, enum breaker_state to, const char *why)
{
    log_msg(board.running ? LOG_DEBUG : LOG_WARN, "breaker %s: %s -> %s (%s, seen here)", b->name,
            breaker_state_name(b->state), breaker_state_name(to), why);
    b->state = to;
    b->permits = 0;
    if (to == BREAKER_OPEN) {
        b->open_until = clock_mono_ms() + board.policy.cooldown_ms;
    } else if (to == BREAKER_HALF_OPEN) {
        b->round_start = clock_mono_ms();
        b->round_trials = 0;
        b->half_successes = 0;
    } else {
        b->window_failures = 0;
        b->window_start = clock_mono_ms();
    }
}

int breaker_allow(struct breaker *b, char **cause)
{
    int64_t now = clock_mono_ms();
    int rc = 0;

    lock();
    b->last_use = now;
    if (b->state == BREAKER_OPEN && now >= b->open_until) {
        if (board.running) {
            /* Redis moves it to half-open and hands out the trial slots. */
            b->want = board.policy.trials;
            wake_sync();
        } else {
            local_move(b, BREAKER_HALF_OPEN, "cool-down over");
        }
    }
    if (b->state == BREAKER_HALF_OPEN) {
        if (!board.running && now - b->round_start >= board.policy.cooldown_ms) {
            b->round_start = now;
            b->round_trials = 0;
        }
        if (board.running && b->permits > 0) {
            b->permits--;
            b->trials_out++;
        } else if (!board.running && b->round_trials < board.policy.trials) {
            b->round_trials++;
            b->trials_out++;
        } else {
            if (board.running) {
                b->want = board.policy.trials;
                wake_sync();
            }
            *cause =
                xasprintf("circuit breaker %s is half-open and its trial calls are taken", b->name);
            rc = -1;
        }
    } else if (b->state == BREAKER_OPEN) {
        int64_t left = b->open_until - now;

        *cause = xasprintf("circuit breaker %s is open (last error: %s); next trial in %lld ms",
                           b->name, b->last_error[0] != '\0' ? b->last_error : "none here",
                           (long long)(left > 0 ? left : 0));
        rc = -1;
    }
    unlock();
    return rc;
}

void breaker_success(struct breaker *b)
{
    lock();
    if (b->trials_out > 0) {
        b->trials_out--;
        if (board.running) {
            b->pend_succ++;
            wake_sync();
        } else if (b->state == BREAKER_HALF_OPEN && ++b->half_successes >= board.policy.successes) {
            local_move(b, BREAKER_CLOSED, "trial calls succeeded");
        }
    }
    unlock();
}

void breaker_failure(struct breaker *b, const char *why)
{
    int64_t now = clock_mono_ms();

    lock();
    if (why != NULL)
        snprintf(b->last_error, sizeof b->last_error, "%s", why);
    if (b->trials_out > 0)
        b->trials_out--;
    if (b->state == BREAKER_HALF_OPEN) {
        b->pend_fail++;
        local_move(b, BREAKER_OPEN, "a trial call failed");
    } else if (b->state == BREAKER_CLOSED) {
        b->pend_fail++;
        if (now - b->window_start > board.policy.window_ms) {
            b->window_start = now;
            b->window_failures = 0;
        }
        if (++b->window_failures >= board.policy.failures)
            local_move(b, BREAKER_OPEN, "failures within the window");
    }
    /* A failure of a call that started before the breaker opened changes nothing. */
    if (board.running && b->pend_fail > 0)
        wake_sync();
    unlock();
}

enum breaker_state breaker_state_of(struct breaker *b)
{
    enum breaker_state s;

    lock();
    s = b->state;
    unlock();
    return s;
}

/* ---- the sync thread ---- */

struct sync_entry {
    struct breaker *b;
    int fail, succ, want;
    char err[200];
    char nums[3][16];
};

/* Takes what each breaker has to tell (board.mu held). */
static size_t collect(struct sync_entry *e, int64_t since)
{
    size_t n = 0;

    for (struct breaker *b = board.list; b != NULL && n < SYNC_MAX; b = b->next) {
        if (b->last_use < since && b->state == BREAKER_CLOSED && b->pend_fail == 0 &&
            b->pend_succ == 0 && b->want == 0)
            continue;
        e[n].b = b;
        e[n].fail = b->pend_fail;
        e[n].succ = b->pend_succ;
        e[n].want = b->want;
        memcpy(e[n].err, b->last_error, sizeof e[n].err);
        b->pend_fail = b->pend_succ = b->want = 0;
        n++;
    }
    return n;
}

/* Puts the counts of a sync that failed back, for the next round (board.mu held). */
static void restore(struct sync_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        e[i].b->pend_fail += e[i].fail;
        e[i].b->pend_succ += e[i].succ;
        if (e[i].want > e[i].b->want)
            e[i].b->want = e[i].want;
    }
}

/* One round trip: the pending counts out, the shared state back. */
static void sync_once(struct rlink *l)
{
    struct sync_entry e[SYNC_MAX];
    const char *argv[10 + 5 * SYNC_MAX];
    char pol[5][24], evmax[16];
    struct breaker_policy p;
    redisReply *r;
    char *cause = NULL;
    size_t n;
    int argc = 0;
    int64_t since;

    lock();
    since = board.last_sync - board.policy.refresh_ms;
    board.last_sync = clock_mono_ms();
    n = collect(e, since);
    p = board.policy;
    unlock();
    if (n == 0)
        return;
    snprintf(evmax, sizeof evmax, "%d", BREAKER_EVENTS_MAX);
    snprintf(pol[0], sizeof pol[0], "%d", p.failures);
    snprintf(pol[1], sizeof pol[1], "%lld", (long long)p.window_ms);
    snprintf(pol[2], sizeof pol[2], "%lld", (long long)p.cooldown_ms);
    snprintf(pol[3], sizeof pol[3], "%d", p.trials);
    snprintf(pol[4], sizeof pol[4], "%d", p.successes);
    argv[argc++] = "sync";
    argv[argc++] = BREAKER_PREFIX;
    argv[argc++] = BREAKER_SET_KEY;
    argv[argc++] = BREAKER_EVENTS_KEY;
    argv[argc++] = evmax;
    for (int i = 0; i < 5; i++)
        argv[argc++] = pol[i];
    for (size_t i = 0; i < n; i++) {
        snprintf(e[i].nums[0], sizeof e[i].nums[0], "%d", e[i].fail);
        snprintf(e[i].nums[1], sizeof e[i].nums[1], "%d", e[i].succ);
        snprintf(e[i].nums[2], sizeof e[i].nums[2], "%d", e[i].want);
        argv[argc++] = e[i].b->name;
        argv[argc++] = e[i].nums[0];
        argv[argc++] = e[i].nums[1];
        argv[argc++] = e[i].nums[2];
        argv[argc++] = e[i].fail > 0 ? e[i].err : "";
    }
    r = rlink_eval(l, &lua_breaker, 0, argc, argv, &cause);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_ARRAY || r->element[1]->elements != n) {
        log_debug("breakers: cannot sync with Redis (the view here goes on alone): %s",
                  cause != NULL ? cause : "unexpected reply");
        free(cause);
        freeReplyObject(r);
        lock();
        restore(e, n);
        unlock();
        return;
    }
    lock();
    for (size_t i = 0; i < n; i++) {
        const redisReply *row = r->element[1]->element[i];
        struct breaker *b = e[i].b;
        enum breaker_state st;
        const char *lines = rlink_reply_str(row, 4);

        if (state_parse(rlink_reply_str(row, 1), &st) == -1)
            continue;
        if (st != b->state) {
            b->state = st;
            b->permits = 0;
            b->window_failures = 0;
            b->window_start = clock_mono_ms();
        }
        if (st == BREAKER_OPEN)
            b->open_until = clock_mono_ms() + rlink_reply_int(row, 2);
        else if (st == BREAKER_HALF_OPEN)
            b->permits += (int)rlink_reply_int(row, 3);
        for (const char *s = lines; *s != '\0';) {
            size_t len = strcspn(s, "\n");

            log_msg(strstr(s, ">open") != NULL && strstr(s, ">open") < s + len ? LOG_WARN
                                                                               : LOG_INFO,
                    "breaker %s: %.*s", b->name, (int)len, s);
            s += len + (s[len] == '\n');
        }
    }
    unlock();
    freeReplyObject(r);
}

static void *sync_main(void *arg)
{
    struct rlink *l;

    (void)arg;
    l = rlink_new(&board.addr, &board.lo);
    lock();
    while (!board.stop) {
        struct timespec until;
        int64_t ms = board.policy.refresh_ms;

        if (!board.wake) {
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += ms / 1000;
            until.tv_nsec += (ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (!board.wake && !board.stop &&
                   pthread_cond_timedwait(&board.cv, &board.mu, &until) != ETIMEDOUT)
                ;
        }
        board.wake = false;
        if (board.stop)
            break;
        unlock();
        sync_once(l);
        lock();
    }
    unlock();
    sync_once(l); /* what is still pending */
    rlink_free(l);
    return NULL;
}

int breaker_board_start(const struct redis_addr *addr, const struct rlink_options *lo,
                        const struct breaker_policy *p, char **cause)
{
    int rc = 0;

    lock();
    if (board.starts++ == 0) {
        board.policy = *p;
        policy_fix(&board.policy);
        board.addr = *addr;
        board.lo = *lo;
        board.lo.client_name =
            embedded_client_name("breakers", board.client_name, sizeof board.client_name);
        board.lo.quiet = true;
        board.stop = false;
        board.wake = false;
        board.running = true;
        if ((errno = pthread_create(&board.thread, NULL, sync_main, NULL)) != 0) {
            *cause = xasprintf("cannot start the breakers' sync thread: %s", strerror(errno));
            board.running = false;
            board.starts = 0;
            rc = -1;
        }
    }
    unlock();
    return rc;
}

void breaker_board_stop(void)
{
    pthread_t t;

    lock();
    if (board.starts == 0 || --board.starts > 0) {
        unlock();
        return;
    }
    board.stop = true;
    pthread_cond_signal(&board.cv);
    t = board.thread;
    unlock();
    pthread_join(t, NULL);
    lock();
    board.running = false;
    unlock();
}

/* ---- reading and resetting, for ctl and the control room ---- */

static int64_t field_int(const redisReply *h, const char *name)
{
    return strtoll(rlink_reply_field(h, name), NULL, 10);
}

int breaker_list(struct rlink *l, struct breaker_info **out, size_t *n, int64_t *now_ms,
                 char **cause)
{
    redisReply *names, *t;
    struct breaker_info *rows = NULL;
    size_t count = 0;
    int64_t now;

    *out = NULL;
    *n = 0;
    if ((t = rlink_command(l, cause, "TIME")) == NULL)
        return -1;
    now = strtoll(rlink_reply_str(t, 0), NULL, 10) * 1000 +
          strtoll(rlink_reply_str(t, 1), NULL, 10) / 1000;
    freeReplyObject(t);
    if ((names = rlink_command(l, cause, "ZRANGE %s 0 -1", BREAKER_SET_KEY)) == NULL)
        return -1;
    if (names->type == REDIS_REPLY_ARRAY && names->elements > 0)
        rows = xcalloc(names->elements, sizeof *rows);
    for (size_t i = 0; names->type == REDIS_REPLY_ARRAY && i < names->elements; i++) {
        const char *name = names->element[i]->str;
        struct breaker_info *b;
        redisReply *h;

        if (name == NULL)
            continue;
        if ((h = rlink_command(l, cause, "HGETALL %s%s", BREAKER_PREFIX, name)) == NULL) {
            freeReplyObject(names);
            free(rows);
            return -1;
        }
        b = &rows[count];
        if (h->type != REDIS_REPLY_ARRAY || h->elements == 0 ||
            state_parse(rlink_reply_field(h, "state"), &b->state) == -1) {
            freeReplyObject(h);
            continue;
        }
        snprintf(b->name, sizeof b->name, "%s", name);
        b->failures = (int)field_int(h, "failures");
        b->successes = (int)field_int(h, "successes");
        b->changed_ms = field_int(h, "changed_ms");
        b->opened_ms = field_int(h, "opened_ms");
        b->opens = field_int(h, "opens");
        b->last_failure_ms = field_int(h, "last_failure_ms");
        snprintf(b->last_error, sizeof b->last_error, "%s", rlink_reply_field(h, "last_error"));
        if (b->state == BREAKER_OPEN)
            b->next_ms = b->opened_ms + field_int(h, "p_cooldown_ms");
        freeReplyObject(h);
        count++;
    }
    freeReplyObject(names);
    *out = rows;
    *n = count;
    if (now_ms != NULL)
        *now_ms = now;
    return 0;
}

int breaker_reset(struct rlink *l, const char *name, char **cause)
{
    struct audit_record rec;
    const char *argv[9 + AUDIT_ARGV_MAX];
    char evmax[16];
    redisReply *r;
    int argc = 0;

    if (name == NULL || *name == '\0' || strlen(name) > BREAKER_NAME_MAX) {
        *cause = xasprintf("a breaker name has 1 to %d bytes", BREAKER_NAME_MAX);
        return -1;
    }
    if (audit_record_fill(&rec, "breaker-reset", name, NULL, cause) == -1)
        return -1;
    snprintf(evmax, sizeof evmax, "%d", BREAKER_EVENTS_MAX);
    argv[argc++] = "reset";
    argv[argc++] = BREAKER_PREFIX;
    argv[argc++] = BREAKER_SET_KEY;
    argv[argc++] = BREAKER_EVENTS_KEY;
    argv[argc++] = evmax;
    argv[argc++] = name;
    argv[argc++] = rec.who.user;
    argv[argc++] = AUDIT_KEY;
    argv[argc++] = AUDIT_MAXLEN_STR;
    for (int i = 0; i < rec.argc; i++)
        argv[argc++] = rec.argv[i];
    r = rlink_eval(l, &lua_breaker, 0, argc, argv, cause);
    audit_record_done(&rec);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}
