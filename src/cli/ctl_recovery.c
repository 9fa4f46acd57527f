/*
 * ctl_recovery.c - the dead set's ctl verbs (recovery/deadset.h): `failed` lists the FAILED
 * stories with the step that failed, their attempts and last error (--json: every attempt of
 * their error history), and `requeue ID|--all [--step S]` puts them back at the step that
 * failed (or S), every checkpoint kept, with a fresh attempt budget, audited as the operator.
 * A requeue by id also takes an ARCHIVED story (stories archived by faults before the dead
 * set existed cannot come back through ingest). Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/fail.h"
#include "core/text.h"
#include "recovery/deadset.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "2026-11-28T16:40:00Z" for a time in ms. */
static const char *when(int64_t ms, char *buf, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int ctl_failed_list(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct bb_item **items;
    struct rlink *l;
    struct bb *b;
    size_t n;
    long limit = 1000;
    char *cause = NULL, *end;
    int c, code = EXIT_DONE;

    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 'l')
            return ctl_bad_option("failed", c, argc, argv);
        limit = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || limit < 1 || limit > 100000) {
            cli_error("ctl failed: --limit \"%s\" is not a number from 1 to 100000", optarg);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("ctl failed: unexpected argument \"%s\"; usage: newsroom ctl failed "
                  "[--limit N] [--json]",
                  argv[optind]);
        return EXIT_USAGE;
    }
    if ((b = ctl_open_bb(cli, &l, &code)) == NULL)
        return code;
    if (deadset_list(b, (size_t)limit, &items, &n, &cause) != BB_OK) {
        code = ctl_failed(l, "failed", cause);
        bb_free(b);
        rlink_free(l);
        return code;
    }
    if (json) {
        json_t *list = json_array();

        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, deadset_item_json(items[i]));
        cli_print_json(json_pack("{s:o, s:i}", "failed", list, "count", (int)n));
    } else if (n == 0) {
        printf("no failed stories\n");
    } else {
        printf("%-28s %-8s %-8s %-20s %s\n", "ID", "STEP", "ATTEMPTS", "FAILED AT", "LAST ERROR");
        for (size_t i = 0; i < n; i++) {
            char at[32], *id = text_safe(items[i]->id, 0),
                         *err = text_safe(items[i]->fail_reason, 0);

            printf("%-28s %-8s %-8d %-20s %.200s\n", id, deadset_resume_step(items[i]),
                   items[i]->attempts, when(items[i]->updated_ms, at, sizeof at), err);
            free(id);
            free(err);
        }
        printf("%zu failed; `newsroom ctl requeue ID|--all` puts them back\n", n);
    }
    for (size_t i = 0; i < n; i++)
        bb_item_free(items[i]);
    free(items);
    bb_free(b);
    rlink_free(l);
    return code;
}

int ctl_requeue(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"step", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *step = NULL, *at = NULL;
    bool all = false;
    struct rlink *l;
    struct bb *b;
    char *cause = NULL;
    int c, rc, code = EXIT_DONE;

    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'a')
            all = true;
        else if (c == 's')
            step = optarg;
        else
            return ctl_bad_option("requeue", c, argc, argv);
    }
    if (all == (optind < argc) || argc - optind > 1) {
        cli_error("usage: newsroom ctl requeue ID|--all [--step STEP] [--json]");
        return EXIT_USAGE;
    }
    if (step != NULL && bb_step_find(step) == NULL) {
        char known[160];

        cli_error("ctl requeue: --step \"%s\" is not a step (steps: %s)", step,
                  bb_step_names(known, sizeof known));
        return EXIT_USAGE;
    }
    if ((b = ctl_open_bb(cli, &l, &code)) == NULL)
        return code;
    if (all) {
        long done = 0, refused = 0;

        if (deadset_requeue_all(b, step, &done, &refused, &cause) != BB_OK) {
            code = ctl_failed(l, "requeue", cause);
        } else if (json) {
            cli_print_json(json_pack("{s:i, s:i}", "requeued", (int)done, "refused", (int)refused));
        } else {
            printf("requeued %ld failed stor%s%s\n", done, done == 1 ? "y" : "ies",
                   refused > 0 ? " (some were refused: they changed meanwhile)" : "");
        }
    } else {
        rc = deadset_requeue(b, argv[optind], step, true, &at, &cause);
        if (rc == BB_OK) {
            if (json)
                cli_print_json(json_pack("{s:s, s:s}", "requeued", argv[optind], "step", at));
            else
                printf("requeued %s at step %s\n", argv[optind], at);
        } else if (rc == BB_ERR) {
            code = ctl_failed(l, "requeue", cause);
        } else {
            char *shown = text_safe(cause, 0);

            cli_error("ctl requeue: %s", shown);
            free(shown);
            free(cause);
            code = EXIT_REFUSED;
        }
    }
    bb_free(b);
    rlink_free(l);
    return code;
}
