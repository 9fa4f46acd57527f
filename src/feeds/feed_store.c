/*
 * feed_store.c - the feed sources' schedule and status in Redis; see feed_store.h. Claiming,
 * extending, recording and a folder's files are one Lua script each (feed_claim, feed_extend,
 * feed_done, feed_members) on the server's clock, so scouts on machines with different clocks
 * still agree on what is due; listing every status and finding what --once waits for are one
 * read-only script each (feed_list, feed_unpolled), one round trip however many sources a
 * folder holds.
 *
 * Threads: the thread that owns the link.
 */
#include "feeds/feed_store.h"

#include "core/fail.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t feed_store_split(const char *list, char ***out)
{
    char *copy = xstrdup(list != NULL ? list : ""), *save = NULL;
    size_t n = 0;

    *out = NULL;
    for (char *w = strtok_r(copy, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
        size_t len;

        while (*w == ' ' || *w == '\t')
            w++;
        len = strlen(w);
        while (len > 0 && (w[len - 1] == ' ' || w[len - 1] == '\t'))
            w[--len] = '\0';
        if (len == 0)
            continue;
        *out = xrealloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = xstrdup(w);
    }
    free(copy);
    return n;
}

bool feed_store_listed(char *const *words, size_t n, const char *source)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(words[i]);

        if (strcmp(words[i], "*") == 0 || strcmp(words[i], source) == 0 ||
            (strncmp(words[i], source, len) == 0 && source[len] == '/'))
            return true;
    }
    return false;
}

char *feed_store_key(const char *source)
{
    return xasprintf(FEED_SRC_KEY "%s", source);
}

void feed_store_strv_free(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Runs script with the nhead arguments of head (its nkeys keys first) followed by the n words
 * of tail: the shape of every script here that takes a list of sources. */
static redisReply *eval_list(struct rlink *l, const struct lua_script *script, int nkeys,
                             const char *const *head, size_t nhead, const char *const *tail,
                             size_t n, char **cause)
{
    const char **argv = xcalloc(nhead + n, sizeof *argv);
    redisReply *r;

    memcpy(argv, head, nhead * sizeof *argv);
    if (n > 0)
        memcpy(argv + nhead, tail, n * sizeof *argv);
    r = rlink_eval(l, script, nkeys, (int)(nhead + n), argv, cause);
    free(argv);
    return r;
}

int feed_store_claim(struct rlink *l, const char *const *sources, size_t n, int lease_ms,
                     size_t max, char ***claimed, char **cause)
{
    char lease[24], maxs[24];
    const char *head[] = {FEED_DUE_KEY, lease, maxs, FEED_FOLDER_KEY};
    redisReply *r;
    char **out = NULL;
    size_t got = 0;

    *claimed = NULL;
    snprintf(lease, sizeof lease, "%d", lease_ms);
    snprintf(maxs, sizeof maxs, "%zu", max);
    r = eval_list(l, &lua_feed_claim, 1, head, 4, sources, n, cause);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        out = xcalloc(r->elements, sizeof *out);
        for (size_t i = 0; i < r->elements; i++)
            out[got++] = xstrdup(rlink_reply_str(r, i));
    }
    freeReplyObject(r);
    *claimed = out;
    return (int)got;
}

int feed_store_validators(struct rlink *l, const char *source, char **etag, char **last_modified,
                          char **cause)
{
    char *key = feed_store_key(source);
    redisReply *r = rlink_command(l, cause, "HMGET %s etag last_modified", key);
    const char *e, *m;

    free(key);
    *etag = *last_modified = NULL;
    if (r == NULL)
        return -1;
    e = rlink_reply_str(r, 0);
    m = rlink_reply_str(r, 1);
    if (*e != '\0')
        *etag = xstrdup(e);
    if (*m != '\0')
        *last_modified = xstrdup(m);
    freeReplyObject(r);
    return 0;
}

