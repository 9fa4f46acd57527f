/*
 * room_detail.c - a story's detail, built around the decision a producer makes: the first
 * section holds what the decision needs (title, source and URL, priority, length, cost, the QA
 * verdict and score, the video's status with its path, storyboard only and why, or failed and
 * why, each shot's picture and its credit, the preview address and its ssh line); then the
 * script as it will be read, the captions, the original wire copy, the debate with its votes
 * and the revisions, and the history. The frames of a rendered video (the thumbnail and one frame from the middle of each
 * shot, labelled with what the shot shows) are extracted by ffmpeg here, on the worker, and
 * handed over on their own.
 *
 * Every line is made display-safe here, where it enters the room.
 *
 * Threads: the command worker's (its own link); results are handed to the UI by the worker.
 */
#include "room/room_int.h"

#include "agents/review.h"
#include "agents/script.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "core/text.h"
#include "cost/money.h"
#include "cost/usage.h"
#include "media/preview.h"
#include "media/store.h"
#include "media/proc.h"
#include "media/video.h"
#include "recovery/deadset.h"
#include "store/rlink.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HISTORY_PAGE        1000
#define HISTORY_SCAN        20000 /* events looked at, newest first, for one story's history */
#define FRAME_W             160   /* pixels of an extracted frame (16:9) */
#define FRAME_H             90
#define SHEET_MAX           12    /* frames on a contact sheet */
#define FRAMES_BUDGET_MS    15000 /* for every ffmpeg run of one story together */
#define SRT_READ_MAX        (256 * 1024)
#define FAILED_ERRORS_SHOWN 3 /* a FAILED story's last errors on its first screen */

const char *const room_section_names[ROOM_SEC_COUNT] = {
    [ROOM_SEC_DECISION] = "Decision",
    [ROOM_SEC_SCRIPT] = "Script",
    [ROOM_SEC_CAPTIONS] = "Captions",
    [ROOM_SEC_WIRE] = "Wire copy",
    [ROOM_SEC_DEBATE] = "Debate, votes and revisions",
    [ROOM_SEC_HISTORY] = "History",
};

/* ---- text buffers ---- */

struct buf {
    char *s;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s)
{
    size_t n = strlen(s);

    if (b->len + n + 2 > b->cap) {
        b->cap = (b->len + n + 2) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len++] = '\n';
    b->s[b->len] = '\0';
}

/* The text without its last '\n' (a new string; "" when empty), and the buffer emptied. */
static char *buf_take(struct buf *b)
{
    char *s;

    if (b->s == NULL)
        return xstrdup("");
    if (b->len > 0 && b->s[b->len - 1] == '\n')
        b->s[--b->len] = '\0';
    s = b->s;
    memset(b, 0, sizeof *b);
    return s;
}

/* One line, formatted then made safe as a whole. */
static void line(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char raw[2048], *safe;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    safe = text_safe(raw, 0);
    buf_add(b, safe);
    free(safe);
}

/* A text of many lines, each made safe (a '\r' before a '\n' dropped). */
static void lines(struct buf *b, const char *text)
{
    const char *p = text;

    while (*p != '\0') {
        size_t n = strcspn(p, "\n");
        char *one = xmalloc(n + 1), *safe;

        memcpy(one, p, n);
        one[n] = '\0';
        if (n > 0 && one[n - 1] == '\r')
            one[n - 1] = '\0';
        safe = text_safe(one, 0);
        buf_add(b, safe);
        free(safe);
        free(one);
        p += n;
        if (*p == '\n')
            p++;
    }
}

static void render_line(void *arg, const char *l)
{
    buf_add(arg, l);
}

static const char *str_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- the decision section ---- */

/* What a shot's picture is, for people: the chain's label ("feed image", "chart", "stock
 * photo", "illustration", "presenter", "clip", "text slide"). */
static const char *picture_label(const json_t *sh)
{
    const json_t *pic = json_object_get(sh, "picture");
    const char *label = str_of(pic, "label");

    return label != NULL ? label : pic != NULL ? "text slide" : NULL;
}

