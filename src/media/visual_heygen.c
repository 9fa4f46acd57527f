/*
 * visual_heygen.c - the "heygen" provider: HeyGen's avatar presenter reading the story's lead
 * sentence, shown over that shot (its own voice is dropped: the narration speaks the same
 * words). The job's documented lifecycle:
 *   POST {base}/v2/video/generate          X-Api-Key: KEY, Content-Type: application/json
 *     {"video_inputs": [{"character": {"type": "avatar", "avatar_id", "avatar_style":
 *      "normal"}, "voice": {"type": "text", "input_text", "voice_id"}}],
 *      "dimension": {"width": 1280, "height": 720}, "title"}
 *     -> {"error": null, "data": {"video_id"}}
 *   GET {base}/v1/video_status.get?video_id=ID   X-Api-Key: KEY
 *     -> {"code": 100, "data": {"status": waiting | pending | processing | completed | failed,
 *        "video_url", "duration", "error": {"code", "message", "detail"}}}
 *   then the video_url is downloaded (image.h: the size limit, checked as an MP4, decoded
 *   strictly) and re-encoded at the frame size and rate.
 * Polled with backoff ([visual] poll_ms doubling to poll_max_ms) until job_timeout_s. A video
 * that failed or never finished falls back down the chain. Priced per second of video
 * ([media heygen-avatar]): the lead sentence's length at 150 words a minute is reserved, the
 * video's real duration committed. The key only travels in the header.
 *
 * Threads: its run's.
 */
#include "media/visual_http.h"
#include "media/visual_int.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEYGEN_ANSWER_MAX (1u << 20)
#define HEYGEN_PRICE      "heygen-avatar"

static const char *heygen_base(const struct config *c)
{
    return c->heygen_base_url;
}

static char *heygen_unavailable(const struct visual_run *r)
{
    if (r->c->heygen_api_key[0] == '\0')
        return xstrdup("no key ([visual] heygen_api_key, HEYGEN_API_KEY)");
    if (r->c->heygen_avatar_id[0] == '\0' || r->c->heygen_voice_id[0] == '\0')
        return xstrdup("no avatar or voice ([visual] heygen_avatar_id, heygen_voice_id)");
    return NULL;
}

struct job {
    struct visual_run *r;
    char *status_url;
    const char *headers[3];
    char *video_url;
    double duration;
};

/* One status poll: 1 completed, 0 still being made, -1 failed. */
static int heygen_poll(void *ctx, char **why)
{
    struct job *j = ctx;
    json_t *ans, *data;
    const char *status;
    int rc = visual_poll_get(j->r, "heygen", j->status_url, j->headers, j->r->c->heygen_api_key,
                             &ans, why);

    if (rc != 1)
        return rc;
    data = json_object_get(ans, "data");
    status = json_string_value(json_object_get(data, "status"));
    rc = 0;
    if (status == NULL) {
        *why = xstrdup("heygen: a status answer without data.status");
        rc = -1;
    } else if (strcmp(status, "completed") == 0) {
        const char *url = json_string_value(json_object_get(data, "video_url"));

        if (url == NULL) {
            *why = xstrdup("heygen: completed without a video_url");
            rc = -1;
        } else {
            j->video_url = xstrdup(url);
            j->duration = json_number_value(json_object_get(data, "duration"));
            rc = 1;
        }
    } else if (strcmp(status, "failed") == 0) {
        const json_t *err = json_object_get(data, "error");
        const char *m = json_string_value(json_object_get(err, "message"));
        const char *d = json_string_value(json_object_get(err, "detail"));

        *why = xasprintf("heygen: the video failed: %.200s", d != NULL   ? d
                                                             : m != NULL ? m
                                                                         : "no reason given");
        rc = -1;
    } else if (strcmp(status, "pending") != 0 && strcmp(status, "processing") != 0 &&
               strcmp(status, "waiting") != 0) {
        *why = xasprintf("heygen: an unknown status \"%.40s\"", status);
        rc = -1;
    }
    json_decref(ans);
    return rc;
}

