/*
 * ctl_bus.c - the operator's ctl verbs for the bus: `ctl emergency --message TEXT [--halt]`,
 * `ctl resume [--note TEXT]` and `ctl audit [--limit N]`. Each is audited by the engine
 * (control.h, audit.h); this file only parses, calls and prints. Text read back from Redis
 * (other operators' messages and reasons) is made safe before it reaches the terminal.
 * Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/fail.h"
#include "core/text.h"
#include "store/audit.h"
#include "store/bus.h"
#include "store/control.h"
#include "store/rlink.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_DEFAULT_LIMIT 20

static json_t *halt_json(const struct control_halt *h)
{
    if (!h->halted)
        return json_null();
    return json_pack("{s:s?, s:s?, s:s?, s:I}", "message", h->message, "user", h->user, "from",
                     h->from, "time_ms", (json_int_t)h->time_ms);
}

int ctl_emergency(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"message", required_argument, NULL, 'm'},
        {"halt", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *text = NULL;
    bool halt = false;
    struct audit_who who;
    struct rlink *l;
    char *cause = NULL, *id = NULL;
    long long receivers = 0;
    int c, code = EXIT_DONE;

    while ((c = getopt_long(argc, argv, ":m:", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            text = optarg;
            break;
        case 'H':
            halt = true;
            break;
        default:
            return ctl_bad_option("emergency", c, argc, argv);
        }
    }
    if (optind < argc) {
        cli_error("emergency: unexpected argument \"%s\" (the text goes after --message)",
                  argv[optind]);
        return EXIT_USAGE;
    }
    if (text == NULL) {
        cli_error("emergency: --message TEXT is required");
        return EXIT_USAGE;
    }
    if (control_check_message(text, &cause) == -1) {
        cli_error("emergency: %s", cause);
        free(cause);
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    if (control_emergency(l, text, halt, &receivers, &id, &cause) == -1) {
        code = ctl_failed(l, "emergency", cause);
        rlink_free(l);
        return code;
    }
    audit_whoami(&who);
    if (json) {
        cli_print_json(json_pack("{s:b, s:s, s:s, s:I, s:s, s:b, s:s, s:s}", "sent", 1, "channel",
                                 bus_broadcast_channel(BUS_EMERGENCY), "message_id", id,
                                 "receivers", (json_int_t)receivers, "message", text, "halt", halt,
                                 "user", who.user, "from", who.from));
    } else {
        printf("emergency sent on %s to %lld subscriber%s (message %s)\n",
               bus_broadcast_channel(BUS_EMERGENCY), receivers, receivers == 1 ? "" : "s", id);
        if (halt)
            printf("the swarm is halted: agents take no new work until `newsroom ctl resume`\n");
    }
    free(id);
    rlink_free(l);
    return EXIT_DONE;
}

int ctl_resume(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"note", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *note = NULL;
    struct control_halt lifted;
    struct rlink *l;
    char *cause = NULL;
    long long receivers = 0;
    int c, code = EXIT_DONE;

    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 'n')
            return ctl_bad_option("resume", c, argc, argv);
        note = optarg;
    }
    if (optind < argc) {
        cli_error("resume: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    if (control_resume(l, note, &lifted, &receivers, &cause) == -1) {
        code = ctl_failed(l, "resume", cause);
        rlink_free(l);
        return code;
    }
    if (json) {
        cli_print_json(json_pack("{s:b, s:o, s:I, s:s}", "resumed", lifted.halted, "halt",
                                 halt_json(&lifted), "receivers", (json_int_t)receivers, "channel",
                                 bus_broadcast_channel(BUS_CONTROL)));
    } else if (lifted.halted) {
        char when[32];
        char *msg = text_safe(lifted.message, 0), *user = text_safe(lifted.user, 0),
             *from = text_safe(lifted.from, 0);

        printf("the swarm resumed; it was halted by %s from %s at %s UTC: %s\n", user, from,
               text_utc(lifted.time_ms, when, sizeof when), msg);
        printf("resume sent on %s to %lld subscriber%s\n", bus_broadcast_channel(BUS_CONTROL),
               receivers, receivers == 1 ? "" : "s");
        free(msg);
        free(user);
        free(from);
    } else {
        printf("the swarm was not halted; nothing to resume\n");
    }
    control_halt_clear(&lifted);
    rlink_free(l);
    return EXIT_DONE;
}

int ctl_audit(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    long limit = AUDIT_DEFAULT_LIMIT;
    struct audit_entry *e = NULL;
    size_t n = 0;
    struct rlink *l;
    char *cause = NULL;
    int c, code = EXIT_DONE;

    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        char *end;

        if (c != 'l')
            return ctl_bad_option("audit", c, argc, argv);
        errno = 0;
        limit = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || errno != 0 || limit < 1 || limit > AUDIT_MAXLEN) {
            cli_error("audit: --limit \"%s\" is not a whole number from 1 to %d", optarg,
                      AUDIT_MAXLEN);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("audit: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    if (audit_read(l, (int)limit, &e, &n, &cause) == -1) {
        code = ctl_failed(l, "audit", cause);
        rlink_free(l);
        return code;
    }
    if (json) {
        json_t *list = json_array();

        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, audit_entry_to_json(&e[i]));
        cli_print_json(json_pack("{s:o}", "entries", list));
    } else if (n == 0) {
        printf("the audit stream is empty\n");
    } else {
        printf("%-19s  %-28s  %-15s  %-16s  %s\n", "TIME (UTC)", "WHO", "WHAT", "ITEM", "REASON");
        for (size_t i = 0; i < n; i++) {
            char when[32];
            char *user = text_safe(e[i].user, 0), *from = text_safe(e[i].from, 0),
                 *what = text_safe(e[i].what, 0);
            char *item = text_safe(e[i].item, 0), *reason = text_safe(e[i].reason, 0);
            char *who = xasprintf("%s@%s", user, from);

            printf("%-19s  %-28s  %-15s  %-16s  %s\n", text_utc(e[i].time_ms, when, sizeof when),
                   who, what, item, reason);
            free(who);
            free(user);
            free(from);
            free(what);
            free(item);
            free(reason);
        }
    }
    audit_entries_free(e, n);
    rlink_free(l);
    return EXIT_DONE;
}
