/*
 * fake_visual.c - see fake_visual.h. Threads: one per connection (libmicrohttpd); state under
 * f->mu.
 */
#include "fake_visual.h"

#include "fake_http.h"
#include "core/paths.h"
#include "media/proc.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JOBS_MAX 64

struct job {
    char id[32];
    enum fake_job end;
    int polls, seen;
    bool cancelled;
};

struct blob {
    char *data;
    size_t len;
};

struct fake_visual {
    char key[128], url[80];
    struct fake_http *http;
    pthread_mutex_t mu;
    struct blob photo, clip, png;
    struct {
        enum fake_job end;
        int polls;
        unsigned fail;
    } api[4];
    struct job heygen[JOBS_MAX], runway[JOBS_MAX];
    int nheygen, nrunway;
    struct {
        const char *name;
        int n;
    } counts[8];
    char *violation, *last[4];
};

static const char *const apis[4] = {"pexels", "openai", "heygen", "runway"};
static const char *const count_names[8] = {
    "pexels.search", "openai.generate", "heygen.generate", "heygen.status",
    "runway.create", "runway.task",     "runway.cancel",   "file"};

static int api_index(const char *api)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(apis[i], api) == 0)
            return i;
    abort();
}

static void count(struct fake_visual *f, const char *what)
{
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < 8; i++)
        if (strcmp(count_names[i], what) == 0)
            f->counts[i].n++;
    pthread_mutex_unlock(&f->mu);
}

static enum MHD_Result json_reply(struct MHD_Connection *c, unsigned status, json_t *body)
{
    const char *const headers[] = {"Content-Type", "application/json", NULL};
    char *s = json_dumps(body, JSON_COMPACT);
    enum MHD_Result rc = fake_http_reply(c, status, headers, s, strlen(s));

    free(s);
    json_decref(body);
    return rc;
}

/* Keeps why as the violation and answers it with status in the API's error shape. */
static enum MHD_Result refuse(struct fake_visual *f, const struct fake_http_request *req,
                              unsigned status, const char *api, const char *why)
{
    json_t *err;

    pthread_mutex_lock(&f->mu);
    free(f->violation);
    f->violation = malloc(strlen(api) + strlen(why) + 3);
    sprintf(f->violation, "%s: %s", api, why);
    pthread_mutex_unlock(&f->mu);
    if (strcmp(api, "openai") == 0)
        err = json_pack("{s:{s:s, s:s}}", "error", "message", why, "type", "invalid_request_error");
    else if (strcmp(api, "heygen") == 0)
        err = json_pack("{s:n, s:{s:s, s:s}}", "data", "error", "code", "invalid_parameter",
                        "message", why);
    else
        err = json_pack("{s:s}", "error", why);
    return json_reply(req->conn, status, err);
}

static bool header_is(const struct fake_http_request *req, const char *name, const char *want)
{
    const char *v = fake_http_header(req, name);

    return v != NULL && strcmp(v, want) == 0;
}

static bool is_json(const struct fake_http_request *req)
{
    const char *ct = fake_http_header(req, "Content-Type");

    return ct != NULL && strncmp(ct, "application/json", 16) == 0;
}

/* Whether every key of o is one of the NULL-ended names. */
static bool only(const json_t *o, const char *const *names)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)o, k, v)
    {
        bool ok = false;

        for (size_t i = 0; names[i] != NULL; i++)
            ok |= strcmp(names[i], k) == 0;
        if (!ok)
            return false;
    }
    return true;
}

static void keep_last(struct fake_visual *f, const char *api, const char *text)
{
    int i = api_index(api);

    pthread_mutex_lock(&f->mu);
    free(f->last[i]);
    f->last[i] = strdup(text);
    pthread_mutex_unlock(&f->mu);
}

static unsigned failing(struct fake_visual *f, const char *api)
{
    unsigned s;

    pthread_mutex_lock(&f->mu);
    s = f->api[api_index(api)].fail;
    pthread_mutex_unlock(&f->mu);
    return s;
}

