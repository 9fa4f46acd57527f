/*
 * ctl_cost.c - the operator's ctl verbs for cost control: `ctl budget` (every agent and the
 * global budget: spent, reserved, limit, utilisation per window), `ctl budget AGENT [--set
 * daily=…,hourly=…,task=…,alert=…]`, `ctl budget requests [--all]`, `ctl budget grant ID
 * [--amount X]`, `ctl budget decline ID` (both audited by the engine) and `ctl usage [--by
 * agent|tier|model|task-type] [--since 6h|2d|YYYY-MM-DD]`. The engine (cost/budget.h,
 * cost/usage.h, cost/early_stop.h) does the work; this file parses, calls and prints, with
 * agent ids and other text from Redis made safe for the terminal. Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/text.h"
#include "cost/budget.h"
#include "cost/early_stop.h"
#include "cost/money.h"
#include "cost/usage.h"
#include "llm/cache.h"
#include "store/rlink.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *money_json(int64_t micro)
{
    char buf[MONEY_BUF];

    return json_string(money_format(micro, buf, sizeof buf));
}

/* {"spent", "spent_micro", "reserved", "reserved_micro", "limit", "limit_micro",
 * "utilisation"}: limit and utilisation null without a limit. */
static json_t *window_json(const struct budget_window *w)
{
    json_t *o = json_object();

    json_object_set_new(o, "spent", money_json(w->spent));
    json_object_set_new(o, "spent_micro", json_integer(w->spent));
    json_object_set_new(o, "reserved", money_json(w->reserved));
    json_object_set_new(o, "reserved_micro", json_integer(w->reserved));
    json_object_set_new(o, "limit", w->limit > 0 ? money_json(w->limit) : json_null());
    json_object_set_new(o, "limit_micro", w->limit > 0 ? json_integer(w->limit) : json_null());
    json_object_set_new(o, "utilisation",
                        w->limit > 0
                            ? json_real((double)(w->spent + w->reserved) / (double)w->limit)
                            : json_null());
    return o;
}

static void window_line(const char *who, const char *window, const struct budget_window *w)
{
    char s[MONEY_BUF], r[MONEY_BUF], l[MONEY_BUF], u[16];

    if (w->limit > 0)
        snprintf(u, sizeof u, "%.1f%%",
                 100.0 * (double)(w->spent + w->reserved) / (double)w->limit);
    else
        snprintf(u, sizeof u, "-");
    printf("%-24s %-6s %12s %12s %12s %8s\n", who, window, money_format(w->spent, s, sizeof s),
           money_format(w->reserved, r, sizeof r),
           w->limit > 0 ? money_format(w->limit, l, sizeof l) : "none", u);
}

/* `ctl budget [AGENT]`: one agent when name is not NULL. */
static int budget_show(struct cli *cli, bool json, const char *name)
{
    struct budget_options o;
    struct budget_window global;
    struct budget_row *rows;
    size_t n;
    char *cause = NULL, day[USAGE_DAY_LEN], hour[USAGE_HOUR_LEN];
    int64_t now = clock_wall_ms();
    struct rlink *l;
    int code = EXIT_DONE;
    bool found = name == NULL;

    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    budget_options_from_config(&o, cli->cfg);
    if (budget_status(l, &o, now, &rows, &n, &global, &cause) == -1) {
        code = ctl_failed(l, "budget", cause);
        rlink_free(l);
        return code;
    }
    usage_windows(now, day, hour);
    if (json) {
        json_t *doc = json_object(), *agents = json_array();

        json_object_set_new(doc, "time_ms", json_integer(now));
        json_object_set_new(doc, "day", json_string(day));
        json_object_set_new(doc, "hour", json_string(hour));
        json_object_set_new(doc, "global", json_pack("{s:o}", "day", window_json(&global)));
        for (size_t i = 0; i < n; i++) {
            if (name != NULL && strcmp(rows[i].agent, name) != 0)
                continue;
            found = true;
            json_array_append_new(
                agents,
                json_pack("{s:s%, s:o, s:o, s:o, s:f}", "agent", rows[i].agent,
                          strlen(rows[i].agent), "day", window_json(&rows[i].day), "hour",
                          window_json(&rows[i].hour), "task_limit",
                          rows[i].task_limit > 0 ? money_json(rows[i].task_limit) : json_null(),
                          "alert", (double)rows[i].alert_ppm / 1e6));
        }
        json_object_set_new(doc, "agents", agents);
        /* An agent asked for by name and not found: the document still comes, with no agents
         * in it, and the exit code says "refused". */
        cli_print_json(doc);
    } else {
        printf("%-24s %-6s %12s %12s %12s %8s\n", "AGENT", "WINDOW", "SPENT $", "RESERVED $",
               "LIMIT $", "USED");
        if (name == NULL)
            window_line("(global)", "day", &global);
        for (size_t i = 0; i < n; i++) {
            char *who, tl[MONEY_BUF];

            if (name != NULL && strcmp(rows[i].agent, name) != 0)
                continue;
            found = true;
            who = text_safe(rows[i].agent, 24);
            window_line(who, "day", &rows[i].day);
            window_line("", "hour", &rows[i].hour);
            printf("%-24s task limit %s, alert at %.0f%%\n", "",
                   rows[i].task_limit > 0 ? money_format(rows[i].task_limit, tl, sizeof tl)
                                          : "none",
                   (double)rows[i].alert_ppm / 1e4);
            free(who);
        }
        printf("windows: day %s, hour %s (UTC)\n", day, hour);
    }
    if (!found) {
        char *shown = text_safe(name, 64);

        cli_error("budget: no budget for agent \"%s\"", shown);
        free(shown);
        code = EXIT_REFUSED;
    }
    budget_rows_free(rows, n);
    rlink_free(l);
    return code;
}

