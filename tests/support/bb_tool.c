/*
 * bb_tool.c - a test helper that moves blackboard items through the real blackboard API (so
 * through the same Lua scripts as agents), for shell tests that need an item in a state no ctl
 * verb produces. Connects as `newsroom` does: the configuration and REDIS_URL.
 *   bb_tool walk ID STATUS     along the allowed moves to STATUS (REVIEWING, for approve and
 *                              reject)
 *   bb_tool walk - STATUS      every id read from stdin, one a line (the screen tests' 500)
 *   bb_tool fail N ERROR [STAGE]
 *                              the dead set as agents make it: claims every due PENDING story
 *                              (step analyze), or with STAGE takes every story waiting on that
 *                              stage of PRODUCING (a requeue puts one there), and fails the
 *                              attempt with "ERROR (try K)", again and again, until each is
 *                              FAILED after N attempts of that step with its error history
 */
#include "core/config.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Walks one item to target along the shortest path of allowed moves. Returns 0 or 1. */
static int walk(struct bb *b, const char *id, int target)
{
    int prev[BB_STATUS_COUNT], queue[BB_STATUS_COUNT], path[BB_STATUS_COUNT];
    int head = 0, tail = 0, n = 0;
    struct bb_item *it;
    char *cause = NULL;

    if (bb_read(b, id, &it, &cause) != BB_OK) {
        fprintf(stderr, "bb_tool: no item %s\n", id);
        return 1;
    }
    /* Breadth first from the item's status to the target. */
    for (int i = 0; i < BB_STATUS_COUNT; i++)
        prev[i] = -2;
    prev[it->status] = -1;
    queue[tail++] = it->status;
    while (head < tail) {
        int s = queue[head++];

        for (const int *x = bb_statuses[s].next; *x != BB_STATUS_NONE; x++)
            if (prev[*x] == -2) {
                prev[*x] = s;
                queue[tail++] = *x;
            }
    }
    bb_item_free(it);
    if (prev[target] == -2) {
        fprintf(stderr, "bb_tool: %s cannot reach %s\n", id, bb_statuses[target].name);
        return 1;
    }
    for (int s = target; prev[s] != -1; s = prev[s])
        path[n++] = s;
    for (int i = n - 1; i >= 0; i--) {
        if (bb_transition(b, id, (enum bb_status)path[i], "test walk", NULL, &cause) != BB_OK) {
            fprintf(stderr, "bb_tool: %s: %s\n", id, cause);
            free(cause);
            return 1;
        }
    }
    return 0;
}

/* Claims (or, with a stage, takes) one due story after another and fails each attempt, until
 * nothing is left to claim: every story ends FAILED after max attempts of its step. Returns 0,
 * or 1 when the blackboard refused a step. */
static int fail_all(struct bb *b, int max, const char *error, const char *stage)
{
    int tries = 0;

    for (;;) {
        struct bb_lock lk;
        struct bb_item *it = NULL;
        char *cause = NULL, why[512];
        int rc = stage != NULL
                     ? bb_take(b, stage, BB_PRODUCING, 60000, &lk, NULL, &cause)
                     : bb_claim_item(b, BB_PENDING, BB_PROCESSING, 60000, &lk, &it, &cause);

        bb_item_free(it);
        if (rc == BB_NONE)
            return 0;
        if (rc != BB_OK) {
            fprintf(stderr, "bb_tool: claim: %s\n", cause != NULL ? cause : "?");
            free(cause);
            return 1;
        }
        snprintf(why, sizeof why, "%s (try %d)", error, ++tries);
        if (bb_fail(b, lk.id, &lk, why, max, NULL, &cause) != BB_OK) {
            fprintf(stderr, "bb_tool: fail %s: %s\n", lk.id, cause != NULL ? cause : "?");
            free(cause);
            return 1;
        }
    }
}

int main(int argc, char **argv)
{
    char *cause = NULL, line[512];
    struct config *c;
    struct redis_addr a;
    struct rlink_options o;
    struct rlink *l;
    struct bb *b;
    bool embedded, fail = argc >= 4 && strcmp(argv[1], "fail") == 0;
    int target = -1, max = 0, rc = 0;

    signal(SIGPIPE, SIG_IGN);
    if (fail ? argc > 5 || (max = atoi(argv[2])) < 1
             : argc != 4 || strcmp(argv[1], "walk") != 0 ||
                   (target = bb_status_parse(argv[3])) < 0) {
        fprintf(stderr, "usage: bb_tool walk ID|- STATUS\n       bb_tool fail N ERROR [STAGE]\n");
        return 2;
    }
    c = config_resolve(NULL, &cause);
    if (c == NULL || config_redis_addr(c, &a, &embedded, &cause) == -1 || embedded) {
        fprintf(stderr, "bb_tool: %s\n", cause != NULL ? cause : "set REDIS_URL");
        return 2;
    }
    rlink_options_from_config(&o, c);
    l = rlink_new(&a, &o);
    b = bb_new(l, "bb_tool");
    if (fail) {
        rc = fail_all(b, max, argv[3], argc == 5 ? argv[4] : NULL);
    } else if (strcmp(argv[2], "-") != 0) {
        rc = walk(b, argv[2], target);
    } else {
        while (rc == 0 && fgets(line, sizeof line, stdin) != NULL) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0] != '\0')
                rc = walk(b, line, target);
        }
    }
    bb_free(b);
    rlink_free(l);
    config_free(c);
    return rc;
}