/* ---- Pexels ---- */

/* Collects the names of a request's query parameters into a JSON object. */
static enum MHD_Result arg_seen(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    (void)value;
    json_object_set_new(cls, key, json_true());
    return MHD_YES;
}

static enum MHD_Result pexels(struct fake_visual *f, const struct fake_http_request *req)
{
    static const char *const params[] = {"query",  "orientation", "size",     "color",
                                         "locale", "page",        "per_page", NULL};
    const char *q = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "query");
    const char *pp = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "per_page");
    const char *o = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "orientation");
    json_t *args = json_object(), *photos;
    unsigned status;
    bool documented;

    count(f, "pexels.search");
    if (strcmp(req->method, "GET") != 0)
        return refuse(f, req, 405, "pexels", "not a GET");
    if (!header_is(req, "Authorization", f->key))
        return refuse(f, req, 401, "pexels", "the Authorization header is not the key");
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, arg_seen, args);
    documented = only(args, params);
    json_decref(args);
    if (!documented)
        return refuse(f, req, 400, "pexels", "an undocumented query parameter");
    if (q == NULL || *q == '\0')
        return refuse(f, req, 400, "pexels", "no query");
    if (pp != NULL && (atoi(pp) < 1 || atoi(pp) > 80))
        return refuse(f, req, 400, "pexels", "per_page outside 1-80");
    if (o != NULL && strcmp(o, "landscape") != 0 && strcmp(o, "portrait") != 0 &&
        strcmp(o, "square") != 0)
        return refuse(f, req, 400, "pexels", "an unknown orientation");
    if ((status = failing(f, "pexels")) != 0)
        return json_reply(req->conn, status, json_pack("{s:s}", "error", "unavailable"));
    photos = json_array();
    for (int i = 1; i <= (pp != NULL ? atoi(pp) : 15) && i <= 3; i++) {
        json_t *src = json_object();
        char img[160], page[160];

        snprintf(img, sizeof img, "%s/files/photo-%d.jpg", f->url, i);
        snprintf(page, sizeof page, "https://www.pexels.com/photo/%d/", 1000 + i);
        json_object_set_new(src, "large2x", json_string(img));
        json_object_set_new(src, "original", json_string(img));
        json_array_append_new(photos, json_pack("{s:i, s:i, s:i, s:s, s:s, s:s, s:o, s:s}", "id",
                                                1000 + i, "width", 1280, "height", 720, "url", page,
                                                "photographer", i == 1 ? "Jo Park" : "Ana Ruiz",
                                                "photographer_url", "https://www.pexels.com/@x",
                                                "src", src, "alt", "a photograph"));
    }
    return json_reply(req->conn, 200,
                      json_pack("{s:i, s:i, s:i, s:o}", "page", 1, "per_page", 3, "total_results",
                                3, "photos", photos));
}

/* ---- OpenAI ---- */

static enum MHD_Result openai(struct fake_visual *f, const struct fake_http_request *req)
{
    static const char *const fields[] = {"prompt",
                                         "background",
                                         "model",
                                         "moderation",
                                         "n",
                                         "output_compression",
                                         "output_format",
                                         "partial_images",
                                         "quality",
                                         "response_format",
                                         "size",
                                         "stream",
                                         "style",
                                         "user",
                                         NULL};
    static const char *const sizes[] = {"1024x1024", "1536x1024", "1024x1536", "auto", NULL};
    static const char *const qualities[] = {"low", "medium", "high", "auto", NULL};
    char auth[160];
    json_t *b, *v;
    const char *model, *size, *quality;
    unsigned status;
    bool ok = false;

