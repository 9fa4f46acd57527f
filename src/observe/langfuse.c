/*
 * langfuse.c - the ingestion API's envelopes, batch bodies and answers, and its two requests;
 * see langfuse.h. Ids come from a per-thread generator (xoshiro256** seeded from getrandom),
 * so making one takes no lock and no system call. A struct langfuse owns a CURL easy handle
 * (the POST goes through llm/http.h, the one HTTP client the project has) and belongs to one
 * thread.
 */
#include "observe/langfuse.h"

#include "core/clock.h"
#include "core/fail.h"
#include "llm/http.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* The answer of Langfuse is small (a status per event); anything longer is cut. */
#define LANGFUSE_ANSWER_MAX (4u << 20)

struct langfuse {
    struct llm_http *http;
    char *base;      /* host without a trailing '/' */
    char *ingestion; /* base + /api/public/ingestion */
    char *auth;      /* "Authorization: Basic ..." */
    int timeout_ms;
};

/* ---- ids and times ---- */

static _Thread_local uint64_t rng[4];
static _Thread_local int rng_ready;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
    uint64_t r, t;

    if (!rng_ready) {
        if (getrandom(rng, sizeof rng, 0) != (ssize_t)sizeof rng) {
            /* No entropy source: time and the stack address still separate threads. */
            rng[0] = (uint64_t)clock_mono_us() ^ 0x9e3779b97f4a7c15ULL;
            rng[1] = (uint64_t)(uintptr_t)&r;
            rng[2] = (uint64_t)clock_wall_ms();
            rng[3] = 0x2545f4914f6cdd1dULL;
        }
        rng_ready = 1;
    }
    r = rotl(rng[1] * 5, 7) * 9;
    t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return r;
}

/* 16 bytes as a UUID with the version nibble v and the RFC 4122 variant. */
static void uuid_format(unsigned char b[16], int v, char out[LANGFUSE_UUID_LEN])
{
    static const char hex[] = "0123456789abcdef";
    int j = 0;

    b[6] = (unsigned char)((b[6] & 0x0f) | (v << 4));
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[j++] = '-';
        out[j++] = hex[b[i] >> 4];
        out[j++] = hex[b[i] & 15];
    }
    out[j] = '\0';
}

void langfuse_uuid(char out[LANGFUSE_UUID_LEN])
{
    uint64_t a = rng_next(), c = rng_next();
    unsigned char b[16];

    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    uuid_format(b, 4, out);
}

/* SHA-256, fetched from its provider once: SHA256() fetches it on every call, which costs more
 * than hashing a stage's name. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void langfuse_uuid_of(const char *text, char out[LANGFUSE_UUID_LEN])
{
    unsigned char d[EVP_MAX_MD_SIZE];

    pthread_once(&sha256_once, sha256_fetch);
    if (sha256_md == NULL || EVP_Digest(text, strlen(text), d, NULL, sha256_md, NULL) != 1)
        SHA256((const unsigned char *)text, strlen(text), d);
    /* Version 8 is the RFC 9562 "custom" UUID: a hash that is not SHA-1 (v5) is one. */
    uuid_format(d, 8, out);
}

/* n digits of v into out. */
static void digits(char *out, unsigned v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* The second this thread formatted last, and its text up to the milliseconds: most events of
 * a thread fall in the second of the one before. */
static _Thread_local int64_t time_secs = INT64_MIN;
static _Thread_local char time_text[LANGFUSE_TIME_LEN];

const char *langfuse_time(int64_t ms, char out[LANGFUSE_TIME_LEN])
{
    /* The civil date of a day count (H. Hinnant's civil_from_days), without gmtime_r() and
     * strftime(): every trace event carries a time or three, and this is on agents' threads. */
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000), frac = ms - secs * 1000;

    if (secs != time_secs) {
        int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
        int64_t sod = secs - days * 86400;
        int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, year;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
        unsigned day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;

        year = (int64_t)yoe + era * 400 + (month <= 2);
        if (year < 0 || year > 9999) /* not a time an event has: kept in the format */
            year = year < 0 ? 0 : 9999;
        memcpy(time_text, "0000-00-00T00:00:00.000Z", 25);
        digits(time_text, (unsigned)year, 4);
        digits(time_text + 5, month, 2);
        digits(time_text + 8, day, 2);
        digits(time_text + 11, (unsigned)(sod / 3600), 2);
        digits(time_text + 14, (unsigned)(sod / 60 % 60), 2);
        digits(time_text + 17, (unsigned)(sod % 60), 2);
        time_secs = secs;
    }
    memcpy(out, time_text, 25);
    digits(out + 20, (unsigned)frac, 3);
    return out;
}

