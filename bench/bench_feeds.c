/*
 * bench_feeds.c - `newsroom bench feeds`: how fast feeds become news items, and article pages
 * become full text. The project's feed corpus (the .xml, .rss, .rdf and .atom files of
 * tests/feeds and config/feeds) is read once into memory, then parsed round after round with
 * feed_parse() (the whole path: libxml2, HTML to text, dates, links, ids, news items). The peer,
 * measured in the same run on the same bytes, is libxml2 alone (xmlReadMemory with the same
 * options and nothing extracted): the ceiling for any extraction on top of it. Then the article
 * pages of tests/html go through fulltext_extract() (HTML parse, pruning, scoring, the text
 * written out) against libxml2's HTML parse alone of the same pages (htmlReadMemory with the same
 * options). Figures: items per second, MB per second, documents per second against libxml2,
 * pages per second against libxml2's HTML parser. Medians of 3 rounds.
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/clock.h"
#include "core/fail.h"
#include "feeds/feed_parse.h"
#include "feeds/fulltext.h"

#include <dirent.h>
#include <getopt.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NEWSROOM_SOURCE_DIR
#define NEWSROOM_SOURCE_DIR "."
#endif

struct doc {
    char *buf;
    size_t len;
    char url[1100];
};

/* Reads every file of dir whose name ends in one of exts into docs. */
static void load_dir(const char *dir, const char *const *exts, struct doc **docs, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        char path[1024];
        FILE *f;
        long size;
        bool wanted = false;

        for (size_t k = 0; exts[k] != NULL; k++)
            wanted |= l > strlen(exts[k]) && strcmp(e->d_name + l - strlen(exts[k]), exts[k]) == 0;
        if (!wanted)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((f = fopen(path, "rb")) == NULL)
            continue;
        if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
            *docs = xrealloc(*docs, (*n + 1) * sizeof **docs);
            (*docs)[*n].buf = xmalloc((size_t)size);
            (*docs)[*n].len = fread((*docs)[*n].buf, 1, (size_t)size, f);
            snprintf((*docs)[*n].url, sizeof(*docs)[*n].url, "file://%s", path);
            (*n)++;
        }
        fclose(f);
    }
    closedir(d);
}

/* Parses every document `rounds` times; returns seconds, items and bytes. raw: libxml2 only. */
static double run(const struct doc *docs, size_t n, int rounds, bool raw, long *items,
                  double *bytes)
{
    int64_t t0 = clock_mono_us();

    *items = 0;
    *bytes = 0;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) {
            *bytes += (double)docs[i].len;
            if (raw) {
                xmlDocPtr x =
                    xmlReadMemory(docs[i].buf, (int)docs[i].len, docs[i].url, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);

                if (x != NULL) {
                    (*items)++;
                    xmlFreeDoc(x);
                }
            } else {
                struct feed_doc d;
                char *cause = NULL;

                if (feed_parse(docs[i].buf, docs[i].len, docs[i].url, 1, &d, &cause) == 0) {
                    *items += (long)d.nentries;
                    feed_doc_clear(&d);
                } else {
                    free(cause);
                }
            }
        }
    return (double)(clock_mono_us() - t0) / 1e6;
}

/* Extracts every page `rounds` times; returns seconds and the pages extracted (or, raw, parsed
 * by libxml2's HTML parser alone). */
static double run_pages(const struct doc *pages, size_t n, int rounds, bool raw, long *done)
{
    int64_t t0 = clock_mono_us();

    *done = 0;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) {
            if (raw) {
                htmlDocPtr d =
                    htmlReadMemory(pages[i].buf, (int)pages[i].len, NULL, NULL,
                                   HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);

                if (d != NULL) {
                    (*done)++;
                    xmlFreeDoc(d);
                }
            } else {
                char *text = NULL, *cause = NULL;
                size_t words;

                if (fulltext_extract(pages[i].buf, pages[i].len, NULL, NEWS_CONTENT_MAX, &text,
                                     &words, &cause) == 0)
                    (*done)++;
                free(text);
                free(cause);
            }
        }
    return (double)(clock_mono_us() - t0) / 1e6;
}

