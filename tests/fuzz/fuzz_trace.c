/*
 * fuzz_trace.c - what the tracing code reads from outside: Langfuse's answer to a batch
 * (langfuse_answer), the events ctl trace reads back from Redis (trace_view_build, as a JSON
 * array or a lone event), an event cut for the Redis copy (trace_store_cut: never longer than
 * its input plus the marks, still JSON when its input was), and a metrics address
 * (metrics_listen_parse). Never a crash, never a read past the input.
 */
#include "observe/langfuse.h"
#include "observe/metrics_http.h"
#include "observe/trace_store.h"
#include "observe/trace_view.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_error(const char *id, long status, const char *message, void *arg)
{
    size_t *n = arg;

    (void)status;
    if (id == NULL || message == NULL)
        abort();
    (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *cut, *why = NULL, host[256];
    size_t ok, bad, seen = 0, n;
    json_t *j, *events;
    struct trace_view v;
    int port;

    memcpy(text, data, size);
    text[size] = '\0';
    if (langfuse_answer(text, &ok, &bad, on_error, &seen) == 0 && seen != bad)
        abort();
    j = json_loads(text, 0, NULL);
    events = json_is_array(j) ? json_incref(j) : json_pack("[O?]", j);
    if (trace_view_build(events, "s1", &v) == 0) {
        if (v.nobs > json_array_size(events))
            abort();
        trace_view_free(&v);
    }
    json_decref(events);
    cut = trace_store_cut(text, size, 16, &n);
    if (n > size + 3 * size) /* each string gains at most "..." */
        abort();
    if (j != NULL) {
        json_t *back = json_loadb(cut, n, 0, NULL);

        if (back == NULL && strlen(text) == size)
            abort(); /* valid JSON in, JSON out */
        json_decref(back);
    }
    free(cut);
    json_decref(j);
    if (metrics_listen_parse(text, host, sizeof host, &port, &why) == 0) {
        if (port < 0 || port > 65535)
            abort();
    } else {
        free(why);
    }
    free(text);
    return 0;
}