    count(f, "openai.generate");
    snprintf(auth, sizeof auth, "Bearer %s", f->key);
    if (strcmp(req->method, "POST") != 0)
        return refuse(f, req, 405, "openai", "not a POST");
    if (!header_is(req, "Authorization", auth))
        return refuse(f, req, 401, "openai", "Incorrect API key provided");
    if (!is_json(req))
        return refuse(f, req, 400, "openai", "Content-Type is not application/json");
    b = json_loads(req->body, 0, NULL);
    if (!json_is_object(b) || !only(b, fields)) {
        json_decref(b);
        return refuse(f, req, 400, "openai", "not an object of documented fields");
    }
    v = json_object_get(b, "prompt");
    model = json_string_value(json_object_get(b, "model"));
    size = json_string_value(json_object_get(b, "size"));
    quality = json_string_value(json_object_get(b, "quality"));
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 32000)
        ok = false;
    else if (model == NULL || strncmp(model, "gpt-image", 9) != 0)
        ok = false;
    else if (json_object_get(b, "response_format") != NULL)
        ok = false; /* gpt-image models always answer base64 and refuse the field */
    else if (json_object_get(b, "n") != NULL && (!json_is_integer(json_object_get(b, "n")) ||
                                                 json_integer_value(json_object_get(b, "n")) < 1 ||
                                                 json_integer_value(json_object_get(b, "n")) > 10))
        ok = false;
    else {
        ok = true;
        if (size != NULL) {
            bool s = false;

            for (size_t i = 0; sizes[i] != NULL; i++)
                s |= strcmp(sizes[i], size) == 0;
            ok &= s;
        }
        if (quality != NULL) {
            bool q = false;

            for (size_t i = 0; qualities[i] != NULL; i++)
                q |= strcmp(qualities[i], quality) == 0;
            ok &= q;
        }
    }
    if (ok)
        keep_last(f, "openai", json_string_value(v));
    json_decref(b);
    if (!ok)
        return refuse(f, req, 400, "openai", "a field outside what gpt-image-1 takes");
    if ((status = failing(f, "openai")) != 0)
        return json_reply(req->conn, status,
                          json_pack("{s:{s:s, s:s}}", "error", "message", "The server had an error",
                                    "type", "server_error"));
    {
        char *b64 = malloc((f->png.len + 2) / 3 * 4 + 1);
        json_t *ans;

        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)f->png.data, (int)f->png.len);
        ans = json_pack("{s:i, s:[{s:s}], s:{s:i, s:i}}", "created", 1764000000, "data", "b64_json",
                        b64, "usage", "input_tokens", 50, "output_tokens", 4160);
        free(b64);
        return json_reply(req->conn, 200, ans);
    }
}

/* ---- jobs ---- */

