/*
 * speech_int.h - what a speech provider implements; speech.c holds the table of providers.
 * Engine-internal, not for callers of speech.h.
 */
#ifndef NEWSROOM_SPEECH_INT_H
#define NEWSROOM_SPEECH_INT_H

#include "media/speech.h"

struct speech_impl {
    const char *name;
    const char *ext;
    /* Fills *state and *version (a new string). Returns 0, or -1 with *cause. */
    int (*open)(const struct config *c, void **state, char **version, char **cause);
    int (*synthesize)(void *state, const char *text, const char *path, int64_t deadline_ms,
                      int64_t *duration_ms, char **cause);
    void (*close)(void *state);
};

extern const struct speech_impl speech_espeak;
extern const struct speech_impl speech_elevenlabs;

#endif
