/*
 * test_publish.c - the end of the line, against the shared test Redis (database 12): stories
 * are put straight into APPROVED, REVIEWING, REJECTED or PUBLISHED with the body fields the
 * earlier roles write (script, package), and swarms of the last roles run over them.
 *
 *   publisher  each story published once: its folder holds package.json, script.txt and
 *              captions.srt with the right content; the webhook reaches a local receiver
 *              (tests/support/fake_hook.c) that checks method, path, content type,
 *              Idempotency-Key, the JSON fields and the HMAC signature; publishing the same
 *              stories again leaves every folder as it was (same inode, same bytes) and
 *              re-posts with the same key; a 500 answer is retried (not PUBLISHED before a
 *              success) and, past the attempts, FAILED with the reason and every attempt in
 *              its error history while the package stays; a story without a package fails
 *              at once.
 *   archivist  a rejection archived with its reason, a revise back to PRODUCING on stage
 *              "rewrite" with the note, a FAILED story left FAILED (retention has its own
 *              test: test_retention).
 *   approver   refuses to start without --auto-approve; with it approves every reviewed
 *              story with an audit record naming the agent.
 *
 * Waits are conditions with deadlines, never blind sleeps. Single-threaded test code (the
 * swarm's threads and the receiver's are the code under test).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/review.h"
#include "agents/agent.h"
#include "agents/publish.h"
#include "media/store.h"
#include "core/clock.h"
#include "core/config.h"
#include "cost/pricing.h"
#include "fake_hook.h"
#include "store/audit.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DB     12
#define SECRET "test-hook-secret"

struct fx {
    struct rlink *l;
    struct bb *bb;
    struct config *cfg;
    struct pricing *pricing;
    char *dir; /* temporary; the publish folder is dir/pub */
    char pub[512];
};

static void set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = strdup(v);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    f->l = test_shared_link(DB, "test_publish");
    freeReplyObject(test_must(f->l, "FLUSHDB%s", ""));
    f->bb = bb_new(f->l, "test");
    swarmenv_models(false, &f->cfg, &f->pricing);
    f->dir = test_tmpdir();
    snprintf(f->pub, sizeof f->pub, "%s/pub", f->dir);
    set_str(&f->cfg->publish_dir, f->pub);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    test_rmrf(f->dir);
    free(f->dir);
    pricing_free(f->pricing);
    config_free(f->cfg);
    bb_free(f->bb);
    rlink_free(f->l);
    free(f);
    return 0;
}

static struct swarm *start(struct fx *f, const char *roles, bool auto_approve, int max_attempts)
{
    struct swarm_options o;

    swarmenv_options(&o, DB, f->cfg, f->pricing, roles, 0, 0);
    o.max_attempts = max_attempts;
    /* Retries a fraction of a second apart, as the backoff doubles: the test waits seconds. */
    o.retry_base_ms = 200;
    o.retry_max_ms = 800;
    o.auto_approve = auto_approve;
    return swarmenv_start(&o);
}

static const char *final_text(int i)
{
    static char buf[128];

    snprintf(buf, sizeof buf, "Final script of story %d.\nSecond line, \"quoted\" and é.", i);
    return buf;
}

