/*
 * test_memory.c - the vector memory (src/memory/vmem.h) and the embedders (embed.h).
 *
 * One set of behaviour tests runs against both backends: the local one on the shared test
 * Redis (database 40, flushed first) and Chroma, the real server scripts/test starts
 * (NEWSROOM_TEST_CHROMA_HOST/_PORT; collections named after this process so parallel tests
 * never meet): get-or-create, add (existing ids left alone), upsert (metadata merged, a null
 * deleting a key, the document kept when none is given), get by ids and by where with limit
 * and offset in insertion order, query with exact cosine distances and filters, k past the
 * count and k 0, delete by ids and by where, count, drop, every where operator, and the clear
 * errors: a wrong dimension (on write and on open), a bad where filter, nested metadata. The
 * local backend's handles share the collection through Redis (a second handle sees a first
 * one's writes, and a handle that fell behind a trimmed change log loads it afresh). Chroma
 * alone: a server that is down, malformed answers and the token (a local libmicrohttpd stand-in
 * for those), and a private Chroma stopped and started again under a handle that goes on
 * (reconnect) and a collection dropped under it (looked up again). The hash embedding's
 * properties, and the OpenAI-compatible embedder against the fake API (request shape, the
 * cache in Redis, a wrong dimension, a malformed answer, a refused key never shown).
 */
#include "fake_http.h"
#include "fake_llm.h"
#include "testenv.h"

#include "core/clock.h"
#include "core/fail.h"
#include "memory/embed.h"
#include "memory/vmem.h"
#include "store/rlink.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define DB 40

struct fx {
    enum vmem_kind kind;
    struct rlink *l;
    struct vmem *v;
    char name[96]; /* this test's collection */
};

static const enum vmem_kind LOCAL = VMEM_LOCAL, CHROMA = VMEM_CHROMA;

static struct vmem *open_backend(enum vmem_kind kind, struct rlink *l, const char *port)
{
    struct vmem_config c = {.kind = kind,
                            .host = "127.0.0.1",
                            .port = port != NULL ? atoi(port) : 0,
                            .timeout_ms = 5000};
    char *cause = NULL;
    struct vmem *v = vmem_open(&c, l, &cause);

    if (v == NULL)
        fail_msg("vmem_open: %s", cause);
    return v;
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    static int seq;

    f->kind = *(const enum vmem_kind *)*state;
    f->l = test_shared_link(DB, "test_memory");
    if (f->kind == VMEM_LOCAL)
        freeReplyObject(test_must(f->l, "FLUSHDB", NULL));
    f->v = open_backend(f->kind, f->l,
                        f->kind == VMEM_CHROMA ? test_env("NEWSROOM_TEST_CHROMA_PORT") : NULL);
    snprintf(f->name, sizeof f->name, "t%d-%d-coll", (int)getpid(), ++seq);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char *cause = NULL;

    if (vmem_drop(f->v, f->name, &cause) == -1)
        free(cause);
    vmem_free(f->v);
    rlink_free(f->l);
    free(f);
    return 0;
}

static struct vmem_coll *coll(struct fx *f, int dim)
{
    char *cause = NULL;
    struct vmem_coll *c = vmem_collection(f->v, f->name, dim, &cause);

    if (c == NULL)
        fail_msg("vmem_collection: %s", cause);
    return c;
}

static void put(struct vmem_coll *c, bool upsert, const char *id, const float *vec, const char *doc,
                const char *meta_json)
{
    json_t *meta = meta_json != NULL ? json_loads(meta_json, 0, NULL) : NULL;
    struct vmem_record r = {id, vec, doc, meta};
    char *cause = NULL;
    int rc = upsert ? vmem_upsert(c, &r, 1, &cause) : vmem_add(c, &r, 1, &cause);

    if (rc != 0)
        fail_msg("%s %s: %s", upsert ? "upsert" : "add", id, cause);
    json_decref(meta);
}

/* The ids of a result, in order, as "a,b,c". */
static char *ids_of(const struct vmem_result *r)
{
    char *s = xstrdup("");

    for (size_t i = 0; i < r->n; i++) {
        char *next = xasprintf("%s%s%s", s, i ? "," : "", r->hits[i].id);

        free(s);
        s = next;
    }
    return s;
}

/* The ids of a get with where (JSON text, NULL for none), limit and offset. */
static char *get_ids(struct vmem_coll *c, const char *where_json, size_t limit, size_t offset)
{
    json_t *where = where_json != NULL ? json_loads(where_json, 0, NULL) : NULL;
    struct vmem_result r;
    char *cause = NULL, *s;

    if (where_json != NULL && where == NULL)
        fail_msg("bad test filter %s", where_json);
    if (vmem_get(c, NULL, 0, where, limit, offset, 0, &r, &cause) != 0)
        fail_msg("get %s: %s", where_json ? where_json : "", cause);
    json_decref(where);
    s = ids_of(&r);
    vmem_result_clear(&r);
    return s;
}