/* ---- batches and answers ---- */

size_t langfuse_batch_overhead(size_t n)
{
    /* {"batch":[ ... ]} and a comma between two events. */
    return sizeof "{\"batch\":[]}" - 1 + (n > 0 ? n - 1 : 0);
}

char *langfuse_batch_body(char *const *events, const size_t *lens, size_t n, size_t *len)
{
    size_t total = langfuse_batch_overhead(n), at = 0;
    char *out;

    for (size_t i = 0; i < n; i++)
        total += lens[i];
    out = xmalloc(total + 1);
    memcpy(out, "{\"batch\":[", 10);
    at = 10;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            out[at++] = ',';
        memcpy(out + at, events[i], lens[i]);
        at += lens[i];
    }
    memcpy(out + at, "]}", 2);
    at += 2;
    out[at] = '\0';
    *len = at;
    return out;
}

enum langfuse_verdict langfuse_verdict(long status)
{
    if (status == 200 || status == 201 || status == 207)
        return LANGFUSE_DELIVERED;
    if (status == 429 || status == 408 || (status >= 500 && status <= 599))
        return LANGFUSE_RETRY;
    return LANGFUSE_REFUSED;
}

int langfuse_answer(const char *body, size_t *successes, size_t *errors,
                    void (*on_error)(const char *id, long status, const char *message, void *arg),
                    void *arg)
{
    json_t *a = json_loads(body, 0, NULL), *ok, *bad, *e;
    size_t i;

    *successes = *errors = 0;
    ok = json_object_get(a, "successes");
    bad = json_object_get(a, "errors");
    if (!json_is_array(ok) || !json_is_array(bad)) {
        json_decref(a);
        return -1;
    }
    *successes = json_array_size(ok);
    *errors = json_array_size(bad);
    json_array_foreach(bad, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        json_t *st = json_object_get(e, "status");
        char *detail = NULL;

        if (msg == NULL && json_object_get(e, "error") != NULL)
            msg = detail = json_dumps(json_object_get(e, "error"), JSON_COMPACT | JSON_ENCODE_ANY);
        if (on_error != NULL)
            on_error(id != NULL ? id : "?", json_is_integer(st) ? (long)json_integer_value(st) : 0,
                     msg != NULL ? msg : "", arg);
        free(detail);
    }
    json_decref(a);
    return 0;
}

/* ---- the client ---- */

struct langfuse *langfuse_new(const char *host, const char *public_key, const char *secret_key,
                              int timeout_ms)
{
    struct langfuse *lf = xcalloc(1, sizeof *lf);
    size_t n = strlen(host);
    char *pair = xasprintf("%s:%s", public_key, secret_key);
    unsigned char *b64 = xmalloc(4 * ((strlen(pair) + 2) / 3) + 1);

    while (n > 0 && host[n - 1] == '/')
        n--;
    lf->base = xasprintf("%.*s", (int)n, host);
    lf->ingestion = xasprintf("%s/api/public/ingestion", lf->base);
    EVP_EncodeBlock(b64, (const unsigned char *)pair, (int)strlen(pair));
    lf->auth = xasprintf("Authorization: Basic %s", (const char *)b64);
    /* The keys live on in lf->auth only; the copies made here are wiped. */
    memset(pair, 0, strlen(pair));
    memset(b64, 0, strlen((const char *)b64));
    free(pair);
    free(b64);
    lf->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    lf->http = llm_http_new();
    return lf;
}

void langfuse_free(struct langfuse *lf)
{
    if (lf == NULL)
        return;
    llm_http_free(lf->http);
    if (lf->auth != NULL)
        memset(lf->auth, 0, strlen(lf->auth));
    free(lf->auth);
    free(lf->ingestion);
    free(lf->base);
    free(lf);
}

const char *langfuse_ingestion_url(const struct langfuse *lf)
{
    return lf->ingestion;
}

int langfuse_post_batch(struct langfuse *lf, const char *body, struct langfuse_post *out,
                        char **cause)
{
    const char *headers[] = {lf->auth, "Content-Type: application/json", "Accept: application/json",
                             NULL};
    struct llm_http_result r;

    memset(out, 0, sizeof *out);
    out->retry_after_ms = -1;
    if (llm_http_post(lf->http, lf->ingestion, headers, body, lf->timeout_ms, LANGFUSE_ANSWER_MAX,
                      &r, cause) == -1)
        return -1;
    out->status = r.status;
    out->retry_after_ms = r.retry_after_ms;
    out->body = r.body;
    return 0;
}

