/*
 * test_dedup.c - story identity, semantic deduplication and agent memories, on the shared test
 * Redis (database 41, flushed before each test) with the local vector memory, and where it says
 * so on the test Chroma as well (a collection prefix of this process's own).
 *
 *   - identity (bb_write): the same id and content is a duplicate; new content is an update at
 *     source, revising a PENDING story and recorded on a later one; items identified by their
 *     content are exact duplicates by hash; one text under two ids, or two links, is two stories
 *   - merging on entry (memory_story_enter): a rewording becomes a further source of the story
 *     (its body "sources", an alias that knows it when it comes again, its own update recorded);
 *     placeholders, other events and stories outside the window stay stories of their own
 *   - the corpus tests/memory/dedup_corpus.jsonl (12 events told by 3 or 4 outlets in their
 *     own words, and 20 other events on the same topics and days): pairwise precision and
 *     recall of the merges, printed, on both backends
 *   - recall: a lesson comes back for a story like the one it was learned from, ranked by
 *     similarity, importance and recency, for its agent only
 *   - memories change behaviour: the lesson is in the prompt the analyst and the writer send (a
 *     swarm on the fake OpenAI API, which keeps every prompt), and not for an unrelated story;
 *     the archivist learns from a rejection and QA from a last failed round
 */
#include "fake_llm.h"
#include "swarmenv.h"
#include "testenv.h"

#include "agents/review.h"
#include "core/config.h"
#include "core/fail.h"
#include "cost/pricing.h"
#include "memory/memory.h"
#include "memory/vmem.h"
#include "store/rlink.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define DB 41

static const bool ON_LOCAL = false, ON_CHROMA = true;

struct fx {
    struct swarmenv_fx *s;
    struct memory *m;
    bool chroma;
};

static void use_chroma(struct config *cfg)
{
    free(cfg->chroma_host);
    cfg->chroma_host = xstrdup(test_env("NEWSROOM_TEST_CHROMA_HOST"));
    cfg->chroma_port = atoi(test_env("NEWSROOM_TEST_CHROMA_PORT"));
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    static int seq;
    char *cause = NULL;

    f->chroma = *state != NULL && *(const bool *)*state;
    f->s = swarmenv_fx_new(DB, "test_dedup", true);
    free(f->s->cfg->memory_prefix);
    f->s->cfg->memory_prefix = xasprintf("t%d-%d-", (int)getpid(), ++seq);
    if (f->chroma)
        use_chroma(f->s->cfg);
    f->m = memory_open(f->s->cfg, f->s->l, &cause);
    if (f->m == NULL)
        fail_msg("memory_open: %s", cause);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char name[200], *cause = NULL;

    if (f->chroma) {
        vmem_drop(memory_vmem(f->m), memory_collection_name(f->m, MEMORY_NEWS, name, sizeof name),
                  &cause);
        vmem_drop(memory_vmem(f->m), memory_collection_name(f->m, MEMORY_AGENTS, name, sizeof name),
                  &cause);
        free(cause);
    }
    memory_free(f->m);
    swarmenv_fx_free(f->s);
    free(f);
    return 0;
}

static struct news_item *item_json(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    char *cause = NULL;
    struct news_item *it;

    if (j == NULL)
        fail_msg("bad test item %s", json);
    it = news_item_from_json(j, &cause);
    json_decref(j);
    if (it == NULL)
        fail_msg("%s: %s", json, cause);
    return it;
}

/* Enters an item (through the memory when m is not NULL) and returns what happened;
 * existing receives the story concerned. */
static int enter(struct fx *f, struct memory *m, const char *json, char existing[NEWS_ID_MAX + 1])
{
    struct news_item *it = item_json(json);
    char *cause = NULL;
    int rc = memory_story_enter(m, f->s->bb, it, NULL, BB_PENDING, existing, &cause);

    if (rc == BB_ERR || rc == BB_REFUSED)
        fail_msg("enter %s: %s", it->id, cause);
    free(cause);
    news_item_free(it);
    return rc;
}

static json_t *body_of(struct fx *f, const char *id)
{
    struct bb_item *it;
    char *cause = NULL;
    json_t *b;

    if (bb_read(f->s->bb, id, &it, &cause) != BB_OK)
        fail_msg("read %s: %s", id, cause ? cause : "none");
    b = json_incref(it->body);
    bb_item_free(it);
    return b;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? s : "";
}

