/*
 * fake_feed.c - the local feed server of the feed tests; see fake_feed.h.
 *
 * Threads: libmicrohttpd's threads answer; the mutex guards the feed and the counters.
 */
#include "fake_feed.h"

#include "fake_http.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG_BYTES  (50LL * 1024 * 1024)
#define ROUTES_MAX 64

struct route {
    char path[256];
    unsigned status;
    char type[64];
    char *body;
    size_t len;
    int delay_ms;
    int hits;
};

struct fake_feed {
    struct fake_http *http;
    pthread_mutex_t mu;
    char base[64];
    char *body;
    size_t len;
    char etag[128], last_modified[128];
    int not_modified;
    long long big_sent;
    pthread_cond_t cv; /* a release or the stop */
    struct route routes[ROUTES_MAX];
    int nroutes;
    unsigned long release_gen;
    bool stopping;
    int active, max_active;
};

static ssize_t big_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct fake_feed *f = cls;
    size_t n = max;

    if ((long long)pos >= BIG_BYTES)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if ((long long)(pos + n) > BIG_BYTES)
        n = (size_t)(BIG_BYTES - (long long)pos);
    memset(buf, pos == 0 ? '<' : 'x', n);
    pthread_mutex_lock(&f->mu);
    f->big_sent += (long long)n;
    pthread_mutex_unlock(&f->mu);
    return (ssize_t)n;
}

/* Answers a route: after its delay, or once released. Called with f->mu held; returns with it
 * released. */
static enum MHD_Result answer_route(struct fake_feed *f, struct route *rt,
                                    const struct fake_http_request *req)
{
    unsigned long gen = f->release_gen;
    unsigned status = rt->status;
    char type[64];
    char *body = NULL;
    size_t len = rt->len;
    enum MHD_Result rc;

    rt->hits++;
    if (++f->active > f->max_active)
        f->max_active = f->active;
    if (rt->delay_ms < 0) {
        while (gen == f->release_gen && !f->stopping)
            pthread_cond_wait(&f->cv, &f->mu);
    } else if (rt->delay_ms > 0) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += rt->delay_ms / 1000;
        until.tv_nsec += (long)(rt->delay_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!f->stopping && pthread_cond_timedwait(&f->cv, &f->mu, &until) != ETIMEDOUT)
            ;
    }
    snprintf(type, sizeof type, "%s", rt->type);
    if (len > 0) {
        body = malloc(len);
        memcpy(body, rt->body, len);
    }
    f->active--;
    pthread_mutex_unlock(&f->mu);
    {
        const char *const headers[] = {"Content-Type", type[0] != '\0' ? type : NULL, NULL};

        rc = fake_http_reply(req->conn, status, headers, body, len);
    }
    free(body);
    return rc;
}

