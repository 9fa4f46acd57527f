/*
 * visual.h - the pictures of a video: given a story and its storyboard (storyboard.h), one
 * visual per shot, chosen by the seed's visual-designer fallback chain
 *
 *     visual_designer -> visual_designer_backup -> visual_designer_simple -> stock_image_agent
 *     -> text slides
 *
 * whose links are lists of providers in the configuration ([visual], one key per link). Every
 * provider of every link is tried in order for a shot and the first that answers serves it; a
 * provider that cannot serve that shot (not its kind of shot, no key, nothing left to show)
 * steps aside, one that fails (an error, a timeout, a job that failed or never finished, its
 * circuit breaker open, the budget refusing) is recorded and the next is tried. The text slides
 * drawn by the render are the last link of every chain and cannot be removed, so a story always
 * renders. The providers, one file each (visual_<name>.c):
 *
 *   chart   a chart slide of the figures the story states (chart.h), offline; a key-fact shot
 *   feed    the story's own pictures (feed.images on its body: media:content, enclosures,
 *           <img>, og:image...), fetched with the feeds' limits and checked (image.h), offline
 *   heygen  HeyGen: an avatar presenter reading the lead sentence (create the video, poll its
 *           status, download it); HEYGEN_API_KEY
 *   runway  RunwayML: a short clip from one of the story's pictures and a prompt (create the
 *           task, poll it, download it; cancelled when it outlives its time); RUNWAYML_API_KEY
 *   openai  OpenAI images: a generated picture, marked "illustration" on screen;
 *           OPENAI_API_KEY
 *   pexels  Pexels: a stock photograph from a search, credited "Photo by NAME on Pexels" as its
 *           guidelines ask; PEXELS_API_KEY
 *
 * Each shot's choice is its "picture": {"source": feed | chart | presenter | clip | generated |
 * stock | text, "label" (what it is, for people), "provider", "link", "media": still | clip,
 * "file" (in the work folder), "credit" (drawn on screen), "licence", "illustration",
 * "origin" (where it came from: a URL without secrets), "cost_usd", "tried": [{"provider",
 * "outcome": failed | refused, "why"}], and for a chart its "chart" plan}. The report adds what
 * each provider could do, the story's pictures refused and why, and the money spent.
 *
 * Money: every paid call (the four network providers) is reserved against the budgets before it
 * is made and committed at its real size after (cost.h, [media NAME] of pricing.conf), like a
 * model call; a refusal is recorded and the chain goes on with the next provider (pictures never
 * hold a story up). Keys go into request headers only: never into a cause, the report, a log
 * line or a file. Each network provider has its circuit breaker ("visual:NAME@BASE_URL").
 *
 * A rerun for the same story in the same work folder takes what an earlier run already made or
 * paid for (visuals.json there) instead of asking again.
 *
 * Threads: any thread; a call is self-contained (its HTTP handles, its work folder).
 */
#ifndef NEWSROOM_VISUAL_H
#define NEWSROOM_VISUAL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

struct config;
struct cost;

/* Whether value is a list of provider names (comma-separated, each at most once; empty is
 * allowed): 0, or -1 with *why (a new string) naming the unknown one. Text slides are never
 * listed: they are always last. */
int visual_link_check(const char *value, char **why);

struct visual_env {
    const struct config *cfg;
    struct cost *cost;      /* budgets for paid calls; NULL: the paid providers step aside */
    const char *story_id;   /* the usage records' task */
    const atomic_int *stop; /* set: stop waiting for jobs (may be NULL) */
    atomic_llong *alive;    /* given the time (clock_mono_ms) at every sign of life: each
                               provider asked, each job polled (may be NULL) */
};

/* Chooses a picture for every shot of the storyboard sb (its shots get "picture", and sb gets
 * "pictures_dir": dir made absolute) of the story whose body is story (borrowed), writing the
 * files into dir (made when missing). *report (may be NULL) receives a new reference:
 * {"chain": [{"link", "providers"}], "providers": {NAME: "ready" | why not}, "shots", "sources":
 * {SOURCE: count}, "rejected": [{"url", "kind", "why"}], "cost_usd", "ms"}. Never fails for a
 * provider's sake; returns -1 with *cause only when dir cannot be made or sb has no shots. */
int visual_choose(const struct visual_env *e, const json_t *story, json_t *sb, const char *dir,
                  json_t **report, char **cause);

/* <data dir>/visuals/<id>: where the producer keeps a story's pictures until its video is made.
 * A new string. */
char *visual_work_dir(const struct config *c, const char *id);

/* Removes the work folders under <data dir>/visuals/ untouched for max_age_s seconds (a story
 * that failed for good, or went elsewhere). Returns how many it removed. */
int visual_sweep(const struct config *c, int max_age_s);

#endif
