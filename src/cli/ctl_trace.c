/*
 * ctl_trace.c - the traces' ctl verbs: `trace ID` (a story's whole trace in the terminal, from
 * the events kept in Redis: each stage, agent task, model call with model, tokens, cost and
 * time, each decision with its reasoning, each score; the totals and the cost by step),
 * `traces` (the newest traces) and `traces replay FILE` (the JSON Lines file the exporter
 * writes without Langfuse keys, sent to Langfuse batch by batch). Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/text.h"
#include "observe/langfuse.h"
#include "observe/trace_store.h"
#include "observe/trace_view.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACES_LIMIT_DEFAULT 20
#define TRACES_LIMIT_MAX     1000
#define DETAIL_MAX           240

static const char *const kind_names[] = {"span", "generation", "event", "score"};

/* "$0.004210" for micro-dollars. */
static const char *dollars(int64_t micro, char *buf, size_t size)
{
    snprintf(buf, size, "%s$%lld.%06lld", micro < 0 ? "-" : "",
             (long long)(micro < 0 ? -micro : micro) / 1000000,
             (long long)(micro < 0 ? -micro : micro) % 1000000);
    return buf;
}

static const char *seconds(int64_t ms, char *buf, size_t size)
{
    if (ms <= 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.2fs", (double)ms / 1000.0);
    return buf;
}

static void print_view(const struct trace_view *v)
{
    char a[32], b[32], c[32];
    char *s;

    s = text_safe(v->id, 0);
    printf("trace     %s\n", s);
    free(s);
    if (v->title[0] != '\0') {
        s = text_safe(v->title, 0);
        printf("title     %s\n", s);
        free(s);
    }
    if (v->source[0] != '\0') {
        s = text_safe(v->source, 0);
        printf("source    %s\n", s);
        free(s);
    }
    s = text_safe(v->status[0] != '\0' ? v->status : v->name, 0);
    printf("status    %s%s", s, v->status[0] != '\0' ? "" : " (running)");
    free(s);
    if (v->reason[0] != '\0') {
        s = text_safe(v->reason, 300);
        printf(": %s", s);
        free(s);
    }
    printf("\ntime      %s to %s (%s)\n", text_utc(v->first_ms, a, sizeof a),
           text_utc(v->last_ms, b, sizeof b), seconds(v->last_ms - v->first_ms, c, sizeof c));
    printf("cost      %s in %d model call%s, %d tokens (%d prompt, %d completion)\n\n",
           dollars(v->cost, a, sizeof a), v->calls, v->calls == 1 ? "" : "s",
           v->tokens_in + v->tokens_out, v->tokens_in, v->tokens_out);
    printf("%-44s %-32s %-16s %11s %10s %8s\n", "STEP", "AGENT", "MODEL", "TOKENS", "COST", "TIME");
    for (size_t i = 0; i < v->nobs; i++) {
        const struct trace_obs *o = &v->obs[i];
        char label[64], tokens[32] = "", cost[32] = "", dur[32] = "";
        char *name = text_safe(o->name, 40), *agent = text_safe(o->agent, 32),
             *model = text_safe(o->model, 16);
        int indent = o->depth * 2 > 20 ? 20 : o->depth * 2;

        snprintf(label, sizeof label, "%*s%s", indent, "", name);
        if (o->kind == TRACE_SCORE) /* the value; its comment repeats the line above */
            snprintf(label, sizeof label, "%*sscore %s = %.*s", indent, "", name,
                     (int)strcspn(o->detail, ":"), o->detail);
        if (o->kind == TRACE_GENERATION) {
            snprintf(tokens, sizeof tokens, "%d/%d", o->tokens_in, o->tokens_out);
            dollars(o->cost, cost, sizeof cost);
        }
        if ((o->kind == TRACE_SPAN || o->kind == TRACE_GENERATION) && o->end_ms > 0)
            seconds(o->end_ms - o->start_ms, dur, sizeof dur);
        printf("%-44s %-32s %-16s %11s %10s %8s%s\n", label, agent, model, tokens, cost, dur,
               o->error ? "  ERROR" : "");
        if (o->detail[0] != '\0' && o->kind != TRACE_SCORE) {
            char *d = text_safe(o->detail, DETAIL_MAX);

            printf("%*s  %s\n", indent, "", d);
            free(d);
        }
        free(name);
        free(agent);
        free(model);
    }
    if (v->nsteps > 0) {
        printf("\ncost by step\n");
        for (size_t i = 0; i < v->nsteps; i++) {
            char *step = text_safe(v->steps[i].step, 40);

            printf("  %-28s %3d call%s %8d tokens %12s %5.1f%%\n", step, v->steps[i].calls,
                   v->steps[i].calls == 1 ? " " : "s", v->steps[i].tokens,
                   dollars(v->steps[i].cost, a, sizeof a),
                   v->cost > 0 ? 100.0 * (double)v->steps[i].cost / (double)v->cost : 0.0);
            free(step);
        }
    }
}

static json_t *view_json(const struct trace_view *v, json_t *events)
{
    json_t *steps = json_array(), *obs = json_array();

    for (size_t i = 0; i < v->nsteps; i++)
        json_array_append_new(steps,
                              json_pack("{s:s, s:i, s:i, s:I}", "step", v->steps[i].step, "calls",
                                        v->steps[i].calls, "tokens", v->steps[i].tokens,
                                        "cost_micro_usd", (json_int_t)v->steps[i].cost));
    for (size_t i = 0; i < v->nobs; i++) {
        const struct trace_obs *o = &v->obs[i];

        json_array_append_new(
            obs, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:i, s:i, s:I}",
                           "kind", kind_names[o->kind], "depth", o->depth, "name", o->name, "agent",
                           o->agent, "role", o->role, "model", o->model, "detail", o->detail,
                           "error", o->error, "start_ms", (json_int_t)o->start_ms, "end_ms",
                           (json_int_t)o->end_ms, "tokens_in", o->tokens_in, "tokens_out",
                           o->tokens_out, "cost_micro_usd", (json_int_t)o->cost));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:i, s:I, s:o, s:o, "
                     "s:o}",
                     "id", v->id, "name", v->name, "title", v->title, "source", v->source, "status",
                     v->status, "reason", v->reason, "first_ms", (json_int_t)v->first_ms, "last_ms",
                     (json_int_t)v->last_ms, "calls", v->calls, "tokens_in", v->tokens_in,
                     "tokens_out", v->tokens_out, "cost_micro_usd", (json_int_t)v->cost, "steps",
                     steps, "observations", obs, "events", events);
}

