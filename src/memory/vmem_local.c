/*
 * vmem_local.c - the local backend of vmem.h: collections kept in Redis by the mem_*.lua
 * scripts (their layout is in src/store/scripts/lib/mem_lib.lua and docs/redis-keys.md) and
 * searched in process memory.
 *
 * Each collection handle holds the collection as this process last saw it: ids, vectors
 * normalised to unit length, metadata parsed, insertion order, and an id -> slot table. Before
 * every read it asks mem_sync.lua for the changes since its sequence number (one round trip;
 * nothing comes back when nothing changed) and applies them; when it missed changes the log no
 * longer holds, or the collection was made again, it loads everything afresh with mem_page.lua,
 * PAGE (1,024) records a round trip, then catches up from the sequence number the first page gave.
 * A query then scores every vector that passes the filter (a dot product of unit vectors is the
 * cosine) and keeps the k best. Writes go straight to Redis (mem_write.lua, mem_del.lua); the
 * handle sees them at its next read like anyone else's.
 *
 * Vectors are packed as little-endian float32 (the byte order of every machine this runs on).
 * Threads: a vmem and its collections belong to the thread of the borrowed link.
 */
#include "memory/vmem_int.h"

#include "core/fail.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEM_PREFIX   NR_PREFIX "mem:c:"
#define MEM_EPOCH    NR_PREFIX "mem:epoch"
#define PAGE         1024
#define SYNC_MAX     2048
#define IDS_PER_CALL 1000

struct local {
    struct rlink *link;
};

/* A record written with vmem_upsert_later() and not sent yet (owned copies). */
struct pending {
    char *id, *doc, *meta; /* doc NULL: none given; meta "" for none */
    char *blob;
    size_t blen;
};

struct lcoll {
    char key[sizeof MEM_PREFIX + 512];
    long long epoch, seq;
    bool loaded;
    size_t n, cap;
    char **ids;
    float *vecs; /* n * dim, unit length (or zero) */
    json_t **meta;
    char **docs; /* documents read or written before, NULL where not known */
    long long *order;
    int *slots; /* hash of ids -> record index; -1 empty, -2 deleted */
    size_t nslots, used;
    struct pending *pend; /* kept back, sent with the next sync (mem_sync_write.lua) */
    size_t npend;
};

static uint64_t id_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The slot of id (where it is, or the first free slot on its path). */
static size_t slot_of(const struct lcoll *lc, const char *id, bool for_insert)
{
    size_t mask = lc->nslots - 1, i = id_hash(id) & mask, free_at = SIZE_MAX;

    for (;; i = (i + 1) & mask) {
        int s = lc->slots[i];

        if (s == -1)
            return for_insert && free_at != SIZE_MAX ? free_at : i;
        if (s == -2) {
            if (free_at == SIZE_MAX)
                free_at = i;
        } else if (strcmp(lc->ids[s], id) == 0) {
            return i;
        }
    }
}

static void rehash(struct lcoll *lc, size_t want)
{
    size_t ns = 64;

    while (ns < want * 2)
        ns *= 2;
    free(lc->slots);
    lc->slots = xcalloc(ns, sizeof *lc->slots);
    lc->nslots = ns;
    for (size_t i = 0; i < ns; i++)
        lc->slots[i] = -1;
    lc->used = lc->n;
    for (size_t r = 0; r < lc->n; r++)
        lc->slots[slot_of(lc, lc->ids[r], true)] = (int)r;
}

static long find(const struct lcoll *lc, const char *id)
{
    size_t s;

    if (lc->nslots == 0)
        return -1;
    s = slot_of(lc, id, false);
    return lc->slots[s] >= 0 ? lc->slots[s] : -1;
}

static void clear_index(struct lcoll *lc)
{
    for (size_t i = 0; i < lc->n; i++) {
        free(lc->ids[i]);
        free(lc->docs[i]);
        json_decref(lc->meta[i]);
    }
    free(lc->ids);
    free(lc->vecs);
    free(lc->meta);
    free(lc->docs);
    free(lc->order);
    free(lc->slots);
    lc->ids = NULL;
    lc->vecs = NULL;
    lc->meta = NULL;
    lc->docs = NULL;
    lc->order = NULL;
    lc->slots = NULL;
    lc->n = lc->cap = lc->nslots = lc->used = 0;
    lc->loaded = false;
}

