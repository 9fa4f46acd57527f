/*
 * fake_langfuse.c - the local Langfuse of the tracing tests; see fake_langfuse.h.
 *
 * Threads: libmicrohttpd answers each connection on its own thread; everything the handler
 * and the getters share is under f->mu, and a held request waits on f->cv.
 */
#include "fake_langfuse.h"

#include "fake_http.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HOLD_MAX_S 30

struct fake_langfuse {
    struct fake_http *http;
    char url[64];
    char auth[256];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum fake_lf_answer *script;
    int nscript;
    int requests, health, errors;
    bool down, released;
    char *violations;
    json_t *delivered, *delivered_ids, *sizes, *received;
    size_t max_body;
};

static const char *const types[] = {
    "trace-create",      "span-create",  "span-update",  "generation-create",
    "generation-update", "event-create", "score-create", "sdk-log"};
static const char *const levels[] = {"DEBUG", "DEFAULT", "WARNING", "ERROR"};
static const char *const time_fields[] = {"timestamp", "startTime", "endTime",
                                          "completionStartTime"};

static bool uuid_like(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
            return false;
    }
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS" then a fraction of 1 to 9 digits (milliseconds are required), "Z". */
static bool iso_time(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.";
    size_t i, n;

    if (s == NULL || strlen(s) < sizeof shape + 1)
        return false;
    for (i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
            return false;
    for (n = 0; s[i] >= '0' && s[i] <= '9'; i++)
        n++;
    return n >= 3 && n <= 9 && s[i] == 'Z' && s[i + 1] == '\0';
}

static bool one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Appends a violation (with f->mu held). */
static void violation(struct fake_langfuse *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void violation(struct fake_langfuse *f, const char *fmt, ...)
{
    char line[512], *next;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    next = malloc(strlen(f->violations) + strlen(line) + 2);
    if (next == NULL)
        abort();
    sprintf(next, "%s%s\n", f->violations, line);
    free(f->violations);
    f->violations = next;
}

static bool is_int(const json_t *v)
{
    return json_is_integer(v);
}

/* Checks one event's body against its type. Returns false after recording a violation. */
static bool check_body(struct fake_langfuse *f, const char *type, const char *eid,
                       const json_t *body)
{
    const char *id = json_string_value(json_object_get(body, "id"));
    const char *trace = json_string_value(json_object_get(body, "traceId"));
    const char *level = json_string_value(json_object_get(body, "level"));
    const json_t *mp = json_object_get(body, "modelParameters");
    const json_t *u = json_object_get(body, "usage"), *ud = json_object_get(body, "usageDetails"),
                 *cd = json_object_get(body, "costDetails"), *v;
    const char *key;

    for (size_t i = 0; i < sizeof time_fields / sizeof time_fields[0]; i++) {
        const json_t *t = json_object_get(body, time_fields[i]);

        if (t != NULL && !iso_time(json_string_value(t))) {
            violation(f, "event %s: %s is not an ISO 8601 time with milliseconds", eid,
                      time_fields[i]);
            return false;
        }
    }
    if ((strcmp(type, "trace-create") == 0 || strstr(type, "-update") != NULL) &&
        (id == NULL || *id == '\0')) {
        violation(f, "event %s (%s): the body has no id", eid, type);
        return false;
    }
    if (strcmp(type, "trace-create") != 0 && strcmp(type, "sdk-log") != 0 &&
        (trace == NULL || *trace == '\0')) {
        violation(f, "event %s (%s): no traceId", eid, type);
        return false;
    }
    if (level != NULL && !one_of(level, levels, 4)) {
        violation(f, "event %s: level %s is not DEBUG, DEFAULT, WARNING or ERROR", eid, level);
        return false;
    }
    if (strcmp(type, "score-create") == 0 &&
        (json_string_value(json_object_get(body, "name")) == NULL ||
         (!json_is_number(json_object_get(body, "value")) &&
          !json_is_string(json_object_get(body, "value"))))) {
        violation(f, "event %s: a score needs a name and a numeric or string value", eid);
        return false;
    }
    if (mp != NULL) {
        if (!json_is_object(mp)) {
            violation(f, "event %s: modelParameters is not a map", eid);
            return false;
        }
        json_object_foreach((json_t *)mp, key, v)
        {
            bool ok =
                json_is_string(v) || json_is_integer(v) || json_is_boolean(v) || json_is_null(v);

            if (json_is_array(v)) {
                size_t k;
                json_t *x;

                ok = true;
                json_array_foreach(v, k, x) ok = ok && json_is_string(x);
            }
            if (!ok) {
                violation(f, "event %s: modelParameters.%s is not a MapValue", eid, key);
                return false;
            }
        }
    }
    if (u != NULL) {
        const json_t *in = json_object_get(u, "input"), *out = json_object_get(u, "output"),
                     *tot = json_object_get(u, "total");

        if (!is_int(in) || !is_int(out) || !is_int(tot) ||
            json_integer_value(tot) != json_integer_value(in) + json_integer_value(out) ||
            !one_of(json_string_value(json_object_get(u, "unit")), (const char *const[]){"TOKENS"},
                    1) ||
            !json_is_number(json_object_get(u, "totalCost"))) {
            violation(f,
                      "event %s: usage is not {input, output, total = input + output, unit "
                      "TOKENS, costs}",
                      eid);
            return false;
        }
    }
    if (ud != NULL) {
        if (!json_is_object(ud) || json_object_size(ud) == 0) {
            violation(f, "event %s: usageDetails is not a map", eid);
            return false;
        }
        json_object_foreach((json_t *)ud, key, v) if (!is_int(v))
        {
            violation(f, "event %s: usageDetails.%s is not an integer", eid, key);
            return false;
        }
    }
    if (cd != NULL) {
        if (!json_is_object(cd) || json_object_get(cd, "total") == NULL) {
            violation(f, "event %s: costDetails is not a map with a total", eid);
            return false;
        }
        json_object_foreach((json_t *)cd, key, v) if (!json_is_number(v))
        {
            violation(f, "event %s: costDetails.%s is not a number", eid, key);
            return false;
        }
    }
    /* A generation that ends with an answer carries its usage both ways. */
    if (strcmp(type, "generation-update") == 0 && json_object_get(body, "output") != NULL &&
        (u == NULL || ud == NULL || cd == NULL)) {
        violation(f,
                  "event %s: an answered generation lacks usage, usageDetails or "
                  "costDetails",
                  eid);
        return false;
    }
    return true;
}

/* Checks a whole request body (with f->mu held); returns the batch, or NULL. */
static json_t *check_request(struct fake_langfuse *f, const struct fake_http_request *req)
{
    const char *auth = fake_http_header(req, "Authorization");
    const char *ct = fake_http_header(req, "Content-Type");
    json_t *a, *batch, *e, *seen;
    size_t i;

    if (auth == NULL || strcmp(auth, f->auth) != 0) {
        violation(f, "Authorization is not Basic base64(public key:secret key)");
        return NULL;
    }
    if (ct == NULL || strncmp(ct, "application/json", 16) != 0) {
        violation(f, "Content-Type is %s, not application/json", ct != NULL ? ct : "none");
        return NULL;
    }
    if (req->len > 3500000) {
        violation(f, "the body is over 3.5 MB");
        return NULL;
    }
    a = json_loadb(req->body, req->len, 0, NULL);
    batch = json_object_get(a, "batch");
    if (!json_is_array(batch) || json_array_size(batch) == 0) {
        violation(f, "the body is not {\"batch\": [event, ...]}");
        json_decref(a);
        return NULL;
    }
    seen = json_object();
    json_array_foreach(batch, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *type = json_string_value(json_object_get(e, "type"));

        if (!uuid_like(id)) {
            violation(f, "an event id is not a UUID: %s", id != NULL ? id : "none");
            break;
        }
        if (json_object_get(seen, id) != NULL || json_object_get(f->delivered_ids, id) != NULL) {
            violation(f, "event id %s appears twice (in the batch or already delivered)", id);
            break;
        }
        json_object_set_new(seen, id, json_true());
        if (!iso_time(json_string_value(json_object_get(e, "timestamp")))) {
            violation(f, "event %s: timestamp is not ISO 8601 with milliseconds", id);
            break;
        }
        if (!one_of(type, types, sizeof types / sizeof types[0])) {
            violation(f, "event %s: unknown type %s", id, type != NULL ? type : "none");
            break;
        }
        if (!json_is_object(json_object_get(e, "body"))) {
            violation(f, "event %s: no body object", id);
            break;
        }
        if (!check_body(f, type, id, json_object_get(e, "body")))
            break;
    }
    json_decref(seen);
    if (i < json_array_size(batch)) {
        json_decref(a);
        return NULL;
    }
    json_incref(batch);
    json_decref(a);
    return batch;
}

static enum MHD_Result reply_json(const struct fake_http_request *req, unsigned status,
                                  json_t *body, const char *retry_after)
{
    char *s = json_dumps(body, JSON_COMPACT);
    const char *headers[] = {"Content-Type", "application/json", "Retry-After", retry_after, NULL};
    enum MHD_Result rc = fake_http_reply(req->conn, status, headers, s, strlen(s));

    free(s);
    json_decref(body);
    return rc;
}

/* 207 for batch: a success per event, or with every 4th an error when mix. With f->mu held;
 * keeps the events as delivered. */
static json_t *answer_207(struct fake_langfuse *f, json_t *batch, bool mix)
{
    json_t *ok = json_array(), *bad = json_array(), *e;
    size_t i;

    json_array_foreach(batch, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));

        json_object_set_new(f->delivered_ids, id, json_true());
        if (mix && i % 4 == 0) {
            json_array_append_new(bad, json_pack("{s:s, s:i, s:s, s:{s:s}}", "id", id, "status",
                                                 400, "message", "Invalid request data", "error",
                                                 "reason", "fake: refused for the test"));
            f->errors++;
        } else {
            json_array_append_new(ok, json_pack("{s:s, s:i}", "id", id, "status", 201));
            json_array_append(f->delivered, e);
        }
    }
    return json_pack("{s:o, s:o}", "successes", ok, "errors", bad);
}