/* The package's pictures: how many shots of each kind, then each shot that shows one with what
 * it is and its credit. Nothing for a package made before pictures. */
static void pictures_lines(struct buf *b, const json_t *pkg)
{
    const json_t *shots = json_object_get(pkg, "shots"), *sh;
    const json_t *vis = json_object_get(pkg, "visuals");
    char summary[512] = "";
    const char *seen[16];
    int counts[16], nseen = 0;
    size_t i;

    json_array_foreach(shots, i, sh)
    {
        const char *label = picture_label(sh);
        int k;

        if (label == NULL)
            continue;
        for (k = 0; k < nseen && strcmp(seen[k], label) != 0; k++)
            ;
        if (k == nseen && nseen < 16) {
            seen[nseen] = label;
            counts[nseen++] = 0;
        }
        if (k < 16)
            counts[k]++;
    }
    if (nseen == 0)
        return;
    for (int k = 0; k < nseen; k++)
        snprintf(summary + strlen(summary), sizeof summary - strlen(summary), "%s%s %d",
                 k > 0 ? ", " : "", seen[k], counts[k]);
    line(b, "pictures  %s%s", summary,
         json_is_number(json_object_get(vis, "cost_usd")) &&
                 json_number_value(json_object_get(vis, "cost_usd")) > 0
             ? " (paid services used)"
             : "");
    json_array_foreach(shots, i, sh)
    {
        const json_t *pic = json_object_get(sh, "picture");
        const char *label = picture_label(sh), *credit = str_of(pic, "credit");
        double at = (double)json_integer_value(json_object_get(sh, "start_ms")) / 1000;

        if (label == NULL ||
            strcmp(str_of(pic, "source") != NULL ? str_of(pic, "source") : "", "text") == 0)
            continue;
        line(b, "  shot %zu %d:%02d %-12s %s", i + 1, (int)at / 60, (int)at % 60, label,
             credit != NULL ? credit : "");
    }
}

/* The video's status, one line: rendered with its path, storyboard only and why, failed and
 * why, or not made yet. */
static void video_status(struct buf *b, const struct bb_item *it, const json_t *pkg)
{
    const char *kind = str_of(pkg, "kind"), *why = str_of(pkg, "video");

    if (kind != NULL && strcmp(kind, "video") == 0) {
        const char *mp4 = str_of(pkg, "mp4");
        struct stat st;

        if (mp4 != NULL && stat(mp4, &st) == 0)
            line(b, "video     rendered: %s (%.1f MB)", mp4, (double)st.st_size / 1e6);
        else
            line(b, "video     rendered, but its file is not on this machine: %s",
                 mp4 != NULL ? mp4 : "-");
    } else if (json_is_object(pkg)) {
        line(b, "video     storyboard only: %s", why != NULL ? why : "no video was rendered");
    } else if (it->status == BB_FAILED) {
        line(b, "video     failed: %s", it->fail_reason[0] ? it->fail_reason : "no reason kept");
    } else {
        line(b, "video     not produced yet (%s)",
             it->status >= 0 ? bb_statuses[it->status].name : "?");
    }
}

static void qa_line(struct buf *b, const json_t *qa)
{
    const json_t *last = json_is_array(qa) && json_array_size(qa) > 0
                             ? json_array_get(qa, json_array_size(qa) - 1)
                             : NULL;

    if (last == NULL) {
        line(b, "QA        no verdict yet");
        return;
    }
    if (json_is_integer(json_object_get(last, "round")))
        line(b, "QA        %s, score %.1f of 10 (round %lld; %zu verdict%s)",
             json_is_true(json_object_get(last, "passed")) ? "passed" : "below the bar",
             json_number_value(json_object_get(last, "score")),
             (long long)json_integer_value(json_object_get(last, "round")), json_array_size(qa),
             json_array_size(qa) == 1 ? "" : "s");
    else
        line(b, "QA        %s, score %.1f of 10 (%zu verdict%s)",
             json_is_true(json_object_get(last, "passed")) ? "passed" : "below the bar",
             json_number_value(json_object_get(last, "score")), json_array_size(qa),
             json_array_size(qa) == 1 ? "" : "s");
}

