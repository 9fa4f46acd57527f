/*
 * storyboard.c - the storyboard package: sentences and words of the script on one timeline,
 * the shot list and SRT captions; see storyboard.h for the timing rules. Pure functions; all
 * working memory is the caller's thread's heap and is freed before returning.
 */
#include "agents/storyboard.h"

#include "agents/script.h"
#include "core/fail.h"
#include "core/text.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One word of the narration: narration[off .. off + len), in sentence `sentence`. */
struct word {
    size_t off, len;
    int sentence;
};

struct sentence {
    int first, count; /* its words */
    size_t off, len;  /* in the narration */
};

struct timeline {
    const struct storyboard_options *o;
    char *narration;
    struct word *words;
    int nwords;
    struct sentence *sent;
    int nsent;
};

void storyboard_options_default(struct storyboard_options *o)
{
    o->words_per_minute = 150;
    o->title_ms = 2000;
    o->closing_ms = 2000;
    o->caption_chars = 42;
    o->caption_lines = 2;
}

const char *storyboard_srt_time(int64_t ms, char *buf, size_t size)
{
    if (ms < 0)
        ms = 0;
    snprintf(buf, size, "%02lld:%02lld:%02lld,%03lld", (long long)(ms / 3600000),
             (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60), (long long)(ms % 1000));
    return buf;
}

/* When word i starts (i == nwords: when the narration ends). */
static int64_t word_ms(const struct timeline *t, int i)
{
    return t->o->title_ms + (int64_t)i * 60000 / t->o->words_per_minute;
}

static bool utf8_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

static int utf8_chars(const char *s, size_t n)
{
    int k = 0;

    for (size_t i = 0; i < n; i++)
        k += !utf8_cont((unsigned char)s[i]);
    return k;
}

/* Splits the script into sentences and words, building the narration: each sentence with
 * its white space and control characters folded to single spaces and a full stop added when
 * it ends in a letter or digit, joined by spaces. */
static void timeline_build(struct timeline *t, const char *script)
{
    struct script_span *spans;
    size_t n = script_sentences(script, &spans);
    struct text_buf nar = {0};
    int wcap = 0;

    text_buf_add(&nar, "", 0);
    t->sent = n > 0 ? xcalloc(n, sizeof *t->sent) : NULL;
    for (size_t k = 0; k < n; k++) {
        const char *s = script + spans[k].start;
        struct sentence *se = &t->sent[t->nsent];
        bool gap = true;

        if (nar.len > 0)
            text_buf_add(&nar, " ", 1);
        se->off = nar.len;
        se->first = t->nwords;
        for (size_t i = 0; i < spans[k].len; i++) {
            unsigned char c = (unsigned char)s[i];

            if (isspace(c) || c < 0x20 || c == 0x7f) {
                gap = true;
                continue;
            }
            if (gap) {
                if (nar.len > se->off)
                    text_buf_add(&nar, " ", 1);
                if (t->nwords == wcap) {
                    wcap = wcap == 0 ? 64 : wcap * 2;
                    t->words = xrealloc(t->words, (size_t)wcap * sizeof *t->words);
                }
                t->words[t->nwords++] = (struct word){nar.len, 0, t->nsent};
                gap = false;
            }
            text_buf_add(&nar, (const char *)&c, 1);
            t->words[t->nwords - 1].len++;
        }
        se->count = t->nwords - se->first;
        if (se->count > 0 && isalnum((unsigned char)nar.s[nar.len - 1])) {
            /* A line without an end (a headline) is read as a sentence. */
            text_buf_add(&nar, ".", 1);
            t->words[t->nwords - 1].len++;
        }
        se->len = nar.len - se->off;
        if (se->count > 0)
            t->nsent++;
        else if (se->off > 0)
            nar.s[--nar.len] = '\0'; /* nothing but controls: drop the separator again */
    }
    free(spans);
    t->narration = nar.s;
}

