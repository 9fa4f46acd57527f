/*
 * rlink.c - a link to Redis over hiredis, with Sentinel discovery and WAIT after durable
 * writes; see rlink.h. All state is owned by the thread that created the link (checked by
 * assertion on every entry point), so nothing here is locked; rlink_dial() works on its
 * caller's own address and counter.
 */
#include "store/rlink.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/text.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

struct rlink {
    struct redis_addr addr;
    struct rlink_options opt;
    char name[64];
    char shown[600]; /* masked address */
    redisContext *c; /* NULL while down */
    pthread_t owner;
    int failures;        /* failed attempts since the last success */
    int64_t next_try_ms; /* monotonic time before which we do not try again */
    char last_error[700];
    bool auth_refused;   /* AUTH was refused */
    bool config_refused; /* a setting is wrong: AUTH refused or missing, no such database */
    unsigned int seed;
    int sentinel_first; /* the sentinel to ask first: the last one that answered */
    /* Durable writes: wait_script[i] says whether lua_scripts[i] is followed by WAIT. */
    bool *wait_script;
    int replicas_known;          /* replicas of the primary at the last look; -1: unknown */
    int64_t replicas_checked_ms; /* monotonic time of that look */
};

/* How long a count of the primary's replicas is trusted before WAIT asks again. */
#define REPLICAS_RECHECK_MS 5000

/* Checked in every build, Release too: a shared hiredis context corrupts the protocol. */
#define OWNED(l)                                                                                   \
    do {                                                                                           \
        if (!pthread_equal((l)->owner, pthread_self()))                                            \
            fail("a Redis link was used from a thread that does not own it (%s)", __func__);       \
    } while (0)

void rlink_options_from_config(struct rlink_options *o, const struct config *c)
{
    o->connect_timeout_ms = c->redis_connect_timeout_ms;
    o->command_timeout_ms = c->redis_command_timeout_ms;
    o->reconnect_base_ms = c->redis_reconnect_base_ms;
    o->reconnect_max_ms = c->redis_reconnect_max_ms;
    o->client_name = NULL;
    o->quiet = false;
    o->wait_replicas = c->redis_wait_replicas;
    o->wait_timeout_ms = c->redis_wait_timeout_ms;
    o->wait_writes = c->redis_wait_writes;
}

/* Calls fn(pattern, arg) for every comma-separated pattern of list, white space trimmed;
 * stops at and returns the first non-zero result. */
static int each_pattern(const char *list, int (*fn)(const char *, void *), void *arg)
{
    char *copy = xstrdup(list), *save = NULL;
    int rc = 0;

    for (char *p = strtok_r(copy, ",", &save); p != NULL && rc == 0;
         p = strtok_r(NULL, ",", &save)) {
        char *end;

        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*p != '\0')
            rc = fn(p, arg);
    }
    free(copy);
    return rc;
}

/* Marks the scripts a pattern matches in the bool array arg; 1 when it matches none. */
static int mark_scripts(const char *pattern, void *arg)
{
    bool *marks = arg;
    bool any = false;

    for (int i = 0; i < lua_script_count; i++)
        if (fnmatch(pattern, lua_scripts[i]->name, 0) == 0) {
            if (marks != NULL)
                marks[i] = true;
            any = true;
        }
    return any ? 0 : 1;
}

/* Keeps a copy of the first pattern that matches no script in *(char **)arg. */
static int first_unmatched(const char *pattern, void *arg)
{
    if (mark_scripts(pattern, NULL) == 0)
        return 0;
    *(char **)arg = xstrdup(pattern);
    return 1;
}

int rlink_wait_writes_check(const char *value, char **why)
{
    char *bad = NULL;

    if (each_pattern(value, first_unmatched, &bad) == 0)
        return 0;
    *why = xasprintf("\"%s\" matches no Lua script (patterns such as bb_*, queue_ack; * for every "
                     "script)",
                     bad);
    free(bad);
    return -1;
}