static void test_identity(void **state)
{
    struct fx *f = *state;
    char ex[NEWS_ID_MAX + 1];
    json_t *b, *u;
    char *cause = NULL;

    assert_int_equal(enter(f, NULL,
                           "{\"id\": \"s1\", \"title\": \"Bridge reopens\", \"content\": \"The "
                           "bridge reopened.\", \"source\": \"A\"}",
                           ex),
                     BB_OK);
    assert_int_equal(enter(f, NULL,
                           "{\"id\": \"s1\", \"title\": \"Bridge reopens\", \"content\": \"The "
                           "bridge reopened.\", \"source\": \"A\"}",
                           ex),
                     BB_DUPLICATE);
    assert_string_equal(ex, "s1");
    /* new content under the same id while PENDING: revised in place */
    assert_int_equal(enter(f, NULL,
                           "{\"id\": \"s1\", \"title\": \"Bridge reopens early\", \"content\": "
                           "\"The bridge reopened three weeks early.\", \"source\": \"A\"}",
                           ex),
                     BB_REVISED);
    b = body_of(f, "s1");
    assert_string_equal(str(b, "title"), "Bridge reopens early");
    u = json_object_get(b, "updated_at_source");
    assert_true(json_is_true(json_object_get(u, "applied")));
    assert_int_equal(json_integer_value(json_object_get(u, "count")), 1);
    json_decref(b);
    /* once analysed, the change is recorded beside the text, which stays */
    assert_int_equal(bb_transition(f->s->bb, "s1", BB_PROCESSING, NULL, NULL, &cause), BB_OK);
    assert_int_equal(bb_transition(f->s->bb, "s1", BB_DEBATING, NULL, NULL, &cause), BB_OK);
    assert_int_equal(enter(f, NULL,
                           "{\"id\": \"s1\", \"title\": \"Bridge closed again\", \"content\": "
                           "\"The bridge closed again after a crack was found.\", \"source\": "
                           "\"A\"}",
                           ex),
                     BB_UPDATED);
    b = body_of(f, "s1");
    assert_string_equal(str(b, "title"), "Bridge reopens early");
    u = json_object_get(b, "updated_at_source");
    assert_false(json_is_true(json_object_get(u, "applied")));
    assert_string_equal(str(u, "title"), "Bridge closed again");
    assert_string_equal(str(u, "content"), "The bridge closed again after a crack was found.");
    assert_string_equal(str(u, "status"), "DEBATING");
    assert_int_equal(json_integer_value(json_object_get(u, "count")), 2);
    json_decref(b);
    /* one text under two source identities: two stories ("Photo of the day") */
    assert_int_equal(enter(f, NULL,
                           "{\"id\": \"p1\", \"title\": \"Photo of the day\", \"content\": \"Photo "
                           "of the day\", \"source\": \"F\"}",
                           ex),
                     BB_OK);
    assert_int_equal(enter(f, NULL,
                           "{\"id\": \"p2\", \"title\": \"Photo of the day\", \"content\": \"Photo "
                           "of the day\", \"source\": \"F\"}",
                           ex),
                     BB_OK);
    /* identified by content: the same text again (folded) is an exact duplicate */
    assert_int_equal(enter(f, NULL,
                           "{\"title\": \"Storm hits coast\", \"content\": \"Winds of 120 "
                           "km/h.\", \"source\": \"A\"}",
                           ex),
                     BB_OK);
    assert_int_equal(enter(f, NULL,
                           "{\"title\": \"STORM hits coast!\", \"content\": \"winds of 120 kmh\", "
                           "\"source\": \"B\"}",
                           ex),
                     BB_DUPLICATE);
    assert_int_equal(strncmp(ex, "n-", 2), 0);
    /* identified by link: the same URL with new text is the same story, updated */
    assert_int_equal(enter(f, NULL,
                           "{\"title\": \"Council votes\", \"content\": \"The council voted.\", "
                           "\"source\": \"L\", \"url\": \"https://l.example/1\"}",
                           ex),
                     BB_OK);
    assert_int_equal(enter(f, NULL,
                           "{\"title\": \"Council votes 7-4\", \"content\": \"The council voted "
                           "seven to four.\", \"source\": \"L\", \"url\": \"https://l.example/1\"}",
                           ex),
                     BB_REVISED);
    assert_int_equal(strncmp(ex, "u-", 2), 0);
}

