/*
 * wire.c - the wire simulator: stories built from per-topic phrase tables by a counter-based
 * generator (splitmix64 of the seed and the story number), so story n never depends on which
 * stories were generated before it and any thread can regenerate it. The stream (struct wire)
 * adds the position and a rate clock, guarded by one mutex; nothing else is shared.
 */
#include "agents/wire.h"

#include "core/clock.h"
#include "core/fail.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Shares of duplicates and weak stories, in percent. */
#define WIRE_DUP_PCT  5
#define WIRE_WEAK_PCT 15
/* Of the normal stories, the share (in percent) the wire flags breaking. */
#define WIRE_BREAKING_PCT 2
/* The first story's time, and the gap between stories, on the simulated wire. */
#define WIRE_EPOCH_MS 1795845600000LL /* 2026-11-28T06:00:00Z */
#define WIRE_GAP_MS   90000LL

struct topic {
    const char *name;
    const char *subjects[4]; /* who the story is about */
    const char *events[4];   /* what happened, followed by the figure */
    const char *units[4];    /* the figure's unit, matched to events[] */
    const char *roles[3];    /* titles of the people quoted */
    const char *bodies[3];   /* institutions they speak for */
};

static const struct topic topics[] = {
    {"politics",
     {"The coalition government", "The opposition bloc", "The city council", "The senate"},
     {"passed a budget bill worth", "won a confidence vote by", "approved a housing plan of",
      "delayed a tax reform costing"},
     {"billion euros", "votes", "new homes", "million dollars"},
     {"finance minister", "party whip", "policy analyst"},
     {"the Treasury", "the Institute for Public Policy", "the Electoral Commission"}},
    {"business",
     {"Harbor Bank", "Norvik Motors", "Castell Foods", "Brightline Energy"},
     {"reported quarterly profit of", "announced job cuts of", "raised its forecast by",
      "agreed a takeover worth"},
     {"million dollars", "positions", "percent", "billion dollars"},
     {"chief economist", "chief executive", "market strategist"},
     {"Harbor Bank", "Eastgate Capital", "the Chamber of Commerce"}},
    {"science",
     {"Researchers at Lund University", "A team at the Max Planck Institute", "NASA scientists",
      "Marine biologists"},
     {"measured a warming of", "sequenced", "recorded a signal lasting", "counted"},
     {"degrees in the deep ocean", "plant genomes", "milliseconds", "new species"},
     {"lead author", "professor of physics", "research director"},
     {"Lund University", "the European Space Agency", "the Royal Society"}},
    {"weather",
     {"Storm Elin", "A heatwave", "Heavy rain", "An early frost"},
     {"brought winds of", "pushed temperatures to", "dropped", "cut power to"},
     {"kilometres an hour", "degrees Celsius", "millimetres of rain in a day", "households"},
     {"chief meteorologist", "emergency coordinator", "hydrologist"},
     {"the National Weather Service", "the Met Office", "the civil protection agency"}},
    {"sport",
     {"FC Aurora", "The national rugby side", "Olympic champion Lena Ruiz", "The Hawks"},
     {"won the final by", "signed a contract worth", "set a record of", "drew a crowd of"},
     {"goals", "million pounds", "seconds", "spectators"},
     {"head coach", "club president", "sports physician"},
     {"FC Aurora", "the national federation", "the league"}},
    {"tech",
     {"Quantix", "A consortium of chip makers", "The open-source foundation", "Nimbus Cloud"},
     {"shipped a processor with", "patched a flaw affecting", "raised funding of",
      "cut data-centre energy use by"},
     {"billion transistors", "million devices", "million dollars", "percent"},
     {"chief technology officer", "security researcher", "industry analyst"},
     {"Quantix", "the Cyber Security Agency", "Gartner"}},
    {"health",
     {"The health ministry", "A clinical trial", "Regional hospitals", "The WHO"},
     {"reported", "found a reduction in risk of", "cut waiting times by", "vaccinated"},
     {"new flu cases this week", "percent", "days", "children"},
     {"chief medical officer", "epidemiologist", "trial investigator"},
     {"the health ministry", "the University Hospital", "the World Health Organization"}},
};
#define NTOPICS (sizeof topics / sizeof topics[0])

