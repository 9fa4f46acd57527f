/*
 * fake_tts.c - see fake_tts.h. Threads: one per connection (libmicrohttpd); state under t->mu.
 */
#include "fake_tts.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_tts {
    char key[128], voice[64], url[80];
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    int requests, good;
    char *violation, *text, *model;
};

struct upload {
    char *buf;
    size_t len;
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
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    MHD_add_response_header(r, "Content-Type", type);
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
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
static const char *check(struct fake_tts *t, struct MHD_Connection *c, const char *url,
                         const char *method, const char *body, unsigned *status, json_t **out)
{
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "xi-api-key");
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "output_format");
    char path[160];
    const char *k;
    json_t *j, *v, *vs;

    *status = 400;
    if (strcmp(method, "POST") != 0)
        return "not a POST";
    snprintf(path, sizeof path, "/v1/text-to-speech/%s", t->voice);
    if (strcmp(url, path) != 0) {
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
    j = json_loads(body, 0, NULL);
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

static enum MHD_Result answer(struct fake_tts *t, struct MHD_Connection *c, const char *url,
                              const char *method, const char *body)
{
    json_t *j = NULL;
    unsigned status;
    const char *why = check(t, c, url, method, body, &status, &j);

    pthread_mutex_lock(&t->mu);
    t->requests++;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct upload *u = *con_cls;

    (void)version;
    if (u == NULL) {
        u = calloc(1, sizeof *u);
        u->buf = calloc(1, 1);
        *con_cls = u;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        u->buf = realloc(u->buf, u->len + *upload_data_size + 1);
        memcpy(u->buf + u->len, upload_data, *upload_data_size);
        u->len += *upload_data_size;
        u->buf[u->len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(cls, c, url, method, u->buf);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
    struct upload *u = *con_cls;

    (void)cls;
    (void)c;
    (void)why;
    if (u != NULL) {
        free(u->buf);
        free(u);
        *con_cls = NULL;
    }
}

struct fake_tts *fake_tts_start(const char *key, const char *voice)
{
    struct fake_tts *t = calloc(1, sizeof *t);
    struct sockaddr_in sin = {0};
    const union MHD_DaemonInfo *info;

    snprintf(t->key, sizeof t->key, "%s", key);
    snprintf(t->voice, sizeof t->voice, "%s", voice);
    pthread_mutex_init(&t->mu, NULL);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    t->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                            NULL, NULL, on_request, t, MHD_OPTION_SOCK_ADDR, &sin,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, t, MHD_OPTION_END);
    if (t->d == NULL) {
        fprintf(stderr, "fake_tts: cannot start libmicrohttpd on 127.0.0.1\n");
        abort();
    }
    info = MHD_get_daemon_info(t->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        fprintf(stderr, "fake_tts: cannot read the bound port\n");
        abort();
    }
    snprintf(t->url, sizeof t->url, "http://127.0.0.1:%u", (unsigned)info->port);
    return t;
}

void fake_tts_stop(struct fake_tts *t)
{
    if (t == NULL)
        return;
    MHD_stop_daemon(t->d);
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
    return get_int(t, &t->requests);
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