#define STORM_A                                                                                    \
    "\"title\": \"Storm Elin batters Bergen with winds of 140 km/h\", \"content\": \"Storm Elin "  \
    "hit the Norwegian city of Bergen on Tuesday with gusts of up to 140 kilometres an hour, "     \
    "tearing roofs off homes and cutting power to 38,000 households.\", \"published\": "           \
    "\"2026-11-28T06:00:00Z\""
#define STORM_B                                                                                    \
    "\"title\": \"38,000 homes without power as Elin hits Norway's west coast\", \"content\": "    \
    "\"About 38,000 households in and around Bergen lost electricity when Storm Elin made "        \
    "landfall on Tuesday. Gusts reached 140 km/h and several roofs were torn away.\", "            \
    "\"published\": \"2026-11-28T07:10:00Z\""

static void test_merge(void **state)
{
    struct fx *f = *state;
    char ex[NEWS_ID_MAX + 1], line[2048], *cause = NULL;
    json_t *b, *src, *hits;

    assert_int_equal(enter(f, f->m, "{\"id\": \"a\", \"source\": \"Wire\", " STORM_A "}", ex),
                     BB_OK);
    assert_int_equal(enter(f, f->m, "{\"id\": \"b\", \"source\": \"Coast\", " STORM_B "}", ex),
                     BB_MERGED);
    assert_string_equal(ex, "a");
    b = body_of(f, "a");
    src = json_array_get(json_object_get(b, "sources"), 0);
    assert_string_equal(str(src, "id"), "b");
    assert_string_equal(str(src, "source"), "Coast");
    assert_true(json_real_value(json_object_get(src, "similarity")) >= 0.6);
    json_decref(b);
    assert_int_equal(bb_read(f->s->bb, "b", &(struct bb_item *){NULL}, &cause), BB_NONE);
    /* the source again: known by its alias */
    assert_int_equal(enter(f, f->m, "{\"id\": \"b\", \"source\": \"Coast\", " STORM_B "}", ex),
                     BB_DUPLICATE);
    assert_string_equal(ex, "a");
    /* the source updated: recorded on the story it joined */
    assert_int_equal(enter(f, f->m,
                           "{\"id\": \"b\", \"source\": \"Coast\", \"title\": \"Elin: power back "
                           "for most\", \"content\": \"Power is back for 30,000 of the 38,000 "
                           "households in Bergen that Storm Elin cut off.\"}",
                           ex),
                     BB_UPDATED);
    b = body_of(f, "a");
    assert_string_equal(str(json_object_get(b, "updated_at_source"), "id"), "b");
    json_decref(b);
    /* placeholders: short, the same text under five links, five stories */
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line,
                 "{\"title\": \"(untitled)\", \"content\": \"Image gallery\", \"source\": \"F\", "
                 "\"url\": \"https://f.example/g/%d\", \"published\": \"2026-11-28T0%d:00:00Z\"}",
                 i, i);
        assert_int_equal(enter(f, f->m, line, ex), BB_OK);
    }
    /* another storm the same day: a story of its own */
    assert_int_equal(enter(f, f->m,
                           "{\"id\": \"c\", \"source\": \"Wire\", \"title\": \"Storm Karl floods "
                           "Scottish Highlands villages\", \"content\": \"Storm Karl brought two "
                           "days of heavy rain to the Scottish Highlands, flooding Aviemore and "
                           "Kingussie; eleven flood warnings were issued.\", \"published\": "
                           "\"2026-11-28T08:20:00Z\"}",
                           ex),
                     BB_OK);
    /* the same words a week later: outside the window, a story of its own */
    assert_int_equal(enter(f, f->m,
                           "{\"id\": \"d\", \"source\": \"Late\", \"title\": \"Storm Elin batters "
                           "Bergen with winds of 140 km/h\", \"content\": \"Storm Elin hit the "
                           "Norwegian city of Bergen on Tuesday with gusts of up to 140 kilometres "
                           "an hour, tearing roofs off homes and cutting power to 38,000 "
                           "households.\", \"published\": \"2026-12-05T06:00:00Z\"}",
                           ex),
                     BB_OK);
    /* search finds the story, with the source that joined it */
    hits = memory_search(f->m, "Bergen storm power cut 38,000 households", 2, &cause);
    assert_non_null(hits);
    assert_string_equal(str(json_array_get(hits, 0), "story"), "a");
    assert_int_equal(json_array_size(json_object_get(json_array_get(hits, 0), "sources")), 2);
    json_decref(hits);
}

