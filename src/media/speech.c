/*
 * speech.c - the table of speech providers and what they share (reading a WAV header); see
 * speech.h. A speech is used by one thread at a time.
 */
#include "media/speech.h"

#include "media/speech_int.h"
#include "core/config.h"
#include "core/fail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct speech_impl *const speech_table[] = {&speech_espeak, &speech_elevenlabs};

struct speech {
    const struct speech_impl *impl;
    void *state;
    char *version;
};

struct speech *speech_new(const struct config *c, char **cause)
{
    for (size_t i = 0; i < sizeof speech_table / sizeof speech_table[0]; i++)
        if (strcmp(c->video_speech, speech_table[i]->name) == 0) {
            struct speech *s = xcalloc(1, sizeof *s);

            s->impl = speech_table[i];
            if (s->impl->open(c, &s->state, &s->version, cause) == -1) {
                free(s);
                return NULL;
            }
            return s;
        }
    *cause = xasprintf("unknown speech provider \"%s\" (espeak-ng, elevenlabs)", c->video_speech);
    return NULL;
}

void speech_free(struct speech *s)
{
    if (s == NULL)
        return;
    s->impl->close(s->state);
    free(s->version);
    free(s);
}

const char *speech_name(const struct speech *s)
{
    return s->impl->name;
}

const char *speech_version(const struct speech *s)
{
    return s->version;
}

const char *speech_ext(const struct speech *s)
{
    return s->impl->ext;
}

int speech_synthesize(struct speech *s, const char *text, const char *path, int64_t deadline_ms,
                      int64_t *duration_ms, char **cause)
{
    *duration_ms = -1;
    return s->impl->synthesize(s->state, text, path, deadline_ms, duration_ms, cause);
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
