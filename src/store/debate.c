/*
 * debate.c - debates; see debate.h for the model and the keys. Every change is one Lua script
 * (src/store/scripts/debate_*.lua, preceded by lib/debate_lib.lua), so this file builds
 * arguments, reads replies and computes the consensus. Nothing here is shared between threads:
 * every call runs on the thread of the caller's link.
 */
#include "store/debate.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "store/blackboard.h"
#include "store/bus.h"
#include "store/lua_scripts.h"
#include "store/message.h"
#include "store/rlink.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many of the oldest open debates a seat or a moderator looks at. */
#define DEBATE_SCAN 200

static const char *const vote_names[] = {
    [DEBATE_FOR] = "for",
    [DEBATE_AGAINST] = "against",
    [DEBATE_ABSTAIN] = "abstain",
};

const char *debate_vote_name(enum debate_vote_kind v)
{
    if ((int)v < 0 || (size_t)v >= sizeof vote_names / sizeof vote_names[0])
        return "?";
    return vote_names[v];
}

int debate_vote_parse(const char *name, enum debate_vote_kind *out)
{
    for (size_t i = 0; name != NULL && i < sizeof vote_names / sizeof vote_names[0]; i++)
        if (strcmp(name, vote_names[i]) == 0) {
            *out = (enum debate_vote_kind)i;
            return 0;
        }
    return -1;
}

void debate_options_default(struct debate_options *o)
{
    o->panel = 3;
    o->quorum = 2;
    o->threshold = 0.6;
    o->deadline_ms = 60000;
    o->settle_early = true;
    o->reopen_closed = false;
    o->priority = 0;
}

void debate_options_from(struct debate_options *o, const struct config *c)
{
    o->panel = c->debate_panel;
    o->quorum = c->debate_quorum < c->debate_panel ? c->debate_quorum : c->debate_panel;
    o->threshold = (double)c->debate_threshold_ppm / 1e6;
    o->deadline_ms = c->debate_deadline_s * 1000;
    o->settle_early = true;
    o->reopen_closed = false;
    o->priority = 0;
}

void debate_clear(struct debate *d)
{
    if (d == NULL)
        return;
    free(d->title);
    free(d->summary);
    free(d->brief);
    free(d->reason);
    for (size_t i = 0; i < d->nvotes; i++)
        free(d->votes[i].reasoning);
    free(d->votes);
    memset(d, 0, sizeof *d);
}

void debate_list_free(struct debate *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        debate_clear(&list[i]);
    free(list);
}

json_t *debate_to_json(const struct debate *d)
{
    json_t *o = json_object(), *votes = json_array();
    struct consensus c;

    for (size_t i = 0; i < d->nvotes; i++)
        json_array_append_new(votes,
                              json_pack("{s:s, s:s, s:f, s:s, s:I}", "agent", d->votes[i].agent,
                                        "vote", debate_vote_name(d->votes[i].vote), "confidence",
                                        d->votes[i].confidence, "reasoning", d->votes[i].reasoning,
                                        "t_ms", (json_int_t)d->votes[i].t_ms));
    debate_consensus(d, &c);
    json_object_set_new(o, "id", json_string(d->id));
    json_object_set_new(o, "title", json_string(d->title));
    json_object_set_new(o, "summary", json_string(d->summary));
    json_object_set_new(o, "by", json_string(d->by));
    json_object_set_new(o, "state", json_string(d->open ? "open" : "closed"));
    json_object_set_new(o, "opened_ms", json_integer(d->opened_ms));
    json_object_set_new(o, "deadline_ms", json_integer(d->deadline_ms));
    json_object_set_new(o, "started_ms", json_integer(d->started_ms));
    json_object_set_new(o, "paused_ms", json_integer(d->paused_ms));
    json_object_set_new(o, "panel", json_integer(d->panel));
    json_object_set_new(o, "quorum", json_integer(d->quorum));
    json_object_set_new(o, "threshold", json_real(d->threshold));
    json_object_set_new(o, "seats", json_integer(d->seats));
    json_object_set_new(o, "votes", votes);
    json_object_set_new(o, "consensus",
                        json_pack("{s:f, s:b, s:b, s:i, s:i, s:i, s:i, s:s}", "score", c.score,
                                  "quorum_met", c.quorum_met, "reached", c.reached, "votes",
                                  c.votes, "for", c.n_for, "against", c.n_against, "abstain",
                                  c.n_abstain, "reason", c.reason));
    if (d->open) {
        json_object_set_new(o, "outcome", json_null());
        json_object_set_new(o, "lease",
                            d->lease[0] != '\0' && d->lease_until_ms > d->now_ms
                                ? json_string(d->lease)
                                : json_null());
    } else {
        json_object_set_new(o, "outcome", json_string(d->outcome));
        json_object_set_new(o, "score", json_real(d->score));
        json_object_set_new(o, "reason", json_string(d->reason));
        json_object_set_new(o, "closed_ms", json_integer(d->closed_ms));
        json_object_set_new(o, "closed_by", json_string(d->closed_by));
    }
    json_object_set_new(o, "now_ms", json_integer(d->now_ms));
    return o;
}

