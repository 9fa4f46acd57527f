/*
 * sim.c - the offline provider: answers built from the input, deterministic for a seed and
 * an input, with token counts from llm_estimate_tokens() and a simulated latency per tier.
 * Each task type has a row in answer_table[] that writes its answer from the features of the
 * item (length, figures, named sources, topic keywords) and a confidence that mixes those
 * features with a deterministic hash of the input, so confidences spread from below 0.3 to
 * above 0.9 and two models (or seeds) can disagree about the same item.
 *
 * Threads: pure functions of their arguments (the provider is read-only), so one sim
 * provider may be shared by any number of threads.
 */
#include "llm/batch.h"
#include "llm/llm_int.h"

#include "core/clock.h"
#include "core/fail.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SENTENCES 64
#define MAX_TOPICS    4
#define MAX_NAMES     5

struct sentence {
    const char *start;
    size_t len;
};

struct features {
    int words, figures, sources, keyword_hits;
    int topic_hits[16];
    struct sentence sent[MAX_SENTENCES];
    int nsent;
    char names[MAX_NAMES][48];
    int nnames;
    double quality; /* 0..1 from the features alone */
    double noise;   /* 0..1 from the hash */
    double confidence;
    uint64_t hash;
};

/* Topic keywords: a word's topic and whether it makes an item urgent. */
static const struct topic {
    const char *name;
    const char *words[12];
} topics[] = {
    {"politics",
     {"election", "parliament", "minister", "president", "vote", "senate", "government", "policy",
      "campaign", "congress", NULL}},
    {"business",
     {"market", "stocks", "inflation", "bank", "economy", "company", "shares", "profit", "trade",
      "revenue", NULL}},
    {"disaster",
     {"earthquake", "flood", "storm", "wildfire", "hurricane", "evacuated", "rescue", NULL}},
    {"justice",
     {"court", "trial", "police", "arrested", "judge", "charged", "lawsuit", "verdict", NULL}},
    {"health", {"vaccine", "hospital", "health", "virus", "patients", "disease", "doctors", NULL}},
    {"climate", {"climate", "emissions", "carbon", "warming", "renewable", NULL}},
    {"technology", {"ai", "software", "technology", "startup", "chip", "data", "cyber", NULL}},
    {"sports", {"match", "league", "championship", "goal", "season", "tournament", NULL}},
};
#define NTOPICS ((int)(sizeof topics / sizeof topics[0]))

static const char *const source_words[] = {
    "said",         "says",      "according", "told",      "reuters", "ap",
    "spokesperson", "officials", "report",    "statement", NULL};

/* Task types and the tier whose latency they take (the issue's default mapping). */
struct answer_row;
typedef json_t *(*answer_fn)(const struct features *f, const struct llm_request *req);

static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff; /* a separator, so "ab"+"c" and "a"+"bc" differ */
    h *= 0x100000001b3ULL;
    return h;
}

