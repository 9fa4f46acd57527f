/*
 * cli_room.c - the bare `newsroom` command: the control room (ui/app.h). Without --attach it
 * runs the swarm in this process too, as `newsroom swarm` runs it by default (every role, the
 * wire simulator on), on the configured Redis or the embedded one; with --attach it only
 * watches a swarm that runs elsewhere. --read-only, --theme and --no-color are parsed by
 * main.c into struct cli; --theme wins over [ui] theme.
 *
 * Order: check the terminal and the theme (exit 2 before anything starts), open the log (the
 * terminal belongs to the control room), connect (starting the embedded Redis when none is
 * configured; exit 2 or 3 as every command), start the agents, start the room's feed and
 * worker threads, run the UI on this thread, then stop the room, the agents and let go of the
 * server (main.c), printing what the swarm did once the terminal is back. Observability
 * (observe.h: tracing, and /metrics with --metrics) starts before the agents and stops after
 * them; an attached control room traces nothing but may serve /metrics (its ring's drops).
 *
 * Threads: the main thread, which becomes the UI thread inside app_run(); the agents, the
 * room's feed and its worker run on their own threads.
 */
#include "agents/agent.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/paths.h"
#include "cost/pricing.h"
#include "media/preview.h"
#include "observe/observe.h"
#include "room/room.h"
#include "store/rlink.h"
#include "ui/app.h"
#include "ui/term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Starts the default swarm on the address cli_connect() found. NULL after printing why. */
static struct swarm *start_swarm(struct cli *cli, struct pricing *pricing)
{
    struct swarm_options so;
    struct swarm *s;
    char *cause = NULL;

    memset(&so, 0, sizeof so);
    so.cfg = cli->cfg;
    so.pricing = pricing;
    so.roles = SWARM_DEFAULT_ROLES;
    so.wire = true;
    so.wire_seed = (uint64_t)clock_wall_ms();
    so.wire_rate_per_s = SWARM_DEFAULT_WIRE_RATE;
    so.addr = cli->addr;
    rlink_options_from_config(&so.link, cli->cfg);
    s = swarm_new(&so, &cause);
    if (s == NULL || swarm_start(s, &cause) == -1) {
        cli_error("cannot start the swarm: %s", cause);
        free(cause);
        if (s != NULL) {
            swarm_stop(s);
            swarm_free(s);
        }
        return NULL;
    }
    log_info("room: swarm up with %s", SWARM_DEFAULT_ROLES);
    return s;
}

static int room_run(struct cli *cli, bool attach, const char *themes_dir)
{
    struct app_options ao;
    struct room_options ro;
    struct room *room;
    struct swarm *swarm = NULL;
    struct preview *preview = NULL;
    struct pricing *pricing = NULL;
    struct observe_options oo;
    struct observe *ob;
    struct rlink_options lo;
    struct rlink *l;
    /* --theme over [ui] theme ($NEWSROOM_THEME). */
    const char *theme = cli->theme != NULL ? cli->theme : cli->cfg->ui_theme;
    char *cause = NULL;
    int code = EXIT_DONE;

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        cli_error("the control room needs a terminal on stdin and stdout (for scripts: "
                  "newsroom ctl, newsroom swarm --summary)");
        return EXIT_USAGE;
    }
    if (app_check_theme(theme, themes_dir, &cause) == -1) {
        cli_error("%s: %s", cli->theme != NULL ? "--theme" : "[ui] theme", cause);
        free(cause);
        return EXIT_USAGE;
    }
    /* fail() restores the terminal before it aborts, from whichever thread it runs on; set
     * before any thread exists. */
    fail_set_hook(term_emergency_restore);
    if (cli_open_log(cli) == -1)
        return EXIT_USAGE;
    if (!attach && (pricing = pricing_open(cli->cfg->pricing_file, &cause)) == NULL) {
        cli_error("%s", cause);
        free(cause);
        return EXIT_USAGE;
    }
    l = cli_connect(cli, "room", &code);
    if (l == NULL) {
        pricing_free(pricing);
        return code;
    }
    rlink_free(l); /* the room's threads make their own links to cli->addr */
    /* Tracing and metrics before the agents start (an attached room has no agents to trace). */
    rlink_options_from_config(&lo, cli->cfg);
    memset(&oo, 0, sizeof oo);
    oo.cfg = cli->cfg;
    oo.data_dir = cli->data_dir;
    oo.addr = &cli->addr;
    oo.link = &lo;
    oo.metrics = cli->metrics;
    oo.no_tracing = attach;
    if ((ob = observe_start(&oo, &cause)) == NULL) {
        cli_error("%s", cause);
        free(cause);
        pricing_free(pricing);
        return EXIT_USAGE;
    }
    if (!attach && (swarm = start_swarm(cli, pricing)) == NULL) {
        observe_stop(ob);
        pricing_free(pricing);
        return EXIT_USAGE;
    }
    observe_set_swarm(ob, swarm);
    /* The swarm's preview server: a producer watches a package through ssh -L. */
    if (!attach && (preview = preview_start_config(cli->cfg, &cli->addr, &cause)) == NULL &&
        cause != NULL) {
        log_warn("room: no preview server: %s", cause);
        free(cause);
        cause = NULL;
    }

    memset(&ro, 0, sizeof ro);
    ro.addr = cli->addr;
    rlink_options_from_config(&ro.link, cli->cfg);
    ro.cfg = cli->cfg;
    ro.no_frames = cli->no_images;
    room = room_new(&ro);
    if (room_start(room, &cause) == -1) {
        cli_error("cannot start the control room's threads: %s", cause);
        free(cause);
        room_free(room);
        code = EXIT_USAGE;
        goto out;
    }
    observe_set_room(ob, room);

    memset(&ao, 0, sizeof ao);
    ao.room = room;
    ao.read_only = cli->read_only;
    ao.no_color = cli->no_color;
    ao.no_images = cli->no_images;
    ao.in_process = swarm != NULL;
    ao.theme = theme;
    ao.themes_dir = themes_dir;
    ao.stop = &cli_stop;
    ao.frame_stats = getenv("NEWSROOM_UI_STATS"); /* for newsroom bench tui */
    if (app_run(&ao, &cause) == -1) {
        cli_error("%s", cause);
        free(cause);
        code = EXIT_USAGE;
    }
    observe_set_room(ob, NULL);
    room_stop(room);
    room_free(room);
out:
    preview_stop(preview);
    if (swarm != NULL) {
        struct swarm_totals tot;

        fprintf(stderr, "newsroom: stopping the swarm...\n");
        swarm_stop(swarm);
        observe_set_swarm(ob, NULL);
        swarm_totals(swarm, &tot);
        fprintf(stderr,
                "newsroom: swarm stopped: %ld stories written, %ld moved on, %ld archived, %ld "
                "model calls\n",
                tot.written, tot.advanced, tot.archived, tot.llm_calls);
        swarm_free(swarm);
    }
    observe_stop(ob); /* delivers the trace events still queued */
    pricing_free(pricing);
    return code;
}

int cmd_room(struct cli *cli, bool attach)
{
    /* [ui] themes_dir ($NEWSROOM_THEMES_DIR through the configuration), else the installed
     * themes (or the source tree's, from the build tree), else ./themes (ui/theme.c). */
    char *shared = cli->cfg->ui_themes_dir[0] == '\0' ? paths_share_file("themes") : NULL;
    int rc = room_run(cli, attach, shared != NULL ? shared : cli->cfg->ui_themes_dir);

    free(shared);
    return rc;
}
