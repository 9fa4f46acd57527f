/*
 * room_int.h - what the files of the room share (room.c: the room itself and the hand-overs;
 * room_feed.c: the feed thread; room_worker.c: the command worker; room_detail.c,
 * room_review.c and room_failed.c: what the worker fetches). Not for the UI: it reads room.h
 * alone.
 *
 * Threads: the fields of struct room that both sides touch are atomics (the stop flag, the
 * snapshot and detail slots, the link state, the command seq); the rings are lock-free
 * (ring.h). Everything else is written before the threads start and read-only after.
 */
#ifndef NEWSROOM_ROOM_INT_H
#define NEWSROOM_ROOM_INT_H

#include "room/room.h"
#include "store/blackboard.h"

#include <jansson.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ring;
struct bus_sub;
struct lua_script;
struct config;

struct room {
    struct room_options o; /* a copy; o.cfg borrowed */
    struct ring *events;   /* feed and worker -> UI */
    struct ring *cmds;     /* any thread -> worker */
    atomic_int stop;
    atomic_uint_fast64_t cmd_seq;
    _Atomic(struct room_snapshot *) snap;
    _Atomic(struct room_detail *) detail;
    _Atomic(struct room_frames *) frames;
    _Atomic(struct room_review_page *) review;
    _Atomic(struct room_failed_page *) failed;
    atomic_bool link_ok;
    atomic_llong down_since; /* monotonic ms, 0 while up */
    int64_t started_mono;
    pthread_t feed, worker;
    bool feed_started, worker_started;
    struct bus_sub *bus; /* emergency and control broadcasts -> ROOM_EV_ALERT */
};

/* The longest a thread blocks in one wait (a Redis read, a ring wait, a sleep), so it
 * notices stop in time: well below the command timeout. */
int room_block_ms(const struct room *r);

/* Copies s (NULL reads as "-") into dst made display-safe (text_safe), cut to fit size. */
void room_copy_safe(char *dst, size_t size, const char *s);

/* Pushes an event built from its parts (each made display-safe; any may be NULL). Returns 0,
 * or -1 when the ring was full (dropped and counted). */
int room_push(struct room *r, int kind, bool ok, uint64_t cmd_seq, int64_t t_ms, const char *what,
              const char *id, const char *by, const char *text);

/* One line for a blackboard event ("claim wire-1 by analyst-x", "move wire-1 PENDING ->
 * DEBATING by analyst-x: reason"), raw (the caller makes it safe). */
void room_bb_line(const struct bb_event *ev, char *buf, size_t size);

/* Runs a page's script (room_review.lua, room_failed.lua) on l with argv and checks the form
 * of its answer: an array of n elements whose last holds the rows. Returns the reply (free it
 * with freeReplyObject), or NULL with *error (new, display-safe) saying what went wrong. */
redisReply *room_page_eval(struct rlink *l, const struct lua_script *s, int argc, const char **argv,
                           size_t n, char **error);

/* Hand-overs: the previous untaken one is freed. */
void room_put_snapshot(struct room *r, struct room_snapshot *s);
void room_put_detail(struct room *r, struct room_detail *d);
void room_put_frames(struct room *r, struct room_frames *f);
void room_put_review(struct room *r, struct room_review_page *p);
void room_put_failed(struct room *r, struct room_failed_page *p);

/* The threads (room_feed.c, room_worker.c); arg is the room. */
void *room_feed_main(void *arg);
void *room_worker_main(void *arg);

/* The detail of story id, on the worker's link (room_detail.c): its sections, and its
 * preview address when cfg (may be NULL) has a preview port. Never NULL. When the story has a
 * rendered video and want_frames is set, *pkg gets a new reference to its package (for
 * room_frames_fetch()), else NULL. */
struct room_detail *room_detail_fetch(struct bb *b, struct rlink *l, const struct config *cfg,
                                      const char *id, bool want_frames, json_t **pkg);
/* The thumbnail and the contact sheet of a rendered package (room_detail.c), extracted with
 * cfg's ffmpeg into a temporary folder. Never NULL: what is missing says why in note. */
struct room_frames *room_frames_fetch(const struct config *cfg, const char *id, const json_t *pkg);

/* One review page (room_review.c). Never NULL: a failure is in ->error. */
struct room_review_page *room_review_fetch(struct rlink *l, int sort, const char *filter,
                                           long offset, long limit);

/* One page of the dead set (room_failed.c); a row whose story does not name the step that
 * failed gets the step its checkpoints say (deadset_resume_step(), read on b). Never NULL: a
 * failure is in ->error. */
struct room_failed_page *room_failed_fetch(struct bb *b, struct rlink *l, const char *filter,
                                           long offset, long limit);

#endif
