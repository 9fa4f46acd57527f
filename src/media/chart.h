/*
 * chart.h - a chart slide of the figures a story states, drawn by the project with ffmpeg's
 * drawbox and drawtext filters (draw.h) in the video template's colours, offline.
 *
 * The figures are the writer's: every amount, percentage or count with its unit in the final
 * script ("86.6 million dollars", "$4.2 billion", "35 percent", "12,400 jobs"), kept only when
 * the story's own text (the sources the analyst read) states the same number too, so a chart
 * never shows a figure the story does not state. Years, ordinals and numbers without a unit
 * are not figures. Two or more figures make a chart: when two or more share a unit, a bar chart
 * of those (bars in proportion, each labelled with the figure as the story writes it);
 * otherwise a comparison of up to four figures side by side, without a common scale (bars of
 * different units would mislead).
 *
 * Threads: any; pure functions but chart_draw(), which runs ffmpeg.
 */
#ifndef NEWSROOM_CHART_H
#define NEWSROOM_CHART_H

#include "media/video.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CHART_FIGURES_MAX 12
#define CHART_BARS_MAX    5
#define CHART_TILES_MAX   4

struct chart_figure {
    char text[96];    /* as the script writes it: "86.6 million dollars" */
    char number[32];  /* the number as written: "86.6" */
    double value;     /* with its magnitude: 86600000 */
    char unit[48];    /* what it counts, folded: "%", "$", "dollars", "devices" */
    char context[96]; /* the words that say what it is, from its sentence; "" when none */
};

/* The figures of script that sources states too, in script order, each once; at most max.
 * Returns how many (0 when either text is NULL). */
size_t chart_figures(const char *script, const char *sources, struct chart_figure *out, size_t max);

/* The chart of n figures: {"kind": "bars" | "comparison", "unit", "title", "labels": [the
 * figures' texts], "contexts": [...], "values": [...]} with the bars' figures (those of the
 * unit most figures share) or the first CHART_TILES_MAX; NULL when n < 2. New reference. */
json_t *chart_plan(const struct chart_figure *f, size_t n);

/* Draws plan as a w x h PNG named name in dir with ffmpeg (a path), the texts in files
 * "chart_NNN.txt" beside it (the slide's text input, kept), source (may be "") named in its
 * footer. Returns 0, or -1 with *cause. */
int chart_draw(const json_t *plan, const struct video_template *t, const char *source,
               const char *ffmpeg, const char *dir, const char *name, int64_t deadline_ms,
               char **cause);

#endif