static double unit(uint64_t h)
{
    return (double)(mix(h) >> 11) * (1.0 / 9007199254740992.0);
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Rounded to two places (v >= 0; no libm needed). */
static double r2(double v)
{
    return (double)(long long)(v * 100 + 0.5) / 100;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(w, lit, n) == 0;
}

static void split_sentences(const char *text, struct features *f)
{
    const char *s = text;

    while (*s != '\0' && f->nsent < MAX_SENTENCES) {
        const char *e;

        while (*s != '\0' && isspace((unsigned char)*s))
            s++;
        if (*s == '\0')
            break;
        e = s;
        while (*e != '\0' && *e != '\n' &&
               !((*e == '.' || *e == '!' || *e == '?') &&
                 (e[1] == '\0' || isspace((unsigned char)e[1]))))
            e++;
        if (*e != '\0' && *e != '\n')
            e++; /* keep the full stop */
        if (e - s > 3) {
            f->sent[f->nsent].start = s;
            f->sent[f->nsent].len = (size_t)(e - s);
            f->nsent++;
        }
        s = e;
    }
}

static void add_name(struct features *f, const char *w, size_t n)
{
    if (f->nnames >= MAX_NAMES || n < 3 || n >= sizeof f->names[0])
        return;
    for (int i = 0; i < f->nnames; i++)
        if (strlen(f->names[i]) == n && strncmp(f->names[i], w, n) == 0)
            return;
    memcpy(f->names[f->nnames], w, n);
    f->names[f->nnames][n] = '\0';
    f->nnames++;
}

static void extract(const char *text, uint64_t h, struct features *f)
{
    const char *s = text, *name_end = text;
    bool sentence_start = true;

    memset(f, 0, sizeof *f);
    f->hash = h;
    split_sentences(text, f);
    while (*s != '\0') {
        const char *w = s;
        size_t n = 0;

        if (isalpha((unsigned char)*s)) {
            while (isalpha((unsigned char)w[n]) || w[n] == '\'' || w[n] == '-')
                n++;
            f->words++;
            for (int i = 0; source_words[i] != NULL; i++)
                if (word_is(w, n, source_words[i]))
                    f->sources++;
            for (int t = 0; t < NTOPICS; t++)
                for (int i = 0; topics[t].words[i] != NULL; i++)
                    if (word_is(w, n, topics[t].words[i])) {
                        f->topic_hits[t]++;
                        f->keyword_hits++;
                    }
            if (isupper((unsigned char)*w) && !sentence_start && w >= name_end) {
                /* A run of capitalised words is one name: "Elena Ruiz". */
                size_t m = n;

                while (w[m] == ' ' && isupper((unsigned char)w[m + 1])) {
                    m++;
                    while (isalpha((unsigned char)w[m]) || w[m] == '-')
                        m++;
                }
                add_name(f, w, m);
                name_end = w + m;
            }
            sentence_start = false;
            s += n;
        } else if (isdigit((unsigned char)*s)) {
            while (isdigit((unsigned char)w[n]) || w[n] == ',' || w[n] == '.')
                n++;
            f->figures++;
            f->words++;
            sentence_start = false;
            s += n;
        } else {
            if (*s == '.' || *s == '!' || *s == '?' || *s == '\n' || *s == ':')
                sentence_start = true;
            s++;
        }
    }
    f->sources += f->nnames / 2; /* named people and bodies count as half a source each */
    f->quality = 0.30 * clamp(f->words / 150.0, 0, 1) + 0.20 * clamp(f->figures / 4.0, 0, 1) +
                 0.25 * clamp(f->sources / 3.0, 0, 1) + 0.25 * clamp(f->keyword_hits / 4.0, 0, 1);
    f->noise = unit(h);
    f->confidence = r2(clamp(0.75 * f->quality + 0.65 * f->noise - 0.2, 0.02, 0.99));
}

static json_t *topic_list(const struct features *f)
{
    json_t *a = json_array();
    bool used[NTOPICS] = {false};

    for (int k = 0; k < MAX_TOPICS; k++) {
        int best = -1;

        for (int t = 0; t < NTOPICS; t++)
            if (!used[t] && f->topic_hits[t] > 0 &&
                (best < 0 || f->topic_hits[t] > f->topic_hits[best]))
                best = t;
        if (best < 0)
            break;
        used[best] = true;
        json_array_append_new(a, json_string(topics[best].name));
    }
    if (json_array_size(a) == 0)
        json_array_append_new(a, json_string("general"));
    return a;
}

static json_t *reasons(const struct features *f)
{
    json_t *a = json_array();
    char buf[128];

    snprintf(buf, sizeof buf, "%d words%s", f->words, f->words < 40 ? ", thin on detail" : "");
    json_array_append_new(a, json_string(buf));
    snprintf(buf, sizeof buf, "%d figure%s", f->figures, f->figures == 1 ? "" : "s");
    json_array_append_new(a, json_string(buf));
    snprintf(buf, sizeof buf, "%d named source%s", f->sources, f->sources == 1 ? "" : "s");
    json_array_append_new(a, json_string(buf));
    if (f->keyword_hits > 0) {
        snprintf(buf, sizeof buf, "%d topic keyword%s", f->keyword_hits,
                 f->keyword_hits == 1 ? "" : "s");
        json_array_append_new(a, json_string(buf));
    }
    return a;
}

static json_t *lead_string(const struct features *f)
{
    if (f->nsent == 0)
        return json_string("");
    return json_stringn(f->sent[0].start, f->sent[0].len);
}

/* A score in [0, 1]: the item's quality moved by its own share of the noise. */
static double score(const struct features *f, uint64_t salt)
{
    return r2(clamp(0.8 * f->quality + 0.4 * unit(f->hash ^ salt) - 0.1, 0, 1));
}

static json_t *ans_scout(const struct features *f, const struct llm_request *req)
{
    double s = score(f, 1);

    (void)req;
    return json_pack("{s:b, s:f, s:f, s:o, s:o, s:f}", "newsworthy", s >= 0.5, "score", s,
                     "urgency", score(f, 2), "topics", topic_list(f), "reasons", reasons(f),
                     "confidence", f->confidence);
}

static json_t *ans_filter(const struct features *f, const struct llm_request *req)
{
    double q = score(f, 3);
    const char *why = q >= 0.4        ? "substantive, sourced reporting"
                      : f->words < 40 ? "too short to stand as a story"
                                      : "little verifiable detail";

    (void)req;
    return json_pack("{s:b, s:s, s:f, s:f}", "keep", q >= 0.4, "reason", why, "quality", q,
                     "confidence", f->confidence);
}

static json_t *ans_tags(const struct features *f, const struct llm_request *req)
{
    json_t *t = topic_list(f);

    (void)req;
    return json_pack("{s:o, s:s, s:f}", "topics", t, "primary",
                     json_string_value(json_array_get(t, 0)), "confidence", f->confidence);
}

static json_t *ans_analysis(const struct features *f, const struct llm_request *req)
{
    json_t *names = json_array();
    static const char *const moods[] = {"negative", "neutral", "positive"};

    (void)req;
    for (int i = 0; i < f->nnames; i++)
        json_array_append_new(names, json_string(f->names[i]));
    return json_pack("{s:o, s:{s:f, s:f, s:f, s:f, s:f}, s:s, s:o, s:o, s:f}", "summary",
                     lead_string(f), "scores", "newsworthiness", score(f, 4), "credibility",
                     r2(clamp(f->sources / 3.0 * 0.7 + 0.3 * unit(f->hash ^ 5), 0, 1)), "clarity",
                     score(f, 6), "impact", score(f, 7), "urgency", score(f, 13), "sentiment",
                     moods[mix(f->hash ^ 8) % 3], "entities", names, "topics", topic_list(f),
                     "confidence", f->confidence);
}

static json_t *ans_debate(const struct features *f, const struct llm_request *req)
{
    static const char *const stances[] = {"oppose", "neutral", "support"};
    double lean = 0.6 * f->quality + 0.4 * unit(f->hash ^ 9);
    int st = lean < 0.35 ? 0 : lean < 0.55 ? 1 : 2;
    char arg[400];

    (void)req;
    snprintf(arg, sizeof arg,
             st == 2   ? "The story holds up: %d figures and %d named sources back the lead."
             : st == 0 ? "The story is not ready: %d figures and %d named sources are too little "
                         "to carry the claim."
                       : "The story is plausible but thin: %d figures and %d named sources; it "
                         "needs one more confirmation.",
             f->figures, f->sources);
    return json_pack("{s:s, s:s, s:o, s:f}", "stance", stances[st], "argument", arg, "reasons",
                     reasons(f), "confidence", f->confidence);
}

static json_t *ans_qa(const struct features *f, const struct llm_request *req)
{
    double s =
        (double)(long long)(clamp(10 * (0.7 * f->quality + 0.4 * unit(f->hash ^ 10)), 0, 10) * 10 +
                            0.5) /
        10;
    json_t *issues = json_array();

    (void)req;
    if (f->sources < 2)
        json_array_append_new(issues, json_string("attribute the claims to named sources"));
    if (f->figures == 0)
        json_array_append_new(issues, json_string("no figures to anchor the story"));
    if (f->words < 60)
        json_array_append_new(issues, json_string("too short for air"));
    if (s < 7.0 && json_array_size(issues) == 0)
        json_array_append_new(issues, json_string("the lead buries the news; tighten it"));
    return json_pack("{s:f, s:b, s:o, s:f}", "score", s, "passed", s >= 7.0, "issues", issues,
                     "confidence", f->confidence);
}

static bool has_fact(const struct sentence *s)
{
    for (size_t i = 0; i < s->len; i++)
        if (isdigit((unsigned char)s->start[i]))
            return true;
    for (int k = 0; source_words[k] != NULL; k++) {
        size_t n = strlen(source_words[k]);

        for (size_t i = 0; i + n <= s->len; i++)
            if (strncasecmp(s->start + i, source_words[k], n) == 0)
                return true;
    }
    return false;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (n > SIZE_MAX / 4 - *len)
        fail("a sim script would be larger than memory");
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* A script: the lead, then the sentences with facts, then the rest, up to the target, then a
 * sign-off. Returns a new string. */
static char *script(const struct features *f, const struct llm_request *req, int target_words)
{
    static const char *const anchors[] = {"Alex Morgan", "Sam Okafor", "Priya Raman",
                                          "Jonas Weber"};
    char *buf = NULL, line[160];
    size_t len = 0, cap = 0;
    int words = 0;
    bool used[MAX_SENTENCES] = {false};

    (void)req;
    if (f->nsent == 0) {
        append(&buf, &len, &cap, "No story text was given.", 24);
        return buf;
    }
    append(&buf, &len, &cap, f->sent[0].start, f->sent[0].len);
    append(&buf, &len, &cap, "\n\n", 2);
    used[0] = true;
    words += llm_estimate_tokens(buf) * 3 / 4;
    for (int pass = 0; pass < 2; pass++) {
        bool header = false;

        for (int i = 1; i < f->nsent && words < target_words; i++) {
            if (used[i] || (pass == 0 && !has_fact(&f->sent[i])))
                continue;
            if (!header) {
                const char *h = pass == 0 ? "Key facts: " : "";

                append(&buf, &len, &cap, h, strlen(h));
                header = true;
            }
            append(&buf, &len, &cap, f->sent[i].start, f->sent[i].len);
            append(&buf, &len, &cap, " ", 1);
            used[i] = true;
            for (size_t k = 0; k < f->sent[i].len; k++)
                words += f->sent[i].start[k] == ' ';
            words++;
        }
        if (header)
            append(&buf, &len, &cap, "\n\n", 2);
    }
    snprintf(line, sizeof line, "That's the latest on this story. For Newsroom, I'm %s.",
             anchors[mix(f->hash ^ 11) % 4]);
    append(&buf, &len, &cap, line, strlen(line));
    return buf;
}

static json_t *ans_script(const struct features *f, const struct llm_request *req)
{
    bool final = strcmp(req->task_type, "script_final") == 0 ||
                 strcmp(req->task_type, "script_escalation") == 0;
    int target = req->max_tokens * 3 / 4;
    char *s;
    json_t *j;

    if (target > (final ? 300 : 180))
        target = final ? 300 : 180;
    s = script(f, req, target);
    j = json_pack("{s:s, s:f}", "script", s, "confidence", f->confidence);
    free(s);
    return j;
}

static json_t *ans_generic(const struct features *f, const struct llm_request *req)
{
    (void)req;
    return json_pack("{s:o, s:o, s:f}", "answer", lead_string(f), "topics", topic_list(f),
                     "confidence", f->confidence);
}

static const struct answer_row {
    const char *task_type;
    enum llm_tier tier;
    answer_fn fn;
    bool text; /* the answer is prose (unless JSON is asked for) */
} answer_table[] = {
    {"news_scout", LLM_FAST, ans_scout, false},
    {"content_filter", LLM_FAST, ans_filter, false},
    {"topic_tagging", LLM_FAST, ans_tags, false},
    {"content_analysis", LLM_BALANCED, ans_analysis, false},
    {"debate_argument", LLM_BALANCED, ans_debate, false},
    {"script_draft", LLM_BALANCED, ans_script, true},
    {"script_final", LLM_PREMIUM, ans_script, true},
    {"script_escalation", LLM_PREMIUM, ans_script, true},
    {"quality_assurance", LLM_BALANCED, ans_qa, false},
    {"qa_escalation", LLM_PREMIUM, ans_qa, false},
};
static const struct answer_row generic_row = {"", LLM_BALANCED, ans_generic, true};

static const struct answer_row *row_for(const char *task_type)
{
    for (size_t i = 0; task_type != NULL && i < sizeof answer_table / sizeof answer_table[0]; i++)
        if (strcmp(answer_table[i].task_type, task_type) == 0)
            return &answer_table[i];
    return &generic_row;
}

static const char *last_user(const struct llm_request *req)
{
    for (size_t i = req->nmessages; i > 0; i--)
        if (strcmp(req->messages[i - 1].role, "user") == 0)
            return req->messages[i - 1].content;
    return req->messages[req->nmessages - 1].content;
}

static uint64_t base_hash(const struct llm_provider *p, const struct llm_request *req)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ mix(req->seed ^ mix(p->sim_seed));

    h = fnv(h, req->task_type);
    return fnv(h, req->model);
}

/* Cuts prose to at most max_tokens by whole words. */
static void cut_to(char *text, int max_tokens)
{
    size_t n = strlen(text);

    while (n > 0 && llm_estimate_tokens(text) > max_tokens) {
        while (n > 0 && text[n - 1] != ' ')
            n--;
        while (n > 0 && text[n - 1] == ' ')
            n--;
        text[n] = '\0';
    }
}

static json_t *answer_one(const struct answer_row *row, const struct llm_request *req, uint64_t h,
                          const char *text, double *confidence)
{
    struct features *f = xmalloc(sizeof *f);
    char *trim;
    size_t n;
    json_t *j;

    /* Surrounding white space does not change the answer: an item alone and the same item
     * in a batch are judged alike. */
    while (isspace((unsigned char)*text))
        text++;
    n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        n--;
    trim = xasprintf("%.*s", (int)n, text);
    extract(trim, fnv(h, trim), f);
    j = row->fn(f, req);
    free(trim);
    if (j == NULL)
        fail("sim: building an answer failed");
    *confidence = f->confidence;
    free(f);
    return j;
}

/* The batch layout (batch.h): one verdict per "### ITEM N" section. */
static json_t *answer_batch(const struct answer_row *row, const struct llm_request *req, uint64_t h,
                            const char *text, double *confidence)
{
    json_t *verdicts = json_array();
    const char *s = strstr(text, LLM_BATCH_MARK);
    double sum = 0;
    int n = 0;

    while (s != NULL) {
        long item = strtol(s + strlen(LLM_BATCH_MARK), NULL, 10);
        const char *body = strchr(s, '\n');
        const char *next = body != NULL ? strstr(body, LLM_BATCH_MARK) : NULL;
        char *one =
            body != NULL
                ? xasprintf("%.*s", (int)(next != NULL ? next - body - 1 : (long)strlen(body + 1)),
                            body + 1)
                : xstrdup("");
        double c;
        json_t *v = answer_one(row, req, h, one, &c);

        json_object_set_new(v, "item", json_integer(item));
        json_array_append_new(verdicts, v);
        sum += c;
        n++;
        free(one);
        s = next;
    }
    *confidence = n > 0 ? r2(sum / n) : -1;
    return json_pack("{s:o}", "verdicts", verdicts);
}

/* Every sim completion of the process: the paid calls usage records must account for. */
static atomic_llong sim_calls;

long long llm_sim_calls(void)
{
    return atomic_load(&sim_calls);
}

static int sim_complete(struct llm_provider *p, const struct llm_request *req,
                        struct llm_response *resp, struct llm_error *err, char **cause)
{
    const struct answer_row *row = row_for(req->task_type);
    const char *input = last_user(req);
    uint64_t h = base_hash(p, req);
    bool batch = strstr(input, LLM_BATCH_MARK) != NULL;
    double confidence;
    json_t *j;
    int lat;

    (void)err;
    (void)cause;
    j = batch ? answer_batch(row, req, h, input, &confidence)
              : answer_one(row, req, h, input, &confidence);
    if (row->text && !req->json && !batch) {
        const char *field = json_object_get(j, "script") != NULL ? "script" : "answer";

        resp->text = xstrdup(json_string_value(json_object_get(j, field)));
        cut_to(resp->text, req->max_tokens);
    } else {
        resp->text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(4));
        if (resp->text == NULL)
            fail("sim: encoding an answer failed");
    }
    json_decref(j);
    resp->confidence = confidence;
    resp->prompt_tokens = llm_estimate_prompt_tokens(req);
    resp->completion_tokens = llm_estimate_tokens(resp->text);
    atomic_fetch_add(&sim_calls, 1);
    lat = p->sim_latency_ms[row->tier];
    if (lat > 0) {
        /* +-20%, deterministic like the rest of the answer. */
        int64_t ms = (int64_t)(lat * (0.8 + 0.4 * unit(h ^ 12)));

        clock_sleep_ms(ms, NULL);
    }
    return 0;
}

const struct llm_ops llm_sim_ops = {
    .name = "sim",
    .kind = LLM_KIND_SIM,
    .shareable = true,
    .key_env = NULL,
    .default_base = NULL,
    .complete = sim_complete,
};