/* A new job of api (heygen or runway) as the next ones are set to go; its id. */
static const char *job_new(struct fake_visual *f, int api, char *id, size_t size)
{
    struct job *j =
        api == 2 ? &f->heygen[f->nheygen % JOBS_MAX] : &f->runway[f->nrunway % JOBS_MAX];
    int n = api == 2 ? ++f->nheygen : ++f->nrunway;

    memset(j, 0, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s-%d", api == 2 ? "vid" : "task", n);
    j->end = f->api[api].end;
    j->polls = f->api[api].polls;
    snprintf(id, size, "%s", j->id);
    return id;
}

static struct job *job_find(struct fake_visual *f, int api, const char *id)
{
    struct job *jobs = api == 2 ? f->heygen : f->runway;

    for (int i = 0; i < JOBS_MAX; i++)
        if (jobs[i].id[0] != '\0' && strcmp(jobs[i].id, id) == 0)
            return &jobs[i];
    return NULL;
}

/* ---- HeyGen ---- */

static const char *heygen_input_ok(const json_t *b)
{
    static const char *const top[] = {"video_inputs", "dimension", "title",
                                      "test",         "caption",   "callback_id",
                                      "callback_url", "folder_id", NULL};
    const json_t *in = json_object_get(b, "video_inputs"), *v,
                 *dim = json_object_get(b, "dimension");
    size_t i;

    if (!only(b, top))
        return "an undocumented field";
    if (!json_is_array(in) || json_array_size(in) < 1 || json_array_size(in) > 50)
        return "video_inputs must hold 1 to 50 scenes";
    json_array_foreach(in, i, v)
    {
        const json_t *ch = json_object_get(v, "character"), *vo = json_object_get(v, "voice");
        const char *type = json_string_value(json_object_get(ch, "type"));
        const json_t *text = json_object_get(vo, "input_text");

        if (type == NULL || strcmp(type, "avatar") != 0 ||
            !json_is_string(json_object_get(ch, "avatar_id")))
            return "a character that is not an avatar with an avatar_id";
        if (!json_is_string(json_object_get(vo, "type")) ||
            strcmp(json_string_value(json_object_get(vo, "type")), "text") != 0 ||
            !json_is_string(text) || json_string_length(text) == 0 ||
            json_string_length(text) >= 5000 || !json_is_string(json_object_get(vo, "voice_id")))
            return "a voice that is not a text of under 5000 characters with a voice_id";
    }
    if (dim != NULL && (!json_is_integer(json_object_get(dim, "width")) ||
                        !json_is_integer(json_object_get(dim, "height"))))
        return "dimension is not {width, height} of integers";
    return NULL;
}

static enum MHD_Result heygen(struct fake_visual *f, const struct fake_http_request *req)
{
    char id[32];
    unsigned status;

    if (!header_is(req, "X-Api-Key", f->key))
        return refuse(f, req, 401, "heygen", "Unauthorized: the X-Api-Key is missing or wrong");
    if (strcmp(req->url, "/v2/video/generate") == 0) {
        json_t *b;
        const char *why;

        count(f, "heygen.generate");
        if (strcmp(req->method, "POST") != 0 || !is_json(req))
            return refuse(f, req, 400, "heygen", "not a POST of JSON");
        b = json_loads(req->body, 0, NULL);
        why = json_is_object(b) ? heygen_input_ok(b) : "not a JSON object";
        if (why == NULL)
            keep_last(
                f, "heygen",
                json_string_value(json_object_get(
                    json_object_get(json_array_get(json_object_get(b, "video_inputs"), 0), "voice"),
                    "input_text")));
        json_decref(b);
        if (why != NULL)
            return refuse(f, req, 400, "heygen", why);
        if ((status = failing(f, "heygen")) != 0)
            return refuse(f, req, status, "heygen", "internal error");
        pthread_mutex_lock(&f->mu);
        job_new(f, 2, id, sizeof id);
        pthread_mutex_unlock(&f->mu);
        return json_reply(req->conn, 200,
                          json_pack("{s:n, s:{s:s}}", "error", "data", "video_id", id));
    }
    if (strcmp(req->url, "/v1/video_status.get") == 0 && strcmp(req->method, "GET") == 0) {
        const char *vid = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "video_id");
        static const char *const early[] = {"waiting", "pending", "processing"};
        json_t *data;
        struct job *j;

        count(f, "heygen.status");
        pthread_mutex_lock(&f->mu);
        j = vid != NULL ? job_find(f, 2, vid) : NULL;
        if (j == NULL) {
            pthread_mutex_unlock(&f->mu);
            return refuse(f, req, 404, "heygen", "no such video_id");
        }
        j->seen++;
        if (j->end == FAKE_JOB_NEVER || j->seen <= j->polls) {
            data =
                json_pack("{s:s, s:s, s:n, s:n, s:n}", "id", j->id, "status",
                          early[j->seen <= 3 ? j->seen - 1 : 2], "video_url", "duration", "error");
        } else if (j->end == FAKE_JOB_FAIL) {
            data = json_pack("{s:s, s:s, s:n, s:{s:i, s:s, s:s}}", "id", j->id, "status", "failed",
                             "video_url", "error", "code", 40119, "message", "Video is too long",
                             "detail", "The avatar could not be rendered");
        } else {
            char url[160];

            snprintf(url, sizeof url, "%s/files/clip.mp4", f->url);
            data = json_pack("{s:s, s:s, s:s, s:f, s:n}", "id", j->id, "status", "completed",
                             "video_url", url, "duration", 3.0, "error");
        }
        pthread_mutex_unlock(&f->mu);
        return json_reply(
            req->conn, 200,
            json_pack("{s:i, s:o, s:s}", "code", 100, "data", data, "message", "Success"));
    }
    return refuse(f, req, 404, "heygen", "an undocumented path");
}