static const char *const first_names[] = {"Maria", "Tomas", "Aisha",  "Kenji",  "Priya", "Lars",
                                          "Amara", "Diego", "Ingrid", "Samuel", "Leila", "Owen"};
static const char *const last_names[] = {"Okafor", "Lindqvist", "Haddad", "Tanaka",
                                         "Sharma", "Berg",      "Mensah", "Alvarez",
                                         "Nilsen", "Cohen",     "Farah",  "Brennan"};
static const char *const places[] = {"Geneva", "Lagos", "Oslo", "Osaka", "Lyon",
                                     "Denver", "Porto", "Pune", "Cork",  "Tallinn"};
static const char *const sources[] = {"Reuters Sim", "AP Sim", "AFP Sim", "Newsroom Wire"};

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The k-th random number of story n. */
static uint64_t rnd(uint64_t seed, long n, int k)
{
    return mix64(mix64(seed ^ 0x5eedULL) ^ mix64((uint64_t)n * 1000003ULL + (uint64_t)k));
}

#define PICK(arr, r) ((arr)[(r) % (sizeof(arr) / sizeof((arr)[0]))])

const char *wire_kind_name(enum wire_kind k)
{
    static const char *const names[] = {"normal", "weak", "duplicate"};

    return names[k];
}

static enum wire_kind kind_of(uint64_t seed, long n)
{
    unsigned r = (unsigned)(rnd(seed, n, 0) % 100);

    if (n > 0 && r < WIRE_DUP_PCT)
        return WIRE_DUPLICATE;
    return r < WIRE_DUP_PCT + WIRE_WEAK_PCT ? WIRE_WEAK : WIRE_NORMAL;
}

/* Fills title and content for a story that is not a duplicate. */
static void compose(uint64_t seed, long n, enum wire_kind k, const struct topic **tp, char *title,
                    size_t tsize, char *content, size_t csize)
{
    const struct topic *t = &topics[rnd(seed, n, 1) % NTOPICS];
    unsigned e = (unsigned)(rnd(seed, n, 2) % 4);
    const char *subject = PICK(t->subjects, rnd(seed, n, 3));
    const char *place = PICK(places, rnd(seed, n, 4));
    char figure[96], event[192];
    int whole = (int)(rnd(seed, n, 5) % 900) + 10, frac = (int)(rnd(seed, n, 6) % 10);

    *tp = t;
    snprintf(figure, sizeof figure, "%d.%d %s", whole, frac, t->units[e]);
    snprintf(event, sizeof event, "%s %s", t->events[e], figure);
    if (k == WIRE_WEAK) {
        /* Short and vague: no named source, no second figure, hedged. */
        snprintf(title, tsize, "Reports: %s may have news in %s", subject, place);
        snprintf(content, csize,
                 "%s in %s is said to have %s, according to unconfirmed posts seen around "
                 "%02d:%02d. Details remain unclear.",
                 subject, place, event, (int)(rnd(seed, n, 7) % 24), (int)(rnd(seed, n, 8) % 60));
        return;
    }
    {
        const char *who1f = PICK(first_names, rnd(seed, n, 9));
        const char *who1l = PICK(last_names, rnd(seed, n, 10));
        const char *who2f = PICK(first_names, rnd(seed, n, 11));
        const char *who2l = PICK(last_names, rnd(seed, n, 12));
        const char *role1 = PICK(t->roles, rnd(seed, n, 13));
        const char *body1 = PICK(t->bodies, rnd(seed, n, 14));
        const char *role2 = PICK(t->roles, rnd(seed, n, 15));
        const char *body2 = PICK(t->bodies, rnd(seed, n, 16));
        int pct = (int)(rnd(seed, n, 17) % 40) + 2;
        int year = 2019 + (int)(rnd(seed, n, 18) % 7);

        snprintf(title, tsize, "%s %s", subject, event);
        snprintf(content, csize,
                 "%s %s on %s, officials in %s confirmed. The figure is %d percent %s than in "
                 "%d, when a similar move drew wide attention. \"This is a significant step, and "
                 "the numbers speak for themselves,\" said %s %s, %s at %s. %s %s, %s at %s, "
                 "said the effect would be clearer within %d months and warned that %d.%d "
                 "percent of the change could still be revised. Further figures are due on "
                 "the %dth.",
                 subject, event, (rnd(seed, n, 19) & 1) ? "Tuesday" : "Thursday", place, pct,
                 (rnd(seed, n, 20) & 1) ? "higher" : "lower", year, who1f, who1l, role1, body1,
                 who2f, who2l, role2, body2, 2 + (int)(rnd(seed, n, 21) % 10),
                 (int)(rnd(seed, n, 22) % 9), (int)(rnd(seed, n, 23) % 10),
                 4 + (int)(rnd(seed, n, 24) % 24));
    }
}

