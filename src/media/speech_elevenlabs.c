/*
 * speech_elevenlabs.c - the "elevenlabs" speech provider: ElevenLabs' text-to-speech API,
 *   POST {base}/v1/text-to-speech/{voice_id}?output_format=mp3_44100_128
 *   xi-api-key: KEY, Content-Type: application/json, Accept: audio/mpeg
 *   {"text": ..., "model_id": ..., "voice_settings": {"stability", "similarity_boost"}}
 * answered with audio/mpeg bytes, written as they came. The key ([video] elevenlabs_api_key,
 * env ELEVENLABS_API_KEY) is a secret: only the header carries it; causes name the URL, which
 * never holds it. The MP3's length is not read here (duration -1): the renderer measures it.
 * Its circuit breaker and the fallback to espeak-ng are speech.c's: a failure here (no answer,
 * a non-200 status, an empty body) counts against the breaker there.
 *
 * Threads: the state holds a CURL easy handle (llm/http.h): one thread at a time.
 */
#include "media/speech_int.h"
#include "core/config.h"
#include "core/clock.h"
#include "core/fail.h"
#include "llm/http.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ELEVENLABS_MAX_BYTES (64u << 20)

struct elevenlabs {
    struct llm_http *http;
    char *url;
    char *key_header;
    char *model;
    int timeout_ms;
};

static bool voice_ok(const char *v)
{
    if (*v == '\0')
        return false;
    for (; *v != '\0'; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
              *v == '_' || *v == '-'))
            return false;
    return true;
}

static int elevenlabs_open(const struct config *c, void **state, char **version, char **cause)
{
    struct elevenlabs *e;
    size_t n = strlen(c->elevenlabs_base_url);

    if (c->elevenlabs_api_key[0] == '\0') {
        *cause = xstrdup("elevenlabs: no API key ([video] elevenlabs_api_key, ELEVENLABS_API_KEY)");
        return -1;
    }
    if (!voice_ok(c->elevenlabs_voice_id)) {
        *cause = xasprintf("elevenlabs: bad voice id \"%s\"", c->elevenlabs_voice_id);
        return -1;
    }
    while (n > 0 && c->elevenlabs_base_url[n - 1] == '/')
        n--;
    e = xcalloc(1, sizeof *e);
    e->http = llm_http_new();
    e->url = xasprintf("%.*s/v1/text-to-speech/%s?output_format=mp3_44100_128", (int)n,
                       c->elevenlabs_base_url, c->elevenlabs_voice_id);
    e->key_header = xasprintf("xi-api-key: %s", c->elevenlabs_api_key);
    e->model = xstrdup(c->elevenlabs_model_id);
    e->timeout_ms = c->llm_timeout_ms;
    *version = xasprintf("ElevenLabs text-to-speech v1, model %s, voice %s", e->model,
                         c->elevenlabs_voice_id);
    *state = e;
    return 0;
}

static int elevenlabs_synthesize(void *state, const char *text, const char *path,
                                 int64_t deadline_ms, int64_t *duration_ms, char **cause)
{
    struct elevenlabs *e = state;
    const char *headers[] = {e->key_header, "Content-Type: application/json", "Accept: audio/mpeg",
                             NULL};
    struct llm_http_result res;
    json_t *body;
    char *bs;
    int timeout = e->timeout_ms, rc = -1;
    FILE *f;

    (void)duration_ms;
    if (deadline_ms > 0) {
        int64_t left = deadline_ms - clock_mono_ms();

        if (left <= 0) {
            *cause = xstrdup("elevenlabs: no time left");
            return -1;
        }
        if (left < timeout)
            timeout = (int)left;
    }
    body = json_pack("{s:s, s:s, s:{s:f, s:f}}", "text", text, "model_id", e->model,
                     "voice_settings", "stability", 0.5, "similarity_boost", 0.75);
    if (body == NULL) {
        *cause = xstrdup("elevenlabs: the narration is not valid UTF-8");
        return -1;
    }
    bs = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (llm_http_post(e->http, e->url, headers, bs, timeout, ELEVENLABS_MAX_BYTES, &res, cause) ==
        -1) {
        free(bs);
        return -1;
    }
    free(bs);
    if (res.status != 200) {
        *cause = xasprintf("elevenlabs: HTTP %ld", res.status);
        goto out;
    }
    if (res.len == 0) {
        *cause = xstrdup("elevenlabs: an empty answer");
        goto out;
    }
    if ((f = fopen(path, "wb")) == NULL) {
        *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    if (fwrite(res.body, 1, res.len, f) != res.len) {
        *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
        fclose(f);
        goto out;
    }
    if (fclose(f) != 0) {
        *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    llm_http_result_clear(&res);
    return rc;
}

static void elevenlabs_close(void *state)
{
    struct elevenlabs *e = state;

    if (e == NULL)
        return;
    llm_http_free(e->http);
    free(e->url);
    free(e->key_header);
    free(e->model);
    free(e);
}

const struct speech_impl speech_elevenlabs = {
    .name = "elevenlabs",
    .ext = "mp3",
    .open = elevenlabs_open,
    .synthesize = elevenlabs_synthesize,
    .close = elevenlabs_close,
};
