/*
 * feed_pool.c - the fetcher pool; see feed_pool.h. The pool's thread loops: it takes new jobs
 * and cancellations from under the mutex, starts what may start (feeds at once, up to the
 * host's connection limit; pages and robots.txt files also no sooner than the host's next
 * slot, and pages only once the host's robots.txt is known and allows them), waits in
 * curl_multi_poll() (woken by curl_multi_wakeup() from submit, cancel and free, or by the
 * earliest slot), and finishes what libcurl finished. Every finished piece becomes events on
 * the owner's queue, under the mutex.
 *
 * Threads: see feed_pool.h. Under p->mu: stop, incoming, cancels, owners, counts. Only the
 * pool's thread: jobs, waiting, active, hosts, the multi handle's transfers.
 */
#include "feeds/feed_pool.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "feeds/feed_text.h"
#include "feeds/feed_url.h"
#include "feeds/fulltext.h"
#include "feeds/robots.h"
#include "recovery/breaker.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The longest the thread sleeps with nothing to wake it (a lost wake-up costs this much). */
#define POOL_POLL_MAX_MS 1000
/* A robots.txt longer than this is cut (RFC 9309 asks for at least 500 KiB). */
#define ROBOTS_BYTES_MAX (512u * 1024)
/* How long a host stays known with nothing going on, once its robots.txt has expired. */
#define HOST_IDLE_MS 60000
/* How long a refused robots.txt (the breaker said no) blocks the host's pages. */
#define ROBOTS_REFUSED_MS 60000

struct host {
    struct host *next;
    char *origin;
    int active;            /* transfers in flight */
    int queued;            /* requests waiting for it */
    int64_t next_ms;       /* monotonic: no page or robots.txt request before this */
    struct robots *robots; /* NULL until known */
    int64_t robots_until;  /* monotonic: ask again after this */
    bool robots_pending;   /* a robots.txt request is waiting or in flight */
    char *refused;         /* why the breaker refused the robots.txt request, while it holds */
    int64_t last_used_ms;  /* monotonic */
};

struct job {
    struct job *next;
    uintptr_t owner;
    char *source, *etag, *last_modified;
    struct feed_fetch_options fo;
    bool fulltext;
    char *data;
    size_t len;
    int pending;             /* page requests not finished */
    bool fetched;            /* the feed itself is done with */
    struct feed_event *done; /* built as the job goes */
};

enum req_kind { REQ_FEED, REQ_PAGE, REQ_ROBOTS };

struct req {
    struct req *next;
    enum req_kind kind;
    struct job *job; /* NULL for robots.txt */
    struct host *host;
    char *url;
    struct feed_fetch_options fo;
    struct feed_entry entry; /* REQ_PAGE: the item waiting for its article */
    size_t feed_words;       /* REQ_PAGE: the feed's text's words */
    struct feed_transfer *t; /* in flight */
};

/* One owner's events, oldest first. */
struct evnode {
    struct evnode *next;
    struct feed_event *e;
};

struct owner_q {
    struct owner_q *next;
    uintptr_t owner;
    struct evnode *head, *tail;
};

struct feed_pool {
    struct feed_pool_options o;
    pthread_t thread;
    CURLM *multi;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* an event was queued (CLOCK_MONOTONIC) */
    /* under mu */
    bool stop;
    struct job *incoming, **incoming_tail;
    uintptr_t *cancels;
    size_t ncancels;
    struct owner_q *owners;
    struct feed_pool_counts counts;
    /* the pool's thread only */
    struct job *jobs;
    struct req *waiting, **waiting_tail;
    struct req *active;
    struct host *hosts;
    int64_t next_prune_ms;
};

/* ---- events (any thread, under mu) ---- */

void feed_event_free(struct feed_event *e)
{
    if (e == NULL)
        return;
    free(e->source);
    feed_entry_clear(&e->entry);
    free(e->error);
    free(e->title);
    free(e->etag);
    free(e->last_modified);
    for (size_t i = 0; i < e->nmembers; i++)
        free(e->members[i]);
    free(e->members);
    free(e);
}

