/*
 * speech.h - narration: one interface for turning text into an audio file, one provider per
 * file, chosen by [video] speech. "espeak-ng" (speech_espeak.c, the default) runs the local
 * espeak-ng program as a child process and writes a WAV; "elevenlabs" (speech_elevenlabs.c)
 * POSTs the text to ElevenLabs' text-to-speech API and writes the MP3 it answers. The API key
 * is a secret: it goes into the request header only and is never logged or put in a cause.
 *
 * Threads: a speech belongs to one thread at a time (the ElevenLabs provider holds a CURL
 * easy handle); different speeches may run on different threads at once.
 */
#ifndef NEWSROOM_SPEECH_H
#define NEWSROOM_SPEECH_H

#include <stdint.h>

struct config;
struct speech;

/* The provider [video] speech names, set up from c. Returns a new speech (free it with
 * speech_free()) or NULL with *cause: an unknown provider, a local program that is not found
 * or turned off ("espeak-ng not found"), a network provider without its key. */
struct speech *speech_new(const struct config *c, char **cause);
void speech_free(struct speech *s);

/* The provider's name ("espeak-ng", "elevenlabs") and what it is (a program's version line,
 * the API and model), both owned by s: after speech_synthesize(), the provider that spoke
 * (the [video] speech_fallback one when the main provider failed or its breaker was open). */
const char *speech_name(const struct speech *s);
const char *speech_version(const struct speech *s);
/* The extension of the files it writes: "wav" or "mp3". */
const char *speech_ext(const struct speech *s);

/* Speaks text into the file path (created or replaced), giving up at deadline_ms (monotonic;
 * 0: none). A network provider's circuit breaker (recovery/breaker.h, "speech:NAME@URL") is
 * asked first; when it is open, or the provider fails, the fallback speaks instead (its own
 * format in the same file: ffmpeg reads either). *duration_ms receives the audio's length when the
 * provider knows it (a WAV), else -1. Returns 0, or -1 with *cause. */
int speech_synthesize(struct speech *s, const char *text, const char *path, int64_t deadline_ms,
                      int64_t *duration_ms, char **cause);

/* The length of the PCM WAV file at path, from its header. Returns 0, or -1 with *cause. */
int speech_wav_duration(const char *path, int64_t *ms, char **cause);

#endif
