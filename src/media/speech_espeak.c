/*
 * speech_espeak.c - the "espeak-ng" speech provider: the local espeak-ng program, run as a
 * child process (proc.h: an argument vector, no shell) that writes a WAV with -w. The text is
 * passed after "--" so a narration starting with '-' is never read as an option. [video]
 * espeak names the program (a path or a name on PATH; empty or "none" turns it off),
 * espeak_voice the voice and [production] words_per_minute the rate.
 *
 * Threads: the state is read-only after open; any thread.
 */
#include "media/proc.h"
#include "media/speech_int.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct espeak {
    char *program;
    char *voice;
    char rate[16];
};

static int espeak_open(const struct config *c, void **state, char **version, char **cause)
{
    struct espeak *e;
    char *program;

    if (c->video_espeak[0] == '\0' || strcmp(c->video_espeak, "none") == 0) {
        *cause = xstrdup("espeak-ng is turned off ([video] espeak)");
        return -1;
    }
    if ((program = paths_which(c->video_espeak)) == NULL) {
        *cause = xasprintf("%s not found", c->video_espeak);
        return -1;
    }
    e = xcalloc(1, sizeof *e);
    e->program = program;
    e->voice = xstrdup(c->video_espeak_voice);
    snprintf(e->rate, sizeof e->rate, "%d", c->words_per_minute);
    *version = proc_first_line(program, "--version");
    if (*version == NULL)
        *version = xstrdup("espeak-ng (version unknown)");
    *state = e;
    return 0;
}

static int espeak_synthesize(void *state, const char *text, const char *path, int64_t deadline_ms,
                             int64_t *duration_ms, char **cause)
{
    struct espeak *e = state;
    const char *argv[] = {e->program, "-v", e->voice, "-s", e->rate, "-w", path, "--", text, NULL};

    if (proc_run(argv, NULL, deadline_ms, NULL, cause) == -1)
        return -1;
    return speech_wav_duration(path, duration_ms, cause);
}

static void espeak_close(void *state)
{
    struct espeak *e = state;

    if (e == NULL)
        return;
    free(e->program);
    free(e->voice);
    free(e);
}

const struct speech_impl speech_espeak = {
    .name = "espeak-ng",
    .ext = "wav",
    .open = espeak_open,
    .synthesize = espeak_synthesize,
    .close = espeak_close,
};
