/*
 * trace_store.c - each trace's events in Redis for `ctl trace`; see trace_store.h. No state:
 * every function works on the caller's link.
 */
#include "observe/trace_store.h"

#include "core/fail.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *trace_store_cut(const char *event, size_t len, size_t max, size_t *out_len)
{
    /* A cut drops more than max bytes' worth of a string's end and adds "..." (3 bytes): a
     * string of max + 1 bytes comes out 2 bytes longer, so the copy may outgrow the event by 3
     * bytes per cut, and a cut needs a string of more than max bytes. */
    char *out = xmalloc(len + 3 * (len / (max + 1) + 1) + 1);
    size_t i = 0, o = 0;

    while (i < len) {
        size_t kept = 0;

        if (event[i] != '"') {
            out[o++] = event[i++];
            continue;
        }
        /* A string: copy up to max bytes of it (whole escapes, whole characters), then skip to
         * its closing quote. */
        out[o++] = event[i++];
        while (i < len && event[i] != '"') {
            size_t n = event[i] == '\\' ? (i + 1 < len && event[i + 1] == 'u' ? 6 : 2) : 1;

            if (n == 1)
                while (i + n < len && ((unsigned char)event[i + n] & 0xc0) == 0x80)
                    n++; /* the continuation bytes of a UTF-8 character */
            if (i + n > len)
                n = len - i;
            if (kept + n <= max) {
                memcpy(out + o, event + i, n);
                o += n;
                kept += n;
            } else if (kept <= max) {
                kept = max + 1; /* cut here, once */
                memcpy(out + o, "...", 3);
                o += 3;
            }
            i += n;
        }
        if (i < len)
            out[o++] = event[i++]; /* the closing quote */
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

int trace_store_put(struct rlink *l, char *const *ids, char *const *entries, size_t n,
                    int64_t keep_ms, int max, char **cause)
{
    const char **argv;
    char **keys;
    char keep[24], cap[16], imax[24], plen[8];
    size_t argc = 0;
    redisReply *r;
    int rc = 0;

    if (n == 0)
        return 0;
    argv = xcalloc(1 + n + 4 + n, sizeof *argv);
    keys = xcalloc(n, sizeof *keys);
    argv[argc++] = TRACE_INDEX_KEY;
    for (size_t k = 0; k < n; k++)
        argv[argc++] = keys[k] = xasprintf("%s%s", TRACE_KEY_PREFIX, ids[k]);
    snprintf(keep, sizeof keep, "%lld", (long long)keep_ms);
    snprintf(cap, sizeof cap, "%d", max);
    snprintf(imax, sizeof imax, "%d", TRACE_INDEX_MAX);
    snprintf(plen, sizeof plen, "%zu", strlen(TRACE_KEY_PREFIX));
    argv[argc++] = keep;
    argv[argc++] = cap;
    argv[argc++] = imax;
    argv[argc++] = plen;
    for (size_t k = 0; k < n; k++)
        argv[argc++] = entries[k];
    r = rlink_eval(l, &lua_trace_store, (int)(1 + n), (int)argc, argv, cause);
    if (r == NULL)
        rc = -1;
    freeReplyObject(r);
    for (size_t k = 0; k < n; k++)
        free(keys[k]);
    free(keys);
    free(argv);
    return rc;
}

int trace_store_get(struct rlink *l, const char *trace_id, json_t **events, char **cause)
{
    redisReply *r = rlink_command(l, cause, "LRANGE %s%s 0 -1", TRACE_KEY_PREFIX, trace_id);

    if (r == NULL)
        return -1;
    *events = json_array();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        json_t *e = json_loadb(r->element[i]->str, r->element[i]->len, 0, NULL);

        /* Each entry holds one batch's events of the trace. */
        if (json_is_array(e))
            json_array_extend(*events, e);
        json_decref(e);
    }
    freeReplyObject(r);
    return 0;
}

int trace_store_list(struct rlink *l, size_t limit, json_t **out, char **cause)
{
    redisReply *r = rlink_command(l, cause, "ZREVRANGE %s 0 %lld WITHSCORES", TRACE_INDEX_KEY,
                                  (long long)(limit > 0 ? limit - 1 : 0));

    if (r == NULL)
        return -1;
    *out = json_array();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
        json_array_append_new(*out, json_pack("{s:s, s:I}", "id", rlink_reply_str(r, i), "last_ms",
                                              (json_int_t)rlink_reply_int(r, i + 1)));
    freeReplyObject(r);
    return 0;
}