static bool cancelled_locked(const struct feed_pool *p, uintptr_t owner)
{
    for (size_t i = 0; i < p->ncancels; i++)
        if (p->cancels[i] == owner)
            return true;
    return false;
}

/* Queues e for owner (takes ownership); an owner being cancelled gets nothing. */
static void emit(struct feed_pool *p, uintptr_t owner, struct feed_event *e)
{
    struct owner_q *q;
    struct evnode *n;

    pthread_mutex_lock(&p->mu);
    if (cancelled_locked(p, owner)) {
        pthread_mutex_unlock(&p->mu);
        feed_event_free(e);
        return;
    }
    for (q = p->owners; q != NULL && q->owner != owner; q = q->next)
        ;
    if (q == NULL) {
        q = xcalloc(1, sizeof *q);
        q->owner = owner;
        q->next = p->owners;
        p->owners = q;
    }
    n = xcalloc(1, sizeof *n);
    n->e = e;
    if (q->tail != NULL)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static struct feed_event *take_locked(struct feed_pool *p, uintptr_t owner)
{
    struct owner_q *q;
    struct evnode *n;
    struct feed_event *e;

    for (q = p->owners; q != NULL && q->owner != owner; q = q->next)
        ;
    if (q == NULL || q->head == NULL)
        return NULL;
    n = q->head;
    q->head = n->next;
    if (q->head == NULL)
        q->tail = NULL;
    e = n->e;
    free(n);
    return e;
}

struct feed_event *feed_pool_take(struct feed_pool *p, uintptr_t owner)
{
    struct feed_event *e;

    pthread_mutex_lock(&p->mu);
    e = take_locked(p, owner);
    pthread_mutex_unlock(&p->mu);
    return e;
}

struct feed_event *feed_pool_wait(struct feed_pool *p, uintptr_t owner, int timeout_ms)
{
    struct timespec until;
    struct feed_event *e;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while ((e = take_locked(p, owner)) == NULL && !p->stop)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&p->mu);
    return e;
}

/* ---- hosts, requests and jobs (the pool's thread) ---- */

static struct host *host_get(struct feed_pool *p, const char *origin)
{
    struct host *h;

    for (h = p->hosts; h != NULL; h = h->next)
        if (strcmp(h->origin, origin) == 0)
            return h;
    h = xcalloc(1, sizeof *h);
    h->origin = xstrdup(origin);
    h->next = p->hosts;
    p->hosts = h;
    return h;
}

static void host_free(struct host *h)
{
    robots_free(h->robots);
    free(h->refused);
    free(h->origin);
    free(h);
}

/* Forgets hosts with nothing going on whose robots.txt has expired. */
static void hosts_prune(struct feed_pool *p, int64_t now)
{
    struct host **hp = &p->hosts;

    while (*hp != NULL) {
        struct host *h = *hp;

        if (h->active == 0 && h->queued == 0 && !h->robots_pending && now >= h->robots_until &&
            now - h->last_used_ms > HOST_IDLE_MS) {
            *hp = h->next;
            host_free(h);
        } else {
            hp = &h->next;
        }
    }
}

static void enqueue(struct feed_pool *p, struct req *r)
{
    r->next = NULL;
    *p->waiting_tail = r;
    p->waiting_tail = &r->next;
    r->host->queued++;
}

static void req_free(struct req *r)
{
    if (r == NULL)
        return;
    feed_transfer_free(r->t);
    feed_entry_clear(&r->entry);
    free(r->url);
    free(r);
}

static void count(struct feed_pool *p, long *field)
{
    pthread_mutex_lock(&p->mu);
    (*field)++;
    pthread_mutex_unlock(&p->mu);
}

