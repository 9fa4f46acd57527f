/*
 * room_worker.c - the room's command worker: it pops operator commands (struct room_cmd)
 * from the command ring, carries each out with the engine calls `newsroom ctl` uses
 * (review_decide() for approve / reject / revise, control_emergency(), control_resume(),
 * budget_grant(), budget_decline()), every one audited by the engine as the current user
 * (audit_whoami(): user and SSH client address), and pushes a ROOM_EV_RESULT with ok and one
 * line of text. ROOM_CMD_REQUEUE and ROOM_CMD_REQUEUE_ALL put failed stories back
 * (deadset_requeue(), deadset_requeue_all(): each story audited as the operator).
 * ROOM_CMD_DETAIL fetches a story and renders it (room_detail.c) for the detail hand-over, then
 * its video's frames; ROOM_CMD_REVIEW fetches a page of the review queue (room_review.c),
 * ROOM_CMD_FAILED one of the dead set (room_failed.c); ROOM_CMD_DECIDED says who decided a
 * story.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct worker {
    struct room *r;
    struct rlink *l;
    struct bb *bb;
};

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

/* Every FAILED story, each at the step that failed (deadset_requeue_all(): each audited). */
static bool cmd_requeue_all(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    long done = 0, refused = 0;
    char *cause = NULL, told[96] = "";

    if (deadset_requeue_all(w->bb, NULL, &done, &refused, &cause) != BB_OK) {
        snprintf(out, size, "requeue all refused: %s", cause != NULL ? cause : "?");
        free(cause);
        return false;
    }
    /* The dead set changed between the question and the answer: say what was done. */
    if (c->amount > 0 && done + refused != c->amount)
        snprintf(told, sizeof told, " (%lld were failed when you asked)", (long long)c->amount);
    if (done == 0 && refused == 0)
        snprintf(out, size, "no failed story to requeue%s", told);
    else if (refused == 0)
        snprintf(out, size, "requeued %ld failed stor%s, each at the step that failed%s", done,
                 done == 1 ? "y" : "ies", told);
    else
        snprintf(out, size,
                 "requeued %ld failed stor%s; %ld refused (changed meanwhile, or locked)%s", done,
                 done == 1 ? "y" : "ies", refused, told);
    return refused == 0;
}

/* A page of the dead set. */
static bool cmd_failed(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    struct room_failed_page *p =
        room_failed_fetch(w->bb, w->l, c->text, (long)c->amount, ROOM_FAILED_PAGE);
    bool ok = p->error == NULL;

    p->seq = c->seq;
    snprintf(out, size, "%s", p->error != NULL ? p->error : "");
    room_put_failed(w->r, p);
    return ok;
}

/* The detail first, then (for a rendered video) its frames: the text never waits for
 * ffmpeg. */
static bool cmd_detail(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    json_t *pkg = NULL;
    struct room_detail *d =
        room_detail_fetch(w->bb, w->l, w->r->o.cfg, c->id, !c->halt && !w->r->o.no_frames, &pkg);
    bool found = d->found;

    snprintf(out, size, "%s", d->error != NULL ? d->error : d->id);
    room_put_detail(w->r, d);
    room_push(w->r, ROOM_EV_DETAIL, found, c->seq, clock_wall_ms(), "detail", c->id, NULL, out);
    if (pkg != NULL) {
        room_put_frames(w->r, room_frames_fetch(w->r->o.cfg, c->id, pkg));
        json_decref(pkg);
        room_push(w->r, ROOM_EV_FRAMES, true, c->seq, clock_wall_ms(), "frames", c->id, NULL, NULL);
    }
    out[0] = '\0'; /* pushed already */
    return found;
}

/* A page of the review queue. */
static bool cmd_review(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    struct room_review_page *p =
        room_review_fetch(w->l, c->sort, c->text, (long)c->amount, ROOM_REVIEW_PAGE);
    bool ok = p->error == NULL;

    p->seq = c->seq;
    snprintf(out, size, "%s", p->error != NULL ? p->error : "");
    room_put_review(w->r, p);
    return ok;
}

/* Who decided a story, when someone did: the answer a question left open on a story that
 * another operator decided meanwhile gets ("already approved by NAME at TIME"). */
static bool cmd_decided(struct worker *w, const struct room_cmd *c, char *out, size_t size)
{
    struct bb_item *it = NULL;
    char *cause = NULL, said[512];
    bool decided = false;

    if (bb_read(w->bb, c->id, &it, &cause) == BB_OK && review_decided(it, said, sizeof said)) {
        snprintf(out, size, "%s; story %s", said, c->id);
        decided = true;
    } else {
        snprintf(out, size, "%s is no longer awaiting review", c->id);
    }
    bb_item_free(it);
    free(cause);
    return decided;
}

static const struct {
    const char *what;
    bool (*run)(struct worker *, const struct room_cmd *, char *, size_t);
    int event; /* what the result is pushed as; -1: the command pushes its own */
} commands[] = {
    [ROOM_CMD_APPROVE] = {"approve", cmd_decide, ROOM_EV_RESULT},
    [ROOM_CMD_REJECT] = {"reject", cmd_decide, ROOM_EV_RESULT},
    [ROOM_CMD_REVISE] = {"revise", cmd_decide, ROOM_EV_RESULT},
    [ROOM_CMD_EMERGENCY] = {"emergency", cmd_emergency, ROOM_EV_RESULT},
    [ROOM_CMD_HALT] = {"halt", cmd_emergency, ROOM_EV_RESULT},
    [ROOM_CMD_RESUME] = {"resume", cmd_resume, ROOM_EV_RESULT},
    [ROOM_CMD_GRANT] = {"grant", cmd_budget, ROOM_EV_RESULT},
    [ROOM_CMD_DECLINE] = {"decline", cmd_budget, ROOM_EV_RESULT},
    [ROOM_CMD_DETAIL] = {"detail", cmd_detail, -1},
    [ROOM_CMD_REVIEW] = {"review", cmd_review, ROOM_EV_REVIEW},
    [ROOM_CMD_DECIDED] = {"decided", cmd_decided, ROOM_EV_RESULT},
    [ROOM_CMD_REQUEUE] = {"requeue", cmd_requeue, ROOM_EV_RESULT},
    [ROOM_CMD_FAILED] = {"failed", cmd_failed, ROOM_EV_FAILED},
    [ROOM_CMD_REQUEUE_ALL] = {"requeue-all", cmd_requeue_all, ROOM_EV_RESULT},
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
    if (commands[c->kind].event < 0)
        return;
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
