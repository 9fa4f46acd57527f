/*
 * ctl_bb.c - the blackboard's ctl verbs: ingest (JSON Lines of news items), items, item,
 * approve and reject (audited in the same atomic step as the decision). Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "agents/review.h"
#include "core/clock.h"
#include "core/fail.h"
#include "core/text.h"
#include "store/audit.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The actor of an operator's changes: "user@from", as the audit stream has it. */
static void operator_actor(char *buf, size_t size)
{
    struct audit_who who;

    audit_whoami(&who);
    snprintf(buf, size, "%s@%s", who.user, who.from);
}

/* Connects and makes a blackboard acting as the operator. */
static struct bb *open_bb(struct cli *cli, struct rlink **l, int *code)
{
    char actor[BB_ACTOR_MAX + 1];

    *l = ctl_link(cli, code);
    if (*l == NULL)
        return NULL;
    operator_actor(actor, sizeof actor);
    return bb_new(*l, actor);
}

int ctl_ingest(struct cli *cli, bool json, int argc, char **argv)
{
    struct rlink *l;
    struct bb *b;
    FILE *in;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, accepted = 0, duplicate = 0, invalid = 0;
    json_t *errors = json_array(), *dups = json_array();
    int code = EXIT_DONE;

    if (argc != 2) {
        cli_error("usage: newsroom ctl ingest FILE|-   (JSON Lines, one news item a line)");
        json_decref(errors);
        json_decref(dups);
        return EXIT_USAGE;
    }
    in = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "r");
    if (in == NULL) {
        cli_error("ctl ingest: cannot read %s: %s", argv[1], strerror(errno));
        json_decref(errors);
        json_decref(dups);
        return EXIT_USAGE;
    }
    b = open_bb(cli, &l, &code);
    if (b == NULL) {
        if (in != stdin)
            fclose(in);
        json_decref(errors);
        json_decref(dups);
        return code;
    }
    while ((len = getline(&line, &cap, in)) != -1) {
        json_error_t jerr;
        json_t *j;
        struct news_item *it;
        char existing[NEWS_ID_MAX + 1], *cause = NULL, *why;
        int rc;

        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || strspn(line, " \t") == (size_t)len)
            continue;
        j = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        if (j == NULL) {
            why = text_safe(jerr.text, 0);
            cause = xasprintf("invalid JSON at column %d: %s", jerr.column, why);
            free(why);
            it = NULL;
        } else {
            it = news_item_from_json(j, &cause);
            json_decref(j);
        }
        if (it == NULL) {
            invalid++;
            why = text_safe(cause, 0);
            json_array_append_new(
                errors, json_pack("{s:I, s:s}", "line", (json_int_t)lineno, "reason", why));
            if (!json)
                printf("line %ld: %s\n", lineno, why);
            free(why);
            free(cause);
            continue;
        }
        rc = bb_write(b, it, NULL, BB_PENDING, true, existing, &cause);
        if (rc == BB_OK) {
            accepted++;
        } else if (rc == BB_DUPLICATE) {
            duplicate++;
            json_array_append_new(dups, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)lineno,
                                                  "id", it->id, "existing", existing));
        } else {
            char where[48];

            snprintf(where, sizeof where, "ingest: line %ld", lineno);
            code = ctl_failed(l, where, cause);
            news_item_free(it);
            break;
        }
        free(cause);
        news_item_free(it);
    }
    free(line);
    if (in != stdin)
        fclose(in);
    if (json) {
        cli_print_json(json_pack("{s:I, s:I, s:I, s:o, s:o}", "accepted", (json_int_t)accepted,
                                 "duplicate", (json_int_t)duplicate, "invalid", (json_int_t)invalid,
                                 "errors", errors, "duplicates", dups));
    } else {
        printf("accepted %ld, duplicate %ld, invalid %ld\n", accepted, duplicate, invalid);
        json_decref(errors);
        json_decref(dups);
    }
    bb_free(b);
    rlink_free(l);
    if (code == EXIT_DONE && invalid > 0)
        code = EXIT_REFUSED;
    return code;
}

/* Parses a section or status option value. */
static int parse_named(const char *what, const char *v, int (*parse)(const char *))
{
    int x = parse(v);

    if (x < 0)
        cli_error("ctl items: unknown %s \"%s\"", what, v);
    return x;
}