static void job_free(struct job *j)
{
    if (j == NULL)
        return;
    free(j->source);
    free(j->etag);
    free(j->last_modified);
    free(j->data);
    feed_event_free(j->done);
    free(j);
}

/* Frees the jobs of owner in the list at *jp (every job, with all set). */
static void drop_jobs(struct job **jp, uintptr_t owner, bool all)
{
    while (*jp != NULL) {
        struct job *j = *jp;

        if (all || j->owner == owner) {
            *jp = j->next;
            job_free(j);
        } else {
            jp = &j->next;
        }
    }
}

/* Frees an owner's queue and the events in it. */
static void owner_q_free(struct owner_q *q)
{
    while (q->head != NULL) {
        struct evnode *n = q->head;

        q->head = n->next;
        feed_event_free(n->e);
        free(n);
    }
    free(q);
}

/* Sends the job's done event once the feed and every page are finished, and lets it go. */
static void job_maybe_done(struct feed_pool *p, struct job *j)
{
    struct job **jp;

    if (!j->fetched || j->pending > 0)
        return;
    for (jp = &p->jobs; *jp != NULL && *jp != j; jp = &(*jp)->next)
        ;
    if (*jp != NULL)
        *jp = j->next;
    emit(p, j->owner, j->done);
    j->done = NULL;
    job_free(j);
}

static void job_error(struct feed_pool *p, struct job *j, char *cause)
{
    j->done->outcome = "error";
    j->done->error = cause;
    j->fetched = true;
    job_maybe_done(p, j);
}

static void emit_item(struct feed_pool *p, struct job *j, struct feed_entry *e)
{
    struct feed_event *ev = xcalloc(1, sizeof *ev);

    ev->kind = FEED_EVENT_ITEM;
    ev->source = xstrdup(j->source);
    ev->entry = *e;
    memset(e, 0, sizeof *e);
    emit(p, j->owner, ev);
}

/* Replaces the entry's text by the article's (the item is rebuilt through the one gate). */
static bool use_article(struct feed_entry *e, const char *text, char **why)
{
    json_t *o = news_item_to_json(e->item);
    struct news_item *it;

    json_object_del(o, "hash");
    json_object_set_new(o, "content", json_string(text));
    it = news_item_from_json(o, why);
    json_decref(o);
    if (it == NULL)
        return false;
    news_item_free(e->item);
    e->item = it;
    e->text = FEED_TEXT_FULL;
    return true;
}

/* A parsed document: its items go out (or wait for their article), its outcome is kept for the
 * done event. Takes ownership of etag and last_modified. */
static void job_document(struct feed_pool *p, struct job *j, const char *buf, size_t len,
                         const char *url, char *etag, char *last_modified)
{
    struct feed_doc doc;
    char *cause = NULL;

    if (feed_parse(buf, len, url, clock_wall_ms(), &doc, &cause) == -1) {
        free(etag);
        free(last_modified);
        job_error(p, j, cause);
        return;
    }
    j->done->outcome = "ok";
    j->done->items = (long)doc.nentries;
    j->done->skipped = (long)doc.skipped;
    j->done->title = doc.title;
    doc.title = NULL;
    j->done->etag = etag;
    j->done->last_modified = last_modified;
    for (size_t i = 0; i < doc.nentries; i++) {
        struct feed_entry *e = &doc.entries[i];
        size_t words = feed_word_count(e->item->content);
        char *origin;

        if (!j->fulltext || words >= (size_t)p->o.fulltext_min_words) {
            emit_item(p, j, e);
            continue;
        }
        origin = feed_url_origin(e->item->url);
        if (origin == NULL) {
            e->fulltext = xstrdup("no http(s) link to fetch the article from");
            emit_item(p, j, e);
            continue;
        }
        {
            struct req *r = xcalloc(1, sizeof *r);

            r->kind = REQ_PAGE;
            r->job = j;
            r->host = host_get(p, origin);
            r->url = xstrdup(e->item->url);
            r->fo = j->fo;
            r->entry = *e;
            r->feed_words = words;
            memset(e, 0, sizeof *e);
            j->pending++;
            j->done->fulltext_tried++;
            enqueue(p, r);
        }
        free(origin);
    }
    feed_doc_clear(&doc);
    j->fetched = true;
    job_maybe_done(p, j);
}