/* Copies a packed vector into dst (dim floats), normalised. */
static void unpack_unit(float *dst, const char *blob, int dim)
{
    double sum = 0;

    memcpy(dst, blob, (size_t)dim * sizeof *dst);
    for (int i = 0; i < dim; i++)
        sum += (double)dst[i] * (double)dst[i];
    if (sum > 0) {
        float inv = (float)(1.0 / sqrt(sum));

        for (int i = 0; i < dim; i++)
            dst[i] *= inv;
    }
}

/* Sets record id to (blob, meta, order), or deletes it when blob is empty. */
static void apply(struct lcoll *lc, int dim, const char *id, const char *blob, size_t blen,
                  const char *meta, long long order)
{
    long r = lc->nslots > 0 ? find(lc, id) : -1;
    json_t *m;

    if (blen == 0) {
        size_t last;

        if (r < 0)
            return;
        last = lc->n - 1;
        lc->slots[slot_of(lc, id, false)] = -2;
        free(lc->ids[r]);
        free(lc->docs[r]);
        json_decref(lc->meta[r]);
        if ((size_t)r != last) {
            lc->ids[r] = lc->ids[last];
            lc->meta[r] = lc->meta[last];
            lc->docs[r] = lc->docs[last];
            lc->order[r] = lc->order[last];
            memcpy(lc->vecs + (size_t)r * dim, lc->vecs + last * dim, (size_t)dim * sizeof(float));
            lc->slots[slot_of(lc, lc->ids[r], false)] = (int)r;
        }
        lc->n--;
        return;
    }
    if (blen != (size_t)dim * sizeof(float))
        return; /* another dimension than ours: mem_write.lua never lets one in */
    m = json_loads(meta, 0, NULL);
    if (!json_is_object(m)) {
        json_decref(m);
        m = json_object();
    }
    if (r < 0) {
        if (lc->n == lc->cap) {
            lc->cap = lc->cap ? lc->cap * 2 : 256;
            lc->ids = xrealloc(lc->ids, lc->cap * sizeof *lc->ids);
            lc->meta = xrealloc(lc->meta, lc->cap * sizeof *lc->meta);
            lc->docs = xrealloc(lc->docs, lc->cap * sizeof *lc->docs);
            lc->order = xrealloc(lc->order, lc->cap * sizeof *lc->order);
            lc->vecs = xrealloc(lc->vecs, lc->cap * (size_t)dim * sizeof *lc->vecs);
        }
        if ((lc->used + 1) * 2 > lc->nslots)
            rehash(lc, lc->n + 1);
        r = (long)lc->n++;
        lc->ids[r] = xstrdup(id);
        lc->meta[r] = NULL;
        lc->docs[r] = NULL;
        lc->slots[slot_of(lc, id, true)] = (int)r;
        lc->used++;
    }
    json_decref(lc->meta[r]);
    lc->meta[r] = m;
    lc->order[r] = order;
    /* Its document may have changed with it: read again when asked. */
    free(lc->docs[r]);
    lc->docs[r] = NULL;
    unpack_unit(lc->vecs + (size_t)r * dim, blob, dim);
}

static void pending_clear(struct lcoll *lc)
{
    for (size_t i = 0; i < lc->npend; i++) {
        free(lc->pend[i].id);
        free(lc->pend[i].doc);
        free(lc->pend[i].meta);
        free(lc->pend[i].blob);
    }
    free(lc->pend);
    lc->pend = NULL;
    lc->npend = 0;
}

static struct local *L(const struct vmem_coll *c)
{
    return c->v->impl;
}

/* A script error that means the collection is gone, or -1 with *cause. */
static int script_error(const struct vmem_coll *c, char **cause)
{
    char *why = *cause;

    if (why != NULL && strncmp(why, "GONE ", 5) == 0)
        return VMEM_GONE;
    if (why != NULL && strncmp(why, "DIM ", 4) == 0)
        *cause = xasprintf("local collection %s: %s", c->name, why + 4);
    else
        *cause = xasprintf("local collection %s: %s", c->name, why != NULL ? why : "failed");
    free(why);
    return -1;
}

