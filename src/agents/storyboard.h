/*
 * storyboard.h - the production package of a finished script, without rendering: the
 * narration text, its duration at a speaking rate, a shot list (title card, a lower third with
 * the headline and source, one shot per sentence, key facts marked, a closing card) and
 * captions as SRT. The producer stores it with the story; a later renderer turns it into
 * video. Pure functions without state, safe from any thread.
 *
 * Timing: narration starts after the title card; every word of it takes 60000 / wpm ms
 * (integer ms, rounded down per word boundary, so the last word ends exactly at
 * words * 60000 / wpm); a shot or caption cue starts at its first word and ends at its last.
 * A word longer than a caption line is cut at UTF-8 character boundaries and its time shared
 * by the pieces. Cues never span two sentences and together cover the whole narration.
 */
#ifndef NEWSROOM_STORYBOARD_H
#define NEWSROOM_STORYBOARD_H

#include <jansson.h>
#include <stdint.h>

struct storyboard_options {
    int words_per_minute; /* speaking rate (> 0) */
    int title_ms;         /* the title card before the narration */
    int closing_ms;       /* the closing card after it */
    int caption_chars;    /* characters (not bytes) per caption line, at least 8 */
    int caption_lines;    /* lines per caption cue, at least 1 */
};

/* 150 words a minute, 2 s title and closing cards, 2 lines of 42 characters per cue. */
void storyboard_options_default(struct storyboard_options *o);

/* The package of script (may be NULL or empty: no narration, no cues) under headline and
 * source (NULL: ""): {"kind": "storyboard", "duration_s", "duration_ms", "narration_ms",
 * "words", "words_per_minute", "narration", "shots": [{"n", "kind", "start_ms", "end_ms",
 * "text", "visual", ...}], "captions_srt", "cues"}. Shot kinds: title_card, lower_third (an
 * overlay: "overlay": true, with "source"), narration, key_fact (a sentence with a figure),
 * closing. New reference, or NULL when a text is not valid UTF-8. */
json_t *storyboard_build(const char *script, const char *headline, const char *source,
                         const struct storyboard_options *o);

/* "HH:MM:SS,mmm" for ms >= 0 into buf (at least 13 bytes; hours past 99 widen it). Returns
 * buf. */
const char *storyboard_srt_time(int64_t ms, char *buf, size_t size);

#endif