int bench_feeds(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"rounds", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const feed_exts[] = {".xml", ".rss", ".rdf", ".atom", NULL};
    static const char *const page_exts[] = {".html", NULL};
    struct doc *docs = NULL, *pages = NULL;
    struct bench_figure figs[4];
    double ips[3], mbs[3], raw_docs[3], ours_docs[3], pps[3], raw_pps[3];
    long rounds = 2000, page_rounds, items = 0, raw_items = 0, ndocs_parsed = 0, extracted = 0,
         parsed = 0;
    size_t n = 0, npages = 0;
    bool json = false;
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'r':
            if (bench_parse_long("feeds", "--rounds", optarg, 1, 1000000, &rounds) == -1)
                return EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench feeds [--json] [--rounds N]\n");
            return EXIT_DONE;
        default:
            cli_error("bench feeds: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    load_dir(NEWSROOM_SOURCE_DIR "/tests/feeds", feed_exts, &docs, &n);
    load_dir(NEWSROOM_SOURCE_DIR "/config/feeds", feed_exts, &docs, &n);
    load_dir(NEWSROOM_SOURCE_DIR "/tests/html", page_exts, &pages, &npages);
    if (n == 0 || npages == 0) {
        cli_error("bench feeds: no feed corpus under %s/tests/feeds or no pages under "
                  "%s/tests/html",
                  NEWSROOM_SOURCE_DIR, NEWSROOM_SOURCE_DIR);
        return EXIT_USAGE;
    }
    /* Pages are bigger than feeds: a tenth of the rounds takes about as long. */
    page_rounds = rounds / 10 > 0 ? rounds / 10 : 1;
    feed_parse_init();
    for (int k = 0; k < 3; k++) {
        double bytes, rb, t = run(docs, n, (int)rounds, false, &items, &bytes);
        double rt = run(docs, n, (int)rounds, true, &raw_items, &rb);

        ips[k] = (double)items / t;
        mbs[k] = bytes / t / 1e6;
        ours_docs[k] = (double)(n * (size_t)rounds) / t;
        raw_docs[k] = (double)raw_items / rt;
        ndocs_parsed = raw_items;
        t = run_pages(pages, npages, (int)page_rounds, false, &extracted);
        rt = run_pages(pages, npages, (int)page_rounds, true, &parsed);
        pps[k] = (double)(npages * (size_t)page_rounds) / t;
        raw_pps[k] = (double)(npages * (size_t)page_rounds) / rt;
    }
    snprintf(figs[0].name, sizeof figs[0].name, "items parsed");
    figs[0].value = bench_median(ips, 3);
    figs[0].unit = "items/s";
    figs[0].peer = NULL;
    snprintf(figs[1].name, sizeof figs[1].name, "bytes parsed");
    figs[1].value = bench_median(mbs, 3);
    figs[1].unit = "MB/s";
    figs[1].peer = NULL;
    snprintf(figs[2].name, sizeof figs[2].name, "documents, whole path");
    figs[2].value = bench_median(ours_docs, 3);
    figs[2].unit = "docs/s";
    figs[2].peer = "libxml2 parse alone";
    figs[2].peer_value = bench_median(raw_docs, 3);
    figs[2].ratio = figs[2].value / figs[2].peer_value;
    snprintf(figs[3].name, sizeof figs[3].name, "pages, full-text extraction");
    figs[3].value = bench_median(pps, 3);
    figs[3].unit = "pages/s";
    figs[3].peer = "libxml2 HTML parse alone";
    figs[3].peer_value = bench_median(raw_pps, 3);
    figs[3].ratio = figs[3].value / figs[3].peer_value;
    if (!json)
        printf("%zu corpus feeds (tests/feeds, config/feeds), %ld rounds, %ld items a round "
               "(%ld documents libxml2 accepted); %zu article pages (tests/html), %ld rounds, "
               "%ld extracted a round (%ld parsed); medians of 3\n",
               n, rounds, items / rounds, ndocs_parsed / rounds, npages, page_rounds,
               extracted / page_rounds, parsed / page_rounds);
    bench_report("feeds", figs, 4, json);
    for (size_t i = 0; i < n; i++)
        free(docs[i].buf);
    free(docs);
    for (size_t i = 0; i < npages; i++)
        free(pages[i].buf);
    free(pages);
    return EXIT_DONE;
}