/* The corpus: pairwise precision and recall of "ended in the same story" against "is the same
 * event" (the part of the id before the first '-'). */
static void test_corpus(void **state)
{
    struct fx *f = *state;
    char *path = xasprintf("%s/tests/memory/dedup_corpus.jsonl", test_env("NEWSROOM_SOURCE_DIR"));
    FILE *in = fopen(path, "r");
    char *line = NULL, ids[128][NEWS_ID_MAX + 1], story[128][NEWS_ID_MAX + 1];
    size_t cap = 0;
    int n = 0, tp = 0, fp = 0, fn = 0, stories = 0, events = 0;
    double p, r;

    assert_non_null(in);
    while (getline(&line, &cap, in) > 0 && n < 128) {
        struct news_item *it = item_json(line);
        char *cause = NULL;
        int rc = memory_story_enter(f->m, f->s->bb, it, NULL, BB_PENDING, story[n], &cause);

        if (rc != BB_OK && rc != BB_MERGED)
            fail_msg("%s: %d %s", it->id, rc, cause ? cause : "");
        free(cause);
        snprintf(ids[n], sizeof ids[n], "%s", it->id);
        if (rc == BB_OK) {
            snprintf(story[n], sizeof story[n], "%s", it->id);
            stories++;
        }
        news_item_free(it);
        n++;
    }
    fclose(in);
    free(line);
    free(path);
    for (int i = 0; i < n; i++) {
        bool first = true;

        for (int k = 0; k < i; k++)
            first &= strncmp(ids[i], ids[k], 3) != 0;
        events += first;
        for (int k = i + 1; k < n; k++) {
            bool same_event = strncmp(ids[i], ids[k], 3) == 0;
            bool merged = strcmp(story[i], story[k]) == 0;

            tp += same_event && merged;
            fp += !same_event && merged;
            fn += same_event && !merged;
        }
    }
    p = tp + fp > 0 ? (double)tp / (tp + fp) : 1.0;
    r = (double)tp / (tp + fn);
    print_message("dedup corpus (%s backend, threshold %.2f): %d items, %d events, %d stories; "
                  "pairs: %d merged rightly, %d wrongly, %d missed; precision %.3f, recall "
                  "%.3f\n",
                  f->chroma ? "chroma" : "local", (double)f->s->cfg->dedup_threshold_ppm / 1e6, n,
                  events, stories, tp, fp, fn, p, r);
    assert_int_equal(n, 58);
    assert_true(p >= 0.95);
    assert_true(r >= 0.75);
}

/* Stores the lesson of an earlier storm story for the analysts. */
static void learn_storm(struct fx *f, const char *reason, double importance)
{
    const char *const who[] = {"analyst", NULL};
    char *cause = NULL;

    if (memory_remember(f->m, who, "lesson_learned", reason, importance, "old-storm",
                        "Storm Elin batters Bergen\nStorm Elin hit the Norwegian city of Bergen "
                        "with gusts of 140 km/h, cutting power to 38,000 households.",
                        "test", &cause) == -1)
        fail_msg("remember: %s", cause);
}

static const char storm_story[] =
    "Storm Olga hits Bergen\nStorm Olga reached Bergen with gusts of 120 km/h and cut power "
    "to 20,000 households on the Norwegian coast.";

