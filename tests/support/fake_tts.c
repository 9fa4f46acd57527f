/*
 * fake_tts.c - see fake_tts.h. Threads: one per connection (libmicrohttpd); state under t->mu.
 */
#include "fake_tts.h"

#include "fake_http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_tts {
    char key[128], voice[64], url[80];
    struct fake_http *http;
    pthread_mutex_t mu;
    int good;
    char *violation, *text, *model;
};

/* An ID3v2 header and one MPEG-1 Layer III frame header, then padding: enough to look like the
 * start of an MP3. */
static const unsigned char audio[] = {'I',  'D',  '3',  4,    0,    0,    0,    0,    0,    0,
                                      0xFF, 0xFB, 0x90, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x4C, 0x41, 0x4D, 0x45, 0x33, 0x2E, 0x31, 0x30, 0x30, 0x00};

const unsigned char *fake_tts_audio(size_t *len)
{
    *len = sizeof audio;
    return audio;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const void *body, size_t len)
{
    const char *const headers[] = {"Content-Type", type, NULL};

    return fake_http_reply(c, status, headers, body, len);
}

static const char *const documented[] = {"text",
                                         "model_id",
                                         "language_code",
                                         "voice_settings",
                                         "pronunciation_dictionary_locators",
                                         "seed",
                                         "previous_text",
                                         "next_text",
                                         "previous_request_ids",
                                         "next_request_ids",
                                         "apply_text_normalization",
                                         NULL};

/* Why the request is wrong, or NULL. */
static const char *check(struct fake_tts *t, const struct fake_http_request *req, unsigned *status,
                         json_t **out)
{
    const char *key = fake_http_header(req, "xi-api-key");
    const char *ct = fake_http_header(req, "Content-Type");
    const char *fmt =
        MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "output_format");
    char path[160];
    const char *k;
    json_t *j, *v, *vs;

    *status = 400;
    if (strcmp(req->method, "POST") != 0)
        return "not a POST";
    snprintf(path, sizeof path, "/v1/text-to-speech/%s", t->voice);
    if (strcmp(req->url, path) != 0) {
        *status = 404;
        return "wrong path (or voice id)";
    }
    if (key == NULL || strcmp(key, t->key) != 0) {
        *status = 401;
        return "missing or wrong xi-api-key";
    }
    if (ct == NULL || strncmp(ct, "application/json", 16) != 0)
        return "Content-Type is not application/json";
    if (fmt != NULL && strncmp(fmt, "mp3_", 4) != 0)
        return "output_format is not an mp3 format";
    j = json_loads(req->body, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return "the body is not a JSON object";
    }
    *out = j;
    json_object_foreach(j, k, v)
    {
        bool ok = false;

        for (int i = 0; documented[i] != NULL; i++)
            ok = ok || strcmp(documented[i], k) == 0;
        if (!ok)
            return "an undocumented field in the body";
    }
    v = json_object_get(j, "text");
    if (!json_is_string(v) || json_string_length(v) == 0)
        return "\"text\" is missing or empty";
    if (!json_is_string(json_object_get(j, "model_id")))
        return "\"model_id\" is not a string";
    vs = json_object_get(j, "voice_settings");
    if (vs != NULL) {
        if (!json_is_object(vs))
            return "\"voice_settings\" is not an object";
        json_object_foreach(vs, k, v)
        {
            if (strcmp(k, "use_speaker_boost") == 0)
                continue;
            if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
                return "a voice setting is not a number from 0 to 1";
        }
    }
    return NULL;
}

static enum MHD_Result on_request(void *cls, const struct fake_http_request *req)
{
    struct fake_tts *t = cls;
    struct MHD_Connection *c = req->conn;
    json_t *j = NULL;
    unsigned status;
    const char *why = check(t, req, &status, &j);

    pthread_mutex_lock(&t->mu);
    if (why != NULL) {
        free(t->violation);
        t->violation = strdup(why);
    } else {
        t->good++;
        free(t->text);
        free(t->model);
        t->text = strdup(json_string_value(json_object_get(j, "text")));
        t->model = strdup(json_string_value(json_object_get(j, "model_id")));
    }
    pthread_mutex_unlock(&t->mu);
    json_decref(j);
    if (why != NULL) {
        char err[256];

        snprintf(err, sizeof err, "{\"detail\":{\"status\":\"%s\",\"message\":\"%s\"}}",
                 status == 401 ? "invalid_api_key" : "invalid_request", why);
        return reply(c, status, "application/json", err, strlen(err));
    }
    return reply(c, 200, "audio/mpeg", audio, sizeof audio);
}

struct fake_tts *fake_tts_start(const char *key, const char *voice)
{
    struct fake_tts *t = calloc(1, sizeof *t);
    unsigned port;

    snprintf(t->key, sizeof t->key, "%s", key);
    snprintf(t->voice, sizeof t->voice, "%s", voice);
    pthread_mutex_init(&t->mu, NULL);
    t->http = fake_http_start("fake_tts", on_request, t, &port);
    snprintf(t->url, sizeof t->url, "http://127.0.0.1:%u", port);
    return t;
}

void fake_tts_stop(struct fake_tts *t)
{
    if (t == NULL)
        return;
    fake_http_stop(t->http);
    pthread_mutex_destroy(&t->mu);
    free(t->violation);
    free(t->text);
    free(t->model);
    free(t);
}

const char *fake_tts_url(const struct fake_tts *t)
{
    return t->url;
}

static int get_int(struct fake_tts *t, const int *p)
{
    int v;

    pthread_mutex_lock(&t->mu);
    v = *p;
    pthread_mutex_unlock(&t->mu);
    return v;
}

int fake_tts_requests(struct fake_tts *t)
{
    return fake_http_requests(t->http);
}

int fake_tts_good(struct fake_tts *t)
{
    return get_int(t, &t->good);
}

static char *get_str(struct fake_tts *t, char *const *p)
{
    char *s;

    pthread_mutex_lock(&t->mu);
    s = *p != NULL ? strdup(*p) : NULL;
    pthread_mutex_unlock(&t->mu);
    return s;
}

char *fake_tts_violation(struct fake_tts *t)
{
    return get_str(t, &t->violation);
}

char *fake_tts_last_text(struct fake_tts *t)
{
    return get_str(t, &t->text);
}

char *fake_tts_last_model(struct fake_tts *t)
{
    return get_str(t, &t->model);
}
