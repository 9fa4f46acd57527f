/*
 * overlay.h - what the control room draws over the panes: the help (every key of the key
 * table, read-only hiding the acting ones), a text prompt (edit.h; Esc cancels), a yes/no
 * question, a three-way choice (the emergency's second step), and the detail of a story
 * (room_take_detail()'s text and history, wrapped to the window and scrollable). The app
 * owns one struct overlay and decides what an answer leads to; the overlay only holds the
 * state of the dialogue, turns keys into answers and draws it, at any terminal size.
 *
 * Threads: the UI thread's; overlay_draw() is the only function here that calls curses.
 */
#ifndef NEWSROOM_UI_OVERLAY_H
#define NEWSROOM_UI_OVERLAY_H

#include "room/room.h"
#include "ui/edit.h"
#include "ui/layout.h"
#include "ui/term.h"

#include <curses.h>
#include <stdbool.h>

enum overlay_kind { OV_NONE, OV_HELP, OV_PROMPT, OV_CONFIRM, OV_CHOICE, OV_DETAIL };

/* What a key did to the overlay. */
enum overlay_result {
    OVR_NONE,    /* handled, still open */
    OVR_CANCEL,  /* closed without an answer (Esc, n, cancel) */
    OVR_SUBMIT,  /* prompt: submitted (the text is in edit); confirm: yes */
    OVR_CHOICE1, /* choice: the first option */
    OVR_CHOICE2, /* choice: the second option */
    OVR_PASS,    /* detail: not a scrolling key; the app may act on it (a, r, R) */
};

struct overlay {
    int kind; /* enum overlay_kind */
    char title[ROOM_TEXT_MAX + 32];
    char text[ROOM_TEXT_MAX * 2]; /* the question, or what the prompt asks for */
    char hint[128];               /* under the prompt: why the last answer was refused */
    char option1[48], option2[48];
    struct edit edit;
    bool read_only; /* help: hide the acting keys */
    /* help and detail: wrapped lines and scrolling */
    char *body; /* help or detail text, '\n' separated (owned) */
    int *lines; /* offsets of the wrapped lines in body */
    int *lens;  /* their lengths in bytes */
    int nlines, top, wrap_cols;
    char detail_id[ROOM_ID_MAX];
    bool loading; /* detail asked for, not here yet */
};

void overlay_close(struct overlay *o);
void overlay_help(struct overlay *o, bool read_only);
void overlay_prompt(struct overlay *o, const char *title, const char *text, const char *initial);
void overlay_confirm(struct overlay *o, const char *title, const char *text);
void overlay_choice(struct overlay *o, const char *title, const char *text, const char *opt1,
                    const char *opt2);
/* The detail of story id, loading until overlay_detail_set(). */
void overlay_detail(struct overlay *o, const char *id, const char *title);
/* Takes the detail's text (borrowed: copied) into an open detail overlay of the same id. */
void overlay_detail_set(struct overlay *o, const struct room_detail *d);

/* A key (normalised, keys.h) to the open overlay. */
int overlay_key(struct overlay *o, int key);

/* Where the overlay goes on a rows x cols screen. */
struct rect overlay_rect(const struct overlay *o, int rows, int cols);
/* Draws the overlay into its window (sized as overlay_rect() says). */
void overlay_draw(struct overlay *o, WINDOW *w, const struct term *t);

#endif
