/*
 * fake_tts.h - a local stand-in for ElevenLabs' text-to-speech API, for the speech provider's
 * tests: libmicrohttpd on 127.0.0.1, a port the kernel picks. It checks every request against
 * the documented API: POST /v1/text-to-speech/{voice_id} (optional ?output_format=mp3_*),
 * an xi-api-key header equal to the key it was started with (else 401 with ElevenLabs' error
 * shape), Content-Type: application/json, a JSON object body with a non-empty string "text",
 * a string "model_id", only documented fields, and voice_settings (when present) an object of
 * numbers from 0 to 1. A request that breaks this gets 400 (or 401, 404) and is kept as the
 * violation; a good one gets 200 with Content-Type audio/mpeg and fake_tts_audio()'s bytes.
 *
 * Threads: the server answers on its own threads; everything else takes its mutex.
 */
#ifndef NEWSROOM_FAKE_TTS_H
#define NEWSROOM_FAKE_TTS_H

#include <stddef.h>

struct fake_tts;

/* Starts a server expecting key and voice; aborts the test program if it cannot. */
struct fake_tts *fake_tts_start(const char *key, const char *voice);
void fake_tts_stop(struct fake_tts *t);
/* "http://127.0.0.1:PORT", owned by t. */
const char *fake_tts_url(const struct fake_tts *t);
/* The MP3 bytes every good request gets. */
const unsigned char *fake_tts_audio(size_t *len);
/* Requests received, and good ones. */
int fake_tts_requests(struct fake_tts *t);
int fake_tts_good(struct fake_tts *t);
/* The last violation, the last good request's text and model_id (new strings, free them), or
 * NULL. */
char *fake_tts_violation(struct fake_tts *t);
char *fake_tts_last_text(struct fake_tts *t);
char *fake_tts_last_model(struct fake_tts *t);

#endif
