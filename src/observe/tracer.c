/*
 * tracer.c - the trace exporter: the bounded queue and its background thread; see tracer.h.
 *
 * Threads: agent threads push under t->mu (a ring of pointers; when full, the oldest entries
 * are freed and counted, never the caller made to wait). The exporter thread takes batches
 * under t->mu and does everything slow without it: the Redis copy (its own link), the HTTP
 * request (its own CURL handle) or the file write, the waits between retries (on t->cv, so a
 * stop cuts them short). The counters are guarded by t->mu too; tracer_stats() copies them.
 */
#include "observe/tracer.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/paths.h"
#include "observe/jsonw.h"
#include "observe/langfuse.h"
#include "observe/trace_store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A process's state in TRACE_STATUS_KEY older than this is a process that is gone. */
#define TRACE_STATUS_STALE_MS 30000
/* Event buffers: an event that fits in TRACER_BUF bytes (with its trace id and offsets, most
 * do), pushed while fewer than TRACER_POOL are queued, gets one of that size, and the exporter
 * gives it back to a pool of at most TRACER_POOL for the next push: an agent thread's malloc()
 * of memory another thread frees costs glibc more than writing the event. */
#define TRACER_BUF  2048
#define TRACER_POOL 128

struct entry {
    /* The event, NUL-terminated, then the trace id, then the long strings' offsets (one
     * allocation). */
    char *json;
    size_t len, keep;      /* keep: the bytes ctl trace's copy keeps (tracer_push()) */
    char *trace;           /* the trace it belongs to (inside json's allocation), or NULL */
    struct jsonw_span *at; /* where the strings ctl trace's copy cuts are (inside json's) */
    size_t nlong;  /* how many there are (more than JSONW_LONGS: the first JSONW_LONGS listed) */
    bool pooled;   /* json is a TRACER_BUF buffer, for the pool when done */
    int64_t at_ms; /* monotonic, when it was pushed */
};

struct tracer {
    struct tracer_options o;
    char *host, *public_key, *secret_key, *file; /* owned copies */
    struct redis_addr addr;
    struct rlink_options link;
    bool has_addr;
    bool langfuse; /* both keys given */
    char process[96];

    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC: a push that makes a batch, or stop */
    struct entry *q;   /* ring of o.queue_max */
    size_t head, count, bytes;
    char *pool[TRACER_POOL]; /* free TRACER_BUF buffers */
    size_t npool;
    bool stop;
    int64_t stop_until; /* monotonic: delivering ends here once stopped */
    pthread_t thread;
    bool started;
    /* The exporter thread's CPU clock, which it sets itself as it starts; ended: it is about
     * to return (the three guarded by mu). */
    clockid_t clock;
    bool has_clock, ended;
    struct tracer_stats st;

    /* The exporter thread's own. */
    struct langfuse *lf;
    struct rlink *l;
    int fd;
    int64_t next_status;
};

void tracer_options_from(struct tracer_options *o, const struct config *c, const char *data_dir,
                         char **file_owned)
{
    memset(o, 0, sizeof *o);
    o->host = c->langfuse_host;
    o->public_key = c->langfuse_public_key;
    o->secret_key = c->langfuse_secret_key;
    *file_owned =
        c->trace_file[0] != '\0' ? xstrdup(c->trace_file) : xasprintf("%s/traces.jsonl", data_dir);
    o->file = *file_owned;
    o->queue_max = (size_t)c->trace_queue_max;
    o->queue_max_bytes = (size_t)c->trace_queue_max_bytes;
    o->batch_max = (size_t)c->trace_batch_max;
    o->flush_ms = c->trace_flush_ms;
    o->timeout_ms = c->trace_timeout_ms;
    o->retries = c->trace_retries;
    o->keep_days = c->trace_keep_days;
    o->story_max = c->trace_story_batches_max;
}

