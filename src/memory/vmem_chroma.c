/*
 * vmem_chroma.c - the Chroma backend of vmem.h: the HTTP API v2 of a Chroma server, over one
 * CURL easy handle (the connection is kept between requests and made again when the server
 * went away, so a restarted server is simply reached again).
 *
 *   GET    /api/v2/heartbeat, /api/v2/version (a bare JSON string)
 *   POST   /api/v2/tenants/T/databases (made when the database does not exist)
 *   POST   .../databases/D/collections {"name", "get_or_create": true,
 *                                       "configuration": {"hnsw": {"space": "cosine"}}}
 *   DELETE .../collections/NAME        (by name)
 *   POST   .../collections/ID/add|upsert|get|query|delete   (by id)
 *   GET    .../collections/ID/count    (a bare JSON number)
 *
 * Every POST carries Content-Type: application/json; a token goes as Authorization: Bearer and
 * never into a message. An error answer {"error", "message"} becomes "Chroma at URL: MESSAGE
 * (HTTP 400 InvalidArgumentError)"; an answer that is not the documented JSON is a malformed
 * answer, named with its request. A record endpoint's 404 is VMEM_GONE (vmem.c opens the
 * collection again and retries). Threads: one vmem, one thread.
 */
#include "memory/vmem_int.h"

#include "core/fail.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The biggest answer taken (a get of many records with their vectors). */
#define CHROMA_ANSWER_MAX (256u * 1024 * 1024)

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fail("curl_global_init failed");
}

struct chroma {
    CURL *curl;
    char base[256]; /* http://host:port */
    char *auth;     /* "Authorization: Bearer ..." or NULL */
    char *tenant, *database;
    int timeout_ms;
};

struct coll_impl {
    char id[64];
};

struct answer {
    char *buf;
    size_t len;
    bool too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *user)
{
    struct answer *a = user;
    size_t add = size * n;

    if (a->len + add > CHROMA_ANSWER_MAX) {
        a->too_big = true;
        return 0;
    }
    a->buf = xrealloc(a->buf, a->len + add + 1);
    memcpy(a->buf + a->len, data, add);
    a->len += add;
    a->buf[a->len] = '\0';
    return add;
}

/* One request: method and path (under base), body (NULL for none). Returns the HTTP status
 * with *json the parsed answer (new reference; NULL when the body is not JSON), or -1 with
 * *cause when no answer came. */
