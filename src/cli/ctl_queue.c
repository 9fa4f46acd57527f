/*
 * ctl_queue.c - the ctl verbs for the work queues and the agent registry: `ctl agents` (every
 * known agent with its status and heartbeat age), `ctl queues` (every queue's figures) and
 * `ctl dead-letters QUEUE [--limit N]` (its buried tasks, newest first, with their last error).
 * Read-only; the engine (queue.h, registry.h) does the work, this file parses and prints. Text
 * that agents wrote (ids, errors, payloads) is made safe before it reaches the terminal.
 * Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/fail.h"
#include "core/text.h"
#include "store/queue.h"
#include "store/registry.h"
#include "store/rlink.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEAD_DEFAULT_LIMIT 20
#define PAYLOAD_SHOWN      60

/* Verbs without options: only --json, which cmd_ctl has taken out already. */
static int no_arguments(const char *verb, int argc, char **argv)
{
    if (argc > 1) {
        cli_error("%s: unexpected argument \"%s\"", verb, argv[1]);
        return -1;
    }
    return 0;
}

int ctl_agents(struct cli *cli, bool json, int argc, char **argv)
{
    struct registry *r;
    struct registry_agent *a = NULL;
    struct rlink *l;
    size_t n = 0;
    int64_t now = 0;
    char *cause = NULL;
    int code = EXIT_DONE;

    if (no_arguments("agents", argc, argv) == -1)
        return EXIT_USAGE;
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    r = registry_new(l);
    if (registry_list(r, &a, &n, &now, &cause) == -1) {
        code = ctl_failed(l, "agents", cause);
        registry_free(r);
        rlink_free(l);
        return code;
    }
    if (json) {
        json_t *list = json_array();

        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, registry_agent_to_json(&a[i], now));
        cli_print_json(json_pack("{s:o, s:I}", "agents", list, "now_ms", (json_int_t)now));
    } else if (n == 0) {
        printf("no agents registered\n");
    } else {
        printf("%-24s %-10s %-9s %-7s %-10s %-24s %s\n", "AGENT", "ROLE", "TIER", "STATUS",
               "HEARTBEAT", "HOST:PID", "CAPABILITIES");
        for (size_t i = 0; i < n; i++) {
            char beat[32], *where = xasprintf("%s:%ld", a[i].host, a[i].pid);
            char *id = text_safe(a[i].id, 64), *role = text_safe(a[i].role, 32);
            char *tier = text_safe(a[i].tier, 16), *host = text_safe(where, 64);
            char *caps = text_safe(a[i].capabilities, 80);

            printf("%-24s %-10s %-9s %-7s %-10s %-24s %s\n", id, role, tier,
                   registry_status_name(a[i].status),
                   text_age(now - a[i].heartbeat_ms, beat, sizeof beat), host, caps);
            free(where);
            free(id);
            free(role);
            free(tier);
            free(host);
            free(caps);
        }
    }
    free(a);
    registry_free(r);
    rlink_free(l);
    return EXIT_DONE;
}

static json_t *stats_json(const char *name, const struct queue_stats *s)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", name, "depth",
                     (json_int_t)(s->waiting_breaking + s->waiting_normal), "waiting_breaking",
                     (json_int_t)s->waiting_breaking, "waiting_normal",
                     (json_int_t)s->waiting_normal, "pending", (json_int_t)s->pending, "delayed",
                     (json_int_t)s->delayed, "consumers", (json_int_t)s->consumers, "oldest_age_ms",
                     (json_int_t)s->oldest_age_ms, "dead_letters", (json_int_t)s->dead);
}