static void test_recall(void **state)
{
    struct fx *f = *state;
    struct memory_recollection *r;
    size_t n;
    char *cause = NULL;
    const char *const writers[] = {"writer", NULL};

    learn_storm(f, "Storm stories from one wire only were rejected for thin sourcing", 0.9);
    learn_storm(f, "A minor storm note was judged not worth a video", 0.2);
    assert_int_equal(memory_remember(f->m, writers, "lesson_learned",
                                     "Scripts about football transfers ran too long", 0.9, "x",
                                     "FC Aurora sign a midfielder for 12 million pounds", "test",
                                     &cause),
                     0);
    assert_int_equal(memory_recall(f->m, "analyst", storm_story, 3, &r, &n, &cause), 0);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].content,
                        "Storm stories from one wire only were rejected for thin sourcing");
    assert_true(r[0].score > r[1].score); /* importance ranks the equally similar */
    assert_true(r[0].similarity >= 0.3);
    assert_string_equal(r[0].agent, "analyst");
    assert_string_equal(r[0].story, "old-storm");
    memory_recollections_free(r, n);
    /* nothing for an unrelated story; nothing of the analysts' for the writers */
    assert_int_equal(memory_recall(f->m, "analyst",
                                   "Harbor Bank profit\nHarbor Bank reported a quarterly profit of "
                                   "2.1 billion dollars.",
                                   3, &r, &n, &cause),
                     0);
    assert_int_equal(n, 0);
    memory_recollections_free(r, n);
    assert_int_equal(memory_recall(f->m, "writer", storm_story, 3, &r, &n, &cause), 0);
    assert_int_equal(n, 0);
    memory_recollections_free(r, n);
    /* the same lesson again is one memory */
    learn_storm(f, "A minor storm note was judged not worth a video", 0.2);
    assert_int_equal(memory_list(f->m, "analyst", 0, &r, &n, &cause), 0);
    assert_int_equal(n, 2);
    memory_recollections_free(r, n);
}

/* A swarm of roles on the fake OpenAI API (every prompt kept), with the vector memory of f's
 * configuration. */
static struct swarm *swarm_on_fake(struct fx *f, struct fake_llm *fake, const char *roles)
{
    struct swarm_options o;

    free(f->s->cfg->llm_kind);
    f->s->cfg->llm_kind = xstrdup("openai");
    free(f->s->cfg->openai_base_url);
    f->s->cfg->openai_base_url = xstrdup(fake_llm_url(fake));
    free(f->s->cfg->openai_api_key);
    f->s->cfg->openai_api_key = xstrdup("sk-test-dedup");
    swarmenv_options(&o, DB, f->s->cfg, f->s->pricing, roles, 0, 1);
    return swarmenv_start(&o);
}

static void write_story(struct fx *f, const char *id, const char *text, enum bb_status st)
{
    char *json = xasprintf("{\"id\": \"%s\", \"title\": \"%.*s\", \"content\": \"%s\", \"source\": "
                           "\"Wire\"}",
                           id, (int)strcspn(text, "\n"), text, strchr(text, '\n') + 1);
    struct news_item *it = item_json(json);
    char ex[NEWS_ID_MAX + 1], *cause = NULL;

    if (bb_write(f->s->bb, it, NULL, st, false, ex, &cause) != BB_OK)
        fail_msg("write %s: %s", id, cause);
    news_item_free(it);
    free(json);
}

static bool asked(struct fake_llm *fake, const char *marker, const char *also)
{
    char *p = fake_llm_prompt_with(fake, marker, also);

    free(p);
    return p != NULL;
}

static void test_lessons_in_prompts(void **state)
{
    struct fx *f = *state;
    struct fake_llm *fake = fake_llm_start(FAKE_OPENAI, "sk-test-dedup");
    const char *const writers[] = {"writer", NULL};
    struct swarm *s;
    char *prompt, *cause = NULL;

    learn_storm(f, "Storm stories from one wire only were rejected for thin sourcing", 0.9);
    assert_int_equal(memory_remember(f->m, writers, "lesson_learned",
                                     "Storm scripts must name the weather service for every "
                                     "figure",
                                     0.8, "old-storm",
                                     "Storm Elin batters Bergen\nStorm Elin hit Bergen with gusts "
                                     "of 140 km/h, cutting power to 38,000 households.",
                                     "test", &cause),
                     0);
    write_story(f, "storm", storm_story, BB_PENDING);
    write_story(f, "bank",
                "Harbor Bank profit rises\nHarbor Bank reported a quarterly profit of 2.1 billion "
                "dollars, up 12 percent.",
                BB_PENDING);
    write_story(f, "storm2", storm_story, BB_CONSENSUS_REACHED);
    s = swarm_on_fake(f, fake, "analyst:1,writer:1");
    AWAIT(30, asked(fake, "You are a news analyst", "Storm Olga") &&
                  asked(fake, "You are a news analyst", "Harbor Bank") &&
                  asked(fake, "broadcast news writer", "Storm Olga"));
    swarm_stop(s);
    swarm_free(s);
    /* the analyst's prompt for the storm carries its lesson, not the writers' */
    prompt = fake_llm_prompt_with(fake, "You are a news analyst", "Storm Olga");
    assert_non_null(strstr(prompt, "Lessons from earlier stories"));
    assert_non_null(strstr(prompt, "rejected for thin sourcing"));
    assert_null(strstr(prompt, "weather service"));
    free(prompt);
    /* the writer's draft carries the writers' lesson */
    prompt = fake_llm_prompt_with(fake, "broadcast news writer", "Storm Olga");
    assert_non_null(strstr(prompt, "name the weather service for every figure"));
    assert_null(strstr(prompt, "thin sourcing"));
    free(prompt);
    /* an unrelated story gets none */
    prompt = fake_llm_prompt_with(fake, "You are a news analyst", "Harbor Bank");
    assert_null(strstr(prompt, "Lessons from earlier stories"));
    free(prompt);
    assert_null(fake_llm_violation(fake));
    fake_llm_stop(fake);
}

