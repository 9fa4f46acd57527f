/*
 * visual.c - the visual designer's fallback chain; see visual.h. One run per story: the
 * configuration's four links are read into one ordered list of providers, each asked once
 * whether it can serve at all (a key, ffmpeg), then every shot is offered to each in turn. The
 * story's own pictures are fetched lazily, once, and shared by the providers that show them
 * (feed, runway). What the run chose is written to visuals.json in the work folder, so a rerun
 * for the same storyboard takes it back instead of paying again.
 *
 * Threads: visual_choose() runs on its caller's thread; a run shares nothing with another.
 */
#include "media/visual_int.h"

#include "media/visual_http.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/paths.h"
#include "cost/cost.h"
#include "recovery/breaker.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The providers; their index is their slot in visual_run.state. */
static const struct visual_impl *const providers[] = {
    &visual_chart, &visual_feed, &visual_heygen, &visual_runway, &visual_openai, &visual_pexels,
};
#define NPROVIDERS (sizeof providers / sizeof providers[0])

/* The seed's links, in their order. */
static const struct {
    const char *name;
    size_t offset; /* offsetof(struct config, ...): the link's provider list */
} links[] = {
    {"visual_designer", offsetof(struct config, visual_designer)},
    {"visual_designer_backup", offsetof(struct config, visual_designer_backup)},
    {"visual_designer_simple", offsetof(struct config, visual_designer_simple)},
    {"stock_image_agent", offsetof(struct config, stock_image_agent)},
};
#define NLINKS (sizeof links / sizeof links[0])

static const struct visual_impl *impl_named(const char *name, size_t n)
{
    for (size_t i = 0; i < NPROVIDERS; i++)
        if (strlen(providers[i]->name) == n && strncmp(providers[i]->name, name, n) == 0)
            return providers[i];
    return NULL;
}

