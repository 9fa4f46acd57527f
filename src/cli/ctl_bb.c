/*
 * ctl_bb.c - the blackboard's ctl verbs: ingest (JSON Lines of news items, read with bounded
 * memory, each entering by its identity and semantic deduplication, memory.h; a feed, sniffed
 * by XML's own rules, goes to ctl_feeds.c), items, item, approve and reject (audited in the
 * same atomic step as the decision), and the tally every ingest keeps (accepted, updated at
 * source, merged into a story as a further source, duplicate, refused). Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "agents/review.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/text.h"
#include "feeds/feed_parse.h"
#include "memory/memory.h"
#include "feeds/lines.h"
#include "store/audit.h"
#include "store/blackboard.h"
#include "store/rlink.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The actor of an operator's changes: "user@from", as the audit stream has it. */
static void operator_actor(char *buf, size_t size)
{
    struct audit_who who;

    audit_whoami(&who);
    snprintf(buf, size, "%s@%s", who.user, who.from);
}

struct bb *ctl_open_bb(struct cli *cli, struct rlink **l, int *code)
{
    char actor[BB_ACTOR_MAX + 1];

    *l = ctl_link(cli, code);
    if (*l == NULL)
        return NULL;
    operator_actor(actor, sizeof actor);
    return bb_new(*l, actor);
}

void ctl_tally_init(struct ctl_tally *t, struct cli *cli, struct rlink *l)
{
    char *cause = NULL;

    memset(t, 0, sizeof *t);
    t->errors = json_array();
    t->updates = json_array();
    t->merges = json_array();
    t->dups = json_array();
    t->mem = memory_open(cli->cfg, l, &cause);
    if (t->mem == NULL && cause != NULL) {
        char *why = text_safe(cause, 0);

        cli_error("ctl ingest: no semantic deduplication (items are still written by their "
                  "identity): %s",
                  why);
        free(why);
        free(cause);
    }
}

void ctl_tally_refuse(struct ctl_tally *t, bool json, json_t *where, const char *label,
                      const char *reason)
{
    char *why = text_safe(reason, 0);

    t->invalid++;
    json_object_set_new(where, "reason", json_string(why));
    json_array_append_new(t->errors, where);
    if (!json)
        printf("%s: %s\n", label, why);
    free(why);
}

int ctl_tally_write(struct ctl_tally *t, struct bb *b, struct rlink *l, const struct news_item *it,
                    const json_t *extra, json_t *where, const char *label)
{
    char existing[NEWS_ID_MAX + 1] = "", *cause = NULL;
    int rc = memory_story_enter(t->mem, b, it, extra, BB_PENDING, existing, &cause);
    json_t *list;

    switch (rc) {
    case BB_OK:
        t->accepted++;
        json_decref(where);
        return EXIT_DONE;
    case BB_MERGED:
        t->merged++;
        list = t->merges;
        break;
    case BB_DUPLICATE:
        t->duplicate++;
        list = t->dups;
        break;
    case BB_UPDATED:
    case BB_REVISED:
        t->updated++;
        json_object_set_new(where, "revised", json_boolean(rc == BB_REVISED));
        list = t->updates;
        break;
    default: {
        char *verb = xasprintf("ingest: %s", label);
        int code = ctl_failed(l, verb, cause);

        free(verb);
        json_decref(where);
        return code;
    }
    }
    json_object_set_new(where, "id", json_string(it->id));
    json_object_set_new(where, "existing", json_string(existing));
    json_array_append_new(list, where);
    free(cause);
    return EXIT_DONE;
}

