/*
 * vmem.c - the vector memory's front (vmem.h): checks every argument the same way for both
 * backends (names, metadata, where filters, dimensions), keeps the collection handles, and
 * opens a collection again and retries once when a backend finds it gone. The where grammar
 * and its evaluation for the local backend live here too. A struct vmem belongs to one
 * thread; the pure checks may run anywhere.
 */
#include "memory/vmem_int.h"

#include "core/fail.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    enum vmem_kind kind;
    const struct vmem_ops *ops;
} backends[] = {
    {VMEM_LOCAL, &vmem_local_ops},
    {VMEM_CHROMA, &vmem_chroma_ops},
};

struct vmem *vmem_open(const struct vmem_config *c, struct rlink *l, char **cause)
{
    struct vmem *v = xcalloc(1, sizeof *v);
    int rc = -1;

    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (backends[i].kind == c->kind)
            v->ops = backends[i].ops;
    if (v->ops == &vmem_local_ops)
        rc = vmem_local_init(v, l, cause);
    else if (v->ops == &vmem_chroma_ops)
        rc = vmem_chroma_init(v, c, cause);
    else
        *cause = xasprintf("unknown vector memory backend %d", (int)c->kind);
    if (rc == -1) {
        free(v);
        return NULL;
    }
    return v;
}

void vmem_free(struct vmem *v)
{
    if (v == NULL)
        return;
    while (v->colls != NULL) {
        struct vmem_coll *c = v->colls;
        char *cause = NULL;

        /* What was kept back goes now, best effort: the handle is going. */
        if (vmem_flush(c, &cause) == -1)
            free(cause);

        v->colls = c->next;
        v->ops->coll_free(c);
        free(c->name);
        free(c);
    }
    v->ops->free(v);
    free(v);
}

const char *vmem_kind_name(const struct vmem *v)
{
    return v->ops->name;
}

const char *vmem_where(const struct vmem *v)
{
    return v->where;
}

const char *vmem_coll_name(const struct vmem_coll *c)
{
    return c->name;
}

int vmem_heartbeat(struct vmem *v, char **version, char **cause)
{
    if (version != NULL)
        *version = NULL;
    return v->ops->heartbeat(v, version, cause);
}

int vmem_name_check(const char *name, char **cause)
{
    size_t n = strlen(name);

    if (n < 3 || n > 512 || !isalnum((unsigned char)name[0]) ||
        !isalnum((unsigned char)name[n - 1]))
        goto bad;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && strchr("._-", name[i]) == NULL)
            goto bad;
    return 0;
bad:
    *cause = xasprintf("collection name \"%.64s\" is not 3 to 512 of A-Z a-z 0-9 . _ -, starting "
                       "and ending with a letter or digit",
                       name);
    return -1;
}

struct vmem_coll *vmem_collection(struct vmem *v, const char *name, int dim, char **cause)
{
    struct vmem_coll *c;

    for (c = v->colls; c != NULL; c = c->next)
        if (strcmp(c->name, name) == 0) {
            if (c->dim != dim) {
                *cause = xasprintf("%s collection %s: opened for %d dimensions, asked for %d",
                                   v->ops->name, name, c->dim, dim);
                return NULL;
            }
            return c;
        }
    if (vmem_name_check(name, cause) == -1)
        return NULL;
    if (dim < 1) {
        *cause = xasprintf("%s collection %s: dimension %d (at least 1)", v->ops->name, name, dim);
        return NULL;
    }
    c = xcalloc(1, sizeof *c);
    c->v = v;
    c->name = xstrdup(name);
    c->dim = dim;
    if (v->ops->open(c, cause) == -1) {
        v->ops->coll_free(c);
        free(c->name);
        free(c);
        return NULL;
    }
    c->next = v->colls;
    v->colls = c;
    return c;
}

int vmem_drop(struct vmem *v, const char *name, char **cause)
{
    if (vmem_name_check(name, cause) == -1)
        return -1;
    return v->ops->drop(v, name, cause);
}

int vmem_metadata_check(const json_t *m, bool nulls, char **cause)
{
    const char *key;
    json_t *val;

    if (m == NULL)
        return 0;
    if (!json_is_object(m)) {
        *cause = xasprintf("metadata must be a JSON object");
        return -1;
    }
    json_object_foreach((json_t *)m, key, val)
    {
        if (json_is_string(val) || json_is_number(val) || json_is_boolean(val) ||
            (nulls && json_is_null(val)))
            continue;
        *cause = xasprintf("metadata \"%.64s\": values are strings, numbers or booleans%s", key,
                           nulls ? " (or null, to delete the key)" : "");
        return -1;
    }
    return 0;
}

/* 0 string, 1 number, 2 boolean, -1 anything else. */
static int scalar_kind(const json_t *v)
{
    return json_is_string(v) ? 0 : json_is_number(v) ? 1 : json_is_boolean(v) ? 2 : -1;
}

static const char *const comparisons[] = {"$gt", "$gte", "$lt", "$lte"};

