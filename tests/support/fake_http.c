/*
 * fake_http.c - the libmicrohttpd plumbing the fake servers share; see fake_http.h.
 *
 * Threads: one per connection (libmicrohttpd); the request count under h->mu.
 */
#include "fake_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_http {
    struct MHD_Daemon *d;
    fake_http_handler handler;
    void *ctx;
    pthread_mutex_t mu;
    int requests;
};

/* The body of one request, gathered across the calls of the access handler. */
struct upload {
    char *buf;
    size_t len;
};

static void *must(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "fake_http: out of memory\n");
        abort();
    }
    return p;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct fake_http *h = cls;
    struct upload *u = *con_cls;
    struct fake_http_request req;

    (void)version;
    if (u == NULL) {
        u = must(calloc(1, sizeof *u));
        u->buf = must(calloc(1, 1));
        *con_cls = u;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        u->buf = must(realloc(u->buf, u->len + *upload_data_size + 1));
        memcpy(u->buf + u->len, upload_data, *upload_data_size);
        u->len += *upload_data_size;
        u->buf[u->len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&h->mu);
    req.seq = ++h->requests;
    pthread_mutex_unlock(&h->mu);
    req.conn = c;
    req.method = method;
    req.url = url;
    req.body = u->buf;
    req.len = u->len;
    return h->handler(h->ctx, &req);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
    struct upload *u = *con_cls;

    (void)cls;
    (void)c;
    (void)why;
    if (u != NULL) {
        free(u->buf);
        free(u);
        *con_cls = NULL;
    }
}

struct fake_http *fake_http_start(const char *name, fake_http_handler handler, void *ctx,
                                  unsigned *port)
{
    struct fake_http *h = must(calloc(1, sizeof *h));
    struct sockaddr_in sin = {0};
    const union MHD_DaemonInfo *info;

    h->handler = handler;
    h->ctx = ctx;
    pthread_mutex_init(&h->mu, NULL);
    sin.sin_family = AF_INET;
    sin.sin_port = 0;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                            NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, &sin,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, h, MHD_OPTION_END);
    if (h->d == NULL) {
        fprintf(stderr, "%s: cannot start libmicrohttpd on 127.0.0.1\n", name);
        abort();
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        fprintf(stderr, "%s: cannot read the bound port\n", name);
        abort();
    }
    *port = info->port;
    return h;
}

void fake_http_stop(struct fake_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int fake_http_requests(struct fake_http *h)
{
    int n;

    pthread_mutex_lock(&h->mu);
    n = h->requests;
    pthread_mutex_unlock(&h->mu);
    return n;
}

const char *fake_http_header(const struct fake_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

enum MHD_Result fake_http_reply(struct MHD_Connection *c, unsigned status,
                                const char *const *headers, const void *body, size_t len)
{
    struct MHD_Response *r =
        len > 0
            ? MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY)
            : MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    if (r == NULL)
        return MHD_NO;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i += 2)
        if (headers[i + 1] != NULL)
            MHD_add_response_header(r, headers[i], headers[i + 1]);
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}
