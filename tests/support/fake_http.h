/*
 * fake_http.h - what the local fake servers of the tests share (fake_llm, fake_hook, fake_tts,
 * fake_feed): libmicrohttpd on 127.0.0.1 at a port the kernel picks, one thread per
 * connection, the request body gathered across the calls of the access handler, a request
 * count, and a helper that queues a response with a status, headers and a body.
 *
 * Threads: the handler runs on libmicrohttpd's threads, one per connection; it guards its own
 * state. fake_http_requests() takes the server's mutex.
 */
#ifndef NEWSROOM_FAKE_HTTP_H
#define NEWSROOM_FAKE_HTTP_H

#include <microhttpd.h>
#include <stddef.h>

struct fake_http;

/* One whole request: body is the upload, NUL-terminated (len bytes before the NUL, "" when
 * there was none); seq is its number since the start, from 1. All borrowed for the call. */
struct fake_http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *body;
    size_t len;
    int seq;
};

/* Answers req, usually with fake_http_reply(); returns what MHD_queue_response() returned. */
typedef enum MHD_Result (*fake_http_handler)(void *ctx, const struct fake_http_request *req);

/* Starts a server that calls handler(ctx, ...) once per request, after the whole body came,
 * and sets *port to its port. name prefixes the message when it cannot start, which aborts
 * the test program. Free with fake_http_stop(). */
struct fake_http *fake_http_start(const char *name, fake_http_handler handler, void *ctx,
                                  unsigned *port);
/* Stops the server (waiting for its threads) and frees it; NULL is a no-op. */
void fake_http_stop(struct fake_http *h);
/* Requests handed to the handler so far. */
int fake_http_requests(struct fake_http *h);

/* The request header name, or NULL; borrowed from the connection. */
const char *fake_http_header(const struct fake_http_request *req, const char *name);

/* Queues a response with status, len bytes of body (copied; NULL when len is 0) and headers,
 * a NULL-terminated list of name, value pairs (a pair whose value is NULL is left out;
 * headers may be NULL). Returns what MHD_queue_response() returned. */
enum MHD_Result fake_http_reply(struct MHD_Connection *c, unsigned status,
                                const char *const *headers, const void *body, size_t len);

#endif
