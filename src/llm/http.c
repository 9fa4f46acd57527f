/*
 * http.c - HTTP requests over libcurl for the network providers (and the picture services); see
 * http.h. Each llm_http owns one CURL easy handle and is used by one thread at a time;
 * curl_global_init runs once, guarded by pthread_once.
 */
#include "llm/http.h"

#include "core/clock.h"
#include "core/fail.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct llm_http {
    CURL *curl;
};

struct sink {
    char *buf;
    size_t len, cap, max;
    bool too_big;
    int64_t retry_after_ms;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fail("curl_global_init failed");
}

struct llm_http *llm_http_new(void)
{
    struct llm_http *h = xcalloc(1, sizeof *h);

    pthread_once(&global_once, global_init);
    h->curl = curl_easy_init();
    if (h->curl == NULL)
        fail("curl_easy_init failed");
    return h;
}

void llm_http_free(struct llm_http *h)
{
    if (h == NULL)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    struct sink *s = user;
    size_t add = size * n;

    if (s->len + add > s->max) {
        s->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (s->len + add + 1 > s->cap) {
        s->cap = (s->len + add + 1) * 2;
        s->buf = xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

/* Retry-After is either delay-seconds or an HTTP date (RFC 9110 10.2.3). */
static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    struct sink *s = user;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    char value[128];

    if (len > sizeof name - 1 && len - (sizeof name - 1) < sizeof value &&
        strncasecmp(data, name, sizeof name - 1) == 0) {
        size_t vl = len - (sizeof name - 1);
        char *v = value, *end;
        long secs;

        memcpy(value, data + sizeof name - 1, vl);
        value[vl] = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\r\n")] = '\0';
        secs = strtol(v, &end, 10);
        if (end != v && *end == '\0' && secs >= 0) {
            s->retry_after_ms = (int64_t)secs * 1000;
        } else {
            time_t when = curl_getdate(v, NULL);

            if (when != -1) {
                int64_t d = (int64_t)when * 1000 - clock_wall_ms();
                s->retry_after_ms = d > 0 ? d : 0;
            }
        }
    }
    return len;
}

int llm_http_request(struct llm_http *h, const char *method, const char *url,
                     const char *const *headers, const char *body, int timeout_ms, size_t max_bytes,
                     struct llm_http_result *out, char **cause)
{
    struct curl_slist *hl = NULL;
    struct sink s = {.max = max_bytes, .retry_after_ms = -1};
    CURLcode rc;
    CURL *c = h->curl;

    memset(out, 0, sizeof *out);
    out->retry_after_ms = -1;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        struct curl_slist *next = curl_slist_append(hl, headers[i]);

        if (next == NULL)
            fail("out of memory building HTTP headers");
        hl = next;
    }
    /* No "Expect: 100-continue" round trip on larger bodies. */
    {
        struct curl_slist *next = curl_slist_append(hl, "Expect:");

        if (next == NULL)
            fail("out of memory building HTTP headers");
        hl = next;
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body != NULL ? strlen(body) : 0));
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 10000 ? timeout_ms : 10000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "newsroom/" NEWSROOM_VERSION);
    rc = curl_easy_perform(c);
    curl_slist_free_all(hl);
    if (rc != CURLE_OK) {
        free(s.buf);
        out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        out->too_big = s.too_big;
        if (s.too_big)
            *cause =
                xasprintf("%s %s: the answer is longer than %zu bytes", method, url, max_bytes);
        else if (out->timed_out)
            *cause = xasprintf("%s %s: no answer within %d ms", method, url, timeout_ms);
        else
            *cause = xasprintf("%s %s: %s", method, url, curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = s.buf != NULL ? s.buf : xstrdup("");
    out->len = s.len;
    out->retry_after_ms = s.retry_after_ms;
    return 0;
}

int llm_http_post(struct llm_http *h, const char *url, const char *const *headers, const char *body,
                  int timeout_ms, size_t max_bytes, struct llm_http_result *out, char **cause)
{
    return llm_http_request(h, "POST", url, headers, body, timeout_ms, max_bytes, out, cause);
}

void llm_http_result_clear(struct llm_http_result *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