struct rlink *rlink_new(const struct redis_addr *addr, const struct rlink_options *o)
{
    struct rlink *l = xcalloc(1, sizeof *l);

    l->addr = *addr;
    l->opt = *o;
    if (o->client_name != NULL)
        snprintf(l->name, sizeof l->name, "%s", o->client_name);
    l->opt.client_name = l->name[0] != '\0' ? l->name : NULL;
    redis_addr_format(addr, l->shown, sizeof l->shown);
    l->owner = pthread_self();
    l->seed = (unsigned int)(clock_mono_us() ^ (int64_t)getpid() ^ (int64_t)(uintptr_t)l);
    l->replicas_known = -1;
    if (o->wait_replicas > 0 && o->wait_writes != NULL) {
        l->wait_script = xcalloc((size_t)lua_script_count + 1, sizeof *l->wait_script);
        each_pattern(o->wait_writes, mark_scripts, l->wait_script);
    }
    l->opt.wait_writes = NULL; /* borrowed: not kept */
    return l;
}

void rlink_free(struct rlink *l)
{
    if (l == NULL)
        return;
    if (l->c != NULL)
        redisFree(l->c);
    free(l->wait_script);
    /* The password lives in addr: do not leave it in freed memory. */
    memset(&l->addr, 0, sizeof l->addr);
    free(l);
}

const char *rlink_address(const struct rlink *l)
{
    return l->shown;
}

bool rlink_connected(const struct rlink *l)
{
    return l->c != NULL;
}

int rlink_failures(const struct rlink *l)
{
    return l->failures;
}

bool rlink_auth_refused(const struct rlink *l)
{
    return l->auth_refused;
}

bool rlink_config_refused(const struct rlink *l)
{
    return l->config_refused;
}

/* What a setup command's error means when a setting is to blame (*config set), said with the
 * setting to fix; else the server's words. */
static void setup_error(struct rlink *l, const char *what, const char *err, char *why, size_t size)
{
    if (strncmp(err, "NOAUTH", 6) == 0) {
        l->config_refused = true;
        snprintf(why, size,
                 "the server wants a password and none was given: set REDIS_PASSWORD or [redis] "
                 "password (or user:password@ in REDIS_URL) (%s: %s)",
                 what, err);
    } else if (strncmp(err, "ERR DB index is out of range", 28) == 0 ||
               strstr(err, "DB index") != NULL) {
        l->config_refused = true;
        snprintf(why, size,
                 "database %d does not exist on this server (fewer databases are configured "
                 "there): set the /db of REDIS_URL, REDIS_DB or [redis] db to one it has (%s)",
                 l->addr.db, err);
    } else {
        snprintf(why, size, "%s failed: %s", what, err);
    }
}

static struct timeval ms_tv(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    return tv;
}

/* Marks the link down after a failure and schedules the next attempt: exponential backoff
 * from reconnect_base_ms, capped at reconnect_max_ms, with "equal jitter" (half fixed, half
 * random) so that many agents do not reconnect in step. */
static void link_down(struct rlink *l, const char *why)
{
    int64_t delay = l->opt.reconnect_base_ms;
    int shift = l->failures < 20 ? l->failures : 20;

    if (l->c != NULL) {
        redisFree(l->c);
        l->c = NULL;
    }
    delay <<= shift;
    if (delay > l->opt.reconnect_max_ms)
        delay = l->opt.reconnect_max_ms;
    delay = delay / 2 + (int64_t)(rand_r(&l->seed) % (unsigned int)(delay / 2 + 1));
    l->failures++;
    l->next_try_ms = clock_mono_ms() + delay;
    snprintf(l->last_error, sizeof l->last_error, "%s", why);
}

