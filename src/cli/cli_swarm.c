/*
 * cli_swarm.c - `newsroom swarm`: the agents in one process. It brings up the Redis link
 * (starting or reusing the embedded server when none is configured), starts the agents of
 * --roles (agent.h; each agent thread makes its own link to the same server), with the wire
 * simulator as the scouts' input unless --once runs without --wire, and runs until
 * SIGINT/SIGTERM/SIGHUP, --duration, or with --once until nothing is left for its roles to do
 * (no story in a status they move on: with every role, every story terminal or awaiting
 * review; nothing on its way from the wire; with feeds and scouts, every feed source that was
 * due polled once, its items written); then it stops the agents
 * (each unregisters and leaves nothing locked) and lets go of the server. --auto-approve adds
 * the approver role (every reviewed story approved by the swarm) and audits the run as such.
 * --summary prints one line a second: stories per status, spend today, agents alive.
 * Observability (observe.h) starts before the agents: their trace events go to Langfuse or
 * the JSON Lines file, and --metrics (or [observe] metrics) serves /metrics; at the end what
 * the exporter still holds is delivered after the agents stopped.
 *
 * Threads: this file runs on the main thread, which keeps its own link for the --once check,
 * the summary and the link's heartbeat; the agents run on their own threads.
 */
#include "agents/agent.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "cost/budget.h"
#include "cost/money.h"
#include "cost/pricing.h"
#include "feeds/feed_store.h"
#include "media/preview.h"
#include "observe/observe.h"
#include "store/audit.h"
#include "store/blackboard.h"
#include "store/registry.h"
#include "store/rlink.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every stage of the production floor (the roles' wake lists name them). */
static const char *const swarm_stages[] = {"qa", "produce", "rewrite", "write"};

/* Whether no story is in a status one of the swarm's roles moves on (with every role, that
 * is: every story terminal, or awaiting a person's review unless the swarm approves them
 * itself, and none FAILED waiting for the archivist; a story waiting on a stage none of its
 * roles takes counts as another swarm's). -1 when Redis cannot tell. */
static int swarm_drained(struct rlink *l, struct swarm *sw)
{
    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT];
    struct bb *b = bb_new(l, "swarm");
    char *cause = NULL;
    long busy = 0;
    int rc = bb_counts(b, counts, &cause);

    bb_free(b);
    if (rc != BB_OK) {
        log_warn("swarm: %s", cause);
        free(cause);
        return -1;
    }
    for (int s = 0; s < BB_SECTION_COUNT; s++)
        for (int st = 0; st < BB_STATUS_COUNT; st++)
            if (swarm_serves(sw, st))
                busy += counts[s][st];
    /* Stories waiting on a stage no role here takes are another swarm's to move on. */
    for (size_t i = 0; busy > 0 && i < sizeof swarm_stages / sizeof swarm_stages[0]; i++) {
        long n = 0;

        if (swarm_takes_stage(sw, swarm_stages[i]))
            continue;
        b = bb_new(l, "swarm");
        rc = bb_stage_len(b, swarm_stages[i], &n, &cause);
        bb_free(b);
        if (rc != BB_OK) {
            log_warn("swarm: %s", cause);
            free(cause);
            return -1;
        }
        busy -= n;
    }
    return busy <= 0;
}

/* --once works through what is there and ends: a finite batch (no wire; feeds polled once),
 * so bounding the work in flight buys nothing, and with only some roles a mark of a stage
 * nobody here drains would hold them for good (as would the wait a stage that never drains
 * seems to promise). Both are lifted for this run; stories left on a stage no role here takes
 * wait there for another swarm, as --once always left them. */
static void once_flow(struct config *cfg)
{
    memset(cfg->flow_hwm, 0, sizeof cfg->flow_hwm);
    cfg->flow_max_wait_ms = 0;
}

/* Whether every feed source that is due has been polled (and its items written: a poll is
 * recorded only after them) since since_ms, server clock. -1 when Redis cannot tell. */