/* The archivist learns from a rejection; QA from a last failed round. */
static void test_lessons_from_outcomes(void **state)
{
    struct fx *f = *state;
    struct swarm_options o;
    struct swarm *s;
    struct memory_recollection *r;
    size_t n;
    char *cause = NULL;
    bool found = false;

    write_story(f, "rej", storm_story, BB_REVIEWING);
    assert_int_equal(review_decide(f->s->bb, "rej", REVIEW_REJECT,
                                   "thin sourcing: one wire, no local voice", &cause),
                     BB_OK);
    write_story(f, "weak",
                "Quantix patches router flaw\nQuantix released firmware 4.2.1 for a flaw in 3 "
                "million home routers, the Cyber Security Agency said.",
                BB_CONSENSUS_REACHED);
    /* every script fails QA at once: the bar at the top, one round */
    f->s->cfg->qa_pass_score_micro = 10000000;
    f->s->cfg->qa_max_rounds = 1;
    swarmenv_options(&o, DB, f->s->cfg, f->s->pricing, "archivist:1,writer:1,qa:1", 0, 1);
    s = swarmenv_start(&o);
    /* the rejection archived; the script out of QA rounds FAILED (terminal, in the dead set) */
    AWAIT(30, swarmenv_count(f->s->bb, BB_ARCHIVED) == 1 &&
                  swarmenv_count(f->s->bb, BB_FAILED) == 1);
    swarm_stop(s);
    swarm_free(s);
    assert_int_equal(memory_recall(f->m, "analyst", storm_story, 3, &r, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_non_null(strstr(r[0].content, "thin sourcing: one wire, no local voice"));
    assert_string_equal(r[0].story, "rej");
    memory_recollections_free(r, n);
    assert_int_equal(memory_list(f->m, "writer", 0, &r, &n, &cause), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        found |= strstr(r[i].content, "failed quality assurance") != NULL &&
                 strcmp(r[i].story, "weak") == 0;
    assert_true(found);
    memory_recollections_free(r, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_identity, setup, teardown, (void *)&ON_LOCAL),
        cmocka_unit_test_prestate_setup_teardown(test_merge, setup, teardown, (void *)&ON_LOCAL),
        cmocka_unit_test_prestate_setup_teardown(test_merge, setup, teardown, (void *)&ON_CHROMA),
        cmocka_unit_test_prestate_setup_teardown(test_corpus, setup, teardown, (void *)&ON_LOCAL),
        cmocka_unit_test_prestate_setup_teardown(test_corpus, setup, teardown, (void *)&ON_CHROMA),
        cmocka_unit_test_prestate_setup_teardown(test_recall, setup, teardown, (void *)&ON_LOCAL),
        cmocka_unit_test_prestate_setup_teardown(test_recall, setup, teardown, (void *)&ON_CHROMA),
        cmocka_unit_test_prestate_setup_teardown(test_lessons_in_prompts, setup, teardown,
                                                 (void *)&ON_LOCAL),
        cmocka_unit_test_prestate_setup_teardown(test_lessons_from_outcomes, setup, teardown,
                                                 (void *)&ON_LOCAL),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