/* A story ingested by ctl has no scout to give its trace a title: the blackboard has it. */
static void title_from_story(struct rlink *l, struct trace_view *v)
{
    struct bb *b;
    struct bb_item *it = NULL;
    char *cause = NULL;

    if (v->title[0] != '\0')
        return;
    b = bb_new(l, "ctl");
    if (bb_read(b, v->id, &it, &cause) == BB_OK) {
        const char *title = json_string_value(json_object_get(it->body, "title"));
        const char *source = json_string_value(json_object_get(it->body, "source"));

        free(v->title);
        v->title = xstrdup(title != NULL ? title : "");
        if (v->source[0] == '\0' && source != NULL) {
            free(v->source);
            v->source = xstrdup(source);
        }
    }
    free(cause);
    bb_item_free(it);
    bb_free(b);
}

int ctl_trace(struct cli *cli, bool json, int argc, char **argv)
{
    struct trace_view v;
    struct rlink *l;
    json_t *events = NULL;
    char *cause = NULL;
    int code = EXIT_DONE;

    if (argc != 2 || argv[1][0] == '-' || strlen(argv[1]) >= TRACE_ID_MAX) {
        cli_error("usage: newsroom ctl trace ID [--json]");
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    if (trace_store_get(l, argv[1], &events, &cause) == -1) {
        code = ctl_failed(l, "trace", cause);
    } else if (trace_view_build(events, argv[1], &v) == -1) {
        char *id = text_safe(argv[1], 200);

        cli_error("ctl trace: no trace \"%s\" (traces are kept %d day%s, and only while "
                  "[observe] tracing is on)",
                  id, cli->cfg->trace_keep_days, cli->cfg->trace_keep_days == 1 ? "" : "s");
        free(id);
        code = EXIT_REFUSED;
    } else {
        title_from_story(l, &v);
        if (json) {
            cli_print_json(view_json(&v, events));
            events = NULL;
        } else {
            print_view(&v);
        }
        trace_view_free(&v);
    }
    json_decref(events);
    rlink_free(l);
    return code;
}

/* ---- traces replay FILE ---- */

static void replay_error(const char *id, long status, const char *message, void *arg)
{
    long line = *(const long *)arg;
    char *m = text_safe(message, 300);

    cli_error("traces replay: line %ld: Langfuse refused event %s: %ld %s", line, id, status, m);
    free(m);
}

static int replay(struct cli *cli, bool json, const char *path)
{
    const struct config *c = cli->cfg;
    struct langfuse *lf;
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, batches = 0, bad = 0, failed = 0;
    long long events = 0, delivered = 0, rejected = 0;

    if (c->langfuse_public_key[0] == '\0' || c->langfuse_secret_key[0] == '\0') {
        cli_error("traces replay: no Langfuse keys: set LANGFUSE_PUBLIC_KEY and "
                  "LANGFUSE_SECRET_KEY (and LANGFUSE_HOST)");
        return EXIT_USAGE;
    }
    if ((f = fopen(path, "r")) == NULL) {
        char *p = text_safe(path, 300);

        cli_error("traces replay: %s: %s", p, strerror(errno));
        free(p);
        return EXIT_USAGE;
    }
    lf = langfuse_new(c->langfuse_host, c->langfuse_public_key, c->langfuse_secret_key,
                      c->trace_timeout_ms);
    while ((len = getline(&line, &cap, f)) != -1) {
        struct langfuse_delivery d;
        json_t *batch;
        size_t n;

        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        batch = json_loadb(line, (size_t)len, 0, NULL);
        n = json_array_size(json_object_get(batch, "batch"));
        if (!json_is_array(json_object_get(batch, "batch")) || (size_t)len > LANGFUSE_BATCH_LIMIT) {
            cli_error("traces replay: line %ld: not a {\"batch\": [...]} object of at most %d "
                      "bytes",
                      lineno, LANGFUSE_BATCH_LIMIT);
            bad++;
            json_decref(batch);
            continue;
        }
        json_decref(batch);
        batches++;
        events += (long long)n;
        switch (langfuse_deliver(lf, line, c->trace_retries, 250, 30000, NULL, NULL, replay_error,
                                 &lineno, &d)) {
        case LANGFUSE_SENT:
            delivered += (long long)n;
            rejected += (long long)d.errors;
            break;
        case LANGFUSE_REJECTED:
        case LANGFUSE_GAVE_UP: {
            char *why = text_safe(d.why, 300);

            cli_error("traces replay: line %ld: %zu event(s) not delivered after %d attempt%s: %s",
                      lineno, n, d.attempts, d.attempts == 1 ? "" : "s", why);
            free(why);
            failed++;
            break;
        }
        }
    }
    free(line);
    fclose(f);
    langfuse_free(lf);
    if (json) {
        cli_print_json(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "batches", (json_int_t)batches,
                                 "events", (json_int_t)events, "delivered", (json_int_t)delivered,
                                 "rejected", (json_int_t)rejected, "failed_lines",
                                 (json_int_t)failed, "bad_lines", (json_int_t)bad));
    } else {
        printf("replayed %ld batch%s (%lld events): %lld delivered, %lld refused by Langfuse, "
               "%ld line%s failed, %ld bad\n",
               batches, batches == 1 ? "" : "es", events, delivered, rejected, failed,
               failed == 1 ? "" : "s", bad);
    }
    return bad > 0 || failed > 0 || rejected > 0 ? EXIT_REFUSED : EXIT_DONE;
}