/* The keys of --set: dollars, or the alert fraction. */
static const struct {
    const char *key;
    unsigned bit;
    bool ratio;
    size_t offset;
} set_keys[] = {
    {"daily", BUDGET_SET_DAILY, false, offsetof(struct budget_limits, daily)},
    {"hourly", BUDGET_SET_HOURLY, false, offsetof(struct budget_limits, hourly)},
    {"task", BUDGET_SET_TASK, false, offsetof(struct budget_limits, task)},
    {"alert", BUDGET_SET_ALERT, true, offsetof(struct budget_limits, alert_ppm)},
};

/* Parses "daily=5,hourly=0.5,...". Returns 0, or -1 after printing the key at fault. */
static int parse_set(const char *spec, struct budget_limits *lim, unsigned *mask)
{
    char *copy = strdup(spec), *save = NULL;
    int rc = 0;

    if (copy == NULL)
        return -1;
    *mask = 0;
    for (char *item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        const char *why = NULL;
        size_t k;
        int64_t v = 0;

        if (eq == NULL) {
            char *shown = text_safe(item, 40);

            cli_error("budget: --set \"%s\": expected KEY=VALUE (daily, hourly, task, alert)",
                      shown);
            free(shown);
            rc = -1;
            break;
        }
        *eq = '\0';
        for (k = 0; k < sizeof set_keys / sizeof set_keys[0]; k++)
            if (strcmp(item, set_keys[k].key) == 0)
                break;
        if (k == sizeof set_keys / sizeof set_keys[0]) {
            char *shown = text_safe(item, 40);

            cli_error("budget: --set: unknown key \"%s\" (daily, hourly, task, alert)", shown);
            free(shown);
            rc = -1;
        } else if ((set_keys[k].ratio ? money_parse_ratio(eq + 1, &v, &why)
                                      : money_parse(eq + 1, &v, &why)) == -1) {
            char *shown = text_safe(eq + 1, 40);

            cli_error("budget: --set %s: \"%s\" %s (%s)", item, shown, why,
                      set_keys[k].ratio ? "a fraction 0 to 1" : "dollars, e.g. 2.50; 0: no limit");
            free(shown);
            rc = -1;
        } else if (*mask & set_keys[k].bit) {
            cli_error("budget: --set: %s is given twice", item);
            rc = -1;
        } else {
            *(int64_t *)(void *)((char *)lim + set_keys[k].offset) = v;
            *mask |= set_keys[k].bit;
        }
    }
    if (rc == 0 && *mask == 0) {
        cli_error("budget: --set needs KEY=VALUE pairs (daily, hourly, task, alert)");
        rc = -1;
    }
    free(copy);
    return rc;
}

