/*
 * memory.c - the swarm's memory (memory.h): opening the embedder and the backend from the
 * configuration, story intake with semantic deduplication, search, and agent memories with
 * their recall into prompts. A struct memory belongs to one thread (its link's).
 */
#include "memory/memory.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "memory/embed.h"
#include "memory/vmem.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Candidates asked for per recalled memory, and at least. */
#define RECALL_WIDEN 4
#define RECALL_MIN   12
/* Recency halves every week. */
#define RECALL_HALF_LIFE_MS (7.0 * 24 * 3600 * 1000)
/* The part of a story's content kept as a news_articles document. */
#define DOC_SNIPPET 400
/* Nearest news records looked at for a new story. */
#define DEDUP_K 3
/* A text of fewer words ("Photo of the day", a placeholder) says too little to be matched by
 * meaning: it is neither compared nor matched. */
#define DEDUP_MIN_WORDS 8

struct memory {
    struct embedder *emb;
    struct vmem *vmem;
    struct rlink *link;              /* borrowed: the lesson counts (MEMORY_LESSONS_KEY) */
    struct vmem_coll *news, *agents; /* opened on first use */
    char prefix[128];
    double threshold, min_recall;
    int64_t window_ms;
    int recall_k;
    long long recalled_gen; /* the lessons' generation at this handle's last recall; -1: none */
    char describe[400];
};

/* Lessons stored by this process (memory_learned_here), per role: a role's name picks its
 * counter (two roles sharing one only make each other's knowledge go out of date sooner). */
#define LEARNED_SLOTS 32
static atomic_llong learned_here[LEARNED_SLOTS];

static atomic_llong *learned_slot(const char *agent)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (const char *p = agent; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return &learned_here[h % LEARNED_SLOTS];
}

long long memory_learned_here(const char *agent)
{
    return atomic_load(learned_slot(agent));
}

bool memory_enabled(const struct config *cfg)
{
    return strcmp(cfg->memory_backend, "off") != 0;
}

struct memory *memory_open(const struct config *cfg, struct rlink *l, char **cause)
{
    struct embed_config ec;
    struct vmem_config vc = {0};
    struct memory *m;
    char *why = NULL;

    *cause = NULL;
    if (!memory_enabled(cfg))
        return NULL;
    vc.kind = strcmp(cfg->memory_backend, "chroma") == 0 ||
                      (strcmp(cfg->memory_backend, "auto") == 0 && cfg->chroma_host[0] != '\0')
                  ? VMEM_CHROMA
                  : VMEM_LOCAL;
    vc.host = cfg->chroma_host;
    vc.port = cfg->chroma_port;
    vc.token = cfg->chroma_auth_token;
    vc.tenant = cfg->chroma_tenant;
    vc.database = cfg->chroma_database;
    vc.timeout_ms = cfg->chroma_timeout_ms;
    if (strlen(cfg->memory_prefix) >= sizeof m->prefix) {
        *cause =
            xasprintf("[memory] collection_prefix is longer than %zu bytes", sizeof m->prefix - 1);
        return NULL;
    }
    m = xcalloc(1, sizeof *m);
    snprintf(m->prefix, sizeof m->prefix, "%s", cfg->memory_prefix);
    m->threshold = (double)cfg->dedup_threshold_ppm / 1e6;
    m->min_recall = (double)cfg->recall_min_ppm / 1e6;
    m->window_ms = (int64_t)cfg->dedup_window_h * 3600 * 1000;
    m->recall_k = cfg->recall_k;
    m->link = l;
    m->recalled_gen = -1;
    embed_config_from(&ec, cfg);
    m->emb = embedder_new(&ec, l, cause);
    if (m->emb == NULL)
        goto fail;
    m->vmem = vmem_open(&vc, l, cause);
    if (m->vmem == NULL)
        goto fail;
    if (vmem_heartbeat(m->vmem, NULL, &why) == -1 || embedder_probe(m->emb, &why) == -1) {
        *cause = why;
        goto fail;
    }
    snprintf(m->describe, sizeof m->describe, "%s (%s), %s embeddings of %d dimensions",
             vmem_kind_name(m->vmem), vmem_where(m->vmem), embedder_kind(m->emb),
             embedder_dim(m->emb));
    return m;
fail:
    memory_free(m);
    return NULL;
}

