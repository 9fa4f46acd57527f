/*
 * pane_blackboard.c - the blackboard pane: every section with its stories counted by status
 * and a sparkline of what entered it, the flow (each stage's depth against its high-water mark,
 * and the stage holding the flow back, also named in the title), and under them the stories of
 * the selected section (id, title, status, age, owner). Left/Right pick the section, Enter opens
 * the story.
 *
 * Threads: the UI thread's. update() copies counts, flows and items from the snapshot.
 */
#include "ui/pane.h"

#include "core/fail.h"
#include "ui/fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Status names short enough for a count column. */
static const char *const short_status[BB_STATUS_COUNT] = {
    [BB_PENDING] = "pend",           [BB_PROCESSING] = "proc", [BB_DEBATING] = "deb",
    [BB_CONSENSUS_REACHED] = "cons", [BB_PRODUCING] = "prod",  [BB_REVIEWING] = "rev",
    [BB_APPROVED] = "appr",          [BB_REJECTED] = "rej",    [BB_PUBLISHED_S] = "pub",
    [BB_ARCHIVED] = "arch",          [BB_FAILED] = "fail",
};

struct bb_state {
    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT];
    long flow_depth[BB_FLOW_COUNT], flow_hwm[BB_FLOW_COUNT];
    int flow_holding; /* -1: the flow runs freely */
    uint16_t flow[BB_SECTION_COUNT][ROOM_FLOW_LEN];
    struct pane_copy c; /* struct room_item; listed: the selected section's that pass */
    int section;
    bool have;
};

static void *bb_init(void)
{
    return xcalloc(1, sizeof(struct bb_state));
}

static void bb_free_state(void *state)
{
    struct bb_state *st = state;

    if (st == NULL)
        return;
    pane_copy_free(&st->c);
    free(st);
}

/* Rows the section table takes: all sections when there is room, else the selected one; and
 * the flow's row under them when there is room for that too. */
static int table_rows(const struct pane *p)
{
    return pane_rows(p, 0) >= BB_SECTION_COUNT + 6 ? BB_SECTION_COUNT : 1;
}

static bool flow_row(const struct pane *p)
{
    return pane_rows(p, 0) >= BB_SECTION_COUNT + 7;
}

static int list_rows(const struct pane *p)
{
    return pane_rows(p, table_rows(p) + flow_row(p) + 1);
}

/* arg: the pane's state, for the selected section. */
static bool match(const void *rec, const char *filter, const void *arg)
{
    const struct room_item *it = rec;
    const struct bb_state *st = arg;
    const char *fields[] = {
        it->id, it->title, it->owner,
        it->status >= 0 && it->status < BB_STATUS_COUNT ? bb_statuses[it->status].name : ""};

    return it->section == st->section && fmt_match_any(fields, 4, filter);
}

static const char *id_of(const void *rec)
{
    return ((const struct room_item *)rec)->id;
}

static void rebuild(struct pane *p)
{
    struct bb_state *st = p->state;

    pane_copy_filter(p, &st->c, 0, match, st, id_of);
    pane_fit(p, (int)st->c.nidx, list_rows(p));
}

static void bb_resize(struct pane *p)
{
    pane_fit(p, p->list.count, list_rows(p));
}

static void bb_update(struct pane *p, const struct room_snapshot *s)
{
    struct bb_state *st = p->state;

    memcpy(st->counts, s->counts, sizeof st->counts);
    memcpy(st->flow_depth, s->flow_depth, sizeof st->flow_depth);
    memcpy(st->flow_hwm, s->flow_hwm, sizeof st->flow_hwm);
    st->flow_holding =
        s->flow_holding >= 0 && s->flow_holding < BB_FLOW_COUNT && s->flow_hwm[s->flow_holding] > 0
            ? s->flow_holding
            : -1;
    memcpy(st->flow, s->flow, sizeof st->flow);
    pane_copy_set(p, &st->c, s->items, s->nitems, sizeof *s->items, id_of);
    st->have = true;
    rebuild(p);
}

static void draw_section(struct pane *p, const struct pane_ctx *c, int y, int sec)
{
    struct bb_state *st = p->state;
    int w = getmaxx(p->win), x, spark = w >= 100 ? 30 : 16;
    long total = 0;
    char buf[256];
    size_t len = 0;
    bool sel = sec == st->section;

    for (int s = 0; s < BB_STATUS_COUNT; s++) {
        total += st->counts[sec][s];
        if (st->counts[sec][s] > 0 && len < sizeof buf)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s %ld", len ? " " : "",
                                    short_status[s], st->counts[sec][s]);
    }
    if (len == 0)
        snprintf(buf, sizeof buf, "-");
    x = pane_col(p, c, y, 1, 2, sel ? c->term->glyphs->arrow : " ", THEME_TITLE);
    x = pane_col(p, c, y, x, 16, bb_section_names[sec], sel ? THEME_TITLE : THEME_NORMAL);
    {
        char n[24];

        snprintf(n, sizeof n, "%5ld", total);
        x = pane_col(p, c, y, x, 5, n, THEME_NORMAL);
    }
    if (w - 2 - x > spark + 10) {
        ui_sparkline(p->win, c->term, y, w - 1 - spark, spark, st->flow[sec], ROOM_FLOW_LEN);
        pane_col(p, c, y, x, w - 3 - spark - x, buf, THEME_DIM);
    } else {
        pane_col(p, c, y, x, w - 1 - x, buf, THEME_DIM);
    }
}

/* The flow's row: every stage's depth against its mark, the full ones marked, and the stage
 * that holds the flow back with who stops for it. */