/* Names of an item's status and section, "?" for values a newer or broken writer stored. */
static const char *status_name(const struct bb_item *it)
{
    return it->status >= 0 ? bb_statuses[it->status].name : "?";
}

static const char *section_name(const struct bb_item *it)
{
    return it->section >= 0 ? bb_section_names[it->section] : "?";
}

static void print_item_line(const struct bb_item *it)
{
    const json_t *t = json_object_get(it->body, "title");
    char when[32], *title = text_safe(json_is_string(t) ? json_string_value(t) : "", 80);

    text_utc(it->updated_ms, when, sizeof when);
    printf("%-20s %-17s %-16s %-20s %s\n", it->id, status_name(it), section_name(it), when, title);
    free(title);
}

static json_t *item_summary(const struct bb_item *it)
{
    json_t *o = bb_item_to_json(it);

    json_object_del(o, "body");
    return o;
}

int ctl_items(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"section", required_argument, NULL, 's'},
        {"status", required_argument, NULL, 't'},
        {"limit", required_argument, NULL, 'l'},
        {"after", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    int section = -1, status = -1, c, code = EXIT_DONE;
    long limit = 50;
    const char *after = "";
    char next[BB_CURSOR_MAX + 1] = "";
    struct rlink *l;
    struct bb *b;
    json_t *list = json_array();
    size_t shown = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;

        switch (c) {
        case 's':
            if ((section = parse_named("section", optarg, bb_section_parse)) < 0)
                goto usage;
            break;
        case 't':
            if ((status = parse_named("status", optarg, bb_status_parse)) < 0)
                goto usage;
            break;
        case 'l':
            limit = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || limit < 1 || limit > 100000) {
                cli_error("ctl items: --limit \"%s\" is not a number from 1 to 100000", optarg);
                goto usage;
            }
            break;
        case 'a':
            after = optarg;
            break;
        default:
            cli_error("ctl items: unknown option %s", argv[optind - 1]);
            goto usage;
        }
    }
    if (optind < argc) {
        cli_error("ctl items: unexpected argument \"%s\"", argv[optind]);
        goto usage;
    }
    b = open_bb(cli, &l, &code);
    if (b == NULL) {
        json_decref(list);
        return code;
    }
    /* No filter: every section in turn, up to the limit in all. */
    for (int s = section >= 0 || status >= 0 ? -2 : 0; s < BB_SECTION_COUNT; s++) {
        struct bb_item **items;
        size_t n;
        char *cause = NULL;
        int sec = s == -2 ? section : s;

        if (bb_query(b, sec, status, s == -2 ? after : "", (size_t)limit - shown, &items, &n, next,
                     &cause) != BB_OK) {
            code = ctl_failed(l, "items", cause);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (json)
                json_array_append_new(list, item_summary(items[i]));
            else
                print_item_line(items[i]);
            bb_item_free(items[i]);
        }
        free(items);
        shown += n;
        if (s == -2 || shown >= (size_t)limit)
            break;
    }
    if (json && code == EXIT_DONE)
        cli_print_json(json_pack(
            "{s:o, s:o}", "items", list, "next",
            (section >= 0 || status >= 0) && next[0] != '\0' ? json_string(next) : json_null()));
    else
        json_decref(list);
    bb_free(b);
    rlink_free(l);
    return code;
usage:
    json_decref(list);
    fprintf(stderr, "usage: newsroom ctl items [--section S] [--status S] [--limit N] "
                    "[--after CURSOR] [--json]\n");
    return EXIT_USAGE;
}

/* One line of `ctl item`'s decisions: formatted, then made safe as a whole, so nothing from
 * a body reaches the terminal raw; cut at 400 bytes. */
static void dline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void dline(const char *fmt, ...)
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
    safe = text_safe(raw, 400);
    printf("%s\n", safe);
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

static void print_analysis(const json_t *a)
{
    char *d = field(a, "decision"), *nw = field(a, "newsworthiness"), *cr = field(a, "credibility"),
         *cf = field(a, "confidence"), *by = field(a, "by");

    dline("  analysis    %s (newsworthiness %s, credibility %s, confidence %s) by %s", d, nw, cr,
          cf, by);
    free(d), free(nw), free(cr), free(cf), free(by);
    if (json_object_get(a, "summary") != NULL) {
        char *s = field(a, "summary");
        dline("              summary: %s", s);
        free(s);
    }
    if (json_object_get(a, "reasoning") != NULL) {
        char *s = field(a, "reasoning");
        dline("              %s", s);
        free(s);
    }
}