void memory_free(struct memory *m)
{
    if (m == NULL)
        return;
    vmem_free(m->vmem);
    embedder_free(m->emb);
    free(m);
}

const char *memory_describe(const struct memory *m)
{
    return m->describe;
}

struct embedder *memory_embedder(struct memory *m)
{
    return m->emb;
}

struct vmem *memory_vmem(struct memory *m)
{
    return m->vmem;
}

const char *memory_collection_name(const struct memory *m, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s", m->prefix, name);
    return buf;
}

/* The collection, opened on first use. */
static struct vmem_coll *coll(struct memory *m, struct vmem_coll **slot, const char *name,
                              char **cause)
{
    char full[700];

    if (*slot == NULL)
        *slot = vmem_collection(m->vmem, memory_collection_name(m, name, full, sizeof full),
                                embedder_dim(m->emb), cause);
    return *slot;
}

static int embed_one(struct memory *m, const char *text, float **vec, char **cause)
{
    *vec = xcalloc((size_t)embedder_dim(m->emb), sizeof **vec);
    if (embed_texts(m->emb, &text, 1, *vec, cause) == -1) {
        free(*vec);
        *vec = NULL;
        return -1;
    }
    return 0;
}

/* What is embedded of a story: its title and its text. New string. */
static char *story_text(const char *title, const char *content)
{
    return xasprintf("%s\n%s", title, content);
}

/* Up to max bytes of s, cut on a UTF-8 boundary. New string. */
static char *snippet(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return xstrdup(s);
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return xasprintf("%.*s...", (int)max, s);
}

static json_t *topics_of(const struct news_item *it)
{
    char *joined = xstrdup("");
    json_t *j;

    for (size_t i = 0; i < it->ntopics; i++) {
        char *next = xasprintf("%s%s%s", joined, i > 0 ? "," : "", it->topics[i]);

        free(joined);
        joined = next;
    }
    j = json_string(joined);
    free(joined);
    return j;
}

/* Adds item it to news_articles as a record of story `story` with status. Logged on failure. */
static size_t word_count(const char *s)
{
    size_t n = 0;

    for (const char *p = s; *p != '\0';) {
        size_t k = strcspn(p, " \t\n\r");

        n += k > 0;
        p += k > 0 ? k : 1;
    }
    return n;
}

static void add_news(struct memory *m, const struct news_item *it, const float *vec,
                     const char *figures, const char *story, const char *status, int64_t t,
                     double similarity)
{
    struct vmem_coll *c;
    char *cause = NULL, *doc = snippet(it->content, DOC_SNIPPET), *text;
    json_t *meta =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:s, s:s}", "story", story, "source", it->source,
                  "title", it->title, "url", it->url, "topics", topics_of(it), "time",
                  (json_int_t)t, "status", status, "figures", figures);
    struct vmem_record r;

    if (similarity > 0)
        json_object_set_new(meta, "similarity", json_real(round(similarity * 1000) / 1000));
    json_object_set_new(
        meta, "words", json_integer((json_int_t)(word_count(it->title) + word_count(it->content))));
    text = xasprintf("%s\n%s", it->title, doc);
    r = (struct vmem_record){it->id, vec, text, meta};
    if ((c = coll(m, &m->news, MEMORY_NEWS, &cause)) == NULL ||
        vmem_upsert_later(c, &r, 1, &cause) == -1) {
        log_warn("memory: cannot add %s to %s: %s", it->id, MEMORY_NEWS, cause);
        free(cause);
    }
    json_decref(meta);
    free(text);
    free(doc);
}

/* The story of the nearest record within the window that is similar enough and whose figures
 * agree (embed_figures_agree), unless the item itself is among the nearest; "" otherwise. */
