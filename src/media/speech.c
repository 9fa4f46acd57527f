/*
 * speech.c - the table of speech providers and what they share (reading a WAV header); see
 * speech.h. A network provider has its circuit breaker (recovery/breaker.h, "speech:NAME@URL")
 * and, when [video] speech_fallback names another provider that can run, a fallback: the
 * narration is spoken by the fallback when the breaker is open or the provider fails, and
 * speech_name() / speech_version() then name the fallback. A speech is used by one thread at
 * a time.
 */
#include "media/speech.h"

#include "media/speech_int.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "recovery/breaker.h"

#include <stddef.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct speech_impl *const speech_table[] = {&speech_espeak, &speech_elevenlabs};

/* The providers that speak over the network, each with the key of its base URL: they get a
 * circuit breaker. */
static const struct {
    const char *name;
    size_t url; /* offsetof(struct config, ...) */
} remote[] = {
    {"elevenlabs", offsetof(struct config, elevenlabs_base_url)},
};

/* One opened provider. */
struct voice {
    const struct speech_impl *impl;
    void *state;
    char *version;
};

struct speech {
    struct voice main, backup; /* backup.impl NULL: no fallback */
    struct breaker *breaker;   /* the main provider's, NULL for a local one */
    const struct voice *last;  /* who spoke the last narration */
};

static const struct speech_impl *impl_named(const char *name)
{
    for (size_t i = 0; i < sizeof speech_table / sizeof speech_table[0]; i++)
        if (strcmp(name, speech_table[i]->name) == 0)
            return speech_table[i];
    return NULL;
}

struct speech *speech_new(const struct config *c, char **cause)
{
    const struct speech_impl *impl = impl_named(c->video_speech);
    const struct speech_impl *fb = impl_named(c->video_speech_fallback);
    struct speech *s;
    char *why = NULL;

    if (impl == NULL) {
        *cause =
            xasprintf("unknown speech provider \"%s\" (espeak-ng, elevenlabs)", c->video_speech);
        return NULL;
    }
    s = xcalloc(1, sizeof *s);
    s->main.impl = impl;
    if (impl->open(c, &s->main.state, &s->main.version, cause) == -1) {
        free(s);
        return NULL;
    }
    s->last = &s->main;
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++)
        if (strcmp(impl->name, remote[i].name) == 0) {
            char where[BREAKER_NAME_MAX];

            snprintf(where, sizeof where, "%s@%s", impl->name,
                     *(char *const *)(const void *)((const char *)c + remote[i].url));
            s->breaker = breaker_for("speech", where);
        }
    /* A fallback that cannot run (espeak-ng missing) is no fallback: the main one alone. */
    if (fb != NULL && fb != impl) {
        if (fb->open(c, &s->backup.state, &s->backup.version, &why) == 0)
            s->backup.impl = fb;
        else
            free(why);
    }
    return s;
}

static void voice_close(struct voice *v)
{
    if (v->impl != NULL)
        v->impl->close(v->state);
    free(v->version);
}

void speech_free(struct speech *s)
{
    if (s == NULL)
        return;
    voice_close(&s->main);
    voice_close(&s->backup);
    free(s);
}

const char *speech_name(const struct speech *s)
{
    return s->last->impl->name;
}

const char *speech_version(const struct speech *s)
{
    return s->last->version;
}

const char *speech_ext(const struct speech *s)
{
    return s->main.impl->ext;
}

int speech_synthesize(struct speech *s, const char *text, const char *path, int64_t deadline_ms,
                      int64_t *duration_ms, char **cause)
{
    char *why = NULL;
    int rc = -1;

    *duration_ms = -1;
    s->last = &s->main;
    if (s->breaker == NULL || breaker_allow(s->breaker, &why) == 0) {
        rc = s->main.impl->synthesize(s->main.state, text, path, deadline_ms, duration_ms, &why);
        if (s->breaker != NULL && rc == 0)
            breaker_success(s->breaker);
        else if (s->breaker != NULL)
            breaker_failure(s->breaker, why);
    }
    if (rc == 0 || s->backup.impl == NULL) {
        if (rc == -1)
            *cause = why;
        return rc;
    }
    /* The fallback writes its own format into the same file: ffmpeg reads what it finds. */
    log_warn("speech: %s failed (%s); %s speaks the narration", s->main.impl->name, why,
             s->backup.impl->name);
    free(why);
    s->last = &s->backup;
    *duration_ms = -1;
    rc = s->backup.impl->synthesize(s->backup.state, text, path, deadline_ms, duration_ms, cause);
    /* Another format than the file's name says: the caller measures it as it measures any
     * file it cannot read the length of (decoding it once, as for an MP3). */
    if (strcmp(s->backup.impl->ext, s->main.impl->ext) != 0)
        *duration_ms = -1;
    return rc;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int speech_wav_duration(const char *path, int64_t *ms, char **cause)
{
    FILE *f = fopen(path, "rb");
    unsigned char h[12], ch[8], fmt[16];
    uint32_t byte_rate = 0;
    long size;

    if (f == NULL) {
        *cause = xasprintf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
        goto bad;
    while (fread(ch, 1, 8, f) == 8) {
        uint32_t len = le32(ch + 4);

        if (memcmp(ch, "fmt ", 4) == 0) {
            if (len < 16 || fread(fmt, 1, 16, f) != 16)
                goto bad;
            byte_rate = le32(fmt + 8);
            if (fseek(f, (long)len - 16 + (len & 1), SEEK_CUR) != 0)
                goto bad;
        } else if (memcmp(ch, "data", 4) == 0) {
            long here = ftell(f);

            /* A writer that streamed may leave the size unset: take the rest of the file. */
            if (len == 0 || len == 0xFFFFFFFFu || here + (long)len > size)
                len = (uint32_t)(size - here);
            if (byte_rate == 0)
                goto bad;
            *ms = (int64_t)len * 1000 / byte_rate;
            fclose(f);
            return 0;
        } else if (fseek(f, (long)len + (len & 1), SEEK_CUR) != 0) {
            goto bad;
        }
    }
bad:
    fclose(f);
    *cause = xasprintf("%s is not a PCM WAV file", path);
    return -1;
}