static void expect_get(struct vmem_coll *c, const char *where, size_t limit, size_t offset,
                       const char *want)
{
    char *got = get_ids(c, where, limit, offset);

    if (strcmp(got, want) != 0)
        fail_msg("get where %s limit %zu offset %zu: got [%s], want [%s]", where ? where : "-",
                 limit, offset, got, want);
    free(got);
}

static long count_of(struct vmem_coll *c)
{
    long n = -1;
    char *cause = NULL;

    if (vmem_count(c, &n, &cause) != 0)
        fail_msg("count: %s", cause);
    return n;
}

static const float X[3] = {1, 0, 0}, Y[3] = {0, 1, 0}, Z[3] = {0, 0, 1}, XY[3] = {3, 4, 0};

/* Add, upsert, get, count: Chroma's semantics on both backends. */
static void test_records(void **state)
{
    struct fx *f = *state;
    struct vmem_coll *c = coll(f, 3);
    const char *const ids[] = {"b", "nope", "a"};
    struct vmem_result r;
    char *cause = NULL;

    assert_ptr_equal(vmem_collection(f->v, f->name, 3, &cause), c);
    assert_int_equal(count_of(c), 0);
    put(c, false, "a", X, "doc a", "{\"source\": \"x\", \"time\": 100, \"w\": 0.5, \"ok\": true}");
    put(c, false, "b", Y, "doc b", "{\"source\": \"y\", \"time\": 200}");
    put(c, false, "c", XY, NULL, NULL);
    assert_int_equal(count_of(c), 3);
    /* add leaves an id that exists alone */
    put(c, false, "a", Z, "doc a2", "{\"source\": \"changed\"}");
    assert_int_equal(vmem_get(c, ids, 3, NULL, 0, 0,
                              VMEM_DOCUMENTS | VMEM_METADATAS | VMEM_EMBEDDINGS, &r, &cause),
                     0);
    assert_int_equal(r.n, 2);
    for (size_t i = 0; i < r.n; i++) {
        const struct vmem_hit *h = &r.hits[i];

        if (strcmp(h->id, "a") == 0) {
            assert_string_equal(h->document, "doc a");
            assert_string_equal(json_string_value(json_object_get(h->metadata, "source")), "x");
            assert_true(json_is_true(json_object_get(h->metadata, "ok")));
            assert_true(fabsf(h->embedding[0] - 1.0f) < 1e-6f && fabsf(h->embedding[2]) < 1e-6f);
        } else {
            assert_string_equal(h->id, "b");
            assert_string_equal(h->document, "doc b");
            assert_int_equal(json_integer_value(json_object_get(h->metadata, "time")), 200);
        }
    }
    vmem_result_clear(&r);
    /* upsert: the vector replaced, the metadata merged (null deletes), the document kept */
    put(c, true, "a", Z, NULL, "{\"source\": \"z\", \"w\": null, \"extra\": 7}");
    assert_int_equal(vmem_get(c, ids + 2, 1, NULL, 0, 0,
                              VMEM_DOCUMENTS | VMEM_METADATAS | VMEM_EMBEDDINGS, &r, &cause),
                     0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.hits[0].document, "doc a");
    assert_string_equal(json_string_value(json_object_get(r.hits[0].metadata, "source")), "z");
    assert_null(json_object_get(r.hits[0].metadata, "w"));
    assert_true(json_is_true(json_object_get(r.hits[0].metadata, "ok")));
    assert_int_equal(json_integer_value(json_object_get(r.hits[0].metadata, "extra")), 7);
    assert_true(fabsf(r.hits[0].embedding[2] - 1.0f) < 1e-6f);
    vmem_result_clear(&r);
    /* an upsert of a new id inserts it; the stored vector is the one given, not normalised */
    put(c, true, "d", XY, "doc d", "{\"source\": \"x\", \"time\": 50}");
    assert_int_equal(vmem_get(c, (const char *[]){"d"}, 1, NULL, 0, 0, VMEM_EMBEDDINGS, &r, &cause),
                     0);
    assert_true(fabsf(r.hits[0].embedding[0] - 3.0f) < 1e-6f);
    assert_null(r.hits[0].document);
    vmem_result_clear(&r);
    assert_int_equal(count_of(c), 4);
    /* get without ids: insertion order, limit and offset */
    expect_get(c, NULL, 0, 0, "a,b,c,d");
    expect_get(c, NULL, 2, 1, "b,c");
    expect_get(c, NULL, 0, 3, "d");
    expect_get(c, NULL, 0, 9, "");
}