static void nearest_story(struct memory *m, const struct news_item *it, const float *vec,
                          const char *figures, int64_t t, char story[NEWS_ID_MAX + 1],
                          double *similarity)
{
    struct vmem_result res = {0};
    struct vmem_coll *c;
    json_t *where =
        json_pack("{s:[{s:{s:I}}, {s:{s:I}}]}", "$and", "time", "$gte",
                  (json_int_t)(t - m->window_ms), "time", "$lte", (json_int_t)(t + m->window_ms));
    char *cause = NULL;

    story[0] = '\0';
    *similarity = 0;
    if ((c = coll(m, &m->news, MEMORY_NEWS, &cause)) == NULL ||
        vmem_query(c, vec, DEDUP_K, where, VMEM_METADATAS | VMEM_DISTANCES, &res, &cause) == -1) {
        log_warn("memory: no semantic check of %s: %s", it->id, cause);
        free(cause);
        json_decref(where);
        return;
    }
    json_decref(where);
    for (size_t i = 0; i < res.n; i++)
        if (strcmp(res.hits[i].id, it->id) == 0) {
            /* The item itself came again: its identity settles it. */
            vmem_result_clear(&res);
            return;
        }
    for (size_t i = 0; i < res.n && story[0] == '\0'; i++) {
        const json_t *meta = res.hits[i].metadata;
        const char *s = json_string_value(json_object_get(meta, "story"));
        const char *f = json_string_value(json_object_get(meta, "figures"));

        const json_t *words = json_object_get(meta, "words");

        if (1.0 - res.hits[i].distance < m->threshold)
            break;
        if ((json_is_integer(words) && json_integer_value(words) < DEDUP_MIN_WORDS) ||
            !embed_figures_agree(figures, f != NULL ? f : ""))
            continue;
        snprintf(story, NEWS_ID_MAX + 1, "%s", s != NULL ? s : res.hits[i].id);
        *similarity = 1.0 - res.hits[i].distance;
    }
    vmem_result_clear(&res);
}

int memory_story_enter(struct memory *m, struct bb *b, const struct news_item *it,
                       const json_t *extra, enum bb_status st, char existing_id[NEWS_ID_MAX + 1],
                       char **cause)
{
    char into[NEWS_ID_MAX + 1] = "", *text, *why = NULL, *figures;
    float *vec = NULL;
    double sim = 0;
    int64_t t = it->published_ms > 0 ? it->published_ms : clock_wall_ms();
    json_t *source = NULL;
    int rc;

    if (m == NULL)
        return bb_write(b, it, extra, st, true, existing_id, cause);
    text = story_text(it->title, it->content);
    figures = embed_figures(text);
    if (embed_one(m, text, &vec, &why) == -1) {
        log_warn("memory: no semantic check of %s: %s", it->id, why);
        free(why);
    } else if (word_count(it->title) + word_count(it->content) >= DEDUP_MIN_WORDS) {
        nearest_story(m, it, vec, figures, t, into, &sim);
    }
    free(text);
    if (into[0] != '\0')
        source = json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:I, s:s}", "id", it->id, "source",
                           it->source, "title", it->title, "url", it->url, "published",
                           (json_int_t)it->published_ms, "similarity", round(sim * 1000) / 1000,
                           "at_ms", (json_int_t)clock_wall_ms(), "by", bb_actor(b));
    rc = bb_write_into(b, it, extra, st, true, into[0] != '\0' ? into : NULL, source, existing_id,
                       cause);
    if (vec != NULL && (rc == BB_OK || rc == BB_REVISED))
        add_news(m, it, vec, figures, it->id, bb_statuses[st].name, t, 0);
    else if (vec != NULL && rc == BB_MERGED)
        add_news(m, it, vec, figures, existing_id, "MERGED", t, sim);
    free(figures);
    json_decref(source);
    free(vec);
    return rc;
}

void memory_flush(struct memory *m)
{
    char *cause = NULL;

    if (m == NULL || m->news == NULL)
        return;
    if (vmem_flush(m->news, &cause) == -1) {
        log_warn("memory: cannot send the records of %s: %s", MEMORY_NEWS, cause);
        free(cause);
    }
}

int memory_forget_stories(struct memory *m, const char *const *ids, size_t n, char **cause)
{
    struct vmem_coll *c;
    json_t *in, *where;
    int rc;

    if (m == NULL || n == 0)
        return 0;
    if ((c = coll(m, &m->news, MEMORY_NEWS, cause)) == NULL)
        return -1;
    in = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(in, json_string(ids[i]));
    where = json_pack("{s:{s:o}}", "story", "$in", in);
    rc = vmem_delete(c, NULL, 0, where, cause);
    json_decref(where);
    return rc;
}

