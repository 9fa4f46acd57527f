/*
 * bus.c - the message bus on Redis pub/sub; see bus.h.
 *
 * Threads: the channel tables are constant. Publishing uses the caller's link. A subscriber
 * has two sides: its owner thread configures it (channels, handlers, ping interval) before
 * bus_sub_start() and frees it after; pthread_create() publishes that configuration to the
 * subscriber thread, which only reads it. The hiredis context, the confirmation count and the
 * backoff state belong to the subscriber thread alone. The stop flag is atomic and comes with
 * a write to an eventfd that the thread's poll() watches, so stopping never waits for a
 * timeout. The counters are atomics; the subscription generation and `subscribed` are guarded
 * by mu, with cv signalled when the generation grows.
 *
 * Why not hiredis's read timeout: a blocking hiredis 0.14 context treats a read timeout as a
 * fatal error, so the thread poll()s the socket and the eventfd itself, then reads what
 * arrived with redisBufferRead() and takes the replies with redisGetReplyFromReader().
 */
#include "store/bus.h"

#include "core/clock.h"
#include "core/fail.h"
#include "core/log.h"
#include "store/redis_url.h"
#include "store/rlink.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static const char *const tier_names[BUS_TIER_COUNT] = {
    [BUS_TIER_SCOUT] = "scout",
    [BUS_TIER_ANALYST] = "analyst",
    [BUS_TIER_DEBATER] = "debater",
    [BUS_TIER_WRITER] = "writer",
    [BUS_TIER_QA] = "qa",
    [BUS_TIER_PRODUCER] = "producer",
    [BUS_TIER_PUBLISHER] = "publisher",
    [BUS_TIER_ARCHIVIST] = "archivist",
    [BUS_TIER_MODERATOR] = "moderator",
};

static const char *const tier_channels[BUS_TIER_COUNT] = {
    [BUS_TIER_SCOUT] = BUS_CHANNEL_PREFIX "tier:scout",
    [BUS_TIER_ANALYST] = BUS_CHANNEL_PREFIX "tier:analyst",
    [BUS_TIER_DEBATER] = BUS_CHANNEL_PREFIX "tier:debater",
    [BUS_TIER_WRITER] = BUS_CHANNEL_PREFIX "tier:writer",
    [BUS_TIER_QA] = BUS_CHANNEL_PREFIX "tier:qa",
    [BUS_TIER_PRODUCER] = BUS_CHANNEL_PREFIX "tier:producer",
    [BUS_TIER_PUBLISHER] = BUS_CHANNEL_PREFIX "tier:publisher",
    [BUS_TIER_ARCHIVIST] = BUS_CHANNEL_PREFIX "tier:archivist",
    [BUS_TIER_MODERATOR] = BUS_CHANNEL_PREFIX "tier:moderator",
};

static const char *const broadcast_channels[BUS_BROADCAST_COUNT] = {
    [BUS_ALL] = BUS_CHANNEL_PREFIX "broadcast:all",
    [BUS_CONTROL] = BUS_CHANNEL_PREFIX "broadcast:control",
    [BUS_EMERGENCY] = BUS_CHANNEL_PREFIX "broadcast:emergency",
};

#define AGENT_CHANNEL_PREFIX BUS_CHANNEL_PREFIX "agent:"
#define CHANNEL_MAX          256

const char *bus_tier_name(enum bus_tier tier)
{
    if ((int)tier < 0 || (int)tier >= BUS_TIER_COUNT)
        return NULL;
    return tier_names[tier];
}

int bus_tier_parse(const char *name, enum bus_tier *out)
{
    for (int i = 0; i < BUS_TIER_COUNT; i++) {
        if (strcmp(name, tier_names[i]) == 0) {
            *out = (enum bus_tier)i;
            return 0;
        }
    }
    return -1;
}

const char *bus_broadcast_channel(enum bus_broadcast b)
{
    if ((int)b < 0 || (int)b >= BUS_BROADCAST_COUNT)
        return NULL;
    return broadcast_channels[b];
}

const char *bus_tier_channel(enum bus_tier tier)
{
    if ((int)tier < 0 || (int)tier >= BUS_TIER_COUNT)
        return NULL;
    return tier_channels[tier];
}

