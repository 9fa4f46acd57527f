/*
 * test_speech_fallback.c - the narration's fallback (src/media/speech.c): ElevenLabs, played by
 * a local fake of its API (tests/support/fake_tts.c, every request checked), refusing every
 * call; the real espeak-ng speaks instead, the manifest's provider says so, and once the
 * ElevenLabs breaker is open (two failures here) no call reaches the service any more. With a
 * working service ElevenLabs speaks; with speech_fallback = none a failure is the render's.
 */
#include "core/config.h"
#include "core/fail.h"
#include "fake_tts.h"
#include "media/speech.h"
#include "recovery/breaker.h"
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define VOICE "voice_Abc-1"
#define TEXT  "The harbour closed on Tuesday, the port authority said."

static const struct breaker_policy policy = {
    .failures = 2,
    .window_ms = 60000,
    .cooldown_ms = 60000,
    .trials = 1,
    .successes = 1,
    .refresh_ms = 100,
};

static void set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = xstrdup(v);
}

static struct config *elevenlabs(const char *url, const char *key, const char *fallback)
{
    struct config *c = config_new();

    set_str(&c->video_speech, "elevenlabs");
    set_str(&c->elevenlabs_base_url, url);
    set_str(&c->elevenlabs_api_key, key);
    set_str(&c->elevenlabs_voice_id, VOICE);
    set_str(&c->video_speech_fallback, fallback);
    return c;
}

static void test_falls_back_and_opens(void **state)
{
    struct fake_tts *t = fake_tts_start("sk-the-right-key", VOICE);
    struct config *c = elevenlabs(fake_tts_url(t), "sk-a-wrong-key", "espeak-ng");
    char *dir = test_tmpdir(), *path = xasprintf("%s/narration.mp3", dir), *cause = NULL, *body;
    struct speech *s;
    int64_t ms;

    (void)state;
    if ((s = speech_new(c, &cause)) == NULL)
        fail_msg("speech_new: %s", cause);
    assert_string_equal(speech_ext(s), "mp3");
    for (int i = 0; i < 4; i++) {
        if (speech_synthesize(s, TEXT, path, 0, &ms, &cause) != 0)
            fail_msg("narration %d: %s", i, cause);
        assert_string_equal(speech_name(s), "espeak-ng");
        assert_non_null(strstr(speech_version(s), "eSpeak"));
        assert_int_equal(ms, -1); /* a WAV where an MP3 was named: the renderer measures it */
        body = test_read_file(path);
        assert_non_null(body);
        assert_memory_equal(body, "RIFF", 4);
        free(body);
    }
    /* Two refusals opened the breaker: the other two never reached the service. */
    assert_int_equal(fake_tts_requests(t), 2);
    speech_free(s);
    config_free(c);
    fake_tts_stop(t);
    test_rmrf(dir);
    free(dir);
    free(path);
}

static void test_working_and_no_fallback(void **state)
{
    struct fake_tts *t = fake_tts_start("sk-the-right-key", VOICE);
    struct config *c = elevenlabs(fake_tts_url(t), "sk-the-right-key", "espeak-ng");
    char *dir = test_tmpdir(), *path = xasprintf("%s/narration.mp3", dir), *cause = NULL, *v;
    struct speech *s;
    size_t len;
    const unsigned char *audio = fake_tts_audio(&len);
    char *body;
    int64_t ms;

    (void)state;
    if ((s = speech_new(c, &cause)) == NULL)
        fail_msg("speech_new: %s", cause);
    if (speech_synthesize(s, TEXT, path, 0, &ms, &cause) != 0)
        fail_msg("%s", cause);
    assert_string_equal(speech_name(s), "elevenlabs");
    body = test_read_file(path);
    assert_memory_equal(body, audio, len);
    free(body);
    v = fake_tts_violation(t);
    assert_null(v);
    speech_free(s);
    config_free(c);
    /* No fallback: the refusal is the caller's to handle. */
    c = elevenlabs(fake_tts_url(t), "sk-yet-another-wrong-key", "none");
    s = speech_new(c, &cause);
    assert_non_null(s);
    assert_int_equal(speech_synthesize(s, TEXT, path, 0, &ms, &cause), -1);
    assert_non_null(strstr(cause, "elevenlabs"));
    assert_null(strstr(cause, "sk-yet-another-wrong-key"));
    free(cause);
    speech_free(s);
    config_free(c);
    fake_tts_stop(t);
    test_rmrf(dir);
    free(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_falls_back_and_opens),
        cmocka_unit_test(test_working_and_no_fallback),
    };

    breaker_set_local_policy(&policy);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