json_t *memory_search(struct memory *m, const char *query, size_t n, char **cause)
{
    struct vmem_result res = {0};
    struct vmem_coll *c;
    float *vec;
    json_t *out;

    if ((c = coll(m, &m->news, MEMORY_NEWS, cause)) == NULL ||
        embed_one(m, query, &vec, cause) == -1)
        return NULL;
    /* Merged sources share a story: ask for more records than stories wanted. */
    if (vmem_query(c, vec, n * 3, NULL, VMEM_METADATAS | VMEM_DISTANCES, &res, cause) == -1) {
        free(vec);
        return NULL;
    }
    free(vec);
    out = json_array();
    for (size_t i = 0; i < res.n; i++) {
        const json_t *meta = res.hits[i].metadata;
        const char *story = json_string_value(json_object_get(meta, "story"));
        json_t *found = NULL, *e;
        size_t k;

        if (story == NULL)
            story = res.hits[i].id;
        json_array_foreach(out, k, e) if (strcmp(json_string_value(json_object_get(e, "story")),
                                                 story) == 0) found = e;
        if (found != NULL) {
            json_array_append_new(json_object_get(found, "sources"), json_string(res.hits[i].id));
            continue;
        }
        if (json_array_size(out) == n)
            continue;
        json_array_append_new(
            out,
            json_pack("{s:s, s:f, s:O?, s:O?, s:O?, s:O?, s:O?, s:[s]}", "story", story,
                      "similarity", round((1.0 - res.hits[i].distance) * 1000) / 1000, "title",
                      json_object_get(meta, "title"), "source", json_object_get(meta, "source"),
                      "url", json_object_get(meta, "url"), "time", json_object_get(meta, "time"),
                      "status", json_object_get(meta, "status"), "sources", res.hits[i].id));
    }
    vmem_result_clear(&res);
    return out;
}

/* "mem-" and 24 hex digits of SHA-256 of agent, type and content: the same memory twice is one
 * record. */
static void memory_id(const char *agent, const char *type, const char *content, char out[32])
{
    char *key = xasprintf("%s\n%s\n%s", agent, type, content);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_Digest(key, strlen(key), md, &len, EVP_sha256(), NULL) != 1)
        fail("SHA-256 is not available from libcrypto");
    free(key);
    memcpy(out, "mem-", 4);
    for (int i = 0; i < 12; i++)
        snprintf(out + 4 + 2 * i, 3, "%02x", md[i]);
}

int memory_remember(struct memory *m, const char *const *agents, const char *type,
                    const char *content, double importance, const char *story, const char *about,
                    const char *by, char **cause)
{
    struct vmem_coll *c = coll(m, &m->agents, MEMORY_AGENTS, cause);
    struct vmem_record r[16];
    char ids[16][32];
    json_t *metas[16];
    float *vec;
    size_t n = 0;
    int rc;

    if (c == NULL)
        return -1;
    if (importance < 0 || importance > 1 || content[0] == '\0' || type[0] == '\0') {
        *cause = xasprintf("a memory needs a type, a content and an importance from 0 to 1");
        return -1;
    }
    if (embed_one(m, about != NULL ? about : content, &vec, cause) == -1)
        return -1;
    for (; agents[n] != NULL && n < 16; n++) {
        memory_id(agents[n], type, content, ids[n]);
        metas[n] = json_pack("{s:s, s:s, s:f, s:I, s:s, s:s}", "agent", agents[n], "type", type,
                             "importance", importance, "time", (json_int_t)clock_wall_ms(), "story",
                             story != NULL ? story : "", "by", by != NULL ? by : "");
        r[n] = (struct vmem_record){ids[n], vec, content, metas[n]};
    }
    rc = vmem_upsert(c, r, n, cause);
    for (size_t i = 0; i < n; i++)
        json_decref(metas[i]);
    free(vec);
    if (rc == 0) {
        /* Counted for every role, so agents know what a recall can find (memory.h). */
        const char **argv = xcalloc(n + 2, sizeof *argv);
        redisReply *rr;
        char *why = NULL;

        argv[0] = MEMORY_LESSONS_KEY;
        argv[1] = MEMORY_LESSONS_GEN;
        for (size_t i = 0; i < n; i++)
            argv[i + 2] = agents[i];
        rr = rlink_eval(m->link, &lua_lessons_add, 0, (int)n + 2, argv, &why);
        if (rr == NULL) {
            log_warn("memory: cannot count the lessons stored: %s", why);
            free(why);
        } else {
            freeReplyObject(rr);
        }
        free(argv);
        /* After the count: a reading taken before this knows it is out of date. */
        for (size_t i = 0; i < n; i++)
            atomic_fetch_add(learned_slot(agents[i]), 1);
    }
    return rc;
}

