/*
 * langfuse.h - Langfuse's public ingestion API as its own definition gives it (the langfuse
 * repository's fern/apis/server/definition/ingestion.yml and the OpenAPI file generated from
 * it): POST {host}/api/public/ingestion with HTTP Basic (public key as user, secret key as
 * password) and the body {"batch": [event, ...]}, each event an envelope {id (UUID v4, unique
 * per event: Langfuse de-duplicates on it), timestamp (ISO 8601 with milliseconds), type,
 * body}; the answer is 207 with {"successes": [{id, status}], "errors": [{id, status,
 * message, error}]}; a batch is at most 3.5 MB. GET {host}/api/public/health answers 200
 * {"status", "version"} or 503.
 *
 * Threads: the pure helpers (ids, times, envelopes, answers) are safe from any thread (ids
 * come from a per-thread generator). A struct langfuse holds a CURL easy handle and belongs to
 * the thread that uses it. The keys are never logged, printed or put in a cause.
 */
#ifndef NEWSROOM_LANGFUSE_H
#define NEWSROOM_LANGFUSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "Batch sizes are limited to 3.5 MB in total": the bytes of a whole request body. */
#define LANGFUSE_BATCH_LIMIT 3500000
#define LANGFUSE_UUID_LEN    37 /* 36 characters and the NUL */
#define LANGFUSE_TIME_LEN    32

/* A new random UUID v4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") into out. */
void langfuse_uuid(char out[LANGFUSE_UUID_LEN]);
/* A UUID-shaped id that is the same for the same text (a hash of it), for observations that
 * several agents in several processes must name alike (a story's stage spans). */
void langfuse_uuid_of(const char *text, char out[LANGFUSE_UUID_LEN]);
/* ms since the epoch as "2026-11-28T10:00:00.123Z" into out; returns out. */
const char *langfuse_time(int64_t ms, char out[LANGFUSE_TIME_LEN]);

/* An envelope {id: new UUID, timestamp: now_ms, type, body}. Takes ownership of body (a JSON
 * object); returns a new reference. */
json_t *langfuse_event(const char *type, json_t *body, int64_t now_ms);

/* The request body {"batch": [e0, e1, ...]} from events already serialised as JSON text.
 * Returns a new string of *len bytes (free it). */
char *langfuse_batch_body(char *const *events, const size_t *lens, size_t n, size_t *len);
/* The bytes langfuse_batch_body() adds around and between n events. */
size_t langfuse_batch_overhead(size_t n);

/* What a status code means for a batch: delivered (200, 201, 207: per-event errors are in the
 * answer), worth another try (429, 5xx, 408), or refused for good (any other). */
enum langfuse_verdict { LANGFUSE_DELIVERED, LANGFUSE_RETRY, LANGFUSE_REFUSED };
enum langfuse_verdict langfuse_verdict(long status);

/* Reads a 207 answer: calls on_error(id, status, message, arg) for each entry of "errors"
 * (message: the "message" field, else the "error" value as JSON text, else ""), and sets
 * *successes and *errors to the sizes of the two lists. Returns 0, or -1 when the body is not
 * the documented object (both counts then 0). */
int langfuse_answer(const char *body, size_t *successes, size_t *errors,
                    void (*on_error)(const char *id, long status, const char *message, void *arg),
                    void *arg);

struct langfuse;

/* A client for host ("https://cloud.langfuse.com"; a trailing '/' is dropped) with the two
 * keys (copied; both must be non-empty to post) and a request timeout. Free with
 * langfuse_free(). */
struct langfuse *langfuse_new(const char *host, const char *public_key, const char *secret_key,
                              int timeout_ms);
void langfuse_free(struct langfuse *lf);
/* The ingestion URL; borrowed from lf. */
const char *langfuse_ingestion_url(const struct langfuse *lf);

struct langfuse_post {
    long status;            /* the HTTP status; 0: no answer (network error, timeout) */
    int64_t retry_after_ms; /* from Retry-After on a 429 or 503, else -1 */
    char *body;             /* the answer, owned (free with langfuse_post_clear) */
};
/* POSTs one batch body. Returns 0 when an answer came (any status, in *out), or -1 with
 * *cause (naming the URL and the error, never a key) when none did. */
int langfuse_post_batch(struct langfuse *lf, const char *body, struct langfuse_post *out,
                        char **cause);
void langfuse_post_clear(struct langfuse_post *p);

/* One batch delivered with its retries: POSTs body; on a network error, a timeout, 429 or 5xx
 * waits (the Retry-After of a 429 or 503, else base_ms doubling with jitter, at most max_ms)
 * through wait(ms, wait_arg), which returns false to give up (a stop), and tries again, up to
 * `attempts` requests in all. Every entry of a delivered answer's "errors" list goes to
 * on_error (langfuse_answer(); may be NULL). */
enum langfuse_outcome {
    LANGFUSE_SENT,     /* 200, 201 or 207: delivered (some events may be in errors) */
    LANGFUSE_GAVE_UP,  /* every attempt failed, or wait() said stop */
    LANGFUSE_REJECTED, /* refused for good: a 4xx other than 408 and 429 */
};
struct langfuse_delivery {
    long status;              /* the last answer's status, 0 when none came */
    int attempts;             /* requests made */
    size_t successes, errors; /* from the answer (LANGFUSE_SENT) */
    char why[300];            /* the last failure: "HTTP 503", the transport error, ... */
};
enum langfuse_outcome
langfuse_deliver(struct langfuse *lf, const char *body, int attempts, int base_ms, int max_ms,
                 bool (*wait)(int64_t ms, void *arg), void *wait_arg,
                 void (*on_error)(const char *id, long status, const char *message, void *arg),
                 void *error_arg, struct langfuse_delivery *out);

/* GET /api/public/health: 0 with version (the answer's "version", "" when it has none) when
 * the answer is 200, else -1 with *cause ("HTTP 503", "connection refused", ...). */
int langfuse_health(struct langfuse *lf, char *version, size_t size, char **cause);

/* Whether host is an http:// or https:// URL; -1 with *why otherwise (the configuration's
 * check of [observe] langfuse_host). */
int langfuse_host_check(const char *host, char **why);

#endif