/* ---- Runway ---- */

/* Whether a data URI holds a JPEG or PNG. */
static bool data_uri_ok(const char *uri)
{
    const char *comma = strchr(uri, ',');
    unsigned char *bytes;
    size_t n;
    bool ok;

    if (comma == NULL || (strncmp(uri, "data:image/jpeg;base64,", 23) != 0 &&
                          strncmp(uri, "data:image/png;base64,", 22) != 0))
        return false;
    n = strlen(comma + 1);
    if (n == 0 || n % 4 != 0)
        return false;
    bytes = malloc(n / 4 * 3 + 1);
    ok = EVP_DecodeBlock(bytes, (const unsigned char *)comma + 1, (int)n) > 8 &&
         ((bytes[0] == 0xFF && bytes[1] == 0xD8) || memcmp(bytes, "\x89PNG", 4) == 0);
    free(bytes);
    return ok;
}

static const char *runway_input_ok(const json_t *b)
{
    static const char *const fields[] = {"promptImage",       "model",    "ratio",
                                         "promptText",        "duration", "seed",
                                         "contentModeration", NULL};
    static const char *const ratios[] = {"1280:720", "720:1280", "1104:832", "832:1104", "960:960",
                                         "1584:672", "1280:768", "768:1280", NULL};
    const char *model = json_string_value(json_object_get(b, "model"));
    const char *img = json_string_value(json_object_get(b, "promptImage"));
    const char *ratio = json_string_value(json_object_get(b, "ratio"));
    const json_t *text = json_object_get(b, "promptText"), *d = json_object_get(b, "duration");
    bool r = false;

    if (!only(b, fields))
        return "an undocumented field";
    if (model == NULL || (strcmp(model, "gen4_turbo") != 0 && strcmp(model, "gen3a_turbo") != 0))
        return "model must be gen4_turbo or gen3a_turbo";
    if (img == NULL || (strncmp(img, "https://", 8) != 0 && !data_uri_ok(img)))
        return "promptImage is neither an https URL nor a data URI of a JPEG or PNG";
    if (text != NULL && (!json_is_string(text) || json_string_length(text) > 1000))
        return "promptText is longer than 1000 characters";
    for (size_t i = 0; ratio != NULL && ratios[i] != NULL; i++)
        r |= strcmp(ratio, ratios[i]) == 0;
    if (!r)
        return "a ratio the model does not make";
    if (d != NULL &&
        (!json_is_integer(d) || (json_integer_value(d) != 5 && json_integer_value(d) != 10)))
        return "duration must be 5 or 10";
    return NULL;
}

static enum MHD_Result runway(struct fake_visual *f, const struct fake_http_request *req)
{
    char auth[160], id[32];
    unsigned status;