static bool is_comparison(const char *op)
{
    for (size_t i = 0; i < sizeof comparisons / sizeof comparisons[0]; i++)
        if (strcmp(op, comparisons[i]) == 0)
            return true;
    return false;
}

static int where_check(const json_t *w, int depth, char **cause)
{
    const char *key, *op;
    json_t *v, *arg;

    if (depth > 32) {
        *cause = xasprintf("where: nested more than 32 deep");
        return -1;
    }
    if (!json_is_object(w) || json_object_size(w) != 1) {
        *cause = xasprintf("where: each filter is an object with exactly one key (join several "
                           "with $and)");
        return -1;
    }
    json_object_foreach((json_t *)w, key, v)
    {
        if (strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0) {
            size_t i;
            json_t *sub;

            if (!json_is_array(v)) {
                *cause = xasprintf("where: %s takes an array of filters", key);
                return -1;
            }
            json_array_foreach(v, i, sub) if (where_check(sub, depth + 1, cause) == -1) return -1;
            continue;
        }
        if (key[0] == '$') {
            *cause = xasprintf("where: unknown operator %.32s at the top of a filter", key);
            return -1;
        }
        if (scalar_kind(v) >= 0)
            continue;
        if (!json_is_object(v) || json_object_size(v) != 1) {
            *cause = xasprintf("where: \"%.64s\" takes a string, number or boolean, or an object "
                               "with one operator",
                               key);
            return -1;
        }
        json_object_foreach(v, op, arg)
        {
            if (strcmp(op, "$eq") == 0 || strcmp(op, "$ne") == 0) {
                if (scalar_kind(arg) < 0) {
                    *cause = xasprintf("where: %s on \"%.64s\" takes a string, number or boolean",
                                       op, key);
                    return -1;
                }
            } else if (is_comparison(op)) {
                if (!json_is_number(arg)) {
                    *cause = xasprintf("where: %s on \"%.64s\" takes a number", op, key);
                    return -1;
                }
            } else if (strcmp(op, "$in") == 0 || strcmp(op, "$nin") == 0) {
                size_t i;
                json_t *x;
                int kind = scalar_kind(json_array_get(arg, 0));

                if (!json_is_array(arg) || json_array_size(arg) == 0 || kind < 0) {
                    *cause = xasprintf("where: %s on \"%.64s\" takes a non-empty array", op, key);
                    return -1;
                }
                json_array_foreach(arg, i, x) if (scalar_kind(x) != kind)
                {
                    *cause = xasprintf("where: %s on \"%.64s\" mixes value types", op, key);
                    return -1;
                }
            } else {
                *cause = xasprintf("where: unknown operator %.32s on \"%.64s\"", op, key);
                return -1;
            }
        }
    }
    return 0;
}

int vmem_where_check(const json_t *where, char **cause)
{
    return where == NULL ? 0 : where_check(where, 0, cause);
}

/* Equality as Chroma has it: same kind of value, numbers compared as numbers. */
static bool same(const json_t *a, const json_t *b)
{
    if (a == NULL || scalar_kind(a) != scalar_kind(b))
        return false;
    if (json_is_number(a))
        return json_number_value(a) == json_number_value(b);
    if (json_is_string(a))
        return strcmp(json_string_value(a), json_string_value(b)) == 0;
    return json_is_true(a) == json_is_true(b);
}

static bool in_list(const json_t *v, const json_t *list)
{
    size_t i;
    json_t *x;

    json_array_foreach(list, i, x) if (same(v, x)) return true;
    return false;
}

static bool compare(const char *op, const json_t *v, const json_t *arg)
{
    double a, b;

    if (v == NULL || !json_is_number(v))
        return false;
    a = json_number_value(v);
    b = json_number_value(arg);
    return strcmp(op, "$gt") == 0    ? a > b
           : strcmp(op, "$gte") == 0 ? a >= b
           : strcmp(op, "$lt") == 0  ? a < b
                                     : a <= b;
}

bool vmem_where_match(const json_t *w, const json_t *m)
{
    const char *key, *op;
    json_t *v, *arg;

    if (w == NULL)
        return true;
    json_object_foreach((json_t *)w, key, v)
    {
        const json_t *have = m != NULL ? json_object_get(m, key) : NULL;

        if (strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0) {
            bool any = key[1] == 'o';
            size_t i;
            json_t *sub;

            json_array_foreach(v, i, sub)
            {
                bool ok = vmem_where_match(sub, m);

                if (any && ok)
                    return true;
                if (!any && !ok)
                    return false;
            }
            return !any;
        }
        if (!json_is_object(v))
            return same(have, v);
        json_object_foreach(v, op, arg)
        {
            if (strcmp(op, "$eq") == 0)
                return same(have, arg);
            if (strcmp(op, "$ne") == 0)
                return !same(have, arg);
            if (strcmp(op, "$in") == 0)
                return have != NULL && in_list(have, arg);
            if (strcmp(op, "$nin") == 0)
                return have == NULL || !in_list(have, arg);
            return compare(op, have, arg);
        }
    }
    return false;
}

