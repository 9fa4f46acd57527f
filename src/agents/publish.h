/*
 * publish.h - what the publisher does outside Redis: writes a story's package folder
 * (<publish dir>/<story id>/ with its files) so that no reader ever sees it half-written, and
 * POSTs the "story.published" webhook, signed with HMAC-SHA256 when a secret is configured.
 *
 * A folder is written into a hidden temporary directory beside it (".<id>.XXXXXX"), every file
 * and the directory fsync'd, then renamed into place (or exchanged with an older version, which
 * is then removed); a folder that already holds exactly the same files is left as it is.
 *
 * Threads: any thread; publish_webhook() makes and frees its own CURL easy handle, and nothing
 * here keeps state between calls.
 */
#ifndef NEWSROOM_PUBLISH_H
#define NEWSROOM_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* One file of a package folder: name (no '/'), contents (borrowed). */
struct publish_file {
    const char *name;
    const char *data;
    size_t len;
};

/* The publish folder: [publish] dir, else "publish" under the data directory. A new string;
 * free it. */
char *publish_dir(const struct config *c);

/* Whether id may name a folder: 1 to NEWS_ID_MAX characters of [A-Za-z0-9._:-], not
 * starting with '.' (so never "." or "..", nor a temporary folder's name). */
bool publish_id_ok(const char *id);

/* Makes <dir>/<id>/ hold exactly files[0..n) (dir is created when missing). *unchanged is set
 * when the folder already held the same files and was left alone. Returns 0, or -1 with *cause;
 * on failure nothing is left behind (the temporary directory is removed) and an existing folder
 * is as it was. */
int publish_folder(const char *dir, const char *id, const struct publish_file *files, size_t n,
                   bool *unchanged, char **cause);

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