/* Arguments of a script: the prefix and up to 15 more, as strings the caller keeps alive. */
static redisReply *run(struct rlink *l, const struct lua_script *s, int argc, const char **argv,
                       char **cause)
{
    return rlink_eval(l, s, 0, argc, argv, cause);
}

static bool reply_ok(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
           r->element[0]->type == REDIS_REPLY_INTEGER;
}

static int cmp_vote(const void *a, const void *b)
{
    const struct debate_vote *x = a, *y = b;

    if (x->t_ms != y->t_ms)
        return x->t_ms < y->t_ms ? -1 : 1;
    return strcmp(x->agent, y->agent);
}

/* One vote from its JSON; -1 when it is not one. */
static int vote_from_json(const char *agent, const char *text, struct debate_vote *v)
{
    json_t *o = json_loads(text, 0, NULL);
    const char *reasoning;
    int rc = -1;

    memset(v, 0, sizeof *v);
    if (json_is_object(o) &&
        debate_vote_parse(json_string_value(json_object_get(o, "vote")), &v->vote) == 0) {
        snprintf(v->agent, sizeof v->agent, "%s", agent);
        v->confidence = json_number_value(json_object_get(o, "confidence"));
        reasoning = json_string_value(json_object_get(o, "reasoning"));
        v->reasoning = xstrdup(reasoning != NULL ? reasoning : "");
        v->t_ms = (int64_t)json_number_value(json_object_get(o, "t"));
        rc = 0;
    }
    json_decref(o);
    return rc;
}

/* A debate from {fields, votes, seats} at server time now; -1 when the reply is malformed. */
static int debate_from_reply(const redisReply *x, int64_t now, struct debate *d)
{
    const redisReply *h, *votes;

    memset(d, 0, sizeof *d);
    if (x->type != REDIS_REPLY_ARRAY || x->elements != 3 ||
        x->element[0]->type != REDIS_REPLY_ARRAY || x->element[1]->type != REDIS_REPLY_ARRAY ||
        x->element[2]->type != REDIS_REPLY_INTEGER)
        return -1;
    h = x->element[0];
    votes = x->element[1];
    snprintf(d->id, sizeof d->id, "%s", rlink_reply_field(h, "story"));
    d->title = xstrdup(rlink_reply_field(h, "title"));
    d->summary = xstrdup(rlink_reply_field(h, "summary"));
    d->brief = xstrdup(rlink_reply_field(h, "brief"));
    snprintf(d->by, sizeof d->by, "%s", rlink_reply_field(h, "by"));
    d->opened_ms = strtoll(rlink_reply_field(h, "opened"), NULL, 10);
    d->deadline_ms = strtoll(rlink_reply_field(h, "deadline"), NULL, 10);
    d->started_ms = strtoll(rlink_reply_field(h, "started"), NULL, 10);
    d->paused_ms = strtoll(rlink_reply_field(h, "paused"), NULL, 10);
    d->closed_ms = strtoll(rlink_reply_field(h, "closed"), NULL, 10);
    d->panel = (int)strtol(rlink_reply_field(h, "panel"), NULL, 10);
    d->quorum = (int)strtol(rlink_reply_field(h, "quorum"), NULL, 10);
    d->threshold = strtod(rlink_reply_field(h, "threshold"), NULL);
    d->open = strcmp(rlink_reply_field(h, "state"), "open") == 0;
    snprintf(d->outcome, sizeof d->outcome, "%s", rlink_reply_field(h, "outcome"));
    d->score = strtod(rlink_reply_field(h, "score"), NULL);
    d->reason = xstrdup(rlink_reply_field(h, "reason"));
    snprintf(d->closed_by, sizeof d->closed_by, "%s", rlink_reply_field(h, "closed_by"));
    snprintf(d->lease, sizeof d->lease, "%s", rlink_reply_field(h, "lease"));
    d->lease_until_ms = strtoll(rlink_reply_field(h, "lease_until"), NULL, 10);
    d->seats = (long)x->element[2]->integer;
    d->now_ms = now;
    if (votes->elements >= 2) {
        d->votes = xcalloc(votes->elements / 2, sizeof *d->votes);
        for (size_t i = 0; i + 1 < votes->elements; i += 2)
            if (votes->element[i]->type == REDIS_REPLY_STRING &&
                votes->element[i + 1]->type == REDIS_REPLY_STRING &&
                vote_from_json(votes->element[i]->str, votes->element[i + 1]->str,
                               &d->votes[d->nvotes]) == 0)
                d->nvotes++;
        qsort(d->votes, d->nvotes, sizeof *d->votes, cmp_vote);
    }
    return 0;
}

