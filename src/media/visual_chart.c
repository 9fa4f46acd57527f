/*
 * visual_chart.c - the "chart" provider: one chart slide of the figures the story states
 * (chart.h), on the first key-fact shot it is offered, drawn offline. A story stating fewer than
 * two figures with units gets no chart. The figures are the final script's (the storyboard's
 * narration) that the story's own text states too.
 *
 * Threads: its run's.
 */
#include "media/chart.h"
#include "media/visual_int.h"

#include "core/fail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chart_state {
    bool done; /* a chart was made, or cannot be */
};

static enum visual_outcome chart_serve(struct visual_run *r, const struct visual_shot *s,
                                       json_t *pic, bool *fault, char **why)
{
    void **slot = visual_state(r, &visual_chart);
    struct chart_state *st = *slot;
    struct chart_figure figs[CHART_FIGURES_MAX];
    const char *script = json_string_value(json_object_get(r->sb, "narration"));
    const char *content = json_string_value(json_object_get(r->story, "content"));
    char name[32], *sources, *credit;
    json_t *plan;
    size_t n;
    int rc;

    *fault = false;
    if (strcmp(s->kind, "key_fact") != 0)
        return VISUAL_DECLINED;
    if (st == NULL)
        *slot = st = xcalloc(1, sizeof *st);
    if (st->done)
        return VISUAL_DECLINED;
    st->done = true;
    sources = xasprintf("%s\n%s",
                        json_string_value(json_object_get(r->story, "title")) != NULL
                            ? json_string_value(json_object_get(r->story, "title"))
                            : "",
                        content != NULL ? content : "");
    n = chart_figures(script, sources, figs, CHART_FIGURES_MAX);
    free(sources);
    plan = chart_plan(figs, n);
    if (plan == NULL) {
        *why = xasprintf("the story states %zu figure%s with a unit; a chart needs two", n,
                         n == 1 ? "" : "s");
        return VISUAL_DECLINED;
    }
    visual_shot_file(s, "png", name, sizeof name);
    rc = chart_draw(plan, &r->t, visual_story_source(r), r->ffmpeg, r->dir, name, r->deadline, why);
    if (rc == -1) {
        json_decref(plan);
        return VISUAL_FAILED;
    }
    credit = *visual_story_source(r) != '\0'
                 ? xasprintf("Chart: Newsroom, figures from %s", visual_story_source(r))
                 : xstrdup("Chart: Newsroom, figures from the story");
    json_object_set_new(pic, "file", json_string(name));
    json_object_set_new(pic, "w", json_integer(VIDEO_WIDTH));
    json_object_set_new(pic, "h", json_integer(VIDEO_HEIGHT));
    json_object_set_new(pic, "credit", json_string(credit));
    json_object_set_new(pic, "licence",
                        json_string("drawn by Newsroom from the figures the "
                                    "story states"));
    json_object_set_new(pic, "chart", plan);
    free(credit);
    return VISUAL_SERVED;
}

static void chart_close(struct visual_run *r)
{
    free(*visual_state(r, &visual_chart));
}

const struct visual_impl visual_chart = {
    .name = "chart",
    .source = "chart",
    .label = "chart",
    .serve = chart_serve,
    .close = chart_close,
};
