/*
 * memory.h - the swarm's memory: the embedder (embed.h) and the vector memory (vmem.h) with
 * the two collections the design names, and what the agents and ctl do with them.
 *
 *   news_articles   every item that entered: a story, or a further source merged into one.
 *                   Metadata: story (the story it belongs to), source, title, url, topics
 *                   (joined with commas), time (published, else when it entered; ms), status
 *                   (the story's status when it entered, or MERGED).
 *   agent_memories  what agents learned: agent (the role it is for), type (lesson_learned,
 *                   ...), importance 0 to 1, time, story, by; the document is the lesson.
 *
 * Semantic deduplication: memory_story_enter() is how a story enters the blackboard wherever
 * it comes from (the scout, `ctl ingest`): the item's embedding is compared with the news of
 * [memory] dedup_window_h around its time; when the nearest record is at least
 * dedup_threshold similar and their figures agree (embed_figures_agree), the item becomes a
 * further source of that record's story (bb_write_into) instead of a story of its own. Texts
 * of fewer than 8 words (placeholders such as "Photo of the day") are never matched.
 *
 * Recall: the memories of an agent nearest to a query, at least recall_min_similarity
 * similar, ranked by 0.6 similarity + 0.25 importance + 0.15 recency (halved every 7 days).
 *
 * [memory] backend: local (Redis), chroma (CHROMA_HOST...), auto (chroma when a Chroma host is
 * set, else local) or off. Collection names get [memory] collection_prefix in front.
 *
 * Threads: a struct memory belongs to the thread of its link (and its CURL handles).
 * Errors: 0 or -1 with *cause; the helpers agents call never fail the agent's work (a memory
 * that cannot answer is logged and the story goes on without it).
 */
#ifndef NEWSROOM_MEMORY_H
#define NEWSROOM_MEMORY_H

#include "store/blackboard.h"
#include "store/keys.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMORY_NEWS   "news_articles"
#define MEMORY_AGENTS "agent_memories"
/* How many lessons the memory holds for each role (a hash: role -> lessons stored for it, and
 * MEMORY_LESSONS_GEN -> a generation that moves on with every lesson stored), kept by
 * memory_remember() whatever the backend. The swarm's heart reads it with the flow, so an agent
 * knows without a round trip whether a recall can find anything, and whether anything changed
 * since its last. */
#define MEMORY_LESSONS_KEY NR_PREFIX "mem:lessons"
#define MEMORY_LESSONS_GEN "gen"

struct config;
struct memory;
struct rlink;
struct vmem;

/* Whether cfg turns the memory on ([memory] backend is not "off"). */
bool memory_enabled(const struct config *cfg);

/* Opens the memory cfg describes on link l (borrowed; the local backend and the embedding
 * cache use it): the embedder and the backend, with the backend's heartbeat. Collections are
 * opened on first use. NULL with *cause when it cannot (an unknown kind, Chroma unreachable);
 * NULL with *cause NULL when the memory is off. Free with memory_free(). */
struct memory *memory_open(const struct config *cfg, struct rlink *l, char **cause);
void memory_free(struct memory *m);
/* "local (redis unix:///...), hash embeddings of 512 dimensions". Borrowed. */
const char *memory_describe(const struct memory *m);
/* The embedder and the backend (borrowed), for tests and benchmarks. */
struct embedder *memory_embedder(struct memory *m);
struct vmem *memory_vmem(struct memory *m);
/* A collection's full name (the prefix put in front), into buf. */
const char *memory_collection_name(const struct memory *m, const char *name, char *buf,
                                   size_t size);

/* Writes item it as bb_write() does (extra, st, existing_id, *cause as there), after semantic
 * deduplication when m is not NULL: BB_MERGED when it became a further source of an existing
 * story. Every item that enters is added to news_articles (sent with the handle's next read
 * of it, or memory_flush(): the next item's check carries it, so an item costs one round trip
 * of the memory's, not two). When the embedding or the backend fails, the item is written
 * without the semantic check (logged). */