/* Writes story id in status st with a script and a package (unless bare). */
static void put(struct fx *f, const char *id, int i, enum bb_status st, bool bare, json_t *more)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "title", "Title", "content",
                          "Body of the story.", "source", "Wire", "url", "https://example.com/a");
    json_t *extra = json_object();
    char *cause = NULL, existing[NEWS_ID_MAX + 1], title[64], captions[128];
    struct news_item *it;

    snprintf(title, sizeof title, "Story %d", i);
    json_object_set_new(j, "title", json_string(title));
    it = news_item_from_json(j, &cause);
    if (it == NULL)
        fail_msg("news item: %s", cause);
    snprintf(captions, sizeof captions, "1\n00:00:00,000 --> 00:00:04,000\nStory %d\n\n", i);
    if (!bare) {
        json_object_set_new(extra, "script",
                            json_pack("{s:s, s:s, s:i, s:[], s:s}", "draft", "draft", "final",
                                      final_text(i), "words", 9, "revisions", "by", "writer-1"));
        json_object_set_new(extra, "package",
                            json_pack("{s:s, s:f, s:s, s:[{s:i, s:s}], s:s, s:i, s:s}", "kind",
                                      "storyboard", "duration_s", 42.5, "narration", final_text(i),
                                      "shots", "n", 1, "text", "wide shot", "captions_srt",
                                      captions, "words", 9, "by", "producer-1"));
    }
    if (more != NULL)
        json_object_update(extra, more);
    if (bb_write(f->bb, it, extra, st, false, existing, &cause) != BB_OK)
        fail_msg("bb_write %s: %s", id, cause);
    news_item_free(it);
    json_decref(extra);
    json_decref(more);
    json_decref(j);
}

static struct bb_item *get(struct fx *f, const char *id)
{
    struct bb_item *it = NULL;
    char *cause = NULL;

    if (bb_read(f->bb, id, &it, &cause) != BB_OK)
        fail_msg("bb_read %s: %s", id, cause != NULL ? cause : "none");
    return it;
}

static int status_of(struct fx *f, const char *id)
{
    struct bb_item *it = get(f, id);
    int st = it->status;

    bb_item_free(it);
    return st;
}

static long count_status(struct fx *f, int status)
{
    return swarmenv_count(f->bb, status);
}

static char *file_in(struct fx *f, const char *id, const char *name)
{
    char path[1024];

    snprintf(path, sizeof path, "%s/%s/%s", f->pub, id, name);
    return test_read_file(path);
}

static ino_t inode_of(struct fx *f, const char *id, const char *name)
{
    char path[1024];
    struct stat sb;

    snprintf(path, sizeof path, "%s/%s/%s", f->pub, id, name);
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_ino;
}

static void check_folder(struct fx *f, const char *id, int i)
{
    char *pj = file_in(f, id, "package.json"), *script = file_in(f, id, "script.txt");
    char *srt = file_in(f, id, "captions.srt"), want[256];
    json_t *j;

    assert_non_null(pj);
    assert_non_null(script);
    assert_non_null(srt);
    j = json_loads(pj, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "id")), id);
    snprintf(want, sizeof want, "Story %d", i);
    assert_string_equal(json_string_value(json_object_get(j, "title")), want);
    assert_string_equal(json_string_value(json_object_get(j, "source")), "Wire");
    assert_string_equal(json_string_value(json_object_get(j, "script")), final_text(i));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "package"), "kind")),
                        "storyboard");
    assert_true(json_is_object(json_object_get(j, "decisions")));
    snprintf(want, sizeof want, "%s\n", final_text(i));
    assert_string_equal(script, want);
    snprintf(want, sizeof want, "1\n00:00:00,000 --> 00:00:04,000\nStory %d\n\n", i);
    assert_string_equal(srt, want);
    json_decref(j);
    free(pj);
    free(script);
    free(srt);
}

static void no_temporaries(struct fx *f)
{
    char cmd[1100];

    /* Nothing but the story folders: no ".<id>.XXXXXX" left behind. */
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -maxdepth 1 -name '.*' ! -name . -print)\"",
             f->pub);
    assert_int_equal(system(cmd), 0);
}