int feed_store_done(struct rlink *l, const char *source, const struct feed_poll *p, char **cause)
{
    char *key = feed_store_key(source);
    char interval[24], ceiling[24], items[24], skipped[24], files[24];
    const char *argv[32];
    int argc = 0;
    redisReply *r;

    snprintf(interval, sizeof interval, "%d", p->interval_ms);
    snprintf(ceiling, sizeof ceiling, "%d", p->backoff_max_ms);
    argv[argc++] = key;
    argv[argc++] = FEED_DUE_KEY;
    argv[argc++] = source;
    argv[argc++] = p->outcome;
    argv[argc++] = interval;
    argv[argc++] = ceiling;
    argv[argc++] = "by";
    argv[argc++] = p->by != NULL ? p->by : "";
    if (strcmp(p->outcome, "error") == 0) {
        argv[argc++] = "error";
        argv[argc++] = p->error != NULL ? p->error : "unknown error";
    }
    if (strcmp(p->outcome, "ok") == 0) {
        snprintf(items, sizeof items, "%ld", p->items);
        snprintf(skipped, sizeof skipped, "%ld", p->skipped);
        argv[argc++] = "items";
        argv[argc++] = items;
        argv[argc++] = "skipped";
        argv[argc++] = skipped;
        snprintf(files, sizeof files, "%ld", p->folder ? p->files : -1L);
        argv[argc++] = "files";
        argv[argc++] = files;
    }
    if (p->title != NULL) {
        argv[argc++] = "title";
        argv[argc++] = p->title;
    }
    if (p->etag != NULL) {
        argv[argc++] = "etag";
        argv[argc++] = p->etag;
    }
    if (p->last_modified != NULL) {
        argv[argc++] = "last_modified";
        argv[argc++] = p->last_modified;
    }
    r = rlink_eval(l, &lua_feed_done, 2, argc, argv, cause);
    free(key);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int feed_store_extend(struct rlink *l, const char *const *sources, size_t n, int lease_ms,
                      char **cause)
{
    char lease[24];
    const char *head[] = {FEED_DUE_KEY, lease};
    redisReply *r;

    if (n == 0)
        return 0;
    snprintf(lease, sizeof lease, "%d", lease_ms);
    r = eval_list(l, &lua_feed_extend, 1, head, 2, sources, n, cause);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int feed_store_release(struct rlink *l, const char *source, char **cause)
{
    redisReply *r = rlink_command(l, cause, "ZADD %s XX 0 %s", FEED_DUE_KEY, source);

    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int feed_store_members(struct rlink *l, const char *folder, const char *const *files, size_t n,
                       char **cause)
{
    char *key = xasprintf(FEED_FOLDER_KEY "%s", folder);
    const char *head[] = {key, FEED_DUE_KEY, FEED_SRC_KEY};
    redisReply *r = eval_list(l, &lua_feed_members, 2, head, 3, files, n, cause);

    free(key);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int feed_store_now(struct rlink *l, int64_t *ms, char **cause)
{
    redisReply *r = rlink_command(l, cause, "TIME");

    if (r == NULL)
        return -1;
    *ms = strtoll(rlink_reply_str(r, 0), NULL, 10) * 1000 +
          strtoll(rlink_reply_str(r, 1), NULL, 10) / 1000;
    freeReplyObject(r);
    return 0;
}

long feed_store_unpolled(struct rlink *l, const char *const *sources, size_t n, int64_t since_ms,
                         char **first, char **cause)
{
    char since[24];
    const char *head[] = {since, FEED_FOLDER_KEY, FEED_SRC_KEY};
    redisReply *r;
    long count;

    if (first != NULL)
        *first = NULL;
    snprintf(since, sizeof since, "%lld", (long long)since_ms);
    r = eval_list(l, &lua_feed_unpolled, 0, head, 3, sources, n, cause);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        freeReplyObject(r);
        *cause = xstrdup("feed_unpolled: an answer of the wrong shape");
        return -1;
    }
    count = (long)r->element[0]->integer;
    if (first != NULL && count > 0)
        *first = xstrdup(rlink_reply_str(r, 1));
    freeReplyObject(r);
    return count;
}

int feed_store_count(struct rlink *l, const char *source, bool duplicate, char **cause)
{
    char *key = feed_store_key(source);
    redisReply *r =
        rlink_command(l, cause, "HINCRBY %s %s 1", key, duplicate ? "duplicates" : "written");

    free(key);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

static json_int_t field_int(const redisReply *h, const char *name)
{
    return (json_int_t)strtoll(rlink_reply_field(h, name), NULL, 10);
}

json_t *feed_store_list(struct rlink *l, char **cause)
{
    static const char *const strs[] = {"status", "error", "title", "etag", "last_modified", "by"};
    static const char *const ints[] = {"items",    "skipped",       "written",    "duplicates",
                                       "failures", "last_fetch_ms", "last_ok_ms", "next_ms"};
    const char *argv[] = {FEED_DUE_KEY, FEED_SRC_KEY};
    redisReply *z = rlink_eval(l, &lua_feed_list, 1, 2, argv, cause);
    json_t *out;

    if (z == NULL)
        return NULL;
    out = json_array();
    for (size_t i = 0; z->type == REDIS_REPLY_ARRAY && i + 2 < z->elements; i += 3) {
        const char *source = rlink_reply_str(z, i), *files;
        const redisReply *h = z->element[i + 2];
        json_t *o = json_pack("{s:s, s:I}", "source", source, "due_ms",
                              (json_int_t)strtoll(rlink_reply_str(z, i + 1), NULL, 10));

        for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
            json_object_set_new(o, strs[k], json_string(rlink_reply_field(h, strs[k])));
        for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
            json_object_set_new(o, ints[k], json_integer(field_int(h, ints[k])));
        files = rlink_reply_field(h, "files");
        json_object_set_new(o, "files",
                            json_integer(*files != '\0' ? strtoll(files, NULL, 10) : -1));
        if (*rlink_reply_field(h, "status") == '\0')
            json_object_set_new(o, "status", json_string("new"));
        json_array_append_new(out, o);
    }
    freeReplyObject(z);
    return out;
}
