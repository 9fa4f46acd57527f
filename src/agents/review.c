/*
 * review.c - the review record, operator decisions and the rendering of a story's
 * decisions; see review.h. No state: the pure functions from any thread, review_decide() on
 * its blackboard's thread.
 */
#include "agents/review.h"

#include "core/clock.h"
#include "core/fail.h"
#include "core/text.h"
#include "store/audit.h"
#include "store/blackboard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *review_revise_note(const char *reason)
{
    size_t n = strlen(REVIEW_REVISE_PREFIX);

    if (reason == NULL || strncmp(reason, REVIEW_REVISE_PREFIX, n) != 0)
        return NULL;
    return reason + n;
}

const char *review_iso_time(int64_t ms, char *buf, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json_t *review_patch(const char *decision, const char *reason, const char *by, int64_t at_ms,
                     bool automatic)
{
    char at[32];

    review_iso_time(at_ms, at, sizeof at);
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:I, s:b}}", "review", "decision", decision, "reason",
                     reason != NULL ? reason : "", "by", by, "at", at, "at_ms", (json_int_t)at_ms,
                     "auto", automatic);
}

const char *review_decision_name(enum review_decision d)
{
    static const char *const names[] = {"approve", "reject", "revise"};

    return (unsigned)d < sizeof names / sizeof names[0] ? names[d] : "?";
}

int review_check(enum review_decision d, const char *text, char **cause)
{
    if (d != REVIEW_APPROVE && (text == NULL || text[0] == '\0')) {
        *cause = xstrdup(d == REVIEW_REVISE ? "revise needs a note for the writer"
                                            : "reject needs a reason");
        return -1;
    }
    if (d == REVIEW_REJECT && review_revise_note(text) != NULL) {
        *cause =
            xasprintf("a reason starting with \"%s\" is kept for revise", REVIEW_REVISE_PREFIX);
        return -1;
    }
    return 0;
}

int review_decide(struct bb *b, const char *id, enum review_decision d, const char *text,
                  char **cause)
{
    struct audit_record rec;
    char *reason;
    json_t *patch;
    int rc;

    if (review_check(d, text, cause) == -1)
        return BB_REFUSED;
    if (audit_record_fill(&rec, review_decision_name(d), id, text, cause) == -1)
        return BB_ERR; /* what is never empty: cannot happen */
    reason = d == REVIEW_REVISE ? xasprintf("%s%s", REVIEW_REVISE_PREFIX, text)
                                : xstrdup(text != NULL ? text : "");
    /* The decision, its audit record and the body's review record in one atomic step. */
    patch = review_patch(review_decision_name(d), text, bb_actor(b), clock_wall_ms(), false);
    rc = bb_decide_with(b, id, d == REVIEW_APPROVE ? BB_APPROVED : BB_REJECTED,
                        text != NULL ? reason : NULL, patch, rec.argc, rec.argv, cause);
    json_decref(patch);
    audit_record_done(&rec);
    free(reason);
    return rc;
}

int review_decided(const struct bb_item *it, char *buf, size_t size)
{
    const json_t *d = json_object_get(json_object_get(it->body, "review"), "decision");
    const char *what = json_is_string(d) ? json_string_value(d) : "";
    char when[32], *who;

    if (it->decided_by[0] == '\0' || it->status == BB_REVIEWING)
        return 0;
    if (strcmp(what, "approve") == 0 ||
        (what[0] == '\0' && (it->status == BB_APPROVED || it->status == BB_PUBLISHED_S)))
        what = "approved";
    else if (strcmp(what, "revise") == 0 || review_revise_note(it->reason) != NULL ||
             (what[0] == '\0' && it->status == BB_PRODUCING))
        what = "sent back for revision";
    else
        what = "rejected";
    who = text_safe(it->decided_by, 0);
    text_utc(it->decided_ms, when, sizeof when);
    snprintf(buf, size, "already %s by %s at %s (it is now %s)", what, who, when,
             it->status >= 0 && it->status < BB_STATUS_COUNT ? bb_statuses[it->status].name : "?");
    free(who);
    return 1;
}

/* Where rendered lines go. */
struct out {
    void (*emit)(void *arg, const char *line);
    void *arg;
};

/* One line of the decisions: formatted, then made safe as a whole, so nothing from a body
 * reaches a terminal raw; cut at REVIEW_LINE_MAX bytes. */