/* Calls each(name, n, ctx) for the comma-separated names of list, trimmed; stops at a -1. */
static int each_name(const char *list, int (*each)(const char *name, size_t n, void *ctx),
                     void *ctx)
{
    const char *p = list;

    while (*p != '\0') {
        size_t n = strcspn(p, ","), a = 0, z = n;

        while (a < z && isspace((unsigned char)p[a]))
            a++;
        while (z > a && isspace((unsigned char)p[z - 1]))
            z--;
        if (z > a && each(p + a, z - a, ctx) == -1)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

struct check {
    unsigned seen;
    char **why;
};

static int check_one(const char *name, size_t n, void *ctx)
{
    struct check *ck = ctx;
    const struct visual_impl *impl = impl_named(name, n);
    unsigned bit;

    if (impl == NULL) {
        *ck->why = n == 4 && strncmp(name, "text", 4) == 0
                       ? xstrdup("text slides are always the last link of the chain: leave "
                                 "\"text\" out")
                       : xasprintf("unknown visual provider \"%.*s\" (chart, feed, heygen, "
                                   "runway, openai, pexels)",
                                   (int)n, name);
        return -1;
    }
    for (bit = 0; providers[bit] != impl; bit++)
        ;
    if (ck->seen & (1u << bit)) {
        *ck->why = xasprintf("\"%s\" is listed twice", impl->name);
        return -1;
    }
    ck->seen |= 1u << bit;
    return 0;
}

int visual_link_check(const char *value, char **why)
{
    struct check ck = {0, why};

    return each_name(value, check_one, &ck);
}

char *visual_work_dir(const struct config *c, const char *id)
{
    char *data = config_data_dir(c), *dir = xasprintf("%s/visuals/%s", data, id);

    free(data);
    return dir;
}

int visual_sweep(const struct config *c, int max_age_s)
{
    char *data = config_data_dir(c), *root = xasprintf("%s/visuals", data);
    DIR *d = opendir(root);
    struct dirent *de;
    time_t now = time(NULL);
    int removed = 0;

    free(data);
    while (d != NULL && (de = readdir(d)) != NULL) {
        struct stat sb;
        char *path;

        if (de->d_name[0] == '.')
            continue;
        path = xasprintf("%s/%s", root, de->d_name);
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && now - sb.st_mtime > max_age_s &&
            paths_rmrf(path) == 0)
            removed++;
        free(path);
    }
    if (d != NULL)
        closedir(d);
    free(root);
    return removed;
}

void **visual_state(struct visual_run *r, const struct visual_impl *impl)
{
    for (size_t i = 0; i < NPROVIDERS; i++)
        if (providers[i] == impl)
            return &r->state[i];
    return &r->state[NPROVIDERS]; /* never: every provider is in the table */
}

/* ---- small helpers for the providers ---- */

void visual_shot_file(const struct visual_shot *s, const char *ext, char *buf, size_t size)
{
    snprintf(buf, size, "shot%02d.%s", s->index + 1, ext);
}

char *visual_path(const struct visual_run *r, const char *name)
{
    return xasprintf("%s/%s", r->dir, name);
}

const char *visual_story_source(const struct visual_run *r)
{
    const char *s = json_string_value(json_object_get(r->story, "source"));

    return s != NULL ? s : "";
}

char *visual_keywords(const struct visual_run *r, int max)
{
    static const char *const small[] = {"a",    "an",  "the",   "of",   "in",   "on",   "at",
                                        "to",   "for", "and",   "or",   "by",   "with", "from",
                                        "as",   "is",  "are",   "was",  "were", "its",  "this",
                                        "that", "new", "after", "over", "into", NULL};
    const char *title = json_string_value(json_object_get(r->story, "title"));
    char *out = xcalloc(1, 1), *p;
    size_t len = 0;
    int k = 0;

    if (title == NULL)
        return out;
    p = (char *)title;
    while (*p != '\0' && k < max) {
        size_t n = 0;
        bool digits = false, skip = false;

        while (*p != '\0' && !isalnum((unsigned char)*p) && (unsigned char)*p < 0x80)
            p++;
        while (p[n] != '\0' && (isalnum((unsigned char)p[n]) || (unsigned char)p[n] >= 0x80 ||
                                p[n] == '-' || p[n] == '\''))
            digits |= isdigit((unsigned char)p[n++]);
        if (n == 0)
            break;
        for (size_t i = 0; small[i] != NULL; i++)
            skip |= strlen(small[i]) == n && strncasecmp(small[i], p, n) == 0;
        if (!digits && !skip) {
            out = xrealloc(out, len + n + 2);
            if (len > 0)
                out[len++] = ' ';
            memcpy(out + len, p, n);
            len += n;
            out[len] = '\0';
            k++;
        }
        p += n;
    }
    return out;
}

char *visual_service_error(const char *body, const char *key)
{
    static const char *const fields[] = {"message", "detail", "failure", "error", NULL};
    json_t *j = body != NULL ? json_loads(body, 0, NULL) : NULL;
    const char *msg = NULL;
    char *out, *hit;

    for (const json_t *o = j; o != NULL && msg == NULL;) {
        const json_t *next = NULL;

        for (size_t i = 0; fields[i] != NULL && msg == NULL; i++) {
            const json_t *v = json_object_get(o, fields[i]);

            if (json_is_string(v) && json_string_length(v) > 0)
                msg = json_string_value(v);
            else if (json_is_object(v) && next == NULL)
                next = v;
        }
        o = next;
    }
    if (msg == NULL && json_is_object(j) && json_is_string(json_object_get(j, "failureCode")))
        msg = json_string_value(json_object_get(j, "failureCode"));
    out = xasprintf("%.160s", msg != NULL ? msg : body != NULL ? body : "");
    json_decref(j);
    for (char *p = out; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    if (key != NULL && *key != '\0')
        while ((hit = strstr(out, key)) != NULL) {
            size_t kl = strlen(key);

            memset(hit, '*', kl < 3 ? kl : 3);
            memmove(hit + (kl < 3 ? kl : 3), hit + kl, strlen(hit + kl) + 1);
        }
    return out;
}

char *visual_http_error(const char *api, const struct vhttp_result *res, const char *key,
                        bool *fault)
{
    char *msg = visual_service_error(res->body, key), *out;

    *fault = res->status >= 500 || res->status == 429;
    out = xasprintf("%s: HTTP %ld: %s", api, res->status, msg);
    free(msg);
    return out;
}

int visual_poll_get(struct visual_run *r, const char *api, const char *url,
                    const char *const *headers, const char *key, json_t **ans, char **why)
{
    struct vhttp_result res;
    char *transport = NULL;
    bool fault;

    *ans = NULL;
    if (vhttp_request("GET", url, headers, NULL, r->c->visual_request_timeout_ms, 1u << 20, &res,
                      &transport) == -1) {
        free(transport); /* asked again at the next poll; the job's time limit ends it */
        return 0;
    }
    if (res.status != 200) {
        char *e = visual_http_error(api, &res, key, &fault);

        vhttp_result_clear(&res);
        if (fault) {
            free(e);
            return 0;
        }
        *why = e;
        return -1;
    }
    *ans = json_loads(res.body, 0, NULL);
    vhttp_result_clear(&res);
    if (!json_is_object(*ans)) {
        json_decref(*ans);
        *ans = NULL;
        *why = xasprintf("%s: a status answer that is not a JSON object", api);
        return -1;
    }
    return 1;
}

/* ---- the story's own pictures ---- */

struct visual_pic *visual_next_pic(struct visual_run *r)
{
    const json_t *refs = json_object_get(json_object_get(r->story, "feed"), "images");

    for (size_t i = 0; i < r->npics; i++)
        if (!r->pics[i].used)
            return &r->pics[i];
    if (r->ffmpeg == NULL)
        return NULL;
    while (r->next_ref < json_array_size(refs) && clock_mono_ms() < r->deadline) {
        const json_t *ref = json_array_get(refs, r->next_ref++);
        const char *url = json_string_value(json_object_get(ref, "url"));
        const char *kind = json_string_value(json_object_get(ref, "kind"));
        char raw_name[32], name[32], *raw, *path, *why = NULL;
        struct image_info info;
        struct visual_pic *p;

        if (url == NULL)
            continue;
        snprintf(raw_name, sizeof raw_name, "story%02zu.src", r->npics + 1);
        snprintf(name, sizeof name, "story%02zu.jpg", r->npics + 1);
        raw = visual_path(r, raw_name);
        path = visual_path(r, name);
        if (image_fetch(url, &r->lim, false, raw, &info, &why) == 0 &&
            image_normalise(r->ffmpeg, raw, path, VISUAL_PHOTO_W, VISUAL_PHOTO_H, r->deadline,
                            &why) == 0) {
            unlink(raw);
            free(raw);
            free(path);
            r->pics = xrealloc(r->pics, (r->npics + 1) * sizeof *r->pics);
            p = &r->pics[r->npics++];
            memset(p, 0, sizeof *p);
            p->file = xstrdup(name);
            p->origin = xstrdup(url);
            p->kind = xstrdup(kind != NULL ? kind : "");
            p->credit = json_is_string(json_object_get(ref, "credit"))
                            ? xstrdup(json_string_value(json_object_get(ref, "credit")))
                            : NULL;
            p->width = info.width;
            p->height = info.height;
            return p;
        }
        unlink(raw);
        unlink(path);
        free(raw);
        free(path);
        json_array_append_new(r->rejected, json_pack("{s:s, s:s, s:s}", "url", url, "kind",
                                                     kind != NULL ? kind : "", "why", why));
        log_info("visual: %s: the picture %s is refused: %s", r->e->story_id, url, why);
        free(why);
    }
    return NULL;
}

int visual_still(struct visual_run *r, const struct visual_shot *s, const char *src, json_t *pic,
                 char **why)
{
    char name[32], *path;
    int rc;

    visual_shot_file(s, "jpg", name, sizeof name);
    path = visual_path(r, name);
    rc = image_normalise(r->ffmpeg, src, path, VISUAL_PHOTO_W, VISUAL_PHOTO_H, r->deadline, why);
    free(path);
    if (rc == 0) {
        json_object_set_new(pic, "file", json_string(name));
        json_object_set_new(pic, "w", json_integer(VISUAL_PHOTO_W));
        json_object_set_new(pic, "h", json_integer(VISUAL_PHOTO_H));
    }
    return rc;
}

int visual_clip(struct visual_run *r, const struct visual_shot *s, const char *url, double max_s,
                json_t *pic, char **why)
{
    struct image_limits l = r->lim;
    struct image_info info;
    char name[32], raw_name[32], *raw, *path;
    double secs = 0;
    int rc;

    l.max_bytes = (size_t)r->c->visual_clip_max_bytes;
    l.timeout_ms = r->c->visual_request_timeout_ms * 4;
    visual_shot_file(s, "mp4", name, sizeof name);
    visual_shot_file(s, "src.mp4", raw_name, sizeof raw_name);
    raw = visual_path(r, raw_name);
    path = visual_path(r, name);
    rc = image_fetch(url, &l, true, raw, &info, why);
    if (rc == 0)
        rc = image_clip_normalise(r->ffmpeg, raw, path, VIDEO_WIDTH, VIDEO_HEIGHT, r->t.fps, max_s,
                                  r->deadline, &secs, why);
    unlink(raw);
    free(raw);
    free(path);
    if (rc == 0) {
        json_object_set_new(pic, "file", json_string(name));
        json_object_set_new(pic, "media", json_string("clip"));
        json_object_set_new(pic, "clip_s", json_real(secs));
        json_object_set_new(pic, "w", json_integer(VIDEO_WIDTH));
        json_object_set_new(pic, "h", json_integer(VIDEO_HEIGHT));
    }
    return rc;
}

/* ---- money ---- */

int visual_reserve(struct visual_run *r, const char *name, double units, char id[32], char **why)
{
    const struct pricing_media *m;
    struct budget_refusal refusal;
    char *cause = NULL;
    int rc;

    if (r->e->cost == NULL) {
        *why = xstrdup("no budget to pay it from (the chain runs outside a swarm)");
        return -1;
    }
    m = pricing_media(cost_pricing(r->e->cost), name);
    if (m == NULL) {
        *why = xasprintf("no price for %s in the pricing table ([media %s])", name, name);
        return -1;
    }
    rc = cost_media_reserve(r->e->cost, r->e->story_id, m, units, id, &refusal, &cause);
    if (rc == COST_DEFERRED) {
        *why = xasprintf("the budget refused it: the %s limit for %s would be passed",
                         refusal.limit, refusal.window);
        return -1;
    }
    if (rc == COST_FAILED) {
        *why = xasprintf("the budget could not be asked: %s", cause);
        free(cause);
        return -1;
    }
    return 0;
}

void visual_commit(struct visual_run *r, const char *name, double units, const char *id,
                   int64_t duration_ms, json_t *pic)
{
    const struct pricing_media *m = pricing_media(cost_pricing(r->e->cost), name);
    int64_t micro = cost_media_commit(r->e->cost, r->e->story_id, m, units, id, duration_ms);
    double usd = (double)micro / 1e6;

    r->cost_usd += usd;
    json_object_set_new(pic, "cost_usd",
                        json_real(json_number_value(json_object_get(pic, "cost_usd")) + usd));
}

void visual_release(struct visual_run *r, const char *id)
{
    cost_media_release(r->e->cost, id);
}

/* ---- jobs ---- */

static bool stopping(const struct visual_run *r)
{
    return r->e->stop != NULL && atomic_load(r->e->stop) != 0;
}

/* A sign of life for the caller's heartbeat. */
static void alive(const struct visual_run *r)
{
    if (r->e->alive != NULL)
        atomic_store(r->e->alive, clock_mono_ms());
}

/* Sleeps ms, a tenth of a second at a time, unless the run is asked to stop. */
static void nap(const struct visual_run *r, int64_t ms)
{
    while (ms > 0 && !stopping(r)) {
        int64_t step = ms < 100 ? ms : 100;
        struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};

        nanosleep(&ts, NULL);
        ms -= step;
    }
}

int visual_wait_job(struct visual_run *r, int (*poll)(void *ctx, char **why), void *ctx,
                    bool *timed_out, char **why)
{
    int64_t start = clock_mono_ms(), end = start + (int64_t)r->c->visual_job_timeout_s * 1000;
    int64_t wait = r->c->visual_poll_ms;
    unsigned seed = (unsigned)start;

    *timed_out = false;
    if (end > r->deadline)
        end = r->deadline;
    for (;;) {
        int64_t now = clock_mono_ms();
        int rc;

        nap(r, now + wait < end ? wait : end - now);
        if (stopping(r)) {
            *why = xstrdup("stopping: the swarm is shutting down");
            return -1;
        }
        if (clock_mono_ms() >= end) {
            *timed_out = true;
            *why =
                xasprintf("did not finish within %lld s", (long long)((end - start + 999) / 1000));
            return -1;
        }
        rc = poll(ctx, why);
        alive(r);
        if (rc != 0)
            return rc == 1 ? 0 : -1;
        /* Doubling, at most poll_max_ms, with a tenth of jitter so jobs started together do
         * not poll together. */
        wait *= 2;
        if (wait > r->c->visual_poll_max_ms)
            wait = r->c->visual_poll_max_ms;
        seed = seed * 1103515245u + 12345u;
        wait += (int64_t)((seed >> 16) % (unsigned)(wait / 10 + 1)) - wait / 20;
    }
}

/* ---- the run ---- */

/* A text slide: what every chain ends with. */
static json_t *text_picture(json_t *tried)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "source", "text", "label", "text slide",
                     "provider", "text", "link", "text", "media", "none", "credit", "", "tried",
                     tried != NULL ? tried : json_array());
}

