/*
 * room_failed.c - one page of the dead set for the control room's Failed pane: room_failed.lua
 * reads the FAILED index in Redis, newest failure first, filters it (id, title, the step that
 * failed, the last error) there and returns only the rows asked for, so every failed story is
 * reachable however many there are. A story that does not name the step that failed (one moved
 * to FAILED by hand, before the dead set kept it) is read here and given the step its
 * checkpoints say, as `ctl failed` does (deadset_resume_step()). Every string is made
 * display-safe here, where it enters the room.
 *
 * Threads: the command worker's (its own link); the page is handed to the UI through
 * room_put_failed().
 */
#include "room/room_int.h"

#include "core/fail.h"
#include "core/text.h"
#include "recovery/deadset.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void room_failed_page_free(struct room_failed_page *p)
{
    if (p == NULL)
        return;
    free(p->rows);
    free(p->error);
    free(p);
}

/* The step row v resumes at, from its story's checkpoints (a read on b); "?" when it is gone. */
static void step_from_story(struct bb *b, struct room_failed *v)
{
    struct bb_item *it = NULL;
    char *cause = NULL;

    if (bb_read(b, v->id, &it, &cause) == BB_OK)
        room_copy_safe(v->step, sizeof v->step, deadset_resume_step(it));
    else
        snprintf(v->step, sizeof v->step, "?");
    bb_item_free(it);
    free(cause);
}

struct room_failed_page *room_failed_fetch(struct bb *b, struct rlink *l, const char *filter,
                                           long offset, long limit)
{
    struct room_failed_page *p = xcalloc(1, sizeof *p);
    char off[24], lim[24];
    const char *argv[5];
    redisReply *r, *rows;

    if (offset < 0)
        offset = 0;
    if (limit < 1 || limit > ROOM_FAILED_PAGE)
        limit = ROOM_FAILED_PAGE;
    snprintf(p->filter, sizeof p->filter, "%s", filter != NULL ? filter : "");
    snprintf(off, sizeof off, "%ld", offset);
    snprintf(lim, sizeof lim, "%ld", limit);
    argv[0] = BB_PREFIX;
    argv[1] = bb_statuses[BB_FAILED].name;
    argv[2] = p->filter;
    argv[3] = off;
    argv[4] = lim;
    if ((r = room_page_eval(l, &lua_room_failed, 5, argv, 5, &p->error)) == NULL)
        return p;
    p->taken_ms = r->element[0]->integer;
    p->total = (long)r->element[1]->integer;
    p->matching = (long)r->element[2]->integer;
    p->offset = (long)r->element[3]->integer;
    rows = r->element[4];
    p->rows = xcalloc(rows->elements + 1, sizeof *p->rows);
    for (size_t i = 0; i < rows->elements; i++) {
        const redisReply *e = rows->element[i];
        struct room_failed *v = &p->rows[p->nrows++];

        room_copy_safe(v->id, sizeof v->id, rlink_reply_str(e, 0));
        v->failed_ms = (int64_t)strtod(rlink_reply_str(e, 1), NULL); /* a score */
        room_copy_safe(v->title, sizeof v->title, rlink_reply_str(e, 2));
        v->attempts = (int)strtol(rlink_reply_str(e, 4), NULL, 10);
        room_copy_safe(v->error, sizeof v->error, rlink_reply_str(e, 5));
        if (bb_step_find(rlink_reply_str(e, 3)) != NULL)
            room_copy_safe(v->step, sizeof v->step, rlink_reply_str(e, 3));
        else
            step_from_story(b, v);
    }
    freeReplyObject(r);
    return p;
}