/* Sends a command on a fresh context during connect; returns the reply or NULL with why. */
static redisReply *setup_command(redisContext *c, char *why, size_t whysize, int argc,
                                 const char **argv)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);

    if (r == NULL) {
        snprintf(why, whysize, "%s", c->errstr[0] != '\0' ? c->errstr : "I/O error");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, whysize, "%s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Asks one sentinel for the primary of a->master_name. Returns 0 with host and port, or -1
 * with why. */
static int ask_sentinel(const struct redis_addr *a, const struct redis_sentinel_addr *s,
                        struct timeval tv, char *host, size_t hsize, int *port, char *why,
                        size_t size)
{
    redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
    redisReply *r = NULL;
    int rc = -1;

    if (c == NULL)
        fail("out of memory allocating a Redis context");
    if (c->err) {
        snprintf(why, size, "sentinel %s:%d: %s", s->host, s->port, c->errstr);
        goto out;
    }
    redisSetTimeout(c, tv);
    if (a->sentinel_password[0] != '\0') {
        r = redisCommand(c, "AUTH %s", a->sentinel_password);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            snprintf(why, size, "sentinel %s:%d refused AUTH: %s", s->host, s->port,
                     r != NULL ? r->str : c->errstr);
            goto out;
        }
        freeReplyObject(r);
    }
    r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", a->master_name);
    if (r == NULL) {
        snprintf(why, size, "sentinel %s:%d: %s", s->host, s->port, c->errstr);
    } else if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, size, "sentinel %s:%d answered: %s", s->host, s->port, r->str);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
               r->element[0]->type != REDIS_REPLY_STRING ||
               r->element[1]->type != REDIS_REPLY_STRING) {
        snprintf(why, size, "sentinel %s:%d knows no primary named \"%s\"", s->host, s->port,
                 a->master_name);
    } else {
        snprintf(host, hsize, "%s", r->element[0]->str);
        *port = atoi(r->element[1]->str);
        rc = *port > 0 && *port <= 65535 ? 0 : -1;
        if (rc == -1)
            snprintf(why, size, "sentinel %s:%d named port \"%s\"", s->host, s->port,
                     r->element[1]->str);
    }
out:
    if (r != NULL)
        freeReplyObject(r);
    redisFree(c);
    return rc;
}

redisContext *rlink_dial(struct redis_addr *a, int timeout_ms, int *first, char *why, size_t size)
{
    struct timeval tv = ms_tv(timeout_ms);
    redisContext *c;

    if (a->transport == REDIS_UNIX)
        return redisConnectUnixWithTimeout(a->path, tv);
    if (a->nsentinels > 0) {
        size_t o = 0;
        int found = -1;

        for (int k = 0; k < a->nsentinels && found < 0; k++) {
            int i = (*first + k) % a->nsentinels;
            char host[sizeof a->host], one[320];
            int port;

            if (ask_sentinel(a, &a->sentinels[i], tv, host, sizeof host, &port, one, sizeof one) ==
                0) {
                snprintf(a->host, sizeof a->host, "%s", host);
                a->port = port;
                found = i;
            } else if (o < size) {
                o += (size_t)snprintf(why + o, size - o, "%s%s", o > 0 ? "; " : "", one);
            }
        }
        if (found < 0)
            return NULL;
        *first = found;
    }
    c = redisConnectWithTimeout(a->host, a->port, tv);
    return c;
}

/* Sentinel mode, or WAIT configured: asks the server its ROLE. With Sentinel a server that
 * is not the primary is refused (the sentinels' answer was stale, a failover is under way);
 * the primary's replica count is kept for WAIT. Returns 0, or -1 with why. */
