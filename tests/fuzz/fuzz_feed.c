/*
 * fuzz_feed.c - a feed document as a source serves it: the libxml2 parse, entry extraction,
 * HTML reduction and dates. Every item produced must pass the news item codec again (so no
 * control character, bad id or oversize text slips through), and a refusal must say why.
 */
#include "feeds/feed_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed_doc d;
    char *cause = NULL;

    if (feed_parse((const char *)data, size, "https://fuzz.example/a/feed.xml", &d, &cause) == -1) {
        if (cause == NULL || *cause == '\0' || d.nitems != 0)
            abort();
        free(cause);
        return 0;
    }
    for (size_t i = 0; i < d.nitems; i++) {
        json_t *j = news_item_to_json(d.items[i]);
        struct news_item *back = news_item_from_json(j, &cause);

        if (back == NULL || strcmp(back->hash, d.items[i]->hash) != 0)
            abort();
        news_item_free(back);
        json_decref(j);
    }
    feed_doc_clear(&d);
    return 0;
}
