/*
 * metrics_http.c - the /metrics server; see metrics_http.h. libmicrohttpd runs without a
 * thread of its own: the server thread calls MHD_run_wait() in a loop, so the access handler,
 * and with it every collector and the Redis link, runs on that one thread. The stop flag is
 * an atomic the loop reads every 200 ms at most.
 */
#include "observe/metrics_http.h"

#include "core/fail.h"
#include "core/log.h"
#include "observe/metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define METRICS_HTTP_COLLECTORS 16
#define METRICS_HTTP_WAIT_MS    200

struct metrics_http {
    char host[256];
    int port;
    struct metrics *m;
    struct redis_addr addr;
    struct rlink_options lo;
    bool has_addr;
    struct {
        metrics_collector fn;
        void *arg;
    } collectors[METRICS_HTTP_COLLECTORS];
    int ncollectors;
    struct MHD_Daemon *d;
    struct rlink *l; /* the server thread's */
    pthread_t thread;
    bool started;
    atomic_int stop;
    atomic_long scrapes;
};

int metrics_listen_parse(const char *listen, char *host, size_t size, int *port, char **why)
{
    const char *colon, *h = listen;
    size_t hl;
    char *end;
    long p;

    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');

        if (close == NULL || close[1] != ':') {
            *why = xasprintf("\"%s\" is not [IPv6]:PORT", listen);
            return -1;
        }
        h = listen + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL || colon == listen || memchr(listen, ':', (size_t)(colon - listen))) {
            *why = xasprintf("\"%s\" is not HOST:PORT (e.g. 127.0.0.1:9464)", listen);
            return -1;
        }
        hl = (size_t)(colon - listen);
    }
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 || p > 65535) {
        *why = xasprintf("\"%s\": the port is not a number from 0 to 65535", listen);
        return -1;
    }
    if (hl == 0 || hl >= size) {
        *why = xasprintf("\"%s\": no host, or one too long", listen);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

int metrics_listen_check(const char *listen, char **why)
{
    char host[256];
    int port;

    return listen[0] == '\0' ? 0 : metrics_listen_parse(listen, host, sizeof host, &port, why);
}

struct metrics_http *metrics_http_new(const char *listen, struct metrics *m,
                                      const struct redis_addr *addr, const struct rlink_options *lo,
                                      char **cause)
{
    struct metrics_http *h = xcalloc(1, sizeof *h);
    char *why = NULL;

    if (metrics_listen_parse(listen, h->host, sizeof h->host, &h->port, &why) == -1) {
        *cause = xasprintf("metrics address: %s", why);
        free(why);
        free(h);
        return NULL;
    }
    h->m = m;
    if (addr != NULL) {
        h->addr = *addr;
        h->has_addr = true;
        if (lo != NULL)
            h->lo = *lo;
    }
    return h;
}

void metrics_http_add(struct metrics_http *h, metrics_collector fn, void *arg)
{
    if (h->ncollectors >= METRICS_HTTP_COLLECTORS)
        fail("metrics: more than %d collectors", METRICS_HTTP_COLLECTORS);
    h->collectors[h->ncollectors].fn = fn;
    h->collectors[h->ncollectors++].arg = arg;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, body != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    MHD_add_response_header(r, "Content-Type", type);
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    static int first;
    struct metrics_http *h = cls;
    struct metrics_text t = {0};

    (void)version;
    (void)upload;
    if (*con_cls == NULL) {
        *con_cls = &first; /* the headers came; the answer goes on the next call */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        *upload_size = 0; /* no body is wanted: it is read and dropped */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, 405, "text/plain; charset=utf-8", xstrdup("GET /metrics\n"), 13);
    if (strcmp(url, "/metrics") != 0)
        return reply(c, 404, "text/plain; charset=utf-8", xstrdup("see /metrics\n"), 13);
    if (h->has_addr && h->l == NULL) {
        struct rlink_options lo = h->lo;

        lo.client_name = "nr-metrics";
        lo.quiet = true;
        h->l = rlink_new(&h->addr, &lo);
    }
    if (h->m != NULL)
        metrics_render(h->m, &t);
    for (int i = 0; i < h->ncollectors; i++)
        h->collectors[i].fn(&t, h->l, h->collectors[i].arg);
    if (t.p == NULL)
        metrics_text_printf(&t, "%s", "");
    atomic_fetch_add(&h->scrapes, 1);
    return reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", t.p, t.len);
}

static void *metrics_http_main(void *arg)
{
    struct metrics_http *h = arg;

    while (!atomic_load(&h->stop))
        MHD_run_wait(h->d, METRICS_HTTP_WAIT_MS);
    rlink_free(h->l);
    h->l = NULL;
    return NULL;
}

int metrics_http_start(struct metrics_http *h, char **cause)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char port[16];
    const union MHD_DaemonInfo *info;
    unsigned flags = 0;
    int rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof port, "%d", h->port);
    if ((rc = getaddrinfo(h->host, port, &hints, &ai)) != 0) {
        *cause = xasprintf("metrics address %s:%d: %s", h->host, h->port, gai_strerror(rc));
        return -1;
    }
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d =
        MHD_start_daemon(flags, (uint16_t)h->port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                         ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (h->d == NULL) {
        *cause = xasprintf("cannot serve metrics on %s:%d (the address is in use, or not this "
                           "machine's)",
                           h->host, h->port);
        return -1;
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info != NULL && info->port != 0)
        h->port = info->port;
    atomic_store(&h->stop, 0);
    if ((rc = pthread_create(&h->thread, NULL, metrics_http_main, h)) != 0) {
        MHD_stop_daemon(h->d);
        h->d = NULL;
        *cause = xasprintf("cannot start the metrics server: %s", strerror(rc));
        return -1;
    }
    h->started = true;
    log_info("metrics: serving http://%s%s%s:%d/metrics", strchr(h->host, ':') ? "[" : "", h->host,
             strchr(h->host, ':') ? "]" : "", h->port);
    return 0;
}

int metrics_http_port(const struct metrics_http *h)
{
    return h->port;
}

long metrics_http_scrapes(const struct metrics_http *h)
{
    return atomic_load(&((struct metrics_http *)h)->scrapes);
}

int64_t metrics_http_cpu_us(const struct metrics_http *h)
{
    clockid_t clock;
    struct timespec ts;

    if (!h->started || pthread_getcpuclockid(h->thread, &clock) != 0 ||
        clock_gettime(clock, &ts) == -1)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void metrics_http_stop(struct metrics_http *h)
{
    if (h == NULL || !h->started)
        return;
    atomic_store(&h->stop, 1);
    pthread_join(h->thread, NULL);
    MHD_stop_daemon(h->d);
    h->d = NULL;
    h->started = false;
}

void metrics_http_free(struct metrics_http *h)
{
    if (h == NULL)
        return;
    metrics_http_stop(h);
    free(h);
}