static void print_consensus(const json_t *c)
{
    const json_t *votes = json_object_get(c, "votes"), *v;
    const json_t *reached = json_object_get(c, "reached");
    char *score = field(c, "score"), *thr = field(c, "threshold"), *by = field(c, "by");
    size_t i;

    dline("  consensus   %s, score %s (threshold %s) by %s",
          reached == NULL         ? "-"
          : json_is_true(reached) ? "reached"
                                  : "not reached",
          score, thr, by);
    free(score), free(thr), free(by);
    if (json_object_get(c, "reason") != NULL) {
        char *s = field(c, "reason");
        dline("              %s", s);
        free(s);
    }
    if (json_is_array(votes))
        json_array_foreach(votes, i, v)
        {
            char *ag = field(v, "agent"), *vo = field(v, "vote"), *cf = field(v, "confidence"),
                 *re = field(v, "reasoning");

            dline("              vote %s: %s (confidence %s) %s", ag, vo, cf, re);
            free(ag), free(vo), free(cf), free(re);
        }
}

static void print_script(const json_t *s)
{
    const json_t *revs = json_object_get(s, "revisions"), *r;
    char *words = field(s, "words"), *by = field(s, "by");
    size_t i;

    dline("  script      %s words, %zu revision%s, by %s", words,
          json_is_array(revs) ? json_array_size(revs) : 0,
          json_is_array(revs) && json_array_size(revs) == 1 ? "" : "s", by);
    free(words), free(by);
    if (json_is_array(revs))
        json_array_foreach(revs, i, r)
        {
            char *nu = field(r, "number"), *ty = field(r, "type"), *im = field(r, "improvement"),
                 *cf = field(r, "confidence"), *rb = field(r, "by");

            dline("              revision %s: %s (improvement %s, confidence %s) by %s", nu, ty, im,
                  cf, rb);
            free(nu), free(ty), free(im), free(cf), free(rb);
        }
}

static void print_qa(const json_t *qa)
{
    const json_t *q, *issues, *is;
    size_t i, k;

    if (!json_is_array(qa)) {
        char *s = val(qa);
        dline("  qa          %s", s);
        free(s);
        return;
    }
    json_array_foreach(qa, i, q)
    {
        const json_t *passed = json_object_get(q, "passed");
        char *ro = field(q, "round"), *sc = field(q, "score"), *cf = field(q, "confidence"),
             *by = field(q, "by");

        dline("  qa          round %s: %s, score %s (confidence %s) by %s", ro,
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
                dline("                issue: %s", s);
                free(s);
            }
    }
}

static void print_package(const json_t *p)
{
    const json_t *shots = json_object_get(p, "shots"), *cap = json_object_get(p, "captions_srt");
    char *kind = field(p, "kind"), *dur = field(p, "duration_s"), *words = field(p, "words"),
         *by = field(p, "by");

    dline("  package     %s, %s s, %s words, %zu shots, captions %zu bytes, by %s", kind, dur,
          words, json_is_array(shots) ? json_array_size(shots) : 0,
          json_is_string(cap) ? strlen(json_string_value(cap)) : 0, by);
    free(kind), free(dur), free(words), free(by);
}

static void print_review(const json_t *r)
{
    char *d = field(r, "decision"), *by = field(r, "by"), *at = field(r, "at"),
         *re = field(r, "reason");

    dline("  review      %s by %s at %s%s%s%s", d, by, at,
          json_is_true(json_object_get(r, "auto")) ? " (automatic)" : "", re[0] ? ": " : "", re);
    free(d), free(by), free(at), free(re);
}

static void print_revision(const json_t *r)
{
    char *by = field(r, "by"), *at = field(r, "at"), *note = field(r, "note");

    dline("  revision    requested by %s at %s: %s", by, at, note);
    free(by), free(at), free(note);
}

