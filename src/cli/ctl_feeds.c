/*
 * ctl_feeds.c - the feeds' ctl verbs: `sources` (every feed source in the shared schedule with
 * its status: last fetch, outcome, items, error, next poll; a folder with its files) and the
 * feed half of `ingest` (a feed file, folder or URL, or standard input's XML, fetched, parsed
 * and completed with full text by a fetcher pool of its own, as a scout's poll is, each item
 * written with the duplicate check). Main thread; the pool has its own thread.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/text.h"
#include "feeds/feed_pool.h"
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
        json_int_t files = json_integer_value(json_object_get(v, "files"));

        text_utc(lf, last, sizeof last);
        text_utc(json_integer_value(json_object_get(v, "next_ms")), next, sizeof next);
        if (files >= 0)
            printf("%s\n  status %s, a folder of %lld files (each a source below), failures "
                   "%lld\n  last fetch %s, next poll %s\n",
                   src, json_string_value(json_object_get(v, "status")), (long long)files,
                   (long long)json_integer_value(json_object_get(v, "failures")),
                   lf > 0 ? last : "never", lf > 0 ? next : "now");
        else
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

static void submit(struct feed_pool *p, const struct config *cfg, const char *source,
                   const char *data, size_t len)
{
    char **fulltext = NULL;
    size_t n = feed_store_split(cfg->feed_fulltext, &fulltext);
    struct feed_job job = {
        .source = source,
        .fetch = {cfg->feed_timeout_ms, (size_t)cfg->feed_max_bytes, cfg->feed_max_redirects},
        .fulltext = feed_store_listed(fulltext, n, source),
        .data = data,
        .len = len};

    feed_pool_submit(p, 1, &job);
    feed_store_strv_free(fulltext, n);
}

int ctl_ingest_feed(struct cli *cli, bool json, const char *source, const char *data, size_t len)
{
    struct feed_pool_options po;
    struct feed_pool *pool;
    struct ctl_tally t;
    struct rlink *l;
    struct bb *b;
    long open_jobs = 1;
    int code = EXIT_DONE;

    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    b = bb_new(l, "ctl-ingest");
    feed_pool_options_from_config(&po, cli->cfg);
    pool = feed_pool_new(&po);
    ctl_tally_init(&t, cli, l);
    submit(pool, cli->cfg, source, data, len);
    /* Every document's items, then its done; a folder's done names its files, each a document
     * of its own. */
    while (open_jobs > 0 && code == EXIT_DONE) {
        struct feed_event *ev = feed_pool_wait(pool, 1, 1000);

        if (ev == NULL)
            continue;
        if (ev->kind == FEED_EVENT_ITEM) {
            json_t *extra = json_pack("{s:o}", "feed", feed_entry_meta(&ev->entry));

            code = ctl_tally_write(&t, b, l, ev->entry.item, extra,
                                   json_pack("{s:s}", "document", ev->source), ev->source);
            json_decref(extra);
        } else {
            open_jobs--;
            if (strcmp(ev->outcome, "error") == 0)
                ctl_tally_refuse(&t, json, json_pack("{s:s}", "document", ev->source), ev->source,
                                 ev->error);
            t.invalid += ev->skipped;
            for (size_t i = 0; i < ev->nmembers; i++, open_jobs++)
                submit(pool, cli->cfg, ev->members[i], NULL, 0);
        }
        feed_event_free(ev);
    }
    feed_pool_free(pool);
    code = ctl_tally_end(&t, json, code);
    bb_free(b);
    rlink_free(l);
    return code;
}