    snprintf(auth, sizeof auth, "Bearer %s", f->key);
    if (!header_is(req, "Authorization", auth))
        return refuse(f, req, 401, "runway", "Unauthorized");
    if (!header_is(req, "X-Runway-Version", "2024-11-06"))
        return refuse(f, req, 400, "runway", "X-Runway-Version must be 2024-11-06");
    if (strcmp(req->url, "/v1/image_to_video") == 0) {
        json_t *b;
        const char *why;

        count(f, "runway.create");
        if (strcmp(req->method, "POST") != 0 || !is_json(req))
            return refuse(f, req, 400, "runway", "not a POST of JSON");
        b = json_loads(req->body, 0, NULL);
        why = json_is_object(b) ? runway_input_ok(b) : "not a JSON object";
        if (why == NULL && json_is_string(json_object_get(b, "promptText")))
            keep_last(f, "runway", json_string_value(json_object_get(b, "promptText")));
        json_decref(b);
        if (why != NULL)
            return refuse(f, req, 400, "runway", why);
        if ((status = failing(f, "runway")) != 0)
            return refuse(f, req, status, "runway", "internal error");
        pthread_mutex_lock(&f->mu);
        job_new(f, 3, id, sizeof id);
        pthread_mutex_unlock(&f->mu);
        return json_reply(req->conn, 200, json_pack("{s:s}", "id", id));
    }
    if (strncmp(req->url, "/v1/tasks/", 10) == 0) {
        struct job *j;
        json_t *ans;

        pthread_mutex_lock(&f->mu);
        j = job_find(f, 3, req->url + 10);
        if (j == NULL) {
            pthread_mutex_unlock(&f->mu);
            return refuse(f, req, 404, "runway", "no such task");
        }
        if (strcmp(req->method, "DELETE") == 0) {
            j->cancelled = true;
            pthread_mutex_unlock(&f->mu);
            count(f, "runway.cancel");
            return fake_http_reply(req->conn, 204, NULL, NULL, 0);
        }
        if (strcmp(req->method, "GET") != 0) {
            pthread_mutex_unlock(&f->mu);
            return refuse(f, req, 405, "runway", "neither GET nor DELETE");
        }
        j->seen++;
        if (j->cancelled)
            ans = json_pack("{s:s, s:s}", "id", j->id, "status", "CANCELLED");
        else if (j->end == FAKE_JOB_NEVER || j->seen <= j->polls)
            ans = json_pack("{s:s, s:s, s:s, s:f}", "id", j->id, "status",
                            j->seen == 1 ? "PENDING" : "RUNNING", "createdAt",
                            "2026-11-28T08:00:00.000Z", "progress", 0.5);
        else if (j->end == FAKE_JOB_FAIL)
            ans = json_pack("{s:s, s:s, s:s, s:s}", "id", j->id, "status", "FAILED", "failure",
                            "The input image could not be processed", "failureCode",
                            "INPUT_PREPROCESSING.SAFETY");
        else {
            char url[160];

            snprintf(url, sizeof url, "%s/files/clip.mp4", f->url);
            ans = json_pack("{s:s, s:s, s:s, s:[s]}", "id", j->id, "status", "SUCCEEDED",
                            "createdAt", "2026-11-28T08:00:00.000Z", "output", url);
        }
        pthread_mutex_unlock(&f->mu);
        count(f, "runway.task");
        return json_reply(req->conn, 200, ans);
    }
    return refuse(f, req, 404, "runway", "an undocumented path");
}

/* ---- the server ---- */

static enum MHD_Result on_request(void *cls, const struct fake_http_request *req)
{
    struct fake_visual *f = cls;

    if (strncmp(req->url, "/files/", 7) == 0) {
        const char *const jpeg[] = {"Content-Type", "image/jpeg", NULL};
        const char *const mp4[] = {"Content-Type", "video/mp4", NULL};

        count(f, "file");
        if (strstr(req->url, ".mp4") != NULL)
            return fake_http_reply(req->conn, 200, mp4, f->clip.data, f->clip.len);
        return fake_http_reply(req->conn, 200, jpeg, f->photo.data, f->photo.len);
    }
    if (strcmp(req->url, "/v1/search") == 0)
        return pexels(f, req);
    if (strcmp(req->url, "/v1/images/generations") == 0)
        return openai(f, req);
    if (strncmp(req->url, "/v2/video/", 10) == 0 || strncmp(req->url, "/v1/video_status", 16) == 0)
        return heygen(f, req);
    if (strcmp(req->url, "/v1/image_to_video") == 0 || strncmp(req->url, "/v1/tasks/", 10) == 0)
        return runway(f, req);
    return refuse(f, req, 404, "server", "an undocumented path");
}

