/*
 * visual_feed.c - the "feed" provider: the story's own pictures (its feed's media:content,
 * enclosures, <img>, its page's og:image...), each shown once, in the order the story carries
 * them, credited to the photographer when the feed names one and to the story's source ("Image:
 * Valley Herald"). visual.c fetches and checks them (visual_next_pic()).
 *
 * Threads: its run's.
 */
#include "media/visual_int.h"

#include "core/fail.h"

#include <stdlib.h>
#include <string.h>

static enum visual_outcome feed_serve(struct visual_run *r, const struct visual_shot *s,
                                      json_t *pic, bool *fault, char **why)
{
    const json_t *refs = json_object_get(json_object_get(r->story, "feed"), "images");
    const char *source = visual_story_source(r);
    struct visual_pic *p;
    char *credit;

    (void)s;
    *fault = false;
    if (json_array_size(refs) == 0)
        return VISUAL_DECLINED;
    p = visual_next_pic(r);
    if (p == NULL) {
        *why = xasprintf("none of the story's %zu picture%s is left to show", json_array_size(refs),
                         json_array_size(refs) == 1 ? "" : "s");
        return VISUAL_DECLINED;
    }
    p->used = true;
    if (p->credit != NULL && *source != '\0' && strcmp(p->credit, source) != 0)
        credit = xasprintf("Image: %s / %s", p->credit, source);
    else
        credit = xasprintf("Image: %s", p->credit != NULL ? p->credit
                                        : *source != '\0' ? source
                                                          : "the story's source");
    json_object_set_new(pic, "file", json_string(p->file));
    json_object_set_new(pic, "w", json_integer(VISUAL_PHOTO_W));
    json_object_set_new(pic, "h", json_integer(VISUAL_PHOTO_H));
    json_object_set_new(pic, "credit", json_string(credit));
    json_object_set_new(
        pic, "licence",
        json_sprintf("as published with the story by %s", *source != '\0' ? source : "its source"));
    json_object_set_new(pic, "origin", json_string(p->origin));
    json_object_set_new(pic, "feed_kind", json_string(p->kind));
    json_object_set_new(pic, "original", json_sprintf("%dx%d", p->width, p->height));
    free(credit);
    return VISUAL_SERVED;
}

const struct visual_impl visual_feed = {
    .name = "feed",
    .source = "feed",
    .label = "feed image",
    .serve = feed_serve,
};