static redisReply *eval(struct vmem_coll *c, const struct lua_script *s, int argc,
                        const char **argv, const size_t *lens, char **cause)
{
    return rlink_eval_bin(L(c)->link, s, 0, argc, argv, lens, cause);
}

/* Loads the whole collection afresh, page by page. 0, VMEM_GONE or -1. */
static int load(struct vmem_coll *c, char **cause)
{
    struct lcoll *lc = c->impl;
    long long after = 0;
    bool first = true;

    clear_index(lc);
    rehash(lc, 0);
    for (;;) {
        char after_s[32], page_s[16];
        const char *argv[3] = {lc->key, after_s, page_s};
        redisReply *r;
        size_t got;

        snprintf(after_s, sizeof after_s, "%lld", after);
        snprintf(page_s, sizeof page_s, "%d", PAGE);
        r = eval(c, &lua_mem_page, 3, argv, NULL, cause);
        if (r == NULL)
            return script_error(c, cause);
        if (first) {
            lc->epoch = rlink_reply_int(r, 0);
            lc->seq = rlink_reply_int(r, 1);
            first = false;
        }
        got = r->elements >= 3 ? (r->elements - 3) / 4 : 0;
        for (size_t i = 0; i < got; i++) {
            const redisReply *b = r->element[3 + 4 * i + 2];

            after = rlink_reply_int(r, 3 + 4 * i + 1);
            apply(lc, c->dim, rlink_reply_str(r, 3 + 4 * i), b->str, b->len,
                  rlink_reply_str(r, 3 + 4 * i + 3), after);
        }
        freeReplyObject(r);
        if (got < PAGE)
            break;
    }
    lc->loaded = true;
    return 0;
}

/* Brings the handle up to date (see the file's comment), sending what vmem_upsert_later() kept
 * back in the same round trip. 0, VMEM_GONE or -1. */
static int sync_index(struct vmem_coll *c, char **cause)
{
    struct lcoll *lc = c->impl;

    for (int rounds = 0; rounds < 1000; rounds++) {
        char epoch_s[32], seq_s[32], max_s[16];
        size_t argc = 4 + 5 * lc->npend, k = 4;
        const char **argv = xcalloc(argc, sizeof *argv);
        size_t *lens = xcalloc(argc, sizeof *lens);
        redisReply *r;
        const char *what;
        int rc;

        if (!lc->loaded && (rc = load(c, cause)) != 0) {
            free(argv);
            free(lens);
            return rc;
        }
        snprintf(epoch_s, sizeof epoch_s, "%lld", lc->epoch);
        snprintf(seq_s, sizeof seq_s, "%lld", lc->seq);
        snprintf(max_s, sizeof max_s, "%d", SYNC_MAX);
        argv[0] = lc->key;
        argv[1] = epoch_s;
        argv[2] = seq_s;
        argv[3] = max_s;
        for (int i = 0; i < 4; i++)
            lens[i] = strlen(argv[i]);
        for (size_t i = 0; i < lc->npend; i++) {
            const struct pending *p = &lc->pend[i];

            argv[k] = p->id;
            lens[k++] = strlen(p->id);
            argv[k] = p->blob;
            lens[k++] = p->blen;
            argv[k] = p->doc != NULL ? "1" : "0";
            lens[k++] = 1;
            argv[k] = p->doc != NULL ? p->doc : "";
            lens[k] = strlen(argv[k]);
            k++;
            argv[k] = p->meta;
            lens[k] = strlen(argv[k]);
            k++;
        }
        r = eval(c, lc->npend > 0 ? &lua_mem_sync_write : &lua_mem_sync, (int)argc, argv, lens,
                 cause);
        free(argv);
        free(lens);
        if (r == NULL)
            return script_error(c, cause);
        pending_clear(lc); /* written: the changes that follow hold them */
        what = rlink_reply_str(r, 0);
        if (strcmp(what, "same") == 0) {
            freeReplyObject(r);
            return 0;
        }
        if (strcmp(what, "reload") == 0) {
            lc->loaded = false;
            freeReplyObject(r);
            continue;
        }
        for (size_t i = 5; i + 3 < r->elements; i += 4) {
            const redisReply *b = r->element[i + 1];

            apply(lc, c->dim, rlink_reply_str(r, i), b->str, b->len, rlink_reply_str(r, i + 2),
                  rlink_reply_int(r, i + 3));
        }
        lc->seq = rlink_reply_int(r, 2);
        if (lc->seq >= rlink_reply_int(r, 4)) {
            /* Caught up: no second round trip to hear "same". */
            freeReplyObject(r);
            return 0;
        }
        freeReplyObject(r);
    }
    *cause = xasprintf("local collection %s: could not catch up with its changes", c->name);
    return -1;
}

