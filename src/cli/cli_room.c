/*
 * cli_room.c - the bare `newsroom` command: the control room. The ncurses front end is built
 * in a later step; until then the command reports the Redis link it would watch (as
 * `newsroom ctl status` does) and says that the control room is not here yet.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>

int cmd_room(struct cli *cli, bool attach)
{
    char name[] = "ctl", verb[] = "status";
    char *argv[] = {name, verb, NULL};

    (void)attach;
    optind = 0;
    fprintf(stderr, "newsroom: the control room is not part of this version yet; "
                    "this is the Redis link it will watch:\n");
    return cmd_ctl(cli, 2, argv);
}