static long request(struct chroma *ch, const char *method, const char *path, const json_t *body,
                    json_t **json, char **cause)
{
    struct curl_slist *hl = NULL;
    struct answer a = {0};
    char url[1024], *text = NULL;
    long status = 0;
    CURLcode rc;

    *json = NULL;
    snprintf(url, sizeof url, "%s%s", ch->base, path);
    hl = curl_slist_append(hl, "Accept: application/json");
    hl = curl_slist_append(hl, "Expect:");
    if (ch->auth != NULL)
        hl = curl_slist_append(hl, ch->auth);
    curl_easy_reset(ch->curl);
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL)
            fail("out of memory encoding a Chroma request");
        hl = curl_slist_append(hl, "Content-Type: application/json");
        curl_easy_setopt(ch->curl, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(ch->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    }
    if (hl == NULL)
        fail("out of memory building HTTP headers");
    curl_easy_setopt(ch->curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(ch->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(ch->curl, CURLOPT_URL, url);
    curl_easy_setopt(ch->curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(ch->curl, CURLOPT_TIMEOUT_MS, (long)ch->timeout_ms);
    curl_easy_setopt(ch->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(ch->timeout_ms < 5000 ? ch->timeout_ms : 5000));
    curl_easy_setopt(ch->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ch->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(ch->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(ch->curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(ch->curl, CURLOPT_USERAGENT, "newsroom/" NEWSROOM_VERSION);
    rc = curl_easy_perform(ch->curl);
    curl_slist_free_all(hl);
    free(text);
    if (rc != CURLE_OK) {
        *cause = a.too_big ? xasprintf("Chroma at %s: the answer to %s %s is longer than %u bytes",
                                       ch->base, method, path, CHROMA_ANSWER_MAX)
                           : xasprintf("Chroma at %s is unreachable: %s %s: %s", ch->base, method,
                                       path, curl_easy_strerror(rc));
        free(a.buf);
        return -1;
    }
    curl_easy_getinfo(ch->curl, CURLINFO_RESPONSE_CODE, &status);
    if (a.buf != NULL)
        *json = json_loadb(a.buf, a.len, JSON_DECODE_ANY, NULL);
    free(a.buf);
    return status;
}

/* The message of a failed request: Chroma's {"error", "message"}, or what came. */
static char *failure(const struct chroma *ch, const char *method, const char *path, long status,
                     const json_t *j)
{
    const char *msg = json_string_value(json_object_get(j, "message"));
    const char *err = json_string_value(json_object_get(j, "error"));

    if (msg != NULL)
        return xasprintf("Chroma at %s: %s %s: %.400s (HTTP %ld%s%s)", ch->base, method, path, msg,
                         status, err != NULL ? " " : "", err != NULL ? err : "");
    return xasprintf("Chroma at %s: %s %s answered HTTP %ld without an error message", ch->base,
                     method, path, status);
}

static char *malformed(const struct chroma *ch, const char *method, const char *path,
                       const char *what)
{
    return xasprintf("Chroma at %s: malformed answer to %s %s: %s", ch->base, method, path, what);
}

/* A request that must succeed with 2xx: 0 with *json (may be NULL to drop it), VMEM_GONE for a
 * 404 when gone_ok, or -1 with *cause. */
static int call(struct chroma *ch, const char *method, const char *path, const json_t *body,
                bool gone_ok, json_t **json, char **cause)
{
    json_t *j = NULL;
    long st = request(ch, method, path, body, &j, cause);

    if (st == -1)
        return -1;
    if (st >= 200 && st <= 299) {
        if (json != NULL)
            *json = j;
        else
            json_decref(j);
        return 0;
    }
    if (st == 404 && gone_ok) {
        *cause = failure(ch, method, path, st, j);
        json_decref(j);
        return VMEM_GONE;
    }
    *cause = failure(ch, method, path, st, j);
    json_decref(j);
    return -1;
}

static int chroma_heartbeat(struct vmem *v, char **version, char **cause)
{
    struct chroma *ch = v->impl;
    json_t *j = NULL;

    if (call(ch, "GET", "/api/v2/heartbeat", NULL, false, &j, cause) == -1)
        return -1;
    if (!json_is_integer(json_object_get(j, "nanosecond heartbeat"))) {
        json_decref(j);
        *cause = malformed(ch, "GET", "/api/v2/heartbeat", "no \"nanosecond heartbeat\" number");
        return -1;
    }
    json_decref(j);
    if (version == NULL)
        return 0;
    if (call(ch, "GET", "/api/v2/version", NULL, false, &j, cause) == -1)
        return -1;
    if (!json_is_string(j)) {
        json_decref(j);
        *cause = malformed(ch, "GET", "/api/v2/version", "not a JSON string");
        return -1;
    }
    *version = xstrdup(json_string_value(j));
    json_decref(j);
    return 0;
}

/* The path of the database's collections, or of one collection's endpoint (by id or name). */
static void db_path(const struct chroma *ch, char *buf, size_t size, const char *rest)
{
    char *t = curl_easy_escape(ch->curl, ch->tenant, 0),
         *d = curl_easy_escape(ch->curl, ch->database, 0);

    snprintf(buf, size, "/api/v2/tenants/%s/databases/%s/collections%s", t, d, rest);
    curl_free(t);
    curl_free(d);
}

static int make_database(struct chroma *ch, char **cause)
{
    char path[512], *t = curl_easy_escape(ch->curl, ch->tenant, 0);
    json_t *body = json_pack("{s:s}", "name", ch->database);
    int rc;

    snprintf(path, sizeof path, "/api/v2/tenants/%s/databases", t);
    curl_free(t);
    rc = call(ch, "POST", path, body, false, NULL, cause);
    json_decref(body);
    return rc;
}

static int chroma_open(struct vmem_coll *c, char **cause)
{
    struct chroma *ch = c->v->impl;
    struct coll_impl *ci = c->impl != NULL ? c->impl : xcalloc(1, sizeof *ci);
    json_t *body = json_pack("{s:s, s:b, s:{s:{s:s}}}", "name", c->name, "get_or_create", 1,
                             "configuration", "hnsw", "space", "cosine");
    json_t *j = NULL, *dim;
    const char *id, *space;
    char path[512];
    long st;

    c->impl = ci;
    db_path(ch, path, sizeof path, "");
    st = request(ch, "POST", path, body, &j, cause);
    if (st == 400 && json_is_string(json_object_get(j, "message")) &&
        strstr(json_string_value(json_object_get(j, "message")), "does not exist") != NULL) {
        /* The database is made on first use, as Redis databases are there from the start. */
        json_decref(j);
        j = NULL;
        if (make_database(ch, cause) == -1) {
            json_decref(body);
            return -1;
        }
        st = request(ch, "POST", path, body, &j, cause);
    }
    json_decref(body);
    if (st == -1)
        return -1;
    if (st < 200 || st > 299) {
        *cause = failure(ch, "POST", path, st, j);
        json_decref(j);
        return -1;
    }
    id = json_string_value(json_object_get(j, "id"));
    space = json_string_value(json_object_get(
        json_object_get(json_object_get(j, "configuration_json"), "hnsw"), "space"));
    dim = json_object_get(j, "dimension");
    if (id == NULL || strlen(id) >= sizeof ci->id) {
        *cause = malformed(ch, "POST", path, "no collection \"id\"");
        json_decref(j);
        return -1;
    }
    if (space != NULL && strcmp(space, "cosine") != 0) {
        *cause = xasprintf("Chroma at %s: collection %s uses %s distance, not cosine (drop it, or "
                           "use another collection prefix)",
                           ch->base, c->name, space);
        json_decref(j);
        return -1;
    }
    if (json_is_integer(dim) && json_integer_value(dim) != c->dim) {
        *cause = xasprintf("Chroma at %s: collection %s holds %lld-dimension embeddings, this "
                           "embedder makes %d (another embedding kind or dimension wrote it)",
                           ch->base, c->name, (long long)json_integer_value(dim), c->dim);
        json_decref(j);
        return -1;
    }
    snprintf(ci->id, sizeof ci->id, "%s", id);
    json_decref(j);
    return 0;
}

static int chroma_drop(struct vmem *v, const char *name, char **cause)
{
    struct chroma *ch = v->impl;
    char path[1024], *n = curl_easy_escape(ch->curl, name, 0), rest[600];
    int rc;

    snprintf(rest, sizeof rest, "/%s", n);
    curl_free(n);
    db_path(ch, path, sizeof path, rest);
    rc = call(ch, "DELETE", path, NULL, true, NULL, cause);
    if (rc == VMEM_GONE) {
        free(*cause);
        *cause = NULL;
        rc = 0;
    }
    return rc;
}

static void coll_path(const struct vmem_coll *c, const char *what, char *buf, size_t size)
{
    const struct coll_impl *ci = c->impl;
    char rest[128];

    snprintf(rest, sizeof rest, "/%s%s", ci->id, what);
    db_path(c->v->impl, buf, size, rest);
}

static json_t *vector_json(const float *v, int dim)
{
    json_t *a = json_array();

    for (int i = 0; i < dim; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

static int chroma_write(struct vmem_coll *c, bool upsert, const struct vmem_record *r, size_t n,
                        char **cause)
{
    json_t *ids = json_array(), *embs = json_array(), *docs = json_array(), *metas = json_array();
    json_t *body;
    char path[512];
    bool any_doc = false, any_meta = false;
    int rc;

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(ids, json_string(r[i].id));
        json_array_append_new(embs, vector_json(r[i].embedding, c->dim));
        json_array_append_new(docs,
                              r[i].document != NULL ? json_string(r[i].document) : json_null());
        json_array_append_new(metas,
                              r[i].metadata != NULL ? json_deep_copy(r[i].metadata) : json_null());
        any_doc |= r[i].document != NULL;
        any_meta |= r[i].metadata != NULL;
    }
    body = json_pack("{s:o, s:o}", "ids", ids, "embeddings", embs);
    if (any_doc)
        json_object_set(body, "documents", docs);
    if (any_meta)
        json_object_set(body, "metadatas", metas);
    json_decref(docs);
    json_decref(metas);
    coll_path(c, upsert ? "/upsert" : "/add", path, sizeof path);
    rc = call(c->v->impl, "POST", path, body, true, NULL, cause);
    json_decref(body);
    return rc;
}

static json_t *include_json(int include)
{
    static const struct {
        int bit;
        const char *name;
    } names[] = {{VMEM_DOCUMENTS, "documents"},
                 {VMEM_METADATAS, "metadatas"},
                 {VMEM_EMBEDDINGS, "embeddings"},
                 {VMEM_DISTANCES, "distances"}};
    json_t *a = json_array();

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (include & names[i].bit)
            json_array_append_new(a, json_string(names[i].name));
    return a;
}

/* Fills hits from the parallel arrays of a get answer (or one row of a query answer). */
static int read_rows(const struct vmem_coll *c, const char *path, const json_t *ids,
                     const json_t *docs, const json_t *metas, const json_t *embs,
                     const json_t *dists, int include, struct vmem_result *out, char **cause)
{
    const struct chroma *ch = c->v->impl;
    size_t i, n = json_array_size(ids);
    json_t *id;

    if (!json_is_array(ids) || ((include & VMEM_DOCUMENTS) && json_array_size(docs) != n) ||
        ((include & VMEM_METADATAS) && json_array_size(metas) != n) ||
        ((include & VMEM_EMBEDDINGS) && json_array_size(embs) != n) ||
        ((include & VMEM_DISTANCES) && json_array_size(dists) != n)) {
        *cause = malformed(ch, "POST", path,
                           "\"ids\" and the arrays asked for differ or are "
                           "missing");
        return -1;
    }
    json_array_foreach(ids, i, id)
    {
        struct vmem_hit *h;
        const json_t *d = json_array_get(docs, i), *m = json_array_get(metas, i);
        const json_t *e = json_array_get(embs, i), *dist = json_array_get(dists, i);

        if (!json_is_string(id) || ((include & VMEM_DISTANCES) && !json_is_number(dist)) ||
            ((include & VMEM_EMBEDDINGS) && json_array_size(e) != (size_t)c->dim) ||
            ((include & VMEM_METADATAS) && m != NULL && !json_is_null(m) && !json_is_object(m))) {
            *cause = malformed(ch, "POST", path,
                               "a record's id, distance, embedding or metadata "
                               "is of the wrong type");
            return -1;
        }
        h = vmem_result_add(out);
        h->id = xstrdup(json_string_value(id));
        if (json_is_string(d))
            h->document = xstrdup(json_string_value(d));
        if (include & VMEM_METADATAS)
            h->metadata = json_is_object(m) ? json_incref((json_t *)m) : json_object();
        if (include & VMEM_EMBEDDINGS) {
            h->embedding = xcalloc((size_t)c->dim, sizeof *h->embedding);
            for (int k = 0; k < c->dim; k++)
                h->embedding[k] = (float)json_number_value(json_array_get(e, (size_t)k));
        }
        if (include & VMEM_DISTANCES)
            h->distance = json_number_value(dist);
    }
    return 0;
}

/* The "ids" (when ids is not NULL) and "where" (when not NULL) of a get or delete body. */
static void add_filter(json_t *body, const char *const *ids, size_t nids, const json_t *where)
{
    if (ids != NULL) {
        json_t *a = json_array();

        for (size_t i = 0; i < nids; i++)
            json_array_append_new(a, json_string(ids[i]));
        json_object_set_new(body, "ids", a);
    }
    if (where != NULL)
        json_object_set(body, "where", (json_t *)where);
}

static int chroma_get(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
                      size_t limit, size_t offset, int include, struct vmem_result *out,
                      char **cause)
{
    json_t *body = json_pack("{s:o}", "include", include_json(include & ~VMEM_DISTANCES)),
           *j = NULL;
    char path[512];
    int rc;

    add_filter(body, ids, nids, where);
    if (limit > 0)
        json_object_set_new(body, "limit", json_integer((json_int_t)limit));
    if (offset > 0)
        json_object_set_new(body, "offset", json_integer((json_int_t)offset));
    coll_path(c, "/get", path, sizeof path);
    rc = call(c->v->impl, "POST", path, body, true, &j, cause);
    json_decref(body);
    if (rc != 0)
        return rc;
    rc = read_rows(c, path, json_object_get(j, "ids"), json_object_get(j, "documents"),
                   json_object_get(j, "metadatas"), json_object_get(j, "embeddings"), NULL,
                   include & ~VMEM_DISTANCES, out, cause);
    json_decref(j);
    if (rc == -1)
        vmem_result_clear(out);
    return rc;
}

static int chroma_query(struct vmem_coll *c, const float *q, size_t k, const json_t *where,
                        int include, struct vmem_result *out, char **cause)
{
    json_t *body = json_pack("{s:[o], s:I, s:o}", "query_embeddings", vector_json(q, c->dim),
                             "n_results", (json_int_t)k, "include", include_json(include));
    json_t *j = NULL;
    char path[512];
    int rc;

    if (where != NULL)
        json_object_set(body, "where", (json_t *)where);
    coll_path(c, "/query", path, sizeof path);
    rc = call(c->v->impl, "POST", path, body, true, &j, cause);
    json_decref(body);
    if (rc != 0)
        return rc;
    rc = read_rows(c, path, json_array_get(json_object_get(j, "ids"), 0),
                   json_array_get(json_object_get(j, "documents"), 0),
                   json_array_get(json_object_get(j, "metadatas"), 0),
                   json_array_get(json_object_get(j, "embeddings"), 0),
                   json_array_get(json_object_get(j, "distances"), 0), include, out, cause);
    json_decref(j);
    if (rc == -1)
        vmem_result_clear(out);
    return rc;
}

static int chroma_del(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
                      char **cause)
{
    json_t *body = json_object();
    char path[512];
    int rc;

    add_filter(body, ids, nids, where);
    coll_path(c, "/delete", path, sizeof path);
    rc = call(c->v->impl, "POST", path, body, true, NULL, cause);
    json_decref(body);
    return rc;
}

static int chroma_count(struct vmem_coll *c, long *n, char **cause)
{
    json_t *j = NULL;
    char path[512];
    int rc;

    coll_path(c, "/count", path, sizeof path);
    rc = call(c->v->impl, "GET", path, NULL, true, &j, cause);
    if (rc != 0)
        return rc;
    if (!json_is_integer(j)) {
        json_decref(j);
        *cause = malformed(c->v->impl, "GET", path, "not a bare JSON number");
        return -1;
    }
    *n = (long)json_integer_value(j);
    json_decref(j);
    return 0;
}

static void chroma_coll_free(struct vmem_coll *c)
{
    free(c->impl);
}

static void chroma_free(struct vmem *v)
{
    struct chroma *ch = v->impl;

    curl_easy_cleanup(ch->curl);
    if (ch->auth != NULL) {
        memset(ch->auth, 0, strlen(ch->auth));
        free(ch->auth);
    }
    free(ch->tenant);
    free(ch->database);
    free(ch);
}

const struct vmem_ops vmem_chroma_ops = {
    .name = "chroma",
    .heartbeat = chroma_heartbeat,
    .open = chroma_open,
    .drop = chroma_drop,
    .write = chroma_write,
    .get = chroma_get,
    .query = chroma_query,
    .del = chroma_del,
    .count = chroma_count,
    .coll_free = chroma_coll_free,
    .free = chroma_free,
};

int vmem_chroma_init(struct vmem *v, const struct vmem_config *c, char **cause)
{
    struct chroma *ch;

    if (c->host == NULL || c->host[0] == '\0' || strlen(c->host) > 200 ||
        strpbrk(c->host, "/?#@ ") != NULL) {
        *cause = xasprintf("Chroma host \"%.64s\" is empty or not a host name (CHROMA_HOST)",
                           c->host != NULL ? c->host : "");
        return -1;
    }
    pthread_once(&global_once, global_init);
    ch = xcalloc(1, sizeof *ch);
    ch->curl = curl_easy_init();
    if (ch->curl == NULL)
        fail("curl_easy_init failed");
    snprintf(ch->base, sizeof ch->base,
             strchr(c->host, ':') != NULL ? "http://[%s]:%d" : "http://%s:%d", c->host,
             c->port > 0 ? c->port : 8000);
    if (c->token != NULL && c->token[0] != '\0')
        ch->auth = xasprintf("Authorization: Bearer %s", c->token);
    ch->tenant = xstrdup(c->tenant != NULL && c->tenant[0] != '\0' ? c->tenant : "default_tenant");
    ch->database =
        xstrdup(c->database != NULL && c->database[0] != '\0' ? c->database : "default_database");
    ch->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    v->impl = ch;
    snprintf(v->where, sizeof v->where, "%s", ch->base);
    return 0;
}