static int local_heartbeat(struct vmem *v, char **version, char **cause)
{
    struct local *lo = v->impl;
    int64_t us;

    if (rlink_ping(lo->link, &us, cause) == -1)
        return -1;
    if (version != NULL)
        *version = xstrdup("redis");
    return 0;
}

static int local_open(struct vmem_coll *c, char **cause)
{
    struct lcoll *lc = c->impl != NULL ? c->impl : xcalloc(1, sizeof *lc);
    const char *argv[3];
    redisReply *r;
    long long dim;

    c->impl = lc;
    snprintf(lc->key, sizeof lc->key, "%s%s", MEM_PREFIX, c->name);
    argv[0] = lc->key;
    argv[1] = MEM_EPOCH;
    argv[2] = c->name;
    r = eval(c, &lua_mem_open, 3, argv, NULL, cause);
    if (r == NULL) {
        script_error(c, cause);
        return -1;
    }
    dim = rlink_reply_int(r, 1);
    freeReplyObject(r);
    if (dim != 0 && dim != c->dim) {
        *cause = xasprintf("local collection %s holds %lld-dimension embeddings, this embedder "
                           "makes %d (another embedding kind or dimension wrote it)",
                           c->name, dim, c->dim);
        return -1;
    }
    lc->loaded = false;
    return 0;
}

static int local_drop(struct vmem *v, const char *name, char **cause)
{
    struct local *lo = v->impl;
    char key[sizeof MEM_PREFIX + 512];
    const char *argv[1] = {key};
    redisReply *r;

    snprintf(key, sizeof key, "%s%s", MEM_PREFIX, name);
    r = rlink_eval(lo->link, &lua_mem_drop, 0, 1, argv, cause);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    for (struct vmem_coll *c = v->colls; c != NULL; c = c->next)
        if (strcmp(c->name, name) == 0)
            clear_index(c->impl);
    return 0;
}

static int local_write(struct vmem_coll *c, bool upsert, const struct vmem_record *rec, size_t n,
                       char **cause)
{
    size_t argc = 2 + 5 * n, k = 0;
    const char **argv = xcalloc(argc, sizeof *argv);
    size_t *lens = xcalloc(argc, sizeof *lens);
    char **metas = xcalloc(n, sizeof *metas);
    struct lcoll *lc = c->impl;
    redisReply *r;

    argv[k] = lc->key;
    lens[k++] = strlen(lc->key);
    argv[k] = upsert ? "upsert" : "add";
    lens[k++] = strlen(argv[1]);
    for (size_t i = 0; i < n; i++) {
        metas[i] =
            rec[i].metadata != NULL ? json_dumps(rec[i].metadata, JSON_COMPACT) : xstrdup("");
        argv[k] = rec[i].id;
        lens[k++] = strlen(rec[i].id);
        argv[k] = (const char *)rec[i].embedding;
        lens[k++] = (size_t)c->dim * sizeof(float);
        argv[k] = rec[i].document != NULL ? "1" : "0";
        lens[k++] = 1;
        argv[k] = rec[i].document != NULL ? rec[i].document : "";
        lens[k] = strlen(argv[k]);
        k++;
        argv[k] = metas[i];
        lens[k++] = strlen(metas[i]);
    }
    r = eval(c, &lua_mem_write, (int)argc, argv, lens, cause);
    for (size_t i = 0; i < n; i++)
        free(metas[i]);
    free(metas);
    free(lens);
    free(argv);
    if (r == NULL)
        return script_error(c, cause);
    freeReplyObject(r);
    return 0;
}

/* Keeps the records back for the next sync (copies), and puts them in this handle's index at
 * once, so its own queries see them. */