static int feeds_polled(struct rlink *l, const struct config *cfg, int64_t since_ms)
{
    char **sources = NULL, *first = NULL, *cause = NULL;
    size_t n = feed_store_split(cfg->feed_sources, &sources);
    long left = feed_store_unpolled(l, (const char *const *)sources, n, since_ms, &first, &cause);
    static int64_t said_ms;

    feed_store_strv_free(sources, n);
    if (left == -1) {
        log_warn("swarm: feeds: %s", cause);
        free(cause);
        return -1;
    }
    if (left > 0 && clock_mono_ms() - said_ms > 10000) {
        log_info("swarm: --once waits for %ld feed source(s) to be polled, %s first", left, first);
        said_ms = clock_mono_ms();
    }
    free(first);
    return left == 0;
}

/* One line: stories per status (those with any), spend today against the global limit, agents
 * alive of those started. Errors show in the line itself. */
static void swarm_summary(struct rlink *l, struct swarm *s, const struct config *cfg)
{
    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT];
    struct bb *b = bb_new(l, "swarm");
    struct registry *reg = registry_new(l);
    struct registry_agent *agents = NULL;
    struct budget_options bo;
    struct budget_window global;
    struct budget_row *rows = NULL;
    size_t nagents = 0, nrows = 0;
    char *cause = NULL, line[512], m1[32], m2[32];
    size_t len = 0;
    int alive = 0;

    line[0] = '\0';
    if (bb_counts(b, counts, &cause) == BB_OK) {
        for (int st = 0; st < BB_STATUS_COUNT; st++) {
            long n = 0;

            for (int sec = 0; sec < BB_SECTION_COUNT; sec++)
                n += counts[sec][st];
            if (n > 0 && len < sizeof line)
                len += (size_t)snprintf(line + len, sizeof line - len, "%s%s %ld",
                                        len > 0 ? " " : "", bb_statuses[st].name, n);
        }
        if (len == 0)
            len = (size_t)snprintf(line, sizeof line, "no stories");
    } else {
        len = (size_t)snprintf(line, sizeof line, "stories: %s", cause);
        free(cause);
        cause = NULL;
    }
    budget_options_from_config(&bo, cfg);
    if (len < sizeof line &&
        budget_status(l, &bo, clock_wall_ms(), &rows, &nrows, &global, &cause) == 0) {
        len += (size_t)snprintf(line + len, sizeof line - len, " | spend %s",
                                money_format(global.spent, m1, sizeof m1));
        if (global.limit > 0 && len < sizeof line)
            len += (size_t)snprintf(line + len, sizeof line - len, " of %s",
                                    money_format(global.limit, m2, sizeof m2));
        budget_rows_free(rows, nrows);
    } else {
        free(cause);
        cause = NULL;
    }
    if (registry_list(reg, &agents, &nagents, NULL, &cause) == 0) {
        for (size_t i = 0; i < nagents; i++)
            alive += agents[i].status != REGISTRY_DEAD;
        free(agents);
    } else {
        free(cause);
    }
    if (len < sizeof line)
        snprintf(line + len, sizeof line - len, " | agents %d alive (%d here)", alive,
                 swarm_running(s));
    printf("%s\n", line);
    fflush(stdout);
    registry_free(reg);
    bb_free(b);
}

