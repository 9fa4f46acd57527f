/*
 * room_worker.c - the room's command worker: it pops operator commands (struct room_cmd)
 * from the command ring, carries each out with the engine calls `newsroom ctl` uses
 * (review_decide() for approve / reject / revise, control_emergency(), control_resume(),
 * budget_grant(), budget_decline()), every one audited by the engine as the current user
 * (audit_whoami(): user and SSH client address), and pushes a ROOM_EV_RESULT with ok and one
 * line of text. ROOM_CMD_DETAIL fetches a story and renders it (room_detail_fetch()) for the
 * detail hand-over.
 *
 * Threads: the worker thread alone, with its own link; it shares only what room_int.h names.
 */
#include "room/room_int.h"

#include "agents/review.h"
#include "core/clock.h"
#include "core/fail.h"
#include "core/ring.h"
#include "core/text.h"
#include "cost/budget.h"
#include "cost/money.h"
#include "recovery/deadset.h"
#include "store/audit.h"
#include "store/control.h"
#include "store/rlink.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HISTORY_PAGE 1000
#define HISTORY_SCAN 20000 /* events looked at, newest first, for one story's history */

struct worker {
    struct room *r;
    struct rlink *l;
    struct bb *bb;
};

/* ---- text buffers for the detail ---- */

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

/* A text of many lines, each made safe and indented. */
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
        free(one);
        one = xasprintf("  %s", safe);
        buf_add(b, one);
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