int bus_agent_channel(const char *agent_id, char *buf, size_t size, char **cause)
{
    size_t len = strlen(agent_id);

    if (len == 0) {
        *cause = xasprintf("an agent id must not be empty");
        return -1;
    }
    if (len > BUS_AGENT_ID_MAX) {
        *cause =
            xasprintf("agent id \"%.32s...\" is longer than %d bytes", agent_id, BUS_AGENT_ID_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)agent_id[i];

        if (ch <= ' ' || ch == 0x7f) {
            *cause = xasprintf("agent id \"%.*s\" holds a space or a control character", (int)len,
                               agent_id);
            return -1;
        }
    }
    if (strlen(AGENT_CHANNEL_PREFIX) + len + 1 > size) {
        *cause = xasprintf("no room for the channel of agent \"%s\"", agent_id);
        return -1;
    }
    snprintf(buf, size, "%s%s", AGENT_CHANNEL_PREFIX, agent_id);
    return 0;
}

int bus_publish(struct rlink *l, const char *channel, const struct msg *m, long long *receivers,
                char **cause)
{
    char *text = msg_encode(m, cause);
    const char *argv[3];
    size_t argvlen[3];
    redisReply *r;

    if (text == NULL)
        return -1;
    argv[0] = "PUBLISH";
    argv[1] = channel;
    argv[2] = text;
    for (int i = 0; i < 3; i++)
        argvlen[i] = strlen(argv[i]);
    r = rlink_command_argv(l, cause, 3, argv, argvlen);
    free(text);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_INTEGER) {
        *cause = xasprintf("PUBLISH on %s did not answer an integer", channel);
        freeReplyObject(r);
        return -1;
    }
    if (receivers != NULL)
        *receivers = r->integer;
    freeReplyObject(r);
    return 0;
}

int bus_broadcast(struct rlink *l, enum bus_broadcast b, const struct msg *m, long long *receivers,
                  char **cause)
{
    const char *ch = bus_broadcast_channel(b);

    if (ch == NULL) {
        *cause = xasprintf("no broadcast channel %d", (int)b);
        return -1;
    }
    return bus_publish(l, ch, m, receivers, cause);
}

int bus_send_tier(struct rlink *l, enum bus_tier tier, const struct msg *m, long long *receivers,
                  char **cause)
{
    const char *ch = bus_tier_channel(tier);

    if (ch == NULL) {
        *cause = xasprintf("no tier %d", (int)tier);
        return -1;
    }
    return bus_publish(l, ch, m, receivers, cause);
}

int bus_send_agent(struct rlink *l, const char *agent_id, const struct msg *m, long long *receivers,
                   char **cause)
{
    char ch[CHANNEL_MAX];

    if (bus_agent_channel(agent_id, ch, sizeof ch, cause) == -1)
        return -1;
    return bus_publish(l, ch, m, receivers, cause);
}

/* ---- the subscriber ---- */

struct handler {
    bus_handler fn;
    void *ctx;
};

#define OTHER_HANDLER MSG_TYPE_COUNT

struct bus_sub {
    /* Owner thread before start; read-only on both threads after, except addr's host and port
     * and shown, which the subscriber thread alone rewrites with Sentinel's answer (the owner
     * reads them again only after joining it). */
    struct redis_addr addr;
    struct rlink_options opt;
    char client_name[64];
    char shown[600];
    char **channels;
    size_t nchannels;
    struct handler handlers[MSG_TYPE_COUNT + 1];
    char *raw_channel; /* NULL: none */
    bus_raw_handler raw_fn;
    void *raw_ctx;
    int ping_interval_ms;
    bool started;
    pthread_t thread;
    int wakefd;
    atomic_bool stop;

    /* Subscriber thread only. */
    redisContext *c;
    size_t confirmed;     /* subscribe confirmations on this connection */
    int failures;         /* failed connection attempts in a row */
    unsigned int seed;    /* jitter */
    int64_t last_rx_ms;   /* monotonic time data last arrived */
    int64_t ping_sent_ms; /* monotonic time of the unanswered PING, 0 when none */
    int sentinel_first;   /* the sentinel to ask first */

    /* Any thread. */
    atomic_uint_fast64_t received, handled, unhandled, expired, invalid, raw, disconnects;