int ctl_traces(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct rlink *l;
    json_t *list = NULL, *o;
    long limit = TRACES_LIMIT_DEFAULT;
    char *cause = NULL, *end;
    size_t i;
    int c, code = EXIT_DONE;

    if (argc >= 2 && strcmp(argv[1], "replay") == 0) {
        if (argc != 3) {
            cli_error("usage: newsroom ctl traces replay FILE [--json]");
            return EXIT_USAGE;
        }
        return replay(cli, json, argv[2]);
    }
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 'l')
            return ctl_bad_option("traces", c, argc, argv);
        errno = 0;
        limit = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || errno != 0 || limit < 1 ||
            limit > TRACES_LIMIT_MAX) {
            cli_error("traces: --limit \"%s\" is not a number from 1 to %d", optarg,
                      TRACES_LIMIT_MAX);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("usage: newsroom ctl traces [--limit N] | replay FILE");
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    if (trace_store_list(l, (size_t)limit, &list, &cause) == -1) {
        code = ctl_failed(l, "traces", cause);
        rlink_free(l);
        return code;
    }
    /* Each trace's name, status, calls and cost: one read of its events. */
    json_array_foreach(list, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        json_t *events = NULL;
        struct trace_view v;

        if (trace_store_get(l, id, &events, &cause) == -1) {
            code = ctl_failed(l, "traces", cause);
            json_decref(list);
            rlink_free(l);
            return code;
        }
        if (trace_view_build(events, id, &v) == 0) {
            json_object_set_new(o, "name", json_string(v.name));
            json_object_set_new(o, "status", json_string(v.status));
            json_object_set_new(o, "calls", json_integer(v.calls));
            json_object_set_new(o, "cost_micro_usd", json_integer(v.cost));
            json_object_set_new(o, "events", json_integer((json_int_t)json_array_size(events)));
            trace_view_free(&v);
        }
        json_decref(events);
    }
    if (json) {
        cli_print_json(list);
    } else {
        printf("%-40s %-20s %-12s %6s %11s %s\n", "TRACE", "LAST EVENT", "STAGE", "CALLS", "COST",
               "EVENTS");
        json_array_foreach(list, i, o)
        {
            char when[32], cost[32];
            const char *st = json_string_value(json_object_get(o, "status"));
            char *id = text_safe(json_string_value(json_object_get(o, "id")), 40);
            char *stage = text_safe(
                st != NULL && *st != '\0' ? st : json_string_value(json_object_get(o, "name")), 12);

            printf("%-40s %-20s %-12s %6lld %11s %lld\n", id,
                   text_utc(json_integer_value(json_object_get(o, "last_ms")), when, sizeof when),
                   stage, json_integer_value(json_object_get(o, "calls")),
                   dollars(json_integer_value(json_object_get(o, "cost_micro_usd")), cost,
                           sizeof cost),
                   json_integer_value(json_object_get(o, "events")));
            free(id);
            free(stage);
        }
        json_decref(list);
    }
    rlink_free(l);
    return code;
}
