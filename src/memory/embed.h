/*
 * embed.h - text embeddings behind one interface, with two kinds:
 *
 *   hash    offline and deterministic (the default): feature-hashed word unigrams, word bigrams
 *           and character n-grams of the words, stop words left out, each feature weighted
 *           1 + ln(count) and signed by its hash, summed into a fixed dimension and
 *           L2-normalised. No model, no network; a few microseconds per story.
 *   openai  any OpenAI-compatible POST {base}/v1/embeddings (OpenAI, Ollama, vLLM, llama.cpp
 *           server), batched, with the answer's dimension checked.
 *
 * An embedder whose calls cost something (openai) keeps an embedding cache in Redis keyed by a
 * hash of the kind, model, dimension and text (nr:mem:emb:<sha256>, packed float32, with a TTL),
 * so every process of a swarm embeds a text once. The hash kind is never cached: computing one
 * costs about a Redis round trip (`newsroom bench memory` measures both), and a cache would
 * keep 2 KB in Redis for every story.
 *
 * Threads: an embedder belongs to one thread (the openai kind holds a CURL handle, the cache a
 * borrowed link); the hash functions are pure and safe from any thread.
 * Errors: 0 or -1 with *cause (never containing an API key).
 */
#ifndef NEWSROOM_EMBED_H
#define NEWSROOM_EMBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMBED_DIM_MAX 8192
/* Texts per request to an embeddings API. */
#define EMBED_BATCH_MAX 64

struct config;
struct rlink;
struct embedder;

struct embed_config {
    const char *kind;     /* "hash" or "openai"; NULL: "hash" */
    int dim;              /* hash: its dimension; openai: sent as "dimensions" when > 0 */
    const char *model;    /* openai: the model name */
    const char *base_url; /* openai: https://api.openai.com or another compatible server */
    const char *api_key;  /* openai: secret, never shown; "" for servers without keys */
    int timeout_ms;       /* openai: one request */
    int cache_ttl_s;      /* a cached embedding's lifetime; 0: no cache */
};

/* Fills *out from the [memory] keys of c (and [providers] for the OpenAI base URL and key).
 * Strings are borrowed from c. */
void embed_config_from(struct embed_config *out, const struct config *c);

/* An embedder of cfg->kind; l (borrowed, may be NULL for none) holds the cache of the kinds
 * that use one. NULL with *cause for an unknown kind or a bad dimension. Free with
 * embedder_free(). */
struct embedder *embedder_new(const struct embed_config *cfg, struct rlink *l, char **cause);
void embedder_free(struct embedder *e);
/* "hash" or "openai". */
const char *embedder_kind(const struct embedder *e);
/* The dimension of its vectors; for openai with dim 0 (the model's own, for servers that take
 * no "dimensions") 0 until embedder_probe() or a first answer told it. */
int embedder_dim(const struct embedder *e);
/* Learns the dimension when it is not known yet (one short request). 0, or -1 with *cause. */
int embedder_probe(struct embedder *e, char **cause);

/* Embeds n texts into out (n * embedder_dim() floats, the caller's). Every vector is
 * L2-normalised (a text with no features gives the zero vector). Returns 0, or -1 with
 * *cause (also when the dimension is not known yet). */
int embed_texts(struct embedder *e, const char *const *texts, size_t n, float *out, char **cause);

/* What the cache did since the embedder was made (both 0 for a kind without one). */
void embedder_cache_stats(const struct embedder *e, long *hits, long *misses);

/* The hash embedding of text into out[dim] (pure; any thread). */
void embed_hash(const char *text, int dim, float *out);

/* The figures of a text: its white-space separated words that hold a digit, folded as the
 * content hash folds them ("38,000" -> "38000", "46.2C" -> "462c"), sorted, each once,
 * joined by single spaces. A new string (free it). */
char *embed_figures(const char *text);
/* Whether two figure lists (embed_figures) can be the same event: true when either has none,
 * else when at least 60% of the figures of the shorter list are in the other (and at least
 * one).
 * Reports of one event share its figures; stories of a kind written from one template (a
 * wire's, a weather service's) share their words but not their figures. */
bool embed_figures_agree(const char *a, const char *b);

#endif