static int local_write_later(struct vmem_coll *c, const struct vmem_record *rec, size_t n,
                             char **cause)
{
    struct lcoll *lc = c->impl;

    (void)cause;
    lc->pend = xrealloc(lc->pend, (lc->npend + n) * sizeof *lc->pend);
    for (size_t i = 0; i < n; i++) {
        struct pending *p = &lc->pend[lc->npend++];
        long r;

        p->id = xstrdup(rec[i].id);
        p->doc = rec[i].document != NULL ? xstrdup(rec[i].document) : NULL;
        p->meta = rec[i].metadata != NULL ? json_dumps(rec[i].metadata, JSON_COMPACT) : NULL;
        if (p->meta == NULL)
            p->meta = xstrdup("");
        p->blen = (size_t)c->dim * sizeof(float);
        p->blob = xmalloc(p->blen);
        memcpy(p->blob, rec[i].embedding, p->blen);
        if (lc->nslots == 0)
            rehash(lc, 0);
        /* Its place in insertion order is the server's to give; after everything for now. */
        apply(lc, c->dim, p->id, p->blob, p->blen, p->meta[0] != '\0' ? p->meta : "{}",
              lc->seq + (long long)lc->npend);
        if (p->doc != NULL && (r = find(lc, p->id)) >= 0)
            lc->docs[r] = xstrdup(p->doc);
    }
    return 0;
}

static int local_flush(struct vmem_coll *c, char **cause)
{
    struct lcoll *lc = c->impl;

    return lc->npend > 0 ? sync_index(c, cause) : 0;
}

/* Fetches records by id (at most IDS_PER_CALL a round trip) into out, in the order given,
 * leaving out those that do not exist or fail where. */
static int fetch(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
                 int include, struct vmem_result *out, char **cause)
{
    struct lcoll *lc = c->impl;

    for (size_t at = 0; at < nids; at += IDS_PER_CALL) {
        size_t m = nids - at < IDS_PER_CALL ? nids - at : IDS_PER_CALL;
        const char **argv = xcalloc(m + 1, sizeof *argv);
        redisReply *r, *vecs, *metas, *docs;

        argv[0] = lc->key;
        for (size_t i = 0; i < m; i++)
            argv[i + 1] = ids[at + i];
        r = eval(c, &lua_mem_get, (int)m + 1, argv, NULL, cause);
        free(argv);
        if (r == NULL)
            return script_error(c, cause);
        vecs = r->element[0];
        metas = r->element[1];
        docs = r->element[2];
        for (size_t i = 0; i < m; i++) {
            const redisReply *v = vecs->element[i], *d = docs->element[i];
            json_t *meta;
            struct vmem_hit *h;

            if (v->type != REDIS_REPLY_STRING || v->len != (size_t)c->dim * sizeof(float))
                continue;
            meta = json_loads(metas->element[i]->type == REDIS_REPLY_STRING ? metas->element[i]->str
                                                                            : "{}",
                              0, NULL);
            if (meta == NULL)
                meta = json_object();
            if (!vmem_where_match(where, meta)) {
                json_decref(meta);
                continue;
            }
            h = vmem_result_add(out);
            h->id = xstrdup(ids[at + i]);
            if ((include & VMEM_DOCUMENTS) && d->type == REDIS_REPLY_STRING)
                h->document = xstrdup(d->str);
            if (include & VMEM_METADATAS)
                h->metadata = meta;
            else
                json_decref(meta);
            if (include & VMEM_EMBEDDINGS) {
                h->embedding = xcalloc((size_t)c->dim, sizeof *h->embedding);
                memcpy(h->embedding, v->str, v->len);
            }
        }
        freeReplyObject(r);
    }
    return 0;
}

static int cmp_order(const void *a, const void *b, void *arg)
{
    const long long *order = arg;
    long long x = order[*(const size_t *)a], y = order[*(const size_t *)b];

    return x < y ? -1 : x > y;
}

/* Indexes of the records passing where, in insertion order (sorted by insertion sort: the
 * index is mostly in order already). */