json_t *wire_story(uint64_t seed, long n, enum wire_kind *kind, long *dup_of)
{
    enum wire_kind k = kind_of(seed, n);
    long base = n;
    const struct topic *t;
    char title[512], content[2048], id[NEWS_ID_MAX + 1], url[256], when[32];
    int64_t ms = WIRE_EPOCH_MS + n * WIRE_GAP_MS;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    json_t *j;

    if (k == WIRE_DUPLICATE) {
        /* An exact repeat of an earlier story that is not itself a duplicate. */
        base = (long)(rnd(seed, n, 30) % (uint64_t)n);
        while (base > 0 && kind_of(seed, base) == WIRE_DUPLICATE)
            base--;
    }
    compose(seed, base, base == n ? k : kind_of(seed, base), &t, title, sizeof title, content,
            sizeof content);
    if (kind != NULL)
        *kind = k;
    if (dup_of != NULL)
        *dup_of = k == WIRE_DUPLICATE ? base : -1;
    snprintf(id, sizeof id, "wire-%08llx-%ld", (unsigned long long)(seed & 0xffffffffULL), n);
    snprintf(url, sizeof url, "https://wire.example/%s/%ld", t->name, n);
    gmtime_r(&secs, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "id", id, "title", title, "content",
                  content, "source", PICK(sources, rnd(seed, n, 31)), "url", url, "published", when,
                  "topics", t->name);
    if (k == WIRE_NORMAL && rnd(seed, n, 40) % 100 < WIRE_BREAKING_PCT)
        json_object_set_new(j, "breaking", json_true());
    return j;
}

struct wire {
    pthread_mutex_t mu; /* guards next and the rate clock */
    struct wire_options o;
    long next;
    int64_t start_ms;
};

struct wire *wire_new(const struct wire_options *o)
{
    struct wire *w = xcalloc(1, sizeof *w);

    pthread_mutex_init(&w->mu, NULL);
    w->o = *o;
    w->start_ms = clock_mono_ms();
    return w;
}

void wire_free(struct wire *w)
{
    if (w == NULL)
        return;
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int wire_take(struct wire *w, struct news_item **out)
{
    long n;
    json_t *j;
    char *cause = NULL;

    pthread_mutex_lock(&w->mu);
    if (w->o.limit > 0 && w->next >= w->o.limit) {
        pthread_mutex_unlock(&w->mu);
        return -1;
    }
    if (w->o.rate_per_s > 0 &&
        (double)w->next >=
            (double)(clock_mono_ms() - w->start_ms) / 1000.0 * w->o.rate_per_s + 1.0) {
        pthread_mutex_unlock(&w->mu);
        return 0;
    }
    n = w->next++;
    pthread_mutex_unlock(&w->mu);
    j = wire_story(w->o.seed, n, NULL, NULL);
    *out = news_item_from_json(j, &cause);
    json_decref(j);
    if (*out == NULL) /* the generator's own output: a bug here, never input */
        fail("wire: story %ld is not a valid news item: %s", n, cause);
    return 1;
}

bool wire_done(struct wire *w)
{
    bool done;

    pthread_mutex_lock(&w->mu);
    done = w->o.limit > 0 && w->next >= w->o.limit;
    pthread_mutex_unlock(&w->mu);
    return done;
}