/* A copy of the string at key of o, "" when there is none. */
static char *meta_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return xstrdup(s != NULL ? s : "");
}

static void recollection_clear(struct memory_recollection *r)
{
    free(r->id);
    free(r->agent);
    free(r->type);
    free(r->content);
    free(r->story);
    free(r->by);
    memset(r, 0, sizeof *r);
}

static void fill(struct memory_recollection *r, const struct vmem_hit *h)
{
    const json_t *meta = h->metadata;

    r->id = xstrdup(h->id);
    r->agent = meta_str(meta, "agent");
    r->type = meta_str(meta, "type");
    r->story = meta_str(meta, "story");
    r->by = meta_str(meta, "by");
    r->content = xstrdup(h->document != NULL ? h->document : "");
    r->importance = json_number_value(json_object_get(meta, "importance"));
    r->time_ms = (int64_t)json_number_value(json_object_get(meta, "time"));
}

void memory_recollections_free(struct memory_recollection *r, size_t n)
{
    for (size_t i = 0; r != NULL && i < n; i++)
        recollection_clear(&r[i]);
    free(r);
}

static int by_score(const void *a, const void *b)
{
    double x = ((const struct memory_recollection *)a)->score;
    double y = ((const struct memory_recollection *)b)->score;

    return x < y ? 1 : x > y ? -1 : 0;
}

/* memory_recall() asking the collection for include (VMEM_CACHED: from the handle's copy). */
static int recall(struct memory *m, const char *agent, const char *query, size_t k, int cached,
                  struct memory_recollection **out, size_t *n, char **cause);

int memory_recall(struct memory *m, const char *agent, const char *query, size_t k,
                  struct memory_recollection **out, size_t *n, char **cause)
{
    return recall(m, agent, query, k, 0, out, n, cause);
}

static int recall(struct memory *m, const char *agent, const char *query, size_t k, int cached,
                  struct memory_recollection **out, size_t *n, char **cause)
{
    struct vmem_coll *c = coll(m, &m->agents, MEMORY_AGENTS, cause);
    struct vmem_result res = {0};
    json_t *where;
    float *vec;
    size_t want = k * RECALL_WIDEN < RECALL_MIN ? RECALL_MIN : k * RECALL_WIDEN, got = 0;
    int64_t now = clock_wall_ms();
    int rc;

    *out = NULL;
    *n = 0;
    if (c == NULL || embed_one(m, query, &vec, cause) == -1)
        return -1;
    where = json_pack("{s:s}", "agent", agent);
    rc = vmem_query(c, vec, want, where, VMEM_DOCUMENTS | VMEM_METADATAS | VMEM_DISTANCES | cached,
                    &res, cause);
    json_decref(where);
    free(vec);
    if (rc == -1)
        return -1;
    *out = xcalloc(res.n + 1, sizeof **out);
    for (size_t i = 0; i < res.n; i++) {
        struct memory_recollection *r = &(*out)[got];
        double sim = 1.0 - res.hits[i].distance, age;

        if (sim < m->min_recall)
            continue;
        fill(r, &res.hits[i]);
        age = (double)(now - r->time_ms);
        r->similarity = sim;
        r->score = 0.6 * sim + 0.25 * r->importance +
                   0.15 * pow(0.5, (age > 0 ? age : 0) / RECALL_HALF_LIFE_MS);
        got++;
    }
    vmem_result_clear(&res);
    qsort(*out, got, sizeof **out, by_score);
    for (size_t i = k; i < got; i++)
        recollection_clear(&(*out)[i]);
    if (got > k)
        got = k;
    *n = got;
    return 0;
}

