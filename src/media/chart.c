/*
 * chart.c - figures out of a script and the chart slide they make; see chart.h. The reading of
 * figures is a small scanner over the script's bytes (ASCII digits and words; the currency
 * signs $, EUR and GBP in UTF-8); the drawing is one ffmpeg run over a colour source, its texts
 * in files beside the PNG.
 *
 * Threads: any; nothing is shared.
 */
#include "media/chart.h"

#include "core/fail.h"
#include "media/draw.h"
#include "media/proc.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Words that end a unit phrase or a context, and never start one. */
static const char *const stop_words[] = {
    "a",      "an",     "and",   "are",   "as",    "at",     "be",     "but",   "by",   "for",
    "from",   "had",    "has",   "have",  "in",    "into",   "is",     "it",    "its",  "of",
    "on",     "or",     "over",  "per",   "than",  "that",   "the",    "their", "then", "this",
    "those",  "to",     "under", "up",    "was",   "were",   "which",  "while", "who",  "with",
    "within", "when",   "will",  "would", "after", "before", "since",  "last",  "next", "each",
    "lower",  "higher", "more",  "less",  "about", "nearly", "almost", NULL};

/* Words after a figure that only say when or where: then the words before it say what it is. */
static const char *const when_words[] = {
    "on", "in",  "at", "this", "last", "next",  "by",    "since",  "and",    "or",
    "to", "the", "a",  "an",   "when", "while", "after", "before", "within", NULL};

static const struct {
    const char *word;
    double factor;
} magnitudes[] = {{"thousand", 1e3}, {"million", 1e6}, {"billion", 1e9}, {"trillion", 1e12}};

/* Units that are no plurals. */
static const char *const units[] = {"km",  "kg",  "mm", "cm", "m",  "mph", "kph", "kWh",
                                    "MWh", "GWh", "MW", "GW", "ha", "km2", NULL};

static const char *const currency_words[] = {"dollars", "dollar", "euros",  "euro",  "pounds",
                                             "pound",   "yen",    "francs", "franc", NULL};

static bool word_in(const char *w, size_t n, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == n && strncasecmp(w, list[i], n) == 0)
            return true;
    return false;
}

/* The word at p: letters (ASCII, and UTF-8 bytes) and inner hyphens or apostrophes. Its
 * length, 0 when p is no word. */
static size_t word_len(const char *p)
{
    size_t n = 0;

    while (isalpha((unsigned char)p[n]) || (unsigned char)p[n] >= 0x80 ||
           ((p[n] == '-' || p[n] == '\'') && n > 0 && isalpha((unsigned char)p[n + 1])))
        n++;
    return n;
}

/* A currency sign at p: its length (0 when none) and its folded unit. */
static size_t currency_sign(const char *p, const char **unit)
{
    if (*p == '$')
        return *unit = "$", 1;
    if (strncmp(p, "\xE2\x82\xAC", 3) == 0)
        return *unit = "EUR", 3;
    if (strncmp(p, "\xC2\xA3", 2) == 0)
        return *unit = "GBP", 2;
    return 0;
}

