/*
 * app.c - the control room's UI loop (see app.h).
 *
 * One iteration: sleep in poll() on stdin, room_fd() (armed first, ring.h's protocol) and the
 * signal self-pipe, with a timeout that is the next frame when something is dirty, else the
 * next one-second tick (ages, uptime); then drain the self-pipe (resize, or shutdown), read
 * every pending key (through keys.h's table into actions), pop the events, take the newest
 * snapshot and any detail, and draw a frame when something is dirty and the last frame is
 * at least 1000/APP_FPS ms old. A frame redraws the dirty windows (header, tabs, panes,
 * status, overlay), wnoutrefresh()es each and ends in one doupdate(); clearok() only after
 * Ctrl-L and a resize.
 *
 * Operator actions run as small dialogues (the flow table below: a prompt, a question, the
 * emergency's choice) and end in one room_cmd through room_send(); the worker's answer comes
 * back as ROOM_EV_RESULT and shows in the status line. Nothing here waits for it.
 *
 * Threads: the UI thread alone. The signal handlers write one byte to the self-pipe.
 */
#include "ui/app.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/fail.h"
#include "core/text.h"
#include "cost/money.h"
#include "room/room.h"
#include "ui/fmt.h"
#include "ui/header.h"
#include "ui/images.h"
#include "ui/keys.h"
#include "ui/layout.h"
#include "ui/overlay.h"
#include "ui/pane.h"
#include "ui/term.h"
#include "ui/theme.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAME_MS (1000 / APP_FPS)
/* A broadcast does not replace a message shown less than this long ago. */
#define BROADCAST_QUIET_MS 3000
#define TICK_MS            1000
#define STALE_MS           3500 /* data older than this gets age marks (snapshots come every 1 s) */
#define PENDING_MAX        1100 /* a bulk decision of MARKS_MAX and a few more */
#define HISTORY_MAX        100  /* status messages kept for m */
#define DETECT_MS          300  /* the terminal's answer to the image query, at most */
#define EVENTS_BATCH       256
#define EOF_READS_MAX      50 /* readable but no key this many times in a row: the terminal is gone */

static const struct pane_class *const pane_classes[PANE_COUNT] = {
    [PANE_BLACKBOARD] = &pane_blackboard, [PANE_DEBATES] = &pane_debates,
    [PANE_AGENTS] = &pane_agents,         [PANE_BUDGET] = &pane_budget,
    [PANE_REVIEW] = &pane_review,         [PANE_EVENTS] = &pane_events,
    [PANE_AUDIT] = &pane_audit,           [PANE_FAILED] = &pane_failed,
};

/* What the open dialogue leads to. */
enum flow {
    FLOW_NONE,
    FLOW_HELP,
    FLOW_DETAIL,
    FLOW_FILTER,
    FLOW_APPROVE,
    FLOW_REJECT,
    FLOW_REVISE,
    FLOW_GRANT_PRESET,
    FLOW_GRANT_AMOUNT,
    FLOW_GRANT_CONFIRM,
    FLOW_DECLINE,
    FLOW_EMERGENCY_MESSAGE,
    FLOW_EMERGENCY_CHOICE,
    FLOW_HALT,
    FLOW_RESUME,
    FLOW_QUIT,
    FLOW_REQUEUE,
    FLOW_REQUEUE_STEP,
    FLOW_REQUEUE_ALL,
    FLOW_COUNT
};

struct app {
    const struct app_options *o;
    struct room *room;
    struct term term;
    struct theme theme;
    char **theme_names;
    struct theme *themes; /* parsed before the terminal opened: t never reads a file */
    size_t ntheme;
    char *themes_dir;
    struct layout lay;
    int focused;
    struct pane panes[PANE_COUNT];
    WINDOW *header, *tabs, *status, *ovwin, *input;
    struct room_snapshot *snap;
    struct overlay ov;
    int flow; /* enum flow of the open overlay */
    struct pane_request target;
    char message[EDIT_MAX + 1]; /* the emergency's message between its two steps */
    char requeue_step[24];      /* the step a requeue names; "" where the story failed */
    struct status_msg msg;
    /* Commands sent and not answered, with the story's title for the answer's history. */
    struct pending {
        uint64_t seq;
        char title[ROOM_TEXT_MAX];
    } * pending;
    int npending;
    /* The last HISTORY_MAX status messages, oldest first (a ring). */
    struct history {
        int64_t at_ms;
        bool ok;
        char text[ROOM_TEXT_MAX * 3];
    } * history;
    int hfirst, hcount;
    /* A bulk decision: the marked stories, and how their answers came back. */
    char (*bulk)[ROOM_ID_MAX];
    char (*bulk_title)[ROOM_TEXT_MAX];
    size_t nbulk;
    struct {
        int kind; /* ROOM_CMD_APPROVE, ... */
        size_t total, answered, ok;
        uint64_t first_seq, last_seq;
    } bulk_run;
    uint64_t decided_seq; /* the ROOM_CMD_DECIDED asked for an open question's story */
    bool link_seen;       /* the link was up once: a later "up" is "back" */
    bool dirty_header, dirty_status, dirty_ov, dirty_tabs, need_clear, quit;
    bool link_ok;
    int64_t down_since, last_frame, last_tick;
    int eof_reads;
    bool answered_down; /* the status line shows an answer that came while the link was down */
    int64_t *frames;    /* frame_stats: start and duration pairs (µs) */
    size_t nframes, frames_cap;
};

/* ---- signals: one byte each to the self-pipe ---- */

static int sig_pipe[2] = {-1, -1};
static const int app_signals[] = {SIGWINCH, SIGINT, SIGTERM, SIGHUP};
#define NSIGNALS (sizeof app_signals / sizeof app_signals[0])
static struct sigaction saved_actions[NSIGNALS];

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;

    if (sig_pipe[1] != -1 && write(sig_pipe[1], &b, 1) < 0) {
        /* a full pipe already holds a wake-up */
    }
    errno = saved;
}