static void print_publish(const json_t *p)
{
    char *path = field(p, "path"), *wh = field(p, "webhook"), *st = field(p, "webhook_status"),
         *at = field(p, "at"), *by = field(p, "by");

    dline("  publish     %s (webhook %s, HTTP %s) at %s by %s", path, wh, st, at, by);
    if (json_object_get(p, "error") != NULL) {
        char *e = field(p, "error");
        dline("              last error: %s", e);
        free(e);
    }
    free(path), free(wh), free(st), free(at), free(by);
}

/* The decisions recorded in a story's body, those present, in the order they are made. */
static void print_decisions(const json_t *body)
{
    static const struct {
        const char *field;
        void (*print)(const json_t *);
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
    };
    bool any = false;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const json_t *v = json_object_get(body, rows[i].field);

        if (v == NULL || (rows[i].object && !json_is_object(v)))
            continue;
        if (!any)
            printf("decisions\n");
        any = true;
        rows[i].print(v);
    }
}

int ctl_item(struct cli *cli, bool json, int argc, char **argv)
{
    struct rlink *l;
    struct bb *b;
    struct bb_item *it = NULL;
    char *cause = NULL;
    int code = EXIT_DONE, rc;

    if (argc != 2) {
        cli_error("usage: newsroom ctl item ID [--json]");
        return EXIT_USAGE;
    }
    b = open_bb(cli, &l, &code);
    if (b == NULL)
        return code;
    rc = bb_read(b, argv[1], &it, &cause);
    if (rc == BB_NONE) {
        cli_error("ctl item: no item \"%s\"", argv[1]);
        code = EXIT_REFUSED;
    } else if (rc != BB_OK) {
        code = ctl_failed(l, "item", cause);
    } else if (json) {
        cli_print_json(bb_item_to_json(it));
    } else {
        char created[32], updated[32], *body;
        char *by = text_safe(it->by, 0), *owner = text_safe(it->owner[0] ? it->owner : "-", 0);

        text_utc(it->created_ms, created, sizeof created);
        text_utc(it->updated_ms, updated, sizeof updated);
        printf("id        %s\nstatus    %s in %s (version %lld)\ncreated   %s\nupdated   %s "
               "by %s\nowner     %s\nattempts  %d\nhash      %s\n",
               it->id, status_name(it), section_name(it), it->version, created, updated, by, owner,
               it->attempts, it->hash);
        free(by);
        free(owner);
        if (it->decided_by[0] != '\0') {
            char *who = text_safe(it->decided_by, 0);

            text_utc(it->decided_ms, updated, sizeof updated);
            printf("decided   by %s at %s\n", who, updated);
            free(who);
        }
        if (it->reason[0] != '\0') {
            char *r = text_safe(it->reason, 0);

            printf("reason    %s\n", r);
            free(r);
        }
        if (it->fail_reason[0] != '\0') {
            char *r = text_safe(it->fail_reason, 0);

            printf("failure   %s\n", r);
            free(r);
        }
        if (it->archive_reason[0] != '\0') {
            char *r = text_safe(it->archive_reason, 0);

            printf("archived  %s\n", r);
            free(r);
        }
        print_decisions(it->body);
        /* JSON escapes every control character, so the dump is safe as it is. */
        body = json_dumps(it->body, JSON_INDENT(2) | JSON_SORT_KEYS);
        printf("body      %s\n", body != NULL ? body : "{}");
        free(body);
    }
    bb_item_free(it);
    bb_free(b);
    rlink_free(l);
    return code;
}

/* After a refused decision: when someone decided the story already, says who, what and
 * when ("already approved by X at T"). */
static void say_decided(struct bb *b, const char *verb, const char *id)
{
    struct bb_item *it = NULL;
    char *cause = NULL;

    if (bb_read(b, id, &it, &cause) != BB_OK) {
        free(cause);
        return;
    }
    if (it->decided_by[0] != '\0' && it->status != BB_REVIEWING) {
        const json_t *d = json_object_get(json_object_get(it->body, "review"), "decision");
        const char *what = json_is_string(d) ? json_string_value(d) : "";
        char when[32], *who = text_safe(it->decided_by, 0);

        if (strcmp(what, "approve") == 0 ||
            (what[0] == '\0' && (it->status == BB_APPROVED || it->status == BB_PUBLISHED_S)))
            what = "approved";
        else if (strcmp(what, "revise") == 0 || review_revise_note(it->reason) != NULL ||
                 (what[0] == '\0' && it->status == BB_PRODUCING))
            what = "sent back for revision";
        else
            what = "rejected";
        text_utc(it->decided_ms, when, sizeof when);
        cli_error("%s %s: already %s by %s at %s (it is now %s)", verb, id, what, who, when,
                  status_name(it));
        free(who);
    }
    bb_item_free(it);
}

