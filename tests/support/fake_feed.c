/*
 * fake_feed.c - the local feed server of the feed tests; see fake_feed.h.
 *
 * Threads: libmicrohttpd's threads answer; the mutex guards the feed and the counters.
 */
#include "fake_feed.h"

#include "fake_http.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG_BYTES (50LL * 1024 * 1024)

struct fake_feed {
    struct fake_http *http;
    pthread_mutex_t mu;
    char base[64];
    char *body;
    size_t len;
    char etag[128], last_modified[128];
    int not_modified;
    long long big_sent;
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

static enum MHD_Result on_request(void *cls, const struct fake_http_request *req)
{
    static const char *const text[] = {"Content-Type", "text/plain", NULL};
    struct fake_feed *f = cls;
    struct MHD_Response *r;
    enum MHD_Result rc;
    int hop;

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
    f->http = fake_http_start("fake_feed", on_request, f, &port);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", port);
    return f;
}

void fake_feed_stop(struct fake_feed *f)
{
    if (f == NULL)
        return;
    fake_http_stop(f->http);
    pthread_mutex_destroy(&f->mu);
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

int fake_feed_requests(struct fake_feed *f)
{
    return fake_http_requests(f->http);
}