static int check_role(struct rlink *l, char *why, size_t size)
{
    const char *argv[1] = {"ROLE"};
    char err[256];
    redisReply *r = setup_command(l->c, err, sizeof err, 1, argv);

    if (r == NULL) {
        snprintf(why, size, "ROLE failed: %s", err);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "master") != 0) {
        snprintf(why, size, "%s:%d is not the primary (ROLE %s); asking the sentinels again",
                 l->addr.host, l->addr.port,
                 r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                         r->element[0]->type == REDIS_REPLY_STRING
                     ? r->element[0]->str
                     : "?");
        freeReplyObject(r);
        return l->addr.nsentinels > 0 ? -1 : 0;
    }
    l->replicas_known = r->elements >= 3 && r->element[2]->type == REDIS_REPLY_ARRAY
                            ? (int)r->element[2]->elements
                            : 0;
    l->replicas_checked_ms = clock_mono_ms();
    freeReplyObject(r);
    return 0;
}

static int do_connect(struct rlink *l, char **cause)
{
    char why[700];
    redisContext *c;
    redisReply *r;

    l->auth_refused = false;
    l->config_refused = false;
    c = rlink_dial(&l->addr, l->opt.connect_timeout_ms, &l->sentinel_first, why, sizeof why);
    if (l->addr.nsentinels > 0)
        redis_addr_format(&l->addr, l->shown, sizeof l->shown);
    if (c == NULL && l->addr.nsentinels > 0)
        goto down;
    if (c == NULL)
        fail("out of memory allocating a Redis context");
    if (c->err) {
        snprintf(why, sizeof why, "%s", c->errstr);
        redisFree(c);
        goto down;
    }
    l->c = c;
    if (redisSetTimeout(c, ms_tv(l->opt.command_timeout_ms)) != REDIS_OK) {
        snprintf(why, sizeof why, "cannot set the command timeout: %s", c->errstr);
        goto down;
    }
    if (l->addr.transport == REDIS_TCP)
        redisEnableKeepAlive(c);

    if (l->addr.password[0] != '\0') {
        const char *argv[3] = {"AUTH", l->addr.user, l->addr.password};
        const char *av2[2] = {"AUTH", l->addr.password};
        char err[256];

        r = l->addr.user[0] != '\0' ? setup_command(c, err, sizeof err, 3, argv)
                                    : setup_command(c, err, sizeof err, 2, av2);
        if (r == NULL) {
            l->auth_refused = strncmp(err, "WRONGPASS", 9) == 0 || strncmp(err, "ERR", 3) == 0;
            l->config_refused = l->auth_refused;
            if (l->addr.user[0] != '\0')
                snprintf(why, sizeof why, "authentication as user \"%s\" failed: %s", l->addr.user,
                         err);
            else
                snprintf(why, sizeof why, "authentication failed: %s", err);
            goto down;
        }
        freeReplyObject(r);
    }
    if (l->addr.db != 0) {
        char db[16];
        const char *argv[2] = {"SELECT", db};
        char err[256];

        snprintf(db, sizeof db, "%d", l->addr.db);
        r = setup_command(c, err, sizeof err, 2, argv);
        if (r == NULL) {
            char what[32];

            snprintf(what, sizeof what, "SELECT %d", l->addr.db);
            setup_error(l, what, err, why, sizeof why);
            goto down;
        }
        freeReplyObject(r);
    }
    if (l->opt.client_name != NULL) {
        const char *argv[3] = {"CLIENT", "SETNAME", l->opt.client_name};
        char err[256];

        r = setup_command(c, err, sizeof err, 3, argv);
        if (r == NULL) {
            setup_error(l, "CLIENT SETNAME", err, why, sizeof why);
            goto down;
        }
        freeReplyObject(r);
    } else if (l->addr.password[0] == '\0' && l->addr.db == 0) {
        /* Nothing was sent yet: one PING, so a server that wants a password says so now, as
         * a configuration error, not at the first command. */
        const char *argv[1] = {"PING"};
        char err[256];

        r = setup_command(c, err, sizeof err, 1, argv);
        if (r == NULL) {
            setup_error(l, "PING", err, why, sizeof why);
            goto down;
        }
        freeReplyObject(r);
    }
    l->replicas_known = -1;
    if ((l->addr.nsentinels > 0 || l->wait_script != NULL) && check_role(l, why, sizeof why) == -1)
        goto down;
    if (l->failures > 0)
        log_info("redis: link to %s is back after %d failed attempts", l->shown, l->failures);
    l->failures = 0;
    l->next_try_ms = 0;
    l->last_error[0] = '\0';
    return 0;

down:
    link_down(l, why);
    *cause = xasprintf("cannot connect to Redis at %s: %s", l->shown, why);
    log_msg(l->opt.quiet ? LOG_DEBUG : LOG_WARN, "redis: %s", *cause);
    return -1;
}