static void dline(const struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dline(const struct out *o, const char *fmt, ...)
{
    va_list ap, again;
    char *raw, *safe;
    int n;

    va_start(ap, fmt);
    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    raw = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    raw[0] = '\0';
    if (n > 0)
        vsnprintf(raw, (size_t)n + 1, fmt, again);
    va_end(again);
    safe = text_safe(raw, REVIEW_LINE_MAX);
    o->emit(o->arg, safe);
    free(safe);
    free(raw);
}

/* A body value as text, whatever its type: strings as they are, numbers with two decimals
 * (whole numbers without), true/false as yes/no, "-" for missing or null, other JSON compact.
 * A new string. */
static char *val(const json_t *v)
{
    char *s;

    if (v == NULL || json_is_null(v))
        return xstrdup("-");
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    if (json_is_integer(v))
        return xasprintf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return xasprintf("%.2f", json_real_value(v));
    if (json_is_boolean(v))
        return xstrdup(json_is_true(v) ? "yes" : "no");
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return s != NULL ? s : xstrdup("?");
}

/* val() of o[key]. */
static char *field(const json_t *o, const char *key)
{
    return val(json_object_get(o, key));
}

static void print_analysis(const struct out *o, const json_t *a)
{
    char *d = field(a, "decision"), *nw = field(a, "newsworthiness"), *cr = field(a, "credibility"),
         *cf = field(a, "confidence"), *by = field(a, "by");

    dline(o, "  analysis    %s (newsworthiness %s, credibility %s, confidence %s) by %s", d, nw, cr,
          cf, by);
    free(d), free(nw), free(cr), free(cf), free(by);
    if (json_object_get(a, "summary") != NULL) {
        char *s = field(a, "summary");
        dline(o, "              summary: %s", s);
        free(s);
    }
    if (json_object_get(a, "reasoning") != NULL) {
        char *s = field(a, "reasoning");
        dline(o, "              %s", s);
        free(s);
    }
}

static void print_consensus(const struct out *o, const json_t *c)
{
    const json_t *votes = json_object_get(c, "votes"), *v;
    const json_t *reached = json_object_get(c, "reached");
    char *score = field(c, "score"), *thr = field(c, "threshold"), *by = field(c, "by");
    size_t i;

    dline(o, "  consensus   %s, score %s (threshold %s) by %s",
          reached == NULL         ? "-"
          : json_is_true(reached) ? "reached"
                                  : "not reached",
          score, thr, by);
    free(score), free(thr), free(by);
    if (json_object_get(c, "reason") != NULL) {
        char *s = field(c, "reason");
        dline(o, "              %s", s);
        free(s);
    }
    if (json_is_array(votes))
        json_array_foreach(votes, i, v)
        {
            char *ag = field(v, "agent"), *vo = field(v, "vote"), *cf = field(v, "confidence"),
                 *re = field(v, "reasoning");

            dline(o, "              vote %s: %s (confidence %s) %s", ag, vo, cf, re);
            free(ag), free(vo), free(cf), free(re);
        }
}

static void print_script(const struct out *o, const json_t *s)
{
    const json_t *revs = json_object_get(s, "revisions"), *r;
    char *words = field(s, "words"), *by = field(s, "by");
    size_t i;

    dline(o, "  script      %s words, %zu revision%s, by %s", words,
          json_is_array(revs) ? json_array_size(revs) : 0,
          json_is_array(revs) && json_array_size(revs) == 1 ? "" : "s", by);
    free(words), free(by);
    if (json_is_array(revs))
        json_array_foreach(revs, i, r)
        {
            char *nu = field(r, "number"), *ty = field(r, "type"), *im = field(r, "improvement"),
                 *cf = field(r, "confidence"), *rb = field(r, "by");

            dline(o, "              revision %s: %s (improvement %s, confidence %s) by %s", nu, ty,
                  im, cf, rb);
            free(nu), free(ty), free(im), free(cf), free(rb);
        }
}

static void print_qa(const struct out *o, const json_t *qa)
{
    const json_t *q, *issues, *is;
    size_t i, k;

    if (!json_is_array(qa)) {
        char *s = val(qa);
        dline(o, "  qa          %s", s);
        free(s);
        return;
    }
    json_array_foreach(qa, i, q)
    {
        const json_t *passed = json_object_get(q, "passed");
        char *ro = field(q, "round"), *sc = field(q, "score"), *cf = field(q, "confidence"),
             *by = field(q, "by");

        dline(o, "  qa          round %s: %s, score %s (confidence %s) by %s", ro,
              passed == NULL         ? "-"
              : json_is_true(passed) ? "passed"
                                     : "failed",
              sc, cf, by);
        free(ro), free(sc), free(cf), free(by);
        issues = json_object_get(q, "issues");
        if (json_is_array(issues))
            json_array_foreach(issues, k, is)
            {
                char *s = val(is);
                dline(o, "                issue: %s", s);
                free(s);
            }
    }
}

static void print_package(const struct out *o, const json_t *p)
{
    const json_t *shots = json_object_get(p, "shots"), *cap = json_object_get(p, "captions_srt");
    char *kind = field(p, "kind"), *dur = field(p, "duration_s"), *words = field(p, "words"),
         *by = field(p, "by");

    dline(o, "  package     %s, %s s, %s words, %zu shots, captions %zu bytes, by %s", kind, dur,
          words, json_is_array(shots) ? json_array_size(shots) : 0,
          json_is_string(cap) ? strlen(json_string_value(cap)) : 0, by);
    free(kind), free(dur), free(words), free(by);
}

static void print_review(const struct out *o, const json_t *r)
{
    char *d = field(r, "decision"), *by = field(r, "by"), *at = field(r, "at"),
         *re = field(r, "reason");

    dline(o, "  review      %s by %s at %s%s%s%s", d, by, at,
          json_is_true(json_object_get(r, "auto")) ? " (automatic)" : "", re[0] ? ": " : "", re);
    free(d), free(by), free(at), free(re);
}

static void print_revision(const struct out *o, const json_t *r)
{
    char *by = field(r, "by"), *at = field(r, "at"), *note = field(r, "note");

    dline(o, "  revision    requested by %s at %s: %s", by, at, note);
    free(by), free(at), free(note);
}

static void print_publish(const struct out *o, const json_t *p)
{
    char *path = field(p, "path"), *wh = field(p, "webhook"), *st = field(p, "webhook_status"),
         *at = field(p, "at"), *by = field(p, "by");

    dline(o, "  publish     %s (webhook %s, HTTP %s) at %s by %s", path, wh, st, at, by);
    if (json_object_get(p, "error") != NULL) {
        char *e = field(p, "error");
        dline(o, "              last error: %s", e);
        free(e);
    }
    free(path), free(wh), free(st), free(at), free(by);
}

/* The further sources semantic deduplication merged into the story (memory.h). */
static void print_sources(const struct out *o, const json_t *list)
{
    size_t i;
    json_t *s;

    if (!json_is_array(list))
        return;
    dline(o, "  sources     %zu more, merged as rewordings of this story", json_array_size(list));
    json_array_foreach(list, i, s)
    {
        char *src = field(s, "source"), *title = field(s, "title"), *sim = field(s, "similarity");

        dline(o, "              %s: %s (similarity %s)", src, title, sim);
        free(src), free(title), free(sim);
    }
}

/* A change at the source after the story entered (bb_write). */
static void print_source_update(const struct out *o, const json_t *u)
{
    char *n = field(u, "count"), *st = field(u, "status"), *title = field(u, "title");

    if (json_is_true(json_object_get(u, "applied")))
        dline(o, "  updated at source (%s time(s)): the text was revised before analysis", n);
    else
        dline(o, "  updated at source (%s time(s)), after the story reached %s: %s", n, st, title);
    free(n), free(st), free(title);
}

/* The error history (recovery): every failed attempt and every requeue. */
static void print_errors(const struct out *o, const json_t *errors)
{
    const json_t *e;
    size_t i;

    json_array_foreach(errors, i, e)
    {
        char *step = field(e, "step"), *by = field(e, "agent"), *err = field(e, "error");
        char when[32];

        review_iso_time((int64_t)json_integer_value(json_object_get(e, "t")), when, sizeof when);
        if (json_is_true(json_object_get(e, "requeue")))
            dline(o, "  error       %s: %s", when, err);
        else
            dline(o, "  error       attempt %lld at %s by %s, %s: %s",
                  (long long)json_integer_value(json_object_get(e, "attempt")), step, by, when,
                  err);
        free(step), free(by), free(err);
    }
}

void review_render(const json_t *body, void (*emit)(void *arg, const char *line), void *arg)
{
    const struct out out = {emit, arg}, *o = &out;
    static const struct {
        const char *field;
        void (*print)(const struct out *, const json_t *);
        bool object;
    } rows[] = {
        {"analysis", print_analysis, true},
        {"consensus", print_consensus, true},
        {"script", print_script, true},
        {"qa", print_qa, false},
        {"package", print_package, true},
        {"review", print_review, true},
        {"revision_request", print_revision, true},
        {"publish", print_publish, true},
        {"updated_at_source", print_source_update, true},
        {"sources", print_sources, false},
        {"errors", print_errors, false},
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const json_t *v = json_object_get(body, rows[i].field);

        if (v == NULL || (rows[i].object && !json_is_object(v)))
            continue;
        rows[i].print(o, v);
    }
}
