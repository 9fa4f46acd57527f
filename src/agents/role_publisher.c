/*
 * role_publisher.c - the publisher: takes approved stories (APPROVED, oldest first, found with
 * bb_query) one at a time under the story's lock (bb_lock_acquire: two publishers never publish
 * one story at once), publishes its package through the package store (media/store.h:
 * package.json, script.txt, captions.srt and the files of a rendered package, read through the
 * store from wherever the producer put them; with [store] kind local the folder
 * <publish dir>/<id>/, written aside and renamed into place, left alone when it already holds the
 * same files; with s3 the objects PREFIXpublished/<id>/NAME, package.json last), then, when
 * [publish] webhook_url is set, POSTs "story.published" with Idempotency-Key = the story id (and
 * the HMAC signature when a secret is set), and finally moves the story to PUBLISHED with body
 * "publish": {path (the folder, or s3://BUCKET/PREFIX), store (the store's "where"), webhook,
 * webhook_status, at, at_ms, by} in one step that also releases the lock (bb_complete_with).
 *
 * A failure records "publish" with the error and sets the story back in one step: a folder that
 * cannot be written because the disk is full, the folder read-only or unwritable
 * (envfault_probe() of the publish folder), or an S3 store that cannot be reached or refuses,
 * parks it without counting an attempt; any other
 * failure (the webhook's included) counts an attempt of the step "publish" (bb_setback: the
 * story stays APPROVED, scored by when its retry is due, which is when bb_lock_first() offers it
 * again; FAILED with its error history once the attempts run out). The package stays, and a
 * retry posts with the same Idempotency-Key. A story with nothing to publish (no "package")
 * fails at once. No model is asked. A publisher that dies has its lock taken back at once by
 * the swarm's reaper; the webhook's wait keeps the claim alive by the heartbeat.
 *
 * Threads: runs on its agent's thread only.
 */
#include "agents/agent.h"
#include "agents/publish.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "media/store.h"
#include "recovery/envfault.h"
#include "observe/trace.h"
#include "store/blackboard.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PUBLISHER_FILES 8 /* files a video package may list */

struct publisher {
    char *dir;            /* the local publish folder (probed after a failure) */
    struct pstore *store; /* where packages are read from and published to */
};

static int publisher_init(struct agent_ctx *ctx, void **state, char **cause)
{
    struct publisher *p = xcalloc(1, sizeof *p);

    if ((p->store = pstore_open(ctx->cfg, cause)) == NULL) {
        free(p);
        return -1;
    }
    p->dir = publish_dir(ctx->cfg);
    *state = p;
    return 0;
}

static void publisher_shutdown(struct agent_ctx *ctx, void *state)
{
    struct publisher *p = state;

    (void)ctx;
    if (p != NULL) {
        free(p->dir);
        pstore_free(p->store);
    }
    free(p); /* no lock outlives a cycle */
}