int ctl_tally_end(struct ctl_tally *t, bool json, int code)
{
    if (json) {
        cli_print_json(json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "accepted", (json_int_t)t->accepted,
            "updated", (json_int_t)t->updated, "merged", (json_int_t)t->merged, "duplicate",
            (json_int_t)t->duplicate, "invalid", (json_int_t)t->invalid, "errors", t->errors,
            "updates", t->updates, "merges", t->merges, "duplicates", t->dups));
    } else {
        printf("accepted %ld, updated %ld, merged %ld, duplicate %ld, invalid %ld\n", t->accepted,
               t->updated, t->merged, t->duplicate, t->invalid);
        json_decref(t->errors);
        json_decref(t->updates);
        json_decref(t->merges);
        json_decref(t->dups);
    }
    t->errors = t->updates = t->merges = t->dups = NULL;
    memory_free(t->mem);
    t->mem = NULL;
    return code == EXIT_DONE && t->invalid > 0 ? EXIT_REFUSED : code;
}

/* One JSON Lines line: checked, then written with the duplicate check. */
static int ingest_line(struct ctl_tally *t, bool json, struct bb *b, struct rlink *l,
                       const char *line, size_t len, long lineno)
{
    json_error_t jerr;
    json_t *j;
    struct news_item *it;
    char label[48], *cause = NULL;
    int code;

    snprintf(label, sizeof label, "line %ld", lineno);
    j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        char *why = text_safe(jerr.text, 0);

        cause = xasprintf("invalid JSON at column %d: %s", jerr.column, why);
        free(why);
        it = NULL;
    } else {
        it = news_item_from_json(j, &cause);
        json_decref(j);
    }
    if (it == NULL) {
        ctl_tally_refuse(t, json, json_pack("{s:I}", "line", (json_int_t)lineno), label, cause);
        free(cause);
        return EXIT_DONE;
    }
    code =
        ctl_tally_write(t, b, l, it, NULL, json_pack("{s:I}", "line", (json_int_t)lineno), label);
    news_item_free(it);
    return code;
}

/* JSON Lines from r, each line read with bounded memory: a line past INGEST_LINE_MAX is
 * refused with its number, never held whole. */
static int ingest_lines(struct cli *cli, bool json, struct lines *r, const char *name)
{
    struct ctl_tally t;
    struct rlink *l;
    struct bb *b;
    const char *line;
    size_t len;
    long lineno, content = 0;
    int code = EXIT_DONE;
    enum lines_result lr;

    b = ctl_open_bb(cli, &l, &code);
    if (b == NULL)
        return code;
    ctl_tally_init(&t, cli, l);
    while (code == EXIT_DONE && (lr = lines_next(r, &line, &len, &lineno)) != LINES_END) {
        char label[48];

        if (lr == LINES_ERROR) {
            cli_error("ctl ingest: cannot read %s: %s", name, strerror(errno));
            code = EXIT_REFUSED;
            break;
        }
        content++;
        if (lr == LINES_LONG) {
            char *why = xasprintf("longer than the %u byte limit of a line (the rest of the "
                                  "line was skipped, unread)",
                                  INGEST_LINE_MAX);

            snprintf(label, sizeof label, "line %ld", lineno);
            ctl_tally_refuse(&t, json, json_pack("{s:I}", "line", (json_int_t)lineno), label, why);
            free(why);
            continue;
        }
        if (len == 0 || strspn(line, " \t") == len) {
            content--;
            continue;
        }
        code = ingest_line(&t, json, b, l, line, len, lineno);
    }
    if (code == EXIT_DONE && content == 0) {
        /* Only white space, longer than the sniffed head. */
        cli_error("ctl ingest: %s is empty: no JSON Lines and no feed", name);
        code = EXIT_REFUSED;
    }
    code = ctl_tally_end(&t, json, code);
    bb_free(b);
    rlink_free(l);
    return code;
}