/* Every where operator, on get, query and delete, and what a bad filter gets. */
static void test_where(void **state)
{
    struct fx *f = *state;
    struct vmem_coll *c = coll(f, 3);
    static const struct {
        const char *where, *want;
    } cases[] = {
        {"{\"source\": \"x\"}", "a,c"},
        {"{\"source\": {\"$eq\": \"y\"}}", "b"},
        {"{\"source\": {\"$ne\": \"x\"}}", "b,d"},
        {"{\"tag\": {\"$ne\": \"k\"}}", "a,b,d"}, /* records without the key pass $ne */
        {"{\"time\": {\"$gt\": 100}}", "b"},
        {"{\"time\": {\"$gte\": 100}}", "a,b"},
        {"{\"time\": {\"$lt\": 100}}", "c"},
        {"{\"time\": {\"$lte\": 100.0}}", "a,c"},
        {"{\"time\": 200.0}", "b"},
        {"{\"source\": {\"$in\": [\"x\", \"q\"]}}", "a,c"},
        {"{\"source\": {\"$nin\": [\"x\"]}}", "b,d"},
        {"{\"ok\": true}", "a"},
        {"{\"ok\": \"true\"}", ""},
        {"{\"$and\": [{\"source\": \"x\"}, {\"time\": {\"$lt\": 100}}]}", "c"},
        {"{\"$or\": [{\"source\": \"y\"}, {\"$and\": [{\"ok\": true}, {\"time\": 100}]}]}", "a,b"},
    };
    static const char *const bad[] = {
        "{}",
        "{\"source\": \"x\", \"time\": 1}",
        "{\"time\": {\"$gt\": \"a\"}}",
        "{\"source\": {\"$in\": []}}",
        "{\"source\": {\"$in\": [1, \"x\"]}}",
        "{\"source\": {\"$regex\": \"x\"}}",
        "{\"source\": [1]}",
        "{\"$and\": {\"a\": 1}}",
    };
    struct vmem_result r;
    char *cause = NULL;

    put(c, false, "a", X, NULL, "{\"source\": \"x\", \"time\": 100, \"ok\": true}");
    put(c, false, "b", Y, NULL, "{\"source\": \"y\", \"time\": 200}");
    put(c, false, "c", Z, NULL, "{\"source\": \"x\", \"time\": 50, \"tag\": \"k\"}");
    put(c, false, "d", XY, NULL, "{\"source\": \"z\"}");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_get(c, cases[i].where, 0, 0, cases[i].want);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *w = json_loads(bad[i], 0, NULL);

        assert_non_null(w);
        if (vmem_get(c, NULL, 0, w, 0, 0, 0, &r, &cause) == 0)
            fail_msg("the filter %s was taken", bad[i]);
        assert_non_null(strstr(cause, "where"));
        free(cause);
        cause = NULL;
        json_decref(w);
    }
    /* query with a filter: the nearest that passes */
    {
        json_t *w = json_loads("{\"source\": \"x\"}", 0, NULL);

        assert_int_equal(vmem_query(c, Y, 5, w, VMEM_DISTANCES, &r, &cause), 0);
        json_decref(w);
    }
    assert_int_equal(r.n, 2);
    assert_true(fabs(r.hits[0].distance - 1.0) < 1e-4 && fabs(r.hits[1].distance - 1.0) < 1e-4);
    vmem_result_clear(&r);
    /* delete by where, by ids (one unknown), and both */
    {
        json_t *w = json_loads("{\"time\": {\"$lt\": 100}}", 0, NULL);

        assert_int_equal(vmem_delete(c, NULL, 0, w, &cause), 0);
        json_decref(w);
    }
    expect_get(c, NULL, 0, 0, "a,b,d");
    assert_int_equal(vmem_delete(c, (const char *[]){"d", "zz"}, 2, NULL, &cause), 0);
    expect_get(c, NULL, 0, 0, "a,b");
    {
        json_t *w = json_loads("{\"source\": \"y\"}", 0, NULL);

        assert_int_equal(vmem_delete(c, (const char *[]){"a"}, 1, w, &cause), 0);
        json_decref(w);
    }
    expect_get(c, NULL, 0, 0, "a,b");
    assert_int_equal(vmem_delete(c, NULL, 0, NULL, &cause), -1);
    free(cause);
    assert_int_equal(count_of(c), 2);
}

/* Query: nearest first, exact cosine distances (a zero vector is 1 away), k past the count, k
 * 0 answered without asking. */