static int budget_agent(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"set", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    struct budget_limits lim = {0};
    const char *spec = NULL, *agent = argv[1];
    unsigned mask = 0;
    char *cause = NULL;
    struct rlink *l;
    int c, code = EXIT_DONE;

    /* getopt from the agent on (it stands where a program name would), restarted. */
    argc--;
    argv++;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":s:", opts, NULL)) != -1) {
        if (c != 's')
            return ctl_bad_option("budget", c, argc, argv);
        spec = optarg;
    }
    if (optind < argc) {
        char *shown = text_safe(argv[optind], 40);

        cli_error("budget: unexpected argument \"%s\"", shown);
        free(shown);
        return EXIT_USAGE;
    }
    if (budget_check_agent(agent, &cause) == -1) {
        cli_error("budget: %s", cause);
        free(cause);
        return EXIT_USAGE;
    }
    if (spec == NULL)
        return budget_show(cli, json, agent);
    if (parse_set(spec, &lim, &mask) == -1)
        return EXIT_USAGE;
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    if (budget_set_limits(l, agent, &lim, mask, &cause) == -1) {
        code = ctl_failed(l, "budget", cause);
        rlink_free(l);
        return code;
    }
    if (budget_get_limits(l, agent, &lim, &cause) == -1) {
        code = ctl_failed(l, "budget", cause);
        rlink_free(l);
        return code;
    }
    rlink_free(l);
    if (json) {
        cli_print_json(
            json_pack("{s:s, s:o, s:o, s:o, s:o}", "agent", agent, "daily",
                      lim.daily > 0 ? money_json(lim.daily) : json_null(), "hourly",
                      lim.hourly > 0 ? money_json(lim.hourly) : json_null(), "task",
                      lim.task > 0 ? money_json(lim.task) : json_null(), "alert",
                      lim.alert_ppm > 0 ? json_real((double)lim.alert_ppm / 1e6) : json_null()));
    } else {
        char d[MONEY_BUF], h[MONEY_BUF], t[MONEY_BUF];

        printf("budget of %s: daily %s, hourly %s, per task %s, alert at %s\n", agent,
               lim.daily > 0 ? money_format(lim.daily, d, sizeof d) : "none",
               lim.hourly > 0 ? money_format(lim.hourly, h, sizeof h) : "none",
               lim.task > 0 ? money_format(lim.task, t, sizeof t) : "none",
               lim.alert_ppm > 0 ? "its own threshold" : "the default threshold");
        if (lim.alert_ppm > 0)
            printf("alert threshold %.1f%%\n", (double)lim.alert_ppm / 1e4);
    }
    return EXIT_DONE;
}

static int budget_requests_verb(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    struct budget_request *reqs;
    struct rlink *l;
    size_t n;
    char *cause = NULL;
    bool all = false;
    int c, code = EXIT_DONE;

    argc--;
    argv++;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 'a')
            return ctl_bad_option("budget requests", c, argc, argv);
        all = true;
    }
    if (optind < argc) {
        cli_error("budget requests: unexpected argument");
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    if (budget_requests(l, !all, 1000, &reqs, &n, &cause) == -1) {
        code = ctl_failed(l, "budget requests", cause);
        rlink_free(l);
        return code;
    }
    if (json) {
        json_t *arr = json_array();

        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                arr, json_pack("{s:s, s:s%, s:s, s:s%, s:s, s:o, s:I, s:o, s:I, s:I, s:o}", "id",
                               reqs[i].id, "agent", reqs[i].agent, strlen(reqs[i].agent), "limit",
                               reqs[i].limit, "window", reqs[i].window, strlen(reqs[i].window),
                               "status", reqs[i].status, "needed", money_json(reqs[i].needed),
                               "needed_micro", (json_int_t)reqs[i].needed, "limit_value",
                               money_json(reqs[i].cap), "waiting", (json_int_t)reqs[i].waiting,
                               "time_ms", (json_int_t)reqs[i].time_ms, "granted",
                               strcmp(reqs[i].status, "granted") == 0 ? money_json(reqs[i].granted)
                                                                      : json_null()));
        cli_print_json(json_pack("{s:o}", "requests", arr));
    } else if (n == 0) {
        printf("no %sbudget requests\n", all ? "" : "open ");
    } else {
        printf("%-6s %-24s %-13s %-20s %-9s %12s %12s %8s\n", "ID", "AGENT", "LIMIT", "WINDOW",
               "STATUS", "NEEDED $", "LIMIT $", "WAITING");
        for (size_t i = 0; i < n; i++) {
            char *who = text_safe(reqs[i].agent, 24), *win = text_safe(reqs[i].window, 20);
            char need[MONEY_BUF], cap[MONEY_BUF];

            printf("%-6s %-24s %-13s %-20s %-9s %12s %12s %8lld\n", reqs[i].id, who, reqs[i].limit,
                   win, reqs[i].status, money_format(reqs[i].needed, need, sizeof need),
                   money_format(reqs[i].cap, cap, sizeof cap), reqs[i].waiting);
            free(who);
            free(win);
        }
    }
    budget_requests_free(reqs, n);
    rlink_free(l);
    return EXIT_DONE;
}