static enum MHD_Result on_request(void *cls, const struct fake_http_request *req)
{
    static const char *const text[] = {"Content-Type", "text/plain", NULL};
    struct fake_feed *f = cls;
    struct MHD_Response *r;
    enum MHD_Result rc;
    int hop;

    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->nroutes; i++)
        if (strcmp(f->routes[i].path, req->url) == 0)
            return answer_route(f, &f->routes[i], req);
    pthread_mutex_unlock(&f->mu);

    if (strcmp(req->url, "/feed.xml") == 0) {
        const char *inm = fake_http_header(req, "If-None-Match");
        const char *ims = fake_http_header(req, "If-Modified-Since");

        pthread_mutex_lock(&f->mu);
        if ((inm != NULL && f->etag[0] != '\0' && strcmp(inm, f->etag) == 0) ||
            (inm == NULL && ims != NULL && f->last_modified[0] != '\0' &&
             strcmp(ims, f->last_modified) == 0)) {
            f->not_modified++;
            pthread_mutex_unlock(&f->mu);
            return fake_http_reply(req->conn, MHD_HTTP_NOT_MODIFIED, NULL, NULL, 0);
        }
        {
            const char *const headers[] = {"ETag",
                                           f->etag[0] != '\0' ? f->etag : NULL,
                                           "Last-Modified",
                                           f->last_modified[0] != '\0' ? f->last_modified : NULL,
                                           "Content-Type",
                                           "application/rss+xml",
                                           NULL};

            rc = fake_http_reply(req->conn, MHD_HTTP_OK, headers, f->body, f->len);
        }
        pthread_mutex_unlock(&f->mu);
        return rc;
    }
    if (strcmp(req->url, "/big") == 0 || strcmp(req->url, "/big-chunked") == 0) {
        r = MHD_create_response_from_callback(strcmp(req->url, "/big") == 0 ? (uint64_t)BIG_BYTES
                                                                            : MHD_SIZE_UNKNOWN,
                                              64 * 1024, big_body, f, NULL);
        rc = MHD_queue_response(req->conn, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (sscanf(req->url, "/hop/%d", &hop) == 1) {
        char loc[64];
        const char *const headers[] = {"Location", loc, NULL};

        if (hop <= 0)
            snprintf(loc, sizeof loc, "/feed.xml");
        else
            snprintf(loc, sizeof loc, "/hop/%d", hop - 1);
        return fake_http_reply(req->conn, MHD_HTTP_FOUND, headers, NULL, 0);
    }
    return fake_http_reply(req->conn, MHD_HTTP_NOT_FOUND, text, "not found", 9);
}

struct fake_feed *fake_feed_start(void)
{
    struct fake_feed *f = calloc(1, sizeof *f);
    unsigned port;

    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->http = fake_http_start("fake_feed", on_request, f, &port);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", port);
    return f;
}

void fake_feed_stop(struct fake_feed *f)
{
    if (f == NULL)
        return;
    /* Held requests go first, or the server's threads would never end. */
    pthread_mutex_lock(&f->mu);
    f->stopping = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    fake_http_stop(f->http);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    for (int i = 0; i < f->nroutes; i++)
        free(f->routes[i].body);
    free(f->body);
    free(f);
}

const char *fake_feed_base(const struct fake_feed *f)
{
    return f->base;
}

void fake_feed_set(struct fake_feed *f, const char *body, size_t len, const char *etag,
                   const char *last_modified)
{
    pthread_mutex_lock(&f->mu);
    free(f->body);
    f->body = malloc(len + 1);
    memcpy(f->body, body, len);
    f->len = len;
    snprintf(f->etag, sizeof f->etag, "%s", etag != NULL ? etag : "");
    snprintf(f->last_modified, sizeof f->last_modified, "%s",
             last_modified != NULL ? last_modified : "");
    pthread_mutex_unlock(&f->mu);
}

#define COUNTER(name, field, type)                                                                 \
    type name(struct fake_feed *f)                                                                 \
    {                                                                                              \
        type v;                                                                                    \
        pthread_mutex_lock(&f->mu);                                                                \
        v = f->field;                                                                              \
        pthread_mutex_unlock(&f->mu);                                                              \
        return v;                                                                                  \
    }
COUNTER(fake_feed_not_modified, not_modified, int)
COUNTER(fake_feed_big_sent, big_sent, long long)
COUNTER(fake_feed_max_active, max_active, int)
COUNTER(fake_feed_active, active, int)

void fake_feed_route(struct fake_feed *f, const char *path, unsigned status, const char *type,
                     const char *body, size_t len, int delay_ms)
{
    struct route *rt = NULL;

    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->nroutes; i++)
        if (strcmp(f->routes[i].path, path) == 0)
            rt = &f->routes[i];
    if (rt == NULL) {
        if (f->nroutes == ROUTES_MAX) {
            fprintf(stderr, "fake_feed: more than %d routes\n", ROUTES_MAX);
            abort();
        }
        rt = &f->routes[f->nroutes++];
        memset(rt, 0, sizeof *rt);
        snprintf(rt->path, sizeof rt->path, "%s", path);
    }
    free(rt->body);
    rt->status = status;
    snprintf(rt->type, sizeof rt->type, "%s", type != NULL ? type : "");
    rt->body = malloc(len + 1);
    memcpy(rt->body, body, len);
    rt->len = len;
    rt->delay_ms = delay_ms;
    pthread_mutex_unlock(&f->mu);
}

int fake_feed_hits(struct fake_feed *f, const char *path)
{
    int n = 0;

    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->nroutes; i++)
        if (strcmp(f->routes[i].path, path) == 0)
            n = f->routes[i].hits;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void fake_feed_release(struct fake_feed *f)
{
    pthread_mutex_lock(&f->mu);
    f->release_gen++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

int fake_feed_requests(struct fake_feed *f)
{
    return fake_http_requests(f->http);
}