    /* Guarded by mu; cv is signalled when generation grows. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t generation;
    bool subscribed;
};

struct bus_sub *bus_sub_new(const struct redis_addr *addr, const struct rlink_options *o)
{
    struct bus_sub *s = xcalloc(1, sizeof *s);
    pthread_condattr_t ca;

    s->addr = *addr;
    s->opt = *o;
    if (o->client_name != NULL)
        snprintf(s->client_name, sizeof s->client_name, "%s", o->client_name);
    s->opt.client_name = NULL;
    redis_addr_format(addr, s->shown, sizeof s->shown);
    s->ping_interval_ms = 10000;
    s->wakefd = -1;
    s->seed = (unsigned int)(clock_mono_us() ^ (int64_t)getpid() ^ (int64_t)(uintptr_t)s);
    atomic_init(&s->stop, false);
    atomic_init(&s->received, 0);
    atomic_init(&s->handled, 0);
    atomic_init(&s->unhandled, 0);
    atomic_init(&s->expired, 0);
    atomic_init(&s->invalid, 0);
    atomic_init(&s->raw, 0);
    atomic_init(&s->disconnects, 0);
    if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 || pthread_cond_init(&s->cv, &ca) != 0)
        fail("cannot initialise the bus subscriber's mutex and condition");
    pthread_condattr_destroy(&ca);
    return s;
}

void bus_sub_free(struct bus_sub *s)
{
    if (s == NULL)
        return;
    if (s->started) {
        uint64_t one = 1;

        atomic_store(&s->stop, true);
        /* An eventfd write of 1 cannot fail short of a counter at 2^64-2. */
        if (write(s->wakefd, &one, sizeof one) != (ssize_t)sizeof one)
            log_warn("bus: cannot wake the subscriber thread: %s", strerror(errno));
        pthread_join(s->thread, NULL);
    }
    if (s->wakefd != -1)
        close(s->wakefd);
    for (size_t i = 0; i < s->nchannels; i++)
        free(s->channels[i]);
    free(s->channels);
    free(s->raw_channel);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    /* The password lives in addr: do not leave it in freed memory. */
    memset(&s->addr, 0, sizeof s->addr);
    free(s);
}

static int not_started(struct bus_sub *s, char **cause)
{
    if (s->started) {
        *cause = xasprintf("the bus subscriber is already running; configure it before "
                           "bus_sub_start()");
        return -1;
    }
    return 0;
}

int bus_sub_add_channel(struct bus_sub *s, const char *channel, char **cause)
{
    if (not_started(s, cause) == -1)
        return -1;
    if (channel == NULL || channel[0] == '\0' || strlen(channel) >= CHANNEL_MAX) {
        *cause = xasprintf("a channel name must have 1 to %d bytes", CHANNEL_MAX - 1);
        return -1;
    }
    for (size_t i = 0; i < s->nchannels; i++)
        if (strcmp(s->channels[i], channel) == 0)
            return 0;
    s->channels = xrealloc(s->channels, (s->nchannels + 1) * sizeof *s->channels);
    s->channels[s->nchannels++] = xstrdup(channel);
    return 0;
}

int bus_sub_add_agent(struct bus_sub *s, const char *agent_id, enum bus_tier tier, char **cause)
{
    char ch[CHANNEL_MAX];

    if (bus_agent_channel(agent_id, ch, sizeof ch, cause) == -1)
        return -1;
    if (bus_tier_channel(tier) == NULL) {
        *cause = xasprintf("no tier %d", (int)tier);
        return -1;
    }
    if (bus_sub_add_channel(s, ch, cause) == -1 ||
        bus_sub_add_channel(s, bus_tier_channel(tier), cause) == -1)
        return -1;
    for (int b = 0; b < BUS_BROADCAST_COUNT; b++)
        if (bus_sub_add_channel(s, broadcast_channels[b], cause) == -1)
            return -1;
    return 0;
}

int bus_sub_on(struct bus_sub *s, enum msg_type type, bus_handler fn, void *ctx, char **cause)
{
    if (not_started(s, cause) == -1)
        return -1;
    if (msg_type_name(type) == NULL) {
        *cause = xasprintf("no message type %d", (int)type);
        return -1;
    }
    s->handlers[type].fn = fn;
    s->handlers[type].ctx = ctx;
    return 0;
}

int bus_sub_on_other(struct bus_sub *s, bus_handler fn, void *ctx, char **cause)
{
    if (not_started(s, cause) == -1)
        return -1;
    s->handlers[OTHER_HANDLER].fn = fn;
    s->handlers[OTHER_HANDLER].ctx = ctx;
    return 0;
}

int bus_sub_add_raw(struct bus_sub *s, const char *channel, bus_raw_handler fn, void *ctx,
                    char **cause)
{
    if (s->raw_channel != NULL) {
        *cause = xasprintf("the subscriber has a raw channel already (%s)", s->raw_channel);
        return -1;
    }
    if (fn == NULL) {
        *cause = xasprintf("a raw channel needs a handler");
        return -1;
    }
    if (bus_sub_add_channel(s, channel, cause) == -1)
        return -1;
    s->raw_channel = xstrdup(channel);
    s->raw_fn = fn;
    s->raw_ctx = ctx;
    return 0;
}

