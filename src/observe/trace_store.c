/*
 * trace_store.c - each trace's events in Redis for `ctl trace`; see trace_store.h. No state:
 * every function works on the caller's link.
 */
#include "observe/trace_store.h"

#include "core/clock.h"
#include "core/fail.h"
#include "store/rlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the unit of a string at event[i]: an escape (\uXXXX or \X), or a character
 * with its UTF-8 continuation bytes; never past len. */
static size_t unit_len(const char *event, size_t i, size_t len)
{
    size_t n = event[i] == '\\' ? (i + 1 < len && event[i + 1] == 'u' ? 6 : 2) : 1;

    if (n == 1)
        while (i + n < len && ((unsigned char)event[i + n] & 0xc0) == 0x80)
            n++;
    return i + n > len ? len - i : n;
}

/* Where the string whose first byte is at event[i] ends: its closing quote, or len. An escape
 * is skipped whole, as unit_len() reads it; memchr() does the rest, so a long prompt costs a
 * scan, not a loop over its bytes. */
static size_t string_end(const char *event, size_t i, size_t len)
{
    const char *q = memchr(event + i, '"', len - i);
    size_t quote = q != NULL ? (size_t)(q - event) : len;

    for (;;) {
        const char *b = memchr(event + i, '\\', quote - i);

        if (b == NULL)
            return quote;
        i = (size_t)(b - event);
        i += unit_len(event, i, len);
        if (i > quote) {
            if (i >= len)
                return len;
            q = memchr(event + i, '"', len - i);
            quote = q != NULL ? (size_t)(q - event) : len;
        }
    }
}

/* The string text event[i, end) (longer than max) cut: up to max bytes of it (whole escapes,
 * whole characters), then "...", written at out. Returns the bytes written. */
static size_t cut_string(const char *event, size_t i, size_t end, size_t len, size_t max, char *out)
{
    size_t o = 0, kept = 0;

    while (i < end) {
        size_t u = unit_len(event, i, len);

        if (kept + u > max)
            break;
        kept += u;
        i += u;
    }
    memcpy(out, event + i - kept, kept);
    o = kept;
    memcpy(out + o, "...", 3);
    return o + 3;
}

/* cut_string() for text jsonw wrote (valid UTF-8, escapes whole): the escapes found with
 * memchr(), the bytes between them taken at once, a character split by the limit backed off. */
static size_t cut_known(const char *event, size_t i, size_t end, size_t max, char *out)
{
    size_t lim = i + max < end ? i + max : end, p = i;

    for (;;) {
        const char *b = memchr(event + p, '\\', lim - p);
        size_t u;

        if (b == NULL)
            break;
        p = (size_t)(b - event);
        u = p + 1 < end && event[p + 1] == 'u' ? 6 : 2;
        if (p + u > lim) {
            lim = p; /* the escape does not fit: the cut comes before it */
            break;
        }
        p += u;
    }
    /* No escape in [p, lim): back off the continuation bytes of a character the limit splits. */
    while (lim > p && lim < end && ((unsigned char)event[lim] & 0xc0) == 0x80)
        lim--;
    memcpy(out, event + i, lim - i);
    memcpy(out + (lim - i), "...", 3);
    return lim - i + 3;
}

size_t trace_store_cut_at(const char *event, size_t len, size_t max, const struct jsonw_span *at,
                          size_t n, char *out)
{
    size_t from = 0, o = 0;

    for (size_t k = 0; k < n; k++) {
        memcpy(out + o, event + from, at[k].from - from);
        o += at[k].from - from;
        o += cut_known(event, at[k].from, at[k].to, max, out + o);
        from = at[k].to;
    }
    memcpy(out + o, event + from, len - from);
    return o + len - from;
}

