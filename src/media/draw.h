/*
 * draw.h - what the project draws with ffmpeg's filters shares: a growing string, text wrapped
 * into lines, files written whole, and a filter graph of drawbox and drawtext filters in the
 * look of a template (video.h). Every text reaches ffmpeg through a file of its own in the
 * graph's folder (drawtext textfile=, expansion=none), never inside the graph, so no story text
 * needs escaping; the graph names those files by short relative names, so ffmpeg runs in that
 * folder. The render (video.c) and the chart slide (chart.c) draw through it.
 *
 * Threads: any; a graph belongs to its caller.
 */
#ifndef NEWSROOM_DRAW_H
#define NEWSROOM_DRAW_H

#include "media/video.h"

#include <stddef.h>

/* A growing string; s is NULL until something is added. Free s. */
struct draw_buf {
    char *s;
    size_t len, cap;
};
void draw_add(struct draw_buf *b, const char *s, size_t n);
void draw_printf(struct draw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* text folded to words (controls are white space) and wrapped into lines of at most width
 * characters, at most max_lines of them (the last ending in "..." when cut). A new string
 * without a final newline. */
char *draw_wrap(const char *text, int width, int max_lines);

/* Writes len bytes of data to path (created or replaced) and fsyncs it. Returns 0, or -1 with
 * *cause; errno then says why. */
int draw_write_file(const char *path, const char *data, size_t len, char **cause);

/* A chain of drawing filters being built. dir is the folder its text files go to, named
 * "<prefix>NNN.txt" (nfiles of them so far). After a text file could not be written, cause
 * says why and err holds its errno. Free g.s and cause. */
struct draw_graph {
    struct draw_buf g;
    const struct video_template *t;
    const char *dir;
    const char *prefix;
    int nfiles;
    char *cause;
    int err;
};

/* "," before the next filter when the chain is not empty. */
void draw_sep(struct draw_graph *gr);
/* A filled box: geometry "x=..:y=..:w=..:h=..", an ffmpeg colour; shown from a to z seconds
 * (a < 0: always). */
void draw_box(struct draw_graph *gr, const char *geometry, const char *color, double a, double z);
/* text in the template's font at size and color, at x and y (drawtext expressions), shown
 * from a to z (a < 0: always). Returns 0, or -1 when its file could not be written (cause and
 * err set). */
int draw_text(struct draw_graph *gr, const char *text, int size, const char *color, const char *x,
              const char *y, double a, double z);

/* draw_text() on a filled box (box, an ffmpeg colour) reaching border pixels past the text: a
 * credit or a mark that must read over any picture. */
int draw_label(struct draw_graph *gr, const char *text, int size, const char *color,
               const char *box, int border, const char *x, const char *y, double a, double z);

#endif