void langfuse_post_clear(struct langfuse_post *p)
{
    free(p->body);
    p->body = NULL;
}

/* The wait before attempt k+1 (k >= 1 attempts made): Retry-After when the server gave one,
 * else base * 2^(k-1) capped at max, then half to all of it, so many processes do not come
 * back in step. */
static int64_t backoff_ms(int k, int64_t retry_after_ms, int base_ms, int max_ms)
{
    int64_t d;

    if (retry_after_ms >= 0)
        return retry_after_ms < max_ms ? retry_after_ms : max_ms;
    d = (int64_t)base_ms << (k - 1 < 20 ? k - 1 : 20);
    if (d > max_ms)
        d = max_ms;
    return d / 2 + (int64_t)(rng_next() % (uint64_t)(d / 2 + 1));
}

enum langfuse_outcome
langfuse_deliver(struct langfuse *lf, const char *body, int attempts, int base_ms, int max_ms,
                 bool (*wait)(int64_t ms, void *arg), void *wait_arg,
                 void (*on_error)(const char *id, long status, const char *message, void *arg),
                 void *error_arg, struct langfuse_delivery *out)
{
    memset(out, 0, sizeof *out);
    for (;;) {
        struct langfuse_post p;
        char *cause = NULL;
        int rc = langfuse_post_batch(lf, body, &p, &cause);
        int64_t retry_after = -1;

        out->attempts++;
        out->status = rc == 0 ? p.status : 0;
        if (rc == 0 && langfuse_verdict(p.status) == LANGFUSE_DELIVERED) {
            if (langfuse_answer(p.body, &out->successes, &out->errors, on_error, error_arg) == -1 &&
                p.status == 207)
                snprintf(out->why, sizeof out->why, "a 207 without successes and errors");
            langfuse_post_clear(&p);
            return LANGFUSE_SENT;
        }
        if (rc == 0) {
            snprintf(out->why, sizeof out->why, "HTTP %ld%s: %.120s", p.status,
                     p.status == 401 || p.status == 403 ? " (check the Langfuse keys)" : "",
                     p.body != NULL ? p.body : "");
            retry_after = p.retry_after_ms;
        } else {
            snprintf(out->why, sizeof out->why, "%s", cause);
            free(cause);
        }
        langfuse_post_clear(&p);
        if (rc == 0 && langfuse_verdict(p.status) == LANGFUSE_REFUSED)
            return LANGFUSE_REJECTED;
        if (out->attempts >= attempts)
            return LANGFUSE_GAVE_UP;
        if (wait == NULL)
            clock_sleep_ms(backoff_ms(out->attempts, retry_after, base_ms, max_ms), NULL);
        else if (!wait(backoff_ms(out->attempts, retry_after, base_ms, max_ms), wait_arg))
            return LANGFUSE_GAVE_UP;
    }
}

struct sink {
    char buf[4096];
    size_t len;
};

static size_t on_health_body(char *data, size_t size, size_t n, void *user)
{
    struct sink *s = user;
    size_t add = size * n, room = sizeof s->buf - 1 - s->len;

    if (add > room)
        add = room;
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return size * n;
}

int langfuse_health(struct langfuse *lf, char *version, size_t size, char **cause)
{
    char *url = xasprintf("%s/api/public/health", lf->base);
    struct sink s = {.len = 0};
    CURL *c = curl_easy_init();
    CURLcode rc;
    long status = 0;
    json_t *a;
    int out = -1;

    if (c == NULL)
        fail("curl_easy_init failed");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(lf->timeout_ms < 5000 ? lf->timeout_ms : 5000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_health_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "newsroom/" NEWSROOM_VERSION);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        *cause = xasprintf("GET %s: %s", url, curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        *cause = xasprintf("GET %s: HTTP %ld", url, status);
        goto out;
    }
    a = json_loads(s.buf, 0, NULL);
    snprintf(version, size, "%s",
             json_string_value(json_object_get(a, "version")) != NULL
                 ? json_string_value(json_object_get(a, "version"))
                 : "");
    json_decref(a);
    out = 0;
out:
    curl_easy_cleanup(c);
    free(url);
    return out;
}

int langfuse_host_check(const char *host, char **why)
{
    if (strncmp(host, "http://", 7) == 0 && host[7] != '\0')
        return 0;
    if (strncmp(host, "https://", 8) == 0 && host[8] != '\0')
        return 0;
    *why = xasprintf("\"%s\" is not an http:// or https:// URL", host);
    return -1;
}
