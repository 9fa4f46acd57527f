/*
 * bench_cost.c - `newsroom bench cost`: dollars per published story, and the quality bought with
 * them. The same N wire stories (one seed) go through the whole swarm twice on a private
 * redis-server with the offline sim provider at zero latency and --auto-approve: once as
 * Newsroom runs (tiering: cheap models screen, premium ones only finish; the cascade: QA and the
 * writer's final on BALANCED first, PREMIUM only for a doubtful verdict or a draft below the bar;
 * early stops by confidence; debates settled before their panel is full; the response cache;
 * batched screening), once as the baseline with every call on PREMIUM and none of those savings
 * (swarm_options.baseline, agent_tier()). Spend is the sum of the usage records of each run; the
 * ratio of the two costs per published story is set against the aim of 0.30. Beside it, from the
 * stories each run left: the QA pass rate (of the stories QA judged, the share whose last verdict
 * passed) and the mean QA score of the published stories (their last verdict), against the
 * baseline's; and the cascade's escalations (usage records of task types qa_escalation and
 * script_escalation). The spend by task type of both runs is printed too.
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/config.h"
#include "core/fail.h"
#include "cost/money.h"
#include "store/rlink.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COST_ROLES                                                                                 \
    "scout:1,analyst:2,debater:3,moderator:1,writer:2,qa:1,producer:1,publisher:1,"                \
    "archivist:1,approver:1"
#define COST_AIM  0.30
#define TYPES_MAX 16

/* Spend and calls of one task type. */
struct by_type {
    char type[32];
    int64_t spend;
    long calls, cached;
};

struct cost_side {
    struct bench_run run;
    int64_t spend; /* micro-dollars */
    long calls;
    double per_story; /* dollars per published story */
    long judged, passed, published_scored;
    double pass_rate, mean_score; /* QA: pass rate of judged stories; mean of published ones */
    struct by_type types[TYPES_MAX];
    int ntypes;
};

/* The usage records of the run, by task type. 0, or -1 with *cause. */
static int spend_by_type(struct bench_env *e, struct cost_side *out, char **cause)
{
    redisReply *r = rlink_command(e->link, cause, "XRANGE nr:cost:usage - +");

    if (r == NULL)
        return -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *f = r->element[i]->element[1];
        const char *type = "";
        int64_t cost = 0;
        bool cached = false;
        int t;

        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            const char *name = f->element[k]->str, *v = f->element[k + 1]->str;

            if (strcmp(name, "type") == 0)
                type = v;
            else if (strcmp(name, "cost") == 0)
                cost = strtoll(v, NULL, 10);
            else if (strcmp(name, "cached") == 0)
                cached = strcmp(v, "1") == 0;
        }
        for (t = 0; t < out->ntypes && strcmp(out->types[t].type, type) != 0; t++)
            ;
        if (t == out->ntypes && out->ntypes < TYPES_MAX)
            snprintf(out->types[out->ntypes++].type, sizeof out->types[0].type, "%s", type);
        if (t < out->ntypes) {
            out->types[t].spend += cost;
            out->types[t].calls++;
            out->types[t].cached += cached;
        }
    }
    freeReplyObject(r);
    return 0;
}

static long type_calls(const struct cost_side *s, const char *type)
{
    for (int t = 0; t < s->ntypes; t++)
        if (strcmp(s->types[t].type, type) == 0)
            return s->types[t].calls;
    return 0;
}

