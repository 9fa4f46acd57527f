/*
 * ctl_package.c - `newsroom ctl package ID [--published] [--get NAME [--out FILE]]`: where a
 * story's package is (the producer's, or with --published the publisher's copy) and its files,
 * and one file fetched through the package store (media/store.h) from whichever machine made
 * it: a local folder, or S3. Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/text.h"
#include "media/store.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints a package's place and files. */
static void print_where(const char *label, const json_t *where)
{
    const json_t *files = json_object_get(where, "files"), *v;
    size_t i;

    if (pstore_where_is_s3(where)) {
        printf("%-10ss3://%s at %s\n", label, json_string_value(json_object_get(where, "bucket")),
               json_string_value(json_object_get(where, "endpoint")));
        json_array_foreach(files, i, v)
        {
            char *name = text_safe(json_string_value(v), 0);
            char *key = text_safe(
                json_string_value(json_object_get(json_object_get(where, "keys"), name)), 0);

            printf("  %-24s %s\n", name, key);
            free(name);
            free(key);
        }
        return;
    }
    {
        char *folder = text_safe(json_string_value(json_object_get(where, "folder")), 0);

        printf("%-10slocal folder %s\n", label, folder);
        free(folder);
    }
    json_array_foreach(files, i, v)
    {
        char *name = text_safe(json_string_value(v), 0);

        printf("  %s\n", name);
        free(name);
    }
}

int ctl_package(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"published", no_argument, NULL, 'p'},
        {"get", required_argument, NULL, 'g'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *get = NULL, *out = NULL, *id;
    bool published = false;
    struct rlink *l;
    struct bb *b;
    struct bb_item *it = NULL;
    struct pstore *s = NULL;
    json_t *where = NULL;
    char *cause = NULL;
    int c, code = EXIT_DONE, rc;

    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            published = true;
            break;
        case 'g':
            get = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        default:
            return ctl_bad_option("package", c, argc, argv);
        }
    }
    if (optind + 1 != argc) {
        cli_error("usage: newsroom ctl package ID [--published] [--get NAME [--out FILE]]");
        return EXIT_USAGE;
    }
    if (out != NULL && get == NULL) {
        cli_error("package: --out goes with --get NAME");
        return EXIT_USAGE;
    }
    id = argv[optind];
    if ((l = ctl_link(cli, &code)) == NULL)
        return code;
    b = bb_new(l, "ctl");
    rc = bb_read(b, id, &it, &cause);
    if (rc == BB_NONE) {
        cli_error("package: no story %s", id);
        code = EXIT_REFUSED;
        goto done;
    }
    if (rc != BB_OK) {
        code = ctl_failed(l, "package", cause);
        goto done;
    }
    where = published ? json_incref(json_object_get(json_object_get(it->body, "publish"), "store"))
                      : pstore_where_of(json_object_get(it->body, "package"));
    if (where == NULL) {
        cli_error(published ? "package: %s has not been published through the package store"
                            : "package: %s has no rendered package (a storyboard, or none yet)",
                  id);
        code = EXIT_REFUSED;
        goto done;
    }
    if (get == NULL) {
        if (json) {
            cli_print_json(json_pack("{s:s, s:s, s:O}", "id", id, "which",
                                     published ? "published" : "package", "where", where));
        } else {
            printf("story     %s\n", id);
            print_where(published ? "published" : "package", where);
        }
        goto done;
    }
    if ((s = pstore_open(cli->cfg, &cause)) == NULL) {
        cli_error("package: %s", cause);
        free(cause);
        code = EXIT_USAGE;
        goto done;
    }
    rc = pstore_get_file(s, where, get, out != NULL ? out : get, &cause);
    if (rc == 1) {
        cli_error("package: %s's package has no file %s", id, get);
        code = EXIT_REFUSED;
    } else if (rc == -1) {
        char *shown = text_safe(cause, 0);

        cli_error("package: %s", shown);
        free(shown);
        free(cause);
        code = EXIT_REFUSED;
    } else if (json) {
        cli_print_json(json_pack("{s:s, s:s, s:s}", "id", id, "file", get, "written",
                                 out != NULL ? out : get));
    } else {
        printf("%s\n", out != NULL ? out : get);
    }
done:
    pstore_free(s);
    json_decref(where);
    bb_item_free(it);
    bb_free(b);
    rlink_free(l);
    return code;
}
