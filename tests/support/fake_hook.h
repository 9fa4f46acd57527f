/*
 * fake_hook.h - a local receiver of the publisher's "story.published" webhook, for the publish
 * tests: libmicrohttpd on 127.0.0.1, a port the kernel picks, path /hooks/newsroom. It checks
 * every request: POST to that path, Content-Type: application/json, an Idempotency-Key equal to
 * the body's "id", a JSON object body with event "story.published", string id, title, path and
 * published_at, a "url" (string or null) and a "duration_s" (number or null), and, when
 * started with a secret, X-Newsroom-Signature: sha256=<hex HMAC-SHA256 of the body>. A request
 * that breaks this gets 400 and is kept as the violation; a good one gets 200, or 500 while
 * fake_hook_fail() says so.
 *
 * Threads: the server answers on its own threads; everything else takes its mutex.
 */
#ifndef NEWSROOM_FAKE_HOOK_H
#define NEWSROOM_FAKE_HOOK_H

struct fake_hook;

/* Starts a receiver; secret NULL or "" means no signature is expected (and none may come).
 * Aborts the test program if it cannot. */
struct fake_hook *fake_hook_start(const char *secret);
void fake_hook_stop(struct fake_hook *h);
/* "http://127.0.0.1:PORT/hooks/newsroom", owned by h. */
const char *fake_hook_url(const struct fake_hook *h);
/* Answers the next n good requests with 500. */
void fake_hook_fail(struct fake_hook *h, int n);
/* Requests received, and good ones answered 200. */
int fake_hook_requests(struct fake_hook *h);
int fake_hook_delivered(struct fake_hook *h);
/* How many good requests carried Idempotency-Key key. */
int fake_hook_count(struct fake_hook *h, const char *key);
/* The last violation (a new string, free it), or NULL. */
char *fake_hook_violation(struct fake_hook *h);
/* The last good request's body (a new string, free it), or NULL. */
char *fake_hook_last_body(struct fake_hook *h);

#endif
