/*
 * vmem_int.h - what vmem.c shares with its backends (vmem_local.c, vmem_chroma.c): the table
 * of a backend's functions and the handles they fill. Not for use outside src/memory/.
 */
#ifndef NEWSROOM_VMEM_INT_H
#define NEWSROOM_VMEM_INT_H

#include "memory/vmem.h"

/* A backend function's answer when its collection is gone (dropped by someone, the server
 * emptied): vmem.c opens the collection again and retries once. */
#define VMEM_GONE (-2)

struct vmem_coll {
    struct vmem *v;
    char *name;
    int dim;
    void *impl;
    struct vmem_coll *next;
};

struct vmem_ops {
    const char *name;
    int (*heartbeat)(struct vmem *v, char **version, char **cause);
    /* Gets or makes c->name and checks c->dim against what it holds. */
    int (*open)(struct vmem_coll *c, char **cause);
    int (*drop)(struct vmem *v, const char *name, char **cause);
    int (*write)(struct vmem_coll *c, bool upsert, const struct vmem_record *r, size_t n,
                 char **cause);
    /* An upsert that may be sent later (NULL: write at once), and sending it (NULL: none). */
    int (*write_later)(struct vmem_coll *c, const struct vmem_record *r, size_t n, char **cause);
    int (*flush)(struct vmem_coll *c, char **cause);
    int (*get)(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
               size_t limit, size_t offset, int include, struct vmem_result *out, char **cause);
    int (*query)(struct vmem_coll *c, const float *q, size_t k, const json_t *where, int include,
                 struct vmem_result *out, char **cause);
    int (*del)(struct vmem_coll *c, const char *const *ids, size_t nids, const json_t *where,
               char **cause);
    int (*count)(struct vmem_coll *c, long *n, char **cause);
    void (*coll_free)(struct vmem_coll *c);
    void (*free)(struct vmem *v);
};

struct vmem {
    const struct vmem_ops *ops;
    char where[300];
    struct vmem_coll *colls;
    void *impl;
};

extern const struct vmem_ops vmem_local_ops;
extern const struct vmem_ops vmem_chroma_ops;

/* Backend constructors: fill v->impl and v->where. 0, or -1 with *cause. */
int vmem_local_init(struct vmem *v, struct rlink *l, char **cause);
int vmem_chroma_init(struct vmem *v, const struct vmem_config *c, char **cause);

/* Appends a hit to r and returns it (zeroed). */
struct vmem_hit *vmem_result_add(struct vmem_result *r);

#endif