/* Starts a job taken from the submissions: files and given documents at once, HTTP through
 * the queue. */
static void job_start(struct feed_pool *p, struct job *j)
{
    struct feed_answer a;
    char *cause = NULL, *origin;

    j->next = p->jobs;
    p->jobs = j;
    j->done = xcalloc(1, sizeof *j->done);
    j->done->kind = FEED_EVENT_DONE;
    j->done->source = xstrdup(j->source);
    if (j->data != NULL) {
        job_document(p, j, j->data, j->len, feed_url_is_http(j->source) ? j->source : NULL, NULL,
                     NULL);
        return;
    }
    if (feed_source_is_file(j->source)) {
        if (feed_file_fetch(j->source, j->etag, j->fo.max_bytes, &a, &cause) == -1) {
            job_error(p, j, cause);
            return;
        }
        if (a.nmembers > 0 || a.data == NULL) {
            j->done->outcome = a.not_modified ? "not_modified" : "ok";
            j->done->etag = a.etag;
            a.etag = NULL;
            if (!a.not_modified) {
                /* A folder: its files are sources of their own. */
                j->done->members = a.members;
                j->done->nmembers = a.nmembers;
                a.members = NULL;
                a.nmembers = 0;
                if (j->done->members == NULL)
                    j->done->members = xcalloc(1, sizeof *j->done->members);
            }
            feed_answer_clear(&a);
            j->fetched = true;
            job_maybe_done(p, j);
            return;
        }
        job_document(p, j, a.data, a.len, a.url, a.etag, NULL);
        a.etag = NULL;
        feed_answer_clear(&a);
        return;
    }
    origin = feed_url_origin(j->source);
    if (origin == NULL) {
        job_error(p, j, xasprintf("not an http(s) URL with a host"));
        return;
    }
    {
        struct req *r = xcalloc(1, sizeof *r);

        r->kind = REQ_FEED;
        r->job = j;
        r->host = host_get(p, origin);
        r->url = xstrdup(j->source);
        r->fo = j->fo;
        enqueue(p, r);
    }
    free(origin);
}

/* A page's request ends: the entry goes out with the article, or with the feed's text and
 * why. Takes the request. */
static void page_finish(struct feed_pool *p, struct req *r, const struct feed_answer *a,
                        char *failure)
{
    struct job *j = r->job;

    /* The page was read: its own pictures (og:image, twitter:image) join the feed's. */
    if (a != NULL && a->data != NULL)
        feed_images_from_page(&r->entry.images, a->data, a->len, a->charset,
                              a->url != NULL ? a->url : r->url);
    if (failure == NULL) {
        char *text = NULL, *why = NULL;
        size_t words = 0;

        if (fulltext_extract(a->data, a->len, a->charset, NEWS_CONTENT_MAX, &text, &words, &why) ==
            -1)
            failure = why;
        else if (words <= r->feed_words)
            failure = xasprintf("the page's article (%zu words) is no longer than the feed's "
                                "text (%zu)",
                                words, r->feed_words);
        else if (!use_article(&r->entry, text, &why))
            failure = why;
        free(text);
    }
    if (failure != NULL) {
        r->entry.fulltext = xasprintf("kept the feed's text: %s", failure);
        free(failure);
    } else {
        r->entry.fulltext = xstrdup("extracted");
        j->done->fulltext_used++;
    }
    emit_item(p, j, &r->entry);
    j->pending--;
    req_free(r);
    job_maybe_done(p, j);
}