static void make(const char *dir, const char *src, const char *dur, const char *name,
                 struct blob *b)
{
    char path[600], *cause = NULL, *ff = NULL;
    const char *argv[16];
    FILE *fp;
    long n;
    int k = 0;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    ff = paths_which("ffmpeg");
    if (ff == NULL) {
        fprintf(stderr, "fake_visual: no ffmpeg\n");
        abort();
    }
    argv[k++] = ff;
    argv[k++] = "-nostdin";
    argv[k++] = "-loglevel";
    argv[k++] = "error";
    argv[k++] = "-y";
    argv[k++] = "-f";
    argv[k++] = "lavfi";
    argv[k++] = "-i";
    argv[k++] = src;
    argv[k++] = dur != NULL ? "-t" : "-frames:v";
    argv[k++] = dur != NULL ? dur : "1";
    argv[k++] = path;
    argv[k] = NULL;
    if (proc_run(argv, NULL, 0, NULL, &cause) == -1) {
        fprintf(stderr, "fake_visual: ffmpeg: %s\n", cause);
        abort();
    }
    free(ff);
    fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    b->data = malloc((size_t)n);
    b->len = fread(b->data, 1, (size_t)n, fp);
    fclose(fp);
}

struct fake_visual *fake_visual_start(const char *key, const char *dir)
{
    struct fake_visual *f = calloc(1, sizeof *f);
    unsigned port;

    snprintf(f->key, sizeof f->key, "%s", key);
    pthread_mutex_init(&f->mu, NULL);
    for (int i = 0; i < 8; i++)
        f->counts[i].name = count_names[i];
    make(dir, "testsrc2=s=1280x720", NULL, "fake-photo.jpg", &f->photo);
    make(dir, "color=c=0x3060A0:s=1536x1024", NULL, "fake-generated.png", &f->png);
    make(dir, "testsrc2=s=1280x720:r=25", "3", "fake-clip.mp4", &f->clip);
    f->http = fake_http_start("fake_visual", on_request, f, &port);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", port);
    return f;
}

void fake_visual_stop(struct fake_visual *f)
{
    if (f == NULL)
        return;
    fake_http_stop(f->http);
    pthread_mutex_destroy(&f->mu);
    free(f->photo.data);
    free(f->clip.data);
    free(f->png.data);
    free(f->violation);
    for (int i = 0; i < 4; i++)
        free(f->last[i]);
    free(f);
}

const char *fake_visual_url(const struct fake_visual *f)
{
    return f->url;
}

void fake_visual_jobs(struct fake_visual *f, const char *api, enum fake_job end, int polls)
{
    int i = api_index(api);

    pthread_mutex_lock(&f->mu);
    f->api[i].end = end;
    f->api[i].polls = polls;
    pthread_mutex_unlock(&f->mu);
}

void fake_visual_fail(struct fake_visual *f, const char *api, unsigned status)
{
    int i = api_index(api);

    pthread_mutex_lock(&f->mu);
    f->api[i].fail = status;
    pthread_mutex_unlock(&f->mu);
}

int fake_visual_count(struct fake_visual *f, const char *what)
{
    int n = -1;

    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < 8; i++)
        if (strcmp(count_names[i], what) == 0)
            n = f->counts[i].n;
    pthread_mutex_unlock(&f->mu);
    return n;
}

char *fake_visual_violation(struct fake_visual *f)
{
    char *s;

    pthread_mutex_lock(&f->mu);
    s = f->violation != NULL ? strdup(f->violation) : NULL;
    pthread_mutex_unlock(&f->mu);
    return s;
}

char *fake_visual_last(struct fake_visual *f, const char *api)
{
    int i = api_index(api);
    char *s;

    pthread_mutex_lock(&f->mu);
    s = f->last[i] != NULL ? strdup(f->last[i]) : NULL;
    pthread_mutex_unlock(&f->mu);
    return s;
}