/* A FAILED story: the step that failed, what u and U do, and its last errors (the whole
 * history is in the debate section). */
static void failed_lines(struct buf *b, const struct bb_item *it, const struct room_detail *d)
{
    const json_t *errors = json_object_get(it->body, "errors");
    size_t n = json_array_size(errors), shown = 0;

    line(b,
         "status    FAILED at step %s after %d attempt%s: u requeues it there, U at another "
         "step",
         d->failed_step, it->attempts, it->attempts == 1 ? "" : "s");
    for (size_t i = n; i-- > 0 && shown < FAILED_ERRORS_SHOWN;) {
        const json_t *e = json_array_get(errors, i);
        const char *step = str_of(e, "step"), *err = str_of(e, "error");
        char when[32];

        if (json_is_true(json_object_get(e, "requeue")))
            continue;
        text_utc((int64_t)json_integer_value(json_object_get(e, "t")), when, sizeof when);
        line(b, "%s %s at %s by %s: %s", shown == 0 ? "errors   " : "         ", when,
             step != NULL ? step : "?", str_of(e, "agent") ? str_of(e, "agent") : "?",
             err != NULL ? err : "?");
        shown++;
    }
    if (n > shown)
        line(b, "          (every attempt and requeue: section 5)");
}

static void render_decision(struct buf *b, struct rlink *l, const struct bb_item *it,
                            const struct room_detail *d)
{
    const json_t *body = it->body, *pkg = json_object_get(body, "package");
    const json_t *prio = json_object_get(body, "priority");
    const char *title = str_of(body, "title"), *source = str_of(body, "source");
    const char *url = str_of(body, "url"),
               *script = str_of(json_object_get(body, "script"), "final");
    char dur[32], cost[MONEY_BUF], when[32], pr[32], *cause = NULL;
    long long spent = 0;
    redisReply *r;

    line(b, "title     %s", title != NULL ? title : "-");
    line(b, "source    %s  %s", source != NULL ? source : "-", url != NULL ? url : "(no URL)");
    r = rlink_command(l, &cause, "HGET %stask:%s spent:t", COST_PREFIX, it->id);
    if (r != NULL && r->type == REDIS_REPLY_STRING)
        spent = strtoll(r->str, NULL, 10);
    if (r != NULL)
        freeReplyObject(r);
    free(cause);
    if (json_is_number(pkg != NULL ? json_object_get(pkg, "duration_s") : NULL)) {
        double s = json_number_value(json_object_get(pkg, "duration_s"));

        snprintf(dur, sizeof dur, "%d:%02d", (int)s / 60, (int)s % 60);
    } else {
        snprintf(dur, sizeof dur, "-");
    }
    if (json_is_number(prio))
        snprintf(pr, sizeof pr, "%g", json_number_value(prio));
    else
        snprintf(pr, sizeof pr, "none (counts as 0)");
    line(b, "priority  %s   length %s   cost $%s   script %d words", pr, dur,
         money_format(spent, cost, sizeof cost), script != NULL ? script_words(script) : 0);
    qa_line(b, json_object_get(body, "qa"));
    video_status(b, it, pkg);
    pictures_lines(b, pkg);
    if (d->preview_url[0] != '\0') {
        /* The ssh line and the URL on lines of their own, whole at 80 columns. */
        line(b, "preview   from your machine, first the tunnel, then the URL (y copies it):");
        line(b, "%s", d->preview_ssh);
        line(b, "%s", d->preview_url);
    }
    if (it->status == BB_REVIEWING)
        line(b, "status    awaiting your decision since %s",
             text_utc(it->updated_ms, when, sizeof when));
    else if (it->status == BB_FAILED)
        failed_lines(b, it, d);
    else if (it->decided_by[0] != '\0')
        line(b, "status    %s, decided by %s at %s", bb_statuses[it->status].name, it->decided_by,
             text_utc(it->decided_ms, when, sizeof when));
    else
        line(b, "status    %s in %s", it->status >= 0 ? bb_statuses[it->status].name : "?",
             it->section >= 0 ? bb_section_names[it->section] : "?");
}