int rlink_ensure(struct rlink *l, char **cause)
{
    int64_t wait;

    OWNED(l);
    if (l->c != NULL)
        return 0;
    wait = l->next_try_ms - clock_mono_ms();
    if (wait > 0) {
        *cause = xasprintf("Redis at %s is unreachable (%s); next attempt in %lld ms", l->shown,
                           l->last_error, (long long)wait);
        return -1;
    }
    return do_connect(l, cause);
}

int rlink_wait_connected(struct rlink *l, int timeout_ms, const volatile sig_atomic_t *stop,
                         char **cause)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;

    OWNED(l);
    for (;;) {
        char *why = NULL;
        int64_t now, wait;

        if (rlink_ensure(l, &why) == 0)
            return 0;
        free(why);
        now = clock_mono_ms();
        if (now >= deadline || (stop != NULL && *stop)) {
            *cause = xasprintf("Redis at %s is unreachable after %d ms: %s", l->shown, timeout_ms,
                               l->last_error);
            return -1;
        }
        wait = l->next_try_ms - now;
        if (wait > deadline - now)
            wait = deadline - now;
        /* Not synchronisation: this is the backoff delay itself. */
        clock_sleep_ms(wait > 0 ? wait : 0, stop);
    }
}

/* Turns a hiredis result into the contract of rlink_command(). */
/* Commands sent by every link of the process (round trips; see rlink_commands_sent). */
static atomic_llong commands_sent;

long long rlink_commands_sent(void)
{
    return atomic_load(&commands_sent);
}

/* The cause for an error reply: an ACL refusal says whose rights were short (a read-only user
 * acting, usually); any other error is Redis's own words. */
static char *refusal(const struct rlink *l, const char *error)
{
    if (strncmp(error, "NOPERM", 6) == 0 ||
        strstr(error, "The user executing the script can't") != NULL)
        return xasprintf("refused by Redis: user \"%s\" is not allowed this (%s)",
                         l->addr.user[0] != '\0' ? l->addr.user : "default", error);
    return xasprintf("%s", error);
}