/* A reply {1, now, full debate}: DEBATE_OK with *out, DEBATE_NONE for {0}. */
static int one_from_reply(redisReply *r, const char *script, struct debate *out, char **cause)
{
    int rc = DEBATE_NONE;

    if (r == NULL)
        return DEBATE_ERR;
    if (!reply_ok(r)) {
        rc = DEBATE_ERR;
    } else if (r->element[0]->integer == 1) {
        if (r->elements == 3 && debate_from_reply(r->element[2], rlink_reply_int(r, 1), out) == 0)
            rc = DEBATE_OK;
        else
            rc = DEBATE_ERR;
    }
    freeReplyObject(r);
    if (rc == DEBATE_ERR)
        *cause = xasprintf("unexpected reply from %s.lua", script);
    return rc;
}

/* Checks a debate or agent id given by a caller. */
static int id_valid(const char *what, const char *id, size_t max, char **cause)
{
    if (id == NULL || *id == '\0' || strlen(id) > max) {
        *cause = xasprintf("bad %s \"%.80s\": 1 to %zu bytes", what, id != NULL ? id : "", max);
        return -1;
    }
    return 0;
}

/* A reply {1, n} or {0, why} of a script that acts on one debate (freed here): DEBATE_OK with
 * *n (n may be NULL), DEBATE_NONE when there is no such debate, DEBATE_REFUSED with why in
 * *cause. */
static int done_from_reply(redisReply *r, const char *script, long *n, char **cause)
{
    int rc;

    if (r == NULL)
        return DEBATE_ERR;
    if (!reply_ok(r) || r->elements != 2) {
        rc = DEBATE_ERR;
        *cause = xasprintf("unexpected reply from %s.lua", script);
    } else if (r->element[0]->integer == 1) {
        rc = DEBATE_OK;
        if (n != NULL)
            *n = (long)rlink_reply_int(r, 1);
    } else {
        *cause = xstrdup(rlink_reply_str(r, 1));
        rc = strncmp(*cause, "no debate ", 10) == 0 ? DEBATE_NONE : DEBATE_REFUSED;
    }
    freeReplyObject(r);
    return rc;
}

/* Seat or lease (script s, named script) for agent: the oldest open debate it may take, for
 * ttl_ms, looking at DEBATE_SCAN of them; as one_from_reply(). */
static int take_one(struct rlink *l, const struct lua_script *s, const char *script,
                    const char *agent, int ttl_ms, struct debate *out, char **cause)
{
    char ttl[16], scan[16];
    const char *argv[5] = {NR_PREFIX, agent, ttl, scan, REGISTRY_SET_KEY};

    memset(out, 0, sizeof *out);
    if (id_valid("agent id", agent, REGISTRY_ID_MAX, cause) == -1)
        return DEBATE_ERR;
    snprintf(ttl, sizeof ttl, "%d", ttl_ms > 0 ? ttl_ms : 1);
    snprintf(scan, sizeof scan, "%d", DEBATE_SCAN);
    return one_from_reply(run(l, s, 5, argv, cause), script, out, cause);
}

/* A vote's confidence within 0 to 1 (NaN: 0). */
static double clamp01(double c)
{
    if (!(c >= 0))
        return 0;
    return c > 1 ? 1 : c;
}