static void test_publish(void **state)
{
    struct fx *f = *state;
    struct fake_hook *h = fake_hook_start(SECRET);
    struct swarm *s;
    const char *ids[] = {"pub-1", "pub-2", "pub-3"};
    ino_t inodes[3];
    char *v, *body;

    set_str(&f->cfg->webhook_url, fake_hook_url(h));
    set_str(&f->cfg->webhook_secret, SECRET);
    for (int i = 0; i < 3; i++)
        put(f, ids[i], i, BB_APPROVED, false, NULL);
    s = start(f, "publisher:2", false, 3);
    AWAIT(30, count_status(f, BB_PUBLISHED_S) == 3);
    swarm_stop(s);
    swarm_free(s);
    v = fake_hook_violation(h);
    if (v != NULL)
        fail_msg("webhook: %s", v);
    assert_int_equal(fake_hook_delivered(h), 3);
    for (int i = 0; i < 3; i++) {
        struct bb_item *it = get(f, ids[i]);
        json_t *p = json_object_get(it->body, "publish");
        char want[4200];

        assert_int_equal(fake_hook_count(h, ids[i]), 1);
        check_folder(f, ids[i], i);
        inodes[i] = inode_of(f, ids[i], "package.json");
        char *real = realpath(f->pub, NULL);

        snprintf(want, sizeof want, "%s/%s", real, ids[i]);
        free(real);
        assert_string_equal(json_string_value(json_object_get(p, "path")), want);
        assert_string_equal(json_string_value(json_object_get(p, "webhook")), "delivered");
        assert_int_equal(json_integer_value(json_object_get(p, "webhook_status")), 200);
        assert_false(json_is_true(json_object_get(p, "unchanged")));
        assert_int_equal(it->section, BB_PUBLISHED);
        bb_item_free(it);
    }
    body = fake_hook_last_body(h);
    {
        json_t *j = json_loads(body, 0, NULL);
        assert_true(json_is_number(json_object_get(j, "duration_s")));
        assert_string_equal(json_string_value(json_object_get(j, "url")), "https://example.com/a");
        json_decref(j);
    }
    free(body);
    no_temporaries(f);

    /* The same stories again (a second swarm that finds them approved): every folder is left
     * exactly as it was, and the webhook goes out again with the same Idempotency-Key. */
    freeReplyObject(test_must(f->l, "FLUSHDB%s", ""));
    for (int i = 0; i < 3; i++)
        put(f, ids[i], i, BB_APPROVED, false, NULL);
    s = start(f, "publisher:1", false, 3);
    AWAIT(30, count_status(f, BB_PUBLISHED_S) == 3);
    swarm_stop(s);
    swarm_free(s);
    for (int i = 0; i < 3; i++) {
        struct bb_item *it = get(f, ids[i]);

        assert_true(
            json_is_true(json_object_get(json_object_get(it->body, "publish"), "unchanged")));
        assert_int_equal(inode_of(f, ids[i], "package.json"), inodes[i]);
        check_folder(f, ids[i], i);
        assert_int_equal(fake_hook_count(h, ids[i]), 2);
        bb_item_free(it);
    }
    assert_null(fake_hook_violation(h));
    no_temporaries(f);
    fake_hook_stop(h);
}

