/*
 * ctl_feeds.c - the feeds' ctl verbs: `sources` (every feed source in the shared schedule with
 * its status: last fetch, outcome, items, error, next poll) and the feed half of `ingest` (a
 * feed file or URL, fetched and parsed like a scout's poll, each item written with the
 * duplicate check). Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/text.h"
#include "feeds/feed_fetch.h"
#include "feeds/feed_parse.h"
#include "feeds/feed_store.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_sources(struct cli *cli, bool json, int argc, char **argv)
{
    struct rlink *l;
    json_t *all, *v;
    char *cause = NULL;
    int code = EXIT_DONE;
    size_t i;

    (void)argv;
    if (argc > 1) {
        cli_error("ctl sources takes no arguments");
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    all = feed_store_list(l, &cause);
    if (all == NULL) {
        code = ctl_failed(l, "sources", cause);
        rlink_free(l);
        return code;
    }
    if (json) {
        cli_print_json(all);
        rlink_free(l);
        return EXIT_DONE;
    }
    if (json_array_size(all) == 0)
        printf("no feed sources polled yet ([feeds] sources)\n");
    json_array_foreach(all, i, v)
    {
        char last[32], next[32];
        char *src = text_safe(json_string_value(json_object_get(v, "source")), 0);
        char *err = text_safe(json_string_value(json_object_get(v, "error")), 200);
        json_int_t lf = json_integer_value(json_object_get(v, "last_fetch_ms"));

        text_utc(lf, last, sizeof last);
        text_utc(json_integer_value(json_object_get(v, "next_ms")), next, sizeof next);
        printf("%s\n  status %s, items %lld, written %lld, duplicates %lld, failures %lld\n"
               "  last fetch %s, next poll %s\n",
               src, json_string_value(json_object_get(v, "status")),
               (long long)json_integer_value(json_object_get(v, "items")),
               (long long)json_integer_value(json_object_get(v, "written")),
               (long long)json_integer_value(json_object_get(v, "duplicates")),
               (long long)json_integer_value(json_object_get(v, "failures")),
               lf > 0 ? last : "never", lf > 0 ? next : "now");
        if (*err != '\0')
            printf("  error %s\n", err);
        free(src);
        free(err);
    }
    json_decref(all);
    rlink_free(l);
    return EXIT_DONE;
}

int ctl_ingest_feed(struct cli *cli, bool json, const char *source)
{
    struct feed_fetch_options fo = {cli->cfg->feed_timeout_ms, (size_t)cli->cfg->feed_max_bytes,
                                    cli->cfg->feed_max_redirects};
    struct feed_response resp;
    struct rlink *l;
    struct bb *b;
    struct ingest *g;
    char *cause = NULL;
    int code = EXIT_DONE;

    if (feed_fetch(source, NULL, NULL, &fo, &resp, &cause) == -1) {
        char *why = text_safe(cause, 0);

        cli_error("ctl ingest: %s", why);
        free(why);
        free(cause);
        return EXIT_REFUSED;
    }
    l = ctl_link(cli, &code);
    if (l == NULL) {
        feed_response_clear(&resp);
        return code;
    }
    b = bb_new(l, "ctl-ingest");
    g = ctl_ingest_begin(cli, l, b);
    for (size_t d = 0; d < resp.nbodies && code == EXIT_DONE; d++) {
        struct feed_doc doc;

        if (feed_parse(resp.bodies[d].data, resp.bodies[d].len, resp.bodies[d].url, &doc, &cause) ==
            -1) {
            char *why = text_safe(cause, 0), *shown = xasprintf("%s: %s", resp.bodies[d].url, why);

            ctl_ingest_refused(
                g, json_pack("{s:s, s:s}", "document", resp.bodies[d].url, "reason", why),
                json ? NULL : shown);
            free(shown);
            free(why);
            free(cause);
            continue;
        }
        for (size_t i = 0; i < doc.skipped; i++)
            ctl_ingest_refused(g, NULL, NULL);
        for (size_t i = 0; i < doc.nitems; i++) {
            int rc = ctl_ingest_item(g, doc.items[i], "document", 0, resp.bodies[d].url, &cause);

            if (rc == BB_ERR || rc == BB_REFUSED) {
                code = ctl_failed(l, "ingest", cause);
                break;
            }
        }
        feed_doc_clear(&doc);
    }
    feed_response_clear(&resp);
    code = ctl_ingest_end(g, json, code);
    bb_free(b);
    rlink_free(l);
    return code;
}
