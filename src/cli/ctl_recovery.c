/*
 * ctl_recovery.c - the ctl verbs of failure recovery: `ctl breakers` (every circuit breaker
 * any process has reported: state, failures in its window, when it opened, when it tries
 * again, how often it opened, its last error) and `ctl breaker reset NAME` (closes one by
 * hand, audited); the dead set (recovery/deadset.h): `failed` lists the FAILED stories with the
 * step that failed, their attempts and last error (--json: every attempt of their error
 * history), and `requeue ID|--all [--step S]` puts them back at the step that failed (or S),
 * every checkpoint kept, with a fresh attempt budget, audited as the operator. A requeue by id
 * also takes an ARCHIVED story (stories archived by faults before the dead set existed cannot
 * come back through ingest). The engine does the work; this file parses and prints, making
 * text that services wrote safe for the terminal. Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/fail.h"
#include "core/text.h"
#include "recovery/breaker.h"
#include "recovery/deadset.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *info_json(const struct breaker_info *b)
{
    char *err = text_safe(b->last_error, sizeof b->last_error);
    json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:I, s:o, s:o, s:I, s:s, s:o}", "name", b->name,
                          "state", breaker_state_name(b->state), "failures", b->failures,
                          "trial_successes", b->successes, "changed_ms", (json_int_t)b->changed_ms,
                          "opened_ms", b->opened_ms > 0 ? json_integer(b->opened_ms) : json_null(),
                          "next_trial_ms", b->next_ms > 0 ? json_integer(b->next_ms) : json_null(),
                          "opens", (json_int_t)b->opens, "last_error", err, "last_failure_ms",
                          b->last_failure_ms > 0 ? json_integer(b->last_failure_ms) : json_null());

    free(err);
    if (j == NULL)
        fail("out of memory printing breakers");
    return j;
}

int ctl_breakers(struct cli *cli, bool json, int argc, char **argv)
{
    struct breaker_info *b = NULL;
    struct rlink *l;
    size_t n = 0;
    int64_t now = 0;
    char *cause = NULL;
    int code = EXIT_DONE;

    if (argc > 1) {
        char *shown = text_safe(argv[1], 40);

        cli_error("breakers: unexpected argument \"%s\" (to close one: ctl breaker reset NAME)",
                  shown);
        free(shown);
        return EXIT_USAGE;
    }
    if ((l = ctl_link(cli, &code)) == NULL)
        return code;
    if (breaker_list(l, &b, &n, &now, &cause) == -1) {
        code = ctl_failed(l, "breakers", cause);
        rlink_free(l);
        return code;
    }
    rlink_free(l);
    if (json) {
        json_t *arr = json_array();

        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, info_json(&b[i]));
        cli_print_json(json_pack("{s:I, s:o}", "now_ms", (json_int_t)now, "breakers", arr));
    } else if (n == 0) {
        printf("no circuit breakers yet (a breaker appears once a process has called its "
               "service)\n");
    } else {
        printf("%-48s %-9s %8s %6s %-20s %10s  %s\n", "BREAKER", "STATE", "FAILURES", "OPENS",
               "CHANGED (UTC)", "TRIAL IN", "LAST ERROR");
        for (size_t i = 0; i < n; i++) {
            char *name = text_safe(b[i].name, 48), *err = text_safe(b[i].last_error, 80);
            char when[32], next[24];

            if (b[i].next_ms > 0 && b[i].next_ms > now)
                snprintf(next, sizeof next, "%.1f s", (double)(b[i].next_ms - now) / 1000);
            else
                snprintf(next, sizeof next, "%s", b[i].state == BREAKER_OPEN ? "due" : "-");
            printf("%-48s %-9s %8d %6lld %-20s %10s  %s\n", name, breaker_state_name(b[i].state),
                   b[i].failures, b[i].opens, text_utc(b[i].changed_ms, when, sizeof when), next,
                   *err != '\0' ? err : "-");
            free(name);
            free(err);
        }
    }
    free(b);
    return code;
}

int ctl_breaker(struct cli *cli, bool json, int argc, char **argv)
{
    struct rlink *l;
    char *cause = NULL, *shown;
    int code = EXIT_DONE;

    if (argc != 3 || strcmp(argv[1], "reset") != 0) {
        cli_error("breaker: ctl breaker reset NAME (a name from `newsroom ctl breakers`)");
        return EXIT_USAGE;
    }
    if ((l = ctl_link(cli, &code)) == NULL)
        return code;
    if (breaker_reset(l, argv[2], &cause) == -1) {
        code = ctl_failed(l, "breaker reset", cause);
        rlink_free(l);
        return code;
    }
    rlink_free(l);
    shown = text_safe(argv[2], BREAKER_NAME_MAX);
    if (json)
        cli_print_json(json_pack("{s:s, s:s}", "name", argv[2], "state", "closed"));
    else
        printf("breaker %s closed (processes follow within their refresh time)\n", shown);
    free(shown);
    return code;
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
                   items[i]->attempts, text_utc(items[i]->updated_ms, at, sizeof at), err);
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