/* The shot as the providers see it. */
static void shot_view(const json_t *sb, size_t i, struct visual_shot *s)
{
    const json_t *shots = json_object_get(sb, "shots"), *sh = json_array_get(shots, i);
    const char *kind = json_string_value(json_object_get(sh, "kind"));
    size_t first = SIZE_MAX, k;
    const json_t *o;

    memset(s, 0, sizeof *s);
    s->index = (int)i;
    s->sh = sh;
    s->kind = kind != NULL ? kind : "";
    s->text = json_string_value(json_object_get(sh, "text"));
    if (s->text == NULL)
        s->text = "";
    s->ms = json_integer_value(json_object_get(sh, "end_ms")) -
            json_integer_value(json_object_get(sh, "start_ms"));
    json_array_foreach(shots, k, o)
    {
        const char *kk = json_string_value(json_object_get(o, "kind"));

        if (kk != NULL && (strcmp(kk, "narration") == 0 || strcmp(kk, "key_fact") == 0)) {
            first = k;
            break;
        }
    }
    s->lead = first == i;
}

/* Whether a shot takes a picture: overlays and the closing card stay text. */
static bool pictured(const char *kind)
{
    return strcmp(kind, "title_card") == 0 || strcmp(kind, "narration") == 0 ||
           strcmp(kind, "key_fact") == 0;
}