static void copy_span(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Whether number (as written, commas and all) stands as a number of its own in text: found,
 * and not inside a longer one. Commas are ignored on both sides. */
static bool states(const char *text, const char *number)
{
    char want[32];
    size_t wn = 0;

    for (const char *p = number; *p != '\0' && wn + 1 < sizeof want; p++)
        if (*p != ',')
            want[wn++] = *p;
    want[wn] = '\0';
    for (const char *p = text; *p != '\0'; p++) {
        size_t i = 0;
        const char *q = p;

        if (!isdigit((unsigned char)*p) ||
            (p > text && (isdigit((unsigned char)p[-1]) ||
                          (p[-1] == '.' && p - 1 > text && isdigit((unsigned char)p[-2])))))
            continue;
        while (i < wn && *q != '\0') {
            if (*q == ',' && isdigit((unsigned char)q[1])) {
                q++;
                continue;
            }
            if (*q != want[i])
                break;
            q++;
            i++;
        }
        if (i == wn && !isdigit((unsigned char)*q) &&
            !(*q == '.' && isdigit((unsigned char)q[1])) &&
            !(*q == ',' && isdigit((unsigned char)q[1])))
            return true;
    }
    return false;
}

/* Up to max words of the sentence after p (stopping at punctuation), into out. */
static void words_after(const char *p, int max, char *out, size_t size)
{
    int k = 0;
    size_t len = 0;

    out[0] = '\0';
    while (k < max) {
        size_t n;

        while (*p == ' ')
            p++;
        n = word_len(p);
        if (n == 0 && isdigit((unsigned char)*p))
            while (isdigit((unsigned char)p[n]))
                n++;
        if (n == 0)
            break;
        if (len + n + 2 >= size)
            break;
        if (len > 0)
            out[len++] = ' ';
        memcpy(out + len, p, n);
        len += n;
        out[len] = '\0';
        p += n;
        k++;
    }
}

/* Up to max words before p in its sentence (from start, where the sentence begins), without
 * leading stop words, into out. */
static void words_before(const char *start, const char *p, int max, char *out, size_t size)
{
    const char *q = p, *from = p;
    int k = 0;

    out[0] = '\0';
    while (k < max && q > start) {
        const char *w;

        while (q > start && q[-1] == ' ')
            q--;
        w = q;
        while (w > start && (isalpha((unsigned char)w[-1]) || (unsigned char)w[-1] >= 0x80 ||
                             w[-1] == '-' || w[-1] == '\''))
            w--;
        if (w == q)
            break;
        from = w;
        q = w;
        k++;
    }
    while (from < p) {
        size_t n = word_len(from);

        if (n == 0 || !word_in(from, n, stop_words))
            break;
        from += n;
        while (*from == ' ')
            from++;
    }
    copy_span(out, size, from, (size_t)(p - from));
    for (size_t n = strlen(out); n > 0 && out[n - 1] == ' ';)
        out[--n] = '\0';
}

/* Reads the figure starting at p (a digit or a currency sign) in the sentence beginning at
 * start. Returns the bytes it spans (0: no figure: a year, an ordinal, a number without a unit)
 * and fills *f. */
static size_t read_figure(const char *start, const char *p, struct chart_figure *f)
{
    const char *q = p, *unit = NULL, *num;
    char numbuf[32];
    size_t cs = currency_sign(q, &unit), nn = 0, n;
    bool decimal = false, magnitude = false, percent = false;

    memset(f, 0, sizeof *f);
    q += cs;
    num = q;
    if (!isdigit((unsigned char)*q))
        return 0;
    while (isdigit((unsigned char)*q) ||
           ((*q == ',' || *q == '.') && isdigit((unsigned char)q[1]))) {
        if (*q == '.') {
            if (decimal)
                break;
            decimal = true;
        }
        if (*q != ',' && nn + 1 < sizeof numbuf)
            numbuf[nn++] = *q;
        q++;
    }
    numbuf[nn] = '\0';
    copy_span(f->number, sizeof f->number, num, (size_t)(q - num));
    f->value = strtod(numbuf, NULL);
    if (isalpha((unsigned char)*q)) /* 13th, 5G, 2nd: not a figure */
        return 0;
    if (*q == '%') {
        percent = true;
        unit = "%";
        q++;
    }
    /* A magnitude, then the unit. */
    {
        const char *r = q;

        while (*r == ' ')
            r++;
        n = word_len(r);
        for (size_t i = 0; !percent && i < sizeof magnitudes / sizeof magnitudes[0]; i++)
            if (n == strlen(magnitudes[i].word) && strncasecmp(r, magnitudes[i].word, n) == 0) {
                f->value *= magnitudes[i].factor;
                magnitude = true;
                q = r + n;
                break;
            }
    }
    if (!decimal && !magnitude && unit == NULL && q - num == 4 && f->value >= 1800 &&
        f->value <= 2100)
        return 0; /* a year */
    if (!percent) {
        const char *r = q;
        size_t words = 0;
        const char *phrase = NULL, *end = q;

        while (*r == ' ')
            r++;
        n = word_len(r);
        if (n == 7 && strncasecmp(r, "percent", 7) == 0) {
            unit = "%";
            end = r + 7;
        } else if (n == 3 && strncasecmp(r, "per", 3) == 0 && strncasecmp(r + 3, " cent", 5) == 0) {
            unit = "%";
            end = r + 8;
        } else if (unit == NULL && word_in(r, n, currency_words)) {
            phrase = r;
            end = r + n;
        } else if (unit == NULL) {
            /* A count: the words that say what is counted ("new flu cases"), up to the last
             * that names things (a plural, or a unit such as km): "42 alone" counts nothing. */
            while (words < 3 && n > 0 && (islower((unsigned char)*r) || word_in(r, n, units)) &&
                   !word_in(r, n, stop_words)) {
                if (phrase == NULL)
                    phrase = r;
                if (r[n - 1] == 's' || word_in(r, n, units))
                    end = r + n;
                words++;
                r += n;
                while (*r == ' ')
                    r++;
                n = word_len(r);
            }
            if (end == q)
                phrase = NULL;
        }
        if (phrase != NULL)
            copy_span(f->unit, sizeof f->unit, phrase, (size_t)(end - phrase));
        q = end;
    }
    if (unit != NULL && f->unit[0] == '\0')
        snprintf(f->unit, sizeof f->unit, "%s", unit);
    if (f->unit[0] == '\0')
        return 0; /* a number without a unit */
    copy_span(f->text, sizeof f->text, p, (size_t)(q - p));
    /* What it is: the words after it, unless they only say when or where; then those before. */
    words_after(q, 5, f->context, sizeof f->context);
    {
        size_t w = word_len(f->context);

        if (f->context[0] == '\0' || word_in(f->context, w, when_words))
            words_before(start, p, 4, f->context, sizeof f->context);
    }
    return (size_t)(q - p);
}

/* Whether p ends a sentence: . ! ? followed by a space or the end (not a decimal point). */
static bool sentence_end(const char *p)
{
    return (*p == '.' || *p == '!' || *p == '?') && (p[1] == '\0' || isspace((unsigned char)p[1]));
}

size_t chart_figures(const char *script, const char *sources, struct chart_figure *out, size_t max)
{
    const char *start, *p;
    size_t n = 0;

    if (script == NULL || sources == NULL)
        return 0;
    start = script;
    for (p = script; *p != '\0' && n < max; p++) {
        const char *unit;
        struct chart_figure f;
        size_t used;
        bool dup = false;

        if (sentence_end(p)) {
            start = p + 1;
            while (*start == ' ')
                start++;
            continue;
        }
        if (!isdigit((unsigned char)*p) && currency_sign(p, &unit) == 0)
            continue;
        if (p > script && (isalnum((unsigned char)p[-1]) || p[-1] == '-' || p[-1] == '.' ||
                           p[-1] == ',' || p[-1] == '$'))
            continue; /* inside a word or a number already read */
        used = read_figure(start, p, &f);
        if (used == 0) {
            while (isdigit((unsigned char)p[1]) || p[1] == '.' || p[1] == ',')
                p++;
            continue;
        }
        for (size_t i = 0; i < n; i++)
            dup |= strcmp(out[i].text, f.text) == 0;
        if (!dup && states(sources, f.number))
            out[n++] = f;
        p += used - 1;
    }
    return n;
}

json_t *chart_plan(const struct chart_figure *f, size_t n)
{
    size_t best = 0, best_count = 0;
    json_t *plan, *labels, *contexts, *values;
    bool bars;

    if (n < 2)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;

        for (size_t k = 0; k < n; k++)
            c += strcasecmp(f[i].unit, f[k].unit) == 0;
        if (c > best_count) {
            best_count = c;
            best = i;
        }
    }
    bars = best_count >= 2;
    labels = json_array();
    contexts = json_array();
    values = json_array();
    for (size_t i = 0; i < n; i++) {
        if (bars ? strcasecmp(f[i].unit, f[best].unit) != 0
                 : json_array_size(labels) >= CHART_TILES_MAX)
            continue;
        if (bars && json_array_size(labels) >= CHART_BARS_MAX)
            break;
        json_array_append_new(labels, json_string(f[i].text));
        json_array_append_new(contexts, json_string(f[i].context));
        json_array_append_new(values, json_real(f[i].value));
    }
    plan = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "kind", bars ? "bars" : "comparison", "unit",
                     bars ? f[best].unit : "", "title", "In figures", "labels", labels, "contexts",
                     contexts, "values", values);
    if (plan == NULL)
        fail("chart: cannot build a plan");
    return plan;
}