static int options_valid(const struct debate_options *o, char **cause)
{
    if (o->panel < 1 || o->panel > 64) {
        *cause = xasprintf("a debate's panel must be 1 to 64 seats, not %d", o->panel);
        return -1;
    }
    if (o->quorum < 1 || o->quorum > o->panel) {
        *cause =
            xasprintf("a debate's quorum must be 1 to its panel (%d), not %d", o->panel, o->quorum);
        return -1;
    }
    if (!(o->threshold >= 0 && o->threshold <= 1)) {
        *cause = xasprintf("a debate's threshold must be 0 to 1");
        return -1;
    }
    if (o->deadline_ms < 1) {
        *cause = xasprintf("a debate's deadline must be at least 1 ms, not %d", o->deadline_ms);
        return -1;
    }
    return 0;
}

/* The DEBATE_INVITE message of a new debate (a new string), published by debate_open.lua in
 * the step that opens it; NULL when it cannot be encoded (pub/sub is best effort anyway). */
static char *invite_text(const char *id, const char *title, const char *by,
                         const struct debate_options *o)
{
    struct msg *m;
    char *cause = NULL, *text;

    m = msg_new(MSG_DEBATE_INVITE, by, "debater",
                json_pack("{s:s, s:s, s:i, s:I}", "debate", id, "title", title, "panel", o->panel,
                          "deadline_ms", (json_int_t)o->deadline_ms));
    m->ttl_ms = o->deadline_ms;
    text = msg_encode(m, &cause);
    if (text == NULL) {
        log_debug("debate %s: no DEBATE_INVITE sent: %s", id, cause);
        free(cause);
    }
    msg_free(m);
    return text;
}

int debate_open(struct rlink *l, const char *story_id, const char *title, const char *summary,
                const char *brief, const struct debate_options *o, const char *by, bool *created,
                char **cause)
{
    char panel[16], quorum[16], threshold[32], deadline[16], prio[16], *invite;
    const char *argv[15];
    redisReply *r;
    bool made;

    if (created != NULL)
        *created = false;
    if (id_valid("story id", story_id, NEWS_ID_MAX, cause) == -1 ||
        id_valid("agent id", by, REGISTRY_ID_MAX, cause) == -1 || options_valid(o, cause) == -1)
        return DEBATE_ERR;
    snprintf(panel, sizeof panel, "%d", o->panel);
    snprintf(quorum, sizeof quorum, "%d", o->quorum);
    snprintf(threshold, sizeof threshold, "%.6f", o->threshold);
    snprintf(deadline, sizeof deadline, "%d", o->deadline_ms);
    argv[0] = NR_PREFIX;
    argv[1] = story_id;
    argv[2] = title != NULL ? title : "";
    argv[3] = summary != NULL ? summary : "";
    argv[4] = panel;
    argv[5] = quorum;
    argv[6] = threshold;
    argv[7] = deadline;
    argv[8] = by;
    argv[9] = brief != NULL ? brief : "";
    argv[10] = o->settle_early ? "1" : "0";
    invite = invite_text(story_id, argv[2], by, o);
    argv[11] = invite != NULL ? bus_tier_channel(BUS_TIER_DEBATER) : "";
    argv[12] = invite != NULL ? invite : "";
    argv[13] = o->reopen_closed ? "1" : "0";
    snprintf(prio, sizeof prio, "%d", o->priority > 0 ? o->priority : 0);
    argv[14] = prio;
    r = run(l, &lua_debate_open, 15, argv, cause);
    free(invite);
    if (r == NULL)
        return DEBATE_ERR;
    if (!reply_ok(r)) {
        freeReplyObject(r);
        *cause = xasprintf("unexpected reply from debate_open.lua");
        return DEBATE_ERR;
    }
    made = r->element[0]->integer == 1;
    freeReplyObject(r);
    if (created != NULL)
        *created = made;
    return DEBATE_OK;
}

int debate_seat(struct rlink *l, const char *agent, int seat_ttl_ms, struct debate *out,
                char **cause)
{
    return debate_seat_gated(l, agent, seat_ttl_ms, -1, 0, out, cause);
}

int debate_seat_gated(struct rlink *l, const char *agent, int seat_ttl_ms, int gate, long hwm,
                      struct debate *out, char **cause)
{
    char ttl[16], scan[16], mark[24], gate_key[96] = "", gate_field[96] = "";
    const char *argv[9] = {NR_PREFIX, agent,      ttl,  scan, REGISTRY_SET_KEY,
                           gate_key,  gate_field, mark, ""};