/* The captions: the package's, else its SRT file (bounded). */
static void render_captions(struct buf *b, const json_t *pkg)
{
    const char *srt = str_of(pkg, "captions_srt"), *path = str_of(pkg, "srt");
    FILE *f;

    if (srt != NULL) {
        lines(b, srt);
        return;
    }
    if (path != NULL && (f = fopen(path, "r")) != NULL) {
        char *text = xmalloc(SRT_READ_MAX + 1);
        size_t n = fread(text, 1, SRT_READ_MAX, f);

        text[n] = '\0';
        fclose(f);
        lines(b, text);
        free(text);
    }
}

static void render_wire(struct buf *b, const json_t *body)
{
    const char *content = str_of(body, "content"), *pub = str_of(body, "published");
    const json_t *topics = json_object_get(body, "topics"), *t;
    char list[512] = "";
    size_t i, len = 0;

    json_array_foreach(topics, i, t)
    {
        if (json_is_string(t) && len < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                                    json_string_value(t));
    }
    line(b, "from %s, published %s%s%s", str_of(body, "source") ? str_of(body, "source") : "-",
         pub != NULL ? pub : "-", len ? "; topics: " : "", list);
    buf_add(b, "");
    if (content != NULL)
        lines(b, content);
}

static void render_state(struct buf *b, const struct bb_item *it)
{
    const char *st = it->status >= 0 ? bb_statuses[it->status].name : "?";
    const char *sec = it->section >= 0 ? bb_section_names[it->section] : "?";
    char created[32], updated[32], decided[32];
    struct buf dec = {0};

    review_render(it->body, render_line, &dec);
    if (dec.len > 0) {
        char *s = buf_take(&dec);

        buf_add(b, s);
        free(s);
    }
    free(dec.s);
    text_utc(it->created_ms, created, sizeof created);
    text_utc(it->updated_ms, updated, sizeof updated);
    line(b, "id        %s", it->id);
    line(b, "status    %s in %s (version %lld)", st, sec, it->version);
    line(b, "created   %s", created);
    line(b, "updated   %s by %s", updated, it->by[0] ? it->by : "-");
    line(b, "owner     %s", it->owner[0] ? it->owner : "-");
    line(b, "attempts  %d", it->attempts);
    if (it->decided_by[0] != '\0')
        line(b, "decided   by %s at %s", it->decided_by,
             text_utc(it->decided_ms, decided, sizeof decided));
    if (it->reason[0] != '\0')
        line(b, "reason    %s", it->reason);
    if (it->fail_reason[0] != '\0')
        line(b, "failure   %s", it->fail_reason);
    if (it->archive_reason[0] != '\0')
        line(b, "archived  %s", it->archive_reason);
}

/* The story's events, oldest first, from a bounded scan of the stream backwards (stopping at
 * the story's creation). Returns 0, or -1 with *cause. */