/* The texts and boxes of a bar chart: a row per figure, its label and context at the left, its
 * bar at the right in proportion to the largest. */
static int draw_bars(struct draw_graph *gr, const json_t *plan, int w, int h)
{
    const struct video_template *t = gr->t;
    const json_t *labels = json_object_get(plan, "labels");
    const json_t *contexts = json_object_get(plan, "contexts");
    const json_t *values = json_object_get(plan, "values");
    size_t n = json_array_size(labels);
    double most = 0;
    int top = 200, bottom = h - 200, row = (bottom - top) / (int)n;
    int x0 = w / 2 - 60, span = w - t->margin - x0;
    int bar_h = row * 45 / 100 > 80 ? 80 : row * 45 / 100;

    for (size_t i = 0; i < n; i++)
        if (json_number_value(json_array_get(values, i)) > most)
            most = json_number_value(json_array_get(values, i));
    for (size_t i = 0; i < n; i++) {
        double v = json_number_value(json_array_get(values, i));
        int len = most > 0 ? (int)(span * v / most + 0.5) : 0, y = top + (int)i * row;
        char geo[96], xs[16], ys[16], *ctx;

        if (len < 4)
            len = 4; /* a figure of 0 still shows where its bar would be */
        snprintf(geo, sizeof geo, "x=%d:y=%d:w=%d:h=%d", x0, y + (row - bar_h) / 2, len, bar_h);
        draw_box(gr, geo, t->accent, -1, 0);
        snprintf(xs, sizeof xs, "%d", t->margin);
        snprintf(ys, sizeof ys, "%d", y + row / 2 - t->lower_title_size);
        if (draw_text(gr, json_string_value(json_array_get(labels, i)), t->lower_title_size,
                      t->text, xs, ys, -1, 0) == -1)
            return -1;
        ctx = draw_wrap(json_string_value(json_array_get(contexts, i)), 30, 1);
        snprintf(ys, sizeof ys, "%d", y + row / 2 + 6);
        if (*ctx != '\0' &&
            draw_text(gr, ctx, t->lower_source_size, t->caption, xs, ys, -1, 0) == -1) {
            free(ctx);
            return -1;
        }
        free(ctx);
    }
    return 0;
}