static redisReply *finish(struct rlink *l, redisReply *r, char **cause)
{
    atomic_fetch_add(&commands_sent, 1);
    if (r == NULL) {
        char why[700];

        snprintf(why, sizeof why, "%s", l->c->errstr[0] != '\0' ? l->c->errstr : "connection lost");
        link_down(l, why);
        *cause = xasprintf("Redis at %s: link lost: %s", l->shown, why);
        log_msg(l->opt.quiet ? LOG_DEBUG : LOG_WARN, "redis: %s", *cause);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        *cause = refusal(l, r->str);
        /* A primary demoted by a failover: find the new one on the next call. */
        if (l->addr.nsentinels > 0 && strncmp(r->str, "READONLY", 8) == 0)
            link_down(l, "the server is no longer the primary");
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* The index in lua_scripts of the script with this SHA1, or -1. */
static int script_index(const char *sha1)
{
    for (int i = 0; i < lua_script_count; i++)
        if (strcmp(lua_scripts[i]->sha1, sha1) == 0)
            return i;
    return -1;
}

/* After a successful command: when it ran a script in wait_writes, WAITs for the replicas the
 * primary has, up to wait_replicas, and returns r once they have it; else frees r and returns
 * NULL with *cause. */
static redisReply *durable(struct rlink *l, redisReply *r, int argc, const char **argv,
                           char **cause)
{
    redisReply *w;
    char why[300];
    int need, i, had;
    long long got;

    if (r == NULL || l->wait_script == NULL || argc < 2 || strcmp(argv[0], "EVALSHA") != 0 ||
        (i = script_index(argv[1])) < 0 || !l->wait_script[i])
        return r;
    /* How many replicas the primary has, looked at again every few seconds: WAIT for more
     * than there are would only stall every write for the whole timeout. */
    had = l->replicas_known;
    if (had < 0 || clock_mono_ms() - l->replicas_checked_ms >= REPLICAS_RECHECK_MS) {
        if (check_role(l, why, sizeof why) == -1) {
            *cause = xasprintf("Redis at %s: %s", l->shown, why);
            freeReplyObject(r);
            return NULL;
        }
        if (l->replicas_known < l->opt.wait_replicas && l->replicas_known != had)
            log_warn("redis: %s has %d replica(s), fewer than wait_replicas %d: writes wait for "
                     "those there are",
                     l->shown, l->replicas_known, l->opt.wait_replicas);
    }
    need = l->replicas_known < l->opt.wait_replicas ? l->replicas_known : l->opt.wait_replicas;
    if (need <= 0)
        return r;
    w = finish(l, redisCommand(l->c, "WAIT %d %d", need, l->opt.wait_timeout_ms), cause);
    if (w == NULL) {
        freeReplyObject(r);
        return NULL;
    }
    got = w->type == REDIS_REPLY_INTEGER ? w->integer : 0;
    freeReplyObject(w);
    if (got >= need)
        return r;
    /* Fewer than asked: a replica lost since the last look does not fail the write, one that
     * is there and silent does. */
    had = l->replicas_known;
    if (l->c != NULL && check_role(l, why, sizeof why) == 0 && l->replicas_known < had &&
        got >= l->replicas_known) {
        log_warn("redis: %s has %d replica(s) now, fewer than wait_replicas %d: writes wait for "
                 "those there are",
                 l->shown, l->replicas_known, l->opt.wait_replicas);
        return r;
    }
    *cause = xasprintf("Redis at %s: %s.lua was not confirmed by %d replica(s) within %d ms (%lld "
                       "did); it is on the primary but may be lost in a failover",
                       l->shown, lua_scripts[i]->name, need, l->opt.wait_timeout_ms, got);
    log_warn("redis: %s", *cause);
    freeReplyObject(r);
    return NULL;
}

redisReply *rlink_command(struct rlink *l, char **cause, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    OWNED(l);
    if (rlink_ensure(l, cause) == -1)
        return NULL;
    va_start(ap, fmt);
    r = redisvCommand(l->c, fmt, ap);
    va_end(ap);
    return finish(l, r, cause);
}

redisReply *rlink_command_argv(struct rlink *l, char **cause, int argc, const char **argv,
                               const size_t *argvlen)
{
    OWNED(l);
    if (rlink_ensure(l, cause) == -1)
        return NULL;
    return durable(l, finish(l, redisCommandArgv(l->c, argc, argv, argvlen), cause), argc, argv,
                   cause);
}

/* A header of the protocol (RESP): head, then v, then CRLF. */
static void put_head(struct text_buf *b, char head, size_t v)
{
    char h[24];
    size_t k = 1 + text_i64((int64_t)v, h + 1);

    h[0] = head;
    h[k] = '\r';
    h[k + 1] = '\n';
    text_buf_add(b, h, k + 2);
}

/* MULTI, cmds[0..n) and EXEC in the protocol, appended to c's output buffer at once: hiredis's
 * own formatting (redisAppendCommandArgv) builds every argument's header with a formatted
 * print and grows a string per argument, several thousand instructions a command, more than
 * the copy of a trace batch costs Redis. Returns REDIS_OK or REDIS_ERR (no memory). */
static int append_transaction(redisContext *c, const struct rlink_cmd *cmds, size_t n)
{
    static const char multi[] = "*1\r\n$5\r\nMULTI\r\n", exec[] = "*1\r\n$4\r\nEXEC\r\n";
    struct text_buf b = {0};
    int rc;

    text_buf_add(&b, multi, sizeof multi - 1);
    for (size_t i = 0; i < n; i++) {
        put_head(&b, '*', (size_t)cmds[i].argc);
        for (int j = 0; j < cmds[i].argc; j++) {
            size_t len = cmds[i].argvlen != NULL ? cmds[i].argvlen[j] : strlen(cmds[i].argv[j]);

            put_head(&b, '$', len);
            text_buf_add(&b, cmds[i].argv[j], len);
            text_buf_add(&b, "\r\n", 2);
        }
    }
    text_buf_add(&b, exec, sizeof exec - 1);
    rc = redisAppendFormattedCommand(c, b.s, b.len);
    free(b.s);
    return rc;
}

redisReply *rlink_transaction(struct rlink *l, const struct rlink_cmd *cmds, size_t n, char **cause)
{
    redisReply *exec = NULL;
    char *refused = NULL;

    OWNED(l);
    if (rlink_ensure(l, cause) == -1)
        return NULL;
    /* Appending only fills hiredis's output buffer; it fails on memory alone. */
    if (append_transaction(l->c, cmds, n) != REDIS_OK)
        return finish(l, NULL, cause);
    /* Every reply is read, whatever came before it, so the link stays in step: +OK for MULTI,
     * +QUEUED (or a refusal) for each command, then EXEC's. */
    for (size_t i = 0; i < n + 2; i++) {
        void *v = NULL;
        redisReply *r;

        if (redisGetReply(l->c, &v) != REDIS_OK) {
            freeReplyObject(exec);
            free(refused);
            return finish(l, NULL, cause);
        }
        r = v;
        if (i < n + 1) {
            if (r->type == REDIS_REPLY_ERROR && refused == NULL)
                refused = refusal(l, r->str);
            freeReplyObject(r);
        } else {
            exec = r;
        }
    }
    exec = finish(l, exec, cause); /* one round trip; an error reply (EXECABORT) sets *cause */
    if (exec != NULL && refused == NULL)
        for (size_t i = 0; i < exec->elements; i++)
            if (exec->element[i]->type == REDIS_REPLY_ERROR) {
                refused = refusal(l, exec->element[i]->str);
                break;
            }
    if (refused != NULL) {
        /* A primary demoted by a failover refuses at queueing (EXEC says only EXECABORT). */
        if (l->addr.nsentinels > 0 && strncmp(refused, "READONLY", 8) == 0)
            link_down(l, "the server is no longer the primary");
        /* The refusal of the command itself says more than EXECABORT does. */
        if (exec == NULL)
            free(*cause);
        freeReplyObject(exec);
        *cause = refused;
        return NULL;
    }
    return exec;
}

static redisReply *evalsha(struct rlink *l, const struct lua_script *s, int nkeys, int argc,
                           const char **argv, const size_t *argvlen, char **cause)
{
    const char **av = xcalloc((size_t)argc + 3, sizeof *av);
    size_t *lens = argvlen != NULL ? xcalloc((size_t)argc + 3, sizeof *lens) : NULL;
    char nk[16];
    redisReply *r;

    snprintf(nk, sizeof nk, "%d", nkeys);
    av[0] = "EVALSHA";
    av[1] = s->sha1;
    av[2] = nk;
    for (int i = 0; i < argc; i++)
        av[i + 3] = argv[i];
    if (lens != NULL) {
        for (int i = 0; i < 3; i++)
            lens[i] = strlen(av[i]);
        memcpy(lens + 3, argvlen, (size_t)argc * sizeof *lens);
    }
    r = rlink_command_argv(l, cause, argc + 3, av, lens);
    free(lens);
    free(av);
    return r;
}

const char *rlink_reply_str(const redisReply *r, size_t i)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return "";
    if (r->element[i]->type == REDIS_REPLY_STRING || r->element[i]->type == REDIS_REPLY_STATUS)
        return r->element[i]->str;
    return "";
}

long long rlink_reply_int(const redisReply *r, size_t i)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return 0;
    if (r->element[i]->type == REDIS_REPLY_INTEGER)
        return r->element[i]->integer;
    if (r->element[i]->type == REDIS_REPLY_STRING)
        return strtoll(r->element[i]->str, NULL, 10);
    return 0;
}

