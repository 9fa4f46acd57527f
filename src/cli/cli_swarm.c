/*
 * cli_swarm.c - `newsroom swarm`: the swarm alone, for servers. It brings up the Redis link
 * (starting or reusing the embedded server when none is configured), keeps it alive with
 * reconnection, and runs until SIGINT/SIGTERM/SIGHUP, --duration or --once, then shuts down
 * in order. The agent roles that run inside it are not part of this build yet: it says so.
 * Main thread only.
 */
#include "cli/cli.h"

#include "core/clock.h"
#include "core/log.h"
#include "store/rlink.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

int cmd_swarm(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"duration", required_argument, NULL, 'd'},
        {"once", no_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct rlink *l;
    long duration = 0;
    bool once = false;
    int64_t end;
    int c, code = EXIT_DONE;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *endp;

        switch (c) {
        case 'd':
            errno = 0;
            duration = strtol(optarg, &endp, 10);
            if (*optarg == '\0' || *endp != '\0' || errno != 0 || duration <= 0) {
                cli_error("swarm: --duration \"%s\" is not a positive number of seconds", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o':
            once = true;
            break;
        case 'h':
            printf("usage: newsroom swarm [--duration SECONDS] [--once]\n");
            return EXIT_DONE;
        default:
            cli_error("swarm: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("swarm: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    if (cli_open_log(cli) == -1)
        return EXIT_USAGE;
    l = cli_connect(cli, "swarm", &code);
    if (l == NULL)
        return code;
    fprintf(stderr,
            "newsroom: swarm on %s; no agent roles are built into this version yet, "
            "so it holds the link until stopped\n",
            rlink_address(l));
    log_info("swarm: up on %s", rlink_address(l));

    end = duration > 0 ? clock_mono_ms() + duration * 1000 : INT64_MAX;
    while (!once && !cli_stop && clock_mono_ms() < end) {
        int64_t us;
        char *cause = NULL;

        /* The heartbeat of the link: a PING a second, reconnecting with backoff when lost. */
        if (rlink_ping(l, &us, &cause) == -1) {
            log_warn("swarm: %s", cause);
            free(cause);
        }
        clock_sleep_ms(end - clock_mono_ms() < 1000 ? end - clock_mono_ms() : 1000, &cli_stop);
    }
    log_info("swarm: shutting down%s", cli_stop ? " on a signal" : "");
    rlink_free(l);
    return EXIT_DONE;
}