int cmd_swarm(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"roles", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"once", no_argument, NULL, 'o'},
        {"wire", no_argument, NULL, 'w'},
        {"auto-approve", no_argument, NULL, 'a'},
        {"summary", no_argument, NULL, 's'},
        {"metrics", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct swarm_options so;
    struct observe_options oo;
    struct swarm_totals tot;
    struct observe *ob;
    struct swarm *s;
    struct preview *preview = NULL;
    struct pricing *pricing;
    struct rlink *l;
    const char *roles = SWARM_DEFAULT_ROLES, *metrics = cli->metrics;
    char *all_roles = NULL;
    long duration = 0;
    bool once = false, wire = false, auto_approve = false, summary = false;
    int64_t end, lost_since = 0, next_summary = 0, feeds_since = -1;
    int c, code = EXIT_DONE;
    char *cause = NULL;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        char *endp;

        switch (c) {
        case 'r':
            roles = optarg;
            break;
        case 'd':
            errno = 0;
            duration = strtol(optarg, &endp, 10);
            if (*optarg == '\0' || *endp != '\0' || errno != 0 || duration <= 0 ||
                duration > 10L * 365 * 86400) {
                cli_error("swarm: --duration \"%s\" is not a number of seconds from 1 to ten "
                          "years",
                          optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o':
            once = true;
            break;
        case 'w':
            wire = true;
            break;
        case 'a':
            auto_approve = true;
            break;
        case 's':
            summary = true;
            break;
        case 'm':
            if (cli_metrics_option("swarm: ", optarg) == -1)
                return EXIT_USAGE;
            metrics = optarg;
            break;
        case 'h':
            printf("usage: newsroom swarm [--roles ROLE:N,...] [--duration SECONDS] [--once] "
                   "[--wire] [--auto-approve] [--summary]\n"
                   "                      [--metrics HOST:PORT]\n"
                   "default roles: %s\n",
                   SWARM_DEFAULT_ROLES);
            return EXIT_DONE;
        case ':':
            cli_error("swarm: option %s needs a value", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            cli_error("swarm: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("swarm: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    if (once && wire) {
        cli_error("swarm: --once never runs the wire (it would never end); drop --wire");
        return EXIT_USAGE;
    }
    if (!once && cli->cfg->feed_sources[0] == '\0')
        wire = true; /* the default run is alive for as long as it runs; feeds replace it */
    if (strstr(roles, "approver") != NULL && !auto_approve) {
        cli_error("swarm: --roles: the approver approves every reviewed story, so it runs only "
                  "with --auto-approve");
        return EXIT_USAGE;
    }
    if (auto_approve && strstr(roles, "approver") == NULL)
        roles = all_roles = xasprintf("%s,approver:1", roles);

    memset(&so, 0, sizeof so);
    so.cfg = cli->cfg;
    so.roles = roles;
    so.auto_approve = auto_approve;
    so.wire = wire;
    so.wire_seed = (uint64_t)clock_wall_ms();
    so.wire_rate_per_s = SWARM_DEFAULT_WIRE_RATE;
    /* Check the roles before starting anything. */
    if ((s = swarm_new(&so, &cause)) == NULL) {
        cli_error("swarm: --roles: %s", cause);
        free(cause);
        free(all_roles);
        return EXIT_USAGE;
    }
    if (once)
        once_flow(cli->cfg);
    swarm_free(s);
    if ((pricing = pricing_open(cli->cfg->pricing_file, &cause)) == NULL) {
        cli_error("swarm: %s", cause);
        free(cause);
        free(all_roles);
        return EXIT_USAGE;
    }
    so.pricing = pricing;
    if (cli_open_log(cli) == -1) {
        pricing_free(pricing);
        free(all_roles);
        return EXIT_USAGE;
    }
    l = cli_connect(cli, "swarm", &code);
    if (l == NULL) {
        pricing_free(pricing);
        free(all_roles);
        return code;
    }
    /* An unattended approval is an operator's decision too: audited before it can happen. */
    if (auto_approve && audit_append(l, "auto-approve", NULL,
                                     "newsroom swarm --auto-approve: the swarm approves every "
                                     "reviewed story",
                                     &cause) == -1) {
        cli_error("swarm: cannot audit --auto-approve, so not starting: %s", cause);
        free(cause);
        rlink_free(l);
        pricing_free(pricing);
        free(all_roles);
        return EXIT_UNREACHABLE;
    }
    /* --once with feeds and scouts waits for one poll of every source due from now on. */
    if (once && cli->cfg->feed_sources[0] != '\0' && strstr(roles, "scout") != NULL &&
        feed_store_now(l, &feeds_since, &cause) == -1) {
        cli_error("swarm: %s", cause);
        free(cause);
        rlink_free(l);
        pricing_free(pricing);
        free(all_roles);
        return EXIT_UNREACHABLE;
    }
    so.addr = cli->addr; /* the agents' links go where the main link went */
    rlink_options_from_config(&so.link, cli->cfg);
    memset(&oo, 0, sizeof oo);
    oo.cfg = cli->cfg;
    oo.data_dir = cli->data_dir;
    oo.addr = &cli->addr;
    oo.link = &so.link;
    oo.metrics = metrics;
    if ((ob = observe_start(&oo, &cause)) == NULL) {
        cli_error("swarm: %s", cause);
        free(cause);
        rlink_free(l);
        pricing_free(pricing);
        free(all_roles);
        return EXIT_USAGE;
    }
    s = swarm_new(&so, &cause);
    if (s == NULL || swarm_start(s, &cause) == -1) {
        cli_error("swarm: %s", cause);
        free(cause);
        swarm_free(s);
        observe_stop(ob);
        rlink_free(l);
        pricing_free(pricing);
        free(all_roles);
        return EXIT_USAGE;
    }
    observe_set_swarm(ob, s);
    if (observe_metrics_port(ob) > 0)
        fprintf(stderr, "newsroom: metrics on port %d (/metrics)\n", observe_metrics_port(ob));
    fprintf(stderr, "newsroom: swarm on %s: %d agents (%s)%s\n", rlink_address(l), swarm_size(s),
            roles, wire ? ", wire on" : "");
    /* The preview server of this process (a second process on the same port does without). */
    if ((preview = preview_start_config(cli->cfg, &cli->addr, &cause)) == NULL && cause != NULL) {
        log_warn("swarm: no preview server in this process: %s", cause);
        free(cause);
        cause = NULL;
    } else if (preview != NULL) {
        log_info("swarm: preview on 127.0.0.1:%d", cli->cfg->preview_port);
    }
    log_info("swarm: up on %s with %s", rlink_address(l), roles);

    end = duration > 0 ? clock_mono_ms() + duration * 1000 : INT64_MAX;
    while (!cli_stop && clock_mono_ms() < end) {
        int64_t us, left;

        if (swarm_failed(s) > 0) {
            cli_error("swarm: %d agent(s) could not start or stopped on their own; see %s/"
                      "newsroom.log",
                      swarm_failed(s), cli->data_dir);
            code = EXIT_USAGE;
            break;
        }
        /* Feeds first: a poll is recorded after its items are written, so once every due
         * source is polled, the drain check below sees all their stories. */
        if (once && (feeds_since < 0 || feeds_polled(l, cli->cfg, feeds_since) == 1) &&
            swarm_settled(s) && swarm_drained(l, s) == 1)
            break;
        if (summary && clock_mono_ms() >= next_summary) {
            swarm_summary(l, s, cli->cfg);
            next_summary = clock_mono_ms() + 1000;
        }
        /* The heartbeat of the main link: reconnecting with backoff when lost; a link lost for
         * good (30 s of failed pings) ends the run with exit 3. */
        if (rlink_ping(l, &us, &cause) == -1) {
            log_warn("swarm: %s", cause);
            free(cause);
            cause = NULL;
            if (lost_since == 0)
                lost_since = clock_mono_ms();
            else if (clock_mono_ms() - lost_since > 30000) {
                cli_error("swarm: Redis at %s unreachable for 30 s", rlink_address(l));
                code = EXIT_UNREACHABLE;
                break;
            }
        } else {
            lost_since = 0;
        }
        left = end - clock_mono_ms();
        clock_sleep_ms(left < 200 ? left : 200, &cli_stop);
    }
    log_info("swarm: shutting down%s", cli_stop ? " on a signal" : "");
    preview_stop(preview);
    swarm_stop(s);
    observe_set_swarm(ob, NULL);
    observe_stop(ob); /* delivers the trace events still queued */
    swarm_totals(s, &tot);
    fprintf(stderr,
            "newsroom: swarm stopped: %ld stories written (%ld duplicates refused), %ld taken "
            "up, %ld moved on, %ld archived, %ld failed attempts, %ld model calls, %ld "
            "deferred\n",
            tot.written, tot.duplicates, tot.claimed, tot.advanced, tot.archived, tot.failed,
            tot.llm_calls, tot.deferred);
    swarm_free(s);
    rlink_free(l);
    pricing_free(pricing);
    free(all_roles);
    return code;
}
