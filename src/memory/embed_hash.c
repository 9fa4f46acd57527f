/*
 * embed_hash.c - the offline embedding (embed.h, kind "hash"): the text is folded as the
 * content hash folds it (news_normalise: lower case, punctuation dropped, white space made
 * single), split into words, and stop words (function words and the filler every news story
 * has) are left out. Each remaining word gives three kinds of feature:
 *
 *   the word itself                          weight 1.0
 *   the pair it makes with the next word     weight 0.5 (same phrasing, same story)
 *   its character 3- to 5-grams of "<word>"  weight 0.35 / sqrt(grams), so inflections and
 *                                            compounds ("storm", "storms") still meet
 *
 * A feature seen n times counts w * (1 + ln n) (sublinear: a word repeated ten times is not
 * ten times the story), is hashed (FNV-1a with a final mix) to one of dim buckets and added
 * with the sign of its hash's top bit, so collisions cancel out on average instead of piling
 * up; the sum is L2-normalised. Pure and deterministic: any thread, any machine.
 */
#include "memory/embed.h"

#include "core/fail.h"
#include "store/news_item.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define W_WORD   1.0f
#define W_NAME   3.0f
#define W_PAIR   0.5f
#define W_GRAMS  0.35f
#define GRAM_MIN 3
#define GRAM_MAX 5
/* The longest word kept (bytes); the bag's first size (features). */
#define WORD_MAX      128
#define BAG_START     1024
#define BAG_MAX_START 65536

/* Sorted: looked up with bsearch. English function words, and the words of attribution and
 * time (days, months) that every story carries whatever it is about. ("may" is a month too.) */
static const char *const stop_words[] = {
    "a",        "about",    "according", "after",     "again",   "against", "all",
    "also",     "am",       "an",        "and",       "any",     "april",   "are",
    "as",       "at",       "august",    "be",        "because", "been",    "before",
    "being",    "between",  "both",      "but",       "by",      "can",     "could",
    "december", "did",      "do",        "does",      "doing",   "down",    "during",
    "each",     "earlier",  "evening",   "february",  "few",     "for",     "friday",
    "from",     "further",  "had",       "has",       "have",    "having",  "he",
    "her",      "here",     "hers",      "him",       "his",     "how",     "i",
    "if",       "in",       "into",      "is",        "it",      "its",     "itself",
    "january",  "july",     "june",      "just",      "last",    "later",   "like",
    "march",    "may",      "me",        "might",     "monday",  "more",    "morning",
    "most",     "must",     "my",        "new",       "night",   "no",      "nor",
    "not",      "november", "now",       "october",   "of",      "off",     "on",
    "once",     "one",      "only",      "or",        "other",   "our",     "ours",
    "out",      "over",     "own",       "reported",  "reports", "said",    "same",
    "saturday", "says",     "september", "she",       "should",  "so",      "some",
    "such",     "sunday",   "than",      "that",      "the",     "their",   "theirs",
    "them",     "then",     "there",     "these",     "they",    "this",    "those",
    "through",  "thursday", "to",        "today",     "told",    "tonight", "too",
    "tuesday",  "under",    "until",     "up",        "upon",    "us",      "very",
    "was",      "we",       "wednesday", "week",      "were",    "what",    "when",
    "where",    "which",    "while",     "who",       "whom",    "why",     "will",
    "with",     "would",    "year",      "yesterday", "you",     "your",    "yours",
};

