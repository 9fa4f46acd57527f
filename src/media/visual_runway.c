/*
 * visual_runway.c - the "runway" provider: a short clip RunwayML makes from one of the story's
 * own pictures and a prompt, shown over a shot and marked "Illustration" (the picture is the
 * story's, the movement is generated). The task's documented lifecycle:
 *   POST {base}/v1/image_to_video   Authorization: Bearer KEY, X-Runway-Version: 2024-11-06
 *     {"model", "promptImage": "data:image/jpeg;base64,...", "promptText", "ratio": "1280:720",
 *      "duration": 5 | 10}  -> {"id"}
 *   GET {base}/v1/tasks/{id}
 *     -> {"id", "status": PENDING | THROTTLED | RUNNING | SUCCEEDED | FAILED | CANCELLED,
 *        "output": [URL], "failure", "failureCode"}
 *   DELETE {base}/v1/tasks/{id} cancels a task that outlived [visual] job_timeout_s;
 *   then the output is downloaded and re-encoded like a presenter's (image.h).
 * The picture is sent as a data URI (the story's pictures may live only here). A task that
 * failed, was cancelled or never finished falls back down the chain, where the feed provider
 * shows the same picture still. Priced per second of clip ([media MODEL]). The key only travels
 * in the header.
 *
 * Threads: its run's.
 */
#include "media/visual_http.h"
#include "media/visual_int.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNWAY_ANSWER_MAX (1u << 20)
#define RUNWAY_VERSION    "X-Runway-Version: 2024-11-06"
#define RUNWAY_IMAGE_MAX  (3u << 20) /* the data URI stays under Runway's 5 MB */

static const char *runway_base(const struct config *c)
{
    return c->runway_base_url;
}

static char *runway_unavailable(const struct visual_run *r)
{
    if (r->c->runway_api_key[0] == '\0')
        return xstrdup("no key ([visual] runway_api_key, RUNWAYML_API_KEY)");
    if (r->c->runway_duration_s != 5 && r->c->runway_duration_s != 10)
        return xasprintf("[visual] runway_duration_s is %d: Runway makes 5 or 10 s clips",
                         r->c->runway_duration_s);
    return NULL;
}

/* "data:image/jpeg;base64,..." of the file at path. A new string, or NULL with *why. */
static char *data_uri(const char *path, char **why)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    char *out;
    long n;

    if (f == NULL) {
        *why = xasprintf("cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n <= 0 || (unsigned long)n > RUNWAY_IMAGE_MAX) {
        fclose(f);
        *why = xasprintf("the picture %s is too big to send (%ld bytes)", path, n);
        return NULL;
    }
    buf = xmalloc((size_t)n);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        *why = xasprintf("cannot read %s", path);
        return NULL;
    }
    fclose(f);
    out = xmalloc(23 + ((size_t)n + 2) / 3 * 4 + 1);
    memcpy(out, "data:image/jpeg;base64,", 23);
    EVP_EncodeBlock((unsigned char *)out + 23, buf, (int)n);
    free(buf);
    return out;
}

struct task {
    struct visual_run *r;
    char *task_url;
    const char *headers[4];
    char *output;
};

/* One poll: 1 SUCCEEDED, 0 still queued or running, -1 FAILED or CANCELLED. */
static int runway_poll(void *ctx, char **why)
{
    struct task *t = ctx;
    const char *status;
    json_t *ans;
    int rc = visual_poll_get(t->r, "runway", t->task_url, t->headers, t->r->c->runway_api_key, &ans,
                             why);

    if (rc != 1)
        return rc;
    status = json_string_value(json_object_get(ans, "status"));
    rc = 0;
    if (status == NULL) {
        *why = xstrdup("runway: a task without a status");
        rc = -1;
    } else if (strcmp(status, "SUCCEEDED") == 0) {
        const char *url = json_string_value(json_array_get(json_object_get(ans, "output"), 0));

        if (url == NULL) {
            *why = xstrdup("runway: SUCCEEDED without an output");
            rc = -1;
        } else {
            t->output = xstrdup(url);
            rc = 1;
        }
    } else if (strcmp(status, "FAILED") == 0 || strcmp(status, "CANCELLED") == 0) {
        const char *f = json_string_value(json_object_get(ans, "failure"));
        const char *code = json_string_value(json_object_get(ans, "failureCode"));

        *why = xasprintf("runway: the task %s: %.200s%s%.60s%s",
                         strcmp(status, "FAILED") == 0 ? "failed" : "was cancelled",
                         f != NULL ? f : "no reason given", code != NULL ? " (" : "",
                         code != NULL ? code : "", code != NULL ? ")" : "");
        rc = -1;
    } else if (strcmp(status, "PENDING") != 0 && strcmp(status, "THROTTLED") != 0 &&
               strcmp(status, "RUNNING") != 0) {
        *why = xasprintf("runway: an unknown status \"%.40s\"", status);
        rc = -1;
    }
    json_decref(ans);
    return rc;
}

