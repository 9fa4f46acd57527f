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

void header_draw(WINDOW *w, const struct term *t, const struct header_info *h)
{
    const struct room_snapshot *s = h->snap;
    const struct room_budget *g = global_row(s);
    int cols = getmaxx(w);
    char line[1024], a[32], b[32], up[32], age[16], down[16];
    size_t len = 0;

    werase(w);
    fill(w, 0, THEME_HEADER);
    if (s == NULL) {
        len = (size_t)snprintf(line, sizeof line, " newsroom  waiting for the first snapshot");
    } else {
        len = (size_t)snprintf(line, sizeof line, " %s  redis %s %.1f ms  up %s  %.1f stories/min",
                               s->swarm, s->address, (double)s->latency_us / 1000.0,
                               fmt_uptime(h->now_mono - s->started_mono, up, sizeof up),
                               s->stories_per_min);
        if (g != NULL && len < sizeof line)
            len += (size_t)snprintf(line + len, sizeof line - len, "  spend %s of %s",
                                    fmt_money(g->day_spent + g->day_reserved, a, sizeof a),
                                    g->day_limit > 0 ? fmt_money(g->day_limit, b, sizeof b)
                                                     : "no limit");
        if (len < sizeof line)
            len += (size_t)snprintf(line + len, sizeof line - len, "  requests %zu", s->nrequests);
        if (s->feeds > 0 && len < sizeof line)
            len += (size_t)snprintf(line + len, sizeof line - len, "  feeds %d ok, %d failing",
                                    s->feeds - s->feeds_error, s->feeds_error);
        if (s->tracing[0] != '\0' && len < sizeof line)
            len += (size_t)snprintf(line + len, sizeof line - len, "  tracing %s", s->tracing);
    }
    if (len < sizeof line)
        snprintf(line + len, sizeof line - len, "  dropped %llu", (unsigned long long)h->dropped);
    ui_text(w, t, 0, 0, line, cols, THEME_HEADER);

    /* The second row: the state of the link and the swarm. */
    if (!h->link_ok) {
        fill(w, 1, THEME_BANNER);
        snprintf(line, sizeof line, " LINK LOST, retrying (down %s); showing data from %s ago%s",
                 fmt_age(h->down_ms, down, sizeof down),
                 h->snap_age_ms >= 0 ? fmt_age(h->snap_age_ms, age, sizeof age) : "-",
                 h->pending > 0 ? "; actions wait for the link" : "");
        ui_text(w, t, 1, 0, line, cols, THEME_BANNER);
    } else if (s != NULL && s->halted) {
        fill(w, 1, THEME_BANNER);
        snprintf(line, sizeof line, " HALTED by %s %s ago: %s%s", s->halt_by[0] ? s->halt_by : "?",
                 fmt_age(s->taken_ms - s->halt_ms, age, sizeof age), s->halt_message,
                 h->read_only ? "" : "  (h resumes)");
        ui_text(w, t, 1, 0, line, cols, THEME_BANNER);
    } else {
        size_t alive = 0, dead = 0;
        long total = 0;

        for (size_t i = 0; s != NULL && i < s->nagents; i++) {
            if (strcmp(s->agents[i].status, "dead") == 0)
                dead++;
            else
                alive++;
        }
        for (int sec = 0; s != NULL && sec < BB_SECTION_COUNT; sec++)
            for (int st = 0; st < BB_STATUS_COUNT; st++)
                total += s->counts[sec][st];
        snprintf(line, sizeof line,
                 " running  %zu agents alive  %ld stories  %ld awaiting review  %s%s  theme %s",
                 alive, total, s != NULL ? s->counts[BB_REVIEW_QUEUE][BB_REVIEWING] : 0,
                 h->in_process ? "swarm in this process" : "attached",
                 h->read_only ? "  read-only" : "", h->theme);
        if (s != NULL && s->feeds_error > 0) {
            size_t used = strlen(line);

            /* A failing source says which and why. */
            snprintf(line + used, sizeof line - used, "  feed failing: %s", s->feed_error);
        }
        ui_text(w, t, 1, 0, line, cols,
                dead > 0 || (s != NULL && s->feeds_error > 0) ? THEME_WARN : THEME_DIM);
        if (dead > 0) {
            char d[32];

            snprintf(d, sizeof d, " %zu DEAD ", dead);
            ui_text(w, t, 1, cols - (int)strlen(d), d, (int)strlen(d), THEME_ALERT);
        }
    }
}

void tabs_draw(WINDOW *w, const struct term *t, const struct pane *panes, int n, int focused)
{
    int x = 1, gap = 1, need = 1, cols = getmaxx(w);

    /* A gap between the labels when they all fit with it; else none, which 80 columns hold. */
    for (int i = 0; i < n; i++)
        need += (int)strlen(panes[i].cls->name) + 5;
    if (need > cols)
        x = gap = 0;
    werase(w);
    for (int i = 0; i < n && x < cols; i++) {
        char label[48];

        snprintf(label, sizeof label, " %d %s ", i + 1, panes[i].cls->name);
        x += ui_text(w, t, 0, x, label, cols - x, i == focused ? THEME_FOCUS : THEME_DIM) + gap;
    }
}

void status_draw(WINDOW *w, const struct term *t, const struct status_msg *m, int64_t now_mono,
                 bool read_only)
{
    const char *hints = read_only ? "read-only  ? help  q quit" : "? help  / filter  q quit";
    int cols = getmaxx(w), hw = (int)strlen(hints) + 1;

    werase(w);
    fill(w, 0, THEME_STATUS);
    if (m->at_mono > 0) {
        enum theme_role role = !m->ok                                    ? THEME_ALERT
                               : now_mono - m->at_mono > STATUS_FRESH_MS ? THEME_STATUS
                                                                         : THEME_OK;

        ui_text(w, t, 0, 1, m->text, cols - hw - 2, role);
    }
    if (cols > hw + 20)
        ui_text(w, t, 0, cols - hw, hints, hw, THEME_STATUS);
}