struct tracer *tracer_new(const struct tracer_options *o, char **cause)
{
    struct tracer *t;
    pthread_condattr_t ca;
    char host[64] = "";
    char *why = NULL;

    if (o->public_key != NULL && o->public_key[0] != '\0' && o->secret_key != NULL &&
        o->secret_key[0] != '\0') {
        if (o->host == NULL || langfuse_host_check(o->host, &why) == -1) {
            *cause = xasprintf("[observe] langfuse_host: %s",
                               why != NULL ? why : "no Langfuse host given");
            free(why);
            return NULL;
        }
    } else if (o->file == NULL || o->file[0] == '\0') {
        *cause = xstrdup("tracing without Langfuse keys needs a file for the events");
        return NULL;
    }
    t = xcalloc(1, sizeof *t);
    t->o = *o;
    t->langfuse = o->public_key != NULL && o->public_key[0] != '\0' && o->secret_key != NULL &&
                  o->secret_key[0] != '\0';
    t->host = xstrdup(o->host != NULL ? o->host : "");
    t->public_key = xstrdup(t->langfuse ? o->public_key : "");
    t->secret_key = xstrdup(t->langfuse ? o->secret_key : "");
    t->file = xstrdup(o->file != NULL ? o->file : "");
    t->o.host = t->host;
    t->o.public_key = t->o.secret_key = NULL; /* only the owned copies hold the keys */
    t->o.file = t->file;
    if (t->o.queue_max < 1)
        t->o.queue_max = 1;
    if (t->o.batch_max < 1)
        t->o.batch_max = 1;
    if (t->o.flush_ms <= 0)
        t->o.flush_ms = 1000;
    if (t->o.retries < 1)
        t->o.retries = 1;
    if (t->o.retry_base_ms <= 0)
        t->o.retry_base_ms = 250;
    if (t->o.retry_max_ms <= 0)
        t->o.retry_max_ms = 30000;
    if (t->o.drain_ms <= 0)
        t->o.drain_ms = 5000;
    if (t->o.status_ms <= 0)
        t->o.status_ms = 5000;
    if (o->addr != NULL && o->keep_days >= 0) {
        t->addr = *o->addr;
        t->has_addr = true;
        if (o->link != NULL)
            t->link = *o->link;
    }
    t->o.addr = NULL;
    t->o.link = NULL;
    if (gethostname(host, sizeof host - 1) == -1 || host[0] == '\0')
        snprintf(host, sizeof host, "host");
    snprintf(t->process, sizeof t->process, "%s-%ld", host, (long)getpid());
    t->q = xcalloc(t->o.queue_max, sizeof *t->q);
    t->fd = -1;
    t->st.health = -1;
    if (pthread_mutex_init(&t->mu, NULL) != 0 || pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 || pthread_cond_init(&t->cv, &ca) != 0)
        fail("tracer: cannot make its mutex and condition variable");
    pthread_condattr_destroy(&ca);
    return t;
}

bool tracer_to_langfuse(const struct tracer *t)
{
    return t->langfuse;
}

/* ---- the queue ---- */

/* An event's buffer is done with: back to the pool (pooled: it is a TRACER_BUF one) or freed.
 * With t->mu held. */
static void release(struct tracer *t, char *p, bool pooled)
{
    if (pooled && t->npool < TRACER_POOL)
        t->pool[t->npool++] = p;
    else
        free(p);
}

/* Frees the oldest entry. With t->mu held. */
static void drop_oldest(struct tracer *t)
{
    struct entry *e = &t->q[t->head];

    t->bytes -= e->len;
    release(t, e->json, e->pooled); /* the trace id is in the same allocation */
    e->json = e->trace = NULL;
    e->at = NULL;
    t->head = (t->head + 1) % t->o.queue_max;
    t->count--;
}

