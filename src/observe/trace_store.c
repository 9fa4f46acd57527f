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

/* Cuts every string in v longer than TRACE_STORE_STRING_MAX bytes (at a UTF-8 boundary),
 * saying how long it was. */
static void cut_strings(json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;
    void *tmp;

    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, key, x)
        {
            if (json_is_string(x) && json_string_length(x) > TRACE_STORE_STRING_MAX) {
                const char *s = json_string_value(x);
                size_t len = json_string_length(x), keepn = TRACE_STORE_STRING_MAX;
                char *cut;

                while (keepn > 0 && ((unsigned char)s[keepn] & 0xc0) == 0x80)
                    keepn--;
                cut = xasprintf("%.*s... (%zu bytes)", (int)keepn, s, len);
                json_object_set_new(v, key, json_string(cut));
                free(cut);
            } else {
                cut_strings(x);
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (json_is_string(x) && json_string_length(x) > TRACE_STORE_STRING_MAX) {
                const char *s = json_string_value(x);
                size_t keepn = TRACE_STORE_STRING_MAX;
                char *cut;

                while (keepn > 0 && ((unsigned char)s[keepn] & 0xc0) == 0x80)
                    keepn--;
                cut = xasprintf("%.*s... (%zu bytes)", (int)keepn, s, json_string_length(x));
                json_array_set_new(v, i, json_string(cut));
                free(cut);
            } else {
                cut_strings(x);
            }
        }
    }
}

char *trace_store_compact(const char *event, size_t len, char trace_id[TRACE_ID_MAX])
{
    json_t *e = json_loadb(event, len, 0, NULL), *body;
    const char *type, *id;
    char *out;

    body = json_object_get(e, "body");
    type = json_string_value(json_object_get(e, "type"));
    if (!json_is_object(body) || type == NULL) {
        json_decref(e);
        return NULL;
    }
    id = json_string_value(
        json_object_get(body, strcmp(type, "trace-create") == 0 ? "id" : "traceId"));
    if (id == NULL || *id == '\0' || strlen(id) >= TRACE_ID_MAX) {
        json_decref(e);
        return NULL;
    }
    snprintf(trace_id, TRACE_ID_MAX, "%s", id);
    cut_strings(body);
    out = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int trace_store_put(struct rlink *l, char *const *ids, char *const *events, size_t n,
                    int64_t now_ms, int64_t keep_ms, int story_max, char **cause)
{
    /* One list key per distinct trace, its events in the batch's order after its count. */
    size_t nkeys = 0;
    char **keys = xcalloc(n + 1, sizeof *keys);
    const char **argv;
    char **owned;
    char keep[24], cap[16], imax[24], plen[8];
    size_t argc = 0, nowned = 0;
    redisReply *r;
    int rc = 0;

    (void)now_ms; /* the script takes the server's clock, as every other script does */
    if (n == 0) {
        free(keys);
        return 0;
    }
    /* Distinct trace ids, sorted. */
    for (size_t i = 0; i < n; i++)
        keys[i] = ids[i];
    qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 0; i < n; i++)
        if (nkeys == 0 || strcmp(keys[nkeys - 1], keys[i]) != 0)
            keys[nkeys++] = keys[i];
    argv = xcalloc(1 + nkeys + 4 + nkeys + n, sizeof *argv);
    owned = xcalloc(2 * nkeys + 1, sizeof *owned);
    argv[argc++] = TRACE_INDEX_KEY;
    for (size_t k = 0; k < nkeys; k++)
        argv[argc++] = owned[nowned++] = xasprintf("%s%s", TRACE_KEY_PREFIX, keys[k]);
    snprintf(keep, sizeof keep, "%lld", (long long)keep_ms);
    snprintf(cap, sizeof cap, "%d", story_max);
    snprintf(imax, sizeof imax, "%d", TRACE_INDEX_MAX);
    snprintf(plen, sizeof plen, "%zu", strlen(TRACE_KEY_PREFIX));
    argv[argc++] = keep;
    argv[argc++] = cap;
    argv[argc++] = imax;
    argv[argc++] = plen;
    for (size_t k = 0; k < nkeys; k++) {
        size_t count = 0;

        for (size_t i = 0; i < n; i++)
            count += strcmp(ids[i], keys[k]) == 0;
        argv[argc++] = owned[nowned++] = xasprintf("%zu", count);
        for (size_t i = 0; i < n; i++)
            if (strcmp(ids[i], keys[k]) == 0)
                argv[argc++] = events[i];
    }
    r = rlink_eval(l, &lua_trace_store, (int)(1 + nkeys), (int)argc, argv, cause);
    if (r == NULL)
        rc = -1;
    freeReplyObject(r);
    for (size_t i = 0; i < nowned; i++)
        free(owned[i]);
    free(owned);
    free(argv);
    free(keys);
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

        if (json_is_object(e))
            json_array_append_new(*events, e);
        else
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