static int render_history(struct buf *b, struct rlink *l, const struct bb_item *it, char **cause)
{
    struct bb_event *found = NULL;
    size_t nfound = 0, capf = 0, scanned = 0;
    char before[40] = "+", count[16];
    bool done = false;

    snprintf(count, sizeof count, "%d", HISTORY_PAGE);
    while (!done && scanned < HISTORY_SCAN) {
        redisReply *r =
            rlink_command(l, cause, "XREVRANGE %sevents %s - COUNT %s", BB_PREFIX, before, count);

        if (r == NULL) {
            free(found);
            return -1;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
            done = true;
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
            const redisReply *e = r->element[i], *h = e->element[1];
            struct bb_event ev;

            scanned++;
            snprintf(before, sizeof before, "(%s", e->element[0]->str);
            memset(&ev, 0, sizeof ev);
            ev.t_ms = strtoll(rlink_reply_field(h, "t"), NULL, 10);
            if (ev.t_ms > 0 && ev.t_ms < it->created_ms) {
                done = true;
                break;
            }
            if (strcmp(rlink_reply_field(h, "id"), it->id) != 0)
                continue;
            snprintf(ev.sid, sizeof ev.sid, "%s", e->element[0]->str);
            snprintf(ev.kind, sizeof ev.kind, "%s", rlink_reply_field(h, "k"));
            snprintf(ev.id, sizeof ev.id, "%s", it->id);
            snprintf(ev.from, sizeof ev.from, "%s", rlink_reply_field(h, "from"));
            snprintf(ev.to, sizeof ev.to, "%s", rlink_reply_field(h, "to"));
            snprintf(ev.section, sizeof ev.section, "%s", rlink_reply_field(h, "sec"));
            snprintf(ev.by, sizeof ev.by, "%s", rlink_reply_field(h, "by"));
            snprintf(ev.why, sizeof ev.why, "%s", rlink_reply_field(h, "why"));
            if (nfound == capf) {
                capf = capf ? capf * 2 : 16;
                found = xrealloc(found, capf * sizeof *found);
            }
            found[nfound++] = ev;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements < HISTORY_PAGE)
            done = true;
        freeReplyObject(r);
    }
    for (size_t i = nfound; i-- > 0;) {
        char when[32], text[ROOM_TEXT_MAX * 2];

        room_bb_line(&found[i], text, sizeof text);
        line(b, "%s  %s", text_utc(found[i].t_ms, when, sizeof when), text);
    }
    if (!done)
        line(b, "(older events not shown: %zu scanned)", scanned);
    free(found);
    return 0;
}

/* The preview address of a rendered package, when the preview is on. */
static void preview_of(struct rlink *l, const struct config *cfg, const struct bb_item *it,
                       const json_t *pkg, struct room_detail *d)
{
    const char *kind = str_of(pkg, "kind");
    char token[PREVIEW_TOKEN_LEN + 1], *cause = NULL, *at;
    json_t *where;
    int rc;

    if (cfg == NULL || cfg->preview_port <= 0 || kind == NULL || strcmp(kind, "video") != 0 ||
        (where = pstore_where_of(pkg)) == NULL)
        return;
    /* A local package by its folder; one in the S3 store by its "where", which the preview
     * server fetches through the store. */
    at = pstore_where_is_s3(where)
             ? json_dumps(where, JSON_COMPACT | JSON_SORT_KEYS)
             : xstrdup(str_of(where, "folder") ? str_of(where, "folder") : "");
    json_decref(where);
    if (at == NULL)
        fail("cannot encode a package's place");
    rc = preview_token(l, it->id, at, cfg->preview_token_ttl_s, token, &cause);
    free(at);
    if (rc == -1) {
        free(cause);
        return;
    }
    preview_url(cfg->preview_port, token, "video.mp4", d->preview_url, sizeof d->preview_url);
    preview_ssh_line(cfg->preview_port, d->preview_ssh, sizeof d->preview_ssh);
}