    memset(out, 0, sizeof *out);
    if (gate >= 0 && gate < BB_FLOW_COUNT && hwm > 0) {
        bb_flow_depth_key(gate, gate_key, sizeof gate_key, gate_field, sizeof gate_field);
        argv[8] = bb_flow_stages[gate].name;
    } else {
        hwm = 0;
    }
    if (id_valid("agent id", agent, REGISTRY_ID_MAX, cause) == -1)
        return DEBATE_ERR;
    snprintf(ttl, sizeof ttl, "%d", seat_ttl_ms > 0 ? seat_ttl_ms : 1);
    snprintf(scan, sizeof scan, "%d", DEBATE_SCAN);
    snprintf(mark, sizeof mark, "%ld", hwm > 0 ? hwm : 0);
    return one_from_reply(run(l, &lua_debate_seat, 9, argv, cause), "debate_seat", out, cause);
}

int debate_unseat(struct rlink *l, const char *id, const char *agent, bool pause, char **cause)
{
    const char *argv[4] = {NR_PREFIX, id, agent, pause ? "1" : "0"};
    redisReply *r;
    int rc;

    if (id_valid("debate id", id, NEWS_ID_MAX, cause) == -1 ||
        id_valid("agent id", agent, REGISTRY_ID_MAX, cause) == -1)
        return DEBATE_ERR;
    r = run(l, &lua_debate_unseat, 4, argv, cause);
    if (r == NULL)
        return DEBATE_ERR;
    rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? DEBATE_OK : DEBATE_NONE;
    freeReplyObject(r);
    return rc;
}

int debate_vote(struct rlink *l, const char *id, const struct debate_vote *v, long *nvotes,
                char **cause)
{
    char conf[32], *reasoning;
    const char *argv[6];
    redisReply *r;

    if (id_valid("debate id", id, NEWS_ID_MAX, cause) == -1 ||
        id_valid("agent id", v->agent, REGISTRY_ID_MAX, cause) == -1)
        return DEBATE_ERR;
    if ((int)v->vote < 0 || (size_t)v->vote >= sizeof vote_names / sizeof vote_names[0]) {
        *cause = xasprintf("debate %s: %s cast a vote that is none of for, against, abstain", id,
                           v->agent);
        return DEBATE_ERR;
    }
    snprintf(conf, sizeof conf, "%.4f", clamp01(v->confidence));
    reasoning = xstrdup(v->reasoning != NULL ? v->reasoning : "");
    if (strlen(reasoning) > DEBATE_REASONING_MAX) {
        size_t cut = DEBATE_REASONING_MAX;

        /* At a character boundary: a cut UTF-8 sequence would make the vote unreadable. */
        while (cut > 0 && ((unsigned char)reasoning[cut] & 0xC0) == 0x80)
            cut--;
        reasoning[cut] = '\0';
    }
    argv[0] = NR_PREFIX;
    argv[1] = id;
    argv[2] = v->agent;
    argv[3] = debate_vote_name(v->vote);
    argv[4] = conf;
    argv[5] = reasoning;
    r = run(l, &lua_debate_vote, 6, argv, cause);
    free(reasoning);
    return done_from_reply(r, "debate_vote", nvotes, cause);
}

int debate_ready(struct rlink *l, const char *moderator, int lease_ms, struct debate *out,
                 char **cause)
{
    return take_one(l, &lua_debate_ready, "debate_ready", moderator, lease_ms, out, cause);
}

int debate_close(struct rlink *l, const char *id, const char *moderator, const char *outcome,
                 double score, const char *reason, char **cause)
{
    char sc[32], keep[16], max[16];
    const char *argv[8];

    if (id_valid("debate id", id, NEWS_ID_MAX, cause) == -1 ||
        id_valid("agent id", moderator, REGISTRY_ID_MAX, cause) == -1)
        return DEBATE_ERR;
    if (outcome == NULL ||
        (strcmp(outcome, DEBATE_CONSENSUS) != 0 && strcmp(outcome, DEBATE_NO_CONSENSUS) != 0 &&
         strcmp(outcome, DEBATE_STORY_MOVED) != 0)) {
        *cause = xasprintf("debate %s: \"%.40s\" is not an outcome (%s, %s, %s)", id,
                           outcome != NULL ? outcome : "", DEBATE_CONSENSUS, DEBATE_NO_CONSENSUS,
                           DEBATE_STORY_MOVED);
        return DEBATE_ERR;
    }
    snprintf(sc, sizeof sc, "%.4f", isfinite(score) ? score : 0.0);
    snprintf(keep, sizeof keep, "%d", DEBATE_KEEP_S);
    snprintf(max, sizeof max, "%d", DEBATE_CLOSED_MAX);
    argv[0] = NR_PREFIX;
    argv[1] = id;
    argv[2] = moderator;
    argv[3] = outcome;
    argv[4] = sc;
    argv[5] = reason != NULL ? reason : "";
    argv[6] = keep;
    argv[7] = max;
    return done_from_reply(run(l, &lua_debate_close, 8, argv, cause), "debate_close", NULL, cause);
}

