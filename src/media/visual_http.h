/*
 * visual_http.h - the one HTTP client the picture and clip services use (visual_*.c): a GET,
 * POST or DELETE with extra headers, a timeout for the whole request and a bounded answer, over
 * a CURL easy handle made for the call. Never turns on CURLOPT_VERBOSE (the headers carry API
 * keys); a cause names the URL and the transport error, never a header.
 *
 * Threads: any; nothing is kept between calls.
 */
#ifndef NEWSROOM_VISUAL_HTTP_H
#define NEWSROOM_VISUAL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct vhttp_result {
    long status; /* HTTP status; 0 when no answer came */
    char *body;  /* NUL-terminated; free with vhttp_result_clear() */
    size_t len;
    bool timed_out;
};

/* Sends method ("GET", "POST", "DELETE") to url with the NULL-terminated "Name: value" headers
 * and body (POST only; may be NULL), within timeout_ms, reading at most max_bytes of answer.
 * Returns 0 when an answer came (any status; *out filled), or -1 with *cause when none did
 * (no connection, a timeout: out->timed_out, an answer too big). */
int vhttp_request(const char *method, const char *url, const char *const *headers, const char *body,
                  int timeout_ms, size_t max_bytes, struct vhttp_result *out, char **cause);
void vhttp_result_clear(struct vhttp_result *r);

#endif