int bus_sub_set_ping_interval(struct bus_sub *s, int ms, char **cause)
{
    if (not_started(s, cause) == -1)
        return -1;
    if (ms < 10) {
        *cause = xasprintf("a ping interval of %d ms is too short", ms);
        return -1;
    }
    s->ping_interval_ms = ms;
    return 0;
}

static void set_subscribed(struct bus_sub *s, bool on)
{
    pthread_mutex_lock(&s->mu);
    if (on && !s->subscribed) {
        s->generation++;
        pthread_cond_broadcast(&s->cv);
    }
    s->subscribed = on;
    pthread_mutex_unlock(&s->mu);
}

int bus_sub_wait_subscribed(struct bus_sub *s, uint64_t generation, int timeout_ms)
{
    struct timespec ts;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (s->generation < generation && rc == 0)
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    rc = s->generation >= generation ? 0 : -1;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void bus_sub_stats(struct bus_sub *s, struct bus_sub_stats *out)
{
    out->received = atomic_load(&s->received);
    out->handled = atomic_load(&s->handled);
    out->unhandled = atomic_load(&s->unhandled);
    out->expired = atomic_load(&s->expired);
    out->invalid = atomic_load(&s->invalid);
    out->raw = atomic_load(&s->raw);
    out->disconnects = atomic_load(&s->disconnects);
    pthread_mutex_lock(&s->mu);
    out->subscriptions = s->generation;
    out->subscribed = s->subscribed;
    pthread_mutex_unlock(&s->mu);
}

/* -- subscriber thread -- */

static struct timeval ms_tv(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    return tv;
}

/* One setup command on a fresh context, as rlink does it. Returns 0 or -1 with why. */
static int setup_command(redisContext *c, int argc, const char **argv, char *why, size_t size)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);

    if (r == NULL) {
        snprintf(why, size, "%s", c->errstr[0] != '\0' ? c->errstr : "I/O error");
        return -1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, size, "%s", r->str);
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

/* Writes what hiredis has buffered (the socket is blocking, with the send timeout). */
static int flush_output(redisContext *c)
{
    int done = 0;

    do {
        if (redisBufferWrite(c, &done) == REDIS_ERR)
            return -1;
    } while (!done);
    return 0;
}

/* Connects, logs in (AUTH, SELECT and CLIENT SETNAME with the semantics of rlink.c) and sends
 * SUBSCRIBE for every channel; the confirmations arrive through the poll loop. */
static int sub_connect(struct bus_sub *s, char *why, size_t size)
{
    redisContext *c;
    char err[512];
    const char **argv;

    /* With Sentinel this asks for the primary first (pub/sub messages reach replicas too,
     * but after a failover the old primary is gone). */
    c = rlink_dial(&s->addr, s->opt.connect_timeout_ms, &s->sentinel_first, why, size);
    if (s->addr.nsentinels > 0)
        redis_addr_format(&s->addr, s->shown, sizeof s->shown);
    if (c == NULL && s->addr.nsentinels > 0)
        return -1;
    if (c == NULL)
        fail("out of memory allocating a Redis context");
    if (c->err) {
        snprintf(why, size, "%s", c->errstr);
        redisFree(c);
        return -1;
    }
    if (redisSetTimeout(c, ms_tv(s->opt.command_timeout_ms)) != REDIS_OK) {
        snprintf(why, size, "cannot set the command timeout: %s", c->errstr);
        goto bad;
    }
    if (s->addr.transport == REDIS_TCP)
        redisEnableKeepAlive(c);
    if (s->addr.password[0] != '\0') {
        const char *acl[3] = {"AUTH", s->addr.user, s->addr.password};
        const char *pw[2] = {"AUTH", s->addr.password};
        int rc = s->addr.user[0] != '\0' ? setup_command(c, 3, acl, err, sizeof err)
                                         : setup_command(c, 2, pw, err, sizeof err);

        if (rc == -1) {
            if (s->addr.user[0] != '\0')
                snprintf(why, size, "authentication as user \"%s\" failed: %s", s->addr.user, err);
            else
                snprintf(why, size, "authentication failed: %s", err);
            goto bad;
        }
    }
    if (s->addr.db != 0) {
        char db[16];
        const char *sel[2] = {"SELECT", db};

        snprintf(db, sizeof db, "%d", s->addr.db);
        if (setup_command(c, 2, sel, err, sizeof err) == -1) {
            snprintf(why, size, "SELECT %d failed: %s", s->addr.db, err);
            goto bad;
        }
    }
    if (s->client_name[0] != '\0') {
        const char *name[3] = {"CLIENT", "SETNAME", s->client_name};

        if (setup_command(c, 3, name, err, sizeof err) == -1) {
            snprintf(why, size, "CLIENT SETNAME failed: %s", err);
            goto bad;
        }
    }
    argv = xcalloc(s->nchannels + 1, sizeof *argv);
    argv[0] = "SUBSCRIBE";
    for (size_t i = 0; i < s->nchannels; i++)
        argv[i + 1] = s->channels[i];
    if (redisAppendCommandArgv(c, (int)s->nchannels + 1, argv, NULL) != REDIS_OK ||
        flush_output(c) == -1) {
        snprintf(why, size, "SUBSCRIBE failed: %s", c->errstr[0] != '\0' ? c->errstr : "I/O");
        free(argv);
        goto bad;
    }
    free(argv);
    s->c = c;
    s->confirmed = 0;
    s->last_rx_ms = clock_mono_ms();
    s->ping_sent_ms = 0;
    if (s->failures > 0)
        log_info("bus: subscriber link to %s is back after %d failed attempts", s->shown,
                 s->failures);
    s->failures = 0;
    return 0;

bad:
    redisFree(c);
    return -1;
}