void tracer_push(struct tracer *t, const char *json, size_t len, size_t keep, const char *trace_id,
                 const struct jsonw_span *at, size_t nlong)
{
    size_t tlen = trace_id != NULL && t->has_addr && t->o.keep_days > 0 ? strlen(trace_id) + 1 : 0;
    /* The long strings' offsets, when the copy for ctl trace is made: those listed. */
    size_t nat = tlen > 0 ? (nlong < JSONW_LONGS ? nlong : JSONW_LONGS) : 0;
    size_t off = (len + 1 + tlen + sizeof(size_t) - 1) / sizeof(size_t) * sizeof(size_t);
    /* One allocation: the event, its NUL, the trace id when the copy for ctl trace needs it,
     * and the offsets (aligned). */
    size_t size = nat > 0 ? off + nat * sizeof *at : len + 1 + tlen;
    bool pooled = false;
    char *copy = NULL, *trace;
    struct entry *e;
    bool wake;

    if (size <= TRACER_BUF) {
        /* Only while the queue is short: a queue that backs up (Langfuse down) holds events
         * in buffers of their size, so its bound holds for the memory too. */
        pthread_mutex_lock(&t->mu);
        pooled = t->count < TRACER_POOL;
        if (pooled && t->npool > 0)
            copy = t->pool[--t->npool];
        pthread_mutex_unlock(&t->mu);
    }
    if (copy == NULL)
        copy = xmalloc(pooled ? TRACER_BUF : size);
    trace = tlen > 0 ? copy + len + 1 : NULL;
    memcpy(copy, json, len);
    copy[len] = '\0';
    if (trace != NULL)
        memcpy(trace, trace_id, tlen);
    if (nat > 0)
        memcpy(copy + off, at, nat * sizeof *at);
    pthread_mutex_lock(&t->mu);
    if (t->stop) {
        /* Nothing is taken once the tracer stops: a late event is dropped, counted. */
        t->st.dropped_full++;
        release(t, copy, pooled);
        pthread_mutex_unlock(&t->mu);
        return;
    }
    while (t->count > 0 && (t->count >= t->o.queue_max || t->bytes + len > t->o.queue_max_bytes)) {
        drop_oldest(t);
        t->st.dropped_full++;
    }
    e = &t->q[(t->head + t->count) % t->o.queue_max];
    e->json = copy;
    e->len = len;
    e->keep = keep < len ? keep : len;
    e->trace = trace;
    e->at = nat > 0 ? (struct jsonw_span *)(void *)(copy + off) : NULL;
    e->nlong = tlen > 0 ? nlong : 0;
    e->pooled = pooled;
    e->at_ms = clock_mono_ms();
    t->count++;
    t->bytes += len;
    t->st.queued++;
    t->st.queued_bytes += len;
    if (t->count > t->st.peak_events)
        t->st.peak_events = t->count;
    if (t->bytes > t->st.peak_bytes)
        t->st.peak_bytes = t->bytes;
    /* The exporter sleeps until a batch is full or the oldest event is flush_ms old: it
     * needs to hear of the first event and of a full batch, nothing else. */
    wake = t->count == 1 || t->count == t->o.batch_max;
    pthread_mutex_unlock(&t->mu);
    if (wake)
        pthread_cond_signal(&t->cv);
}

