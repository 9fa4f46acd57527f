/*
 * header.h - the bars around the panes: the header (the swarm's name and state, stories
 * awaiting review with the oldest one's wait, spend against the daily budget, open budget
 * requests in colour, then agents, throughput and uptime as far as each fits whole, at 80
 * columns too; a second row says in words what the state is: halted by whom, the link lost,
 * no agent alive, or the agents, the failed stories when there are any, a circuit breaker that
 * is not closed and when it tries again, feeds and theme), the tab bar of the compact layout,
 * and the status line (the last result or message, the key hints when there is room). The
 * Redis address and latency are in the help.
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
    int64_t now_ms;   /* the server's clock, estimated */
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