/* A comparison: a tile per figure, the figure large, its context below, no common scale. */
static int draw_tiles(struct draw_graph *gr, const json_t *plan, int w, int h)
{
    const struct video_template *t = gr->t;
    const json_t *labels = json_object_get(plan, "labels");
    const json_t *contexts = json_object_get(plan, "contexts");
    size_t n = json_array_size(labels);
    int gap = 30, tile_w = (w - 2 * t->margin - gap * ((int)n - 1)) / (int)n;
    int top = 200, tile_h = h - top - 200;

    for (size_t i = 0; i < n; i++) {
        int x = t->margin + (int)i * (tile_w + gap);
        const char *label = json_string_value(json_array_get(labels, i));
        int chars = (int)strlen(label), size = t->lower_title_size + 8;
        char geo[96], xs[64], ys[16], *lw, *ctx;
        int rc;

        /* The figure as large as its tile allows (DejaVu Sans is about 0.6 em a character). */
        while (size > 20 && chars * size * 6 / 10 > (tile_w - 30) * 2)
            size -= 2;
        snprintf(geo, sizeof geo, "x=%d:y=%d:w=%d:h=%d", x, top, tile_w, tile_h);
        draw_box(gr, geo, t->slate, -1, 0);
        snprintf(geo, sizeof geo, "x=%d:y=%d:w=%d:h=8", x, top, tile_w);
        draw_box(gr, geo, t->accent, -1, 0);
        lw = draw_wrap(label, (tile_w - 30) * 10 / (size * 6), 2);
        snprintf(xs, sizeof xs, "%d+(%d-text_w)/2", x, tile_w);
        snprintf(ys, sizeof ys, "%d", top + 50);
        rc = draw_text(gr, lw, size, t->accent, xs, ys, -1, 0);
        free(lw);
        ctx = draw_wrap(json_string_value(json_array_get(contexts, i)),
                        (tile_w - 30) * 10 / (t->lower_source_size * 6), 3);
        snprintf(ys, sizeof ys, "%d", top + 80 + 2 * size);
        if (rc == 0 && *ctx != '\0')
            rc = draw_text(gr, ctx, t->lower_source_size, t->text, xs, ys, -1, 0);
        free(ctx);
        if (rc == -1)
            return -1;
    }
    return 0;
}