static enum MHD_Result handle(void *ctx, const struct fake_http_request *req)
{
    struct fake_langfuse *f = ctx;
    enum fake_lf_answer how;
    json_t *batch;
    struct timespec until;

    if (strcmp(req->url, "/api/public/health") == 0 && strcmp(req->method, "GET") == 0) {
        bool down;

        pthread_mutex_lock(&f->mu);
        f->health++;
        down = f->down;
        pthread_mutex_unlock(&f->mu);
        return down ? reply_json(req, 503, json_pack("{s:s}", "message", "database down"), NULL)
                    : reply_json(req, 200,
                                 json_pack("{s:s, s:s}", "status", "OK", "version", "3.29.0-fake"),
                                 NULL);
    }
    pthread_mutex_lock(&f->mu);
    if (strcmp(req->url, "/api/public/ingestion") != 0 || strcmp(req->method, "POST") != 0) {
        violation(f, "unexpected request %s %s", req->method, req->url);
        pthread_mutex_unlock(&f->mu);
        return reply_json(req, 404, json_pack("{s:s}", "message", "fake: no such route"), NULL);
    }
    how = f->script[f->requests < f->nscript ? f->requests : f->nscript - 1];
    f->requests++;
    if (req->len > f->max_body)
        f->max_body = req->len;
    batch = check_request(f, req);
    if (batch == NULL) {
        pthread_mutex_unlock(&f->mu);
        return reply_json(req, 400, json_pack("{s:s}", "message", "fake: request breaks the API"),
                          NULL);
    }
    json_array_append_new(f->sizes, json_integer((json_int_t)json_array_size(batch)));
    json_array_extend(f->received, batch);
    switch (how) {
    case FAKE_LF_HOLD:
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += HOLD_MAX_S;
        while (!f->released && pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
            ;
        if (!f->released) {
            pthread_mutex_unlock(&f->mu);
            json_decref(batch);
            return reply_json(req, 500, json_pack("{s:s}", "message", "fake: held too long"), NULL);
        }
        /* fall through */
    case FAKE_LF_OK:
    case FAKE_LF_MIX: {
        json_t *answer = answer_207(f, batch, how == FAKE_LF_MIX);

        pthread_mutex_unlock(&f->mu);
        json_decref(batch);
        return reply_json(req, 207, answer, NULL);
    }
    case FAKE_LF_SLOW:
        pthread_mutex_unlock(&f->mu);
        json_decref(batch);
        usleep(1500 * 1000);
        return reply_json(req, 500, json_pack("{s:s}", "message", "fake: too late"), NULL);
    case FAKE_LF_429:
        pthread_mutex_unlock(&f->mu);
        json_decref(batch);
        return reply_json(req, 429, json_pack("{s:s}", "message", "rate limited"), "1");
    case FAKE_LF_401:
        pthread_mutex_unlock(&f->mu);
        json_decref(batch);
        return reply_json(req, 401, json_pack("{s:s}", "message", "Invalid credentials"), NULL);
    case FAKE_LF_500:
    default:
        pthread_mutex_unlock(&f->mu);
        json_decref(batch);
        return reply_json(req, 500, json_pack("{s:s}", "message", "internal error"), NULL);
    }
}

struct fake_langfuse *fake_langfuse_start(const enum fake_lf_answer *script, int n)
{
    struct fake_langfuse *f = calloc(1, sizeof *f);
    unsigned char b64[200];
    char pair[128];
    unsigned port = 0;

