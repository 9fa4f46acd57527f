/*
 * budget_racer.c - the second process of the budget tests (test_budget.c), on database 7 of
 * the shared test Redis:
 *   budget_racer race AGENT ITERS SEED NOW_MS   the race loop; prints
 *       "committed N ok N refused N released N commits N alerts N"
 *   budget_racer hang AGENT AMOUNT NOW_MS TTL_MS   reserves AMOUNT, prints "reserved ID" and
 *       waits to be killed (the dead caller whose reservation must lapse)
 * Exits 1 on any error, after printing it on stderr. Single-threaded.
 */
#include "budget_race.h"

#include "store/rlink.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct budget_options o = {
        .global_daily = 0, .alerts = true, .alert_ppm = 800000, .reservation_ttl_ms = 60000};
    struct rlink *l;
    char *cause = NULL;

    signal(SIGPIPE, SIG_IGN);
    l = budget_race_link("newsroom-test-budget-racer");
    if (l == NULL || argc < 2) {
        fprintf(stderr, "budget_racer: needs the test Redis environment and a mode\n");
        return 1;
    }
    if (strcmp(argv[1], "race") == 0 && argc == 6) {
        struct race_result r;

        if (budget_race_run(l, &o, argv[2], atoi(argv[3]), (unsigned)atoi(argv[4]),
                            strtoll(argv[5], NULL, 10), &r, &cause) == -1) {
            fprintf(stderr, "budget_racer: %s\n", cause);
            return 1;
        }
        printf("committed %lld ok %ld refused %ld released %ld commits %ld alerts %ld\n",
               (long long)r.committed, r.ok, r.refused, r.released, r.commits, r.alerts);
    } else if (strcmp(argv[1], "hang") == 0 && argc == 6) {
        struct budget_refusal refusal;
        char id[BUDGET_ID_MAX];

        o.reservation_ttl_ms = atoi(argv[5]);
        if (budget_reserve(l, &o, strtoll(argv[4], NULL, 10), argv[2], NULL,
                           strtoll(argv[3], NULL, 10), id, &refusal, &cause) != 0) {
            fprintf(stderr, "budget_racer: %s\n", cause != NULL ? cause : "refused");
            return 1;
        }
        printf("reserved %s\n", id);
        fflush(stdout);
        for (;;)
            pause();
    } else {
        fprintf(stderr, "budget_racer: bad arguments\n");
        return 1;
    }
    rlink_free(l);
    return 0;
}
