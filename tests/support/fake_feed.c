/*
 * fake_feed.c - the local feed server of the feed tests; see fake_feed.h.
 *
 * Threads: libmicrohttpd's threads answer; the mutex guards the feed and the counters.
 */
#include "fake_feed.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG_BYTES (50LL * 1024 * 1024)

struct fake_feed {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    char base[64];
    char *body;
    size_t len;
    char etag[128], last_modified[128];
    int requests, not_modified;
    long long big_sent;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
                             size_t len, const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    MHD_add_response_header(r, "Content-Type", type);
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    struct fake_feed *f = cls;
    struct MHD_Response *r;
    enum MHD_Result rc;
    int hop;

    (void)method;
    (void)version;
    (void)data;
    (void)size;
    (void)con_cls;
    pthread_mutex_lock(&f->mu);
    f->requests++;
    pthread_mutex_unlock(&f->mu);
    if (strcmp(url, "/feed.xml") == 0) {
        const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
        const char *ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Modified-Since");

        pthread_mutex_lock(&f->mu);
        if ((inm != NULL && f->etag[0] != '\0' && strcmp(inm, f->etag) == 0) ||
            (inm == NULL && ims != NULL && f->last_modified[0] != '\0' &&
             strcmp(ims, f->last_modified) == 0)) {
            f->not_modified++;
            pthread_mutex_unlock(&f->mu);
            r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
            rc = MHD_queue_response(c, MHD_HTTP_NOT_MODIFIED, r);
            MHD_destroy_response(r);
            return rc;
        }
        r = MHD_create_response_from_buffer(f->len, f->body, MHD_RESPMEM_MUST_COPY);
        if (f->etag[0] != '\0')
            MHD_add_response_header(r, "ETag", f->etag);
        if (f->last_modified[0] != '\0')
            MHD_add_response_header(r, "Last-Modified", f->last_modified);
        pthread_mutex_unlock(&f->mu);
        MHD_add_response_header(r, "Content-Type", "application/rss+xml");
        rc = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (strcmp(url, "/big") == 0 || strcmp(url, "/big-chunked") == 0) {
        r = MHD_create_response_from_callback(strcmp(url, "/big") == 0 ? (uint64_t)BIG_BYTES
                                                                       : MHD_SIZE_UNKNOWN,
                                              64 * 1024, big_body, f, NULL);
        rc = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (sscanf(url, "/hop/%d", &hop) == 1) {
        char loc[64];

        if (hop <= 0)
            snprintf(loc, sizeof loc, "/feed.xml");
        else
            snprintf(loc, sizeof loc, "/hop/%d", hop - 1);
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Location", loc);
        rc = MHD_queue_response(c, MHD_HTTP_FOUND, r);
        MHD_destroy_response(r);
        return rc;
    }
    return reply(c, MHD_HTTP_NOT_FOUND, "not found", 9, "text/plain");
}

struct fake_feed *fake_feed_start(void)
{
    struct fake_feed *f = calloc(1, sizeof *f);
    struct sockaddr_in sin = {0};
    const union MHD_DaemonInfo *info;

    pthread_mutex_init(&f->mu, NULL);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                            NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_END);
    if (f->d == NULL) {
        fprintf(stderr, "fake_feed: cannot start libmicrohttpd on 127.0.0.1\n");
        abort();
    }
    info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        fprintf(stderr, "fake_feed: cannot read the bound port\n");
        abort();
    }
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", (unsigned)info->port);
    return f;
}

void fake_feed_stop(struct fake_feed *f)
{
    if (f == NULL)
        return;
    MHD_stop_daemon(f->d);
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
COUNTER(fake_feed_requests, requests, int)
COUNTER(fake_feed_not_modified, not_modified, int)
COUNTER(fake_feed_big_sent, big_sent, long long)
