/*
 * ctl_recovery.c - the ctl verbs of failure recovery: `ctl breakers` (every circuit breaker
 * any process has reported: state, failures in its window, when it opened, when it tries
 * again, how often it opened, its last error) and `ctl breaker reset NAME` (closes one by
 * hand, audited). The engine (recovery/breaker.h) does the work; this file parses and prints,
 * making text that services wrote safe for the terminal. Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/fail.h"
#include "core/text.h"
#include "recovery/breaker.h"
#include "store/rlink.h"

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
