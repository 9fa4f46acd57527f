/*
 * fake_langfuse.h - a local stand-in for Langfuse's public API, for the tracing tests:
 * libmicrohttpd on 127.0.0.1 (tests/support/fake_http.c). It checks each request against the
 * API's own definition (langfuse/langfuse fern/apis/server/definition/ingestion.yml, commons
 * and the generated OpenAPI):
 *
 *   POST /api/public/ingestion with Authorization: Basic base64(public:secret) and
 *   Content-Type: application/json; the body at most 3.5 MB, an object {"batch": [...]} with at
 *   least one event; each event {id: a UUID, unique in the batch and never one of an event
 *   already delivered, timestamp: ISO 8601 with milliseconds and Z, type: one of the
 *   documented types, body: an object}; the ids each body type requires (trace-create and the
 *   updates their id, observations their traceId, scores name, value and traceId); every time
 *   field ISO 8601; level one of DEBUG, DEFAULT, WARNING, ERROR; modelParameters values strings,
 *   integers, booleans or string lists; usage {input, output, total (= input + output)} as
 *   integers with unit TOKENS and USD costs; usageDetails integers; costDetails numbers.
 *   GET /api/public/health: 200 {"status": "OK", "version"} (or 503 when told).
 *
 * Each ingestion request is answered as the current script says, one entry per request (the
 * last entry repeats): 207 with a success per event, 207 with every Nth event an error, 500,
 * 429 with Retry-After: 1, 401, a hold (no answer until fake_langfuse_release() or past the
 * client's timeout). A violation is recorded (fake_langfuse_violations) and answered 400.
 * Events of requests answered 207 are kept as delivered (fake_langfuse_delivered).
 *
 * Threads: the server answers on its own threads; every getter and setter takes its mutex.
 */
#ifndef NEWSROOM_FAKE_LANGFUSE_H
#define NEWSROOM_FAKE_LANGFUSE_H

#include <jansson.h>
#include <stdbool.h>

#define FAKE_LF_PUBLIC "pk-lf-test-4f1c"
#define FAKE_LF_SECRET "sk-lf-test-9a7e-secret"

enum fake_lf_answer {
    FAKE_LF_OK,   /* 207, every event a success */
    FAKE_LF_MIX,  /* 207, every 4th event (0, 4, 8, ...) an error 400 */
    FAKE_LF_500,  /* 500 */
    FAKE_LF_429,  /* 429 with Retry-After: 1 */
    FAKE_LF_401,  /* 401 */
    FAKE_LF_HOLD, /* no answer until released (then 207 OK), or 2 s (then 500) */
    FAKE_LF_SLOW, /* an answer after 1.5 s: past a client's short timeout */
};

struct fake_langfuse;

/* Starts a server whose answers follow script[0..n) (n >= 1). Aborts if it cannot. */
struct fake_langfuse *fake_langfuse_start(const enum fake_lf_answer *script, int n);
void fake_langfuse_stop(struct fake_langfuse *f);
/* "http://127.0.0.1:PORT", owned by f. */
const char *fake_langfuse_url(const struct fake_langfuse *f);
/* The health check answers 503 from now on (or 200 again). */
void fake_langfuse_set_down(struct fake_langfuse *f, bool down);
/* Lets held requests answer (207 OK). */
void fake_langfuse_release(struct fake_langfuse *f);

int fake_langfuse_requests(struct fake_langfuse *f); /* ingestion requests */
int fake_langfuse_health_checks(struct fake_langfuse *f);
int fake_langfuse_errors_answered(struct fake_langfuse *f); /* per-event errors in 207s */
/* Every violation, one a line (a new string, free it; "" when none). */
char *fake_langfuse_violations(struct fake_langfuse *f);
/* The events of the requests answered 207, less those a 207 listed as errors (new reference:
 * a JSON array); and every event of every request that kept to the API, whatever its answer. */
json_t *fake_langfuse_delivered(struct fake_langfuse *f);
json_t *fake_langfuse_received(struct fake_langfuse *f);
/* The number of events in each ingestion request, in order (new reference: array). */
json_t *fake_langfuse_batch_sizes(struct fake_langfuse *f);
/* The largest request body seen, in bytes. */
size_t fake_langfuse_max_body(struct fake_langfuse *f);

#endif
