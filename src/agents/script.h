/*
 * script.h - measuring a news script: words, sentences, and how well it serves its sources
 * (the figures it keeps, its attributions, its length against the target). The writer scores
 * each revision with script_measure() and records the difference as the revision's
 * improvement; QA checks the length with script_words(); the storyboard splits the script into
 * sentences with script_sentences(). Pure functions without state, safe from any thread.
 */
#ifndef NEWSROOM_SCRIPT_H
#define NEWSROOM_SCRIPT_H

#include <stddef.h>

/* Words: runs of bytes that are not ASCII white space. */
int script_words(const char *text);

/* One sentence of a text: text[start .. start + len), without surrounding white space. */
struct script_span {
    size_t start, len;
};
/* The sentences of text: a sentence ends after '.', '!' or '?' (and any closing quotes or
 * brackets) followed by white space or the end, or at a line break. Returns the count and
 * *out (free it; NULL when the count is 0). */
size_t script_sentences(const char *text, struct script_span **out);

struct script_metrics {
    int words, sentences;
    int figures;       /* distinct figures (numbers) in the sources */
    int figures_kept;  /* of those, the ones the script states */
    int attributions;  /* "said", "according", "told", ... in the script */
    double length_fit; /* 1 within [words_min, words_max], less the further outside */
    double score;      /* 0.4 facts kept + 0.3 length fit + 0.3 attribution, 0 to 1 */
};
/* Measures script against its sources (either may be NULL: empty) and the target length. */
void script_measure(const char *script, const char *sources, int words_min, int words_max,
                    struct script_metrics *m);

#endif
