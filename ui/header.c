/*
 * header.c - the header, the compact layout's tab bar and the status line (see header.h).
 *
 * Threads: the UI thread's (curses, drawing only).
 */
#include "ui/header.h"

#include "ui/fmt.h"
#include "ui/theme.h"
#include "ui/widgets.h"

#include <stdio.h>
#include <string.h>

/* A message older than this is dimmed. */
#define STATUS_FRESH_MS 10000

static void fill(WINDOW *w, int y, enum theme_role role)
{
    wattrset(w, theme_attr(role));
    mvwhline(w, y, 0, ' ', getmaxx(w));
    wattrset(w, A_NORMAL);
}

static const struct room_budget *global_row(const struct room_snapshot *s)
{
    for (size_t i = 0; s != NULL && i < s->nbudgets; i++)
        if (strcmp(s->budgets[i].agent, "*") == 0)
            return &s->budgets[i];
    return NULL;
}

/* One piece of a header row, drawn whole or not at all. */
struct seg {
    char text[ROOM_TEXT_MAX + 64];
    enum theme_role role;
};

/* Draws the pieces in order on row y from column 1, two columns apart; a piece that does not
 * fit whole is left out (a later, shorter one may still fit). */
static void draw_segs(WINDOW *w, const struct term *t, int y, const struct seg *s, int n)
{
    int x = 1, cols = getmaxx(w);

    for (int i = 0; i < n; i++) {
        int width = ui_width(s[i].text);

        if (s[i].text[0] == '\0' || x + width > cols)
            continue;
        ui_text(w, t, y, x, s[i].text, width, s[i].role);
        x += width + 2;
    }
}

/* The stage holding the flow back, or -1 (a snapshot without a flow reading holds nothing). */
static int holding(const struct room_snapshot *s)
{
    int h = s->flow_holding;

    return h >= 0 && h < BB_FLOW_COUNT && s->flow_hwm[h] > 0 ? h : -1;
}

/* Stories FAILED, in every section. */
static long failed_count(const struct room_snapshot *s)
{
    long n = 0;

    for (int sec = 0; sec < BB_SECTION_COUNT; sec++)
        n += s->counts[sec][BB_FAILED];
    return n;
}

/* What row 1 says after the agents, cut rather than left out: the first circuit breaker that
 * is not closed, its state and when it tries again before its name (which may be long), and
 * how many are not closed (the agents pane lists them), then a failing feed; "" when neither. */
static void urgent(const struct room_snapshot *s, int64_t now_ms, char *buf, size_t size)
{
    const struct room_breaker *b = s->nbreakers > 0 ? &s->breakers[0] : NULL;
    char in[16], many[48] = "breaker";
    int n = 0;

    buf[0] = '\0';
    if (b != NULL) {
        if (s->nbreakers > 1)
            snprintf(many, sizeof many, "%zu breakers:", s->nbreakers);
        if (strcmp(b->state, "open") == 0)
            n = snprintf(
                buf, size, "%s OPEN, trial %s%s: %s", many, b->next_ms > now_ms ? "in " : "",
                b->next_ms > now_ms ? fmt_age(b->next_ms - now_ms, in, sizeof in) : "due", b->name);
        else
            n = snprintf(buf, size, "%s %s, trying: %s", many, b->state, b->name);
    }
    if (s->feeds_error > 0 && n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, "%sfeed failing: %s", n > 0 ? "; " : "", s->feed_error);
}

static int alive_agents(const struct room_snapshot *s, size_t *dead)
{
    int alive = 0;

    *dead = 0;
    for (size_t i = 0; s != NULL && i < s->nagents; i++) {
        if (strcmp(s->agents[i].status, "dead") == 0)
            (*dead)++;
        else
            alive++;
    }
    return alive;
}

