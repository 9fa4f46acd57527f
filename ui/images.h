/*
 * images.h - pictures in the terminal (a package's thumbnail and contact sheet): real images
 * over the kitty graphics protocol or sixel where the terminal answers a query for them,
 * colour half-blocks (halfblock.h) where it has 256 colours, text only elsewhere or with
 * --no-images.
 *
 * Detection (images_detect(), before curses owns the terminal): the kitty graphics query and
 * a Primary Device Attributes request (DA1) are written, and the answer is read with a
 * timeout. A kitty answer ("_Gi=31;OK") means kitty; a DA1 answer listing 4 means sixel; any
 * other answer means neither; no answer within the timeout means the terminal is not asked
 * again and gets half-blocks at most ("never on a terminal that does not answer").
 * $NEWSROOM_IMAGES (none, half, sixel, kitty) overrides the detection, for tests.
 *
 * Threads: the UI thread's; the encoders and the reply parser are pure (unit-tested).
 */
#ifndef NEWSROOM_UI_IMAGES_H
#define NEWSROOM_UI_IMAGES_H

#include "ui/term.h"

#include <curses.h>
#include <stddef.h>
#include <stdint.h>

enum images_mode { IMAGES_NONE, IMAGES_HALF, IMAGES_SIXEL, IMAGES_KITTY };
extern const char *const images_mode_names[];

/* What a terminal's answer to the query says: IMAGES_KITTY, IMAGES_SIXEL, IMAGES_HALF (it
 * answered, neither protocol), or -1 when buf holds no complete DA1 answer yet. Pure. */
int images_parse_reply(const char *buf, size_t n);

/* Asks the terminal on in_fd/out_fd (a tty, not yet in curses' hands) and waits at most
 * timeout_ms for its answer. Returns the mode its answer allows (IMAGES_HALF when it does not
 * answer in time, or does not answer at all); the terminal's modes are restored. */
int images_detect(int in_fd, int out_fd, int timeout_ms);

/* The mode to use: none with no_images or a terminal under 256 colours for half-blocks
 * (real images need no palette), else $NEWSROOM_IMAGES when set, else detected. */
int images_choose(bool no_images, int detected, const struct term *t);

/* rgb (w x h, 3 bytes a pixel) as a sixel image: a new string of *len bytes (free it). The
 * palette is the 6x6x6 colour cube. Pure. */
char *images_sixel(const uint8_t *rgb, int w, int h, size_t *len);
/* rgb as a kitty graphics protocol transmit-and-display sequence placed over cols x rows
 * cells without moving the cursor: a new string of *len bytes (free it). Pure. */
char *images_kitty(const uint8_t *rgb, int w, int h, int cols, int rows, size_t *len);
/* Deletes every kitty image placement (before the screen is redrawn). */
#define IMAGES_KITTY_CLEAR "\033_Ga=d,d=a,q=2\033\\"

/* Draws rgb (pw x ph) as half-block art scaled to cols x rows cells, only its rows skip ..
 * skip + count - 1, the first at (y, x) of w, with colour pairs from a pool of its own above
 * the theme's (UI thread; needs 256 colours). */
void images_halfblock(WINDOW *w, int y, int x, int cols, int rows, int skip, int count,
                      const uint8_t *rgb, int pw, int ph);

#endif
