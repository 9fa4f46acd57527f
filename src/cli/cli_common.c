/*
 * cli_common.c - what the subcommands share: messages on stderr, the log file, connecting to
 * the configured or embedded Redis with the exit code DESIGN.md gives each failure, and JSON
 * output. Main thread only; cli_stop is written by signal handlers and only read here.
 */
#include "cli/cli.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/paths.h"
#include "observe/metrics_http.h"
#include "store/embedded.h"
#include "store/rlink.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

volatile sig_atomic_t cli_stop;

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("newsroom: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_open_log(struct cli *cli)
{
    char *cause = NULL;
    char *path;

    if (paths_mkdir_p(cli->data_dir, 0700, &cause) == -1) {
        cli_error("%s", cause);
        free(cause);
        return -1;
    }
    path = xasprintf("%s/newsroom.log", cli->data_dir);
    if (log_open(path, cli->cfg->log_level, &cause) == -1) {
        cli_error("%s", cause);
        free(cause);
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

struct rlink *cli_connect(struct cli *cli, const char *what, int *exit_code)
{
    struct redis_addr addr;
    struct rlink_options opt;
    struct rlink *l;
    char name[64];
    char *cause = NULL;
    bool embedded, config_error;

    if (config_redis_addr(cli->cfg, &addr, &embedded, &cause) == -1) {
        cli_error("%s", cause);
        free(cause);
        *exit_code = EXIT_USAGE;
        return NULL;
    }
    if (embedded) {
        cli->emb = embedded_start(cli->cfg, cli->data_dir, &addr, &config_error, &cause);
        if (cli->emb == NULL) {
            cli_error("cannot start the embedded Redis: %s", cause);
            free(cause);
            *exit_code = config_error ? EXIT_USAGE : EXIT_UNREACHABLE;
            return NULL;
        }
    }
    rlink_options_from_config(&opt, cli->cfg);
    opt.client_name = embedded_client_name(what, name, sizeof name);
    cli->addr = addr;
    l = rlink_new(&addr, &opt);
    if (rlink_ensure(l, &cause) == -1) {
        cli_error("%s", cause);
        free(cause);
        /* A refused or missing password, or no such database, is a configuration error;
         * anything else means unreachable. */
        *exit_code = rlink_config_refused(l) ? EXIT_USAGE : EXIT_UNREACHABLE;
        rlink_free(l);
        return NULL;
    }
    return l;
}

void cli_protect_secrets(const struct config *cfg)
{
    struct rlimit none = {0, 0};

    if (!config_has_secrets(cfg))
        return;
    if (setrlimit(RLIMIT_CORE, &none) == -1 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
        log_warn("cannot turn core dumps off: %s", strerror(errno));
}

void cli_release(struct cli *cli)
{
    embedded_release(cli->emb);
    cli->emb = NULL;
}

void cli_print_json(json_t *value)
{
    char *s = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s == NULL)
        fail("cannot encode JSON output");
    puts(s);
    free(s);
    json_decref(value);
}

int cli_metrics_option(const char *who, const char *value)
{
    char *why = NULL;

    if (value[0] != '\0' && metrics_listen_check(value, &why) == 0)
        return 0;
    cli_error("%s--metrics: %s", who, why != NULL ? why : "needs HOST:PORT");
    free(why);
    return -1;
}
