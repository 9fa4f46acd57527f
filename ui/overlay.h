/*
 * overlay.h - what the control room draws over the panes: the help (every key of the key
 * table, the acting keys first, read-only hiding them), a text (the message history), a text
 * prompt (edit.h; Esc cancels), a yes/no question, a choice of up to eight options (the
 * emergency's second step, the grant's preset amounts, a requeue's step), and the detail of a
 * story: its sections (room.h) wrapped to the window, scrollable, with jump keys 1-6 and, for a
 * rendered video, its frames (the thumbnail and the contact sheet) drawn as images.h allows. The
 * app owns one struct overlay and decides what an answer leads to; the overlay only holds the
 * state of the dialogue, turns keys into answers and draws it, at any terminal size. An alert
 * overlay (the emergency) is drawn in the alert colours.
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

#define OVERLAY_CHOICES 8

/* What a key did to the overlay. */
enum overlay_result {
    OVR_NONE,    /* handled, still open */
    OVR_CANCEL,  /* closed without an answer (Esc, n, cancel) */
    OVR_SUBMIT,  /* prompt: submitted (the text is in edit); confirm: yes */
    OVR_CHOICE1, /* choice: the first option; OVR_CHOICE1 + k the (k+1)th */
    OVR_CHOICE2,
    OVR_CHOICE3,
    OVR_CHOICE4,
    OVR_CHOICE5,
    OVR_CHOICE6,
    OVR_CHOICE7,
    OVR_CHOICE8,
    OVR_PASS, /* detail: not a key of its own; the app may act on it (a, r, R, y, u, U) */
};

struct overlay {
    int kind;   /* enum overlay_kind */
    bool alert; /* drawn in the alert colours (the emergency) */
    char title[ROOM_ID_MAX + ROOM_TEXT_MAX + 8];
    char text[ROOM_TEXT_MAX * 2]; /* the question, or what the prompt asks for */
    char hint[128];               /* under the prompt: why the last answer was refused */
    char option[OVERLAY_CHOICES][64];
    int noptions;
    struct edit edit;
    /* help, text and detail: wrapped lines and scrolling */
    char *body; /* '\n' separated (owned) */
    int *lines; /* offsets of the wrapped lines in body (-1: a row of the frames block) */
    int *lens;  /* their lengths in bytes, shown */
    int nlines, top, wrap_cols, wrap_rows;
    /* detail */
    char detail_id[ROOM_ID_MAX];
    bool loading;         /* detail asked for, not here yet */
    bool reviewing;       /* the story awaits a decision: a, r, R act on it */
    char failed_step[24]; /* the story is FAILED at this step: u, U requeue it; "" when not */
    int attempts;         /* a FAILED story's attempts */
    char fail_reason[ROOM_TEXT_MAX]; /* and its last error */
    char preview_url[512];
    int sec_off[ROOM_SEC_COUNT];  /* byte offset of each section's heading in body; -1 none */
    int sec_line[ROOM_SEC_COUNT]; /* its wrapped line */
    int frames_after;             /* the frames block goes before this section's heading */
    bool frames_coming;
    struct room_frames *frames;   /* owned; NULL until they came */
    int frames_line, frames_rows; /* where the block is among the wrapped lines */
    bool images_drawn;            /* real images are on the screen (redraw them on a change) */
};

void overlay_close(struct overlay *o);
/* The help; about: lines to add at its end (the Redis link, ...), may be NULL. */
void overlay_help(struct overlay *o, bool read_only, const char *about);
/* A scrollable text (copied). */
void overlay_text(struct overlay *o, const char *title, const char *text);
void overlay_prompt(struct overlay *o, const char *title, const char *text, const char *initial);
void overlay_confirm(struct overlay *o, const char *title, const char *text);
/* A choice of n (1 to OVERLAY_CHOICES) options, keys 1-n (the first two also a and h, the
 * emergency's). */
void overlay_choice(struct overlay *o, const char *title, const char *text, const char *const *opts,
                    int n);
/* The detail of story id, loading until overlay_detail_set(). */
void overlay_detail(struct overlay *o, const char *id, const char *title);
/* Takes the detail's sections (borrowed: copied) into an open detail overlay of the same id. */
void overlay_detail_set(struct overlay *o, const struct room_detail *d);
/* Takes the frames (ownership) into an open detail of the same id; frees them otherwise. */
void overlay_frames_set(struct overlay *o, struct room_frames *f);

/* A key (normalised, keys.h) to the open overlay. */
int overlay_key(struct overlay *o, int key);

/* Where the overlay goes on a rows x cols screen. */
struct rect overlay_rect(const struct overlay *o, int rows, int cols);
/* Draws the overlay into its window (sized as overlay_rect() says), at screen position
 * (wy, wx) of that window (where real images go). */
void overlay_draw(struct overlay *o, WINDOW *w, const struct term *t);
/* After doupdate(): writes the real images (sixel, kitty) of a detail's frames to the
 * terminal at their cells, when redraw is set or they are not on the screen yet. wy, wx: the
 * overlay window's position. */
void overlay_images(struct overlay *o, const struct term *t, int wy, int wx, bool redraw);

/* The frames block's geometry for a width: thumbnail and contact-sheet cells (pure). */
struct overlay_frames_geom {
    int thumb_cols, thumb_rows, cell_cols, cell_rows, per_row, rows;
};
void overlay_frames_geom(int cols, size_t nsheet, struct overlay_frames_geom *g);

#endif
