/*
 * cli_ctl.c - `newsroom ctl VERB`: one scripted operation each, from a table of verbs, each
 * with --json for one JSON document on stdout. Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/text.h"
#include "store/embedded.h"
#include "store/rlink.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl_verb {
    const char *name;
    int (*run)(struct cli *, bool json, int, char **);
    const char *args;
    const char *summary;
};

/* One row per verb; each verb lives in the cli/ctl_*.c file of its subsystem. */
static const struct ctl_verb verbs[] = {
    {"status", ctl_status, "", "the Redis link: address, server version, role, latency"},
    {"ingest", ctl_ingest, "FILE|FOLDER|URL|-",
     "add news items from JSON Lines or feeds (RSS, Atom, RDF); counts and reasons"},
    {"sources", ctl_sources, "",
     "feed sources (a folder's files each one): last fetch, status, items, error, next poll"},
    {"items", ctl_items, "[--section S] [--status S] [--limit N] [--after C]",
     "list blackboard items"},
    {"item", ctl_item, "ID", "one item: state, decisions, body"},
    {"package", ctl_package, "ID [--published] [--get NAME [--out FILE]]",
     "where a story's package is and its files; --get fetches one through the package store"},
    {"approve", ctl_approve, "ID [--note TEXT]", "approve a story awaiting review"},
    {"reject", ctl_reject, "ID --reason TEXT [--revise]",
     "reject a story awaiting review (--revise: back to the writer with the reason as note)"},
    {"emergency", ctl_emergency, "--message TEXT [--halt]",
     "broadcast an emergency; --halt also stops the swarm"},
    {"resume", ctl_resume, "[--note TEXT]", "lift the halt flag and tell the swarm to resume"},
    {"audit", ctl_audit, "[--limit N]", "the operator audit stream, newest first"},
    {"agents", ctl_agents, "", "every agent: role, tier, status, heartbeat age"},
    {"queues", ctl_queues, "", "every work queue: waiting, pending, delayed, dead letters"},
    {"dead-letters", ctl_dead_letters, "QUEUE [--limit N]",
     "a queue's buried tasks with their last error"},
    {"budget", ctl_budget,
     "[AGENT [--set daily=X,hourly=X,task=X,alert=F]] | requests [--all] | grant ID "
     "[--amount X] | decline ID",
     "budgets: spent, reserved, limit per window; limits; requests (audited)"},
    {"usage", ctl_usage_report, "[--by agent|tier|model|task-type] [--since 6h|2d|YYYY-MM-DD]",
     "LLM calls, tokens and cost; early stops and savings"},
    {"failed", ctl_failed_list, "[--limit N]",
     "the dead set: FAILED stories, the step that failed, attempts, last error"},
    {"requeue", ctl_requeue, "ID|--all [--step S]",
     "put failed (or, by id, archived) stories back at their step, checkpoints kept (audited)"},
    {"debate", ctl_debate, "ID", "one debate: every vote, the consensus, the outcome"},
    {"breakers", ctl_breakers, "", "circuit breakers: state, failures, next trial, last error"},
    {"breaker", ctl_breaker, "reset NAME", "close a circuit breaker by hand (audited)"},
    {"search", ctl_search, "\"QUERY\" [--n N]",
     "the stories nearest to a query in the vector memory (news_articles)"},
    {"memories", ctl_memories, "AGENT [--n N] [--query TEXT]",
     "what an agent (analyst, writer) learned, newest first; --query: what it would recall"},
    {"debates", ctl_debates, "[--open|--closed] [--limit N]",
     "open debates (oldest first) and closed ones (newest first)"},
    {"trace", ctl_trace, "ID",
     "a story's trace: each step, agent, model call (tokens, cost, time), decision and why"},
    {"traces", ctl_traces, "[--limit N] | replay FILE",
     "the newest traces; replay the JSON Lines trace file to Langfuse"},
};

int ctl_failed(struct rlink *l, const char *verb, char *cause)
{
    char *shown = text_safe(cause, 0);

    cli_error("%s: %s", verb, shown);
    free(shown);
    free(cause);
    return rlink_connected(l) ? EXIT_REFUSED : EXIT_UNREACHABLE;
}

int ctl_bad_option(const char *verb, int c, int argc, char **argv)
{
    const char *opt = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";

    if (c == ':')
        cli_error("%s: option %s needs a value", verb, opt);
    else
        cli_error("%s: unknown option %s", verb, opt);
    return EXIT_USAGE;
}