/* CPU time of the calling thread (clock), microseconds. */
static int64_t cpu_us(clockid_t clock)
{
    struct timespec ts;

    if (clock_gettime(clock, &ts) == -1)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void tracer_stats(struct tracer *t, struct tracer_stats *out)
{
    pthread_mutex_lock(&t->mu);
    *out = t->st;
    out->queue_events = t->count;
    out->queue_bytes = t->bytes;
    if (t->has_clock && !t->ended)
        out->cpu_us = cpu_us(t->clock);
    pthread_mutex_unlock(&t->mu);
}

/* Waits on t->cv until the monotonic time until_ms or a signal. With t->mu held. */
static void wait_until(struct tracer *t, int64_t until_ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(until_ms / 1000);
    ts.tv_nsec = (long)(until_ms % 1000) * 1000000L;
    pthread_cond_timedwait(&t->cv, &t->mu, &ts);
}

/* A batch taken out of the queue: the exporter thread's, arrays of batch_max. */
struct batch {
    char **ev;              /* the events (each owns its trace id and offsets) */
    size_t *lens;           /* their lengths */
    size_t *keeps;          /* the bytes of each ctl trace's copy keeps */
    char **traces;          /* their trace ids, or NULL */
    struct jsonw_span **at; /* their long strings' offsets */
    size_t *nlong;          /* how many long strings each has */
    bool *pooled;           /* whether each is a TRACER_BUF buffer */
};

/* Takes the next batch out of the queue into b (at most batch_max events, and bytes that keep
 * the body under Langfuse's limit; an event too big for any batch is dropped). With t->mu
 * held. Returns the number taken. */
static size_t take_batch(struct tracer *t, struct batch *b)
{
    size_t n = 0, bytes = langfuse_batch_overhead(1);

    while (t->count > 0 && n < t->o.batch_max) {
        struct entry *e = &t->q[t->head];

        if (e->len + langfuse_batch_overhead(1) + 1 > LANGFUSE_BATCH_LIMIT) {
            log_warn("trace: an event of %zu bytes is over Langfuse's batch limit; dropped",
                     e->len);
            drop_oldest(t);
            t->st.dropped_refused++;
            continue;
        }
        if (n > 0 && bytes + 1 + e->len > LANGFUSE_BATCH_LIMIT)
            break;
        bytes += (n > 0 ? 1 : 0) + e->len;
        b->ev[n] = e->json;
        b->traces[n] = e->trace;
        b->at[n] = e->at;
        b->nlong[n] = e->nlong;
        b->pooled[n] = e->pooled;
        b->keeps[n] = e->keep;
        b->lens[n++] = e->len;
        e->json = e->trace = NULL;
        e->at = NULL;
        t->bytes -= e->len;
        t->head = (t->head + 1) % t->o.queue_max;
        t->count--;
    }
    return n;
}

/* ---- what the exporter thread does ---- */

static void set_health(struct tracer *t, int health, const char *detail)
{
    pthread_mutex_lock(&t->mu);
    t->st.health = health;
    snprintf(t->st.health_detail, sizeof t->st.health_detail, "%s", detail);
    pthread_mutex_unlock(&t->mu);
}

static void count(struct tracer *t, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&t->mu);
    *field += n;
    pthread_mutex_unlock(&t->mu);
}

/* Writes this process's state into TRACE_STATUS_KEY (and drops it at stop). */
static void write_status(struct tracer *t, bool gone)
{
    struct tracer_stats s;
    char *cause = NULL, *text;
    redisReply *r;
    json_t *o;

    if (t->l == NULL)
        return;
    if (gone) {
        r = rlink_command(t->l, &cause, "HDEL %s %s", TRACE_STATUS_KEY, t->process);
        freeReplyObject(r);
        free(cause);
        return;
    }
    tracer_stats(t, &s);
    o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "mode",
                  t->langfuse ? "langfuse" : "file", "target", t->langfuse ? t->host : t->file,
                  "status",
                  !t->langfuse    ? "file"
                  : s.health == 1 ? "ok"
                  : s.health == 0 ? "down"
                                  : "unknown",
                  "detail", s.health_detail, "at_ms", (json_int_t)clock_wall_ms(), "delivered",
                  (json_int_t)s.delivered, "dropped",
                  (json_int_t)(s.dropped_full + s.dropped_failed + s.dropped_refused), "queued",
                  (json_int_t)s.queue_events);
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    r = rlink_command(t->l, &cause, "HSET %s %s %s", TRACE_STATUS_KEY, t->process, text);
    if (r == NULL) {
        log_debug("trace: cannot write the tracing state: %s", cause);
        free(cause);
    }
    freeReplyObject(r);
    free(text);
}

