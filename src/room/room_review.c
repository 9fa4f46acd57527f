/*
 * room_review.c - one page of the review queue for the control room: room_review.lua reads
 * the whole REVIEWING index in Redis, filters it (id, title, source) and sorts it there, and
 * returns only the rows asked for, so every waiting story is reachable however many wait and
 * the filter searches all of them. Every string is made display-safe here, where it enters
 * the room.
 *
 * Threads: the command worker's (its own link); the page is handed to the UI through
 * room_put_review().
 */
#include "room/room_int.h"

#include "core/fail.h"
#include "core/text.h"
#include "cost/usage.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const room_sort_names[ROOM_SORT_COUNT] = {
    [ROOM_SORT_OLDEST] = "oldest", [ROOM_SORT_NEWEST] = "newest", [ROOM_SORT_PRIORITY] = "priority",
    [ROOM_SORT_QA] = "qa",         [ROOM_SORT_COST] = "cost",
};

void room_review_page_free(struct room_review_page *p)
{
    if (p == NULL)
        return;
    free(p->rows);
    free(p->error);
    free(p);
}

static double parse_num(const char *s, double none)
{
    char *end;
    double d;

    if (s == NULL || s[0] == '\0')
        return none;
    d = strtod(s, &end);
    return end == s ? none : d;
}

struct room_review_page *room_review_fetch(struct rlink *l, int sort, const char *filter,
                                           long offset, long limit)
{
    struct room_review_page *p = xcalloc(1, sizeof *p);
    char off[24], lim[24];
    const char *argv[7];
    redisReply *r, *rows;

    if (sort < 0 || sort >= ROOM_SORT_COUNT)
        sort = ROOM_SORT_OLDEST;
    if (offset < 0)
        offset = 0;
    if (limit < 1 || limit > ROOM_REVIEW_PAGE)
        limit = ROOM_REVIEW_PAGE;
    p->sort = sort;
    snprintf(p->filter, sizeof p->filter, "%s", filter != NULL ? filter : "");
    snprintf(off, sizeof off, "%ld", offset);
    snprintf(lim, sizeof lim, "%ld", limit);
    argv[0] = BB_PREFIX;
    argv[1] = COST_PREFIX;
    argv[2] = bb_statuses[BB_REVIEWING].name;
    argv[3] = room_sort_names[sort];
    argv[4] = p->filter;
    argv[5] = off;
    argv[6] = lim;
    if ((r = room_page_eval(l, &lua_room_review, 7, argv, 6, &p->error)) == NULL)
        return p;
    p->taken_ms = r->element[0]->integer;
    p->total = (long)r->element[1]->integer;
    p->matching = (long)r->element[2]->integer;
    p->offset = (long)r->element[3]->integer;
    p->any_priority = r->element[4]->integer != 0;
    rows = r->element[5];
    p->rows = xcalloc(rows->elements + 1, sizeof *p->rows);
    for (size_t i = 0; i < rows->elements; i++) {
        const redisReply *e = rows->element[i];
        struct room_review *v = &p->rows[p->nrows++];
        const char *marks = rlink_reply_str(e, 7);

        room_copy_safe(v->id, sizeof v->id, rlink_reply_str(e, 0));
        v->waiting_since_ms = strtoll(rlink_reply_str(e, 1), NULL, 10);
        room_copy_safe(v->title, sizeof v->title, rlink_reply_str(e, 2));
        v->duration_s = parse_num(rlink_reply_str(e, 3), 0);
        v->qa_score = parse_num(rlink_reply_str(e, 4), -1);
        v->cost = strtoll(rlink_reply_str(e, 5), NULL, 10);
        v->priority = parse_num(rlink_reply_str(e, 6), 0);
        v->marks = (strchr(marks, 'V') ? ROOM_MARK_VIDEO : 0) |
                   (strchr(marks, 'S') ? ROOM_MARK_STORYBOARD : 0) |
                   (strchr(marks, 'R') ? ROOM_MARK_REVISED : 0);
        room_copy_safe(v->source, sizeof v->source, rlink_reply_str(e, 8));
    }
    freeReplyObject(r);
    return p;
}