static void render_item(struct buf *b, const struct bb_item *it)
{
    const char *title = str_of(it->body, "title"), *source = str_of(it->body, "source");
    const char *script = str_of(json_object_get(it->body, "script"), "final");
    const char *captions = str_of(json_object_get(it->body, "package"), "captions_srt");
    const char *st = it->status >= 0 ? bb_statuses[it->status].name : "?";
    const char *sec = it->section >= 0 ? bb_section_names[it->section] : "?";
    char created[32], updated[32], decided[32];
    struct buf dec = {0};

    text_utc(it->created_ms, created, sizeof created);
    text_utc(it->updated_ms, updated, sizeof updated);
    line(b, "id        %s", it->id);
    line(b, "title     %s", title != NULL ? title : "-");
    if (source != NULL)
        line(b, "source    %s", source);
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
    review_render(it->body, render_line, &dec);
    if (dec.len > 0) {
        buf_add(b, "decisions");
        dec.s[--dec.len] = '\0'; /* its last '\n' */
        buf_add(b, dec.s);
    }
    free(dec.s);
    if (script != NULL) {
        buf_add(b, "script");
        lines(b, script);
    }
    if (captions != NULL) {
        buf_add(b, "captions");
        lines(b, captions);
    }
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

struct room_detail *room_detail_fetch(struct bb *b, struct rlink *l, const char *id)
{
    struct room_detail *d = xcalloc(1, sizeof *d);
    struct bb_item *it = NULL;
    struct buf text = {0}, hist = {0};
    char *cause = NULL;
    int rc;

    room_copy_safe(d->id, sizeof d->id, id);
    rc = bb_read(b, id, &it, &cause);
    if (rc == BB_NONE) {
        d->error = xasprintf("no story %s", d->id);
    } else if (rc != BB_OK) {
        d->error = text_safe(cause, 0);
    } else {
        d->found = true;
        render_item(&text, it);
        if (render_history(&hist, l, it, &cause) == -1) {
            d->error = text_safe(cause, 0);
            free(hist.s);
            hist.s = NULL;
        }
    }
    free(cause);
    bb_item_free(it);
    d->text = text.s != NULL ? text.s : xstrdup("");
    d->history = hist.s != NULL ? hist.s : xstrdup("");
    return d;
}

/* ---- the commands, one function each; each fills a one-line result and returns ok ---- */

static bool cmd_decide(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    static const struct {
        enum review_decision d;
        const char *done;
    } kinds[] = {
        [ROOM_CMD_APPROVE] = {REVIEW_APPROVE, "approved"},
        [ROOM_CMD_REJECT] = {REVIEW_REJECT, "rejected"},
        [ROOM_CMD_REVISE] = {REVIEW_REVISE, "sent back for revision"},
    };
    enum review_decision d = kinds[c->kind].d;
    const char *verb = review_decision_name(d);
    char *cause = NULL;
    int rc;

    /* Checked before anything is sent: an empty reason never touches Redis. */
    if (review_check(d, c->text, &cause) == -1) {
        snprintf(out, size, "%s", cause);
        free(cause);
        return false;
    }
    if (c->id[0] == '\0') {
        snprintf(out, size, "%s needs a story", verb);
        return false;
    }
    rc = review_decide(w->bb, c->id, d, d == REVIEW_APPROVE && c->text[0] == '\0' ? NULL : c->text,
                       &cause);
    if (rc == BB_OK) {
        snprintf(out, size, "%s %s", kinds[c->kind].done, c->id);
    } else if (rc == BB_NONE) {
        snprintf(out, size, "%s %s: no such story", verb, c->id);
    } else {
        struct bb_item *it = NULL;
        char *why = NULL, said[512];

        if (rc == BB_REFUSED && bb_read(w->bb, c->id, &it, &why) == BB_OK &&
            review_decided(it, said, sizeof said))
            snprintf(out, size, "%s %s: %s", verb, c->id, said);
        else
            snprintf(out, size, "%s %s refused: %s", verb, c->id, cause);
        bb_item_free(it);
        free(why);
    }
    free(cause);
    return rc == BB_OK;
}

static bool cmd_emergency(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    bool halt = c->kind == ROOM_CMD_HALT || c->halt;
    struct control_halt before = {0};
    long long receivers = 0;
    char *cause = NULL, *id = NULL, when[32];

    /* Another operator's halt stays as it is (the script keeps it too): say whose it is. */
    if (halt && control_halt_read(w->l, &before, &cause) == -1) {
        snprintf(out, size, "halt refused: %s", cause);
        free(cause);
        return false;
    }
    if (c->kind == ROOM_CMD_HALT && before.halted) {
        snprintf(out, size, "already halted by %s@%s at %s: %s",
                 before.user != NULL ? before.user : "?", before.from != NULL ? before.from : "?",
                 text_utc(before.time_ms, when, sizeof when),
                 before.message != NULL ? before.message : "");
        control_halt_clear(&before);
        return false;
    }
    if (control_emergency(w->l, c->text, halt, &receivers, &id, &cause) == -1) {
        snprintf(out, size, "emergency refused: %s", cause);
        free(cause);
        control_halt_clear(&before);
        return false;
    }
    if (before.halted)
        snprintf(out, size,
                 "emergency sent to %lld subscriber%s; the swarm was already halted by %s@%s",
                 receivers, receivers == 1 ? "" : "s", before.user != NULL ? before.user : "?",
                 before.from != NULL ? before.from : "?");
    else
        snprintf(out, size, "emergency sent to %lld subscriber%s%s", receivers,
                 receivers == 1 ? "" : "s", halt ? "; the swarm is halted" : "");
    control_halt_clear(&before);
    free(id);
    return true;
}

static bool cmd_resume(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    struct control_halt lifted;
    char *cause = NULL, when[32];

    int rc = control_resume_seen(w->l, c->text[0] != '\0' ? c->text : NULL, c->amount, &lifted,
                                 NULL, &cause);

    if (rc == -1) {
        snprintf(out, size, "resume refused: %s", cause);
        free(cause);
        return false;
    }
    if (rc == 1) {
        snprintf(out, size, "not resumed: halted again by %s@%s at %s since you looked",
                 lifted.user != NULL ? lifted.user : "?", lifted.from != NULL ? lifted.from : "?",
                 text_utc(lifted.time_ms, when, sizeof when));
        control_halt_clear(&lifted);
        return false;
    }
    if (lifted.halted)
        snprintf(out, size, "the swarm resumed (halted by %s@%s at %s)",
                 lifted.user != NULL ? lifted.user : "?", lifted.from != NULL ? lifted.from : "?",
                 text_utc(lifted.time_ms, when, sizeof when));
    else
        snprintf(out, size, "the swarm was not halted; nothing to resume");
    control_halt_clear(&lifted);
    return true;
}

static bool cmd_budget(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    bool grant = c->kind == ROOM_CMD_GRANT;
    int64_t granted = 0;
    char *cause = NULL, money[MONEY_BUF];
    int rc;

    if (c->id[0] == '\0') {
        snprintf(out, size, "%s needs a request", grant ? "grant" : "decline");
        return false;
    }
    rc = grant ? budget_grant(w->l, c->id, c->amount > 0 ? c->amount : -1, &granted, &cause)
               : budget_decline(w->l, c->id, &cause);
    if (rc == -1) {
        snprintf(out, size, "%s %s refused: %s", grant ? "grant" : "decline", c->id, cause);
        free(cause);
        return false;
    }
    if (grant)
        snprintf(out, size, "request %s granted: %s more for its window", c->id,
                 money_format(granted, money, sizeof money));
    else
        snprintf(out, size, "request %s declined", c->id);
    return true;
}

/* The dead set's requeue (recovery/deadset.h), audited as the operator like ctl requeue. */
static bool cmd_requeue(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    const char *at = NULL;
    char *cause = NULL;
    int rc;

    if (c->id[0] == '\0') {
        snprintf(out, size, "requeue needs a story");
        return false;
    }
    rc = deadset_requeue(w->bb, c->id, c->text[0] != '\0' ? c->text : NULL, true, &at, &cause);
    if (rc == BB_OK)
        snprintf(out, size, "requeued %s at step %s", c->id, at);
    else
        snprintf(out, size, "requeue %s refused: %s", c->id, cause != NULL ? cause : "?");
    free(cause);
    return rc == BB_OK;
}

static bool cmd_detail(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    struct room_detail *d = room_detail_fetch(w->bb, w->l, c->id);
    bool found = d->found;

    snprintf(out, size, "%s", d->error != NULL ? d->error : d->id);
    room_put_detail(w->r, d);
    return found;
}

static const struct {
    const char *what;
    bool (*run)(struct worker *, const struct room_cmd *, char *, size_t);
    int event; /* what the result is pushed as */
} commands[] = {
    [ROOM_CMD_APPROVE] = {"approve", cmd_decide, ROOM_EV_RESULT},
    [ROOM_CMD_REJECT] = {"reject", cmd_decide, ROOM_EV_RESULT},
    [ROOM_CMD_REVISE] = {"revise", cmd_decide, ROOM_EV_RESULT},
    [ROOM_CMD_EMERGENCY] = {"emergency", cmd_emergency, ROOM_EV_RESULT},
    [ROOM_CMD_HALT] = {"halt", cmd_emergency, ROOM_EV_RESULT},
    [ROOM_CMD_RESUME] = {"resume", cmd_resume, ROOM_EV_RESULT},
    [ROOM_CMD_GRANT] = {"grant", cmd_budget, ROOM_EV_RESULT},
    [ROOM_CMD_DECLINE] = {"decline", cmd_budget, ROOM_EV_RESULT},
    [ROOM_CMD_DETAIL] = {"detail", cmd_detail, ROOM_EV_DETAIL},
    [ROOM_CMD_REQUEUE] = {"requeue", cmd_requeue, ROOM_EV_RESULT},
};

static void run(struct worker *w, struct room_cmd *c)
{
    char out[ROOM_TEXT_MAX * 4];
    struct audit_who who;
    char by[ROOM_NAME_MAX];
    bool ok;

    c->id[sizeof c->id - 1] = '\0';
    c->text[sizeof c->text - 1] = '\0';
    if (c->kind < 0 || (size_t)c->kind >= sizeof commands / sizeof commands[0] ||
        commands[c->kind].run == NULL) {
        room_push(w->r, ROOM_EV_RESULT, false, c->seq, clock_wall_ms(), "?", c->id, NULL,
                  "unknown command");
        return;
    }
    ok = commands[c->kind].run(w, c, out, sizeof out);
    audit_whoami(&who);
    snprintf(by, sizeof by, "%s@%s", who.user, who.from);
    room_push(w->r, commands[c->kind].event, ok, c->seq, clock_wall_ms(), commands[c->kind].what,
              c->id, by, out);
}

void *room_worker_main(void *arg)
{
    struct room *r = arg;
    struct worker w = {.r = r};
    struct rlink_options lo = r->o.link;
    struct audit_who who;
    char name[64], actor[BB_ACTOR_MAX + 1];
    struct room_cmd c;

    snprintf(name, sizeof name, "nr-room-cmd-%ld", (long)getpid());
    lo.client_name = name;
    w.l = rlink_new(&r->o.addr, &lo);
    /* The operator's changes carry "user@from", as ctl's do. */
    audit_whoami(&who);
    snprintf(actor, sizeof actor, "%s@%s", who.user, who.from);
    w.bb = bb_new(w.l, actor);
    while (atomic_load(&r->stop) == 0) {
        while (atomic_load(&r->stop) == 0 && ring_pop_batch(r->cmds, &c, 1) == 1)
            run(&w, &c);
        ring_wait(r->cmds, room_block_ms(r));
    }
    bb_free(w.bb);
    rlink_free(w.l);
    return NULL;
}
