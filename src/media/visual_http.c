/*
 * visual_http.c - GET, POST and DELETE for the picture and clip services; see visual_http.h.
 * libcurl's global set-up is feed_fetch_init()'s (once per process).
 *
 * Threads: any; each call makes and frees its own easy handle.
 */
#include "media/visual_http.h"

#include "core/fail.h"
#include "feeds/feed_fetch.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct answer {
    char *buf;
    size_t len, cap, max;
    bool too_big;
};

static size_t take(char *data, size_t size, size_t n, void *user)
{
    struct answer *a = user;
    size_t add = size * n;

    if (a->len + add > a->max) {
        a->too_big = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (a->len + add + 1 > a->cap) {
        a->cap = a->len + add + 1 + a->cap;
        a->buf = xrealloc(a->buf, a->cap);
    }
    memcpy(a->buf + a->len, data, add);
    a->len += add;
    a->buf[a->len] = '\0';
    return add;
}

int vhttp_request(const char *method, const char *url, const char *const *headers, const char *body,
                  int timeout_ms, size_t max_bytes, struct vhttp_result *out, char **cause)
{
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    struct answer a = {.max = max_bytes};
    CURLcode rc;
    CURL *c;

    memset(out, 0, sizeof *out);
    feed_fetch_init();
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        hl = curl_slist_append(hl, headers[i]);
    if (hl == NULL || (c = curl_easy_init()) == NULL)
        fail("out of memory making an HTTP request");
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
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "newsroom/" NEWSROOM_VERSION);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    if (rc != CURLE_OK) {
        free(a.buf);
        out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        if (a.too_big)
            *cause =
                xasprintf("%s %s: the answer is longer than %zu bytes", method, url, max_bytes);
        else if (out->timed_out)
            *cause = xasprintf("%s %s: no answer within %d ms", method, url, timeout_ms);
        else
            *cause = xasprintf("%s %s: %s", method, url, curl_easy_strerror(rc));
        return -1;
    }
    out->body = a.buf != NULL ? a.buf : xstrdup("");
    out->len = a.len;
    return 0;
}

void vhttp_result_clear(struct vhttp_result *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
