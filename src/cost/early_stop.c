/*
 * early_stop.c - the confidence thresholds and the record of each stop; see early_stop.h.
 * Stateless: any thread, each with its own link.
 */
#include "cost/early_stop.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reasons[] = {
    [EARLY_STOP_CONTINUE] = "continue",
    [EARLY_STOP_LOW_QUALITY] = "low_quality",
    [EARLY_STOP_GOOD_ENOUGH] = "good_enough",
};

void early_stop_config_from(struct early_stop_config *e, const struct config *c)
{
    e->low = (double)c->early_stop_low_ppm / 1e6;
    e->high = (double)c->early_stop_high_ppm / 1e6;
}

enum early_stop_decision early_stop_decide(const struct early_stop_config *e, double confidence)
{
    if (isnan(confidence) || confidence < 0)
        return EARLY_STOP_CONTINUE;
    if (confidence < e->low)
        return EARLY_STOP_LOW_QUALITY;
    if (confidence > e->high)
        return EARLY_STOP_GOOD_ENOUGH;
    return EARLY_STOP_CONTINUE;
}

const char *early_stop_reason(enum early_stop_decision d)
{
    return (int)d >= 0 && d <= EARLY_STOP_GOOD_ENOUGH ? reasons[d] : NULL;
}

int early_stop_record(struct rlink *l, const char *agent, const char *task,
                      enum early_stop_decision d, double confidence, int calls_saved,
                      int64_t est_cost_each, char **cause)
{
    char conf[24], calls[16], saved[24], now[24];
    const char *argv[10];
    redisReply *r;

    if (d == EARLY_STOP_CONTINUE || early_stop_reason(d) == NULL) {
        *cause = xstrdup("only a stop is recorded");
        return -1;
    }
    if (calls_saved < 0)
        calls_saved = 0;
    snprintf(conf, sizeof conf, "%.3f", confidence);
    snprintf(calls, sizeof calls, "%d", calls_saved);
    snprintf(saved, sizeof saved, "%lld", (long long)(calls_saved * est_cost_each));
    snprintf(now, sizeof now, "%lld", (long long)clock_wall_ms());
    argv[0] = EARLY_STOP_STREAM_KEY;
    argv[1] = EARLY_STOP_COUNTS_KEY;
    argv[2] = agent;
    argv[3] = task != NULL ? task : "";
    argv[4] = early_stop_reason(d);
    argv[5] = conf;
    argv[6] = calls;
    argv[7] = saved;
    argv[8] = now;
    argv[9] = EARLY_STOP_MAXLEN_STR;
    r = rlink_eval(l, &lua_cost_stop, 2, 10, argv, cause);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int early_stop_stats(struct rlink *l, struct early_stop_stats *out, char **cause)
{
    redisReply *r = rlink_command(l, cause, "HMGET %s low_quality good_enough calls_saved saved",
                                  EARLY_STOP_COUNTS_KEY);

    if (r == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
        int64_t *f[] = {&out->low_quality, &out->good_enough, &out->calls_saved, &out->saved};

        for (int i = 0; i < 4; i++)
            if (r->element[i]->type == REDIS_REPLY_STRING)
                *f[i] = strtoll(r->element[i]->str, NULL, 10);
    }
    freeReplyObject(r);
    return 0;
}
