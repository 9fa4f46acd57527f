/*
 * fuzz_news_item.c - a JSON line as `ctl ingest` reads it: jansson, then the news item codec.
 * Accepted items must round-trip through their JSON form with the same content hash.
 */
#include "store/news_item.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    struct news_item *it, *back;
    char *cause = NULL;
    json_t *out;

    if (j == NULL)
        return 0;
    it = news_item_from_json(j, &cause);
    json_decref(j);
    if (it == NULL) {
        free(cause);
        return 0;
    }
    out = news_item_to_json(it);
    back = news_item_from_json(out, &cause);
    if (back == NULL || strcmp(back->hash, it->hash) != 0 || strcmp(back->id, it->id) != 0)
        abort();
    news_item_free(back);
    json_decref(out);
    news_item_free(it);
    return 0;
}
