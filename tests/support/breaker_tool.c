/*
 * breaker_tool.c - a test helper that opens a circuit breaker in Redis through the engine's
 * breaker API, as a process whose calls to a service keep failing does: it starts the breaker
 * board (the sync thread that reports to nr:breaker:<name>) with a policy of one failure and
 * the given cool-down, reports a failure, and stops the board, which flushes the report. For
 * the screen tests that show breakers that are not closed. Connects as `newsroom` does: the
 * configuration and REDIS_URL.
 *   breaker_tool open SERVICE WHERE COOLDOWN_S ERROR
 * Prints the breaker's name; exits 0 when Redis holds it open, else 1 (2: usage).
 */
#include "core/config.h"
#include "recovery/breaker.h"
#include "store/rlink.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct breaker_policy p = {
        .failures = 1, .window_ms = 60000, .trials = 1, .successes = 1, .refresh_ms = 100};
    struct breaker_info *rows = NULL;
    struct redis_addr a;
    struct rlink_options o;
    struct rlink *l;
    struct config *c;
    struct breaker *b;
    char *cause = NULL;
    bool embedded, open = false;
    size_t n = 0;

    signal(SIGPIPE, SIG_IGN);
    if (argc != 6 || strcmp(argv[1], "open") != 0 || atoi(argv[4]) < 1) {
        fprintf(stderr, "usage: breaker_tool open SERVICE WHERE COOLDOWN_S ERROR\n");
        return 2;
    }
    p.cooldown_ms = (int64_t)atoi(argv[4]) * 1000;
    c = config_resolve(NULL, &cause);
    if (c == NULL || config_redis_addr(c, &a, &embedded, &cause) == -1 || embedded) {
        fprintf(stderr, "breaker_tool: %s\n", cause != NULL ? cause : "set REDIS_URL");
        return 2;
    }
    rlink_options_from_config(&o, c);
    if (breaker_board_start(&a, &o, &p, &cause) == -1) {
        fprintf(stderr, "breaker_tool: %s\n", cause);
        return 1;
    }
    b = breaker_for(argv[2], argv[3]);
    if (breaker_allow(b, &cause) == 0)
        breaker_failure(b, argv[5]);
    free(cause);
    cause = NULL;
    breaker_board_stop(); /* flushes the failure to Redis */
    l = rlink_new(&a, &o);
    if (breaker_list(l, &rows, &n, NULL, &cause) == -1) {
        fprintf(stderr, "breaker_tool: %s\n", cause);
        free(cause);
    }
    for (size_t i = 0; i < n; i++)
        open =
            open || (strcmp(rows[i].name, breaker_name(b)) == 0 && rows[i].state == BREAKER_OPEN);
    printf("%s\n", breaker_name(b));
    free(rows);
    rlink_free(l);
    config_free(c);
    return open ? 0 : 1;
}
