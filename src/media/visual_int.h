/*
 * visual_int.h - what a visual provider implements and what the chain (visual.c) lends it: the
 * run's settings, the story's own pictures fetched once and shared, the budget, job polling and
 * the files of a shot. Engine-internal, not for callers of visual.h.
 *
 * Threads: a run belongs to the thread of visual_choose().
 */
#ifndef NEWSROOM_VISUAL_INT_H
#define NEWSROOM_VISUAL_INT_H

#include "media/image.h"
#include "media/video.h"
#include "media/visual.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The photographs of a shot are made this much larger than the frame (15 %), so a pan or a zoom
 * has room to move without upscaling; video.c crops the still ones to the frame. */
#define VISUAL_PHOTO_W 1472
#define VISUAL_PHOTO_H 828

/* One of the story's own pictures that passed its checks, normalised to the frame. */
struct visual_pic {
    char *file;   /* in the work folder: "story01.jpg" */
    char *origin; /* the URL it came from */
    char *kind;   /* where the feed or page had it: "media:content", "og:image"... */
    char *credit; /* media:credit, or NULL */
    int width, height;
    bool used; /* a shot shows it */
};

struct visual_run {
    const struct visual_env *e;
    const struct config *c;
    const json_t *story; /* the story's body (borrowed) */
    const json_t *sb;    /* the storyboard (borrowed) */
    char *dir;           /* the work folder, absolute */
    char *ffmpeg;        /* a path, or NULL when there is none */
    struct video_template t;
    struct image_limits lim;
    int64_t deadline; /* monotonic ms: the whole chain */
    /* The story's own pictures: references tried in order, the ones accepted. */
    size_t next_ref;
    struct visual_pic *pics;
    size_t npics;
    json_t *rejected; /* [{"url", "kind", "why"}] */
    double cost_usd;
    void *state[8]; /* each provider's own, by its index in the table; freed by its close */
};

/* A shot being served. */
struct visual_shot {
    int index;        /* in the storyboard's shots */
    const json_t *sh; /* the shot (borrowed) */
    const char *kind; /* title_card, narration, key_fact */
    const char *text; /* what is said over it */
    int64_t ms;       /* its planned length */
    bool lead;        /* the first sentence of the narration */
};

/* What serve() says. FAILED: the provider tried and it did not work (*why; fault says whether
 * the service is to blame, for its breaker); DECLINED: it had nothing to offer for this shot
 * (*why may stay NULL for "not a shot it serves"). */
enum visual_outcome { VISUAL_SERVED, VISUAL_DECLINED, VISUAL_FAILED };

struct visual_impl {
    const char *name;   /* as [visual] lists it */
    const char *source; /* the picture's "source" when it serves */
    const char *label;  /* what it is, for people ("feed image") */
    bool network;       /* a paid service: a breaker, a key */
    /* The base URL of a network provider (for its breaker), from c. */
    const char *(*base_url)(const struct config *c);
    /* NULL when it can serve with this configuration, else why not (a new string: "no key
     * (PEXELS_API_KEY)"). May be NULL. */
    char *(*unavailable)(const struct visual_run *r);
    /* Fills pic (an empty object) for shot s: at least "file" (in the work folder) and
     * "credit"; "media" defaults to "still". */
    enum visual_outcome (*serve)(struct visual_run *r, const struct visual_shot *s, json_t *pic,
                                 bool *fault, char **why);
    /* Frees the provider's state in r (may be NULL). */
    void (*close)(struct visual_run *r);
};

extern const struct visual_impl visual_chart, visual_feed, visual_heygen, visual_runway,
    visual_openai, visual_pexels;

/* The provider's slot in r->state (its index in the table). */
void **visual_state(struct visual_run *r, const struct visual_impl *impl);

/* The next of the story's pictures no shot shows yet, fetched, checked and normalised on first
 * need (the refused ones recorded in r->rejected with their reason); NULL when none is left.
 * Borrowed from r; set ->used when a shot takes it. */
struct visual_pic *visual_next_pic(struct visual_run *r);

/* A shot's file name in the work folder: "shot03.jpg" for shot index 2 and ext "jpg". */
void visual_shot_file(const struct visual_shot *s, const char *ext, char *buf, size_t size);
/* dir/name as a new string. */
char *visual_path(const struct visual_run *r, const char *name);

/* Normalises the picture at src (a path) into the shot's still (a JPEG in the work folder),
 * putting its name in pic "file". Returns 0, or -1 with *why. */
int visual_still(struct visual_run *r, const struct visual_shot *s, const char *src, json_t *pic,
                 char **why);
/* Downloads a clip (url) and normalises it into the shot's clip, at most max_s long, putting
 * "file", "media": "clip" and "clip_s" in pic. Returns 0, or -1 with *why. */
int visual_clip(struct visual_run *r, const struct visual_shot *s, const char *url, double max_s,
                json_t *pic, char **why);

/* The budget: reserves units of the media price name. 0 with id; -1 with *why (no price, no
 * budget context, a refusal naming its limit, Redis). */
int visual_reserve(struct visual_run *r, const char *name, double units, char id[32], char **why);
/* Commits units of name under id; adds its cost to pic's "cost_usd" and the run's. */
void visual_commit(struct visual_run *r, const char *name, double units, const char *id,
                   int64_t duration_ms, json_t *pic);
void visual_release(struct visual_run *r, const char *id);

/* Polls a job: poll(ctx, why) returns 1 when it is done, 0 while it runs, -1 when it failed
 * (*why). Waits [visual] poll_ms before the first poll, doubling up to poll_max_ms (with a
 * little jitter), until job_timeout_s, the chain's deadline or a stop. Returns 0 when done, -1
 * with *why (the job's failure, "did not finish within N s", "stopping"); *timed_out says the
 * job never finished. */
int visual_wait_job(struct visual_run *r, int (*poll)(void *ctx, char **why), void *ctx,
                    bool *timed_out, char **why);

/* A short, clean message out of a service's error answer (its JSON "message", "error",
 * "detail" or "failure", else the start of the body), with key (may be NULL) cut out should
 * the service have echoed it. A new string. */
char *visual_service_error(const char *body, const char *key);

struct vhttp_result;
/* What a service's answer that is no success says: "API: HTTP STATUS: message" (message from
 * visual_service_error(), key cut out); *fault set when the service is to blame (5xx, 429). A
 * new string. */
char *visual_http_error(const char *api, const struct vhttp_result *res, const char *key,
                        bool *fault);

/* One GET of a job's status at url: 1 with *ans (its JSON, a new reference), 0 when it is
 * worth asking again at the next poll (no answer, 5xx, 429), -1 with *why (another status:
 * the job is gone or the request is wrong). */
int visual_poll_get(struct visual_run *r, const char *api, const char *url,
                    const char *const *headers, const char *key, json_t **ans, char **why);

/* The words of the story that say what it is about, for a search or a prompt: its title
 * without small words and figures, at most max words. A new string. */
char *visual_keywords(const struct visual_run *r, int max);

/* The story's source (its feed's title), "" when none. */
const char *visual_story_source(const struct visual_run *r);

#endif
