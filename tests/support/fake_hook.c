/*
 * fake_hook.c - see fake_hook.h. The signature is recomputed here with OpenSSL's HMAC, apart
 * from the code under test. Threads: one per connection (libmicrohttpd); state under h->mu.
 */
#include "fake_hook.h"

#include "fake_http.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOOK_PATH "/hooks/newsroom"
#define HOOK_KEYS 64

struct fake_hook {
    char secret[256];
    char url[80];
    struct fake_http *http;
    pthread_mutex_t mu;
    int delivered, fail_next;
    char *violation;
    char *last_body;
    struct {
        char key[160];
        int n;
    } keys[HOOK_KEYS];
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
    static const char *const headers[] = {"Content-Type", "text/plain", NULL};

    return fake_http_reply(c, status, headers, body, strlen(body));
}

static void sign(const char *secret, const char *body, char out[72])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body), md,
         &n);
    strcpy(out, "sha256=");
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* What is wrong with the request, or NULL. */
static char *check(struct fake_hook *h, const struct fake_http_request *req)
{
    const char *ct = fake_http_header(req, "Content-Type");
    const char *key = fake_http_header(req, "Idempotency-Key");
    const char *sig = fake_http_header(req, "X-Newsroom-Signature");
    const char *body = req->body;
    json_t *j, *dur, *u;
    char *why = NULL;

    if (strcmp(req->method, "POST") != 0)
        return strdup("fake: the method must be POST");
    if (strcmp(req->url, HOOK_PATH) != 0)
        return strdup("fake: the path must be " HOOK_PATH);
    if (ct == NULL || strcmp(ct, "application/json") != 0)
        return strdup("fake: Content-Type must be application/json");
    if (key == NULL || key[0] == '\0')
        return strdup("fake: Idempotency-Key is missing");
    if (h->secret[0] != '\0') {
        char want[72];

        sign(h->secret, body, want);
        if (sig == NULL || strcmp(sig, want) != 0)
            return strdup("fake: X-Newsroom-Signature is missing or wrong");
    } else if (sig != NULL) {
        return strdup("fake: a signature came without a secret");
    }
    j = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    dur = json_object_get(j, "duration_s");
    u = json_object_get(j, "url");
    if (!json_is_object(j))
        why = strdup("fake: the body is not a JSON object");
    else if (!json_is_string(json_object_get(j, "event")) ||
             strcmp(json_string_value(json_object_get(j, "event")), "story.published") != 0)
        why = strdup("fake: event must be \"story.published\"");
    else if (!json_is_string(json_object_get(j, "id")) ||
             strcmp(json_string_value(json_object_get(j, "id")), key) != 0)
        why = strdup("fake: id must be a string equal to the Idempotency-Key");
    else if (!json_is_string(json_object_get(j, "title")) ||
             !json_is_string(json_object_get(j, "path")) ||
             !json_is_string(json_object_get(j, "published_at")))
        why = strdup("fake: title, path and published_at must be strings");
    else if (dur == NULL || !(json_is_number(dur) || json_is_null(dur)))
        why = strdup("fake: duration_s must be a number or null");
    else if (u == NULL || !(json_is_string(u) || json_is_null(u)))
        why = strdup("fake: url must be a string or null");
    json_decref(j);
    return why;
}

static enum MHD_Result on_request(void *cls, const struct fake_http_request *req)
{
    struct fake_hook *h = cls;
    struct MHD_Connection *c = req->conn;
    char *why = check(h, req);
    const char *key = fake_http_header(req, "Idempotency-Key");
    bool fail = false;

    pthread_mutex_lock(&h->mu);
    if (why != NULL) {
        free(h->violation);
        h->violation = why;
        pthread_mutex_unlock(&h->mu);
        return reply(c, 400, "bad request");
    }
    if (h->fail_next > 0) {
        h->fail_next--;
        fail = true;
    } else {
        int slot = -1;

        h->delivered++;
        free(h->last_body);
        h->last_body = strdup(req->body);
        for (int i = 0; i < HOOK_KEYS && slot < 0; i++)
            if (h->keys[i].n == 0 || strcmp(h->keys[i].key, key) == 0)
                slot = i;
        if (slot >= 0) {
            snprintf(h->keys[slot].key, sizeof h->keys[slot].key, "%s", key);
            h->keys[slot].n++;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return fail ? reply(c, 500, "try again") : reply(c, 200, "ok");
}

struct fake_hook *fake_hook_start(const char *secret)
{
    struct fake_hook *h = calloc(1, sizeof *h);
    unsigned port;

    snprintf(h->secret, sizeof h->secret, "%s", secret != NULL ? secret : "");
    pthread_mutex_init(&h->mu, NULL);
    h->http = fake_http_start("fake_hook", on_request, h, &port);
    snprintf(h->url, sizeof h->url, "http://127.0.0.1:%u" HOOK_PATH, port);
    return h;
}

void fake_hook_stop(struct fake_hook *h)
{
    if (h == NULL)
        return;
    fake_http_stop(h->http);
    pthread_mutex_destroy(&h->mu);
    free(h->violation);
    free(h->last_body);
    free(h);
}

const char *fake_hook_url(const struct fake_hook *h)
{
    return h->url;
}

void fake_hook_fail(struct fake_hook *h, int n)
{
    pthread_mutex_lock(&h->mu);
    h->fail_next = n;
    pthread_mutex_unlock(&h->mu);
}

int fake_hook_requests(struct fake_hook *h)
{
    return fake_http_requests(h->http);
}

int fake_hook_delivered(struct fake_hook *h)
{
    int n;

    pthread_mutex_lock(&h->mu);
    n = h->delivered;
    pthread_mutex_unlock(&h->mu);
    return n;
}

int fake_hook_count(struct fake_hook *h, const char *key)
{
    int n = 0;

    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < HOOK_KEYS; i++)
        if (h->keys[i].n > 0 && strcmp(h->keys[i].key, key) == 0)
            n = h->keys[i].n;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static char *copy_locked(struct fake_hook *h, char *const *slot)
{
    char *s;

    pthread_mutex_lock(&h->mu);
    s = *slot != NULL ? strdup(*slot) : NULL;
    pthread_mutex_unlock(&h->mu);
    return s;
}

char *fake_hook_violation(struct fake_hook *h)
{
    return copy_locked(h, &h->violation);
}

char *fake_hook_last_body(struct fake_hook *h)
{
    return copy_locked(h, &h->last_body);
}