void header_draw(WINDOW *w, const struct term *t, const struct header_info *h)
{
    const struct room_snapshot *s = h->snap;
    const struct room_budget *g = global_row(s);
    struct seg seg[12];
    int n = 0, cols = getmaxx(w), alive;
    char a[32], b[32], up[32], age[16], down[16], line[1024];
    size_t dead = 0;
    long waiting, failed;
    int lead;

    memset(seg, 0, sizeof seg);
    werase(w);
    fill(w, 0, THEME_HEADER);
    if (s == NULL) {
        ui_text(w, t, 0, 1, "newsroom  waiting for the first snapshot", cols - 1, THEME_HEADER);
        return;
    }
    alive = alive_agents(s, &dead);
    waiting = s->counts[BB_REVIEW_QUEUE][BB_REVIEWING];
    /* Row 0: what a producer needs at a glance, most important first. */
    snprintf(seg[n].text, sizeof seg[n].text, "%s", s->swarm[0] ? s->swarm : "newsroom");
    seg[n++].role = THEME_HEADER;
    snprintf(seg[n].text, sizeof seg[n].text, "%s",
             !h->link_ok  ? "LINK LOST"
             : s->halted  ? "HALTED"
             : alive == 0 ? "NO AGENTS"
                          : "running");
    seg[n++].role = !h->link_ok || s->halted || alive == 0 ? THEME_BANNER : THEME_HEADER;
    if (waiting > 0 && s->review_oldest_ms > 0)
        snprintf(seg[n].text, sizeof seg[n].text, "review %ld, oldest %s", waiting,
                 fmt_age(h->now_ms - s->review_oldest_ms, age, sizeof age));
    else
        snprintf(seg[n].text, sizeof seg[n].text, "review %ld", waiting);
    seg[n++].role = THEME_HEADER;
    if (g != NULL) {
        if (g->day_limit > 0)
            snprintf(seg[n].text, sizeof seg[n].text, "spend %s/%s",
                     fmt_money(g->day_spent + g->day_reserved, a, sizeof a),
                     fmt_money(g->day_limit, b, sizeof b));
        else
            snprintf(seg[n].text, sizeof seg[n].text, "spend %s, no limit",
                     fmt_money(g->day_spent + g->day_reserved, a, sizeof a));
        seg[n++].role = g->day_limit > 0 && g->day_spent + g->day_reserved > g->day_limit
                            ? THEME_BANNER
                            : THEME_HEADER;
    }
    snprintf(seg[n].text, sizeof seg[n].text, "%zu request%s", s->nrequests,
             s->nrequests == 1 ? "" : "s");
    seg[n++].role = s->nrequests > 0 ? THEME_BANNER : THEME_HEADER;
    snprintf(seg[n].text, sizeof seg[n].text, "%d agents", alive);
    seg[n++].role = THEME_HEADER;
    snprintf(seg[n].text, sizeof seg[n].text, "%.1f/min", s->stories_per_min);
    seg[n++].role = THEME_HEADER;
    snprintf(seg[n].text, sizeof seg[n].text, "up %s",
             fmt_uptime(h->now_mono - s->started_mono, up, sizeof up));
    seg[n++].role = THEME_HEADER;
    if (s->tracing[0] != '\0') { /* what the swarm's trace exporters report */
        snprintf(seg[n].text, sizeof seg[n].text, "tracing %s", s->tracing);
        seg[n++].role = strstr(s->tracing, "DOWN") != NULL ? THEME_BANNER : THEME_HEADER;
    }
    if (h->dropped > 0) {
        snprintf(seg[n].text, sizeof seg[n].text, "dropped %llu", (unsigned long long)h->dropped);
        seg[n++].role = THEME_HEADER;
    }
    if (h->read_only) {
        snprintf(seg[n].text, sizeof seg[n].text, "read-only");
        seg[n++].role = THEME_HEADER;
    }
    draw_segs(w, t, 0, seg, n);

    /* Row 1: the state of the link and the swarm, in words. */
    if (!h->link_ok) {
        fill(w, 1, THEME_BANNER);
        snprintf(line, sizeof line, " LINK LOST, retrying (down %s); showing data from %s ago%s",
                 fmt_age(h->down_ms, down, sizeof down),
                 h->snap_age_ms >= 0 ? fmt_age(h->snap_age_ms, age, sizeof age) : "-",
                 h->pending > 0 ? "; actions wait for the link" : "");
        ui_text(w, t, 1, 0, line, cols, THEME_BANNER);
    } else if (s->halted) {
        fill(w, 1, THEME_BANNER);
        snprintf(line, sizeof line, " HALTED by %s %s ago: %s%s", s->halt_by[0] ? s->halt_by : "?",
                 fmt_age(s->taken_ms - s->halt_ms, age, sizeof age), s->halt_message,
                 h->read_only ? "" : "  (h resumes)");
        ui_text(w, t, 1, 0, line, cols, THEME_BANNER);
    } else if (alive == 0) {
        fill(w, 1, THEME_BANNER);
        ui_text(w, t, 1, 0,
                h->in_process ? " NO AGENTS ALIVE: the swarm in this process has no agent running"
                              : " NO AGENTS ALIVE (attached): the swarm is stopped; start it with "
                                "newsroom swarm",
                cols, THEME_BANNER);
    } else {
        n = 0;
        memset(seg, 0, sizeof seg);
        snprintf(seg[n].text, sizeof seg[n].text, "%d agents alive%s", alive, dead > 0 ? "," : "");
        seg[n++].role = THEME_DIM;
        if (dead > 0) {
            snprintf(seg[n].text, sizeof seg[n].text, "%zu DEAD", dead);
            seg[n++].role = THEME_ALERT;
        }
        if (holding(s) >= 0) {
            int at = holding(s);

            snprintf(seg[n].text, sizeof seg[n].text, "flow held at %s (%ld/%ld)",
                     bb_flow_stages[at].name, s->flow_depth[at], s->flow_hwm[at]);
            seg[n++].role = THEME_WARN;
        }
        if ((failed = failed_count(s)) > 0) { /* stories waiting for an operator's requeue */
            snprintf(seg[n].text, sizeof seg[n].text, "%ld failed stor%s (8)", failed,
                     failed == 1 ? "y" : "ies");
            seg[n++].role = THEME_WARN;
        }
        lead = n; /* what goes before a breaker's or a feed's reason */
        if (s->feeds_error > 0) {
            snprintf(seg[n].text, sizeof seg[n].text, "feed failing: %s", s->feed_error);
            seg[n++].role = THEME_WARN;
        } else if (s->feeds > 0) {
            snprintf(seg[n].text, sizeof seg[n].text, "feeds %d ok", s->feeds);
            seg[n++].role = THEME_DIM;
        }
        snprintf(seg[n].text, sizeof seg[n].text, "%s",
                 h->in_process ? "swarm in this process" : "attached");
        seg[n++].role = THEME_DIM;
        snprintf(seg[n].text, sizeof seg[n].text, "theme %s", h->theme);
        seg[n++].role = THEME_DIM;
        urgent(s, h->now_ms, line, sizeof line);
        if (line[0] != '\0') { /* cut rather than left out: the reason matters */
            int x = 1;

            draw_segs(w, t, 1, seg, lead);
            for (int i = 0; i < lead; i++)
                x += ui_width(seg[i].text) + 2;
            ui_text(w, t, 1, x, line, cols, THEME_WARN);
        } else {
            draw_segs(w, t, 1, seg, n);
        }
    }
}