static void test_query(void **state)
{
    struct fx *f = *state;
    struct vmem_coll *c = coll(f, 3);
    const float q[3] = {1, 0.1f, 0}, zero[3] = {0, 0, 0};
    struct vmem_result r;
    char *cause = NULL, *ids;

    put(c, false, "x", X, "dx", "{\"k\": 1}");
    put(c, false, "y", Y, "dy", NULL);
    put(c, false, "xy", XY, NULL, NULL);
    put(c, false, "zero", zero, NULL, NULL);
    assert_int_equal(
        vmem_query(c, q, 10, NULL, VMEM_DISTANCES | VMEM_DOCUMENTS | VMEM_METADATAS, &r, &cause),
        0);
    ids = ids_of(&r);
    assert_string_equal(ids, "x,xy,y,zero");
    free(ids);
    assert_true(fabs(r.hits[0].distance - (1 - 1 / sqrt(1.01))) < 1e-4);
    assert_true(fabs(r.hits[1].distance - (1 - (3 + 0.4) / (5 * sqrt(1.01)))) < 1e-4);
    assert_true(fabs(r.hits[2].distance - (1 - 0.1 / sqrt(1.01))) < 1e-4);
    assert_true(fabs(r.hits[3].distance - 1.0) < 1e-4);
    assert_string_equal(r.hits[0].document, "dx");
    assert_int_equal(json_integer_value(json_object_get(r.hits[0].metadata, "k")), 1);
    vmem_result_clear(&r);
    assert_int_equal(vmem_query(c, Y, 1, NULL, VMEM_DISTANCES, &r, &cause), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.hits[0].id, "y");
    assert_true(fabs(r.hits[0].distance) < 1e-4);
    vmem_result_clear(&r);
    assert_int_equal(vmem_query(c, Y, 0, NULL, VMEM_DISTANCES, &r, &cause), 0);
    assert_int_equal(r.n, 0);
}

/* Wrong dimensions, bad names and metadata: clear errors, nothing written. */
static void test_errors(void **state)
{
    struct fx *f = *state;
    struct vmem_coll *c = coll(f, 3), *wrong;
    const float four[4] = {1, 2, 3, 4};
    char *cause = NULL, other[128];
    struct vmem *v2;
    json_t *nested = json_loads("{\"arr\": [1, 2]}", 0, NULL);
    struct vmem_record r = {"n", X, NULL, nested};

    put(c, false, "a", X, NULL, NULL);
    /* another handle that writes 4 dimensions into this 3-dimension collection */
    v2 = open_backend(f->kind, f->l,
                      f->kind == VMEM_CHROMA ? test_env("NEWSROOM_TEST_CHROMA_PORT") : NULL);
    wrong = vmem_collection(v2, f->name, 4, &cause);
    assert_null(wrong);
    assert_non_null(strstr(cause, "3-dimension"));
    assert_non_null(strstr(cause, "makes 4"));
    free(cause);
    cause = NULL;
    vmem_free(v2);
    /* an empty collection takes the first dimension written; another is refused */
    snprintf(other, sizeof other, "%s-2", f->name);
    v2 = open_backend(f->kind, f->l,
                      f->kind == VMEM_CHROMA ? test_env("NEWSROOM_TEST_CHROMA_PORT") : NULL);
    wrong = vmem_collection(v2, other, 4, &cause);
    assert_non_null(wrong);
    {
        struct vmem_coll *three = vmem_collection(f->v, other, 3, &cause);
        struct vmem_record four_rec = {"q", four, NULL, NULL};

        assert_non_null(three);
        assert_int_equal(vmem_add(wrong, &four_rec, 1, &cause), 0);
        assert_int_equal(vmem_add(three, &(struct vmem_record){"r", X, NULL, NULL}, 1, &cause), -1);
        assert_non_null(strstr(cause, "dimension of 4, got 3"));
        free(cause);
        cause = NULL;
    }
    assert_int_equal(vmem_drop(v2, other, &cause), 0);
    vmem_free(v2);
    /* metadata that is not flat */
    assert_int_equal(vmem_add(c, &r, 1, &cause), -1);
    assert_non_null(strstr(cause, "arr"));
    free(cause);
    cause = NULL;
    json_decref(nested);
    assert_int_equal(count_of(c), 1);
    /* names */
    assert_null(vmem_collection(f->v, "ab", 3, &cause));
    assert_non_null(strstr(cause, "3 to 512"));
    free(cause);
    cause = NULL;
    assert_null(vmem_collection(f->v, "bad name!", 3, &cause));
    free(cause);
}

/* A collection dropped under a handle is made again on its next write, and the handle's view
 * starts afresh. */