/* Keeps the batch's events per story in Redis for ctl trace: for each trace in the batch, one
 * entry, the JSON array of its events, each the part ctl trace's copy keeps (its first keeps[i]
 * bytes, closed with "}}" when that is not all of it) with long strings cut
 * (trace_store_cut_at() where the writer listed them, which copies without scanning;
 * trace_store_cut() otherwise). */
static void store_batch(struct tracer *t, const struct batch *b, size_t n)
{
    char **ids = xcalloc(n, sizeof *ids), **entries = xcalloc(n, sizeof *entries);
    size_t *used = xcalloc(n, sizeof *used), *cap = xcalloc(n, sizeof *cap), m = 0, stored = 0;
    char *cause = NULL;

    for (size_t i = 0, k = 0; i < n; i++) {
        size_t room, nlong = b->nlong[i], keep = b->keeps[i], nat = 0;
        size_t listed = nlong < JSONW_LONGS ? nlong : JSONW_LONGS;
        bool closed = keep < b->lens[i], known;

        if (b->traces[i] == NULL)
            continue;
        /* Events of one story come in runs: the last one's entry first. */
        if (k >= m || strcmp(ids[k], b->traces[i]) != 0)
            for (k = 0; k < m && strcmp(ids[k], b->traces[i]) != 0; k++)
                ;
        if (k == m) {
            ids[m] = b->traces[i];
            cap[m] = 256;
            entries[m] = xmalloc(cap[m]);
            entries[m][0] = '[';
            used[m++] = 1;
        }
        /* The long strings in the part kept, listed in order: all of them when every long
         * string was listed, or when a listed one lies past the part kept. */
        while (nat < listed && b->at[i][nat].to <= keep)
            nat++;
        known = nlong <= JSONW_LONGS || nat < listed;
        /* The comma, the event (3 bytes more per cut), "}}", the closing bracket and a NUL. */
        room = keep + 3 * nat + 5;
        if (used[k] + room > cap[k]) {
            cap[k] = (used[k] + room) * 2;
            entries[k] = xrealloc(entries[k], cap[k]);
        }
        if (used[k] > 1)
            entries[k][used[k]++] = ',';
        if (known) {
            used[k] += trace_store_cut_at(b->ev[i], keep, TRACE_STORE_STRING_MAX, b->at[i], nat,
                                          entries[k] + used[k]);
        } else {
            size_t clen;
            char *c = trace_store_cut(b->ev[i], keep, TRACE_STORE_STRING_MAX, &clen);

            if (used[k] + clen + 4 > cap[k]) {
                cap[k] = (used[k] + clen + 4) * 2;
                entries[k] = xrealloc(entries[k], cap[k]);
            }
            memcpy(entries[k] + used[k], c, clen);
            used[k] += clen;
            free(c);
        }
        if (closed) {
            memcpy(entries[k] + used[k], "}}", 2);
            used[k] += 2;
        }
        stored++;
    }
    for (size_t k = 0; k < m; k++) {
        entries[k][used[k]++] = ']';
        entries[k][used[k]] = '\0';
    }
    if (m > 0 && trace_store_put(t->l, ids, entries, m, (int64_t)t->o.keep_days * 86400000,
                                 t->o.story_max, &cause) == -1) {
        log_warn("trace: cannot keep %zu event(s) for ctl trace: %s", stored, cause);
        free(cause);
    } else {
        count(t, &t->st.stored, stored);
    }
    for (size_t k = 0; k < m; k++)
        free(entries[k]);
    free(entries);
    free(ids);
    free(used);
    free(cap);
}