/* A request that will not be sent (refused by the breaker or by robots.txt). Takes it. */
static void req_drop(struct feed_pool *p, struct req *r, char *why)
{
    r->host->queued--;
    switch (r->kind) {
    case REQ_FEED: {
        struct job *j = r->job;

        req_free(r);
        job_error(p, j, why);
        break;
    }
    case REQ_PAGE:
        page_finish(p, r, NULL, why);
        break;
    case REQ_ROBOTS:
        /* No robots.txt, no page: the host's pages fail with the breaker's reason a while. */
        r->host->robots_pending = false;
        robots_free(r->host->robots);
        r->host->robots = robots_deny_all();
        r->host->robots_until = clock_mono_ms() + ROBOTS_REFUSED_MS;
        free(r->host->refused);
        r->host->refused = why;
        req_free(r);
        break;
    }
}

static void req_start(struct feed_pool *p, struct req *r, int64_t now)
{
    const struct job *j = r->job;
    enum feed_fetch_kind kind = r->kind == REQ_FEED   ? FEED_FETCH_FEED
                                : r->kind == REQ_PAGE ? FEED_FETCH_PAGE
                                                      : FEED_FETCH_ROBOTS;

    r->host->queued--;
    r->host->active++;
    r->host->last_used_ms = now;
    if (r->kind != REQ_FEED) {
        int gap = p->o.page_interval_ms;

        if (r->host->robots != NULL && robots_crawl_delay_ms(r->host->robots) > gap)
            gap = robots_crawl_delay_ms(r->host->robots);
        r->host->next_ms = now + gap;
    }
    r->t = feed_transfer_new(kind, r->url, r->kind == REQ_FEED ? j->etag : NULL,
                             r->kind == REQ_FEED ? j->last_modified : NULL, &r->fo);
    curl_easy_setopt(feed_transfer_easy(r->t), CURLOPT_PRIVATE, r);
    r->next = p->active;
    p->active = r;
    curl_multi_add_handle(p->multi, feed_transfer_easy(r->t));
}

/* Starts every waiting request that may start; returns how long until one more may (ms). */
static int dispatch(struct feed_pool *p)
{
    int64_t now = clock_mono_ms();
    int wake = POOL_POLL_MAX_MS;
    struct req **rp = &p->waiting;

    while (*rp != NULL) {
        struct req *r = *rp;
        struct host *h = r->host;
        char *why = NULL;

        if (r->kind == REQ_PAGE) {
            char *path;
            bool allowed;

            if (h->robots == NULL || now >= h->robots_until) {
                if (!h->robots_pending) {
                    /* Ask for the host's robots.txt first: in the queue before this page. */
                    struct req *rb = xcalloc(1, sizeof *rb);

                    rb->kind = REQ_ROBOTS;
                    rb->host = h;
                    rb->url = xasprintf("%s/robots.txt", h->origin);
                    rb->fo = r->fo;
                    rb->fo.max_bytes = ROBOTS_BYTES_MAX;
                    rb->next = r;
                    *rp = rb;
                    h->queued++;
                    h->robots_pending = true;
                    continue;
                }
                rp = &r->next;
                continue;
            }
            path = feed_url_path(r->url);
            allowed = path != NULL && robots_allowed(h->robots, path);
            if (!allowed) {
                *rp = r->next;
                if (r->next == NULL)
                    p->waiting_tail = rp;
                if (h->refused != NULL) {
                    req_drop(p, r, xstrdup(h->refused));
                } else {
                    count(p, &p->counts.robots_denied);
                    req_drop(p, r,
                             xasprintf("robots.txt of %s disallows %s", h->origin,
                                       path != NULL ? path : r->url));
                }
                free(path);
                continue;
            }
            free(path);
        }
        if (h->active >= p->o.host_connections) {
            rp = &r->next;
            continue;
        }
        if (r->kind != REQ_FEED && now < h->next_ms) {
            if (h->next_ms - now < wake)
                wake = (int)(h->next_ms - now);
            rp = &r->next;
            continue;
        }
        /* The per-host circuit breaker's question: may anything go to this host now? */
        if (p->o.host_allow != NULL && !p->o.host_allow(p->o.host_ctx, h->origin, &why)) {
            *rp = r->next;
            if (r->next == NULL)
                p->waiting_tail = rp;
            count(p, &p->counts.refused);
            req_drop(
                p, r,
                xasprintf("%s refused: %s", h->origin, why != NULL ? why : "host unavailable"));
            free(why);
            continue;
        }
        *rp = r->next;
        if (r->next == NULL)
            p->waiting_tail = rp;
        req_start(p, r, now);
    }
    return wake;
}

