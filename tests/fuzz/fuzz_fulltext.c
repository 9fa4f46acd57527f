/*
 * fuzz_fulltext.c - an article page as a site serves it, through full-text extraction: the
 * HTML parse, boilerplate pruning, block scoring and the paragraphs written out. What comes
 * out must be valid UTF-8 within the cap, with at least the minimum of words; a refusal must
 * say why. The input's first byte picks the charset the answer claims, as a server's header
 * would; the same bytes also go through robots.txt parsing and matching. Seeds: tests/html
 * (the pages of the extraction tests and a robots.txt).
 */
#include "feeds/fulltext.h"
#include "feeds/robots.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether s is valid UTF-8. */
static int valid_utf8(const unsigned char *s)
{
    while (*s != '\0') {
        size_t n = *s < 0x80 ? 1 : *s >= 0xF0 ? 4 : *s >= 0xE0 ? 3 : *s >= 0xC2 ? 2 : 0;

        if (n == 0)
            return 0;
        for (size_t i = 1; i < n; i++)
            if ((s[i] & 0xC0) != 0x80)
                return 0;
        s += n;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const charsets[] = {NULL, "utf-8", "iso-8859-1", "windows-1252",
                                           "x-unknown"};
    const char *charset = size > 0 ? charsets[data[0] % 5] : NULL;
    char *text = NULL, *cause = NULL;
    size_t words = 0;
    struct robots *r;

    if (fulltext_extract((const char *)data, size, charset, 4096, &text, &words, &cause) == 0) {
        if (text == NULL || strlen(text) > 4096 || words < FULLTEXT_MIN_WORDS ||
            !valid_utf8((const unsigned char *)text))
            abort();
        free(text);
    } else {
        if (cause == NULL || *cause == '\0' || text != NULL)
            abort();
        free(cause);
    }
    r = robots_parse((const char *)data, size);
    (void)robots_allowed(r, "/news/2026/a%2Fb?x=1");
    (void)robots_crawl_delay_ms(r);
    robots_free(r);
    return 0;
}