/* The connection is gone: say why, count it and let the main loop reconnect. */
static void sub_lost(struct bus_sub *s, const char *why)
{
    log_warn("bus: subscriber link to %s lost: %s; reconnecting", s->shown, why);
    redisFree(s->c);
    s->c = NULL;
    atomic_fetch_add(&s->disconnects, 1);
    set_subscribed(s, false);
}

/* Sleeps up to ms, returning early when woken to stop. */
static void sub_sleep(struct bus_sub *s, int64_t ms)
{
    struct pollfd p = {.fd = s->wakefd, .events = POLLIN};

    if (ms > 0 && !atomic_load(&s->stop))
        (void)poll(&p, 1, ms > 60000 ? 60000 : (int)ms);
}

/* Exponential backoff from reconnect_base_ms capped at reconnect_max_ms, with equal jitter
 * (half fixed, half random), as rlink does, so that many subscribers do not come back in
 * step after a restart. */
static int64_t sub_backoff(struct bus_sub *s)
{
    int64_t delay = s->opt.reconnect_base_ms;
    int shift = s->failures < 20 ? s->failures : 20;

    delay <<= shift;
    if (delay > s->opt.reconnect_max_ms)
        delay = s->opt.reconnect_max_ms;
    delay = delay / 2 + (int64_t)(rand_r(&s->seed) % (unsigned int)(delay / 2 + 1));
    s->failures++;
    return delay;
}

static void sub_message(struct bus_sub *s, const char *channel, const char *text, size_t len)
{
    char *cause = NULL;
    struct msg *m;
    const struct handler *h;

    atomic_fetch_add(&s->received, 1);
    if (s->raw_channel != NULL && strcmp(channel, s->raw_channel) == 0) {
        atomic_fetch_add(&s->raw, 1);
        s->raw_fn(text, len, s->raw_ctx);
        return;
    }
    m = msg_decode(text, len, &cause);
    if (m == NULL) {
        atomic_fetch_add(&s->invalid, 1);
        log_debug("bus: dropped a message on %s: %s", channel, cause);
        free(cause);
        return;
    }
    if (msg_expired(m, clock_wall_ms())) {
        atomic_fetch_add(&s->expired, 1);
        log_debug("bus: dropped expired %s %s on %s", msg_type_name(m->type), m->id, channel);
        msg_free(m);
        return;
    }
    h = s->handlers[m->type].fn != NULL ? &s->handlers[m->type] : &s->handlers[OTHER_HANDLER];
    if (h->fn != NULL) {
        atomic_fetch_add(&s->handled, 1);
        h->fn(m, channel, h->ctx);
    } else {
        atomic_fetch_add(&s->unhandled, 1);
    }
    msg_free(m);
}