int chart_draw(const json_t *plan, const struct video_template *t, const char *source,
               const char *ffmpeg, const char *dir, const char *name, int64_t deadline_ms,
               char **cause)
{
    struct draw_graph gr = {.t = t, .dir = dir, .prefix = "chart_"};
    char color[160], xs[16], ys[16], *foot = NULL, *why = NULL;
    const char *argv[20];
    int n = 0, rc = -1;

    snprintf(xs, sizeof xs, "%d", t->margin);
    snprintf(ys, sizeof ys, "%d", t->margin);
    if (draw_text(&gr, json_string_value(json_object_get(plan, "title")), t->title_size, t->text,
                  xs, ys, -1, 0) == -1)
        goto out;
    {
        char geo[96];

        snprintf(geo, sizeof geo, "x=%d:y=%d:w=120:h=8", t->margin, t->margin + t->title_size + 20);
        draw_box(&gr, geo, t->accent, -1, 0);
    }
    if ((strcmp(json_string_value(json_object_get(plan, "kind")), "bars") == 0
             ? draw_bars(&gr, plan, VIDEO_WIDTH, VIDEO_HEIGHT)
             : draw_tiles(&gr, plan, VIDEO_WIDTH, VIDEO_HEIGHT)) == -1)
        goto out;
    /* Under the title: the slide's lower part is the lower third's and the credit's. */
    foot = xasprintf("Figures as the story states them%s%s", *source != '\0' ? ". Source: " : "",
                     source);
    snprintf(ys, sizeof ys, "%d", t->margin + t->title_size + 40);
    if (draw_text(&gr, foot, t->lower_source_size, t->caption, xs, ys, -1, 0) == -1)
        goto out;
    snprintf(color, sizeof color, "color=c=%s:s=%dx%d:d=1", t->background, VIDEO_WIDTH,
             VIDEO_HEIGHT);
    proc_args_add(argv, &n, 20, ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                  "-f", "lavfi", "-i", color, "-vf", gr.g.s, "-frames:v", "1", name, NULL);
    if (proc_run(argv, dir, deadline_ms, NULL, &why) == -1) {
        *cause = xasprintf("cannot draw the chart: %s", why);
        free(why);
        goto out;
    }
    rc = 0;
out:
    if (gr.cause != NULL) {
        *cause = gr.cause;
        gr.cause = NULL;
    }
    free(gr.g.s);
    free(foot);
    return rc;
}