/* A transfer libcurl finished. */
static void req_done(struct feed_pool *p, struct req *r, CURLcode rc)
{
    struct req **rp;
    struct feed_answer a;
    char *cause = NULL;
    int ok;

    for (rp = &p->active; *rp != NULL && *rp != r; rp = &(*rp)->next)
        ;
    if (*rp != NULL)
        *rp = r->next;
    curl_multi_remove_handle(p->multi, feed_transfer_easy(r->t));
    ok = feed_transfer_finish(r->t, rc, &a, &cause);
    r->host->active--;
    r->host->last_used_ms = clock_mono_ms();
    /* The per-host circuit breaker hears every outcome: a failure only when the host is to
     * blame (no answer, a timeout, 5xx, 429), never for an answer such as a 404. */
    if (p->o.host_report != NULL)
        p->o.host_report(p->o.host_ctx, r->host->origin, !a.host_fault,
                         a.host_fault ? (cause != NULL ? cause : "HTTP status 5xx or 429") : NULL);
    switch (r->kind) {
    case REQ_FEED: {
        struct job *j = r->job;

        count(p, &p->counts.feeds);
        req_free(r);
        if (ok == -1) {
            job_error(p, j, cause);
        } else if (a.not_modified) {
            j->done->outcome = "not_modified";
            j->done->etag = a.etag;
            j->done->last_modified = a.last_modified;
            a.etag = a.last_modified = NULL;
            j->fetched = true;
            job_maybe_done(p, j);
        } else {
            job_document(p, j, a.data, a.len, a.url, a.etag, a.last_modified);
            a.etag = a.last_modified = NULL;
        }
        break;
    }
    case REQ_ROBOTS: {
        struct host *h = r->host;

        count(p, &p->counts.robots);
        robots_free(h->robots);
        free(h->refused);
        h->refused = NULL;
        if (ok == -1 || a.status >= 500 || a.status < 200)
            h->robots = robots_deny_all(); /* unreachable: RFC 9309 says assume disallow */
        else if (a.status >= 400)
            h->robots = robots_allow_all(); /* none there */
        else if (a.status >= 300)
            h->robots = robots_deny_all();
        else
            h->robots = robots_parse(a.data != NULL ? a.data : "", a.len);
        h->robots_until = clock_mono_ms() + (int64_t)p->o.robots_ttl_s * 1000;
        h->robots_pending = false;
        free(cause);
        req_free(r);
        break;
    }
    case REQ_PAGE:
        count(p, &p->counts.pages);
        page_finish(p, r, &a, ok == -1 ? cause : NULL);
        break;
    }
    feed_answer_clear(&a);
}

/* Drops owner's jobs: their waiting and in-flight requests, their partial done. */
static void cancel_owner(struct feed_pool *p, uintptr_t owner)
{
    struct req **rp = &p->waiting;
    struct job **jp = &p->jobs;

    while (*rp != NULL) {
        struct req *r = *rp;

        if (r->job != NULL && r->job->owner == owner) {
            *rp = r->next;
            if (r->next == NULL)
                p->waiting_tail = rp;
            r->host->queued--;
            req_free(r);
        } else {
            rp = &r->next;
        }
    }
    rp = &p->active;
    while (*rp != NULL) {
        struct req *r = *rp;

        if (r->job != NULL && r->job->owner == owner) {
            *rp = r->next;
            curl_multi_remove_handle(p->multi, feed_transfer_easy(r->t));
            r->host->active--;
            req_free(r);
        } else {
            rp = &r->next;
        }
    }
    drop_jobs(jp, owner, false);
}