struct room_detail *room_detail_fetch(struct bb *b, struct rlink *l, const struct config *cfg,
                                      const char *id, bool want_frames, json_t **pkg_out)
{
    struct room_detail *d = xcalloc(1, sizeof *d);
    struct bb_item *it = NULL;
    struct buf sec[ROOM_SEC_COUNT];
    char *cause = NULL;
    int rc;

    memset(sec, 0, sizeof sec);
    if (pkg_out != NULL)
        *pkg_out = NULL;
    room_copy_safe(d->id, sizeof d->id, id);
    rc = bb_read(b, id, &it, &cause);
    if (rc == BB_NONE) {
        d->error = xasprintf("no story %s", d->id);
    } else if (rc != BB_OK) {
        d->error = text_safe(cause, 0);
    } else {
        const json_t *pkg = json_object_get(it->body, "package");
        const char *kind = str_of(pkg, "kind");

        d->found = true;
        d->reviewing = it->status == BB_REVIEWING;
        if (it->status == BB_FAILED) {
            room_copy_safe(d->failed_step, sizeof d->failed_step, deadset_resume_step(it));
            room_copy_safe(d->fail_reason, sizeof d->fail_reason, it->fail_reason);
            d->attempts = it->attempts;
        }
        room_copy_safe(d->title, sizeof d->title,
                       str_of(it->body, "title") ? str_of(it->body, "title") : id);
        preview_of(l, cfg, it, pkg, d);
        render_decision(&sec[ROOM_SEC_DECISION], l, it, d);
        if (str_of(json_object_get(it->body, "script"), "final") != NULL)
            lines(&sec[ROOM_SEC_SCRIPT], str_of(json_object_get(it->body, "script"), "final"));
        render_captions(&sec[ROOM_SEC_CAPTIONS], pkg);
        render_wire(&sec[ROOM_SEC_WIRE], it->body);
        render_state(&sec[ROOM_SEC_DEBATE], it);
        free(cause);
        cause = NULL;
        if (render_history(&sec[ROOM_SEC_HISTORY], l, it, &cause) == -1)
            d->error = text_safe(cause, 0);
        if (want_frames && kind != NULL && strcmp(kind, "video") == 0 && pkg_out != NULL) {
            *pkg_out = json_deep_copy(pkg);
            d->frames_coming = true;
        }
    }
    free(cause);
    bb_item_free(it);
    for (int i = 0; i < ROOM_SEC_COUNT; i++)
        d->section[i] = buf_take(&sec[i]);
    return d;
}

/* ---- frames ---- */

/* One frame of src at at_s (a still picture: at_s < 0) as FRAME_W x FRAME_H RGB into p, with
 * ffmpeg in dir. Returns 0, or -1 with *cause. */
static int extract(const char *ffmpeg, const char *dir, const char *src, double at_s,
                   int64_t deadline, struct room_picture *p, char **cause)
{
    char at[32], scale[64], *out = xasprintf("%s/frame.rgb", dir);
    const char *argv[20];
    size_t want = (size_t)FRAME_W * FRAME_H * 3;
    int argc = 0, rc = -1;
    FILE *f;

    snprintf(at, sizeof at, "%.3f", at_s);
    snprintf(scale, sizeof scale, "scale=%d:%d", FRAME_W, FRAME_H);
    argv[argc++] = ffmpeg;
    argv[argc++] = "-nostdin";
    argv[argc++] = "-loglevel";
    argv[argc++] = "error";
    argv[argc++] = "-y";
    if (at_s >= 0) {
        argv[argc++] = "-ss";
        argv[argc++] = at;
    }
    argv[argc++] = "-i";
    argv[argc++] = src;
    argv[argc++] = "-frames:v";
    argv[argc++] = "1";
    argv[argc++] = "-vf";
    argv[argc++] = scale;
    argv[argc++] = "-f";
    argv[argc++] = "rawvideo";
    argv[argc++] = "-pix_fmt";
    argv[argc++] = "rgb24";
    argv[argc++] = out;
    argv[argc] = NULL;
    unlink(out);
    if (proc_run(argv, dir, deadline, NULL, cause) == -1)
        goto done;
    if ((f = fopen(out, "rb")) == NULL) {
        *cause = xasprintf("ffmpeg wrote no frame: %s", strerror(errno));
        goto done;
    }
    p->rgb = xmalloc(want);
    if (fread(p->rgb, 1, want, f) != want) {
        free(p->rgb);
        p->rgb = NULL;
        *cause = xstrdup("ffmpeg wrote a short frame");
    } else {
        p->w = FRAME_W;
        p->h = FRAME_H;
        p->at_s = at_s < 0 ? 0 : at_s;
        rc = 0;
    }
    fclose(f);
done:
    free(out);
    return rc;
}

/* The package's video and thumbnail as local files: their paths for a package on this
 * machine, copies fetched into dir for one in the S3 store. *mp4 and *thumb are new strings or
 * NULL; a note says what could not be had. */