/* Appends the batch to the file as one line. */
static void write_file(struct tracer *t, const char *body, size_t len, size_t n)
{
    char *line = xmalloc(len + 1);
    ssize_t w;

    memcpy(line, body, len);
    line[len] = '\n';
    if (t->fd == -1) {
        char *dir = xstrdup(t->file), *slash = strrchr(dir, '/'), *cause = NULL;

        if (slash != NULL && slash != dir) {
            *slash = '\0';
            if (paths_mkdir_p(dir, 0700, &cause) == -1) {
                log_warn("trace: %s", cause);
                free(cause);
            }
        }
        free(dir);
        t->fd = open(t->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    }
    /* One write() per line on an O_APPEND descriptor: lines from several processes never
     * interleave. */
    w = t->fd == -1 ? -1 : write(t->fd, line, len + 1);
    if (w != (ssize_t)(len + 1)) {
        log_warn("trace: cannot append %zu event(s) to %s: %s", n, t->file,
                 w == -1 ? strerror(errno) : "short write");
        count(t, &t->st.dropped_failed, n);
    } else {
        pthread_mutex_lock(&t->mu);
        t->st.delivered += n;
        t->st.batches++;
        pthread_mutex_unlock(&t->mu);
    }
    free(line);
}

struct errors_ctx {
    char *const *ev;
    const size_t *lens;
    size_t n;
};

/* The type of the event with envelope id in the batch, for the log line. */
static void log_event_error(const char *id, long status, const char *message, void *arg)
{
    const struct errors_ctx *x = arg;
    char type[32] = "?", needle[64];

    snprintf(needle, sizeof needle, "\"id\":\"%s\"", id);
    for (size_t i = 0; i < x->n; i++)
        if (strstr(x->ev[i], needle) != NULL) {
            json_t *e = json_loadb(x->ev[i], x->lens[i], 0, NULL);
            const char *ty = json_string_value(json_object_get(e, "type"));

            snprintf(type, sizeof type, "%s", ty != NULL ? ty : "?");
            json_decref(e);
            break;
        }
    log_warn("trace: Langfuse refused event %s (%s): %ld %s", id, type, status, message);
}

/* langfuse_deliver()'s wait between attempts: on t->cv, so a stop cuts it short; once
 * stopping, a wait is allowed only while it ends within the drain window. Counts a retry. */
static bool retry_wait(int64_t ms, void *arg)
{
    struct tracer *t = arg;
    int64_t until = clock_mono_ms() + ms;
    bool go_on;

    pthread_mutex_lock(&t->mu);
    t->st.retries++;
    while (!t->stop && clock_mono_ms() < until)
        wait_until(t, until);
    go_on = !t->stop || until <= t->stop_until;
    pthread_mutex_unlock(&t->mu);
    if (go_on && clock_mono_ms() < until)
        clock_sleep_ms(until - clock_mono_ms(), NULL); /* stopping, within the drain window */
    return go_on;
}

/* Sends one batch to Langfuse with its retries. */
static void send_batch(struct tracer *t, char *const *ev, const size_t *lens, size_t n)
{
    struct errors_ctx x = {ev, lens, n};
    struct langfuse_delivery d;
    size_t len;
    char *body = langfuse_batch_body(ev, lens, n, &len), detail[64];

    switch (langfuse_deliver(t->lf, body, t->o.retries, t->o.retry_base_ms, t->o.retry_max_ms,
                             retry_wait, t, log_event_error, &x, &d)) {
    case LANGFUSE_SENT:
        if (d.why[0] != '\0')
            log_warn("trace: Langfuse answered %s", d.why);
        pthread_mutex_lock(&t->mu);
        t->st.delivered += n;
        t->st.rejected += d.errors;
        t->st.batches++;
        pthread_mutex_unlock(&t->mu);
        snprintf(detail, sizeof detail, "HTTP %ld", d.status);
        set_health(t, 1, detail);
        break;
    case LANGFUSE_REJECTED:
        log_error("trace: Langfuse refused a batch of %zu event(s): %s", n, d.why);
        set_health(t, 0, d.why);
        count(t, &t->st.dropped_refused, n);
        break;
    case LANGFUSE_GAVE_UP:
        log_warn("trace: %zu event(s) dropped after %d attempt(s): %s", n, d.attempts, d.why);
        set_health(t, 0, d.why);
        count(t, &t->st.dropped_failed, n);
        break;
    }
    free(body);
}

static void health_check(struct tracer *t)
{
    char version[64], detail[256], *cause = NULL;

    if (!t->langfuse) {
        log_info("trace: no Langfuse keys; trace events go to %s (newsroom ctl traces replay "
                 "FILE sends them later)",
                 t->file);
        set_health(t, -1, t->file);
        return;
    }
    if (langfuse_health(t->lf, version, sizeof version, &cause) == 0) {
        snprintf(detail, sizeof detail, "Langfuse %s", version[0] != '\0' ? version : "up");
        log_info("trace: Langfuse at %s is up (version %s): tracing works", t->host,
                 version[0] != '\0' ? version : "not given");
        set_health(t, 1, detail);
    } else {
        log_warn("trace: Langfuse at %s does not answer its health check (%s); events wait in "
                 "a queue of at most %zu and are retried",
                 t->host, cause, t->o.queue_max);
        set_health(t, 0, cause);
        free(cause);
    }
}

static void *tracer_main(void *arg)
{
    struct tracer *t = arg;
    struct batch b;
    clockid_t clock;

    b.ev = xcalloc(t->o.batch_max, sizeof *b.ev);
    b.lens = xcalloc(t->o.batch_max, sizeof *b.lens);
    b.keeps = xcalloc(t->o.batch_max, sizeof *b.keeps);
    b.traces = xcalloc(t->o.batch_max, sizeof *b.traces);
    b.at = xcalloc(t->o.batch_max, sizeof *b.at);
    b.nlong = xcalloc(t->o.batch_max, sizeof *b.nlong);
    b.pooled = xcalloc(t->o.batch_max, sizeof *b.pooled);

    if (pthread_getcpuclockid(pthread_self(), &clock) == 0) {
        pthread_mutex_lock(&t->mu);
        t->clock = clock;
        t->has_clock = true;
        pthread_mutex_unlock(&t->mu);
    }

    if (t->has_addr) {
        struct rlink_options lo = t->link;

        lo.client_name = "nr-tracer";
        lo.quiet = true;
        t->l = rlink_new(&t->addr, &lo);
    }
    if (t->langfuse)
        t->lf = langfuse_new(t->host, t->public_key, t->secret_key, t->o.timeout_ms);
    health_check(t);
    write_status(t, false);
    t->next_status = clock_mono_ms() + t->o.status_ms;

    pthread_mutex_lock(&t->mu);
    for (;;) {
        int64_t now = clock_mono_ms();
        size_t n;

        if (t->stop && (t->count == 0 || now >= t->stop_until))
            break;
        if (now >= t->next_status) {
            pthread_mutex_unlock(&t->mu);
            write_status(t, false);
            t->next_status = clock_mono_ms() + t->o.status_ms;
            pthread_mutex_lock(&t->mu);
            continue;
        }
        /* A batch goes when it is full, when its oldest event has waited flush_ms, and at
         * once while stopping. */
        if (!t->stop && t->count < t->o.batch_max &&
            (t->count == 0 || now < t->q[t->head].at_ms + t->o.flush_ms)) {
            int64_t until = t->count == 0 ? t->next_status : t->q[t->head].at_ms + t->o.flush_ms;

            wait_until(t, until < t->next_status ? until : t->next_status);
            continue;
        }
        n = take_batch(t, &b);
        pthread_mutex_unlock(&t->mu);
        if (n > 0) {
            if (t->l != NULL && t->o.keep_days > 0)
                store_batch(t, &b, n);
            if (t->langfuse) {
                send_batch(t, b.ev, b.lens, n);
            } else {
                size_t len;
                char *body = langfuse_batch_body(b.ev, b.lens, n, &len);

                write_file(t, body, len, n);
                free(body);
            }
        }
        pthread_mutex_lock(&t->mu);
        for (size_t i = 0; i < n; i++)
            release(t, b.ev[i], b.pooled[i]); /* its trace id and offsets are in it too */
    }
    /* What is left after the drain window is dropped, and said. */
    if (t->count > 0) {
        log_warn("trace: %zu event(s) still queued at stop; dropped", t->count);
        t->st.dropped_failed += t->count;
        while (t->count > 0)
            drop_oldest(t);
    }
    t->ended = true;
    t->st.cpu_us = cpu_us(CLOCK_THREAD_CPUTIME_ID);
    pthread_mutex_unlock(&t->mu);
    write_status(t, true);
    free(b.ev);
    free(b.lens);
    free(b.keeps);
    free(b.traces);
    free(b.at);
    free(b.nlong);
    free(b.pooled);
    langfuse_free(t->lf);
    t->lf = NULL;
    rlink_free(t->l);
    t->l = NULL;
    if (t->fd != -1)
        close(t->fd);
    t->fd = -1;
    return NULL;
}

int tracer_start(struct tracer *t, char **cause)
{
    int rc = pthread_create(&t->thread, NULL, tracer_main, t);

    if (rc != 0) {
        *cause = xasprintf("cannot start the trace exporter: %s", strerror(rc));
        return -1;
    }
    t->started = true;
    return 0;
}

void tracer_stop(struct tracer *t)
{
    if (t == NULL || !t->started)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    t->stop_until = clock_mono_ms() + t->o.drain_ms;
    pthread_mutex_unlock(&t->mu);
    pthread_cond_broadcast(&t->cv);
    pthread_join(t->thread, NULL);
    t->started = false;
}

void tracer_free(struct tracer *t)
{
    if (t == NULL)
        return;
    tracer_stop(t);
    while (t->count > 0)
        drop_oldest(t);
    while (t->npool > 0)
        free(t->pool[--t->npool]);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t->q);
    free(t->host);
    if (t->public_key != NULL)
        memset(t->public_key, 0, strlen(t->public_key));
    if (t->secret_key != NULL)
        memset(t->secret_key, 0, strlen(t->secret_key));
    free(t->public_key);
    free(t->secret_key);
    free(t->file);
    free(t);
}

