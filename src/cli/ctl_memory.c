/*
 * ctl_memory.c - the vector memory's ctl verbs: `search "QUERY" [--n N]` (the stories of
 * news_articles nearest to a query, with their status on the blackboard now) and `memories
 * AGENT [--n N] [--query TEXT]` (what an agent learned, newest first, or the memories a query
 * would recall, best first, with their scores). Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/fail.h"
#include "core/text.h"
#include "memory/memory.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Opens the link and the memory; NULL after printing why, with *code. */
static struct memory *open_memory(struct cli *cli, const char *verb, struct rlink **l, int *code)
{
    struct memory *m;
    char *cause = NULL;

    if (!memory_enabled(cli->cfg)) {
        cli_error("ctl %s: the vector memory is off ([memory] backend = off)", verb);
        *code = EXIT_USAGE;
        return NULL;
    }
    *l = ctl_link(cli, code);
    if (*l == NULL)
        return NULL;
    m = memory_open(cli->cfg, *l, &cause);
    if (m == NULL) {
        *code = ctl_failed(*l, verb, cause);
        rlink_free(*l);
        *l = NULL;
    }
    return m;
}

/* Parses --n: 1 to max. */
static int parse_n(const char *verb, const char *v, long max, long *n)
{
    char *end;

    *n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || *n < 1 || *n > max) {
        cli_error("ctl %s: --n \"%s\" must be a whole number from 1 to %ld", verb, v, max);
        return -1;
    }
    return 0;
}

int ctl_search(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"n", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct rlink *l = NULL;
    struct memory *m;
    struct bb *b;
    json_t *hits, *h;
    long n = 10;
    size_t i;
    char *cause = NULL;
    int c, code = EXIT_DONE;

    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 'n')
            return ctl_bad_option("ctl search", c, argc, argv);
        if (parse_n("search", optarg, 100, &n) == -1)
            return EXIT_USAGE;
    }
    if (optind != argc - 1 || argv[optind][0] == '\0') {
        cli_error("usage: newsroom ctl search \"QUERY\" [--n N]");
        return EXIT_USAGE;
    }
    if ((m = open_memory(cli, "search", &l, &code)) == NULL)
        return code;
    hits = memory_search(m, argv[optind], (size_t)n, &cause);
    if (hits == NULL) {
        code = ctl_failed(l, "search", cause);
        memory_free(m);
        rlink_free(l);
        return code;
    }
    b = bb_new(l, "ctl");
    json_array_foreach(hits, i, h)
    {
        struct bb_item *it = NULL;
        const char *story = json_string_value(json_object_get(h, "story"));

        if (bb_read(b, story, &it, &cause) == BB_OK) {
            /* The story's own title and source, not those of the source that matched best. */
            json_object_set(h, "title", json_object_get(it->body, "title"));
            json_object_set(h, "source", json_object_get(it->body, "source"));
            json_object_set_new(h, "status_now", json_string(bb_statuses[it->status].name));
            json_object_set_new(
                h, "sources_merged",
                json_integer((json_int_t)json_array_size(json_object_get(it->body, "sources"))));
        } else {
            json_object_set_new(h, "status_now", json_null());
            free(cause);
            cause = NULL;
        }
        bb_item_free(it);
    }
    if (json) {
        cli_print_json(json_pack("{s:s, s:s, s:o}", "query", argv[optind], "memory",
                                 memory_describe(m), "results", hits));
    } else {
        if (json_array_size(hits) == 0)
            printf("no stories in %s yet\n", MEMORY_NEWS);
        json_array_foreach(hits, i, h)
        {
            const json_t *now = json_object_get(h, "status_now");
            char *title = text_safe(json_string_value(json_object_get(h, "title")), 70);
            char *source = text_safe(json_string_value(json_object_get(h, "source")), 30);
            json_int_t more = json_integer_value(json_object_get(h, "sources_merged"));

            printf("%.3f  %-24s %-17s %s (%s)", json_real_value(json_object_get(h, "similarity")),
                   json_string_value(json_object_get(h, "story")),
                   json_is_string(now) ? json_string_value(now) : "(gone)", title, source);
            if (more > 0)
                printf(" +%lld source%s", (long long)more, more == 1 ? "" : "s");
            printf("\n");
            free(title);
            free(source);
        }
        json_decref(hits);
    }
    bb_free(b);
    memory_free(m);
    rlink_free(l);
    return code;
}

int ctl_memories(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"n", required_argument, NULL, 'n'},
        {"query", required_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct rlink *l = NULL;
    struct memory *m;
    struct memory_recollection *r = NULL;
    const char *query = NULL;
    long n = 20;
    size_t got = 0;
    char *cause = NULL;
    int c, code = EXIT_DONE, rc;

    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'n') {
            if (parse_n("memories", optarg, 1000, &n) == -1)
                return EXIT_USAGE;
        } else if (c == 'q') {
            query = optarg;
        } else {
            return ctl_bad_option("ctl memories", c, argc, argv);
        }
    }
    if (optind != argc - 1 || argv[optind][0] == '\0') {
        cli_error("usage: newsroom ctl memories AGENT [--n N] [--query TEXT]   (AGENT: a role "
                  "such as analyst or writer)");
        return EXIT_USAGE;
    }
    if ((m = open_memory(cli, "memories", &l, &code)) == NULL)
        return code;
    rc = query != NULL ? memory_recall(m, argv[optind], query, (size_t)n, &r, &got, &cause)
                       : memory_list(m, argv[optind], (size_t)n, &r, &got, &cause);
    if (rc == -1) {
        code = ctl_failed(l, "memories", cause);
        memory_free(m);
        rlink_free(l);
        return code;
    }
    if (json) {
        json_t *list = json_array();

        for (size_t i = 0; i < got; i++) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:I, s:s, s:s}", "id", r[i].id,
                                  "agent", r[i].agent, "type", r[i].type, "content", r[i].content,
                                  "importance", r[i].importance, "time_ms",
                                  (json_int_t)r[i].time_ms, "story", r[i].story, "by", r[i].by);

            if (query != NULL) {
                json_object_set_new(o, "similarity", json_real(r[i].similarity));
                json_object_set_new(o, "score", json_real(r[i].score));
            }
            json_array_append_new(list, o);
        }
        cli_print_json(
            json_pack("{s:s, s:s?, s:o}", "agent", argv[optind], "query", query, "memories", list));
    } else {
        if (got == 0)
            printf("no memories for %s\n", argv[optind]);
        for (size_t i = 0; i < got; i++) {
            char when[32], *content = text_safe(r[i].content, 400);

            text_utc(r[i].time_ms, when, sizeof when);
            printf("%s  %s  importance %.2f", when, r[i].type, r[i].importance);
            if (query != NULL)
                printf("  similarity %.3f  score %.3f", r[i].similarity, r[i].score);
            printf("\n  %s\n", content);
            free(content);
        }
    }
    memory_recollections_free(r, got);
    memory_free(m);
    rlink_free(l);
    return code;
}
