/*
 * trace_view.c - a trace's events merged into a readable tree; see trace_view.h. Pure.
 */
#include "observe/trace_view.h"

#include "core/fail.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VIEW_DEPTH_MAX 16

struct node {
    struct trace_obs o;
    char id[64], parent[64];
    size_t seq; /* order of first appearance, to keep ties stable */
    long up;    /* the parent's index, -1 at the top */
    bool placed;
};

int64_t trace_view_time(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, ms = 0, n = 0;

    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return 0;
    if (s[n] == '.') {
        int digits = 0;

        for (const char *p = s + n + 1; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        while (digits++ < 3)
            ms *= 10;
    }
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? s : "";
}

static void set_str(char **field, const char *v)
{
    if (v == NULL || *v == '\0')
        return;
    free(*field);
    *field = xstrdup(v);
}

/* *text followed by sep (when *text is not empty) and part. */
static void append(char **text, const char *sep, const char *part)
{
    char *next;

    if (part == NULL || *part == '\0')
        return;
    next = xasprintf("%s%s%s", *text, **text != '\0' ? sep : "", part);
    free(*text);
    *text = next;
}

/* What a decision, vote or verdict said, from its output, in one line. */
static char *event_detail(const json_t *out)
{
    static const char *const firsts[] = {"decision", "vote", "type"};
    char *text = xstrdup(""), num[64];
    const json_t *v;

    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++)
        append(&text, " ", str(out, firsts[i]));
    if (json_is_number(v = json_object_get(out, "score"))) {
        snprintf(num, sizeof num, "score %.3g", json_number_value(v));
        append(&text, " ", num);
    }
    if (json_is_number(v = json_object_get(out, "threshold"))) {
        snprintf(num, sizeof num, "(threshold %.2g)", json_number_value(v));
        append(&text, " ", num);
    }
    if (json_is_number(v = json_object_get(out, "improvement"))) {
        snprintf(num, sizeof num, "improvement %+.3f%s", json_number_value(v),
                 json_is_false(json_object_get(out, "kept")) ? " (not kept)" : "");
        append(&text, " ", num);
    }
    if (json_is_number(v = json_object_get(out, "confidence"))) {
        snprintf(num, sizeof num, "confidence %.2f", json_number_value(v));
        append(&text, " ", num);
    }
    if (*str(out, "reasoning") != '\0')
        append(&text, ": ", str(out, "reasoning"));
    else if (*str(out, "reason") != '\0')
        append(&text, ": ", str(out, "reason"));
    return text;
}

static struct node *find_node(struct node *nodes, size_t n, const char *id)
{
    for (size_t i = 0; id[0] != '\0' && i < n; i++)
        if (strcmp(nodes[i].id, id) == 0)
            return &nodes[i];
    return NULL;
}

static void merge(struct node *nd, const char *type, const json_t *body, const char *ts)
{
    const json_t *meta = json_object_get(body, "metadata"), *u, *c;
    const char *lvl = str(body, "level");

    set_str(&nd->o.name, str(body, "name"));
    set_str(&nd->o.agent, str(meta, "agent"));
    set_str(&nd->o.role, str(meta, "role"));
    set_str(&nd->o.model, str(body, "model"));
    if (*str(body, "parentObservationId") != '\0')
        snprintf(nd->parent, sizeof nd->parent, "%s", str(body, "parentObservationId"));
    if (trace_view_time(str(body, "startTime")) > 0)
        nd->o.start_ms = trace_view_time(str(body, "startTime"));
    if (trace_view_time(str(body, "endTime")) > 0)
        nd->o.end_ms = trace_view_time(str(body, "endTime"));
    if (nd->o.start_ms == 0)
        nd->o.start_ms = trace_view_time(ts);
    if (strcmp(lvl, "ERROR") == 0) {
        nd->o.error = true;
        set_str(&nd->o.detail, str(body, "statusMessage"));
    }
    if (strcmp(type, "event-create") == 0) {
        char *d = event_detail(json_object_get(body, "output"));

        set_str(&nd->o.detail, d);
        free(d);
    }
    u = json_object_get(body, "usageDetails");
    if (!json_is_object(u))
        u = json_object_get(body, "usage");
    if (json_is_object(u)) {
        nd->o.tokens_in = (int)json_integer_value(json_object_get(u, "input"));
        nd->o.tokens_out = (int)json_integer_value(json_object_get(u, "output"));
    }
    if (json_is_integer(json_object_get(meta, "cost_micro_usd")))
        nd->o.cost = (int64_t)json_integer_value(json_object_get(meta, "cost_micro_usd"));
    else if (json_is_object(c = json_object_get(body, "costDetails")))
        nd->o.cost = (int64_t)llround(json_number_value(json_object_get(c, "total")) * 1e6);
}

/* Appends the children of parent (NULL: the roots) in time order, depth first. */
static void place(struct node *nodes, size_t n, const struct node *parent, int depth,
                  struct trace_view *v)
{
    for (;;) {
        struct node *next = NULL;

        for (size_t i = 0; i < n; i++) {
            struct node *nd = &nodes[i];
            bool mine = parent == NULL ? nd->up < 0 : nd->up == parent - nodes;

            if (nd->placed || !mine)
                continue;
            if (next == NULL || nd->o.start_ms < next->o.start_ms ||
                (nd->o.start_ms == next->o.start_ms && nd->seq < next->seq))
                next = nd;
        }
        if (next == NULL)
            return;
        next->placed = true;
        next->o.depth = depth;
        v->obs[v->nobs++] = next->o;
        memset(&next->o, 0, sizeof next->o); /* the view owns its strings now */
        if (depth < VIEW_DEPTH_MAX)
            place(nodes, n, next, depth + 1, v);
    }
}