static void local_files(const struct config *cfg, const json_t *pkg, const char *dir, char **mp4,
                        char **thumb, char *note, size_t size)
{
    json_t *where = pstore_where_of(pkg);
    struct pstore *s;
    char *cause = NULL;

    *mp4 = *thumb = NULL;
    if (where == NULL || !pstore_where_is_s3(where)) {
        json_decref(where);
        *mp4 = str_of(pkg, "mp4") != NULL ? xstrdup(str_of(pkg, "mp4")) : NULL;
        *thumb = str_of(pkg, "thumbnail") != NULL ? xstrdup(str_of(pkg, "thumbnail")) : NULL;
        return;
    }
    if ((s = pstore_open(cfg, &cause)) == NULL ||
        pstore_localize(s, where, "video.mp4", dir, mp4, &cause) == -1 ||
        pstore_localize(s, where, "thumbnail.png", dir, thumb, &cause) == -1)
        snprintf(note, size, "no frames: the package store: %s", cause);
    free(cause);
    pstore_free(s);
    json_decref(where);
}

struct room_frames *room_frames_fetch(const struct config *cfg, const char *id, const json_t *pkg)
{
    struct room_frames *f = xcalloc(1, sizeof *f);
    char *mp4 = NULL, *thumb = NULL;
    const json_t *shots = json_object_get(pkg, "shots"), *sh;
    char *ffmpeg = NULL, *cause = NULL, dir[] = "/tmp/nr-frames-XXXXXX";
    int64_t deadline = clock_mono_ms() + FRAMES_BUDGET_MS;
    size_t i, n;

    room_copy_safe(f->id, sizeof f->id, id);
    /* [video] ffmpeg, or ffmpeg on PATH when rendering is off there: a control room watching a
     * swarm elsewhere still shows the frames of its packages. */
    if (cfg != NULL && cfg->video_ffmpeg != NULL && cfg->video_ffmpeg[0] != '\0' &&
        strcmp(cfg->video_ffmpeg, "none") != 0)
        ffmpeg = paths_which(cfg->video_ffmpeg);
    if (ffmpeg == NULL)
        ffmpeg = paths_which("ffmpeg");
    if (ffmpeg == NULL) {
        room_copy_safe(f->note, sizeof f->note, "no frames: ffmpeg is not available here");
        return f;
    }
    if (mkdtemp(dir) == NULL) {
        room_copy_safe(f->note, sizeof f->note, "no frames: cannot make a temporary folder");
        free(ffmpeg);
        return f;
    }
    {
        char note[ROOM_TEXT_MAX] = "";

        local_files(cfg, pkg, dir, &mp4, &thumb, note, sizeof note);
        if (note[0] != '\0')
            room_copy_safe(f->note, sizeof f->note, note);
    }
    if (thumb != NULL && extract(ffmpeg, dir, thumb, -1, deadline, &f->thumb, &cause) == -1) {
        char note[ROOM_TEXT_MAX];

        snprintf(note, sizeof note, "no thumbnail: %s", cause);
        room_copy_safe(f->note, sizeof f->note, note);
        free(cause);
        cause = NULL;
    }
    n = json_array_size(shots);
    if (n > SHEET_MAX)
        n = SHEET_MAX;
    f->sheet = xcalloc(n + 1, sizeof *f->sheet);
    json_array_foreach(shots, i, sh)
    {
        double a = (double)json_integer_value(json_object_get(sh, "start_ms")) / 1000.0;
        double z = (double)json_integer_value(json_object_get(sh, "end_ms")) / 1000.0;

        if (i >= n || mp4 == NULL)
            break;
        if (extract(ffmpeg, dir, mp4, (a + (z > a ? z : a)) / 2, deadline, &f->sheet[f->nsheet],
                    &cause) == -1) {
            char note[ROOM_TEXT_MAX];

            snprintf(note, sizeof note, "contact sheet cut short at shot %zu: %s", i + 1, cause);
            room_copy_safe(f->note, sizeof f->note, note);
            free(cause);
            cause = NULL;
            break;
        }
        {
            const char *label = picture_label(sh);

            if (label != NULL)
                room_copy_safe(f->sheet[f->nsheet].label, sizeof f->sheet[f->nsheet].label, label);
        }
        f->nsheet++;
    }
    paths_rmrf(dir);
    free(ffmpeg);
    free(mp4);
    free(thumb);
    return f;
}