static int check_records(const struct vmem_coll *c, bool upsert, const struct vmem_record *r,
                         size_t n, char **cause)
{
    for (size_t i = 0; i < n; i++) {
        char *why = NULL;

        if (r[i].id == NULL || r[i].id[0] == '\0' || r[i].embedding == NULL) {
            *cause = xasprintf("%s collection %s: record %zu has no id or no embedding",
                               c->v->ops->name, c->name, i);
            return -1;
        }
        if (vmem_metadata_check(r[i].metadata, upsert, &why) == -1) {
            *cause = xasprintf("%s collection %s: record %.128s: %s", c->v->ops->name, c->name,
                               r[i].id, why);
            free(why);
            return -1;
        }
    }
    return 0;
}

/* Runs a backend call, opening the collection again and retrying once when it is gone. */
#define WITH_RETRY(c, call)                                                                        \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ == VMEM_GONE) {                                                                    \
            free(*cause);                                                                          \
            *cause = NULL;                                                                         \
            if ((c)->v->ops->open((c), cause) == -1)                                               \
                return -1;                                                                         \
            rc_ = (call);                                                                          \
            if (rc_ == VMEM_GONE)                                                                  \
                rc_ = -1;                                                                          \
        }                                                                                          \
        return rc_;                                                                                \
    } while (0)

static int write_records(struct vmem_coll *c, bool upsert, const struct vmem_record *r, size_t n,
                         char **cause)
{
    if (n == 0)
        return 0;
    if (check_records(c, upsert, r, n, cause) == -1)
        return -1;
    WITH_RETRY(c, c->v->ops->write(c, upsert, r, n, cause));
}

int vmem_add(struct vmem_coll *c, const struct vmem_record *r, size_t n, char **cause)
{
    return write_records(c, false, r, n, cause);
}

int vmem_upsert(struct vmem_coll *c, const struct vmem_record *r, size_t n, char **cause)
{
    return write_records(c, true, r, n, cause);
}

int vmem_upsert_later(struct vmem_coll *c, const struct vmem_record *r, size_t n, char **cause)
{
    if (c->v->ops->write_later == NULL)
        return write_records(c, true, r, n, cause);
    if (n == 0)
        return 0;
    if (check_records(c, true, r, n, cause) == -1)
        return -1;
    return c->v->ops->write_later(c, r, n, cause);
}

int vmem_flush(struct vmem_coll *c, char **cause)
{
    if (c->v->ops->flush == NULL)
        return 0;
    WITH_RETRY(c, c->v->ops->flush(c, cause));
}

static int where_ok(const struct vmem_coll *c, const json_t *where, char **cause)
{
    char *why = NULL;

    if (vmem_where_check(where, &why) == 0)
        return 0;
    *cause = xasprintf("%s collection %s: %s", c->v->ops->name, c->name, why);
    free(why);
    return -1;
}

int vmem_get(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
             size_t limit, size_t offset, int include, struct vmem_result *out, char **cause)
{
    memset(out, 0, sizeof *out);
    if (where_ok(c, where, cause) == -1)
        return -1;
    if (ids != NULL && nids == 0)
        return 0;
    WITH_RETRY(c, c->v->ops->get(c, ids, nids, where, limit, offset, include, out, cause));
}

int vmem_query(struct vmem_coll *c, const float *q, size_t k, const json_t *where, int include,
               struct vmem_result *out, char **cause)
{
    memset(out, 0, sizeof *out);
    if (where_ok(c, where, cause) == -1)
        return -1;
    /* Never n_results 0: some servers refuse it, and the answer is known. */
    if (k == 0)
        return 0;
    WITH_RETRY(c, c->v->ops->query(c, q, k, where, include, out, cause));
}

int vmem_delete(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
                char **cause)
{
    if (where_ok(c, where, cause) == -1)
        return -1;
    if (ids != NULL && nids == 0)
        return 0;
    if (ids == NULL && where == NULL) {
        *cause = xasprintf("%s collection %s: a delete needs ids or a where filter (drop the "
                           "collection to empty it)",
                           c->v->ops->name, c->name);
        return -1;
    }
    WITH_RETRY(c, c->v->ops->del(c, ids, nids, where, cause));
}

int vmem_count(struct vmem_coll *c, long *n, char **cause)
{
    WITH_RETRY(c, c->v->ops->count(c, n, cause));
}

struct vmem_hit *vmem_result_add(struct vmem_result *r)
{
    r->hits = xrealloc(r->hits, (r->n + 1) * sizeof *r->hits);
    memset(&r->hits[r->n], 0, sizeof r->hits[r->n]);
    return &r->hits[r->n++];
}

void vmem_result_clear(struct vmem_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->hits[i].id);
        free(r->hits[i].document);
        free(r->hits[i].embedding);
        json_decref(r->hits[i].metadata);
    }
    free(r->hits);
    r->hits = NULL;
    r->n = 0;
}