static void test_publish_direct(void **state)
{
    struct fx *f = *state;
    struct pstore_file a[] = {{"a.txt", "one\n", 4}, {"b.txt", "two\n", 4}};
    struct pstore_file b[] = {{"a.txt", "ONE\n", 4}, {"b.txt", "two\n", 4}};
    bool unchanged;
    char *cause = NULL, *t;

    assert_int_equal(pstore_folder_write(f->pub, "x1", a, 2, &unchanged, &cause), 0);
    assert_false(unchanged);
    assert_int_equal(pstore_folder_write(f->pub, "x1", a, 2, &unchanged, &cause), 0);
    assert_true(unchanged);
    /* Other contents replace the folder whole. */
    assert_int_equal(pstore_folder_write(f->pub, "x1", b, 2, &unchanged, &cause), 0);
    assert_false(unchanged);
    t = file_in(f, "x1", "a.txt");
    assert_string_equal(t, "ONE\n");
    free(t);
    /* Ids that would leave the folder are refused. */
    assert_int_equal(pstore_folder_write(f->pub, "..", a, 2, &unchanged, &cause), -1);
    free(cause);
    cause = NULL;
    assert_int_equal(pstore_folder_write(f->pub, ".x", a, 2, &unchanged, &cause), -1);
    free(cause);
    no_temporaries(f);
    {
        char sig[72];
        /* RFC 4231 test case 2. */
        publish_sign("Jefe", "what do ya want for nothing?", 28, sig);
        assert_string_equal(
            sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}

static void test_webhook_retry(void **state)
{
    struct fx *f = *state;
    struct fake_hook *h = fake_hook_start(NULL);
    struct swarm *s;
    struct bb_item *it;
    char *v;

    set_str(&f->cfg->webhook_url, fake_hook_url(h));
    /* Two 500s, then success: published on the third attempt. */
    fake_hook_fail(h, 2);
    put(f, "retry-1", 1, BB_APPROVED, false, NULL);
    s = start(f, "publisher:1", false, 3);
    /* Until the receiver has said yes once, the story is not PUBLISHED (the status is read
     * before the receiver's count). */
    {
        int64_t end = clock_mono_ms() + 30000;
        int st;

        while ((st = status_of(f, "retry-1")) != BB_PUBLISHED_S) {
            if (fake_hook_delivered(h) == 0)
                assert_int_equal(st, BB_APPROVED);
            if (clock_mono_ms() > end)
                fail_msg("retry-1 was not published within 30 s");
            clock_sleep_ms(10, NULL);
        }
    }
    assert_int_equal(fake_hook_requests(h), 3);
    assert_int_equal(fake_hook_delivered(h), 1);
    it = get(f, "retry-1");
    assert_int_equal(it->attempts, 2);
    assert_non_null(strstr(it->fail_reason, "HTTP 500"));
    bb_item_free(it);

    /* Always 500: FAILED after three attempts, with the reason; the package stays. */
    fake_hook_fail(h, 1000);
    put(f, "retry-2", 2, BB_APPROVED, false, NULL);
    AWAIT(30, status_of(f, "retry-2") == BB_FAILED);
    swarm_stop(s);
    swarm_free(s);
    it = get(f, "retry-2");
    assert_int_equal(it->attempts, 3);
    assert_string_equal(it->fail_reason, "webhook: answered HTTP 500");
    /* FAILED stays FAILED (the archivist leaves it), with every attempt in its history. */
    assert_string_equal(it->failed_step, "publish");
    {
        const json_t *errors = json_object_get(it->body, "errors"), *e;
        size_t k;

        assert_int_equal(json_array_size(errors), 3);
        json_array_foreach(errors, k, e)
        {
            assert_string_equal(json_string_value(json_object_get(e, "step")), "publish");
            assert_int_equal(json_integer_value(json_object_get(e, "attempt")), (json_int_t)k + 1);
            assert_non_null(strstr(json_string_value(json_object_get(e, "error")), "HTTP 500"));
            assert_true(json_integer_value(json_object_get(e, "t")) > 0);
            assert_non_null(strstr(json_string_value(json_object_get(e, "agent")), "publisher"));
        }
    }
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(it->body, "publish"), "webhook")),
        "failed");
    bb_item_free(it);
    assert_int_equal(fake_hook_requests(h), 3 + 3);
    check_folder(f, "retry-2", 2);
    v = fake_hook_violation(h);
    if (v != NULL)
        fail_msg("webhook: %s", v);
    no_temporaries(f);
    fake_hook_stop(h);
}

static void test_no_package(void **state)
{
    struct fx *f = *state;
    struct swarm *s;
    struct bb_item *it;

    put(f, "bare-1", 1, BB_APPROVED, true, NULL);
    s = start(f, "publisher:1", false, 3);
    AWAIT(30, status_of(f, "bare-1") == BB_FAILED);
    swarm_stop(s);
    swarm_free(s);
    it = get(f, "bare-1");
    assert_int_equal(it->attempts, 1);
    assert_non_null(strstr(it->fail_reason, "without a production package"));
    bb_item_free(it);
}

