/*
 * vmem.h - vector memory: named collections of records (id, embedding, document, metadata)
 * searched by cosine distance, with two backends behind one interface.
 *
 *   chroma  a Chroma server over its HTTP API v2 (/api/v2/tenants/T/databases/D/...): the
 *           collection is got or created by name with cosine space; records are added,
 *           upserted, got, queried and deleted by the collection's id. A record endpoint that
 *           answers 404 (the collection was dropped and made again, the server restarted
 *           empty) makes the handle look its collection up again and retry once.
 *   local   Redis, so every process of a swarm shares it (docs/redis-keys.md, nr:mem:c:*):
 *           vectors are packed float32 blobs in a hash, metadata JSON and documents in two
 *           more, an ordered set keeps insertion order and a capped stream logs every change
 *           by sequence number. Each handle keeps the collection in process memory (the
 *           vectors normalised, the metadata parsed) and brings it up to date before every
 *           read with one round trip that returns the changes since its last sequence number;
 *           a handle that fell behind the log, or a collection dropped and made again, loads
 *           it afresh in pages of 1,024 records. The search itself is exact: every vector that
 *           passes the where filter is scored.
 *
 * Both follow Chroma's semantics, and one set of tests holds them together: add ignores ids
 * that exist; upsert replaces the embedding, replaces the document when one is given and
 * merges the metadata (a null value deletes a key); get without ids lists in insertion
 * order; a distance is 1 - cosine similarity (1 for a zero vector); where filters are
 * Chroma's ({"key": value}, {"key": {"$eq|$ne|$gt|$gte|$lt|$lte": v}}, {"key": {"$in|$nin":
 * [v...]}}, {"$and"|"$or": [filters]}; one key per object; $ne and $nin also match records
 * without the key; order comparisons on numbers only). Metadata values are strings, numbers
 * and booleans. Collection names: 3 to 512 of [a-zA-Z0-9._-], starting and ending with a
 * letter or digit.
 *
 * Threads: a struct vmem belongs to one thread (its CURL handle or its borrowed link) and so do
 * its collections. Errors: 0 or -1 with *cause naming the backend, the collection and what is
 * wrong (an unreachable server, a wrong dimension, a malformed answer); never a token.
 */
#ifndef NEWSROOM_VMEM_H
#define NEWSROOM_VMEM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct rlink;
struct vmem;
struct vmem_coll;

enum vmem_kind { VMEM_LOCAL, VMEM_CHROMA };

struct vmem_config {
    enum vmem_kind kind;
    /* chroma */
    const char *host;     /* host name or address */
    int port;             /* default 8000 */
    const char *token;    /* "": none; sent as Authorization: Bearer, never shown */
    const char *tenant;   /* "default_tenant" */
    const char *database; /* "default_database"; made when missing */
    int timeout_ms;       /* one request */
};

/* A record to write: every pointer borrowed for the call. */
struct vmem_record {
    const char *id;
    const float *embedding; /* the collection's dimension of floats */
    const char *document;   /* NULL: none (upsert: keep the stored one) */
    const json_t *metadata; /* an object, or NULL (upsert: keep the stored one) */
};

/* What get and query return. VMEM_CACHED (query only) is the caller's word that nothing
 * changed in the collection since this handle last read it: the local backend then answers
 * from its own index without asking Redis (documents it has read before come from its cache
 * too); Chroma ignores it. */
enum {
    VMEM_DOCUMENTS = 1,
    VMEM_METADATAS = 2,
    VMEM_EMBEDDINGS = 4,
    VMEM_DISTANCES = 8,
    VMEM_CACHED = 16,
};

struct vmem_hit {
    char *id;
    char *document;   /* NULL unless asked and stored */
    json_t *metadata; /* new reference, NULL unless asked */
    float *embedding; /* NULL unless asked */
    double distance;  /* query: 1 - cosine similarity */
};

struct vmem_result {
    struct vmem_hit *hits;
    size_t n;
};
void vmem_result_clear(struct vmem_result *r);

/* Opens a backend: local on link l (borrowed; it must outlive the vmem), chroma from c.
 * Nothing is sent yet. Free with vmem_free(). */
struct vmem *vmem_open(const struct vmem_config *c, struct rlink *l, char **cause);
void vmem_free(struct vmem *v);
/* "local" or "chroma". */
const char *vmem_kind_name(const struct vmem *v);
/* Where it is: "redis" or "http://host:port". Borrowed. */
const char *vmem_where(const struct vmem *v);

/* Asks the backend whether it answers: Chroma's heartbeat (and *version, when not NULL, a new
 * string: the server's version), Redis's PING. */
int vmem_heartbeat(struct vmem *v, char **version, char **cause);

/* The collection name, got or made with cosine space. dim is the dimension this caller
 * writes and queries with: when the collection holds vectors of another dimension it is
 * refused, naming both. The handle is the vmem's (valid until vmem_free; the same name gives
 * the same handle). */
struct vmem_coll *vmem_collection(struct vmem *v, const char *name, int dim, char **cause);
/* Deletes a collection and everything in it. 0 also when there was none. */
int vmem_drop(struct vmem *v, const char *name, char **cause);

int vmem_add(struct vmem_coll *c, const struct vmem_record *r, size_t n, char **cause);
int vmem_upsert(struct vmem_coll *c, const struct vmem_record *r, size_t n, char **cause);
/* vmem_upsert() that may send the records later, with this handle's next read of the
 * collection or vmem_flush() (the local backend: one round trip less per write; the handle's
 * own queries see the records at once; other readers once they are sent); Chroma sends them
 * now. Records are copied. */
int vmem_upsert_later(struct vmem_coll *c, const struct vmem_record *r, size_t n, char **cause);
/* Sends what vmem_upsert_later() kept back (nothing to do: 0, no round trip). */
int vmem_flush(struct vmem_coll *c, char **cause);
/* Records by ids (nids > 0; those that do not exist are left out) or by where (NULL: all),
 * in insertion order, skipping offset and at most limit (0: no limit), with what include
 * asks for. */
int vmem_get(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
             size_t limit, size_t offset, int include, struct vmem_result *out, char **cause);
/* The k nearest records to q (dimension floats) that pass where (NULL: all), nearest first;
 * k 0 gives none without asking. */
int vmem_query(struct vmem_coll *c, const float *q, size_t k, const json_t *where, int include,
               struct vmem_result *out, char **cause);
/* Deletes by ids, or by where (ids NULL), or both (records with those ids that pass). */
int vmem_delete(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
                char **cause);
int vmem_count(struct vmem_coll *c, long *n, char **cause);
const char *vmem_coll_name(const struct vmem_coll *c);

/* Checks a where filter against Chroma's grammar: 0, or -1 with *cause saying what is wrong. */
int vmem_where_check(const json_t *where, char **cause);
/* Whether metadata (an object, or NULL for none) passes a checked where filter. Pure. */
bool vmem_where_match(const json_t *where, const json_t *metadata);
/* Checks metadata: an object of strings, numbers and booleans (and null when nulls is true). */
int vmem_metadata_check(const json_t *m, bool nulls, char **cause);
/* Checks a collection name. */
int vmem_name_check(const char *name, char **cause);

#endif