int tracer_status_summary(struct rlink *l, int64_t now_ms, char *out, size_t size, char **cause)
{
    redisReply *r = rlink_command(l, cause, "HGETALL %s", TRACE_STATUS_KEY);
    int up = 0, down = 0, file = 0;
    char first_down[160] = "", target[160] = "";

    if (r == NULL)
        return -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        json_t *o = json_loads(rlink_reply_str(r, i + 1), 0, NULL);
        const char *st = json_string_value(json_object_get(o, "status"));
        const char *detail = json_string_value(json_object_get(o, "detail"));
        const char *tg = json_string_value(json_object_get(o, "target"));

        if (st != NULL &&
            now_ms - json_integer_value(json_object_get(o, "at_ms")) <= TRACE_STATUS_STALE_MS) {
            if (strcmp(st, "file") == 0) {
                file++;
                if (target[0] == '\0' && tg != NULL) {
                    const char *base = strrchr(tg, '/');
                    snprintf(target, sizeof target, "%s", base != NULL ? base + 1 : tg);
                }
            } else if (strcmp(st, "down") == 0) {
                if (down++ == 0)
                    snprintf(first_down, sizeof first_down, "%s", detail != NULL ? detail : "?");
            } else {
                up++;
            }
        }
        json_decref(o);
    }
    freeReplyObject(r);
    if (down > 0)
        snprintf(out, size, "langfuse DOWN: %s", first_down);
    else if (up > 0)
        snprintf(out, size, "langfuse ok (%d process%s)", up, up == 1 ? "" : "es");
    else if (file > 0)
        snprintf(out, size, "file %s", target);
    else
        snprintf(out, size, "%s", "");
    return 0;
}
