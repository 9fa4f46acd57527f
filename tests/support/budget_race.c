/*
 * budget_race.c - the budget race loop and its link; see budget_race.h. Each caller's own
 * link, no shared state.
 */
#include "budget_race.h"

#include "store/redis_url.h"
#include "store/rlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rlink *budget_race_link(const char *name)
{
    struct rlink_options o = {.connect_timeout_ms = 2000,
                              .command_timeout_ms = 10000,
                              .reconnect_base_ms = 20,
                              .reconnect_max_ms = 200,
                              .client_name = name};
    struct redis_addr a = {.transport = REDIS_UNIX, .db = BUDGET_RACE_DB};
    const char *sock = getenv("NEWSROOM_TEST_REDIS_SOCKET");
    const char *pw = getenv("NEWSROOM_TEST_REDIS_PASSWORD");

    if (sock == NULL || pw == NULL)
        return NULL;
    snprintf(a.path, sizeof a.path, "%s", sock);
    snprintf(a.password, sizeof a.password, "%s", pw);
    return rlink_new(&a, &o);
}

int budget_race_run(struct rlink *l, const struct budget_options *o, const char *agent, int iters,
                    unsigned seed, int64_t now_ms, struct race_result *out, char **cause)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < iters; i++) {
        int64_t amount = 1 + rand_r(&seed) % 50, actual;
        struct budget_refusal refusal;
        struct usage_record u = {.agent = agent,
                                 .task_type = "news_scout",
                                 .model = "sim-fast",
                                 .tier = LLM_FAST,
                                 .prompt_tokens = 10,
                                 .completion_tokens = 5,
                                 .duration_ms = 1,
                                 .confidence = 0.5};
        char id[BUDGET_ID_MAX];
        int rc, alerts = 0;

        rc = budget_reserve(l, o, now_ms, agent, NULL, amount, id, &refusal, cause);
        if (rc == -1)
            return -1;
        if (rc == 1) {
            out->refused++;
            continue;
        }
        out->ok++;
        if (rand_r(&seed) % 10 == 0) {
            if (budget_release(l, o, now_ms, id, cause) == -1)
                return -1;
            out->released++;
            continue;
        }
        actual = amount - rand_r(&seed) % (amount / 2 + 1);
        u.cost = actual;
        if (budget_commit(l, o, now_ms, id, &u, &alerts, cause) != 0)
            return -1;
        out->committed += actual;
        out->commits++;
        out->alerts += alerts;
    }
    return 0;
}