const char *rlink_reply_field(const redisReply *h, const char *name)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING &&
            h->element[i + 1]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0)
            return h->element[i + 1]->str;
    return "";
}

redisReply *rlink_eval(struct rlink *l, const struct lua_script *script, int nkeys, int argc,
                       const char **argv, char **cause)
{
    return rlink_eval_bin(l, script, nkeys, argc, argv, NULL, cause);
}

redisReply *rlink_eval_bin(struct rlink *l, const struct lua_script *script, int nkeys, int argc,
                           const char **argv, const size_t *argvlen, char **cause)
{
    redisReply *r;
    char *why = NULL;

    OWNED(l);
    r = evalsha(l, script, nkeys, argc, argv, argvlen, &why);
    if (r != NULL || strncmp(why, "NOSCRIPT", 8) != 0) {
        if (r == NULL)
            *cause = why;
        return r;
    }
    free(why);
    r = rlink_command(l, cause, "SCRIPT LOAD %s", script->body);
    if (r == NULL)
        return NULL;
    if (r->type != REDIS_REPLY_STRING || strcmp(r->str, script->sha1) != 0) {
        *cause = xasprintf("SCRIPT LOAD of %s.lua answered %s, expected SHA1 %s", script->name,
                           r->type == REDIS_REPLY_STRING ? r->str : "a non-string", script->sha1);
        freeReplyObject(r);
        return NULL;
    }
    freeReplyObject(r);
    log_debug("redis: loaded script %s.lua (%s)", script->name, script->sha1);
    return evalsha(l, script, nkeys, argc, argv, argvlen, cause);
}

