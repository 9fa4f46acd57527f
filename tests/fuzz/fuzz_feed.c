/*
 * fuzz_feed.c - a feed document as a source serves it: sniffing, the libxml2 parse, entry
 * extraction, HTML reduction, link resolution and dates. Every item produced must pass the
 * news item codec again (so no control character, bad id or oversize text slips through) and
 * carry a link that is http(s) or none, and a refusal must say why.
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
    const char *url = size > 0 && data[0] % 2 == 0 ? "https://fuzz.example/a/feed.xml"
                                                   : "file:///srv/fuzz/feed.xml";

    (void)feed_sniff((const char *)data, size, NULL);
    if (feed_parse((const char *)data, size, url, 1750000000000LL, &d, &cause) == -1) {
        if (cause == NULL || *cause == '\0' || d.nentries != 0)
            abort();
        free(cause);
        return 0;
    }
    for (size_t i = 0; i < d.nentries; i++) {
        const struct news_item *it = d.entries[i].item;
        json_t *j = news_item_to_json(it), *meta = feed_entry_meta(&d.entries[i]);
        struct news_item *back = news_item_from_json(j, &cause);

        if (back == NULL || strcmp(back->hash, it->hash) != 0 || meta == NULL)
            abort();
        if (*it->url != '\0' && strncmp(it->url, "http://", 7) != 0 &&
            strncmp(it->url, "https://", 8) != 0)
            abort();
        news_item_free(back);
        json_decref(j);
        json_decref(meta);
    }
    feed_doc_clear(&d);
    return 0;
}