static void test_drop(void **state)
{
    struct fx *f = *state;
    struct vmem_coll *c = coll(f, 3);
    struct vmem *v2 = open_backend(
        f->kind, f->l, f->kind == VMEM_CHROMA ? test_env("NEWSROOM_TEST_CHROMA_PORT") : NULL);
    char *cause = NULL;

    put(c, false, "a", X, NULL, NULL);
    expect_get(c, NULL, 0, 0, "a");
    assert_int_equal(vmem_drop(v2, f->name, &cause), 0);
    assert_int_equal(vmem_drop(v2, f->name, &cause), 0); /* none: still fine */
    put(c, false, "b", Y, NULL, NULL);
    expect_get(c, NULL, 0, 0, "b");
    assert_int_equal(count_of(c), 1);
    vmem_free(v2);
}

/* Two handles (two processes of a swarm) share the collection: each sees the other's writes
 * and deletes at its next read. */
static void test_shared(void **state)
{
    struct fx *f = *state;
    struct vmem_coll *c = coll(f, 3), *c2;
    struct rlink *l2 = test_shared_link(DB, "test_memory_2");
    struct vmem *v2 = open_backend(
        f->kind, l2, f->kind == VMEM_CHROMA ? test_env("NEWSROOM_TEST_CHROMA_PORT") : NULL);
    struct vmem_result r;
    char *cause = NULL;

    c2 = vmem_collection(v2, f->name, 3, &cause);
    assert_non_null(c2);
    put(c, false, "a", X, NULL, NULL);
    expect_get(c2, NULL, 0, 0, "a");
    put(c2, true, "b", Y, NULL, "{\"by\": 2}");
    put(c2, true, "a", Z, NULL, "{\"by\": 2}");
    assert_int_equal(vmem_query(c, Z, 1, NULL, VMEM_METADATAS, &r, &cause), 0);
    assert_string_equal(r.hits[0].id, "a");
    assert_int_equal(json_integer_value(json_object_get(r.hits[0].metadata, "by")), 2);
    vmem_result_clear(&r);
    assert_int_equal(vmem_delete(c2, (const char *[]){"a"}, 1, NULL, &cause), 0);
    expect_get(c, NULL, 0, 0, "b");
    vmem_free(v2);
    rlink_free(l2);
}

/* Local: a handle that fell behind a trimmed change log, or sees more than a page, loads the
 * collection afresh and misses nothing. */
static void test_local_reload(void **state)
{
    struct fx *f = *state;
    struct vmem_coll *c = coll(f, 3), *c2;
    struct rlink *l2 = test_shared_link(DB, "test_memory_2");
    struct vmem *v2 = open_backend(VMEM_LOCAL, l2, NULL);
    enum { N = 2500, CHURN = 10500, BATCH = 500 }; /* N: more than a page (1,024) */
    struct vmem_record *recs = xcalloc(BATCH, sizeof *recs);
    char(*ids)[16] = xcalloc(BATCH, sizeof *ids);
    float(*vecs)[3] = xcalloc(BATCH, sizeof *vecs);
    struct vmem_result r;
    char *cause = NULL;
    long n = 0;

    c2 = vmem_collection(v2, f->name, 3, &cause);
    put(c, false, "first", X, NULL, NULL);
    expect_get(c2, NULL, 1, 0, "first"); /* c2 has loaded the collection */
    /* More changes than the log keeps: c2 must load again. */
    for (int done = 0; done < CHURN; done += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            int k = (done + i) % N;

            snprintf(ids[i], sizeof ids[i], "r%d", k);
            vecs[i][0] = (float)k;
            vecs[i][1] = 1;
            vecs[i][2] = (float)(done / BATCH);
            recs[i] = (struct vmem_record){ids[i], vecs[i], NULL, NULL};
        }
        assert_int_equal(vmem_upsert(c, recs, BATCH, &cause), 0);
    }
    assert_int_equal(vmem_count(c2, &n, &cause), 0);
    assert_int_equal(n, N + 1);
    {
        /* the newest vector of r7: its third coordinate is the last batch's number */
        const float q[3] = {7, 1, (float)((CHURN - 1) / BATCH)};

        assert_int_equal(vmem_query(c2, q, 1, NULL, VMEM_EMBEDDINGS, &r, &cause), 0);
        assert_string_equal(r.hits[0].id, "r7");
        assert_true(fabsf(r.hits[0].embedding[2] - q[2]) < 1e-6f);
        vmem_result_clear(&r);
    }
    assert_int_equal(vmem_get(c2, NULL, 0, NULL, 0, 0, 0, &r, &cause), 0);
    assert_int_equal(r.n, N + 1);
    assert_string_equal(r.hits[0].id, "first");
    vmem_result_clear(&r);
    free(recs);
    free(ids);
    free(vecs);
    vmem_free(v2);
    rlink_free(l2);
}

