/*
 * app.h - the control room's UI loop. It owns the terminal (term.h), the panes (pane.h), the
 * header, status line and overlays, and talks to the swarm only through a started struct
 * room (room.h): snapshots and events in, commands out. It sleeps only in poll() on the
 * terminal, the room's wake-up descriptor and a self-pipe its signal handlers write one byte
 * to (SIGWINCH, SIGINT, SIGTERM, SIGHUP); it never calls Redis. It draws only what changed,
 * at most APP_FPS frames a second, with one doupdate() a frame.
 *
 * Threads: app_run() runs on the calling thread, which becomes the UI thread for its
 * duration. It installs its own handlers for the four signals and puts back the ones it
 * found when it returns.
 */
#ifndef NEWSROOM_UI_APP_H
#define NEWSROOM_UI_APP_H

#include <signal.h>
#include <stdbool.h>

#define APP_FPS 20

struct room;

struct app_options {
    struct room *room;      /* started; borrowed */
    bool read_only;         /* hide and refuse the acting keys */
    bool no_color;          /* monochrome whatever the terminal can do */
    bool no_images;         /* --no-images: frames as text only, the terminal never queried */
    bool in_process;        /* the swarm runs in this process: q asks first */
    const char *theme;      /* --theme / [ui] theme: a name or a path; NULL or "": dark */
    const char *themes_dir; /* where names are looked up and t cycles; NULL: ./themes */
    /* Set by the caller's signal handlers before app_run() took over (Ctrl-C during
     * start-up): the control room then closes at once. May be NULL. */
    const volatile sig_atomic_t *stop;
    /* When set, every frame's start (CLOCK_MONOTONIC, µs) and duration (µs) are written
     * there, one "start duration" line each, when the control room closes (`newsroom bench
     * tui` reads them; $NEWSROOM_UI_STATS). */
    const char *frame_stats;
};

/* Runs the control room on stdin/stdout until q (confirmed when in_process), a signal, or
 * the end of the terminal (EOF or hang-up on stdin). The terminal is restored on every way
 * out. Returns 0, or -1 with *cause (free it) when the terminal cannot be opened or the theme
 * cannot be read. */
int app_run(const struct app_options *o, char **cause);

/* Checks a theme spec against a themes directory as app_run() will resolve it: 0, or -1 with
 * *cause (free it). For a clear error before anything starts. */
int app_check_theme(const char *theme, const char *themes_dir, char **cause);

#endif