static void *pool_main(void *arg)
{
    struct feed_pool *p = arg;

    feed_parse_init();
    for (;;) {
        struct job *in;
        uintptr_t *cancels;
        size_t ncancels;
        int wake, running = 0;
        struct CURLMsg *msg;
        int left;

        pthread_mutex_lock(&p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        in = p->incoming;
        p->incoming = NULL;
        p->incoming_tail = &p->incoming;
        ncancels = p->ncancels;
        cancels = ncancels > 0 ? xmalloc(ncancels * sizeof *cancels) : NULL;
        if (ncancels > 0)
            memcpy(cancels, p->cancels, ncancels * sizeof *cancels);
        pthread_mutex_unlock(&p->mu);
        for (size_t i = 0; i < ncancels; i++)
            cancel_owner(p, cancels[i]);
        if (ncancels > 0) {
            /* Owners are dropped from the list only now that none of their jobs is left, so
             * no event of theirs can slip out in between. */
            pthread_mutex_lock(&p->mu);
            memmove(p->cancels, p->cancels + ncancels,
                    (p->ncancels - ncancels) * sizeof *p->cancels);
            p->ncancels -= ncancels;
            pthread_mutex_unlock(&p->mu);
        }
        free(cancels);
        while (in != NULL) {
            struct job *next = in->next;

            job_start(p, in);
            in = next;
        }
        wake = dispatch(p);
        curl_multi_poll(p->multi, NULL, 0, wake, NULL);
        curl_multi_perform(p->multi, &running);
        while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
            struct req *r = NULL;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            if (r != NULL)
                req_done(p, r, msg->data.result);
        }
        if (clock_mono_ms() >= p->next_prune_ms) {
            hosts_prune(p, clock_mono_ms());
            p->next_prune_ms = clock_mono_ms() + HOST_IDLE_MS;
        }
    }
    /* Stopping: cut everything. */
    while (p->active != NULL) {
        struct req *r = p->active;

        p->active = r->next;
        curl_multi_remove_handle(p->multi, feed_transfer_easy(r->t));
        req_free(r);
    }
    while (p->waiting != NULL) {
        struct req *r = p->waiting;

        p->waiting = r->next;
        req_free(r);
    }
    drop_jobs(&p->jobs, 0, true);
    while (p->hosts != NULL) {
        struct host *h = p->hosts;

        p->hosts = h->next;
        host_free(h);
    }
    return NULL;
}

/* ---- the callers' side ---- */

/* The per-host breakers (breaker.h: "feed:<origin>", shared through Redis when the process
 * runs the breakers' board). Neither call talks to Redis, so neither blocks the pool. */
static bool host_breaker_allow(void *ctx, const char *origin, char **why)
{
    (void)ctx;
    return breaker_allow(breaker_for("feed", origin), why) == 0;
}

static void host_breaker_report(void *ctx, const char *origin, bool ok, const char *why)
{
    struct breaker *b = breaker_for("feed", origin);

    (void)ctx;
    if (ok)
        breaker_success(b);
    else
        breaker_failure(b, why);
}

void feed_pool_options_from_config(struct feed_pool_options *o, const struct config *cfg)
{
    memset(o, 0, sizeof *o);
    o->host_connections = cfg->feed_host_connections;
    o->page_interval_ms = cfg->feed_fulltext_host_interval_ms;
    o->robots_ttl_s = cfg->feed_robots_ttl_s;
    o->fulltext_min_words = cfg->feed_fulltext_min_words;
    o->host_allow = host_breaker_allow;
    o->host_report = host_breaker_report;
}