/* --- Chroma alone --- */

/* A server that is not there: the heartbeat and the collection say so, naming the address. */
static void test_chroma_down(void **state)
{
    struct vmem_config cfg = {
        .kind = VMEM_CHROMA, .host = "127.0.0.1", .port = 1, .timeout_ms = 2000};
    char *cause = NULL;
    struct vmem *v = vmem_open(&cfg, NULL, &cause);

    (void)state;
    assert_non_null(v);
    assert_int_equal(vmem_heartbeat(v, NULL, &cause), -1);
    assert_non_null(strstr(cause, "Chroma at http://127.0.0.1:1 is unreachable"));
    free(cause);
    cause = NULL;
    assert_null(vmem_collection(v, "news_articles", 3, &cause));
    assert_non_null(strstr(cause, "unreachable"));
    free(cause);
    vmem_free(v);
    cfg.host = "";
    assert_null(vmem_open(&cfg, NULL, &cause));
    assert_non_null(strstr(cause, "CHROMA_HOST"));
    free(cause);
}

/* A stand-in that answers what Chroma would not: broken JSON, wrong shapes; it also checks the
 * token and Content-Type of every POST. */
struct stand_in {
    const char *mode; /* "garbage", "shape", "error" */
    int bad_headers;
};

static enum MHD_Result stand_in(void *ctx, const struct fake_http_request *req)
{
    struct stand_in *s = ctx;
    const char *auth = fake_http_header(req, "Authorization");
    const char *ct = fake_http_header(req, "Content-Type");
    const char *json[] = {"Content-Type", "application/json", NULL};
    const char *body;
    unsigned status = 200;

    if (auth == NULL || strcmp(auth, "Bearer s3cret-token") != 0 ||
        (strcmp(req->method, "POST") == 0 &&
         (ct == NULL || strncmp(ct, "application/json", 16) != 0)))
        s->bad_headers++;
    if (strcmp(req->url, "/api/v2/heartbeat") == 0)
        body = "{\"nanosecond heartbeat\": 12}";
    else if (strcmp(req->url, "/api/v2/version") == 0)
        body = "\"1.0.0\"";
    else if (strstr(req->url, "/collections/") == NULL && strcmp(s->mode, "garbage") == 0)
        body = "<html>not json";
    else if (strstr(req->url, "/collections/") == NULL)
        body = "{\"id\": \"0000-1111\", \"name\": \"news_articles\", \"dimension\": null, "
               "\"configuration_json\": {\"hnsw\": {\"space\": \"cosine\"}}}";
    else if (strcmp(s->mode, "error") == 0) {
        status = 500;
        body = "{\"error\": \"InternalError\", \"message\": \"disk full (echoing "
               "s3cret-token? no)\"}";
    } else if (strstr(req->url, "/count") != NULL)
        body = "{\"count\": 3}";
    else
        body = "{\"ids\": [[\"a\"]], \"distances\": [[\"far\"]], \"include\": [\"distances\"]}";
    return fake_http_reply(req->conn, status, json, body, strlen(body));
}