static void iso_time(int64_t ms, char *buf, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *str_or(const json_t *v, const char *dflt)
{
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* Sets key to a copy of the body's field when the body has it. */
static void copy_field(json_t *to, const char *key, const json_t *body, const char *field)
{
    json_t *v = json_object_get(body, field);

    if (v != NULL)
        json_object_set_new(to, key, json_deep_copy(v));
}

/* package.json: the story, its script, its package and the decisions that led there. Only
 * what stays the same between attempts goes in, so a republish finds the folder unchanged. */
static char *package_json(const struct bb_item *it, const char *final)
{
    const json_t *body = it->body;
    json_t *o = json_object(), *d = json_object();
    char when[32];
    char *s, *out;

    json_object_set_new(o, "id", json_string(it->id));
    json_object_set_new(o, "title", json_string(str_or(json_object_get(body, "title"), "")));
    json_object_set_new(o, "source", json_string(str_or(json_object_get(body, "source"), "")));
    copy_field(o, "url", body, "url");
    copy_field(o, "published", body, "published");
    json_object_set_new(o, "script", json_string(final));
    copy_field(o, "package", body, "package");
    copy_field(d, "analysis", body, "analysis");
    copy_field(d, "consensus", body, "consensus");
    copy_field(d, "qa", body, "qa");
    if (json_is_object(json_object_get(body, "script"))) {
        json_t *sc = json_deep_copy(json_object_get(body, "script"));

        json_object_del(sc, "draft"); /* the final text is above */
        json_object_del(sc, "final");
        json_object_set_new(d, "script", sc);
    }
    iso_time(it->decided_ms, when, sizeof when);
    json_object_set_new(d, "approved_by", json_string(it->decided_by));
    json_object_set_new(d, "approved_at", json_string(it->decided_ms > 0 ? when : ""));
    json_object_set_new(o, "decisions", d);
    s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(o);
    if (s == NULL)
        fail("cannot encode a package");
    out = xasprintf("%s\n", s);
    free(s);
    return out;
}

/* A text with a final newline. */
static char *with_newline(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && s[n - 1] == '\n' ? xstrdup(s) : xasprintf("%s\n", s);
}

/* Reads the files a rendered package lists into files[*n..] through the store, from wherever
 * the producer put them; their contents in copies[*ncopies..] (the caller frees them); names
 * already there (captions.srt) are skipped. Returns 0, or -1 with *why and *env set when the
 * store itself failed (unreachable, refused) rather than the package. */
static int package_files(struct pstore *store, const json_t *pkg, struct pstore_file *files,
                         size_t *n, char **copies, size_t *ncopies, bool *env, char **why)
{
    json_t *where = pstore_where_of(pkg);
    const json_t *v;
    size_t i;
    int rc = 0;

    *env = false;
    if (where == NULL)
        return 0; /* a storyboard: nothing but what the story holds */
    json_array_foreach(json_object_get(where, "files"), i, v)
    {
        const char *name = str_or(v, "");
        bool dup = false;
        char *data = NULL, *cause = NULL;
        size_t len = 0;
        int got;

        for (size_t k = 0; k < *n; k++)
            dup = dup || strcmp(files[k].name, name) == 0;
        if (dup)
            continue;
        if (*ncopies == PUBLISHER_FILES) {
            *why = xasprintf("too many package files (\"%s\")", name);
            rc = -1;
            break;
        }
        got = pstore_get(store, where, name, &data, &len, &cause);
        if (got != 0) {
            *why = got == 1 ? xasprintf("the package file %s is not in the store", name)
                            : xasprintf("cannot read the package file %s: %s", name, cause);
            *env = got == -1 && pstore_where_is_s3(where);
            free(cause);
            rc = -1;
            break;
        }
        copies[(*ncopies)++] = data;
        files[(*n)++] = (struct pstore_file){name, data, len};
    }
    json_decref(where);
    return rc;
}

/* Where a published package is, for people and the webhook: its folder, or
 * s3://BUCKET/KEY-PREFIX/ of its objects. A new string. */
static char *published_path(const json_t *where)
{
    const char *key = str_or(json_object_get(json_object_get(where, "keys"), "package.json"), "");

    if (!pstore_where_is_s3(where))
        return xstrdup(str_or(json_object_get(where, "folder"), ""));
    return xasprintf("s3://%s/%.*s", str_or(json_object_get(where, "bucket"), ""),
                     (int)(strrchr(key, '/') != NULL ? strrchr(key, '/') - key + 1 : 0), key);
}

/* Records the failure (body "publish" with the error) and sets the story back in the same
 * step, which releases the lock: parked when the environment is at fault (env), else a failed
 * attempt (max_attempts: the step's, or 1 for a story that can never be published). */
static void failed(struct agent_ctx *ctx, const struct bb_lock *lk, const char *path, long status,
                   const char *why, bool env, int max_attempts)
{
    struct bb_retry policy = *ctx->retry;
    int64_t now = clock_wall_ms(), since = 0;
    char at[32], *cause = NULL;
    int ended = -1, rc;
    json_t *patch;

    iso_time(now, at, sizeof at);
    patch = json_pack("{s:{s:s?, s:s, s:o, s:s, s:s, s:I, s:s}}", "publish", "path", path,
                      "webhook", status > 0 || strncmp(why, "webhook", 7) == 0 ? "failed" : "-",
                      "webhook_status", status > 0 ? json_integer(status) : json_null(), "error",
                      why, "at", at, "at_ms", (json_int_t)now, "by", ctx->id);
    policy.max_attempts = max_attempts;
    do
        rc = bb_setback(ctx->bb, lk->id, lk, env ? BB_PARK : BB_ATTEMPT, why, &policy, -1, NULL,
                        patch, &ended, &cause);
    while (agent_again(ctx, &rc, &since, &cause));
    if (rc != BB_OK) {
        log_warn("%s: cannot set %s back: %s", ctx->id, lk->id, cause);
        free(cause);
        agent_release(ctx, lk);
    }
    json_decref(patch);
    if (!env)
        atomic_fetch_add(&ctx->stats->failed, 1);
    if (ended == BB_FAILED)
        log_warn("%s: %s FAILED: %s", ctx->id, lk->id, why);
    else
        log_info("%s: publishing %s %s: %s", ctx->id, lk->id,
                 env ? "waits for its folder" : "failed, will retry", why);
}

/* Publishes the locked, APPROVED story it. Always lets go of the lock. */
static void publish(struct agent_ctx *ctx, const struct publisher *p, const struct bb_item *it,
                    const struct bb_lock *lk)
{
    const json_t *body = it->body, *pkg = json_object_get(body, "package");
    const struct config *cfg = ctx->cfg;
    const char *final;
    char *files_json, *script, *captions, *abs, *why = NULL, at[32];
    struct pstore_file files[3 + PUBLISHER_FILES];
    char *copies[PUBLISHER_FILES];
    size_t nfiles = 2, ncopies = 0;
    bool unchanged = false, env = false;
    long status = 0;
    int64_t now;
    json_t *patch, *where = NULL;
    int rc;

    if (!json_is_object(pkg)) {
        failed(ctx, lk, NULL, 0, "approved without a production package: nothing to publish", false,
               1);
        return;
    }
    final = str_or(json_object_get(json_object_get(body, "script"), "final"),
                   str_or(json_object_get(pkg, "narration"), ""));
    files_json = package_json(it, final);
    script = with_newline(final);
    captions = xstrdup(str_or(json_object_get(pkg, "captions_srt"), ""));
    files[0] = (struct pstore_file){"script.txt", script, strlen(script)};
    files[1] = (struct pstore_file){"captions.srt", captions, strlen(captions)};
    /* A rendered package (kind "video") lists its files: copy them too, through the store. */
    rc = package_files(p->store, pkg, files, &nfiles, copies, &ncopies, &env, &why);
    /* package.json last: in the bucket it marks the published package complete. */
    files[nfiles++] = (struct pstore_file){"package.json", files_json, strlen(files_json)};
    if (rc == 0) {
        rc = pstore_put_files(p->store, PSTORE_PUBLISHED, it->id, files, nfiles, &unchanged, &where,
                              &why);
        env = rc == -1 && pstore_kind(p->store) == PSTORE_S3 && publish_id_ok(it->id);
    }
    free(files_json);
    free(script);
    free(captions);
    for (size_t i = 0; i < ncopies; i++)
        free(copies[i]);
    if (rc == -1) {
        char *fault = NULL;

        if (env || (pstore_kind(p->store) == PSTORE_LOCAL && envfault_probe(p->dir, &fault) > 0)) {
            char *both = fault != NULL ? xasprintf("%s (%s)", why, fault) : xstrdup(why);

            failed(ctx, lk, NULL, 0, both, true, ctx->retry->max_attempts);
            free(both);
            free(fault);
        } else {
            /* A bad id never gets better. */
            failed(ctx, lk, NULL, 0, why, false,
                   publish_id_ok(it->id) ? ctx->retry->max_attempts : 1);
        }
        free(why);
        return;
    }
    abs = published_path(where);
    now = clock_wall_ms();
    iso_time(now, at, sizeof at);
    if (cfg->webhook_url[0] != '\0') {
        const json_t *dur = json_object_get(pkg, "duration_s");
        json_t *ev;
        char *evs;

        ev = json_pack("{s:s, s:s, s:s, s:s, s:O?, s:O?, s:s}", "event", "story.published", "id",
                       it->id, "title", str_or(json_object_get(body, "title"), ""), "path", abs,
                       "url", json_object_get(body, "url"), "duration_s",
                       json_is_number(dur) ? dur : NULL, "published_at", at);
        if (json_object_get(ev, "url") == NULL)
            json_object_set_new(ev, "url", json_null());
        if (json_object_get(ev, "duration_s") == NULL)
            json_object_set_new(ev, "duration_s", json_null());
        evs = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(ev);
        rc = publish_webhook(cfg->webhook_url, cfg->webhook_secret, cfg->webhook_timeout_ms, it->id,
                             evs, &status, &why);
        free(evs);
        if (rc == -1) {
            failed(ctx, lk, abs, status, why, false, ctx->retry->max_attempts);
            free(why);
            free(abs);
            json_decref(where);
            return;
        }
    }
    patch = json_pack("{s:{s:s, s:o, s:b, s:s, s:o, s:s, s:I, s:s}}", "publish", "path", abs,
                      "store", where, "unchanged", unchanged, "webhook",
                      cfg->webhook_url[0] != '\0' ? "delivered" : "off", "webhook_status",
                      status > 0 ? json_integer(status) : json_null(), "at", at, "at_ms",
                      (json_int_t)now, "by", ctx->id);
    {
        char *reason = xasprintf("published to %s", abs);
        int64_t since = 0;

        do
            rc = bb_complete_with(ctx->bb, lk, BB_PUBLISHED_S, patch, reason, &why);
        while (agent_again(ctx, &rc, &since, &why));
        free(reason);
    }
    json_decref(patch);
    if (rc != BB_OK) {
        /* Whoever holds it now publishes it again: the folder is the same, the webhook key
         * too. */
        log_warn("%s: cannot mark %s published: %s", ctx->id, lk->id, why);
        free(why);
        agent_release(ctx, lk);
    } else {
        atomic_fetch_add(&ctx->stats->advanced, 1);
        trace_story_moved(it, BB_PUBLISHED_S, abs);
        log_info("%s: published %s to %s%s", ctx->id, it->id, abs,
                 unchanged ? " (the folder was already there)" : "");
    }
    free(abs);
}

static int publisher_cycle(struct agent_ctx *ctx, void *state, char **cause)
{
    struct publisher *p = state;
    struct bb_item *it = NULL;
    struct bb_lock lk;
    int rc;

    /* One round trip: the oldest approved story that is due (a story waiting for its retry is
     * scored by when it is due, so it is skipped until then) and that nobody holds. */
    rc = bb_lock_first(ctx->bb, BB_APPROVED, ctx->claim_ttl_ms, &lk, &it, cause);
    if (rc == BB_ERR)
        return -1;
    if (rc == BB_NONE)
        return 0;
    atomic_fetch_add(&ctx->stats->claimed, 1);
    agent_hold(ctx, &lk, it != NULL ? it->attempts : 0);
    if (it == NULL) {
        agent_release(ctx, &lk);
        *cause = xasprintf("story %s could not be read", lk.id);
        return -1;
    }
    publish(ctx, p, it, &lk);
    bb_item_free(it);
    return 1;
}

const struct agent_role role_publisher = {
    .name = "publisher",
    .tier = LLM_FAST,
    .reclaim = {-1},
    .serves = {BB_APPROVED, -1},
    .wake = {"APPROVED", NULL},
    .init = publisher_init,
    .cycle = publisher_cycle,
    .shutdown = publisher_shutdown,
};