static enum visual_outcome heygen_serve(struct visual_run *r, const struct visual_shot *s,
                                        json_t *pic, bool *fault, char **why)
{
    struct job j = {.r = r};
    char id[32], *url = NULL, *key, *body_s = NULL, *title;
    struct vhttp_result res;
    json_t *body, *ans;
    const char *video_id;
    double est;
    int64_t t0 = clock_mono_ms();
    bool timed_out = false;
    enum visual_outcome out = VISUAL_FAILED;
    int words = 0;

    *fault = false;
    if (!s->lead || *s->text == '\0')
        return VISUAL_DECLINED;
    for (const char *p = s->text; *p != '\0'; p++)
        words += (p == s->text || p[-1] == ' ') && *p != ' ';
    est = (double)words * 60.0 / 150.0 + 1.0;
    if (visual_reserve(r, HEYGEN_PRICE, est, id, why) == -1)
        return VISUAL_DECLINED;
    key = xasprintf("X-Api-Key: %s", r->c->heygen_api_key);
    j.headers[0] = key;
    j.headers[1] = "Accept: application/json";
    j.headers[2] = NULL;
    title = xasprintf("Newsroom %s", r->e->story_id);
    body = json_pack("{s:[{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}], s:{s:i, s:i}, s:s}",
                     "video_inputs", "character", "type", "avatar", "avatar_id",
                     r->c->heygen_avatar_id, "avatar_style", "normal", "voice", "type", "text",
                     "input_text", s->text, "voice_id", r->c->heygen_voice_id, "dimension", "width",
                     VIDEO_WIDTH, "height", VIDEO_HEIGHT, "title", title);
    free(title);
    if (body == NULL) {
        *why = xstrdup("heygen: the sentence is not valid UTF-8");
        visual_release(r, id);
        goto out;
    }
    body_s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    url = xasprintf("%s/v2/video/generate", r->c->heygen_base_url);
    {
        const char *post_headers[] = {key, "Content-Type: application/json",
                                      "Accept: application/json", NULL};

        if (vhttp_request("POST", url, post_headers, body_s, r->c->visual_request_timeout_ms,
                          HEYGEN_ANSWER_MAX, &res, why) == -1) {
            *fault = true;
            visual_release(r, id);
            goto out;
        }
    }
    ans = json_loads(res.body, 0, NULL);
    video_id = json_string_value(json_object_get(json_object_get(ans, "data"), "video_id"));
    if (res.status != 200 || video_id == NULL) {
        *why = visual_http_error("heygen", &res, r->c->heygen_api_key, fault);
        json_decref(ans);
        vhttp_result_clear(&res);
        visual_release(r, id);
        goto out;
    }
    j.status_url = xasprintf("%s/v1/video_status.get?video_id=%s", r->c->heygen_base_url, video_id);
    json_decref(ans);
    vhttp_result_clear(&res);
    if (visual_wait_job(r, heygen_poll, &j, &timed_out, why) == -1) {
        *fault = timed_out;
        visual_release(r, id);
        goto out;
    }
    /* Made: paid for at its length, whatever the download does. */
    visual_commit(r, HEYGEN_PRICE, j.duration > 0 ? j.duration : est, id, clock_mono_ms() - t0,
                  pic);
    if (visual_clip(r, s, j.video_url, (double)s->ms / 1000 + 1, pic, why) == -1)
        goto out;
    json_object_set_new(pic, "credit", json_string("Presenter: AI avatar by HeyGen"));
    json_object_set_new(pic, "licence",
                        json_string("made for this story by HeyGen from the "
                                    "script; a synthetic presenter"));
    json_object_set_new(pic, "illustration", json_true());
    json_object_set_new(pic, "mark", json_string("AI presenter"));
    json_object_set_new(pic, "origin", json_string("heygen:video"));
    out = VISUAL_SERVED;
out:
    free(url);
    free(body_s);
    free(key);
    free(j.status_url);
    free(j.video_url);
    return out;
}

const struct visual_impl visual_heygen = {
    .name = "heygen",
    .source = "presenter",
    .label = "presenter",
    .network = true,
    .base_url = heygen_base,
    .unavailable = heygen_unavailable,
    .serve = heygen_serve,
};
