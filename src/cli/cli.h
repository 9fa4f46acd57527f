/*
 * cli.h - what the subcommands of the newsroom binary share: exit codes, the parsed global
 * options, the stop flag that signal handlers set, and opening the Redis link (embedded or
 * configured). Main thread only, except cli_stop, which signal handlers write.
 */
#ifndef NEWSROOM_CLI_H
#define NEWSROOM_CLI_H

#include "store/redis_url.h"

#include <signal.h>
#include <stdbool.h>

struct config;
struct embedded;
struct rlink;

/* Exit codes of every command (DESIGN.md, conventions of the CLI). */
enum {
    EXIT_DONE = 0,
    EXIT_REFUSED = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
};

struct cli {
    const char *config_path; /* --config, or NULL */
    struct config *cfg;      /* resolved configuration */
    char *data_dir;          /* resolved data directory */
    struct embedded *emb;    /* the private redis-server, when one is used */
    struct redis_addr addr;  /* where cli_connect() connected: more links go there too */
    /* The control room's options (cmd_room). */
    bool read_only;      /* --read-only */
    bool no_color;       /* --no-color */
    bool no_images;      /* --no-images */
    const char *theme;   /* --theme NAME|PATH, or NULL */
    const char *metrics; /* --metrics HOST:PORT (newsroom and newsroom swarm), or NULL */
};

/* Set by SIGINT, SIGTERM and SIGHUP; every loop of the CLI watches it. */
extern volatile sig_atomic_t cli_stop;

/* Prints "newsroom: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens the log file in the data directory (creating the directory). Returns 0 or -1 after
 * printing why. */
int cli_open_log(struct cli *cli);

/* Connects to the configured Redis, or starts/reuses the embedded one, and returns a link
 * owned by the calling thread; `what` names the link for CLIENT SETNAME. On failure prints
 * why and returns NULL with *exit_code set (2 for configuration, 3 for unreachable). */
struct rlink *cli_connect(struct cli *cli, const char *what, int *exit_code);

/* A process holding keys (any secret of the configuration set) dumps no core: RLIMIT_CORE 0
 * and PR_SET_DUMPABLE 0 (which also keeps other processes of the user from reading its
 * memory through ptrace or /proc). */
void cli_protect_secrets(const struct config *cfg);

/* Checks a --metrics HOST:PORT value for the command `who`: 0, or -1 after saying what is
 * wrong (the caller exits 2). */
int cli_metrics_option(const char *who, const char *value);

/* Lets go of the embedded server, if any. */
void cli_release(struct cli *cli);

/* Subcommands: argv[0] is the subcommand's name. Each returns an exit code. */
int cmd_ctl(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_bench(struct cli *cli, int argc, char **argv);
int cmd_swarm(struct cli *cli, int argc, char **argv);
int cmd_wire(struct cli *cli, int argc, char **argv);
/* Resolves the configuration itself, so that a broken one is reported as a check. */
int cmd_doctor(struct cli *cli, int argc, char **argv);
/* The control room (the bare command). */
int cmd_room(struct cli *cli, bool attach);

/* Prints a JSON value on stdout followed by a newline, and takes ownership of it. */
struct json_t;
void cli_print_json(struct json_t *value);

#endif