int ctl_ingest(struct cli *cli, bool json, int argc, char **argv)
{
    const char *name;
    struct lines *r;
    struct stat sb;
    const char *head;
    long got;
    int fd, code;
    enum feed_sniff kind;

    if (argc != 2) {
        cli_error("usage: newsroom ctl ingest FILE|FOLDER|URL|-   (JSON Lines, or RSS/Atom/RDF "
                  "feeds)");
        return EXIT_USAGE;
    }
    name = argv[1];
    if (strncmp(name, "http://", 7) == 0 || strncmp(name, "https://", 8) == 0 ||
        strncmp(name, "file://", 7) == 0)
        return ctl_ingest_feed(cli, json, name, NULL, 0);
    if (strcmp(name, "-") == 0) {
        fd = STDIN_FILENO;
        name = "standard input";
    } else if ((fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
        cli_error("ctl ingest: cannot read %s: %s", name, strerror(errno));
        return EXIT_USAGE;
    }
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* A folder of feeds: each file is a feed of its own, failing alone. */
        close(fd);
        return ctl_ingest_feed(cli, json, name, NULL, 0);
    }
    r = lines_new(fd, INGEST_LINE_MAX);
    got = lines_peek(r, &head, 256);
    if (got == -1) {
        cli_error("ctl ingest: cannot read %s: %s", name, strerror(errno));
        code = EXIT_USAGE;
    } else if ((kind = feed_sniff(head, (size_t)got, NULL)) == FEED_SNIFF_EMPTY && got < 256) {
        cli_error("ctl ingest: %s is empty: no JSON Lines and no feed", name);
        code = EXIT_REFUSED;
    } else if (kind == FEED_SNIFF_XML && fd != STDIN_FILENO) {
        /* XML's own rules (a byte order mark, or its first four bytes) say it is a feed. */
        code = ctl_ingest_feed(cli, json, argv[1], NULL, 0);
    } else if (kind == FEED_SNIFF_XML) {
        size_t max = (size_t)cli->cfg->feed_max_bytes, len;
        char *data;
        int rc = lines_slurp(r, max, &data, &len);

        if (rc == 1) {
            cli_error("ctl ingest: %s: the feed is larger than the %zu byte limit ([feeds] "
                      "max_bytes)",
                      name, max);
            code = EXIT_REFUSED;
        } else if (rc == -1) {
            cli_error("ctl ingest: cannot read %s: %s", name, strerror(errno));
            code = EXIT_USAGE;
        } else {
            code = ctl_ingest_feed(cli, json, "-", data, len);
            free(data);
        }
    } else {
        code = ingest_lines(cli, json, r, name);
    }
    lines_free(r);
    if (fd != STDIN_FILENO)
        close(fd);
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
    b = ctl_open_bb(cli, &l, &code);
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

/* review_render()'s lines under a "decisions" heading, printed once there is one. */
static void print_decision_line(void *arg, const char *line)
{
    bool *any = arg;

    if (!*any)
        printf("decisions\n");
    *any = true;
    printf("%s\n", line);
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
    b = ctl_open_bb(cli, &l, &code);
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
        bool any = false;

        review_render(it->body, print_decision_line, &any);
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
 * when ("already approved by X at T") and returns true; else says nothing. */
static bool say_decided(struct bb *b, const char *verb, const char *id)
{
    struct bb_item *it = NULL;
    char *cause = NULL, line[512];
    bool said = false;

    if (bb_read(b, id, &it, &cause) != BB_OK) {
        free(cause);
        return false;
    }
    if (review_decided(it, line, sizeof line)) {
        cli_error("%s %s: %s", verb, id, line);
        said = true;
    }
    bb_item_free(it);
    return said;
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
    struct rlink *l;
    struct bb *b;
    char *cause = NULL;
    bool revise = false;
    int c, code = EXIT_DONE, rc;

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
    b = ctl_open_bb(cli, &l, &code);
    if (b == NULL)
        return code;
    rc = review_decide(b, id,
                       revise              ? REVIEW_REVISE
                       : to == BB_APPROVED ? REVIEW_APPROVE
                                           : REVIEW_REJECT,
                       text, &cause);
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
    } else if (rc == BB_REFUSED && say_decided(b, verb, id)) {
        /* One error per refusal: who decided it says why. */
        free(cause);
        code = EXIT_REFUSED;
    } else {
        char where[NEWS_ID_MAX + 32];

        snprintf(where, sizeof where, "%s %s: refused", verb, id);
        code = ctl_failed(l, where, cause);
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