static void add_step(struct trace_view *v, const struct trace_obs *o)
{
    size_t i;

    for (i = 0; i < v->nsteps && strcmp(v->steps[i].step, o->name) != 0; i++)
        ;
    if (i == v->nsteps) {
        v->steps = xrealloc(v->steps, (v->nsteps + 1) * sizeof *v->steps);
        memset(&v->steps[i], 0, sizeof v->steps[i]);
        v->steps[i].step = xstrdup(o->name);
        v->nsteps++;
    }
    v->steps[i].calls++;
    v->steps[i].tokens += o->tokens_in + o->tokens_out;
    v->steps[i].cost += o->cost;
}

static int by_cost(const void *a, const void *b)
{
    const struct trace_step_cost *x = a, *y = b;

    return (x->cost < y->cost) - (x->cost > y->cost);
}

int trace_view_build(const json_t *events, const char *id, struct trace_view *out)
{
    size_t n = json_array_size(events), nn = 0, i;
    struct node *nodes = xcalloc(n + 1, sizeof *nodes);
    const json_t *e;

    memset(out, 0, sizeof *out);
    out->id = xstrdup(id);
    json_array_foreach(events, i, e)
    {
        const char *type = str(e, "type"), *ts = str(e, "timestamp");
        const json_t *body = json_object_get(e, "body");
        int64_t t = trace_view_time(ts);
        struct node *nd;

        if (!json_is_object(body))
            continue;
        if (t > 0 && (out->first_ms == 0 || t < out->first_ms))
            out->first_ms = t;
        if (t > out->last_ms)
            out->last_ms = t;
        if (strcmp(type, "trace-create") == 0) {
            const json_t *in = json_object_get(body, "input"), *o = json_object_get(body, "output");

            set_str(&out->name, str(body, "name"));
            set_str(&out->title, str(in, "title"));
            set_str(&out->source, str(in, "source"));
            set_str(&out->status, str(o, "status"));
            set_str(&out->reason, str(o, "reason"));
            continue;
        }
        nd = find_node(nodes, nn, str(body, "id"));
        if (nd == NULL) {
            nd = &nodes[nn];
            nd->seq = nn++;
            snprintf(nd->id, sizeof nd->id, "%s", str(body, "id"));
            nd->o.kind = strncmp(type, "generation", 10) == 0 ? TRACE_GENERATION
                         : strncmp(type, "span", 4) == 0      ? TRACE_SPAN
                         : strcmp(type, "score-create") == 0  ? TRACE_SCORE
                                                              : TRACE_EVENT;
        }
        if (nd->o.kind == TRACE_SCORE) {
            char d[64];
            const json_t *val = json_object_get(body, "value");

            set_str(&nd->o.name, str(body, "name"));
            snprintf(nd->parent, sizeof nd->parent, "%s", str(body, "observationId"));
            snprintf(d, sizeof d, "%.3g", json_number_value(val));
            free(nd->o.detail);
            nd->o.detail = *str(body, "comment") != '\0'
                               ? xasprintf("%s: %s", d, str(body, "comment"))
                               : xstrdup(d);
            set_str(&nd->o.agent, str(json_object_get(body, "metadata"), "agent"));
            nd->o.start_ms = t;
        } else {
            merge(nd, type, body, ts);
        }
    }
    if (nn == 0 && out->name == NULL) {
        free(nodes);
        trace_view_free(out);
        return -1;
    }
    for (i = 0; i < nn; i++) {
        struct node *p = find_node(nodes, nn, nodes[i].parent);

        nodes[i].up = p == NULL || p == &nodes[i] ? -1 : (long)(p - nodes);
    }
    out->obs = xcalloc(nn + 1, sizeof *out->obs);
    place(nodes, nn, NULL, 0, out);
    for (i = 0; i < nn; i++) /* anything in a cycle of parents comes last, at the top */
        if (!nodes[i].placed) {
            nodes[i].o.depth = 0;
            out->obs[out->nobs++] = nodes[i].o;
            memset(&nodes[i].o, 0, sizeof nodes[i].o);
        }
    for (i = 0; i < out->nobs; i++) {
        struct trace_obs *o = &out->obs[i];

        /* Strings are never NULL in a view. */
        char **fields[] = {&o->name, &o->agent, &o->role, &o->model, &o->detail};

        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
            if (*fields[k] == NULL)
                *fields[k] = xstrdup("");
        if (o->kind != TRACE_GENERATION)
            continue;
        out->calls++;
        out->tokens_in += o->tokens_in;
        out->tokens_out += o->tokens_out;
        out->cost += o->cost;
        add_step(out, o);
    }
    if (out->nsteps > 0)
        qsort(out->steps, out->nsteps, sizeof *out->steps, by_cost);
    {
        char **fields[] = {&out->name, &out->title, &out->source, &out->status, &out->reason};

        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
            if (*fields[k] == NULL)
                *fields[k] = xstrdup("");
    }
    free(nodes);
    return 0;
}

void trace_view_free(struct trace_view *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->nobs; i++) {
        free(v->obs[i].name);
        free(v->obs[i].agent);
        free(v->obs[i].role);
        free(v->obs[i].model);
        free(v->obs[i].detail);
    }
    free(v->obs);
    for (size_t i = 0; i < v->nsteps; i++)
        free(v->steps[i].step);
    free(v->steps);
    free(v->id);
    free(v->name);
    free(v->title);
    free(v->source);
    free(v->status);
    free(v->reason);
    memset(v, 0, sizeof *v);
}