static int cmp_word(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_stop(const char *w)
{
    return bsearch(&w, stop_words, sizeof stop_words / sizeof stop_words[0], sizeof stop_words[0],
                   cmp_word) != NULL;
}

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

/* FNV-1a of n bytes, seeded with the feature's kind so a word and a gram never share a key. */
static uint64_t fnv(uint64_t kind, const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (kind * 0x9e3779b97f4a7c15ULL);

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return mix64(h);
}

/* Features counted by hash: open addressing, grown at half full. */
struct feat {
    uint64_t h; /* 0: empty (a real hash of 0 is nudged to 1) */
    float w;
    uint32_t n;
};

struct bag {
    struct feat *t;
    size_t cap, used;
};

static void bag_add(struct bag *b, uint64_t h, float w);

static void bag_grow(struct bag *b)
{
    struct bag nb = {xcalloc(b->cap * 2, sizeof *nb.t), b->cap * 2, 0};

    for (size_t i = 0; i < b->cap; i++)
        if (b->t[i].h != 0) {
            for (uint32_t k = 0; k < b->t[i].n; k++)
                bag_add(&nb, b->t[i].h, b->t[i].w);
        }
    free(b->t);
    *b = nb;
}

static void bag_add(struct bag *b, uint64_t h, float w)
{
    size_t i;

    if (h == 0)
        h = 1;
    if ((b->used + 1) * 2 > b->cap)
        bag_grow(b);
    for (i = h & (b->cap - 1); b->t[i].h != 0 && b->t[i].h != h; i = (i + 1) & (b->cap - 1))
        ;
    if (b->t[i].h == 0) {
        b->t[i] = (struct feat){h, w, 0};
        b->used++;
    }
    b->t[i].n++;
}

/* The character grams of "<word>" (n bytes of word, at most WORD_MAX). UTF-8 sequences are
 * kept whole. */
static void add_grams(struct bag *b, const char *word, size_t n)
{
    char buf[WORD_MAX + 2];
    size_t starts[WORD_MAX + 3], nchars = 0, total = 0, len = n + 2;
    float w;

    buf[0] = '<';
    memcpy(buf + 1, word, n);
    buf[n + 1] = '>';
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)buf[i] & 0xC0) != 0x80)
            starts[nchars++] = i;
    starts[nchars] = len;
    for (size_t g = GRAM_MIN; g <= GRAM_MAX; g++)
        if (nchars >= g)
            total += nchars - g + 1;
    if (total == 0)
        return;
    w = W_GRAMS / sqrtf((float)total);
    for (size_t g = GRAM_MIN; g <= GRAM_MAX; g++)
        for (size_t i = 0; i + g <= nchars; i++)
            bag_add(b, fnv(2 + g, buf + starts[i], starts[i + g] - starts[i]), w);
}

/* Whether chunk (a run of non-space bytes) names something: it holds a digit, or it starts
 * with a capital letter where a sentence does not start. Names and figures are what tell one
 * event from another; the words around them are what every story of a kind shares. */
static bool is_entity(const char *chunk, size_t n, bool sentence_start)
{
    for (size_t i = 0; i < n; i++)
        if (chunk[i] >= '0' && chunk[i] <= '9')
            return true;
    for (size_t i = 0; i < n; i++) {
        if ((chunk[i] >= 'a' && chunk[i] <= 'z') || (unsigned char)chunk[i] >= 0x80)
            return false;
        if (chunk[i] >= 'A' && chunk[i] <= 'Z')
            return !sentence_start;
    }
    return false;
}

/* The pair feature of two words: FNV-1a over "prev word" without building it. */
static uint64_t pair_hash(const char *prev, size_t pn, const char *w, size_t wn)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ 0x9e3779b97f4a7c15ULL;

    for (size_t i = 0; i < pn + 1 + wn; i++) {
        unsigned char c = (unsigned char)(i < pn ? prev[i] : i == pn ? ' ' : w[i - pn - 1]);

        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return mix64(h);
}

