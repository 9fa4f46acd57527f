/*
 * queue_tool.c - a small separate program that the queue and registry tests drive, so that a
 * worker can be a real process (and be killed with SIGKILL), and so that the shell tests of
 * the ctl verbs can put queues and agents in place:
 *
 *   queue_tool URL hold QUEUE CONSUMER VT_MS     dequeue one task, print "got ID DELIVERIES",
 *                                                then wait, holding it, until killed
 *   queue_tool URL enqueue QUEUE N [breaking]    enqueue N tasks of type "test"
 *   queue_tool URL bury QUEUE ERROR              enqueue one task, take it, bury it with ERROR
 *   queue_tool URL agent ID ROLE TIER TTL_MS [STATUS [CAPS]]
 *                                                register an agent and exit (it dies after TTL)
 *
 * Exits 0 on success, 1 with a message on stderr otherwise. Single-threaded.
 */
#include "store/queue.h"
#include "store/redis_url.h"
#include "store/registry.h"
#include "store/rlink.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct rlink_options opts = {
    .connect_timeout_ms = 2000,
    .command_timeout_ms = 5000,
    .reconnect_base_ms = 20,
    .reconnect_max_ms = 200,
    .client_name = "newsroom-queue-tool",
};

static int die(const char *what, char *cause)
{
    fprintf(stderr, "queue_tool: %s: %s\n", what, cause != NULL ? cause : "failed");
    free(cause);
    return 1;
}

static int hold(struct rlink *l, char **argv)
{
    struct queue_options o;
    struct queue *q;
    struct queue_task *t = NULL;
    char *cause = NULL;

    queue_options_default(&o);
    o.visibility_ms = atoi(argv[5]);
    q = queue_open(l, argv[3], argv[4], &o, &cause);
    if (q == NULL)
        return die("open", cause);
    if (queue_dequeue(q, 10000, &t, &cause) == -1)
        return die("dequeue", cause);
    if (t == NULL)
        return die("dequeue", strdup("no task within 10 s"));
    printf("got %s %d\n", t->id, t->deliveries);
    fflush(stdout);
    for (;;) /* mid-task until killed */
        pause();
}

static int enqueue(struct rlink *l, int argc, char **argv)
{
    struct queue *q;
    char *cause = NULL;
    int n = atoi(argv[4]);
    enum queue_priority p =
        argc > 5 && strcmp(argv[5], "breaking") == 0 ? QUEUE_BREAKING : QUEUE_NORMAL;

    q = queue_open(l, argv[3], NULL, NULL, &cause);
    if (q == NULL)
        return die("open", cause);
    for (int i = 0; i < n; i++) {
        json_t *payload = json_pack("{s:i}", "n", i);

        if (queue_enqueue(q, "test", payload, p, NULL, NULL, &cause) == -1)
            return die("enqueue", cause);
        json_decref(payload);
    }
    queue_free(q);
    return 0;
}

static int bury(struct rlink *l, char **argv)
{
    struct queue *q;
    struct queue_task *t = NULL;
    char id[QUEUE_ID_MAX + 1];
    char *cause = NULL;
    json_t *payload = json_pack("{s:s}", "title", "poison");
    enum queue_outcome out;

    q = queue_open(l, argv[3], "queue-tool", NULL, &cause);
    if (q == NULL)
        return die("open", cause);
    if (queue_enqueue(q, "test", payload, QUEUE_BREAKING, NULL, id, &cause) == -1)
        return die("enqueue", cause);
    json_decref(payload);
    if (queue_dequeue(q, 2000, &t, &cause) == -1 || t == NULL)
        return die("dequeue", cause);
    if (queue_bury(q, t, argv[4], &out, &cause) == -1)
        return die("bury", cause);
    printf("%s\n", t->id);
    queue_task_free(t);
    queue_free(q);
    return out == QUEUE_DEAD ? 0 : die("bury", strdup(queue_outcome_name(out)));
}

static int agent(struct rlink *l, int argc, char **argv)
{
    struct registry *r = registry_new(l);
    struct registry_agent a;
    char *cause = NULL;

    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", argv[3]);
    snprintf(a.role, sizeof a.role, "%s", argv[4]);
    snprintf(a.tier, sizeof a.tier, "%s", argv[5]);
    if (argc > 7 && registry_status_parse(argv[7], &a.status) == -1)
        return die("agent", strdup("bad status"));
    if (argc > 8)
        snprintf(a.capabilities, sizeof a.capabilities, "%s", argv[8]);
    if (registry_register(r, &a, atoi(argv[6]), &cause) == -1)
        return die("register", cause);
    registry_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    struct redis_addr addr;
    struct rlink *l;
    char *cause = NULL;
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (argc < 4) {
        fprintf(stderr, "usage: queue_tool URL hold|enqueue|bury|agent ARGS\n");
        return 1;
    }
    if (redis_url_parse(argv[1], &addr, &cause) == -1)
        return die("url", cause);
    l = rlink_new(&addr, &opts);
    if (strcmp(argv[2], "hold") == 0 && argc == 6)
        rc = hold(l, argv);
    else if (strcmp(argv[2], "enqueue") == 0 && argc >= 5)
        rc = enqueue(l, argc, argv);
    else if (strcmp(argv[2], "bury") == 0 && argc == 5)
        rc = bury(l, argv);
    else if (strcmp(argv[2], "agent") == 0 && argc >= 7)
        rc = agent(l, argc, argv);
    else
        rc = die("usage", strdup("unknown mode or wrong number of arguments"));
    rlink_free(l);
    return rc;
}