int debate_get(struct rlink *l, const char *id, struct debate *out, char **cause)
{
    const char *argv[3] = {NR_PREFIX, "one", id};
    redisReply *r;
    int rc = DEBATE_NONE;

    memset(out, 0, sizeof *out);
    if (id_valid("debate id", id, NEWS_ID_MAX, cause) == -1)
        return DEBATE_ERR;
    r = run(l, &lua_debate_get, 3, argv, cause);
    if (r == NULL)
        return DEBATE_ERR;
    if (!reply_ok(r)) {
        rc = DEBATE_ERR;
    } else if (r->element[0]->integer == 1) {
        if (r->elements == 3 && r->element[2]->type == REDIS_REPLY_ARRAY &&
            r->element[2]->elements == 1 &&
            debate_from_reply(r->element[2]->element[0], rlink_reply_int(r, 1), out) == 0)
            rc = DEBATE_OK;
        else
            rc = DEBATE_ERR;
    }
    freeReplyObject(r);
    if (rc == DEBATE_ERR)
        *cause = xasprintf("unexpected reply from debate_get.lua");
    return rc;
}

int debate_list(struct rlink *l, bool open, size_t limit, struct debate **out, size_t *n,
                char **cause)
{
    char lim[24];
    const char *argv[3] = {NR_PREFIX, open ? "open" : "closed", lim};
    const redisReply *list;
    redisReply *r;

    *out = NULL;
    *n = 0;
    snprintf(lim, sizeof lim, "%zu", limit > 0 ? limit : 1);
    r = run(l, &lua_debate_get, 3, argv, cause);
    if (r == NULL)
        return DEBATE_ERR;
    if (!reply_ok(r) || r->elements != 3 || r->element[2]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        *cause = xasprintf("unexpected reply from debate_get.lua");
        return DEBATE_ERR;
    }
    list = r->element[2];
    if (list->elements > 0) {
        *out = xcalloc(list->elements, sizeof **out);
        for (size_t i = 0; i < list->elements; i++)
            if (debate_from_reply(list->element[i], rlink_reply_int(r, 1), &(*out)[*n]) == 0)
                (*n)++;
    }
    freeReplyObject(r);
    return DEBATE_OK;
}

void debate_consensus(const struct debate *d, struct consensus *out)
{
    double w_for = 0, w_against = 0;
    char counts[96];

    memset(out, 0, sizeof *out);
    out->threshold = d->threshold;
    out->quorum = d->quorum;
    out->panel = d->panel;
    for (size_t i = 0; i < d->nvotes; i++) {
        double c = clamp01(d->votes[i].confidence);

        switch (d->votes[i].vote) {
        case DEBATE_FOR:
            out->n_for++;
            w_for += c;
            break;
        case DEBATE_AGAINST:
            out->n_against++;
            w_against += c;
            break;
        case DEBATE_ABSTAIN:
            out->n_abstain++;
            break;
        }
    }
    out->votes = out->n_for + out->n_against + out->n_abstain;
    out->score = w_for + w_against > 0 ? w_for / (w_for + w_against) : 0;
    out->quorum_met = out->votes >= d->quorum;
    /* A share that equals the threshold reaches it, whatever the last binary digit says. */
    out->reached = out->quorum_met && out->score + 1e-9 >= d->threshold;
    if (out->n_abstain > 0)
        snprintf(counts, sizeof counts, "%d for, %d against, %d abstaining", out->n_for,
                 out->n_against, out->n_abstain);
    else
        snprintf(counts, sizeof counts, "%d for, %d against", out->n_for, out->n_against);
    if (!out->quorum_met)
        snprintf(out->reason, sizeof out->reason,
                 "no consensus: quorum not reached (%d of %d votes by the deadline)", out->votes,
                 d->quorum);
    else
        snprintf(out->reason, sizeof out->reason, "%s %.2f %s %.2f with %d of %d votes (%s)",
                 out->reached ? "consensus" : "no consensus:", out->score,
                 out->reached ? ">=" : "<", d->threshold, out->votes, d->panel, counts);
}