void embed_hash(const char *text, int dim, float *out)
{
    size_t len = strlen(text), cap = BAG_START;
    struct bag b;
    char words[2][WORD_MAX + 1];
    size_t prev_n = 0;
    int cur = 0;
    bool sentence_start = true;
    double sum = 0;

    /* Room for the features a text this long makes (about 3 a byte) without growing. */
    while (cap < 4 * len && cap < BAG_MAX_START)
        cap *= 2;
    b = (struct bag){xcalloc(cap, sizeof(struct feat)), cap, 0};
    memset(out, 0, (size_t)dim * sizeof *out);
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, " \t\n\r"), wn;
        char *w = words[cur];
        bool entity, ends;

        if (n == 0) {
            if (*p == '\n')
                sentence_start = true;
            p++;
            continue;
        }
        entity = is_entity(p, n, sentence_start);
        ends = strchr(".!?:", p[n - 1]) != NULL;
        /* A longer run (a URL, a run of symbols) is cut: it is no word anyone reads. */
        wn = news_normalise_into(p, n < WORD_MAX ? n : WORD_MAX, w);
        p += n;
        sentence_start = ends;
        if (wn == 0 || is_stop(w) ||
            (wn == 1 && (unsigned char)w[0] < 0x80 && !(w[0] >= '0' && w[0] <= '9')))
            continue;
        bag_add(&b, fnv(0, w, wn), entity ? W_NAME : W_WORD);
        if (prev_n > 0)
            bag_add(&b, pair_hash(words[1 - cur], prev_n, w, wn), W_PAIR);
        add_grams(&b, w, wn);
        prev_n = wn;
        cur = 1 - cur;
    }
    for (size_t i = 0; i < b.cap; i++) {
        const struct feat *f = &b.t[i];

        if (f->h == 0)
            continue;
        out[f->h % (uint64_t)dim] +=
            ((f->h >> 63) ? -1.0f : 1.0f) * f->w * (1.0f + logf((float)f->n));
    }
    for (int i = 0; i < dim; i++)
        sum += (double)out[i] * (double)out[i];
    if (sum > 0) {
        float inv = (float)(1.0 / sqrt(sum));

        for (int i = 0; i < dim; i++)
            out[i] *= inv;
    }
    free(b.t);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *embed_figures(const char *text)
{
    char **figs = NULL, *out;
    size_t n = 0, len = 1;

    for (const char *p = text; *p != '\0';) {
        size_t k = strcspn(p, " \t\n\r");
        bool digit = false;

        for (size_t i = 0; i < k; i++)
            digit |= p[i] >= '0' && p[i] <= '9';
        if (digit) {
            char *chunk = xasprintf("%.*s", (int)k, p);

            figs = xrealloc(figs, (n + 1) * sizeof *figs);
            figs[n] = news_normalise(chunk);
            len += strlen(figs[n]) + 1;
            n++;
            free(chunk);
        }
        p += k > 0 ? k : 1;
    }
    if (n > 0)
        qsort(figs, n, sizeof *figs, cmp_str);
    out = xcalloc(len, 1);
    for (size_t i = 0; i < n; i++) {
        if (figs[i][0] != '\0' && (i == 0 || strcmp(figs[i], figs[i - 1]) != 0)) {
            if (out[0] != '\0')
                strcat(out, " ");
            strcat(out, figs[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(figs[i]);
    free(figs);
    return out;
}

bool embed_figures_agree(const char *a, const char *b)
{
    size_t na = 0, nb = 0, shared = 0;
    const char *small, *big;
    char *copy, *save = NULL;

    for (const char *p = a; *p != '\0'; p++)
        na += *p == ' ';
    for (const char *p = b; *p != '\0'; p++)
        nb += *p == ' ';
    if (a[0] == '\0' || b[0] == '\0')
        return true;
    na++;
    nb++;
    small = na <= nb ? a : b;
    big = na <= nb ? b : a;
    copy = xstrdup(small);
    for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
        size_t wl = strlen(w);

        for (const char *p = big; (p = strstr(p, w)) != NULL; p += wl)
            if ((p == big || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\0')) {
                shared++;
                break;
            }
    }
    free(copy);
    return shared >= 1 && 5 * shared >= 3 * (na <= nb ? na : nb);
}