static int signals_install(char **cause)
{
    struct sigaction sa;

    if (pipe(sig_pipe) == -1) {
        *cause = xasprintf("cannot make the signal pipe: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaction(app_signals[i], &sa, &saved_actions[i]);
    return 0;
}

static void signals_restore(void)
{
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaction(app_signals[i], &saved_actions[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (sig_pipe[i] != -1)
            close(sig_pipe[i]);
        sig_pipe[i] = -1;
    }
}

/* ---- small helpers ---- */

static void say(struct app *a, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Keeps a message in the history (m), with title when it names a story's. */
static void remember(struct app *a, bool ok, const char *text, const char *title)
{
    struct history *h;

    if (a->hcount == HISTORY_MAX) {
        a->hfirst = (a->hfirst + 1) % HISTORY_MAX;
        a->hcount--;
    }
    h = &a->history[(a->hfirst + a->hcount++) % HISTORY_MAX];
    h->at_ms = clock_wall_ms();
    h->ok = ok;
    if (title != NULL && title[0] != '\0')
        snprintf(h->text, sizeof h->text, "%s (\"%s\")", text, title);
    else
        snprintf(h->text, sizeof h->text, "%s", text);
}

static void say(struct app *a, bool ok, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->msg.text, sizeof a->msg.text, fmt, ap);
    va_end(ap);
    a->msg.ok = ok;
    a->msg.at_mono = clock_mono_ms();
    a->dirty_status = true;
    a->answered_down = false;
    remember(a, ok, a->msg.text, NULL);
}

static void dirty_all(struct app *a)
{
    for (int i = 0; i < PANE_COUNT; i++)
        a->panes[i].dirty = true;
    a->dirty_header = a->dirty_status = a->dirty_ov = a->dirty_tabs = true;
}

static int64_t snap_age(const struct app *a, int64_t now)
{
    return a->snap != NULL ? now - a->snap->taken_mono : -1;
}

static int64_t server_now(const struct app *a, int64_t now)
{
    return a->snap != NULL ? a->snap->taken_ms + (now - a->snap->taken_mono) : clock_wall_ms();
}

/* ---- windows ---- */

static WINDOW *remake(WINDOW *w, struct rect r)
{
    if (w != NULL)
        delwin(w);
    if (r.h <= 0 || r.w <= 0)
        return NULL;
    return newwin(r.h, r.w, r.y, r.x);
}

static void drop_windows(struct app *a)
{
    for (int i = 0; i < PANE_COUNT; i++) {
        if (a->panes[i].win != NULL)
            delwin(a->panes[i].win);
        a->panes[i].win = NULL;
    }
    if (a->header != NULL)
        delwin(a->header);
    if (a->tabs != NULL)
        delwin(a->tabs);
    if (a->status != NULL)
        delwin(a->status);
    if (a->ovwin != NULL)
        delwin(a->ovwin);
    a->header = a->tabs = a->status = a->ovwin = NULL;
}

static void place_overlay(struct app *a)
{
    if (a->ovwin != NULL)
        delwin(a->ovwin);
    a->ovwin = NULL;
    if (a->ov.kind != OV_NONE && a->lay.kind != LAYOUT_TOO_SMALL)
        a->ovwin = remake(NULL, overlay_rect(&a->ov, a->term.rows, a->term.cols));
    a->dirty_ov = true;
}

/* Lays the screen out for the terminal's size and the focused pane, making every window
 * anew. */
static void relayout(struct app *a)
{
    drop_windows(a);
    layout_compute(a->term.rows, a->term.cols, (enum layout_pane)a->focused, &a->lay);
    if (a->lay.kind != LAYOUT_TOO_SMALL) {
        a->header = remake(NULL, a->lay.header);
        a->tabs = remake(NULL, a->lay.tabs);
        a->status = remake(NULL, a->lay.status);
        for (int i = 0; i < PANE_COUNT; i++) {
            struct pane *p = &a->panes[i];

            p->rect = a->lay.pane[i];
            p->focused = i == a->focused;
            if (a->lay.shown[i])
                p->win = remake(NULL, p->rect);
            if (p->win != NULL)
                p->cls->resize(p);
        }
    }
    place_overlay(a);
    a->need_clear = true;
    dirty_all(a);
}

static void focus(struct app *a, int pane)
{
    int old = a->focused;

    if (pane < 0 || pane >= PANE_COUNT || pane == old)
        return;
    a->focused = pane;
    a->panes[old].focused = false;
    a->panes[pane].focused = true;
    if (a->lay.kind == LAYOUT_COMPACT) {
        relayout(a);
        a->need_clear = false; /* same rectangles: no need to clear the screen */
    } else {
        a->panes[old].dirty = a->panes[pane].dirty = true;
    }
}

/* ---- commands ---- */

/* Sends a command; returns its seq, or 0 when the queue was full (said). Queries (detail,
 * review pages, who decided) are not actions: nothing is said and no answer is awaited. */
static uint64_t send_cmd(struct app *a, int kind, const char *id, const char *text, bool halt,
                         int64_t amount, const char *what)
{
    struct room_cmd c;
    uint64_t seq;

    memset(&c, 0, sizeof c);
    c.kind = kind;
    snprintf(c.id, sizeof c.id, "%s", id != NULL ? id : "");
    snprintf(c.text, sizeof c.text, "%s", text != NULL ? text : "");
    c.halt = halt;
    c.amount = amount;
    seq = room_send(a->room, &c);
    if (seq == 0) {
        say(a, false, "%s: the command queue is full; nothing was sent, try again", what);
        return 0;
    }
    if (kind == ROOM_CMD_DETAIL || kind == ROOM_CMD_REVIEW || kind == ROOM_CMD_DECIDED ||
        kind == ROOM_CMD_FAILED)
        return seq;
    if (a->npending < PENDING_MAX) {
        a->pending[a->npending].seq = seq;
        snprintf(a->pending[a->npending].title, sizeof a->pending[0].title, "%s",
                 id != NULL && strcmp(id, a->target.id) == 0 ? a->target.title : "");
        a->npending++;
    }
    if (a->bulk_run.total == 0)
        say(a, true, "%s: sent%s", what,
            a->link_ok ? ", waiting for the answer" : "; the link is down, it waits for it");
    return seq;
}

/* Asks every paged pane for the query it needs now, and sends it. */
static void queries(struct app *a)
{
    for (int i = 0; i < PANE_COUNT; i++) {
        struct pane *p = &a->panes[i];
        struct room_cmd c;
        uint64_t seq;

        if (p->cls->query == NULL || !p->cls->query(p, &c))
            continue;
        seq = room_send(a->room, &c);
        if (seq != 0)
            p->query_seq = seq;
    }
}

/* Whether the answer seq is to a command sent; takes it off the list and gives its title. */
static bool answered(struct app *a, uint64_t seq, char *title, size_t size)
{
    for (int i = 0; i < a->npending; i++)
        if (a->pending[i].seq == seq) {
            snprintf(title, size, "%s", a->pending[i].title);
            a->pending[i] = a->pending[--a->npending];
            return true;
        }
    return false;
}

/* ---- dialogues ---- */

static void open_flow(struct app *a, int flow)
{
    a->flow = flow;
    place_overlay(a);
}

static void close_flow(struct app *a)
{
    if (a->ov.images_drawn) /* real images: off the screen with the overlay */
        a->need_clear = true;
    if (a->ov.images_drawn && a->term.images == IMAGES_KITTY &&
        write(a->term.out_fd, IMAGES_KITTY_CLEAR, sizeof IMAGES_KITTY_CLEAR - 1) < 0) {
        /* the redraw covers what is left */
    }
    overlay_close(&a->ov);
    a->flow = FLOW_NONE;
    place_overlay(a);
    dirty_all(a);
}

static void start_approve(struct app *a)
{
    char q[2 * ROOM_TEXT_MAX + 128];

    if (a->nbulk > 0)
        snprintf(q, sizeof q,
                 "Approve all %zu marked stories for publishing? Each is its own decision, "
                 "audited; one another operator decided meanwhile is left as it is.",
                 a->nbulk);
    else
        snprintf(q, sizeof q, "Approve \"%s\" for publishing?", a->target.title);
    overlay_confirm(&a->ov, a->nbulk > 0 ? "Approve the marked stories" : a->target.id, q);
    open_flow(a, FLOW_APPROVE);
}

static void start_reject(struct app *a, bool revise)
{
    char q[2 * ROOM_TEXT_MAX + 128], n[64] = "";

    if (a->nbulk > 0)
        snprintf(n, sizeof n, " all %zu marked stories", a->nbulk);
    snprintf(q, sizeof q,
             revise ? "Send%s back to the writer; the note for the rewrite:"
                    : "Reject%s; the reason (required):",
             n);
    overlay_prompt(&a->ov, a->nbulk > 0 ? "A decision on the marked stories" : a->target.id, q, "");
    open_flow(a, revise ? FLOW_REVISE : FLOW_REJECT);
}

/* Starts what a pane asked for (pane.h's requests), as a table. */
static void req_detail(struct app *a)
{
    overlay_detail(&a->ov, a->target.id, a->target.title);
    open_flow(a, FLOW_DETAIL);
    send_cmd(a, ROOM_CMD_DETAIL, a->target.id, NULL, a->term.images == IMAGES_NONE, 0, "detail");
}

static void req_approve(struct app *a)
{
    start_approve(a);
}

static void req_reject(struct app *a)
{
    start_reject(a, false);
}

static void req_revise(struct app *a)
{
    start_reject(a, true);
}

/* The grant's preset amounts (micro-dollars); the last two rows are what it needs and a typed
 * amount. */
static const int64_t grant_presets[] = {1000000, 5000000, 20000000};
#define NPRESETS ((int)(sizeof grant_presets / sizeof grant_presets[0]))

static void req_grant(struct app *a)
{
    char q[2 * ROOM_TEXT_MAX + 128], need[48], opts[NPRESETS + 2][48];
    const char *o[NPRESETS + 2];

    for (int i = 0; i < NPRESETS; i++) {
        char m[32];

        snprintf(opts[i], sizeof opts[i], "+%s", fmt_money(grant_presets[i], m, sizeof m));
        o[i] = opts[i];
    }
    snprintf(opts[NPRESETS], sizeof opts[0], "what it needs: +%s",
             fmt_money(a->target.amount, need, sizeof need));
    snprintf(opts[NPRESETS + 1], sizeof opts[0], "another amount (type it)");
    o[NPRESETS] = opts[NPRESETS];
    o[NPRESETS + 1] = opts[NPRESETS + 1];
    snprintf(q, sizeof q, "Grant request %s: %s. How much more for its window?", a->target.id,
             a->target.title);
    overlay_choice(&a->ov, "Grant a budget request", q, o, NPRESETS + 2);
    open_flow(a, FLOW_GRANT_PRESET);
}

static void req_decline(struct app *a)
{
    char q[2 * ROOM_TEXT_MAX + 128];

    snprintf(q, sizeof q,
             "Decline request %s: %s? It holds for the rest of that window: no new request "
             "opens for it.",
             a->target.id, a->target.title);
    overlay_confirm(&a->ov, "Decline a budget request", q);
    open_flow(a, FLOW_DECLINE);
}

static void req_message(struct app *a)
{
    say(a, false, "%s", a->target.title);
}

/* A requeue's question: the story, the step (a->requeue_step, or where it failed), what
 * happens to its checkpoints, and its last error. */
static void requeue_confirm(struct app *a)
{
    const struct pane_request *t = &a->target;
    const char *step = a->requeue_step[0] != '\0' ? a->requeue_step : t->step;
    char q[3 * ROOM_TEXT_MAX + 256], title[ROOM_ID_MAX + 16], what[160];

    if (a->requeue_step[0] == '\0')
        snprintf(what, sizeof what,
                 "where it failed after %lld attempt%s; every checkpoint is kept and %s gets a "
                 "fresh attempt budget",
                 (long long)t->amount, t->amount == 1 ? "" : "s", step);
    else
        snprintf(what, sizeof what,
                 "instead of %s, where it failed; the work of %s and every later step is made "
                 "again",
                 t->step, step);
    snprintf(q, sizeof q, "Requeue \"%s\" at step %s, %s? Its last error: %.*s", t->title, step,
             what, (int)ui_cut(t->note, 120, false), t->note);
    snprintf(title, sizeof title, "Requeue %s", t->id);
    overlay_confirm(&a->ov, title, q);
    open_flow(a, FLOW_REQUEUE);
}

static void req_requeue(struct app *a)
{
    a->requeue_step[0] = '\0';
    requeue_confirm(a);
}

/* U: the steps to choose from, the one that failed said so. */
_Static_assert(BB_STEP_COUNT <= OVERLAY_CHOICES, "every step is one of the choice's options");
static void req_requeue_step(struct app *a)
{
    char q[2 * ROOM_TEXT_MAX + 64], opts[BB_STEP_COUNT][48], title[ROOM_ID_MAX + 32];
    const char *o[BB_STEP_COUNT];

    for (int i = 0; i < BB_STEP_COUNT; i++) {
        snprintf(opts[i], sizeof opts[i], "%s%s", bb_steps[i].name,
                 strcmp(bb_steps[i].name, a->target.step) == 0 ? " (where it failed)" : "");
        o[i] = opts[i];
    }
    snprintf(q, sizeof q,
             "Requeue \"%s\" at which step? A step other than %s makes its work and "
             "every later step's again.",
             a->target.title, a->target.step);
    snprintf(title, sizeof title, "Requeue %s at a step", a->target.id);
    overlay_choice(&a->ov, title, q, o, BB_STEP_COUNT);
    open_flow(a, FLOW_REQUEUE_STEP);
}

static void req_requeue_all(struct app *a)
{
    char q[256];

    snprintf(q, sizeof q,
             "Requeue all %lld failed stor%s, each at the step that failed? Every checkpoint is "
             "kept; each requeue is audited.",
             (long long)a->target.amount, a->target.amount == 1 ? "y" : "ies");
    overlay_confirm(&a->ov, "Requeue every failed story", q);
    open_flow(a, FLOW_REQUEUE_ALL);
}

static const struct {
    int kind;
    void (*start)(struct app *);
} req_table[] = {
    {PANE_REQ_DETAIL, req_detail},
    {PANE_REQ_APPROVE, req_approve},
    {PANE_REQ_REJECT, req_reject},
    {PANE_REQ_REVISE, req_revise},
    {PANE_REQ_GRANT, req_grant},
    {PANE_REQ_DECLINE, req_decline},
    {PANE_REQ_MESSAGE, req_message},
    {PANE_REQ_REQUEUE, req_requeue},
    {PANE_REQ_REQUEUE_STEP, req_requeue_step},
    {PANE_REQ_REQUEUE_ALL, req_requeue_all},
};

static void run_request(struct app *a, const struct pane_request *req)
{
    for (size_t i = 0; i < sizeof req_table / sizeof req_table[0]; i++)
        if (req_table[i].kind == req->kind) {
            a->target = *req;
            a->target.ids = NULL;
            a->target.titles = NULL;
            /* A bulk decision: the marked stories, copied (the pane's list moves on). */
            a->nbulk = req->ids != NULL ? req->nids : 0;
            if (a->nbulk > 0) {
                a->bulk = xrealloc(a->bulk, a->nbulk * sizeof *a->bulk);
                memcpy(a->bulk, req->ids, a->nbulk * sizeof *a->bulk);
                a->bulk_title = xrealloc(a->bulk_title, a->nbulk * sizeof *a->bulk_title);
                memcpy(a->bulk_title, req->titles, a->nbulk * sizeof *a->bulk_title);
            }
            req_table[i].start(a);
            return;
        }
}

/* The filter as typed so far, applied (the review pane asks the server on every key). */
static void apply_filter(struct app *a, const char *text)
{
    struct pane *p = &a->panes[a->focused];
    struct pane_request none = {0};

    if (strcmp(p->filter, text) == 0)
        return;
    snprintf(p->filter, sizeof p->filter, "%s", text);
    p->list.selected = p->list.top = 0;
    p->cls->key(p, ACT_FILTER, &none);
    p->dirty = true;
    queries(a);
}

/* What each dialogue does with its answer (result: enum overlay_result). Returns true when
 * the dialogue is over. */
static bool done_filter(struct app *a, int result)
{
    struct pane *p = &a->panes[a->focused];
    char text[PANE_FILTER_MAX];

    if (result == OVR_SUBMIT) {
        edit_trimmed(&a->ov.edit, text, sizeof text);
        apply_filter(a, text);
        say(a, true, p->filter[0] ? "filter: %s" : "filter off%s", p->filter);
    }
    return true;
}

/* Sends one decision per story (the target, or every marked one). */
static void decide_all(struct app *a, int cmd, const char *text, const char *verb)
{
    struct pane_request none = {0};

    if (a->nbulk == 0) {
        send_cmd(a, cmd, a->target.id, text, false, 0, verb);
        return;
    }
    memset(&a->bulk_run, 0, sizeof a->bulk_run);
    a->bulk_run.kind = cmd;
    a->bulk_run.total = a->nbulk;
    for (size_t i = 0; i < a->nbulk; i++) {
        uint64_t seq;

        snprintf(a->target.id, sizeof a->target.id, "%s", a->bulk[i]);
        snprintf(a->target.title, sizeof a->target.title, "%s", a->bulk_title[i]);
        seq = send_cmd(a, cmd, a->bulk[i], text, false, 0, verb);
        if (seq == 0) {
            a->bulk_run.total = i;
            break;
        }
        if (i == 0)
            a->bulk_run.first_seq = seq;
        a->bulk_run.last_seq = seq;
    }
    say(a, true, "%s: %zu decisions sent, one each, waiting for the answers", verb,
        a->bulk_run.total);
    a->nbulk = 0;
    /* The marks are spent: the review pane clears them (Esc's action). */
    a->panes[PANE_REVIEW].cls->key(&a->panes[PANE_REVIEW], ACT_BACK, &none);
    a->panes[PANE_REVIEW].dirty = true;
}

static bool done_approve(struct app *a, int result)
{
    if (result == OVR_SUBMIT)
        decide_all(a, ROOM_CMD_APPROVE, "", "approve");
    return true;
}

static bool need_text(struct app *a, int result, char *out, size_t size, const char *why)
{
    if (result != OVR_SUBMIT)
        return false;
    edit_trimmed(&a->ov.edit, out, size);
    if (out[0] == '\0') {
        snprintf(a->ov.hint, sizeof a->ov.hint, "%s", why);
        a->dirty_ov = true;
        return false;
    }
    return true;
}

/* A decision on the target story (or the marked ones) that needs a text (why: the hint when
 * it is empty). */
static bool done_with_text(struct app *a, int result, int cmd, const char *why, const char *verb)
{
    char text[EDIT_MAX + 1];

    if (need_text(a, result, text, sizeof text, why)) {
        decide_all(a, cmd, text, verb);
        return true;
    }
    return result != OVR_SUBMIT;
}

static bool done_reject(struct app *a, int result)
{
    return done_with_text(a, result, ROOM_CMD_REJECT, "a rejection needs a reason (Esc cancels)",
                          "reject");
}

static bool done_revise(struct app *a, int result)
{
    return done_with_text(a, result, ROOM_CMD_REVISE, "the writer needs a note (Esc cancels)",
                          "revise");
}

static void grant_confirm(struct app *a, int64_t amount)
{
    char q[2 * ROOM_TEXT_MAX + 128], m[32];

    a->target.amount = amount;
    snprintf(q, sizeof q, "Grant %s more to request %s (%s)?", fmt_money(amount, m, sizeof m),
             a->target.id, a->target.title);
    overlay_confirm(&a->ov, "Grant a budget request", q);
    open_flow(a, FLOW_GRANT_CONFIRM);
}

static bool done_grant_preset(struct app *a, int result)
{
    int k = result - OVR_CHOICE1;
    char amount[32];

    if (result < OVR_CHOICE1 || result > OVR_CHOICE5)
        return true;
    if (k < NPRESETS) {
        grant_confirm(a, grant_presets[k]);
    } else if (k == NPRESETS) {
        grant_confirm(a, a->target.amount);
    } else {
        char q[2 * ROOM_TEXT_MAX + 128];

        snprintf(q, sizeof q, "Grant request %s: %s. Amount in dollars:", a->target.id,
                 a->target.title);
        money_format(a->target.amount, amount, sizeof amount);
        overlay_prompt(&a->ov, "Grant a budget request", q, amount);
        open_flow(a, FLOW_GRANT_AMOUNT);
    }
    return false;
}

static bool done_grant_amount(struct app *a, int result)
{
    char text[64];
    const char *why = NULL;
    int64_t amount;

    if (result != OVR_SUBMIT)
        return true;
    edit_trimmed(&a->ov.edit, text, sizeof text);
    if (text[0] == '$')
        memmove(text, text + 1, strlen(text));
    if (money_parse(text, &amount, &why) == -1 || amount <= 0) {
        snprintf(a->ov.hint, sizeof a->ov.hint, "not an amount: %s",
                 why != NULL ? why : "more than 0 is needed");
        a->dirty_ov = true;
        return false;
    }
    grant_confirm(a, amount);
    return false;
}

static bool done_grant_confirm(struct app *a, int result)
{
    if (result == OVR_SUBMIT)
        send_cmd(a, ROOM_CMD_GRANT, a->target.id, NULL, false, a->target.amount, "grant");
    return true;
}

static bool done_decline(struct app *a, int result)
{
    if (result == OVR_SUBMIT)
        send_cmd(a, ROOM_CMD_DECLINE, a->target.id, NULL, false, 0, "decline");
    return true;
}

static bool done_emergency_message(struct app *a, int result)
{
    if (!need_text(a, result, a->message, sizeof a->message,
                   "an emergency needs a message (Esc cancels)"))
        return result != OVR_SUBMIT;
    {
        const char *opts[] = {"alert only", "alert and HALT the swarm"};

        overlay_choice(&a->ov, "EMERGENCY: step 2 of 2", a->message, opts, 2);
        a->ov.alert = true;
    }
    open_flow(a, FLOW_EMERGENCY_CHOICE);
    return false;
}

static bool done_emergency_choice(struct app *a, int result)
{
    if (result == OVR_CHOICE1 || result == OVR_CHOICE2)
        send_cmd(a, ROOM_CMD_EMERGENCY, NULL, a->message, result == OVR_CHOICE2, 0,
                 result == OVR_CHOICE2 ? "emergency and halt" : "emergency");
    else
        say(a, true, "emergency cancelled");
    return true;
}

static bool done_halt(struct app *a, int result)
{
    if (result == OVR_SUBMIT)
        send_cmd(a, ROOM_CMD_HALT, NULL, "halted from the control room", false, 0, "halt");
    return true;
}

static bool done_resume(struct app *a, int result)
{
    if (result == OVR_SUBMIT)
        /* The halt this operator saw: a halt set again since is not lifted unseen. */
        send_cmd(a, ROOM_CMD_RESUME, NULL, "resumed from the control room", false,
                 a->snap != NULL ? a->snap->halt_ms : 0, "resume");
    return true;
}

static bool done_requeue(struct app *a, int result)
{
    if (result == OVR_SUBMIT)
        send_cmd(a, ROOM_CMD_REQUEUE, a->target.id, a->requeue_step, false, 0, "requeue");
    return true;
}

static bool done_requeue_step(struct app *a, int result)
{
    int k = result - OVR_CHOICE1;

    if (k < 0 || k >= BB_STEP_COUNT)
        return true;
    /* The step it failed at, chosen from the list, is the plain requeue: nothing made again. */
    snprintf(a->requeue_step, sizeof a->requeue_step, "%s",
             strcmp(bb_steps[k].name, a->target.step) == 0 ? "" : bb_steps[k].name);
    requeue_confirm(a);
    return false;
}

static bool done_requeue_all(struct app *a, int result)
{
    if (result == OVR_SUBMIT)
        send_cmd(a, ROOM_CMD_REQUEUE_ALL, NULL, NULL, false, a->target.amount, "requeue all");
    return true;
}

static bool done_quit(struct app *a, int result)
{
    if (result == OVR_SUBMIT)
        a->quit = true;
    return true;
}

static bool done_close(struct app *a, int result)
{
    (void)a;
    (void)result;
    return true;
}

static bool (*const flow_done[FLOW_COUNT])(struct app *, int) = {
    [FLOW_NONE] = done_close,
    [FLOW_HELP] = done_close,
    [FLOW_DETAIL] = done_close,
    [FLOW_FILTER] = done_filter,
    [FLOW_APPROVE] = done_approve,
    [FLOW_REJECT] = done_reject,
    [FLOW_REVISE] = done_revise,
    [FLOW_GRANT_PRESET] = done_grant_preset,
    [FLOW_GRANT_AMOUNT] = done_grant_amount,
    [FLOW_GRANT_CONFIRM] = done_grant_confirm,
    [FLOW_DECLINE] = done_decline,
    [FLOW_EMERGENCY_MESSAGE] = done_emergency_message,
    [FLOW_EMERGENCY_CHOICE] = done_emergency_choice,
    [FLOW_HALT] = done_halt,
    [FLOW_RESUME] = done_resume,
    [FLOW_QUIT] = done_quit,
    [FLOW_REQUEUE] = done_requeue,
    [FLOW_REQUEUE_STEP] = done_requeue_step,
    [FLOW_REQUEUE_ALL] = done_requeue_all,
};

/* ---- global actions, as a table ---- */

static void act_help(struct app *a)
{
    char about[512];

    if (a->snap != NULL)
        snprintf(about, sizeof about, "Redis: %s, %.1f ms a round trip\nSwarm: %s, %s\nImages: %s",
                 a->snap->address, (double)a->snap->latency_us / 1000.0, a->snap->swarm,
                 a->o->in_process ? "running in this process" : "attached",
                 images_mode_names[a->term.images]);
    else
        snprintf(about, sizeof about, "Redis: no snapshot yet");
    overlay_help(&a->ov, a->o->read_only, about);
    open_flow(a, FLOW_HELP);
}

/* m: the last status messages in full, newest last. */
static void act_history(struct app *a)
{
    size_t cap = (size_t)a->hcount * (ROOM_TEXT_MAX * 3 + 48) + 1, len = 0;
    char *text = xmalloc(cap);

    text[0] = '\0';
    for (int i = 0; i < a->hcount; i++) {
        const struct history *h = &a->history[(a->hfirst + i) % HISTORY_MAX];
        char when[32];
        int n;

        text_utc(h->at_ms, when, sizeof when);
        n = snprintf(text + len, cap - len, "%s %s %s\n", when + (strlen(when) > 11 ? 11 : 0),
                     h->ok ? " " : "!", h->text);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    overlay_text(&a->ov, "Messages: the last 100, newest last (any other key closes)", text);
    free(text);
    a->ov.top = 1 << 20; /* scrolled to the end when drawn */
    open_flow(a, FLOW_HELP);
}

static void act_next(struct app *a)
{
    focus(a, (a->focused + 1) % PANE_COUNT);
}

static void act_prev(struct app *a)
{
    focus(a, (a->focused + PANE_COUNT - 1) % PANE_COUNT);
}

static void act_filter(struct app *a)
{
    char q[96];

    snprintf(q, sizeof q,
             "Show only the rows of %s containing (empty: all):", a->panes[a->focused].cls->name);
    overlay_prompt(&a->ov, "Filter", q, a->panes[a->focused].filter);
    open_flow(a, FLOW_FILTER);
}

static void act_emergency(struct app *a)
{
    overlay_prompt(&a->ov, "EMERGENCY: step 1 of 2",
                   "The message every agent and control room receives:", "");
    a->ov.alert = true;
    open_flow(a, FLOW_EMERGENCY_MESSAGE);
}

static void act_halt(struct app *a)
{
    if (a->snap != NULL && a->snap->halted) {
        overlay_confirm(&a->ov, "Resume", "Lift the halt and let the swarm go on?");
        open_flow(a, FLOW_RESUME);
    } else {
        overlay_confirm(&a->ov, "Halt",
                        "Halt the swarm? No agent claims a story or calls a model until resumed.");
        open_flow(a, FLOW_HALT);
    }
}

static void act_theme(struct app *a)
{
    size_t next = 0;

    if (a->ntheme == 0) {
        say(a, false,
            "no themes directory: only the built-in dark theme (see NEWSROOM_THEMES_DIR)");
        return;
    }
    for (size_t i = 0; i < a->ntheme; i++)
        if (strcmp(a->theme_names[i], a->theme.name) == 0)
            next = (i + 1) % a->ntheme;
    a->theme = a->themes[next];
    theme_apply(&a->theme, &a->term);
    say(a, true, "theme %s", a->theme.name);
    a->need_clear = true;
    dirty_all(a);
}

static void act_redraw(struct app *a)
{
    a->need_clear = true;
    dirty_all(a);
}

static void act_quit(struct app *a)
{
    if (!a->o->in_process) {
        a->quit = true;
        return;
    }
    overlay_confirm(&a->ov, "Quit",
                    "The swarm runs in this process: stop it and quit the control room?");
    open_flow(a, FLOW_QUIT);
}

static const struct {
    int action;
    void (*run)(struct app *);
} global_actions[] = {
    {ACT_HELP, act_help},       {ACT_NEXT_PANE, act_next},      {ACT_PREV_PANE, act_prev},
    {ACT_FILTER, act_filter},   {ACT_EMERGENCY, act_emergency}, {ACT_HALT, act_halt},
    {ACT_THEME, act_theme},     {ACT_REDRAW, act_redraw},       {ACT_QUIT, act_quit},
    {ACT_HISTORY, act_history},
};

/* Which pane an action is for when another pane has the focus. */
static const struct {
    int action, pane;
} action_home[] = {
    {ACT_APPROVE, PANE_REVIEW},      {ACT_REJECT, PANE_REVIEW},      {ACT_REVISE, PANE_REVIEW},
    {ACT_GRANT, PANE_BUDGET},        {ACT_DECLINE, PANE_BUDGET},     {ACT_REQUEUE, PANE_FAILED},
    {ACT_REQUEUE_STEP, PANE_FAILED}, {ACT_REQUEUE_ALL, PANE_FAILED},
};

static void on_action(struct app *a, int action, int key)
{
    struct pane *p = &a->panes[a->focused];
    struct pane_request req;

    if (action == ACT_NONE) {
        if (key >= 0x20 && key < 0x7f)
            say(a, false, "%c: no such key (? lists them)", key);
        return;
    }
    if (keys_acting(action) && a->o->read_only) {
        say(a, false, "read-only: this control room cannot act on the swarm");
        return;
    }
    if (action >= ACT_PANE1 && action <= ACT_PANE8) {
        focus(a, action - ACT_PANE1);
        return;
    }
    for (size_t i = 0; i < sizeof global_actions / sizeof global_actions[0]; i++)
        if (global_actions[i].action == action) {
            global_actions[i].run(a);
            return;
        }
    memset(&req, 0, sizeof req);
    if (p->cls->key(p, action, &req)) {
        p->dirty = true;
        run_request(a, &req);
        return;
    }
    for (size_t i = 0; i < sizeof action_home / sizeof action_home[0]; i++)
        if (action_home[i].action == action && action_home[i].pane != a->focused) {
            say(a, false, "that key works in the %s pane (%d)",
                pane_classes[action_home[i].pane]->name, action_home[i].pane + 1);
            return;
        }
}

/* y in a detail: the preview URL to the producer's clipboard with OSC 52, wrapped for tmux
 * (its passthrough) when the control room runs inside tmux. */
static void copy_preview(struct app *a)
{
    const char *u = a->ov.preview_url;
    char *enc, seq[1800];
    int len;

    if (u[0] == '\0') {
        say(a, false, "this story has no preview URL (no rendered video, or the preview is off)");
        return;
    }
    enc = fmt_base64(u, strlen(u), NULL);
    /* Inside tmux: the plain sequence (tmux keeps it with set-clipboard on and hands it on
     * to the outer terminal) and the same in tmux's passthrough (allow-passthrough on). */
    if (a->term.in_tmux)
        len =
            snprintf(seq, sizeof seq, "\033]52;c;%s\a\033Ptmux;\033\033]52;c;%s\a\033\\", enc, enc);
    else
        len = snprintf(seq, sizeof seq, "\033]52;c;%s\a", enc);
    free(enc);
    if (len <= 0 || (size_t)len >= sizeof seq || write(a->term.out_fd, seq, (size_t)len) != len) {
        say(a, false, "could not write the clipboard sequence to the terminal");
        return;
    }
    say(a, true, "copied the preview URL to your clipboard (OSC 52%s): %s",
        a->term.in_tmux ? " through tmux" : "", u);
}

/* What a key does in a story's detail: the request it makes of the story, which must be
 * awaiting review (a, r, R) or FAILED (u, U). */
static const struct {
    int action, req;
    bool failed;
} detail_actions[] = {
    {ACT_APPROVE, PANE_REQ_APPROVE, false},
    {ACT_REJECT, PANE_REQ_REJECT, false},
    {ACT_REVISE, PANE_REQ_REVISE, false},
    {ACT_REQUEUE, PANE_REQ_REQUEUE, true},
    {ACT_REQUEUE_STEP, PANE_REQ_REQUEUE_STEP, true},
};

/* A key while an overlay is open. */
static void on_overlay_key(struct app *a, int key)
{
    int r = overlay_key(&a->ov, key);

    a->dirty_ov = true;
    if (r == OVR_PASS) {
        /* In a story's detail: a, r, R decide it and u, U requeue it without going back
         * first; y copies. */
        int action = keys_action(key);
        struct pane_request req;
        size_t i;

        if (action == ACT_COPY) {
            copy_preview(a);
            return;
        }
        for (i = 0; i < sizeof detail_actions / sizeof detail_actions[0]; i++)
            if (detail_actions[i].action == action)
                break;
        if (i == sizeof detail_actions / sizeof detail_actions[0])
            return;
        if (a->o->read_only) {
            say(a, false, "read-only: this control room cannot act on the swarm");
            return;
        }
        if (!detail_actions[i].failed && !a->ov.reviewing) {
            say(a, false, "%s is not awaiting review: nothing to decide", a->ov.detail_id);
            return;
        }
        if (detail_actions[i].failed && a->ov.failed_step[0] == '\0') {
            say(a, false, "%s is not FAILED: nothing to requeue", a->ov.detail_id);
            return;
        }
        memset(&req, 0, sizeof req);
        req.kind = detail_actions[i].req;
        snprintf(req.id, sizeof req.id, "%s", a->ov.detail_id);
        snprintf(req.title, sizeof req.title, "%s",
                 a->target.title[0] ? a->target.title : a->ov.detail_id);
        snprintf(req.step, sizeof req.step, "%s", a->ov.failed_step);
        snprintf(req.note, sizeof req.note, "%s", a->ov.fail_reason);
        req.amount = a->ov.attempts;
        close_flow(a);
        run_request(a, &req);
        return;
    }
    {
        int flow = a->flow;

        if (r == OVR_NONE && flow == FLOW_FILTER) {
            /* As you type: the list narrows with every key (the review queue on the server). */
            char text[PANE_FILTER_MAX];

            edit_trimmed(&a->ov.edit, text, sizeof text);
            apply_filter(a, text);
            return;
        }
        if (r == OVR_NONE)
            return;
        if (flow_done[flow](a, r) && a->flow == flow)
            close_flow(a);
    }
}

/* ---- input ---- */

static void on_resize(struct app *a)
{
    term_resized(&a->term);
    relayout(a);
}

static void read_keys(struct app *a, bool readable)
{
    wint_t wch;
    int rc, got = 0;

    while ((rc = wget_wch(a->input, &wch)) != ERR) {
        int key = keys_norm(rc, (unsigned)wch);

        got++;
        if (key == UI_KEY_FN(KEY_RESIZE)) {
            on_resize(a);
            continue;
        }
        if (a->ov.kind != OV_NONE)
            on_overlay_key(a, key);
        else
            on_action(a, keys_action(key), key);
        if (a->quit)
            return;
    }
    /* poll() said readable and no key came: at EOF curses reads nothing, ever again. */
    a->eof_reads = readable && got == 0 ? a->eof_reads + 1 : 0;
    if (a->eof_reads >= EOF_READS_MAX)
        a->quit = true;
}

static void drain_signals(struct app *a)
{
    unsigned char buf[64];
    ssize_t n;

    while ((n = read(sig_pipe[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == SIGWINCH)
                on_resize(a);
            else
                a->quit = true; /* SIGINT, SIGTERM, SIGHUP: the orderly shutdown */
        }
}

/* ---- the room ---- */

/* An answer to a command of ours: the status line and the history (with the story's title);
 * the answers of a bulk decision are summed up instead, one line when the last comes. */
static void on_result(struct app *a, const struct room_event *ev)
{
    char title[ROOM_TEXT_MAX] = "";
    bool ours = answered(a, ev->cmd_seq, title, sizeof title);

    if (ev->cmd_seq == a->decided_seq && a->decided_seq != 0) {
        /* Who decided the story of a question left open: close it and say so, in full. */
        a->decided_seq = 0;
        if (ev->ok &&
            (a->flow == FLOW_APPROVE || a->flow == FLOW_REJECT || a->flow == FLOW_REVISE) &&
            strcmp(ev->id, a->target.id) == 0) {
            close_flow(a);
            say(a, false, "%s", ev->text);
        }
        return;
    }
    if (!ours || ev->text[0] == '\0')
        return;
    if (a->bulk_run.total > 0 && ev->cmd_seq >= a->bulk_run.first_seq &&
        ev->cmd_seq <= a->bulk_run.last_seq) {
        a->bulk_run.answered++;
        a->bulk_run.ok += ev->ok;
        remember(a, ev->ok, ev->text, title);
        if (a->bulk_run.answered == a->bulk_run.total) {
            static const char *const done[] = {
                [ROOM_CMD_APPROVE] = "approved",
                [ROOM_CMD_REJECT] = "rejected",
                [ROOM_CMD_REVISE] = "sent back",
            };
            size_t failed = a->bulk_run.total - a->bulk_run.ok;

            if (failed == 0)
                say(a, true, "%s all %zu marked stories, each audited", done[a->bulk_run.kind],
                    a->bulk_run.total);
            else
                say(a, false,
                    "%s %zu of %zu marked stories; %zu not (decided by another operator "
                    "meanwhile, or refused): m shows each",
                    done[a->bulk_run.kind], a->bulk_run.ok, a->bulk_run.total, failed);
            memset(&a->bulk_run, 0, sizeof a->bulk_run);
        }
        return;
    }
    say(a, ev->ok, "%s", ev->text);
    if (title[0] != '\0') /* the history names the story by its title too */
        snprintf(a->history[(a->hfirst + a->hcount - 1) % HISTORY_MAX].text,
                 sizeof a->history[0].text, "%s (\"%s\")", ev->text, title);
    a->answered_down = !a->link_ok;
}

/* A single decision's question is open: when its story left the queue meanwhile (another
 * operator), ask who decided it. */
static void check_question(struct app *a)
{
    if ((a->flow != FLOW_APPROVE && a->flow != FLOW_REJECT && a->flow != FLOW_REVISE) ||
        a->nbulk > 0 || a->decided_seq != 0)
        return;
    a->decided_seq = send_cmd(a, ROOM_CMD_DECIDED, a->target.id, NULL, false, 0, "decided");
}

static void take_room(struct app *a)
{
    struct room_event ev[EVENTS_BATCH];
    struct room_snapshot *s;
    struct room_detail *d;
    struct room_frames *fr;
    struct room_review_page *pg;
    struct room_failed_page *fp;
    size_t n;
    int64_t down = 0;
    bool ok;

    while ((n = room_pop_events(a->room, ev, EVENTS_BATCH)) > 0)
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < PANE_COUNT; k++)
                if (a->panes[k].cls->event != NULL) {
                    a->panes[k].cls->event(&a->panes[k], &ev[i]);
                    a->panes[k].dirty = true;
                }
            if (ev[i].kind == ROOM_EV_RESULT && ev[i].cmd_seq != 0) {
                on_result(a, &ev[i]);
            } else if (ev[i].kind == ROOM_EV_ALERT && strcmp(ev[i].what, "emergency") != 0 &&
                       strcmp(ev[i].what, "control") != 0) {
                say(a, false, "%s", ev[i].text); /* "budget alert: ..." already */
            } else if (ev[i].kind == ROOM_EV_ALERT) {
                /* A broadcast (another operator's emergency or resume): the status line
                 * unless it shows an answer of ours from the last few seconds (the events
                 * pane has it either way). */
                if (a->npending == 0 && clock_mono_ms() - a->msg.at_mono > BROADCAST_QUIET_MS)
                    say(a, ev[i].ok, "%s", ev[i].text);
                else
                    remember(a, ev[i].ok, ev[i].text, NULL);
            } else if (ev[i].kind == ROOM_EV_LINK) {
                a->dirty_header = true;
            }
        }
    if ((s = room_take_snapshot(a->room)) != NULL) {
        room_snapshot_free(a->snap);
        a->snap = s;
        for (int k = 0; k < PANE_COUNT; k++) {
            a->panes[k].cls->update(&a->panes[k], s);
            a->panes[k].dirty = true;
        }
        a->dirty_header = true;
        check_question(a);
    }
    if ((pg = room_take_review(a->room)) != NULL) {
        for (int k = 0; k < PANE_COUNT; k++)
            if (a->panes[k].cls->page != NULL) {
                a->panes[k].cls->page(&a->panes[k], pg);
                a->panes[k].dirty = true;
            }
        room_review_page_free(pg);
    }
    if ((fp = room_take_failed(a->room)) != NULL) {
        for (int k = 0; k < PANE_COUNT; k++)
            if (a->panes[k].cls->failed_page != NULL) {
                a->panes[k].cls->failed_page(&a->panes[k], fp);
                a->panes[k].dirty = true;
            }
        room_failed_page_free(fp);
    }
    queries(a);
    if ((d = room_take_detail(a->room)) != NULL) {
        overlay_detail_set(&a->ov, d);
        a->dirty_ov = true;
        room_detail_free(d);
    }
    if ((fr = room_take_frames(a->room)) != NULL) {
        overlay_frames_set(&a->ov, fr);
        a->dirty_ov = true;
    }
    ok = room_link_ok(a->room, &down);
    if (ok != a->link_ok) {
        a->link_ok = ok;
        a->down_since = down;
        if (ok && a->answered_down) {
            /* The worker's link came back first and answered an action made meanwhile: keep
             * its answer in sight rather than hide it under "link back". */
            char last[sizeof a->msg.text];

            memcpy(last, a->msg.text, sizeof last);
            say(a, a->msg.ok, "link back; %s", last);
        } else if (ok && a->link_seen) {
            say(a, true, "link back: catching up");
        } else if (!ok) {
            say(a, false, "link lost: retrying; keys keep working");
        }
        a->link_seen = a->link_seen || ok;
        a->answered_down = false;
        dirty_all(a);
    }
}

/* ---- drawing ---- */

static void draw_too_small(struct app *a)
{
    char m[96];

    werase(stdscr);
    snprintf(m, sizeof m, "terminal too small: %dx%d, the control room needs %dx%d", a->term.cols,
             a->term.rows, LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS);
    ui_text(stdscr, &a->term, a->term.rows / 2, 0, m, a->term.cols, THEME_ALERT);
    if (a->term.rows > 2)
        ui_text(stdscr, &a->term, a->term.rows / 2 + 1, 0, "q quits", a->term.cols, THEME_DIM);
    wnoutrefresh(stdscr);
}

static void frame_body(struct app *a, int64_t now);

/* One frame, timed when the caller asked for frame statistics. */
static void frame(struct app *a, int64_t now)
{
    int64_t t0;

    if (a->o->frame_stats == NULL) {
        frame_body(a, now);
        return;
    }
    t0 = clock_mono_us();
    frame_body(a, now);
    if (a->nframes + 2 > a->frames_cap) {
        a->frames_cap = a->frames_cap == 0 ? 4096 : a->frames_cap * 2;
        a->frames = xrealloc(a->frames, a->frames_cap * sizeof *a->frames);
    }
    a->frames[a->nframes++] = t0;
    a->frames[a->nframes++] = clock_mono_us() - t0;
}

/* Writes the frame statistics (best effort: a failure is logged). */
static void frames_write(const struct app *a)
{
    FILE *f = fopen(a->o->frame_stats, "w");

    if (f == NULL) {
        log_warn("ui: cannot write frame statistics to %s", a->o->frame_stats);
        return;
    }
    for (size_t i = 0; i + 1 < a->nframes; i += 2)
        fprintf(f, "%lld %lld\n", (long long)a->frames[i], (long long)a->frames[i + 1]);
    fclose(f);
}

static void frame_body(struct app *a, int64_t now)
{
    struct pane_ctx c;
    bool under = false, redraw_images = false;

    if (a->need_clear) {
        clearok(curscr, TRUE);
        a->need_clear = false;
    }
    if (a->lay.kind == LAYOUT_TOO_SMALL) {
        draw_too_small(a);
        doupdate();
        a->last_frame = now;
        return;
    }
    memset(&c, 0, sizeof c);
    c.term = &a->term;
    c.now_ms = server_now(a, now);
    c.snap_age_ms = snap_age(a, now);
    c.stale = !a->link_ok || c.snap_age_ms < 0 || c.snap_age_ms > STALE_MS;
    c.read_only = a->o->read_only;
    if (a->header != NULL && a->dirty_header) {
        struct header_info h;

        memset(&h, 0, sizeof h);
        h.snap = a->snap;
        h.link_ok = a->link_ok;
        h.down_ms = a->link_ok || a->down_since == 0 ? 0 : now - a->down_since;
        h.snap_age_ms = c.snap_age_ms;
        h.now_mono = now;
        h.now_ms = c.now_ms;
        h.dropped = room_dropped(a->room);
        h.pending = a->npending;
        h.read_only = a->o->read_only;
        h.in_process = a->o->in_process;
        h.theme = a->theme.name;
        header_draw(a->header, &a->term, &h);
        wnoutrefresh(a->header);
        under = true;
    }
    if (a->tabs != NULL && a->dirty_tabs) {
        tabs_draw(a->tabs, &a->term, a->panes, PANE_COUNT, a->focused);
        wnoutrefresh(a->tabs);
        under = true;
    }
    for (int i = 0; i < PANE_COUNT; i++) {
        struct pane *p = &a->panes[i];

        if (p->win == NULL || !p->dirty)
            continue;
        p->cls->draw(p, &c);
        wnoutrefresh(p->win);
        under = true;
    }
    if (a->status != NULL && a->dirty_status) {
        status_draw(a->status, &a->term, &a->msg, now, a->o->read_only);
        wnoutrefresh(a->status);
        under = true;
    }
    if (a->ovwin != NULL && (a->dirty_ov || under)) {
        int top = a->ov.top;

        overlay_draw(&a->ov, a->ovwin, &a->term);
        touchwin(a->ovwin);
        wnoutrefresh(a->ovwin);
        /* Real images stay on the screen until text covers them: a scroll redraws it all. */
        if (a->ov.images_drawn && top != a->ov.top)
            clearok(curscr, TRUE);
        redraw_images = true;
    }
    doupdate();
    if (a->ovwin != NULL && a->ov.kind == OV_DETAIL)
        overlay_images(&a->ov, &a->term, getbegy(a->ovwin), getbegx(a->ovwin), redraw_images);
    for (int i = 0; i < PANE_COUNT; i++)
        a->panes[i].dirty = false;
    a->dirty_header = a->dirty_status = a->dirty_ov = a->dirty_tabs = false;
    a->last_frame = now;
}

static bool anything_dirty(const struct app *a)
{
    if (a->dirty_header || a->dirty_status || a->dirty_ov || a->dirty_tabs || a->need_clear)
        return true;
    for (int i = 0; i < PANE_COUNT; i++)
        if (a->panes[i].dirty && a->panes[i].win != NULL)
            return true;
    return false;
}

/* ---- the loop ---- */

static void load_themes(struct app *a)
{
    char *cause = NULL;

    if (a->themes_dir != NULL &&
        theme_list(a->themes_dir, &a->theme_names, &a->ntheme, &cause) == -1) {
        log_warn("ui: themes: %s", cause);
        free(cause);
        a->theme_names = NULL;
        a->ntheme = 0;
    }
    a->themes = xcalloc(a->ntheme + 1, sizeof *a->themes);
    for (size_t i = 0; i < a->ntheme; i++) {
        if (theme_resolve(a->theme_names[i], a->themes_dir, &a->themes[i], &cause) == -1) {
            log_warn("ui: theme %s: %s", a->theme_names[i], cause); /* its default stays */
            free(cause);
            cause = NULL;
        }
        snprintf(a->themes[i].name, sizeof a->themes[i].name, "%s", a->theme_names[i]);
    }
}

int app_check_theme(const char *theme, const char *themes_dir, char **cause)
{
    struct theme t;
    char *dir = theme_dir(themes_dir);
    int rc = theme_resolve(theme, dir, &t, cause);

    free(dir);
    return rc;
}

static void loop(struct app *a)
{
    int64_t now = clock_mono_ms();

    a->last_tick = now;
    while (!a->quit) {
        struct pollfd fds[3];
        int timeout;

        now = clock_mono_ms();
        if (a->o->stop != NULL && *a->o->stop)
            break;
        if (now - a->last_tick >= TICK_MS) {
            /* Ages, uptime and time left move on every second. */
            a->last_tick = now;
            dirty_all(a);
            a->dirty_ov = false;
        }
        if (anything_dirty(a) && now - a->last_frame >= FRAME_MS)
            frame(a, now);
        if (anything_dirty(a))
            timeout = (int)(FRAME_MS - (now - a->last_frame));
        else
            timeout = (int)(TICK_MS - (now - a->last_tick));
        if (timeout < 0)
            timeout = 0;
        fds[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        fds[1] = (struct pollfd){.fd = room_fd(a->room), .events = POLLIN};
        fds[2] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
        if (!room_arm(a->room))
            timeout = 0;
        if (poll(fds, 3, timeout) == -1 && errno != EINTR)
            break;
        room_clear(a->room);
        drain_signals(a);
        if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
            break; /* the terminal is gone (a dropped SSH session) */
        read_keys(a, (fds[0].revents & POLLIN) != 0);
        take_room(a);
    }
}

int app_run(const struct app_options *o, char **cause)
{
    struct app *a = xcalloc(1, sizeof *a);
    char *tcause = NULL;
    int rc = 0, images;

    a->o = o;
    a->room = o->room;

    a->themes_dir = theme_dir(o->themes_dir);
    if (theme_resolve(o->theme, a->themes_dir, &a->theme, &tcause) == -1) {
        *cause = xasprintf("theme: %s", tcause);
        free(tcause);
        free(a->themes_dir);
        free(a);
        return -1;
    }
    if (o->theme == NULL || o->theme[0] == '\0' || a->theme.name[0] == '\0')
        snprintf(a->theme.name, sizeof a->theme.name, "%s",
                 o->theme != NULL && o->theme[0] != '\0' ? o->theme : "dark");
    if (signals_install(cause) == -1) {
        free(a->themes_dir);
        free(a);
        return -1;
    }
    load_themes(a); /* files are read now, before the terminal is the UI thread's */
    /* Which pictures the terminal takes, asked before curses owns it (never with
     * --no-images, nor when the environment says). */
    images = o->no_images || getenv("NEWSROOM_IMAGES") != NULL
                 ? IMAGES_HALF
                 : images_detect(STDIN_FILENO, STDOUT_FILENO, DETECT_MS);
    if (term_open(&a->term, stdin, stdout, o->no_color, cause) == -1) {
        signals_restore();
        for (size_t i = 0; i < a->ntheme; i++)
            free(a->theme_names[i]);
        free(a->theme_names);
        free(a->themes);
        free(a->themes_dir);
        free(a);
        return -1;
    }
    theme_apply(&a->theme, &a->term);
    a->term.images = images_choose(o->no_images, images, &a->term);
    a->pending = xcalloc(PENDING_MAX, sizeof *a->pending);
    a->history = xcalloc(HISTORY_MAX, sizeof *a->history);
    /* Keys come through a pad: reading from it never refreshes anything on the screen. */
    a->input = newpad(1, 1);
    keypad(a->input, TRUE);
    nodelay(a->input, TRUE);
    for (int i = 0; i < PANE_COUNT; i++) {
        a->panes[i].cls = pane_classes[i];
        a->panes[i].state = pane_classes[i]->init();
    }
    a->link_ok = room_link_ok(a->room, &a->down_since);
    a->link_seen = a->link_ok;
    /* The review desk is the producer's main screen: it has the focus from the start, so the
     * top story is two keys from approved (a, y). */
    a->focused = PANE_REVIEW;
    say(a, true, "%s; ? lists the keys, m the messages",
        o->read_only ? "read-only control room" : "control room ready");
    relayout(a);
    loop(a);

    overlay_close(&a->ov);
    drop_windows(a);
    delwin(a->input);
    term_close(&a->term);
    signals_restore();
    if (o->frame_stats != NULL)
        frames_write(a);
    free(a->frames);
    free(a->pending);
    free(a->history);
    free(a->bulk);
    free(a->bulk_title);
    for (int i = 0; i < PANE_COUNT; i++)
        a->panes[i].cls->free(a->panes[i].state);
    room_snapshot_free(a->snap);
    for (size_t i = 0; i < a->ntheme; i++)
        free(a->theme_names[i]);
    free(a->theme_names);
    free(a->themes);
    free(a->themes_dir);
    free(a);
    return rc;
}