    if (f == NULL || n < 1)
        abort();
    f->script = malloc((size_t)n * sizeof *f->script);
    if (f->script == NULL)
        abort();
    memcpy(f->script, script, (size_t)n * sizeof *script);
    f->nscript = n;
    f->violations = strdup("");
    f->delivered = json_array();
    f->delivered_ids = json_object();
    f->sizes = json_array();
    f->received = json_array();
    snprintf(pair, sizeof pair, "%s:%s", FAKE_LF_PUBLIC, FAKE_LF_SECRET);
    EVP_EncodeBlock(b64, (const unsigned char *)pair, (int)strlen(pair));
    snprintf(f->auth, sizeof f->auth, "Basic %s", (const char *)b64);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->http = fake_http_start("fake_langfuse", handle, f, &port);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", port);
    return f;
}

void fake_langfuse_stop(struct fake_langfuse *f)
{
    if (f == NULL)
        return;
    fake_langfuse_release(f);
    fake_http_stop(f->http);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    json_decref(f->delivered);
    json_decref(f->delivered_ids);
    json_decref(f->sizes);
    json_decref(f->received);
    free(f->violations);
    free(f->script);
    free(f);
}

const char *fake_langfuse_url(const struct fake_langfuse *f)
{
    return f->url;
}

void fake_langfuse_set_down(struct fake_langfuse *f, bool down)
{
    pthread_mutex_lock(&f->mu);
    f->down = down;
    pthread_mutex_unlock(&f->mu);
}

void fake_langfuse_release(struct fake_langfuse *f)
{
    pthread_mutex_lock(&f->mu);
    f->released = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

#define GETTER(name, field)                                                                        \
    int name(struct fake_langfuse *f)                                                              \
    {                                                                                              \
        int v;                                                                                     \
        pthread_mutex_lock(&f->mu);                                                                \
        v = f->field;                                                                              \
        pthread_mutex_unlock(&f->mu);                                                              \
        return v;                                                                                  \
    }
GETTER(fake_langfuse_requests, requests)
GETTER(fake_langfuse_health_checks, health)
GETTER(fake_langfuse_errors_answered, errors)

char *fake_langfuse_violations(struct fake_langfuse *f)
{
    char *s;

    pthread_mutex_lock(&f->mu);
    s = strdup(f->violations);
    pthread_mutex_unlock(&f->mu);
    return s;
}

json_t *fake_langfuse_delivered(struct fake_langfuse *f)
{
    json_t *a;

    pthread_mutex_lock(&f->mu);
    a = json_deep_copy(f->delivered);
    pthread_mutex_unlock(&f->mu);
    return a;
}

json_t *fake_langfuse_received(struct fake_langfuse *f)
{
    json_t *a;

    pthread_mutex_lock(&f->mu);
    a = json_deep_copy(f->received);
    pthread_mutex_unlock(&f->mu);
    return a;
}

json_t *fake_langfuse_batch_sizes(struct fake_langfuse *f)
{
    json_t *a;

    pthread_mutex_lock(&f->mu);
    a = json_deep_copy(f->sizes);
    pthread_mutex_unlock(&f->mu);
    return a;
}

size_t fake_langfuse_max_body(struct fake_langfuse *f)
{
    size_t n;

    pthread_mutex_lock(&f->mu);
    n = f->max_body;
    pthread_mutex_unlock(&f->mu);
    return n;
}