static void timeline_free(struct timeline *t)
{
    free(t->narration);
    free(t->words);
    free(t->sent);
}

/* The first figure of a sentence ("86.6"), or NULL when it has none. */
static char *first_figure(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (isdigit((unsigned char)s[i])) {
            size_t j = i;

            while (j < len &&
                   (isdigit((unsigned char)s[j]) || ((s[j] == '.' || s[j] == ',') && j + 1 < len &&
                                                     isdigit((unsigned char)s[j + 1]))))
                j++;
            return xasprintf("%.*s", (int)(j - i), s + i);
        }
    return NULL;
}

static bool utf8_valid(const char *s)
{
    json_t *j;

    if (s == NULL)
        return true;
    j = json_string(s); /* jansson refuses invalid UTF-8 */
    json_decref(j);
    return j != NULL;
}

static json_t *shot(int n, const char *kind, int64_t start, int64_t end, const char *text,
                    const char *visual)
{
    return json_pack("{s:i, s:s, s:I, s:I, s:s, s:s}", "n", n, "kind", kind, "start_ms",
                     (json_int_t)start, "end_ms", (json_int_t)end, "text", text, "visual", visual);
}

static json_t *shot_list(const struct timeline *t, const char *headline, const char *source)
{
    json_t *shots = json_array();
    int64_t end = word_ms(t, t->nwords);
    int n = 1;
    char *closing;

    json_array_append_new(shots, shot(n++, "title_card", 0, t->o->title_ms, headline,
                                      "title card: the headline over the story's lead image"));
    if (t->nsent > 0) {
        json_t *lt = shot(n++, "lower_third", word_ms(t, 0), word_ms(t, t->sent[0].count), headline,
                          "lower third: the headline and its source");

        json_object_set_new(lt, "source", json_string(source));
        json_object_set_new(lt, "overlay", json_true());
        json_array_append_new(shots, lt);
    }
    for (int i = 0; i < t->nsent; i++) {
        const struct sentence *se = &t->sent[i];
        char *text = xasprintf("%.*s", (int)se->len, t->narration + se->off);
        char *fig = first_figure(text, se->len);
        char *visual = fig != NULL ? xasprintf("full-screen figure: %s", fig)
                                   : xstrdup("b-roll matching the narration");

        json_array_append_new(shots, shot(n++, fig != NULL ? "key_fact" : "narration",
                                          word_ms(t, se->first), word_ms(t, se->first + se->count),
                                          text, visual));
        free(text);
        free(fig);
        free(visual);
    }
    closing = xasprintf("Source: %s", *source != '\0' ? source : "Newsroom");
    json_array_append_new(shots, shot(n, "closing", end, end + t->o->closing_ms, closing,
                                      "closing card with the source"));
    free(closing);
    return shots;
}

/* Caption building: one cue at a time, lines of pieces (words, or parts of a long word). */
struct cues {
    const struct timeline *t;
    struct text_buf srt;
    struct text_buf text; /* the current cue's lines */
    int lines;            /* lines in the current cue (the last one open) */
    int line_chars;       /* characters on the open line */
    int64_t start, end;
    int n;
};

static void cue_flush(struct cues *c)
{
    char a[32], b[32], num[24];

    if (c->text.len == 0)
        return;
    snprintf(num, sizeof num, "%d\n", ++c->n);
    text_buf_str(&c->srt, num);
    text_buf_str(&c->srt, storyboard_srt_time(c->start, a, sizeof a));
    text_buf_str(&c->srt, " --> ");
    text_buf_str(&c->srt, storyboard_srt_time(c->end, b, sizeof b));
    text_buf_str(&c->srt, "\n");
    text_buf_add(&c->srt, c->text.s, c->text.len);
    text_buf_str(&c->srt, "\n\n");
    c->text.len = 0;
    c->text.s[0] = '\0';
    c->lines = 0;
    c->line_chars = 0;
}