/* One provider in the run's order. */
struct entry {
    const struct visual_impl *impl;
    const char *link;
    char *off; /* why it cannot serve at all, or NULL */
    struct breaker *breaker;
};

struct order {
    struct entry *v;
    size_t n;
    const char *link;
};

static int add_entry(const char *name, size_t n, void *ctx)
{
    struct order *o = ctx;

    if (impl_named(name, n) == NULL)
        return 0; /* never: the configuration checks every name */
    o->v = xrealloc(o->v, (o->n + 1) * sizeof *o->v);
    o->v[o->n++] = (struct entry){impl_named(name, n), o->link, NULL, NULL};
    return 0;
}

/* 64-bit FNV-1a of the storyboard's shots (kinds and texts) and the story: whether a saved
 * choice was made for this storyboard. */
static char *signature(const char *id, const json_t *sb)
{
    uint64_t h = 1469598103934665603ULL;
    const json_t *sh;
    size_t i;

    for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    json_array_foreach(json_object_get(sb, "shots"), i, sh)
    {
        const char *parts[2] = {json_string_value(json_object_get(sh, "kind")),
                                json_string_value(json_object_get(sh, "text"))};

        for (int k = 0; k < 2; k++)
            for (const unsigned char *p = (const unsigned char *)(parts[k] ? parts[k] : "");
                 *p != '\0'; p++)
                h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return xasprintf("%016llx", (unsigned long long)h);
}

/* Takes back the pictures an earlier run saved for the same storyboard, when every file is
 * still there. Returns the saved report (new reference), or NULL. */
static json_t *take_back(struct visual_run *r, json_t *sb, const char *sig)
{
    char *path = visual_path(r, "visuals.json");
    json_t *saved = json_load_file(path, 0, NULL), *pics, *pic;
    size_t i;

    free(path);
    pics = json_object_get(saved, "pictures");
    if (saved == NULL || json_string_value(json_object_get(saved, "signature")) == NULL ||
        strcmp(json_string_value(json_object_get(saved, "signature")), sig) != 0 ||
        json_array_size(pics) != json_array_size(json_object_get(sb, "shots"))) {
        json_decref(saved);
        return NULL;
    }
    json_array_foreach(pics, i, pic)
    {
        const char *file = json_string_value(json_object_get(pic, "file"));
        char *p;

        if (file == NULL)
            continue;
        p = visual_path(r, file);
        if (access(p, R_OK) != 0) {
            free(p);
            json_decref(saved);
            return NULL;
        }
        free(p);
    }
    json_array_foreach(pics, i, pic)
        json_object_set(json_array_get(json_object_get(sb, "shots"), i), "picture", pic);
    return saved;
}

static void run_clear(struct visual_run *r)
{
    for (size_t i = 0; i < NPROVIDERS; i++)
        if (providers[i]->close != NULL)
            providers[i]->close(r);
    for (size_t i = 0; i < r->npics; i++) {
        free(r->pics[i].file);
        free(r->pics[i].origin);
        free(r->pics[i].kind);
        free(r->pics[i].credit);
    }
    free(r->pics);
    free(r->dir);
    free(r->ffmpeg);
    json_decref(r->rejected);
}

/* Offers shot s to every provider in order; returns its picture (new reference). */
static json_t *choose_one(struct visual_run *r, const struct order *o, const struct visual_shot *s)
{
    json_t *tried = json_array();

    if (!pictured(s->kind))
        return text_picture(tried);
    for (size_t k = 0; k < o->n; k++) {
        const struct entry *en = &o->v[k];
        json_t *pic;
        char *why = NULL;
        bool fault = true;
        enum visual_outcome out;

        if (en->off != NULL)
            continue;
        if (clock_mono_ms() >= r->deadline || stopping(r)) {
            json_array_append_new(tried, json_pack("{s:s, s:s, s:s}", "provider", en->impl->name,
                                                   "outcome", "failed", "why",
                                                   stopping(r) ? "stopping"
                                                               : "the chain's time ran out "
                                                                 "([visual] timeout_s)"));
            break;
        }
        if (en->breaker != NULL && breaker_allow(en->breaker, &why) == -1) {
            json_array_append_new(tried, json_pack("{s:s, s:s, s:s}", "provider", en->impl->name,
                                                   "outcome", "failed", "why", why));
            free(why);
            continue;
        }
        pic = json_object();
        alive(r);
        out = en->impl->serve(r, s, pic, &fault, &why);
        alive(r);
        if (en->breaker != NULL) {
            if (out == VISUAL_SERVED || (out == VISUAL_FAILED && !fault))
                breaker_success(en->breaker);
            else if (out == VISUAL_FAILED)
                breaker_failure(en->breaker, why);
        }
        if (out == VISUAL_SERVED) {
            json_object_set_new(pic, "source", json_string(en->impl->source));
            if (json_object_get(pic, "label") == NULL)
                json_object_set_new(pic, "label", json_string(en->impl->label));
            json_object_set_new(pic, "provider", json_string(en->impl->name));
            json_object_set_new(pic, "link", json_string(en->link));
            if (json_object_get(pic, "media") == NULL)
                json_object_set_new(pic, "media", json_string("still"));
            if (json_object_get(pic, "illustration") == NULL)
                json_object_set_new(pic, "illustration", json_false());
            if (json_object_get(pic, "cost_usd") == NULL)
                json_object_set_new(pic, "cost_usd", json_real(0));
            json_object_set_new(pic, "tried", tried);
            free(why);
            return pic;
        }
        json_decref(pic);
        if (out == VISUAL_FAILED) {
            json_array_append_new(tried, json_pack("{s:s, s:s, s:s}", "provider", en->impl->name,
                                                   "outcome", "failed", "why",
                                                   why != NULL ? why : "failed"));
            log_warn("visual: %s: shot %d: %s failed (%s); next in the chain", r->e->story_id,
                     s->index + 1, en->impl->name, why != NULL ? why : "failed");
        } else if (why != NULL) {
            json_array_append_new(tried, json_pack("{s:s, s:s, s:s}", "provider", en->impl->name,
                                                   "outcome", "refused", "why", why));
        }
        free(why);
    }
    return text_picture(tried);
}

int visual_choose(const struct visual_env *e, const json_t *story, json_t *sb, const char *dir,
                  json_t **report_out, char **cause)
{
    struct visual_run r = {.e = e, .c = e->cfg, .story = story, .sb = sb};
    struct order o = {0};
    json_t *shots = json_object_get(sb, "shots"), *report, *chain, *avail, *pictures, *sources;
    int64_t t0 = clock_mono_ms();
    char *tpath, *sig, *why = NULL;
    size_t i;

    if (report_out != NULL)
        *report_out = NULL;
    if (json_array_size(shots) == 0) {
        *cause = xstrdup("the storyboard has no shots");
        return -1;
    }
    if (paths_mkdir_p(dir, 0755, cause) == -1)
        return -1;
    r.dir = realpath(dir, NULL);
    if (r.dir == NULL) {
        *cause = xasprintf("cannot find %s: %s", dir, strerror(errno));
        return -1;
    }
    json_object_set_new(sb, "pictures_dir", json_string(r.dir));
    sig = signature(e->story_id, sb);
    if ((report = take_back(&r, sb, sig)) != NULL) {
        json_t *rep = json_deep_copy(json_object_get(report, "report"));

        json_object_set_new(rep, "reused", json_true());
        json_decref(report);
        free(sig);
        free(r.dir);
        if (report_out != NULL)
            *report_out = rep;
        else
            json_decref(rep);
        return 0;
    }
    r.deadline = t0 + (int64_t)r.c->visual_timeout_s * 1000;
    r.rejected = json_array();
    video_template_default(&r.t);
    tpath = video_template_path(r.c);
    if (tpath != NULL && video_template_load(&r.t, tpath, &why) == -1) {
        log_warn("visual: %s; the built-in template draws the charts", why);
        free(why);
        why = NULL;
        video_template_default(&r.t);
    }
    free(tpath);
    if (r.c->video_ffmpeg[0] != '\0' && strcmp(r.c->video_ffmpeg, "none") != 0)
        r.ffmpeg = paths_which(r.c->video_ffmpeg);
    image_limits_from_config(&r.lim, r.c);
    /* The chain in its order, and what each provider can do with this configuration. */
    chain = json_array();
    avail = json_object();
    for (size_t l = 0; l < NLINKS; l++) {
        const char *list = *(char *const *)(const void *)((const char *)r.c + links[l].offset);
        size_t from = o.n;
        json_t *names = json_array();

        o.link = links[l].name;
        each_name(list != NULL ? list : "", add_entry, &o);
        for (size_t k = from; k < o.n; k++) {
            struct entry *en = &o.v[k];

            json_array_append_new(names, json_string(en->impl->name));
            en->off = r.ffmpeg == NULL                ? xasprintf("%s not found", r.c->video_ffmpeg)
                      : en->impl->unavailable != NULL ? en->impl->unavailable(&r)
                                                      : NULL;
            if (en->off == NULL && en->impl->network) {
                char where[BREAKER_NAME_MAX];

                snprintf(where, sizeof where, "%s@%s", en->impl->name, en->impl->base_url(r.c));
                en->breaker = breaker_for("visual", where);
            }
            json_object_set_new(avail, en->impl->name,
                                json_string(en->off != NULL ? en->off : "ready"));
        }
        json_array_append_new(chain,
                              json_pack("{s:s, s:o}", "link", links[l].name, "providers", names));
    }
    json_array_append_new(chain, json_pack("{s:s, s:[s]}", "link", "text", "providers", "text"));
    pictures = json_array();
    sources = json_object();
    for (i = 0; i < json_array_size(shots); i++) {
        struct visual_shot s;
        json_t *pic;
        const char *src;

        shot_view(sb, i, &s);
        pic = choose_one(&r, &o, &s);
        src = json_string_value(json_object_get(pic, "source"));
        json_object_set_new(sources, src,
                            json_integer(json_integer_value(json_object_get(sources, src)) + 1));
        json_object_set(json_array_get(shots, i), "picture", pic);
        json_array_append_new(pictures, pic);
    }
    report =
        json_pack("{s:o, s:o, s:i, s:o, s:O, s:f, s:I}", "chain", chain, "providers", avail,
                  "shots", (int)json_array_size(shots), "sources", sources, "rejected", r.rejected,
                  "cost_usd", r.cost_usd, "ms", (json_int_t)(clock_mono_ms() - t0));
    /* Saved, so a rerun for this storyboard (the render failed, the story came back) pays for
     * nothing twice. */
    {
        json_t *saved =
            json_pack("{s:s, s:O, s:O}", "signature", sig, "pictures", pictures, "report", report);
        char *path = visual_path(&r, "visuals.json");

        if (json_dump_file(saved, path, JSON_COMPACT) == -1)
            log_warn("visual: cannot save %s", path);
        free(path);
        json_decref(saved);
    }
    json_decref(pictures);
    for (size_t k = 0; k < o.n; k++)
        free(o.v[k].off);
    free(o.v);
    free(sig);
    run_clear(&r);
    if (report_out != NULL)
        *report_out = report;
    else
        json_decref(report);
    return 0;
}
