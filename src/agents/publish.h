/*
 * publish.h - what the publisher does outside Redis besides the package store (media/store.h,
 * which writes the published package: a folder with pstore_folder_write(), or S3 objects): the
 * publish folder's place, which story ids can name a folder, and the "story.published" webhook,
 * signed with HMAC-SHA256 when a secret is configured.
 *
 * Threads: any thread; publish_webhook() makes and frees its own CURL easy handle, and nothing
 * here keeps state between calls.
 */
#ifndef NEWSROOM_PUBLISH_H
#define NEWSROOM_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* The publish folder: [publish] dir, else "publish" under the data directory (the package
 * store's local published area). A new string; free it. */
char *publish_dir(const struct config *c);

/* Whether id may name a folder: 1 to NEWS_ID_MAX characters of [A-Za-z0-9._:-], not
 * starting with '.' (so never "." or "..", nor a temporary folder's name). */
bool publish_id_ok(const char *id);

/* "sha256=<64 hex>" of HMAC-SHA256(secret, body[0..len)) into out. */
void publish_sign(const char *secret, const char *body, size_t len, char out[72]);

/* POSTs body (JSON) to url with Content-Type: application/json, Idempotency-Key: key and, when
 * secret is not empty, X-Newsroom-Signature: publish_sign(); no redirects, timeout_ms for the
 * whole request. Returns 0 for a 2xx answer, or -1 with *cause (which never holds the URL, a
 * header or the secret: a webhook URL often carries a token). *status receives the HTTP
 * status, 0 when no answer came. */
int publish_webhook(const char *url, const char *secret, int timeout_ms, const char *key,
                    const char *body, long *status, char **cause);

#endif
