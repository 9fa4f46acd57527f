/*
 * header.h - the bars around the panes: the header (swarm, Redis link and latency, uptime,
 * throughput, global spend against the daily budget, open budget requests, dropped events,
 * and a second row for the state: running, HALTED, or the "link lost, retrying" banner), the
 * tab bar of the compact layout, and the status line (the last result or message, key hints).
 *
 * Threads: the UI thread's (curses, drawing only).
 */
#ifndef NEWSROOM_UI_HEADER_H
#define NEWSROOM_UI_HEADER_H

#include "room/room.h"
#include "ui/pane.h"
#include "ui/term.h"

#include <curses.h>
#include <stdbool.h>
#include <stdint.h>

struct header_info {
    const struct room_snapshot *snap; /* NULL before the first */
    bool link_ok;
    int64_t down_ms;     /* how long the link is down */
    int64_t snap_age_ms; /* -1 before the first snapshot */
    int64_t now_mono;
    uint64_t dropped; /* events the ring dropped */
    int pending;      /* commands sent and not answered yet */
    bool read_only, in_process;
    const char *theme;
};

void header_draw(WINDOW *w, const struct term *t, const struct header_info *h);

/* The compact layout's tab bar: "1 Blackboard  2 Debates ..." with the focused one marked. */
void tabs_draw(WINDOW *w, const struct term *t, const struct pane *panes, int n, int focused);

struct status_msg {
    char text[ROOM_TEXT_MAX + 64];
    bool ok;
    int64_t at_mono; /* 0: no message */
};

/* The status line: the message (in THEME_ALERT when not ok, dimmed after a while), then the
 * key hints at the right. */
void status_draw(WINDOW *w, const struct term *t, const struct status_msg *m, int64_t now_mono,
                 bool read_only);

#endif