static void test_chroma_malformed(void **state)
{
    struct stand_in s = {"garbage", 0};
    unsigned port;
    struct fake_http *h = fake_http_start("chroma stand-in", stand_in, &s, &port);
    struct vmem_config cfg = {.kind = VMEM_CHROMA,
                              .host = "127.0.0.1",
                              .port = (int)port,
                              .token = "s3cret-token",
                              .timeout_ms = 2000};
    char *cause = NULL, *version = NULL;
    struct vmem *v = vmem_open(&cfg, NULL, &cause);
    struct vmem_coll *c;
    struct vmem_result r;
    long n;

    (void)state;
    assert_int_equal(vmem_heartbeat(v, &version, &cause), 0);
    assert_string_equal(version, "1.0.0");
    free(version);
    assert_null(vmem_collection(v, "news_articles", 3, &cause));
    assert_non_null(strstr(cause, "malformed answer"));
    assert_null(strstr(cause, "s3cret"));
    free(cause);
    cause = NULL;
    s.mode = "shape";
    c = vmem_collection(v, "news_articles", 3, &cause);
    assert_non_null(c);
    assert_int_equal(vmem_query(c, X, 1, NULL, VMEM_DISTANCES, &r, &cause), -1);
    assert_non_null(strstr(cause, "malformed answer to POST"));
    free(cause);
    cause = NULL;
    assert_int_equal(vmem_count(c, &n, &cause), -1);
    assert_non_null(strstr(cause, "not a bare JSON number"));
    free(cause);
    cause = NULL;
    s.mode = "error";
    assert_int_equal(vmem_add(c, &(struct vmem_record){"a", X, NULL, NULL}, 1, &cause), -1);
    assert_non_null(strstr(cause, "disk full"));
    assert_non_null(strstr(cause, "HTTP 500 InternalError"));
    free(cause);
    assert_int_equal(s.bad_headers, 0);
    vmem_free(v);
    fake_http_stop(h);
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("no free port");
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Starts `chroma run` on port with its data in dir; waits until it answers. */
static pid_t chroma_start(const char *dir, int port)
{
    char *bin = xasprintf("%s/chroma", test_env("NEWSROOM_TEST_CHROMA_BIN"));
    char *log = xasprintf("%s/chroma.log", dir), *data = xasprintf("%s/data", dir), ps[16];
    struct vmem_config cfg = {
        .kind = VMEM_CHROMA, .host = "127.0.0.1", .port = port, .timeout_ms = 1000};
    struct vmem *v = vmem_open(&cfg, NULL, &(char *){NULL});
    pid_t pid;
    int64_t end = clock_mono_ms() + 60000;
    char *cause = NULL;

    snprintf(ps, sizeof ps, "%d", port);
    pid = fork();
    if (pid == 0) {
        FILE *out = freopen(log, "a", stdout);

        (void)out;
        dup2(1, 2);
        execl(bin, bin, "run", "--path", data, "--host", "127.0.0.1", "--port", ps, (char *)NULL);
        _exit(127);
    }
    while (vmem_heartbeat(v, NULL, &cause) != 0) {
        free(cause);
        cause = NULL;
        if (clock_mono_ms() > end || waitpid(pid, NULL, WNOHANG) == pid)
            fail_msg("the private Chroma did not answer on port %d (log %s)", port, log);
        clock_sleep_ms(100, NULL);
    }
    vmem_free(v);
    free(bin);
    free(log);
    free(data);
    return pid;
}

static void chroma_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* A private Chroma stopped under a handle: the calls fail, naming it; started again on the
 * same data, the same handle goes on. */
static void test_chroma_reconnect(void **state)
{
    char *dir = test_tmpdir(), *cause = NULL;
    int port = free_port();
    pid_t pid = chroma_start(dir, port);
    struct vmem_config cfg = {
        .kind = VMEM_CHROMA, .host = "127.0.0.1", .port = port, .timeout_ms = 3000};
    struct vmem *v = vmem_open(&cfg, NULL, &cause);
    struct vmem_coll *c = vmem_collection(v, "reconnect_test", 3, &cause);
    struct vmem_result r;

    (void)state;
    assert_non_null(c);
    put(c, false, "a", X, "doc", NULL);
    chroma_stop(pid);
    assert_int_equal(vmem_query(c, X, 1, NULL, VMEM_DISTANCES, &r, &cause), -1);
    assert_non_null(strstr(cause, "unreachable"));
    free(cause);
    cause = NULL;
    pid = chroma_start(dir, port);
    assert_int_equal(vmem_query(c, X, 1, NULL, VMEM_DOCUMENTS, &r, &cause), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.hits[0].document, "doc");
    vmem_result_clear(&r);
    put(c, false, "b", Y, NULL, NULL);
    assert_int_equal(count_of(c), 2);
    vmem_free(v);
    chroma_stop(pid);
    test_rmrf(dir);
    free(dir);
}

/* --- embeddings --- */

static double dot(const float *a, const float *b, int n)
{
    double s = 0;

    for (int i = 0; i < n; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

static void test_hash_embedding(void **state)
{
    enum { D = 512 };
    float a[D], a2[D], b[D], c[D], e[D];
    const char *storm = "Storm Elin hit Bergen on Tuesday with gusts of 140 km/h, cutting power "
                        "to 38,000 homes.";

    (void)state;
    embed_hash(storm, D, a);
    embed_hash(storm, D, a2);
    assert_memory_equal(a, a2, sizeof a);
    assert_true(fabs(dot(a, a, D) - 1.0) < 1e-5);
    embed_hash("38,000 homes lost power when Storm Elin, gusting at 140 km/h, reached Bergen.", D,
               b);
    embed_hash("Harbor Bank reported a quarterly profit of 2.1 billion dollars on Thursday.", D, c);
    assert_true(dot(a, b, D) > 0.5);
    assert_true(dot(a, c, D) < 0.2);
    embed_hash("the of and, to -- !!", D, e); /* only stop words and punctuation */
    assert_true(dot(e, e, D) == 0.0);
    {
        char *f1 = embed_figures("Gusts of 140 km/h cut power to 38,000 homes (38,000!) at 9.30");
        char *f2 = embed_figures("38,000 households, 140 km/h");

        assert_string_equal(f1, "140 38000 930");
        assert_true(embed_figures_agree(f1, f2));
        assert_false(embed_figures_agree(f1, "2026 41"));
        assert_true(embed_figures_agree(f1, ""));
        free(f1);
        free(f2);
    }
}

static void test_openai_embeddings(void **state)
{
    struct fake_llm *fake = fake_llm_start(FAKE_OPENAI, "sk-embed-key");
    struct rlink *l = test_shared_link(DB, "test_memory_cache");
    struct embed_config cfg = {.kind = "openai",
                               .dim = 16,
                               .model = "text-embedding-3-small",
                               .base_url = fake_llm_url(fake),
                               .api_key = "sk-embed-key",
                               .timeout_ms = 5000,
                               .cache_ttl_s = 60};
    const char *texts[] = {"first story", "second story", "first story"};
    float out[3 * 16];
    char *cause = NULL, *body;
    struct embedder *e;
    long hits, misses;

    (void)state;
    freeReplyObject(test_must(l, "FLUSHDB", NULL));
    e = embedder_new(&cfg, l, &cause);
    assert_non_null(e);
    assert_int_equal(embedder_dim(e), 16);
    assert_int_equal(embed_texts(e, texts, 3, out, &cause), 0);
    assert_int_equal(fake_llm_requests(fake), 1);
    body = fake_llm_last_body(fake);
    assert_non_null(strstr(body, "\"dimensions\":16"));
    assert_non_null(strstr(body, "\"encoding_format\":\"float\""));
    free(body);
    assert_null(fake_llm_violation(fake));
    assert_memory_equal(out, out + 32, 16 * sizeof(float)); /* the same text, the same vector */
    assert_true(fabs(dot(out, out, 16) - 1.0) < 1e-5);
    /* the cache: every text again, no request */
    assert_int_equal(embed_texts(e, texts, 2, out, &cause), 0);
    assert_int_equal(fake_llm_requests(fake), 1);
    embedder_cache_stats(e, &hits, &misses);
    assert_int_equal(hits, 2);
    assert_int_equal(misses, 3);
    embedder_free(e);
    /* a wrong dimension, a malformed answer, a refused key: clear errors, never the key */
    cfg.model = "scenario-dim-mismatch";
    e = embedder_new(&cfg, l, &cause);
    assert_int_equal(embed_texts(e, (const char *[]){"new text"}, 1, out, &cause), -1);
    assert_non_null(strstr(cause, "17-dimension"));
    free(cause);
    cause = NULL;
    embedder_free(e);
    cfg.model = "scenario-malformed";
    e = embedder_new(&cfg, NULL, &cause);
    assert_int_equal(embed_texts(e, (const char *[]){"x"}, 1, out, &cause), -1);
    assert_non_null(strstr(cause, "malformed answer"));
    free(cause);
    cause = NULL;
    embedder_free(e);
    cfg.model = "scenario-401";
    e = embedder_new(&cfg, NULL, &cause);
    assert_int_equal(embed_texts(e, (const char *[]){"x"}, 1, out, &cause), -1);
    assert_non_null(strstr(cause, "HTTP 401"));
    assert_null(strstr(cause, "sk-embed-key"));
    free(cause);
    cause = NULL;
    embedder_free(e);
    /* the model's own dimension, learned from the first answer */
    cfg.model = "text-embedding-3-small";
    cfg.dim = 0;
    e = embedder_new(&cfg, NULL, &cause);
    assert_int_equal(embedder_dim(e), 0);
    assert_int_equal(embedder_probe(e, &cause), 0);
    assert_int_equal(embedder_dim(e), 8);
    embedder_free(e);
    cfg.kind = "word2vec";
    assert_null(embedder_new(&cfg, NULL, &cause));
    assert_non_null(strstr(cause, "hash, openai"));
    free(cause);
    rlink_free(l);
    fake_llm_stop(fake);
}

#define BOTH(t)                                                                                    \
    cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, (void *)&LOCAL),                  \
        cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, (void *)&CHROMA)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_records),
        BOTH(test_where),
        BOTH(test_query),
        BOTH(test_errors),
        BOTH(test_drop),
        BOTH(test_shared),
        cmocka_unit_test_prestate_setup_teardown(test_local_reload, setup, teardown,
                                                 (void *)&LOCAL),
        cmocka_unit_test(test_chroma_down),
        cmocka_unit_test(test_chroma_malformed),
        cmocka_unit_test(test_chroma_reconnect),
        cmocka_unit_test(test_hash_embedding),
        cmocka_unit_test(test_openai_embeddings),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