/* grant ID [--amount X] and decline ID. */
static int budget_decide_verb(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"amount", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    bool grant = strcmp(argv[1], "grant") == 0;
    const char *id = NULL, *why = NULL;
    int64_t amount = -1, granted = 0;
    char *cause = NULL, verb[32];
    struct rlink *l;
    int c, code = EXIT_DONE, rc;

    snprintf(verb, sizeof verb, "budget %s", argv[1]);
    argc--;
    argv++;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":a:", opts, NULL)) != -1) {
        if (c != 'a' || !grant)
            return ctl_bad_option(verb, c, argc, argv);
        if (money_parse(optarg, &amount, &why) == -1 || amount == 0) {
            char *shown = text_safe(optarg, 40);

            cli_error("%s: --amount \"%s\" %s", verb, shown,
                      why != NULL ? why : "must be more than 0");
            free(shown);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error("%s: which request? (one ID, from `newsroom ctl budget requests`)", verb);
        return EXIT_USAGE;
    }
    id = argv[optind];
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    rc = grant ? budget_grant(l, id, amount, &granted, &cause) : budget_decline(l, id, &cause);
    if (rc == -1) {
        code = ctl_failed(l, verb, cause);
        rlink_free(l);
        return code;
    }
    rlink_free(l);
    if (json) {
        cli_print_json(json_pack("{s:s, s:s, s:o}", "id", id, "status",
                                 grant ? "granted" : "declined", "granted",
                                 grant ? money_json(granted) : json_null()));
    } else if (grant) {
        char g[MONEY_BUF];

        printf("request %s granted: the limit is raised by %s for its window\n", id,
               money_format(granted, g, sizeof g));
    } else {
        printf("request %s declined\n", id);
    }
    return EXIT_DONE;
}

/* `ctl budget` and its sub-verbs: one row each. */
static const struct {
    const char *name;
    int (*run)(struct cli *, bool, int, char **);
} budget_verbs[] = {
    {"requests", budget_requests_verb},
    {"grant", budget_decide_verb},
    {"decline", budget_decide_verb},
};

int ctl_budget(struct cli *cli, bool json, int argc, char **argv)
{
    if (argc == 1)
        return budget_show(cli, json, NULL);
    if (argv[1][0] == '-') {
        char *shown = text_safe(argv[1], 40);

        cli_error("budget: unknown option %s (ctl budget [AGENT [--set K=V,...]] | requests | "
                  "grant ID | decline ID)",
                  shown);
        free(shown);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof budget_verbs / sizeof budget_verbs[0]; i++)
        if (strcmp(argv[1], budget_verbs[i].name) == 0)
            return budget_verbs[i].run(cli, json, argc, argv);
    return budget_agent(cli, json, argc, argv);
}

/* --since: "30m", "6h", "2d" back from now, or a UTC date "YYYY-MM-DD". Returns 0 or -1. */
static int parse_since(const char *s, int64_t now, int64_t *out)
{
    static const struct {
        char unit;
        int64_t ms;
    } units[] = {{'m', 60000}, {'h', 3600000}, {'d', 86400000}};
    struct tm tm = {0};
    char *end;
    long long v;

    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        int y, mo, d;
        char tail;

        if (sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || mo < 1 || mo > 12 || d < 1 ||
            d > 31 || y < 1970)
            return -1;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        *out = (int64_t)timegm(&tm) * 1000;
        return *out <= now ? 0 : -1;
    }
    v = strtoll(s, &end, 10);
    if (end == s || v <= 0 || v > 100000 || end[0] == '\0' || end[1] != '\0')
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (*end == units[i].unit) {
            *out = now - v * units[i].ms;
            return 0;
        }
    return -1;
}

