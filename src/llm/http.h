/*
 * http.h - the one HTTP client the network providers use: a POST over a CURL easy handle with
 * a timeout, a bounded answer and the Retry-After header read back. One handle per
 * llm_http, so an llm_http (and the provider holding it) belongs to one thread.
 * Never turns on CURLOPT_VERBOSE: request headers carry API keys.
 */
#ifndef NEWSROOM_LLM_HTTP_H
#define NEWSROOM_LLM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct llm_http;

struct llm_http_result {
    long status; /* HTTP status, 0 when no answer came */
    char *body;  /* owned, NUL-terminated; free with llm_http_result_clear() */
    size_t len;
    int64_t retry_after_ms; /* from Retry-After (seconds or an HTTP date), else -1 */
    bool timed_out;         /* the request ran past its timeout */
    bool too_big;           /* the answer was longer than max_bytes */
};

/* A client with its own CURL easy handle. Free with llm_http_free(). */
struct llm_http *llm_http_new(void);
void llm_http_free(struct llm_http *h);

/* POSTs body to url with the extra headers (NULL-terminated "Name: value" strings). Returns 0
 * when an HTTP answer came (any status; *out filled), or -1 with *cause (which names the URL
 * and the transport error, never a header) when none did: connection refused, timeout
 * (out->timed_out set), an answer over max_bytes. */
int llm_http_post(struct llm_http *h, const char *url, const char *const *headers, const char *body,
                  int timeout_ms, size_t max_bytes, struct llm_http_result *out, char **cause);

/* The same for any method ("GET", "POST", "DELETE", ...): body is sent with POST only (may be
 * NULL), headers may be NULL. */
int llm_http_request(struct llm_http *h, const char *method, const char *url,
                     const char *const *headers, const char *body, int timeout_ms, size_t max_bytes,
                     struct llm_http_result *out, char **cause);
void llm_http_result_clear(struct llm_http_result *r);

#endif