char *trace_store_cut(const char *event, size_t len, size_t max, size_t *out_len)
{
    /* A cut drops more than max bytes' worth of a string's end and adds "..." (3 bytes): a
     * string of max + 1 bytes comes out 2 bytes longer, so the copy may outgrow the event by 3
     * bytes per cut, and a cut needs a string of more than max bytes. */
    char *out = xmalloc(len + 3 * (len / (max + 1) + 1) + 1);
    size_t i = 0, o = 0;

    while (i < len) {
        const char *q = memchr(event + i, '"', len - i);
        size_t n = q != NULL ? (size_t)(q - event) - i : len - i, end;

        /* Up to the next string, as it is. */
        memcpy(out + o, event + i, n);
        o += n;
        i += n;
        if (i >= len)
            break;
        out[o++] = event[i++];
        end = string_end(event, i, len);
        if (end - i <= max) {
            memcpy(out + o, event + i, end - i);
            o += end - i;
        } else {
            o += cut_string(event, i, end, len, max, out + o);
        }
        i = end;
        if (i < len)
            out[o++] = event[i++]; /* the closing quote */
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* The commands of one transaction, their words in one array. */
struct tx {
    struct rlink_cmd *cmds;
    const char **words;
    size_t ncmds, nwords;
};

static void tx_add(struct tx *t, int argc, const char *const *words)
{
    memcpy(t->words + t->nwords, words, (size_t)argc * sizeof *words);
    t->cmds[t->ncmds++] = (struct rlink_cmd){argc, t->words + t->nwords, NULL};
    t->nwords += (size_t)argc;
}

int trace_store_put(struct rlink *l, char *const *ids, char *const *entries, size_t n,
                    int64_t keep_ms, int max, char **cause)
{
    int64_t now = clock_wall_ms();
    char keep[24], cap[24], now_s[24], since[32], over[24];
    char **keys;
    struct tx t;
    redisReply *r;
    int rc;

    if (n == 0)
        return 0;
    snprintf(keep, sizeof keep, "%lld", (long long)keep_ms);
    snprintf(cap, sizeof cap, "%d", -max);
    snprintf(now_s, sizeof now_s, "%lld", (long long)now);
    snprintf(since, sizeof since, "(%lld", (long long)(now - keep_ms));
    snprintf(over, sizeof over, "%d", -(TRACE_INDEX_MAX + 1));
    keys = xcalloc(n, sizeof *keys);
    /* Per trace RPUSH (3 words), LTRIM (4), PEXPIRE (3); then ZADD (2 + 2n) and the index's
     * two trims (4 each). */
    t = (struct tx){xcalloc(3 * n + 3, sizeof *t.cmds), xcalloc(12 * n + 10, sizeof *t.words), 0,
                    0};
    for (size_t k = 0; k < n; k++) {
        keys[k] = xasprintf("%s%s", TRACE_KEY_PREFIX, ids[k]);
        tx_add(&t, 3, (const char *const[]){"RPUSH", keys[k], entries[k]});
        tx_add(&t, 4, (const char *const[]){"LTRIM", keys[k], cap, "-1"});
        tx_add(&t, 3, (const char *const[]){"PEXPIRE", keys[k], keep});
    }
    tx_add(&t, 2, (const char *const[]){"ZADD", TRACE_INDEX_KEY});
    for (size_t k = 0; k < n; k++) {
        t.words[t.nwords++] = now_s;
        t.words[t.nwords++] = ids[k];
    }
    t.cmds[t.ncmds - 1].argc += 2 * (int)n;
    tx_add(&t, 4, (const char *const[]){"ZREMRANGEBYSCORE", TRACE_INDEX_KEY, "-inf", since});
    tx_add(&t, 4, (const char *const[]){"ZREMRANGEBYRANK", TRACE_INDEX_KEY, "0", over});
    r = rlink_transaction(l, t.cmds, t.ncmds, cause);
    rc = r != NULL ? 0 : -1;
    freeReplyObject(r);
    for (size_t k = 0; k < n; k++)
        free(keys[k]);
    free(keys);
    free(t.cmds);
    free(t.words);
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