struct feed_pool *feed_pool_new(const struct feed_pool_options *o)
{
    struct feed_pool *p = xcalloc(1, sizeof *p);
    pthread_condattr_t ca;
    int rc;

    p->o = *o;
    if (p->o.host_connections < 1)
        p->o.host_connections = 1;
    p->incoming_tail = &p->incoming;
    p->waiting_tail = &p->waiting;
    feed_fetch_init();
    p->multi = curl_multi_init();
    if (p->multi == NULL)
        fail("curl_multi_init failed");
    if (pthread_mutex_init(&p->mu, NULL) != 0 || pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 || pthread_cond_init(&p->cv, &ca) != 0)
        fail("feed pool: cannot make its mutex and condition variable");
    pthread_condattr_destroy(&ca);
    if ((rc = pthread_create(&p->thread, NULL, pool_main, p)) != 0)
        fail("feed pool: cannot start its thread: %s", strerror(rc));
    return p;
}

void feed_pool_free(struct feed_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    curl_multi_wakeup(p->multi);
    pthread_join(p->thread, NULL);
    curl_multi_cleanup(p->multi);
    drop_jobs(&p->incoming, 0, true);
    while (p->owners != NULL) {
        struct owner_q *q = p->owners;

        p->owners = q->next;
        owner_q_free(q);
    }
    free(p->cancels);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct feed_pool *shared;
static int shared_refs;

struct feed_pool *feed_pool_acquire(const struct feed_pool_options *o)
{
    struct feed_pool *p;

    pthread_mutex_lock(&shared_mu);
    if (shared == NULL)
        shared = feed_pool_new(o);
    shared_refs++;
    p = shared;
    pthread_mutex_unlock(&shared_mu);
    return p;
}

void feed_pool_release(struct feed_pool *p)
{
    struct feed_pool *gone = NULL;

    if (p == NULL)
        return;
    pthread_mutex_lock(&shared_mu);
    if (p == shared && --shared_refs == 0) {
        gone = shared;
        shared = NULL;
    }
    pthread_mutex_unlock(&shared_mu);
    feed_pool_free(gone);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

void feed_pool_submit(struct feed_pool *p, uintptr_t owner, const struct feed_job *jb)
{
    struct job *j = xcalloc(1, sizeof *j);

    j->owner = owner;
    j->source = xstrdup(jb->source);
    j->etag = dup_or_null(jb->etag);
    j->last_modified = dup_or_null(jb->last_modified);
    j->fo = jb->fetch;
    j->fulltext = jb->fulltext;
    if (jb->data != NULL) {
        j->data = xmalloc(jb->len + 1);
        memcpy(j->data, jb->data, jb->len);
        j->data[jb->len] = '\0';
        j->len = jb->len;
    }
    pthread_mutex_lock(&p->mu);
    *p->incoming_tail = j;
    p->incoming_tail = &j->next;
    pthread_mutex_unlock(&p->mu);
    curl_multi_wakeup(p->multi);
}

void feed_pool_cancel(struct feed_pool *p, uintptr_t owner)
{
    struct owner_q **qp;

    pthread_mutex_lock(&p->mu);
    p->cancels = xrealloc(p->cancels, (p->ncancels + 1) * sizeof *p->cancels);
    p->cancels[p->ncancels++] = owner;
    for (qp = &p->owners; *qp != NULL; qp = &(*qp)->next)
        if ((*qp)->owner == owner) {
            struct owner_q *q = *qp;

            *qp = q->next;
            owner_q_free(q);
            break;
        }
    drop_jobs(&p->incoming, owner, false);
    p->incoming_tail = &p->incoming;
    while (*p->incoming_tail != NULL)
        p->incoming_tail = &(*p->incoming_tail)->next;
    pthread_mutex_unlock(&p->mu);
    curl_multi_wakeup(p->multi);
}

void feed_pool_counts(struct feed_pool *p, struct feed_pool_counts *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->counts;
    pthread_mutex_unlock(&p->mu);
}