int memory_story_enter(struct memory *m, struct bb *b, const struct news_item *it,
                       const json_t *extra, enum bb_status st, char existing_id[NEWS_ID_MAX + 1],
                       char **cause);

/* Forgets stories: every news_articles record of theirs (their own and the items merged into
 * them, by the records' "story" metadata) goes, so retention leaves nothing of a deleted story
 * in the memory. m NULL: nothing to do. Returns 0, or -1 with *cause. */
int memory_forget_stories(struct memory *m, const char *const *ids, size_t n, char **cause);

/* The stories nearest to query: a JSON array (new reference) of at most n objects {story,
 * similarity, title, source, url, time, status (when it entered), sources (records of it
 * that matched)}, nearest first. NULL with *cause. */
json_t *memory_search(struct memory *m, const char *query, size_t n, char **cause);

/* One memory as recall and listing give it. */
struct memory_recollection {
    char *id, *agent, *type, *content, *story, *by;
    double similarity, importance, score;
    int64_t time_ms;
};
void memory_recollections_free(struct memory_recollection *r, size_t n);

/* Stores a memory for each agent (role) of the NULL-terminated list (at most 16): type (e.g.
 * "lesson_learned"), content (what is remembered, the document), importance 0 to 1, story (the
 * story it came from, or NULL), about (the text it is about, embedded so that recall by a
 * similar story finds it; NULL: the content), by (who learned it, or NULL). The same agent,
 * type and content again is the same memory, refreshed. 0, or -1 with *cause. */
int memory_remember(struct memory *m, const char *const *agents, const char *type,
                    const char *content, double importance, const char *story, const char *about,
                    const char *by, char **cause);
/* The agent's memories relevant to query, best first (at most k). *out (free with
 * memory_recollections_free) and *n. */
int memory_recall(struct memory *m, const char *agent, const char *query, size_t k,
                  struct memory_recollection **out, size_t *n, char **cause);
/* The agent's memories, newest first, at most limit (0: all). */
int memory_list(struct memory *m, const char *agent, size_t limit, struct memory_recollection **out,
                size_t *n, char **cause);

/* system with the agent's lessons relevant to query appended (a new string, free it): what the
 * analyst and the writer put in front of a model. m NULL, no lesson, or a memory that cannot
 * answer (logged as who): a copy of system. */
char *memory_with_lessons(struct memory *m, const char *who, const char *agent, const char *query,
                          const char *system);
/* What a caller knows of the lessons without asking: lessons (MEMORY_LESSONS_KEY's count for the
 * agent; < 0: not known) and their generation, as read when memory_learned_here(agent) was
 * `here`. */
struct memory_known {
    long long lessons, gen, here;
};
/* Lessons stored for agent (a role) by this process so far (any thread): a reading of
 * MEMORY_LESSONS_KEY taken before a lesson this process stored for it since is out of date. */
long long memory_learned_here(const char *agent);
/* memory_with_lessons() knowing k (NULL: nothing known): no lesson for the agent, no recall at
 * all; the same generation as at this handle's last recall, the recall from its own copy of the
 * collection, without a round trip. */
char *memory_with_lessons_known(struct memory *m, const char *who, const char *agent,
                                const char *query, const char *system,
                                const struct memory_known *k);
/* Sends the news records memory_story_enter() kept back (they go with the handle's next read
 * anyway); a scout calls it after each batch. Logged, never failing the caller. m NULL: no-op. */
void memory_flush(struct memory *m);

/* A lesson learned from an outcome (a rejection, a failed QA), for each of agents: the
 * content says what happened and why, about the story's text. Logged, never failing the
 * caller; m NULL does nothing. */
void memory_learn(struct memory *m, const char *who, const char *const *agents,
                  const struct bb_item *story, const char *what, double importance);

#endif