static void cue_piece(struct cues *c, const char *s, size_t n, int64_t start, int64_t end)
{
    const struct storyboard_options *o = c->t->o;
    int chars = utf8_chars(s, n);

    if (c->lines > 0 && c->line_chars + 1 + chars > o->caption_chars) {
        if (c->lines >= o->caption_lines)
            cue_flush(c);
        else {
            text_buf_add(&c->text, "\n", 1);
            c->lines++;
            c->line_chars = 0;
        }
    }
    if (c->lines == 0) {
        c->lines = 1;
        c->start = start;
    } else if (c->line_chars > 0) {
        text_buf_add(&c->text, " ", 1);
        c->line_chars++;
    }
    text_buf_add(&c->text, s, n);
    c->line_chars += chars;
    c->end = end;
}

/* Word w as pieces of at most caption_chars characters, cut at character boundaries, its
 * time shared evenly between them. */
static void cue_word(struct cues *c, int w)
{
    const struct timeline *t = c->t;
    const char *s = t->narration + t->words[w].off;
    size_t len = t->words[w].len, i = 0;
    int chars = utf8_chars(s, len), max = t->o->caption_chars;
    int pieces = (chars + max - 1) / max, k = 0;
    int64_t ws = word_ms(t, w), span = word_ms(t, w + 1) - ws;

    while (i < len) {
        size_t j = i;
        int got = 0;

        while (j < len && got < max) {
            j++;
            while (j < len && utf8_cont((unsigned char)s[j]))
                j++;
            got++;
        }
        cue_piece(c, s + i, j - i, ws + span * k / pieces, ws + span * (k + 1) / pieces);
        k++;
        i = j;
    }
}

static char *captions(const struct timeline *t, int *ncues)
{
    struct cues c = {.t = t};

    text_buf_add(&c.srt, "", 0);
    text_buf_add(&c.text, "", 0);
    for (int i = 0; i < t->nsent; i++) {
        for (int w = t->sent[i].first; w < t->sent[i].first + t->sent[i].count; w++)
            cue_word(&c, w);
        cue_flush(&c); /* a cue never spans two sentences */
    }
    free(c.text.s);
    *ncues = c.n;
    return c.srt.s;
}

json_t *storyboard_build(const char *script, const char *headline, const char *source,
                         const struct storyboard_options *opts)
{
    struct storyboard_options o = *opts;
    struct timeline t = {.o = &o};
    int64_t narration_ms, duration_ms;
    char *srt;
    int ncues;
    json_t *pkg;

    if (!utf8_valid(script) || !utf8_valid(headline) || !utf8_valid(source))
        return NULL;
    if (o.words_per_minute <= 0)
        o.words_per_minute = 150;
    if (o.caption_chars < 8)
        o.caption_chars = 8;
    if (o.caption_lines < 1)
        o.caption_lines = 1;
    if (o.title_ms < 0)
        o.title_ms = 0;
    if (o.closing_ms < 0)
        o.closing_ms = 0;
    headline = headline != NULL ? headline : "";
    source = source != NULL ? source : "";
    timeline_build(&t, script != NULL ? script : "");
    narration_ms = word_ms(&t, t.nwords) - o.title_ms;
    duration_ms = o.title_ms + narration_ms + o.closing_ms;
    srt = captions(&t, &ncues);
    pkg = json_pack("{s:s, s:f, s:I, s:I, s:i, s:i, s:s, s:o, s:s, s:i}", "kind", "storyboard",
                    "duration_s", (double)duration_ms / 1000, "duration_ms",
                    (json_int_t)duration_ms, "narration_ms", (json_int_t)narration_ms, "words",
                    t.nwords, "words_per_minute", o.words_per_minute, "narration", t.narration,
                    "shots", shot_list(&t, headline, source), "captions_srt", srt, "cues", ncues);
    if (pkg == NULL)
        fail("storyboard: building the package failed");
    free(srt);
    timeline_free(&t);
    return pkg;
}