/* approve and reject: REVIEWING -> APPROVED / REJECTED, audited atomically; reject --revise
 * asks the writer for a revision (review.h: the reason becomes "revise: NOTE"). The body's
 * "review" copy follows the decision. */
static int decide(struct cli *cli, bool json, int argc, char **argv, enum bb_status to)
{
    static const struct option opts[] = {
        {"note", required_argument, NULL, 'n'},
        {"reason", required_argument, NULL, 'r'},
        {"revise", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const char *verb = to == BB_APPROVED ? "approve" : "reject", *text = NULL, *id;
    struct audit_record rec;
    struct rlink *l;
    struct bb *b;
    char *cause = NULL, *reason = NULL;
    bool revise = false;
    int c, code = EXIT_DONE, rc;
    json_t *patch;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((c == 'n' && to == BB_APPROVED) || (c == 'r' && to == BB_REJECTED)) {
            text = optarg;
        } else if (c == 'v' && to == BB_REJECTED) {
            revise = true;
        } else {
            cli_error("ctl %s: unknown option %s", verb, argv[optind - 1]);
            goto usage;
        }
    }
    if (optind != argc - 1)
        goto usage;
    id = argv[optind];
    if (to == BB_REJECTED && (text == NULL || text[0] == '\0')) {
        cli_error("ctl reject: --reason TEXT is required%s",
                  revise ? " (the note for the writer)" : "");
        goto usage;
    }
    if (to == BB_REJECTED && !revise && review_revise_note(text) != NULL) {
        cli_error("ctl reject: a reason starting with \"%s\" is kept for --revise",
                  REVIEW_REVISE_PREFIX);
        goto usage;
    }
    if (revise)
        verb = "revise";
    b = open_bb(cli, &l, &code);
    if (b == NULL)
        return code;
    if (audit_record_fill(&rec, verb, id, text, &cause) == -1) {
        cli_error("ctl %s: %s", verb, cause);
        free(cause);
        bb_free(b);
        rlink_free(l);
        return EXIT_USAGE;
    }
    reason = revise ? xasprintf("%s%s", REVIEW_REVISE_PREFIX, text) : xstrdup(text ? text : "");
    /* The decision, its audit record and the body's review record in one atomic step. */
    patch = review_patch(revise              ? "revise"
                         : to == BB_APPROVED ? "approve"
                                             : "reject",
                         text, bb_actor(b), clock_wall_ms(), false);
    rc = bb_decide_with(b, id, to, text != NULL ? reason : NULL, patch, rec.argc, rec.argv, &cause);
    json_decref(patch);
    audit_record_done(&rec);
    free(reason);
    if (rc == BB_OK) {
        if (json)
            cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "id", id, "status",
                                     bb_statuses[to].name, "decision",
                                     revise              ? "revise"
                                     : to == BB_APPROVED ? "approve"
                                                         : "reject",
                                     "by", bb_actor(b)));
        else
            printf("%s %s\n",
                   revise              ? "sent back for revision"
                   : to == BB_APPROVED ? "approved"
                                       : "rejected",
                   id);
    } else {
        char where[NEWS_ID_MAX + 32];

        snprintf(where, sizeof where, "%s %s: refused", verb, id);
        code = ctl_failed(l, where, cause);
        if (rc == BB_REFUSED)
            say_decided(b, verb, id);
    }
    bb_free(b);
    rlink_free(l);
    return code;
usage:
    fprintf(stderr, "usage: newsroom ctl %s ID %s [--json]\n", verb,
            to == BB_APPROVED ? "[--note TEXT]" : "--reason TEXT [--revise]");
    return EXIT_USAGE;
}

int ctl_approve(struct cli *cli, bool json, int argc, char **argv)
{
    return decide(cli, json, argc, argv, BB_APPROVED);
}

int ctl_reject(struct cli *cli, bool json, int argc, char **argv)
{
    return decide(cli, json, argc, argv, BB_REJECTED);
}