static void draw_flow(struct pane *p, const struct pane_ctx *c, int y)
{
    struct bb_state *st = p->state;
    int w = getmaxx(p->win), x = pane_col(p, c, y, 1, 6, "flow", THEME_TITLE);

    for (int i = 0; i < BB_FLOW_COUNT && x < w - 1; i++) {
        bool full = st->flow_hwm[i] > 0 && st->flow_depth[i] >= st->flow_hwm[i];
        char cell[48];

        if (st->flow_hwm[i] > 0)
            snprintf(cell, sizeof cell, "%s %ld/%ld", bb_flow_stages[i].name, st->flow_depth[i],
                     st->flow_hwm[i]);
        else
            snprintf(cell, sizeof cell, "%s %ld", bb_flow_stages[i].name, st->flow_depth[i]);
        x = pane_col(p, c, y, x, (int)strlen(cell) + 1, cell, full ? THEME_WARN : THEME_DIM);
    }
    if (st->flow_holding >= 0 && x < w - 1) {
        char why[160];

        snprintf(why, sizeof why, "- held at %s: %s", bb_flow_stages[st->flow_holding].name,
                 bb_flow_stages[st->flow_holding].held);
        pane_col(p, c, y, x, w - 1 - x, why, THEME_WARN);
    }
}

static void bb_draw(struct pane *p, const struct pane_ctx *c)
{
    struct bb_state *st = p->state;
    int w = getmaxx(p->win), y = 1, rows, tr = table_rows(p), idw, ow, tw;
    char title[128];

    if (st->flow_holding >= 0)
        snprintf(title, sizeof title, "Blackboard: %s  (flow held at %s)",
                 bb_section_names[st->section], bb_flow_stages[st->flow_holding].name);
    else
        snprintf(title, sizeof title, "Blackboard: %s", bb_section_names[st->section]);
    pane_frame(p, c, title);
    if (getmaxy(p->win) < 4 || w < 20)
        return;
    if (tr == BB_SECTION_COUNT)
        for (int sec = 0; sec < BB_SECTION_COUNT; sec++)
            draw_section(p, c, y++, sec);
    else
        draw_section(p, c, y++, st->section);
    if (flow_row(p))
        draw_flow(p, c, y++);
    /* Narrow panes leave out the id, then the owner. */
    idw = w - 2 >= 70 ? 16 : 0;
    ow = w - 2 >= 100 ? 18 : 0;
    tw = w - 2 - (idw ? idw + 1 : 0) - (9 + 1 + 5 + 1) - (ow ? ow + 1 : 0);
    {
        int x = 1;

        x = pane_col(p, c, y, x, idw, "ID", THEME_TITLE);
        x = pane_col(p, c, y, x, tw, "TITLE", THEME_TITLE);
        x = pane_col(p, c, y, x, 9, "STATUS", THEME_TITLE);
        x = pane_col(p, c, y, x, 5, "AGE", THEME_TITLE);
        pane_col(p, c, y, x, ow, "OWNER", THEME_TITLE);
        y++;
    }
    rows = list_rows(p);
    if (st->c.nidx == 0) {
        pane_empty(p, c, y);
        return;
    }
    for (int r = 0; r < rows && p->list.top + r < (int)st->c.nidx; r++) {
        int i = p->list.top + r, x = 1;
        const struct room_item *it = pane_copy_row(&st->c, i);
        bool sel = i == p->list.selected && p->focused;
        int status = it->status >= 0 && it->status < BB_STATUS_COUNT ? it->status : 0;
        enum theme_role srole = status == BB_FAILED        ? THEME_ALERT
                                : status == BB_PUBLISHED_S ? THEME_OK
                                : status == BB_REVIEWING   ? THEME_WARN
                                                           : THEME_NORMAL;
        char age[16];

        pane_row(p, y + r, sel);
        x = pane_col(p, c, y + r, x, idw, it->id, PANE_ROLE(sel, THEME_DIM));
        x = pane_col(p, c, y + r, x, tw, it->title, PANE_ROLE(sel, THEME_NORMAL));
        x = pane_col(p, c, y + r, x, 9, bb_statuses[status].name, PANE_ROLE(sel, srole));
        x = pane_col(p, c, y + r, x, 5, fmt_age(c->now_ms - it->updated_ms, age, sizeof age),
                     PANE_ROLE(sel, THEME_DIM));
        pane_col(p, c, y + r, x, ow, it->owner[0] ? it->owner : "-", PANE_ROLE(sel, THEME_DIM));
    }
}

static int bb_key(struct pane *p, int action, struct pane_request *req)
{
    struct bb_state *st = p->state;
    const struct room_item *it = pane_copy_selected(p, &st->c);

    switch (action) {
    case ACT_LEFT:
    case ACT_RIGHT:
        st->section =
            (st->section + (action == ACT_LEFT ? BB_SECTION_COUNT - 1 : 1)) % BB_SECTION_COUNT;
        p->list.selected = p->list.top = 0;
        rebuild(p);
        return 1;
    case ACT_ENTER:
        return it != NULL ? pane_open(req, it->id, it->title) : 0;
    case ACT_FILTER: /* the app set p->filter */
        rebuild(p);
        return 1;
    default:
        return pane_list_action(p, action, list_rows(p));
    }
}

const struct pane_class pane_blackboard = {
    .name = "Blackboard",
    .empty = "no stories in this section (Left/Right: another section)",
    .init = bb_init,
    .free = bb_free_state,
    .resize = bb_resize,
    .update = bb_update,
    .event = NULL,
    .draw = bb_draw,
    .key = bb_key,
};