struct rlink *ctl_link(struct cli *cli, int *exit_code)
{
    if (cli_open_log(cli) == -1) {
        *exit_code = EXIT_USAGE;
        return NULL;
    }
    return cli_connect(cli, "ctl", exit_code);
}

static void ctl_usage(FILE *f)
{
    fprintf(f, "usage: newsroom ctl VERB [--json] [ARGS]\n\nVerbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-12s %-40s %s\n", verbs[i].name, verbs[i].args, verbs[i].summary);
    fprintf(f, "\n--json prints one JSON document on stdout; messages go to stderr.\n");
}

int ctl_status(struct cli *cli, bool json, int argc, char **argv)
{
    struct rlink_info info;
    struct rlink *l;
    char *cause = NULL;
    const char *how;
    int code = EXIT_DONE;

    (void)argv;
    if (argc > 1) {
        cli_error("ctl status takes no arguments");
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    if (rlink_info(l, &info, &cause) == -1) {
        cli_error("%s", cause);
        free(cause);
        rlink_free(l);
        return EXIT_UNREACHABLE;
    }
    how = cli->emb == NULL                  ? "configured"
          : embedded_started_here(cli->emb) ? "embedded, started by this command"
                                            : "embedded, already running";
    if (json) {
        json_t *o = json_object();

        json_object_set_new(o, "address", json_string(rlink_address(l)));
        json_object_set_new(o, "embedded", json_boolean(cli->emb != NULL));
        if (cli->emb != NULL) {
            json_object_set_new(o, "embedded_started",
                                json_boolean(embedded_started_here(cli->emb)));
            json_object_set_new(o, "embedded_pid", json_integer(embedded_pid(cli->emb)));
        }
        json_object_set_new(o, "version", json_string(info.version));
        json_object_set_new(o, "mode", json_string(info.mode));
        json_object_set_new(o, "role", json_string(info.role));
        json_object_set_new(o, "latency_ms", json_real((double)info.latency_us / 1000.0));
        cli_print_json(o);
    } else {
        printf("redis     %s (%s", rlink_address(l), how);
        if (cli->emb != NULL)
            printf(", pid %d", (int)embedded_pid(cli->emb));
        printf(")\nserver    redis %s, %s, %s\nlatency   %.3f ms\n", info.version, info.mode,
               info.role, (double)info.latency_us / 1000.0);
        if (cli->emb != NULL && embedded_started_here(cli->emb))
            printf("note      this command started the private redis-server and stops it on "
                   "exit;\n          its data stays in %s\n",
                   cli->data_dir);
    }
    rlink_free(l);
    return EXIT_DONE;
}

int cmd_ctl(struct cli *cli, int argc, char **argv)
{
    const struct ctl_verb *verb = NULL;
    char **rest;
    int nrest = 0, c;
    bool json = false;

    /* --json may stand anywhere; options before the verb belong to ctl, the rest (options
     * included) to the verb, which gets argv[0] = its name for getopt. */
    rest = calloc((size_t)argc + 1, sizeof *rest);
    if (rest == NULL)
        return EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (verb == NULL && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            ctl_usage(stdout);
            free(rest);
            return EXIT_DONE;
        } else if (verb == NULL && a[0] == '-') {
            cli_error("ctl: unknown option %s", a);
            ctl_usage(stderr);
            free(rest);
            return EXIT_USAGE;
        } else if (verb == NULL) {
            for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
                if (strcmp(a, verbs[k].name) == 0)
                    verb = &verbs[k];
            if (verb == NULL) {
                cli_error("ctl: unknown verb \"%s\"", a);
                ctl_usage(stderr);
                free(rest);
                return EXIT_USAGE;
            }
            rest[nrest++] = argv[i];
        } else {
            rest[nrest++] = argv[i];
        }
    }
    if (verb == NULL) {
        cli_error("ctl: which verb?");
        ctl_usage(stderr);
        free(rest);
        return EXIT_USAGE;
    }
    /* --help after any verb: its usage on stdout, exit 0 (nothing is run). */
    for (int i = 1; i < nrest; i++)
        if (strcmp(rest[i], "--help") == 0 || strcmp(rest[i], "-h") == 0) {
            printf("usage: newsroom ctl %s %s%s[--json]\n\n%s\n", verb->name, verb->args,
                   verb->args[0] ? " " : "", verb->summary);
            free(rest);
            return EXIT_DONE;
        }
    optind = 0;
    opterr = 0;
    c = verb->run(cli, json, nrest, rest);
    free(rest);
    return c;
}
