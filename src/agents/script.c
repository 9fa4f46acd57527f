/*
 * script.c - words, sentences and the measure of a script against its sources; see script.h.
 * Pure functions; the figure sets are small fixed arrays on the caller's stack.
 */
#include "agents/script.h"

#include "core/fail.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIGURES_MAX 64
#define FIGURE_LEN  32

struct figures {
    char v[FIGURES_MAX][FIGURE_LEN];
    int n;
};

static const char *const attribution_words[] = {
    "said", "says", "according", "told", "confirmed", "reported", "stated", "announced", NULL};

int script_words(const char *text)
{
    int n = 0;
    bool in = false;

    for (const char *s = text; s != NULL && *s != '\0'; s++) {
        bool space = isspace((unsigned char)*s);

        if (!space && !in)
            n++;
        in = !space;
    }
    return n;
}

static bool closer(char c)
{
    return c == '"' || c == '\'' || c == ')' || c == ']';
}

size_t script_sentences(const char *text, struct script_span **out)
{
    size_t n = 0, cap = 0, i = 0;

    *out = NULL;
    if (text == NULL)
        return 0;
    while (text[i] != '\0') {
        size_t start, end;

        while (text[i] != '\0' && isspace((unsigned char)text[i]))
            i++;
        if (text[i] == '\0')
            break;
        start = i;
        for (;;) {
            char c = text[i];

            if (c == '\0' || c == '\n') {
                end = i;
                break;
            }
            i++;
            if (c == '.' || c == '!' || c == '?') {
                while (closer(text[i]))
                    i++;
                if (text[i] == '\0' || isspace((unsigned char)text[i])) {
                    end = i;
                    break;
                }
            }
        }
        while (end > start && isspace((unsigned char)text[end - 1]))
            end--;
        if (end > start) {
            if (n == cap) {
                cap = cap == 0 ? 16 : cap * 2;
                *out = xrealloc(*out, cap * sizeof **out);
            }
            (*out)[n].start = start;
            (*out)[n].len = end - start;
            n++;
        }
    }
    return n;
}

/* The distinct figures of text: runs of digits with inner '.' or ',' ("86.6", "2,400"). */
static void collect_figures(const char *text, struct figures *f)
{
    const char *s = text;

    f->n = 0;
    while (s != NULL && *s != '\0') {
        size_t n = 0;
        bool seen = false;

        if (!isdigit((unsigned char)*s) || (s > text && isalnum((unsigned char)s[-1]))) {
            s++;
            continue;
        }
        while (isdigit((unsigned char)s[n]) ||
               ((s[n] == '.' || s[n] == ',') && isdigit((unsigned char)s[n + 1])))
            n++;
        if (n < FIGURE_LEN && f->n < FIGURES_MAX) {
            for (int i = 0; i < f->n && !seen; i++)
                seen = strlen(f->v[i]) == n && memcmp(f->v[i], s, n) == 0;
            if (!seen) {
                memcpy(f->v[f->n], s, n);
                f->v[f->n][n] = '\0';
                f->n++;
            }
        }
        s += n;
    }
}

static int count_attributions(const char *text)
{
    int n = 0;

    for (const char *s = text; s != NULL && *s != '\0';) {
        size_t len = 0;

        if (!isalpha((unsigned char)*s)) {
            s++;
            continue;
        }
        while (isalpha((unsigned char)s[len]))
            len++;
        for (int i = 0; attribution_words[i] != NULL; i++)
            if (strlen(attribution_words[i]) == len &&
                strncasecmp(s, attribution_words[i], len) == 0)
                n++;
        s += len;
    }
    return n;
}

static double round3(double v)
{
    return (double)(long long)(v * 1000 + 0.5) / 1000;
}

void script_measure(const char *script, const char *sources, int words_min, int words_max,
                    struct script_metrics *m)
{
    struct figures src, have;
    struct script_span *spans;
    double facts, attr;

    memset(m, 0, sizeof *m);
    m->words = script_words(script);
    m->sentences = (int)script_sentences(script, &spans);
    free(spans);
    collect_figures(sources, &src);
    collect_figures(script, &have);
    m->figures = src.n;
    for (int i = 0; i < src.n; i++)
        for (int j = 0; j < have.n; j++)
            if (strcmp(src.v[i], have.v[j]) == 0) {
                m->figures_kept++;
                break;
            }
    m->attributions = count_attributions(script);
    if (m->words == 0)
        m->length_fit = 0;
    else if (m->words < words_min)
        m->length_fit = (double)m->words / words_min;
    else if (words_max > 0 && m->words > words_max)
        m->length_fit = (double)words_max / m->words;
    else
        m->length_fit = 1;
    m->length_fit = round3(m->length_fit);
    facts = m->figures > 0 ? (double)m->figures_kept / m->figures : (m->words > 0 ? 1 : 0);
    attr = m->attributions >= 2 ? 1 : m->attributions / 2.0;
    m->score = round3(0.4 * facts + 0.3 * m->length_fit + 0.3 * attr);
}
