/*
 * publish.c - the publish folder's place, story ids that can name a folder, and the publish
 * webhook; see publish.h. No state between calls: each webhook has its own CURL easy handle, so
 * any thread may call anything here (curl_global_init runs once, guarded by pthread_once).
 */
#include "agents/publish.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "media/store.h"
#include "store/news_item.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *publish_dir(const struct config *c)
{
    return pstore_area_dir(c, PSTORE_PUBLISHED);
}

bool publish_id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > NEWS_ID_MAX || id[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

void publish_sign(const char *secret, const char *body, size_t len, char out[72])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, md,
             &mdlen) == NULL)
        fail("HMAC-SHA256 failed");
    memcpy(out, "sha256=", 7);
    for (unsigned int i = 0; i < mdlen && i < 32; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[7 + 2 * i + 1] = hex[md[i] & 15];
    }
    out[7 + 64] = '\0';
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fail("curl_global_init failed");
}

/* The answer's body is not kept: only its status matters. */
static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *h)
{
    struct curl_slist *next = curl_slist_append(l, h);

    if (next == NULL)
        fail("out of memory building HTTP headers");
    return next;
}

int publish_webhook(const char *url, const char *secret, int timeout_ms, const char *key,
                    const char *body, long *status, char **cause)
{
    struct curl_slist *hl = NULL;
    char *idem = xasprintf("Idempotency-Key: %s", key);
    CURLcode rc;
    CURL *c;

    *status = 0;
    pthread_once(&curl_once, curl_init_once);
    if ((c = curl_easy_init()) == NULL)
        fail("curl_easy_init failed");
    hl = add_header(hl, "Content-Type: application/json");
    hl = add_header(hl, idem);
    hl = add_header(hl, "Expect:");
    if (secret != NULL && secret[0] != '\0') {
        char sig[72], *h;

        publish_sign(secret, body, strlen(body), sig);
        h = xasprintf("X-Newsroom-Signature: %s", sig);
        hl = add_header(hl, h);
        free(h);
    }
    free(idem);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "newsroom/" NEWSROOM_VERSION);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        *cause = rc == CURLE_OPERATION_TIMEDOUT
                     ? xasprintf("webhook: no answer within %d ms", timeout_ms)
                     : xasprintf("webhook: %s", curl_easy_strerror(rc));
        return -1;
    }
    if (*status < 200 || *status > 299) {
        *cause = xasprintf("webhook: answered HTTP %ld", *status);
        return -1;
    }
    return 0;
}
