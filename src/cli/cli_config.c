/*
 * cli_config.c - `newsroom config [--json]`: the effective configuration, every key with its
 * value and where it came from, secrets masked. Main thread only.
 */
#include "cli/cli.h"

#include "core/config.h"
#include "core/paths.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_config(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct config_entry e;
    const char *section = "";
    bool json = false;
    char *share;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'h':
            printf("usage: newsroom config [--json]\n");
            return EXIT_DONE;
        default:
            cli_error("config: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("config: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }

    /* Where the themes, the video template and the sample files come from. */
    share = paths_share_dir();
    if (json) {
        json_t *o = json_object(), *keys = json_array();

        json_object_set_new(o, "file",
                            cli->cfg->file != NULL ? json_string(cli->cfg->file) : json_null());
        json_object_set_new(o, "data_dir", json_string(cli->data_dir));
        json_object_set_new(o, "share_dir", share != NULL ? json_string(share) : json_null());
        free(share);
        for (int i = 0; i < config_key_count(); i++) {
            json_t *k = json_object();

            config_entry_get(cli->cfg, i, &e);
            json_object_set_new(k, "section", json_string(e.section));
            json_object_set_new(k, "key", json_string(e.key));
            json_object_set_new(k, "value", json_string(e.value));
            json_object_set_new(k, "source", json_string(e.origin));
            json_object_set_new(k, "env", e.env != NULL ? json_string(e.env) : json_null());
            json_object_set_new(k, "secret", json_boolean(e.secret));
            json_array_append_new(keys, k);
        }
        json_object_set_new(o, "keys", keys);
        cli_print_json(o);
        return EXIT_DONE;
    }

    printf("; configuration file: %s\n",
           cli->cfg->file != NULL ? cli->cfg->file : "none (built-in defaults)");
    printf("; data directory:     %s\n", cli->data_dir);
    printf("; share directory:    %s\n",
           share != NULL ? share : "none (built-in theme and template)");
    free(share);
    for (int i = 0; i < config_key_count(); i++) {
        char line[700];

        config_entry_get(cli->cfg, i, &e);
        if (strcmp(section, e.section) != 0) {
            printf("\n[%s]\n", e.section);
            section = e.section;
        }
        snprintf(line, sizeof line, "%s = %s", e.key, e.value);
        printf("%-44s ; %s\n", line, e.origin);
    }
    return EXIT_DONE;
}