static int by_time(const void *a, const void *b)
{
    int64_t x = ((const struct memory_recollection *)a)->time_ms;
    int64_t y = ((const struct memory_recollection *)b)->time_ms;

    return x < y ? 1 : x > y ? -1 : 0;
}

int memory_list(struct memory *m, const char *agent, size_t limit, struct memory_recollection **out,
                size_t *n, char **cause)
{
    struct vmem_coll *c = coll(m, &m->agents, MEMORY_AGENTS, cause);
    struct vmem_result res = {0};
    json_t *where;
    int rc;

    *out = NULL;
    *n = 0;
    if (c == NULL)
        return -1;
    where = json_pack("{s:s}", "agent", agent);
    rc = vmem_get(c, NULL, 0, where, 0, 0, VMEM_DOCUMENTS | VMEM_METADATAS, &res, cause);
    json_decref(where);
    if (rc == -1)
        return -1;
    *out = xcalloc(res.n + 1, sizeof **out);
    for (size_t i = 0; i < res.n; i++)
        fill(&(*out)[i], &res.hits[i]);
    qsort(*out, res.n, sizeof **out, by_time);
    *n = limit > 0 && res.n > limit ? limit : res.n;
    for (size_t i = *n; i < res.n; i++)
        recollection_clear(&(*out)[i]);
    vmem_result_clear(&res);
    return 0;
}

char *memory_with_lessons(struct memory *m, const char *who, const char *agent, const char *query,
                          const char *system)
{
    return memory_with_lessons_known(m, who, agent, query, system, NULL);
}

char *memory_with_lessons_known(struct memory *m, const char *who, const char *agent,
                                const char *query, const char *system, const struct memory_known *k)
{
    struct memory_recollection *r = NULL;
    size_t n = 0;
    char *cause = NULL, *out;
    int cached = 0;

    if (m == NULL || m->recall_k <= 0)
        return xstrdup(system);
    /* What the caller knows holds only if no lesson was stored here since it was read. */
    if (k != NULL && k->lessons >= 0 && k->here == memory_learned_here(agent)) {
        if (k->lessons == 0)
            return xstrdup(system); /* nothing to recall for this agent */
        if (k->gen == m->recalled_gen)
            cached = VMEM_CACHED; /* nothing changed since this handle's last recall */
    }
    if (recall(m, agent, query, (size_t)m->recall_k, cached, &r, &n, &cause) == -1) {
        log_warn("%s: no lessons recalled: %s", who, cause);
        free(cause);
        return xstrdup(system);
    }
    if (k != NULL && k->lessons >= 0 && k->here == memory_learned_here(agent))
        m->recalled_gen = k->gen;
    out = xstrdup(system);
    for (size_t i = 0; i < n; i++) {
        char *next = xasprintf("%s%s- %s", out,
                               i == 0 ? "\n\nLessons from earlier stories (the newsroom's memory; "
                                        "weigh them, they are not rules):\n"
                                      : "\n",
                               r[i].content);

        free(out);
        out = next;
    }
    memory_recollections_free(r, n);
    return out;
}

void memory_learn(struct memory *m, const char *who, const char *const *agents,
                  const struct bb_item *story, const char *what, double importance)
{
    const char *title = json_string_value(json_object_get(story->body, "title"));
    const char *content = json_string_value(json_object_get(story->body, "content"));
    const char *source = json_string_value(json_object_get(story->body, "source"));
    char *lesson, *about, *cause = NULL;

    if (m == NULL)
        return;
    lesson = xasprintf("%s. The story: \"%s\" (%s).", what, title != NULL ? title : story->id,
                       source != NULL ? source : "unknown source");
    about = story_text(title != NULL ? title : "", content != NULL ? content : "");
    if (memory_remember(m, agents, "lesson_learned", lesson, importance, story->id, about, who,
                        &cause) == -1) {
        log_warn("%s: cannot keep the lesson of %s: %s", who, story->id, cause);
        free(cause);
    } else {
        log_info("%s: learned from %s: %s", who, story->id, what);
    }
    free(lesson);
    free(about);
}