static size_t *matching(const struct lcoll *lc, const json_t *where, size_t *n)
{
    size_t *idx = xcalloc(lc->n + 1, sizeof *idx), k = 0;

    for (size_t i = 0; i < lc->n; i++)
        if (vmem_where_match(where, lc->meta[i]))
            idx[k++] = i;
    for (size_t i = 1; i < k; i++) {
        size_t v = idx[i], j = i;

        while (j > 0 && cmp_order(&idx[j - 1], &v, lc->order) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    *n = k;
    return idx;
}

static int local_get(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
                     size_t limit, size_t offset, int include, struct vmem_result *out,
                     char **cause)
{
    struct lcoll *lc = c->impl;
    size_t n, *idx, from, to;
    const char **sel;
    int rc;

    if (ids != NULL) {
        struct vmem_result all = {0};

        rc = fetch(c, ids, nids, where, include, &all, cause);
        from = offset < all.n ? offset : all.n;
        to = limit > 0 && from + limit < all.n ? from + limit : all.n;
        for (size_t i = 0; rc == 0 && i < all.n; i++)
            if (i >= from && i < to) {
                *vmem_result_add(out) = all.hits[i];
                memset(&all.hits[i], 0, sizeof all.hits[i]);
            }
        vmem_result_clear(&all);
        return rc;
    }
    if ((rc = sync_index(c, cause)) != 0)
        return rc;
    idx = matching(lc, where, &n);
    from = offset < n ? offset : n;
    to = limit > 0 && from + limit < n ? from + limit : n;
    sel = xcalloc(to - from + 1, sizeof *sel);
    for (size_t i = from; i < to; i++)
        sel[i - from] = lc->ids[idx[i]];
    rc = fetch(c, sel, to - from, NULL, include, out, cause);
    free(sel);
    free(idx);
    return rc;
}

/* a . b over n floats, in eight running sums (so the compiler can use vector registers). */
static float dot_product(const float *a, const float *b, int n)
{
    float s[8] = {0};
    int i = 0;

    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            s[k] += a[i + k] * b[i + k];
    for (; i < n; i++)
        s[0] += a[i] * b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static int local_query(struct vmem_coll *c, const float *q, size_t k, const json_t *where,
                       int include, struct vmem_result *out, char **cause)
{
    struct lcoll *lc = c->impl;
    float *unit = xcalloc((size_t)c->dim, sizeof *unit);
    size_t *best = xcalloc(k, sizeof *best), nbest = 0;
    double *score = xcalloc(k, sizeof *score), norm = 0;
    const char **sel;
    struct vmem_result got = {0};
    int rc = 0; /* stays 0 when the handle's copy answers and every document is read already */

    /* The caller knows nothing changed since this handle last read: no round trip. */
    if (!((include & VMEM_CACHED) && lc->loaded && lc->npend == 0) &&
        (rc = sync_index(c, cause)) != 0)
        goto done;
    for (int i = 0; i < c->dim; i++)
        norm += (double)q[i] * (double)q[i];
    for (int i = 0; i < c->dim; i++)
        unit[i] = norm > 0 ? (float)((double)q[i] / sqrt(norm)) : 0.0f;
    for (size_t r = 0; r < lc->n; r++) {
        float dot = dot_product(unit, lc->vecs + r * (size_t)c->dim, c->dim);
        size_t j;

        /* The filter is asked only of a record that would make the k best: most never do. */
        if (nbest == k && (double)dot <= score[k - 1])
            continue;
        if (where != NULL && !vmem_where_match(where, lc->meta[r]))
            continue;
        j = nbest < k ? nbest++ : k - 1;
        while (j > 0 && score[j - 1] < (double)dot) {
            score[j] = score[j - 1];
            best[j] = best[j - 1];
            j--;
        }
        score[j] = (double)dot;
        best[j] = r;
    }
    sel = xcalloc(nbest + 1, sizeof *sel);
    if (include & VMEM_EMBEDDINGS) {
        for (size_t i = 0; i < nbest; i++)
            sel[i] = lc->ids[best[i]];
        rc = fetch(c, sel, nbest, NULL, include, &got, cause);
    } else if (include & VMEM_DOCUMENTS) {
        /* Only the documents this handle has not read before. */
        size_t nsel = 0;

        for (size_t i = 0; i < nbest; i++)
            if (lc->docs[best[i]] == NULL)
                sel[nsel++] = lc->ids[best[i]];
        if (nsel > 0)
            rc = fetch(c, sel, nsel, NULL, VMEM_DOCUMENTS, &got, cause);
        for (size_t g = 0; rc == 0 && g < got.n; g++) {
            long r = find(lc, got.hits[g].id);

            if (r >= 0 && got.hits[g].document != NULL && lc->docs[r] == NULL)
                lc->docs[r] = xstrdup(got.hits[g].document);
        }
    }
    for (size_t i = 0; rc == 0 && i < nbest; i++) {
        struct vmem_hit *h = vmem_result_add(out);
        const char *id = lc->ids[best[i]];

        h->id = xstrdup(id);
        h->distance = 1.0 - score[i];
        if (include & VMEM_METADATAS)
            h->metadata = json_deep_copy(lc->meta[best[i]]);
        if ((include & VMEM_DOCUMENTS) && lc->docs[best[i]] != NULL)
            h->document = xstrdup(lc->docs[best[i]]);
        for (size_t g = 0; (include & VMEM_EMBEDDINGS) && g < got.n; g++)
            if (strcmp(got.hits[g].id, id) == 0) {
                h->document = got.hits[g].document;
                h->embedding = got.hits[g].embedding;
                got.hits[g].document = NULL;
                got.hits[g].embedding = NULL;
                break;
            }
    }
    vmem_result_clear(&got);
    free(sel);
done:
    free(unit);
    free(best);
    free(score);
    return rc;
}

static int local_del(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
                     char **cause)
{
    struct lcoll *lc = c->impl;
    const char **sel = NULL;
    size_t n = 0;
    int rc = 0;

    if (where != NULL) {
        size_t k, *idx;

        if ((rc = sync_index(c, cause)) != 0)
            return rc;
        idx = matching(lc, where, &k);
        sel = xcalloc(k + 1, sizeof *sel);
        for (size_t i = 0; i < k; i++) {
            bool named = ids == NULL;

            for (size_t j = 0; !named && j < nids; j++)
                named = strcmp(ids[j], lc->ids[idx[i]]) == 0;
            if (named)
                sel[n++] = lc->ids[idx[i]];
        }
        free(idx);
    } else {
        sel = xcalloc(nids + 1, sizeof *sel);
        for (size_t i = 0; i < nids; i++)
            sel[n++] = ids[i];
    }
    for (size_t at = 0; at < n && rc == 0; at += IDS_PER_CALL) {
        size_t m = n - at < IDS_PER_CALL ? n - at : IDS_PER_CALL;
        const char **argv = xcalloc(m + 1, sizeof *argv);
        redisReply *r;

        argv[0] = lc->key;
        memcpy(argv + 1, sel + at, m * sizeof *argv);
        r = eval(c, &lua_mem_del, (int)m + 1, argv, NULL, cause);
        free(argv);
        if (r == NULL)
            rc = script_error(c, cause);
        else
            freeReplyObject(r);
    }
    free(sel);
    return rc;
}

static int local_count(struct vmem_coll *c, long *n, char **cause)
{
    struct lcoll *lc = c->impl;
    const char *argv[1] = {lc->key};
    redisReply *r = eval(c, &lua_mem_count, 1, argv, NULL, cause);

    if (r == NULL)
        return script_error(c, cause);
    *n = r->type == REDIS_REPLY_INTEGER ? (long)r->integer : 0;
    freeReplyObject(r);
    return 0;
}

static void local_coll_free(struct vmem_coll *c)
{
    if (c->impl != NULL) {
        clear_index(c->impl);
        pending_clear(c->impl);
    }
    free(c->impl);
}

static void local_free(struct vmem *v)
{
    free(v->impl);
}

const struct vmem_ops vmem_local_ops = {
    .name = "local",
    .heartbeat = local_heartbeat,
    .open = local_open,
    .drop = local_drop,
    .write = local_write,
    .write_later = local_write_later,
    .flush = local_flush,
    .get = local_get,
    .query = local_query,
    .del = local_del,
    .count = local_count,
    .coll_free = local_coll_free,
    .free = local_free,
};

int vmem_local_init(struct vmem *v, struct rlink *l, char **cause)
{
    struct local *lo;

    if (l == NULL) {
        *cause = xasprintf("the local vector memory needs a Redis link");
        return -1;
    }
    lo = xcalloc(1, sizeof *lo);
    lo->link = l;
    v->impl = lo;
    snprintf(v->where, sizeof v->where, "%s", rlink_address(l));
    return 0;
}