int ctl_usage_report(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"by", required_argument, NULL, 'b'},
        {"since", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    enum usage_dim dim = USAGE_BY_AGENT;
    int64_t now = clock_wall_ms(), since = now - now % 86400000;
    struct early_stop_stats es;
    struct llm_cache_stats cs;
    struct llm_cache *cache;
    struct usage_sum *rows;
    size_t n;
    char *cause = NULL;
    struct rlink *l;
    int c, code = EXIT_DONE;

    while ((c = getopt_long(argc, argv, ":b:s:", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (usage_dim_parse(optarg, &dim) == -1) {
                char *shown = text_safe(optarg, 40);

                cli_error("usage: --by \"%s\": one of all, agent, tier, model, task-type", shown);
                free(shown);
                return EXIT_USAGE;
            }
            break;
        case 's':
            if (parse_since(optarg, now, &since) == -1) {
                char *shown = text_safe(optarg, 40);

                cli_error("usage: --since \"%s\": a span back from now (30m, 6h, 2d) or a past "
                          "UTC date YYYY-MM-DD",
                          shown);
                free(shown);
                return EXIT_USAGE;
            }
            break;
        default:
            return ctl_bad_option("usage", c, argc, argv);
        }
    }
    if (optind < argc) {
        cli_error("usage: unexpected argument");
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    cache = llm_cache_new(l, 0);
    if (usage_sums(l, dim, since, now, &rows, &n, &cause) == -1 ||
        early_stop_stats(l, &es, &cause) == -1 || llm_cache_stats(cache, &cs, &cause) == -1) {
        code = ctl_failed(l, "usage", cause);
        llm_cache_free(cache);
        rlink_free(l);
        return code;
    }
    llm_cache_free(cache);
    if (json) {
        json_t *arr = json_array();

        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                arr, json_pack("{s:s%, s:I, s:o, s:I, s:I, s:I, s:I}", "name", rows[i].name,
                               strlen(rows[i].name), "calls", (json_int_t)rows[i].calls, "cost",
                               money_json(rows[i].cost), "cost_micro", (json_int_t)rows[i].cost,
                               "prompt_tokens", (json_int_t)rows[i].prompt_tokens,
                               "completion_tokens", (json_int_t)rows[i].completion_tokens, "cached",
                               (json_int_t)rows[i].cached));
        cli_print_json(json_pack(
            "{s:s, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:o}, s:{s:I, s:I, s:f}}", "by",
            usage_dim_name(dim), "since_ms", (json_int_t)since, "until_ms", (json_int_t)now, "rows",
            arr, "early_stop", "low_quality", (json_int_t)es.low_quality, "good_enough",
            (json_int_t)es.good_enough, "calls_saved", (json_int_t)es.calls_saved, "saved",
            money_json(es.saved), "cache", "hits", (json_int_t)cs.hits, "misses",
            (json_int_t)cs.misses, "hit_rate", cs.hit_rate));
    } else {
        char from[32], cost[MONEY_BUF], saved[MONEY_BUF];

        printf("usage by %s since %s UTC\n", usage_dim_name(dim),
               text_utc(since, from, sizeof from));
        printf("%-32s %8s %12s %12s %12s %8s\n", "NAME", "CALLS", "COST $", "PROMPT", "COMPLETION",
               "CACHED");
        for (size_t i = 0; i < n; i++) {
            char *name = text_safe(*rows[i].name != '\0' ? rows[i].name : "(all)", 32);

            printf("%-32s %8lld %12s %12lld %12lld %8lld\n", name, (long long)rows[i].calls,
                   money_format(rows[i].cost, cost, sizeof cost), (long long)rows[i].prompt_tokens,
                   (long long)rows[i].completion_tokens, (long long)rows[i].cached);
            free(name);
        }
        if (n == 0)
            printf("(no usage in this span)\n");
        printf("early stops: %lld low quality, %lld good enough; %lld calls saved, about $%s\n",
               (long long)es.low_quality, (long long)es.good_enough, (long long)es.calls_saved,
               money_format(es.saved, saved, sizeof saved));
        printf("response cache: %lld hits, %lld misses, hit rate %.1f%% (all time)\n", cs.hits,
               cs.misses, cs.hit_rate * 100.0);
    }
    usage_sums_free(rows, n);
    rlink_free(l);
    return EXIT_DONE;
}