int ctl_queues(struct cli *cli, bool json, int argc, char **argv)
{
    struct rlink *l;
    char **names = NULL;
    size_t n = 0;
    char *cause = NULL;
    int code = EXIT_DONE;
    json_t *list = json_array();

    if (no_arguments("queues", argc, argv) == -1) {
        json_decref(list);
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL) {
        json_decref(list);
        return code;
    }
    if (queue_list(l, &names, &n, &cause) == -1) {
        json_decref(list);
        code = ctl_failed(l, "queues", cause);
        rlink_free(l);
        return code;
    }
    if (!json && n == 0)
        printf("no queues yet\n");
    else if (!json)
        printf("%-28s %9s %9s %8s %8s %9s %10s %7s\n", "QUEUE", "BREAKING", "NORMAL", "PENDING",
               "DELAYED", "CONSUMERS", "OLDEST", "DEAD");
    for (size_t i = 0; i < n && code == EXIT_DONE; i++) {
        struct queue_stats s;

        if (queue_stats(l, names[i], &s, &cause) == -1) {
            code = ctl_failed(l, "queues", cause);
            break;
        }
        if (json) {
            json_array_append_new(list, stats_json(names[i], &s));
        } else {
            char oldest[32], *name = text_safe(names[i], 64);

            printf("%-28s %9lld %9lld %8lld %8lld %9lld %10s %7lld\n", name, s.waiting_breaking,
                   s.waiting_normal, s.pending, s.delayed, s.consumers,
                   text_age(s.oldest_age_ms, oldest, sizeof oldest), s.dead);
            free(name);
        }
    }
    if (json && code == EXIT_DONE)
        cli_print_json(json_pack("{s:O}", "queues", list));
    json_decref(list);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    rlink_free(l);
    return code;
}

int ctl_dead_letters(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    long limit = DEAD_DEFAULT_LIMIT;
    const char *name;
    struct queue_task **t = NULL;
    struct queue_stats s;
    struct rlink *l;
    size_t n = 0;
    char *cause = NULL;
    bool exists = false;
    int c, code = EXIT_DONE;

    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        char *end;

        if (c != 'l') {
            const char *opt = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";

            if (c == ':')
                cli_error("dead-letters: option %s needs a value", opt);
            else
                cli_error("dead-letters: unknown option %s", opt);
            return EXIT_USAGE;
        }
        errno = 0;
        limit = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || errno != 0 || limit < 1 ||
            limit > QUEUE_DEAD_MAXLEN) {
            cli_error("dead-letters: --limit \"%s\" is not a whole number from 1 to %d", optarg,
                      QUEUE_DEAD_MAXLEN);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        if (argc - optind == 0)
            cli_error("dead-letters: which queue? (ctl queues lists them)");
        else
            cli_error("dead-letters: one queue at a time");
        return EXIT_USAGE;
    }
    name = argv[optind];
    if (!queue_name_valid(name)) {
        char *bad = text_safe(name, 80);

        cli_error("dead-letters: \"%s\" is not a queue name", bad);
        free(bad);
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    if (queue_exists(l, name, &exists, &cause) == -1) {
        code = ctl_failed(l, "dead-letters", cause);
        rlink_free(l);
        return code;
    }
    if (!exists) {
        cli_error("dead-letters: there is no queue named \"%s\" (ctl queues lists them)", name);
        rlink_free(l);
        return EXIT_REFUSED;
    }
    if (queue_stats(l, name, &s, &cause) == -1 ||
        queue_dead_letters(l, name, (size_t)limit, &t, &n, &cause) == -1) {
        code = ctl_failed(l, "dead-letters", cause);
        rlink_free(l);
        return code;
    }
    if (json) {
        json_t *list = json_array();

        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, queue_task_to_json(t[i]));
        cli_print_json(json_pack("{s:s, s:I, s:o}", "queue", name, "total", (json_int_t)s.dead,
                                 "dead_letters", list));
    } else if (n == 0) {
        printf("queue %s has no dead letters\n", name);
    } else {
        printf("%lld dead letter%s in queue %s%s\n", s.dead, s.dead == 1 ? "" : "s", name,
               (long long)n < s.dead ? ", newest first" : "");
        for (size_t i = 0; i < n; i++) {
            char when[32], *payload = json_dumps(t[i]->payload, JSON_COMPACT | JSON_ENCODE_ANY);
            char *id = text_safe(t[i]->id, 64), *type = text_safe(t[i]->type, 64);
            char *err = text_safe(t[i]->last_error, 400), *body = text_safe(payload, PAYLOAD_SHOWN);

            printf("\n%s UTC  %s  type %s, %s, %d deliver%s\n  error:   %s\n  payload: %s\n",
                   text_utc(t[i]->dead_ms, when, sizeof when), id, type,
                   queue_priority_name(t[i]->priority), t[i]->deliveries,
                   t[i]->deliveries == 1 ? "y" : "ies", err, body);
            free(payload);
            free(id);
            free(type);
            free(err);
            free(body);
        }
    }
    for (size_t i = 0; i < n; i++)
        queue_task_free(t[i]);
    free(t);
    rlink_free(l);
    return EXIT_DONE;
}