int rlink_ping(struct rlink *l, int64_t *latency_us, char **cause)
{
    int64_t t0;
    redisReply *r;

    OWNED(l);
    if (rlink_ensure(l, cause) == -1)
        return -1;
    t0 = clock_mono_us();
    r = rlink_command(l, cause, "PING");
    if (r == NULL)
        return -1;
    *latency_us = clock_mono_us() - t0;
    freeReplyObject(r);
    return 0;
}

/* Copies the value of "field:" in an INFO text into out. */
static void info_field(const char *info, const char *field, char *out, size_t size)
{
    size_t n = strlen(field);

    out[0] = '\0';
    for (const char *p = info; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, field, n) == 0 && p[n] == ':') {
            size_t len = strcspn(p + n + 1, "\r\n");

            snprintf(out, size, "%.*s", (int)len, p + n + 1);
            return;
        }
    }
}

int rlink_info(struct rlink *l, struct rlink_info *out, char **cause)
{
    redisReply *r;

    OWNED(l);
    memset(out, 0, sizeof *out);
    if (rlink_ping(l, &out->latency_us, cause) == -1)
        return -1;
    r = rlink_command(l, cause, "INFO server");
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_STRING) {
        info_field(r->str, "redis_version", out->version, sizeof out->version);
        info_field(r->str, "redis_mode", out->mode, sizeof out->mode);
    }
    freeReplyObject(r);
    r = rlink_command(l, cause, "INFO replication");
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_STRING)
        info_field(r->str, "role", out->role, sizeof out->role);
    freeReplyObject(r);
    return 0;
}