/* The QA figures of the stories the run left: every item's status and QA verdicts. */
static int quality(struct bench_env *e, struct cost_side *out, char **cause)
{
    char cursor[32] = "0";
    double sum = 0;

    do {
        redisReply *r =
            rlink_command(e->link, cause, "SCAN %s MATCH nr:bb:item:* COUNT 500", cursor);

        if (r == NULL)
            return -1;
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            redisReply *h = rlink_command(e->link, cause, "HMGET %s status f:qa",
                                          r->element[1]->element[i]->str);
            json_t *qa, *last;

            if (h == NULL) {
                freeReplyObject(r);
                return -1;
            }
            qa = h->element[1]->type == REDIS_REPLY_STRING ? json_loads(h->element[1]->str, 0, NULL)
                                                           : NULL;
            last = json_array_get(qa, json_array_size(qa) - 1);
            if (json_is_object(last)) {
                out->judged++;
                out->passed += json_is_true(json_object_get(last, "passed"));
                if (h->element[0]->type == REDIS_REPLY_STRING &&
                    strcmp(h->element[0]->str, "PUBLISHED") == 0) {
                    sum += json_number_value(json_object_get(last, "score"));
                    out->published_scored++;
                }
            }
            json_decref(qa);
            freeReplyObject(h);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    out->pass_rate = out->judged > 0 ? (double)out->passed / (double)out->judged : 0;
    out->mean_score = out->published_scored > 0 ? sum / (double)out->published_scored : 0;
    return 0;
}

static int cost_side(struct bench_env *e, long n, bool baseline, struct cost_side *out,
                     char **cause)
{
    memset(out, 0, sizeof *out);
    out->run.roles = COST_ROLES;
    out->run.n = n;
    out->run.seed = 2026;
    out->run.baseline = baseline;
    out->run.timeout_s = 600;
    if (bench_swarm_run(e, &out->run, cause) == -1)
        return -1;
    if ((out->spend = bench_usage_cost(e, &out->calls, cause)) < 0)
        return -1;
    if (out->run.counts[BB_PUBLISHED_S] == 0) {
        *cause = xasprintf("no story was published%s", baseline ? " in the baseline" : "");
        return -1;
    }
    out->per_story = (double)out->spend / 1e6 / (double)out->run.counts[BB_PUBLISHED_S];
    if (spend_by_type(e, out, cause) == -1 || quality(e, out, cause) == -1)
        return -1;
    return 0;
}

static void print_types(const char *who, const struct cost_side *s)
{
    char m[32];

    printf("%s by task type:\n", who);
    for (int t = 0; t < s->ntypes; t++)
        printf("  %-20s %6ld calls (%ld cached) %12s  %5.1f%%\n", s->types[t].type,
               s->types[t].calls, s->types[t].cached, money_format(s->types[t].spend, m, sizeof m),
               s->spend > 0 ? 100.0 * (double)s->types[t].spend / (double)s->spend : 0);
}

int bench_cost(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"n", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bench_env env;
    struct cost_side ours, base;
    struct bench_figure figs[8];
    long n = 200;
    int nfig = 0, c, code = EXIT_DONE;
    bool json = false;
    char *cause = NULL, m1[32], m2[32];

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            if (bench_parse_long("cost", "--n", optarg, 10, 100000, &n) == -1)
                return EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench cost [--json] [--n STORIES]\n");
            return EXIT_DONE;
        default:
            cli_error("bench cost: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (bench_env_start(&env, "cost", &cause) == -1) {
        cli_error("bench cost: %s", cause);
        free(cause);
        return EXIT_UNREACHABLE;
    }
    if (cost_side(&env, n, false, &ours, &cause) == -1 ||
        cost_side(&env, n, true, &base, &cause) == -1) {
        cli_error("bench cost: %s", cause);
        free(cause);
        bench_env_stop(&env);
        return EXIT_UNREACHABLE;
    }
    bench_figure(&figs[nfig++], "cost per 1000 published stories", ours.per_story * 1000, "$",
                 "all PREMIUM, no savings", base.per_story * 1000, false);
    figs[nfig - 1].ratio = ours.per_story / base.per_story; /* ours / baseline, as the aim */
    bench_figure(&figs[nfig++], "cost ratio", ours.per_story / base.per_story, "x", "aim (at most)",
                 COST_AIM, true);
    bench_figure(&figs[nfig++], "QA pass rate", ours.pass_rate * 100, "%",
                 "all PREMIUM, no savings", base.pass_rate * 100, false);
    bench_figure(&figs[nfig++], "mean QA score, published", ours.mean_score, "of 10",
                 "all PREMIUM, no savings", base.mean_score, false);
    bench_figure(&figs[nfig++], "published", (double)ours.run.counts[BB_PUBLISHED_S], "stories",
                 "all PREMIUM, no savings", (double)base.run.counts[BB_PUBLISHED_S], false);
    bench_figure(&figs[nfig++], "model calls per story", (double)ours.calls / (double)n, "calls",
                 "all PREMIUM, no savings", (double)base.calls / (double)n, true);
    bench_figure(&figs[nfig++], "QA escalations to PREMIUM",
                 ours.judged > 0 ? 100.0 * (double)type_calls(&ours, "qa_escalation") /
                                       (double)type_calls(&ours, "quality_assurance")
                                 : 0,
                 "% of QA calls", NULL, 0, false);
    bench_figure(&figs[nfig++], "writer finals on PREMIUM",
                 (double)type_calls(&ours, "script_escalation"), "escalations", NULL, 0, false);
    if (!json) {
        printf("%ld wire stories through %s, sim at zero latency, --auto-approve\n"
               "ours: %s spent, %ld calls, %ld published; baseline: %s spent, %ld calls, %ld "
               "published\ncost ratio %.3f (aim: at most %.2f); QA passed %ld of %ld judged "
               "(baseline %ld of %ld), mean QA score of published %.2f (baseline %.2f)\n",
               n, COST_ROLES, money_format(ours.spend, m1, sizeof m1), ours.calls,
               ours.run.counts[BB_PUBLISHED_S], money_format(base.spend, m2, sizeof m2), base.calls,
               base.run.counts[BB_PUBLISHED_S], ours.per_story / base.per_story, COST_AIM,
               ours.passed, ours.judged, base.passed, base.judged, ours.mean_score,
               base.mean_score);
        print_types("ours", &ours);
        print_types("baseline", &base);
    }
    bench_report("cost", figs, nfig, json);
    bench_env_stop(&env);
    return code;
}
