/*
 * halfblock.h - an RGB picture as terminal art: each cell is the upper half-block glyph with
 * the upper pixel row as foreground and the lower as background, in the xterm 256-colour
 * palette (pure; unit-tested). The control room draws a package's thumbnail this way on
 * 256-colour terminals.
 *
 * Threads: pure functions, any thread.
 */
#ifndef NEWSROOM_UI_HALFBLOCK_H
#define NEWSROOM_UI_HALFBLOCK_H

#include <stdint.h>

struct halfblock_cell {
    short fg, bg; /* xterm 256-colour indexes: upper and lower half */
};

/* The nearest xterm 256-colour index (the 6x6x6 cube or the grey ramp) to an RGB colour. */
short halfblock_xterm256(uint8_t r, uint8_t g, uint8_t b);
/* Scales the w x h RGB picture (3 bytes a pixel, rows top down) into cols x rows cells
 * (2 * rows pixel rows), box-averaging, into out[rows * cols] (row-major). Returns 0, or -1
 * for sizes below 1. */
int halfblock_render(const uint8_t *rgb, int w, int h, int cols, int rows,
                     struct halfblock_cell *out);

#endif