/* One reply in subscribed mode: a message, a subscribe confirmation or a pong. */
static void sub_reply(struct bus_sub *s, const redisReply *r)
{
    const char *kind;

    if (r->type == REDIS_REPLY_ERROR) {
        log_warn("bus: subscriber link to %s: the server answered: %s", s->shown, r->str);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return;
    kind = r->element[0]->str;
    if (strcmp(kind, "message") == 0 && r->elements == 3 &&
        r->element[1]->type == REDIS_REPLY_STRING && r->element[2]->type == REDIS_REPLY_STRING) {
        sub_message(s, r->element[1]->str, r->element[2]->str, r->element[2]->len);
    } else if (strcmp(kind, "subscribe") == 0) {
        if (++s->confirmed == s->nchannels)
            set_subscribed(s, true);
    }
    /* "pong": any data already counted as a sign of life. */
}

/* Waits for data, a stop request or the PING timer, and deals with whichever came. */
static void sub_wait(struct bus_sub *s)
{
    struct pollfd p[2] = {{.fd = s->c->fd, .events = POLLIN}, {.fd = s->wakefd, .events = POLLIN}};
    int64_t now = clock_mono_ms(), due;
    int n;

    due = s->ping_sent_ms != 0 ? s->ping_sent_ms + s->opt.command_timeout_ms
                               : s->last_rx_ms + s->ping_interval_ms;
    n = poll(p, 2, due > now ? (int)(due - now) : 0);
    if (n == -1) {
        if (errno != EINTR)
            sub_lost(s, strerror(errno));
        return;
    }
    if (p[1].revents != 0)
        return; /* to stop: the main loop sees the flag */
    if (p[0].revents != 0) {
        void *reply = NULL;

        if (redisBufferRead(s->c) != REDIS_OK) {
            sub_lost(s, s->c->errstr[0] != '\0' ? s->c->errstr : "connection closed");
            return;
        }
        s->last_rx_ms = clock_mono_ms();
        s->ping_sent_ms = 0;
        for (;;) {
            if (redisGetReplyFromReader(s->c, &reply) != REDIS_OK) {
                sub_lost(s, s->c->errstr[0] != '\0' ? s->c->errstr : "protocol error");
                return;
            }
            if (reply == NULL)
                break;
            sub_reply(s, reply);
            freeReplyObject(reply);
            if (atomic_load(&s->stop))
                return;
        }
        return;
    }
    now = clock_mono_ms();
    if (s->ping_sent_ms != 0 && now >= s->ping_sent_ms + s->opt.command_timeout_ms) {
        char why[96];

        snprintf(why, sizeof why, "no answer to PING within %d ms", s->opt.command_timeout_ms);
        sub_lost(s, why);
    } else if (s->ping_sent_ms == 0 && now >= s->last_rx_ms + s->ping_interval_ms) {
        const char *ping[1] = {"PING"};

        if (redisAppendCommandArgv(s->c, 1, ping, NULL) != REDIS_OK || flush_output(s->c) == -1)
            sub_lost(s, s->c->errstr[0] != '\0' ? s->c->errstr : "cannot send PING");
        else
            s->ping_sent_ms = now;
    }
}

static void *sub_main(void *arg)
{
    struct bus_sub *s = arg;

    while (!atomic_load(&s->stop)) {
        if (s->c == NULL) {
            char why[700];

            if (sub_connect(s, why, sizeof why) == -1) {
                int64_t delay = sub_backoff(s);

                /* The first failure is news; the ones after it while it lasts are not. */
                if (s->failures == 1)
                    log_warn("bus: subscriber cannot connect to %s: %s; retrying", s->shown, why);
                else
                    log_debug("bus: subscriber cannot connect to %s: %s; next attempt in %lld "
                              "ms",
                              s->shown, why, (long long)delay);
                sub_sleep(s, delay);
                continue;
            }
        }
        sub_wait(s);
    }
    if (s->c != NULL) {
        redisFree(s->c);
        s->c = NULL;
    }
    set_subscribed(s, false);
    return NULL;
}

int bus_sub_start(struct bus_sub *s, char **cause)
{
    int rc;

    if (not_started(s, cause) == -1)
        return -1;
    if (s->nchannels == 0) {
        *cause = xasprintf("the bus subscriber has no channel to subscribe to");
        return -1;
    }
    s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wakefd == -1) {
        *cause = xasprintf("eventfd for the bus subscriber: %s", strerror(errno));
        return -1;
    }
    rc = pthread_create(&s->thread, NULL, sub_main, s);
    if (rc != 0) {
        *cause = xasprintf("cannot start the bus subscriber thread: %s", strerror(rc));
        close(s->wakefd);
        s->wakefd = -1;
        return -1;
    }
    s->started = true;
    return 0;
}