void tabs_draw(WINDOW *w, const struct term *t, const struct pane *panes, int n, int focused)
{
    int x = 1, gap = 1, names = 0, cols = getmaxx(w);
    bool tight = false;

    /* " 1 Name " labels a column apart when they all fit so; else without the gaps; else (80
     * columns, eight panes) "1 Name" a column apart, the focused one padded. */
    for (int i = 0; i < n; i++)
        names += (int)strlen(panes[i].cls->name);
    if (1 + names + 5 * n > cols) {
        x = gap = 0;
        if (names + 4 * n > cols) {
            tight = true;
            gap = 1;
        }
    }
    werase(w);
    for (int i = 0; i < n && x < cols; i++) {
        char label[48];

        snprintf(label, sizeof label, tight && i != focused ? "%d %s" : " %d %s ", i + 1,
                 panes[i].cls->name);
        x += ui_text(w, t, 0, x, label, cols - x, i == focused ? THEME_FOCUS : THEME_DIM) + gap;
    }
}

void status_draw(WINDOW *w, const struct term *t, const struct status_msg *m, int64_t now_mono,
                 bool read_only)
{
    const char *hints =
        read_only ? "read-only  ? help  m messages  q quit" : "? help  m messages  q quit";
    int cols = getmaxx(w), hw = (int)strlen(hints) + 1, mw = ui_width(m->text);
    /* A long message takes the whole line (the hints are in the help); m shows it whole. */
    bool room_for_hints = m->at_mono == 0 || mw + hw + 3 <= cols;

    werase(w);
    fill(w, 0, THEME_STATUS);
    if (m->at_mono > 0) {
        enum theme_role role = !m->ok                                    ? THEME_ALERT
                               : now_mono - m->at_mono > STATUS_FRESH_MS ? THEME_STATUS
                                                                         : THEME_OK;

        ui_text(w, t, 0, 1, m->text, room_for_hints ? cols - hw - 2 : cols - 2, role);
    }
    if (room_for_hints && cols > hw + 20)
        ui_text(w, t, 0, cols - hw, hints, hw, THEME_STATUS);
}
