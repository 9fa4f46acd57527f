/*
 * main.c - the newsroom binary: global options, the table of subcommands, signals and the
 * configuration every subcommand starts from. Runs on the main thread; the signal handlers
 * only set cli_stop.
 */
#include "cli/cli.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct subcommand {
    const char *name;
    int (*run)(struct cli *, int, char **);
    bool needs_config;
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"swarm", cmd_swarm, true, "run the swarm alone, for servers"},
    {"ctl", cmd_ctl, true, "one scripted operation (ctl --help lists the verbs)"},
    {"bench", cmd_bench, false, "run a benchmark and print its figures"},
    {"wire", cmd_wire, false, "print the wire simulator's stories as JSON Lines for ctl ingest"},
    {"config", cmd_config, true, "print the effective configuration and where it came from"},
    {"doctor", cmd_doctor, false, "check the setup (Redis, store, tools, terminal): what to fix"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: newsroom [--config FILE] [--attach] [--read-only] [--theme NAME|PATH]\n"
               "                [--no-color] [--no-images] [--metrics HOST:PORT]\n"
               "       newsroom [--config FILE] COMMAND [ARGS]\n"
               "       newsroom --help | --version\n\n"
               "With no command, newsroom opens the control room.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(f, "\nOptions:\n"
               "  --config FILE  read FILE instead of $NEWSROOM_CONFIG,\n"
               "                 $XDG_CONFIG_HOME/newsroom/newsroom.conf or the installed\n"
               "                 default configuration\n"
               "  --attach       watch a swarm that runs elsewhere (no local agents)\n"
               "  --read-only    the control room without the keys that act on the swarm\n"
               "  --theme NAME   dark, light, high-contrast, mono, or a .theme file's path\n"
               "  --no-color     monochrome (as NO_COLOR does)\n"
               "  --no-images    a story's frames as text only; the terminal is not asked\n"
               "                 whether it takes sixel or kitty images\n"
               "  --metrics HOST:PORT  serve Prometheus metrics on http://HOST:PORT/metrics\n"
               "  -h, --help     this help\n"
               "  -V, --version  the version\n\n"
               "Exit codes: 0 done, 1 refused, 2 usage or configuration error,\n"
               "3 Redis unreachable. See newsroom(1) (man newsroom) for every command,\n"
               "verb, key and variable.\n");
}

static void on_signal(int sig)
{
    (void)sig;
    cli_stop = 1;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"attach", no_argument, NULL, 'a'},
        {"read-only", no_argument, NULL, 'r'},     {"theme", required_argument, NULL, 't'},
        {"no-color", no_argument, NULL, 'n'},      {"no-images", no_argument, NULL, 'i'},
        {"metrics", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    struct cli cli = {0};
    const struct subcommand *sub = NULL;
    char *cause = NULL;
    bool attach = false, room_option = false;
    int c, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            cli.config_path = optarg;
            break;
        case 'a':
            attach = true;
            break;
        case 'r':
            cli.read_only = room_option = true;
            break;
        case 't':
            if (optarg[0] == '\0') {
                cli_error("--theme needs a theme name or a path");
                return EXIT_USAGE;
            }
            cli.theme = optarg;
            room_option = true;
            break;
        case 'n':
            cli.no_color = room_option = true;
            break;
        case 'i':
            cli.no_images = room_option = true;
            break;
        case 'm':
            if (cli_metrics_option("", optarg) == -1)
                return EXIT_USAGE;
            cli.metrics = optarg;
            room_option = true;
            break;
        case 'h':
            usage(stdout);
            return EXIT_DONE;
        case 'V':
            printf("newsroom %s\n", NEWSROOM_VERSION);
            return EXIT_DONE;
        case ':':
            cli_error("option %s needs an argument", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        default:
            cli_error("unknown option %s", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
            if (strcmp(argv[optind], subcommands[i].name) == 0)
                sub = &subcommands[i];
        if (sub == NULL) {
            cli_error("unknown command \"%s\"", argv[optind]);
            usage(stderr);
            return EXIT_USAGE;
        }
        if (attach || room_option) {
            cli_error("%s goes with the control room, not with \"%s\"",
                      attach ? "--attach"
                             : "--read-only, --theme, --no-color, --no-images or --metrics "
                               "(newsroom swarm takes its own --metrics)",
                      sub->name);
            return EXIT_USAGE;
        }
    }

    install_signals();
    if (sub == NULL || sub->needs_config) {
        cli.cfg = config_resolve(cli.config_path, &cause);
        if (cli.cfg == NULL) {
            cli_error("%s", cause);
            free(cause);
            return EXIT_USAGE;
        }
        cli.data_dir = config_data_dir(cli.cfg);
        cli_protect_secrets(cli.cfg);
    }
    if (sub != NULL) {
        int first = optind;

        /* getopt starts afresh (optind 0) on the subcommand's own arguments. */
        optind = 0;
        rc = sub->run(&cli, argc - first, argv + first);
    } else {
        rc = cmd_room(&cli, attach);
    }
    cli_release(&cli);
    log_close();
    config_free(cli.cfg);
    free(cli.data_dir);
    return rc;
}
