/*
 * visual_http.c - GET, POST and DELETE for the picture and clip services; see visual_http.h.
 * The request itself is the model providers' (llm_http_request(): the same options, the bounded
 * answer, the causes that name no header), over a client made for the call.
 *
 * Threads: any; each call makes and frees its own client.
 */
#include "media/visual_http.h"

#include "llm/http.h"

#include <stdlib.h>
#include <string.h>

int vhttp_request(const char *method, const char *url, const char *const *headers, const char *body,
                  int timeout_ms, size_t max_bytes, struct vhttp_result *out, char **cause)
{
    struct llm_http *h = llm_http_new();
    struct llm_http_result r;
    int rc = llm_http_request(h, method, url, headers, body, timeout_ms, max_bytes, &r, cause);

    llm_http_free(h);
    memset(out, 0, sizeof *out);
    out->timed_out = r.timed_out;
    if (rc == -1)
        return -1;
    out->status = r.status;
    out->body = r.body; /* handed over: r is not cleared */
    out->len = r.len;
    return 0;
}

void vhttp_result_clear(struct vhttp_result *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