/* A reviewer's decision as ctl and the control room make it (review_decide). */
static void decide(struct fx *f, const char *id, enum review_decision d, const char *text)
{
    char *cause = NULL;

    if (review_decide(f->bb, id, d, text, &cause) != 0)
        fail_msg("review_decide %s: %s", id, cause);
}

static void test_archivist(void **state)
{
    struct fx *f = *state;
    struct swarm *s;
    struct bb_item *it;
    struct bb_lock lk;
    long n = -1;
    char *cause = NULL;

    put(f, "rej-1", 1, BB_REVIEWING, false, NULL);
    put(f, "rev-1", 2, BB_REVIEWING, false, NULL);
    decide(f, "rej-1", REVIEW_REJECT, "weak sourcing");
    decide(f, "rev-1", REVIEW_REVISE, "tighten the lead");
    /* A FAILED story is terminal: it stays in the dead set for an operator's requeue. */
    put(f, "fail-1", 5, BB_APPROVED, false, NULL);
    {
        int ended = -1;

        assert_int_equal(bb_fail(f->bb, "fail-1", NULL, "broken", 1, &ended, &cause), BB_OK);
        assert_int_equal(ended, BB_FAILED);
    }
    s = start(f, "archivist:2", false, 3);
    AWAIT(30, status_of(f, "rej-1") == BB_ARCHIVED && status_of(f, "rev-1") == BB_PRODUCING);
    swarm_stop(s);
    swarm_free(s);

    it = get(f, "rej-1");
    assert_string_equal(it->archive_reason, "rejected: weak sourcing");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(it->body, "review"), "decision")),
        "reject");
    bb_item_free(it);

    assert_int_equal(bb_stage_len(f->bb, "rewrite", &n, &cause), BB_OK);
    assert_int_equal(n, 1);
    it = NULL;
    assert_int_equal(bb_take(f->bb, "rewrite", BB_PRODUCING, 5000, &lk, &it, &cause), BB_OK);
    assert_string_equal(it->id, "rev-1");
    assert_string_equal(it->stage, "rewrite");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(it->body, "revision_request"), "note")),
        "tighten the lead");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(it->body, "review"), "decision")),
        "revise");
    bb_item_free(it);
    assert_int_equal(bb_lock_release(f->bb, &lk, &cause), BB_OK);
    assert_int_equal(status_of(f, "fail-1"), BB_FAILED);
}

static void test_approver(void **state)
{
    struct fx *f = *state;
    struct swarm *s;
    struct audit_entry *e;
    size_t n;
    char *cause = NULL;
    int found = 0;
    struct bb_item *it;

    /* Without --auto-approve the role refuses to start. */
    s = start(f, "approver:1", false, 3);
    AWAIT(10, swarm_failed(s) == 1);
    swarm_stop(s);
    swarm_free(s);

    put(f, "rv-1", 1, BB_REVIEWING, false, NULL);
    put(f, "rv-2", 2, BB_REVIEWING, false, NULL);
    s = start(f, "approver:1", true, 3);
    AWAIT(30, count_status(f, BB_APPROVED) == 2);
    it = get(f, "rv-1");
    assert_non_null(strstr(it->decided_by, "approver-"));
    assert_string_equal(it->decided_by, swarm_agent_id(s, 0));
    /* The approval and its review record land in one step: the record is always there. */
    assert_true(json_is_true(json_object_get(json_object_get(it->body, "review"), "auto")));
    bb_item_free(it);
    swarm_stop(s);
    swarm_free(s);
    assert_int_equal(audit_read(f->l, 10, &e, &n, &cause), 0);
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].what, "approve") == 0 && e[i].item != NULL &&
            strncmp(e[i].item, "rv-", 3) == 0 && strncmp(e[i].user, "approver-", 9) == 0 &&
            strcmp(e[i].from, "swarm") == 0 &&
            strcmp(e[i].reason, "auto-approved (--auto-approve)") == 0)
            found++;
    audit_entries_free(e, n);
    assert_int_equal(found, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publish_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_package, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archivist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approver, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