static enum visual_outcome runway_serve(struct visual_run *r, const struct visual_shot *s,
                                        json_t *pic, bool *fault, char **why)
{
    struct task t = {.r = r};
    const char *model = r->c->runway_model;
    char id[32], *auth = NULL, *uri = NULL, *path, *body_s = NULL, *url = NULL, *prompt, *words;
    struct visual_pic *p;
    struct vhttp_result res;
    json_t *body, *ans;
    const char *task_id;
    int64_t t0 = clock_mono_ms();
    bool timed_out = false;
    enum visual_outcome out = VISUAL_FAILED;

    *fault = false;
    if (strcmp(s->kind, "title_card") != 0 && strcmp(s->kind, "narration") != 0)
        return VISUAL_DECLINED;
    p = visual_next_pic(r);
    if (p == NULL)
        return VISUAL_DECLINED; /* nothing of the story's to animate */
    path = visual_path(r, p->file);
    uri = data_uri(path, why);
    free(path);
    if (uri == NULL)
        return VISUAL_FAILED;
    if (visual_reserve(r, model, r->c->runway_duration_s, id, why) == -1) {
        free(uri);
        return VISUAL_DECLINED;
    }
    words = visual_keywords(r, 6);
    prompt = xasprintf("Slow, steady documentary camera movement over this news photograph (%s). "
                       "Keep the scene as it is: no new people, no text.",
                       words);
    free(words);
    body = json_pack("{s:s, s:s, s:s, s:s, s:i}", "model", model, "promptImage", uri, "promptText",
                     prompt, "ratio", "1280:720", "duration", r->c->runway_duration_s);
    free(prompt);
    if (body == NULL) {
        visual_release(r, id);
        *why = xstrdup("runway: the prompt is not valid UTF-8");
        goto out;
    }
    body_s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    auth = xasprintf("Authorization: Bearer %s", r->c->runway_api_key);
    t.headers[0] = auth;
    t.headers[1] = RUNWAY_VERSION;
    t.headers[2] = "Accept: application/json";
    t.headers[3] = NULL;
    url = xasprintf("%s/v1/image_to_video", r->c->runway_base_url);
    {
        const char *post_headers[] = {auth, RUNWAY_VERSION, "Content-Type: application/json",
                                      "Accept: application/json", NULL};

        if (vhttp_request("POST", url, post_headers, body_s, r->c->visual_request_timeout_ms,
                          RUNWAY_ANSWER_MAX, &res, why) == -1) {
            *fault = true;
            visual_release(r, id);
            goto out;
        }
    }
    ans = json_loads(res.body, 0, NULL);
    task_id = json_string_value(json_object_get(ans, "id"));
    if (res.status != 200 || task_id == NULL) {
        *why = visual_http_error("runway", &res, r->c->runway_api_key, fault);
        json_decref(ans);
        vhttp_result_clear(&res);
        visual_release(r, id);
        goto out;
    }
    t.task_url = xasprintf("%s/v1/tasks/%s", r->c->runway_base_url, task_id);
    json_decref(ans);
    vhttp_result_clear(&res);
    if (visual_wait_job(r, runway_poll, &t, &timed_out, why) == -1) {
        *fault = timed_out;
        if (timed_out) {
            /* Cancelled, so it is neither finished nor paid for after we stopped waiting. */
            char *ignored = NULL;

            if (vhttp_request("DELETE", t.task_url, t.headers, NULL,
                              r->c->visual_request_timeout_ms, RUNWAY_ANSWER_MAX, &res,
                              &ignored) == 0)
                vhttp_result_clear(&res);
            free(ignored);
        }
        visual_release(r, id);
        goto out;
    }
    visual_commit(r, model, r->c->runway_duration_s, id, clock_mono_ms() - t0, pic);
    if (visual_clip(r, s, t.output, (double)s->ms / 1000 + 1, pic, why) == -1)
        goto out;
    p->used = true;
    json_object_set_new(pic, "credit",
                        json_sprintf("Clip: RunwayML, from a picture of %s",
                                     p->credit != NULL                 ? p->credit
                                     : *visual_story_source(r) != '\0' ? visual_story_source(r)
                                                                       : "the story"));
    json_object_set_new(pic, "licence",
                        json_sprintf("movement generated by RunwayML (%s) from "
                                     "the story's own picture",
                                     model));
    json_object_set_new(pic, "illustration", json_true());
    json_object_set_new(pic, "mark", json_string("Illustration"));
    json_object_set_new(pic, "origin", json_string(p->origin));
    out = VISUAL_SERVED;
out:
    free(uri);
    free(auth);
    free(url);
    free(body_s);
    free(t.task_url);
    free(t.output);
    return out;
}

const struct visual_impl visual_runway = {
    .name = "runway",
    .source = "clip",
    .label = "clip",
    .network = true,
    .base_url = runway_base,
    .unavailable = runway_unavailable,
    .serve = runway_serve,
};
