/*
 * ctl_debate.c - the debates' ctl verbs: `debate ID` (one debate with every vote, the consensus
 * and the outcome) and `debates` (open and closed debates, one line each). Main thread only.
 */
#include "cli/cli.h"
#include "cli/ctl.h"

#include "core/text.h"
#include "store/debate.h"
#include "store/rlink.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEBATES_LIMIT_DEFAULT 50
#define DEBATES_LIMIT_MAX     1000

/* Prints label and outside text made safe, cut to max bytes (0: whole). */
static void safe_line(const char *label, const char *text, size_t max)
{
    char *s = text_safe(text, max);

    printf("%-10s%s\n", label, s);
    free(s);
}

static void print_debate(const struct debate *d)
{
    struct consensus c;
    char when[32], age[32];
    char *s;

    debate_consensus(d, &c);
    printf("debate    %s\n", d->id);
    safe_line("title", d->title, 0);
    if (d->summary[0] != '\0')
        safe_line("summary", d->summary, 0);
    s = text_safe(d->by, 0);
    printf("opened    %s by %s\n", text_utc(d->opened_ms, when, sizeof when), s);
    free(s);
    if (d->open) {
        if (d->deadline_ms > d->now_ms)
            printf("state     open, deadline in %s\n",
                   text_age(d->deadline_ms - d->now_ms, age, sizeof age));
        else
            printf("state     open, deadline passed %s ago\n",
                   text_age(d->now_ms - d->deadline_ms, age, sizeof age));
        if (d->lease[0] != '\0' && d->lease_until_ms > d->now_ms) {
            s = text_safe(d->lease, 0);
            printf("closing   by %s\n", s);
            free(s);
        }
    } else {
        s = text_safe(d->closed_by, 0);
        printf("state     closed at %s by %s\n", text_utc(d->closed_ms, when, sizeof when), s);
        free(s);
        printf("outcome   %s (score %.2f)\n", d->outcome, d->score);
        safe_line("reason", d->reason, 0);
    }
    printf("panel     %d seats (%ld taken), quorum %d, threshold %.2f\n", d->panel, d->seats,
           d->quorum, d->threshold);
    printf("votes     %zu\n", d->nvotes);
    for (size_t i = 0; i < d->nvotes; i++) {
        char *agent = text_safe(d->votes[i].agent, 0), *why = text_safe(d->votes[i].reasoning, 0);

        printf("  %-40s %-8s %.2f  %s\n", agent, debate_vote_name(d->votes[i].vote),
               d->votes[i].confidence, why);
        free(agent);
        free(why);
    }
    printf("tally     %s\n", c.reason);
}

int ctl_debate(struct cli *cli, bool json, int argc, char **argv)
{
    struct rlink *l;
    struct debate d;
    char *cause = NULL;
    int code = EXIT_DONE, rc;

    if (argc != 2 || argv[1][0] == '-') {
        cli_error("usage: newsroom ctl debate ID [--json]");
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL)
        return code;
    rc = debate_get(l, argv[1], &d, &cause);
    if (rc == DEBATE_NONE) {
        char *id = text_safe(argv[1], 200);

        cli_error("ctl debate: no debate \"%s\"", id);
        free(id);
        code = EXIT_REFUSED;
    } else if (rc != DEBATE_OK) {
        code = ctl_failed(l, "debate", cause);
    } else {
        if (json)
            cli_print_json(debate_to_json(&d));
        else
            print_debate(&d);
        debate_clear(&d);
    }
    rlink_free(l);
    return code;
}

static void print_list(const char *heading, const struct debate *list, size_t n)
{
    char when[32];

    printf("%s (%zu)\n", heading, n);
    for (size_t i = 0; i < n; i++) {
        const struct debate *d = &list[i];
        struct consensus c;
        char *id = text_safe(d->id, 40), *title = text_safe(d->title, 50);

        debate_consensus(d, &c);
        if (d->open)
            printf("  %-40s %s  votes %zu/%d  %s\n", id, text_utc(d->opened_ms, when, sizeof when),
                   d->nvotes, d->panel, title);
        else
            printf("  %-40s %s  %-12s %.2f  votes %zu/%d  %s\n", id,
                   text_utc(d->closed_ms, when, sizeof when), d->outcome, d->score, d->nvotes,
                   d->panel, title);
        free(id);
        free(title);
    }
}

int ctl_debates(struct cli *cli, bool json, int argc, char **argv)
{
    static const struct option opts[] = {
        {"open", no_argument, NULL, 'o'},
        {"closed", no_argument, NULL, 'c'},
        {"limit", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    bool want[2] = {true, true}; /* [0] open, [1] closed */
    bool picked = false;
    long limit = DEBATES_LIMIT_DEFAULT;
    struct rlink *l;
    json_t *out = json_object();
    int c, code = EXIT_DONE;

    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        char *end;

        switch (c) {
        case 'o':
        case 'c':
            if (!picked)
                want[0] = want[1] = false;
            picked = true;
            want[c == 'c'] = true;
            break;
        case 'n':
            limit = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || limit < 1 || limit > DEBATES_LIMIT_MAX) {
                cli_error("debates: --limit must be a whole number from 1 to %d",
                          DEBATES_LIMIT_MAX);
                json_decref(out);
                return EXIT_USAGE;
            }
            break;
        default:
            json_decref(out);
            return ctl_bad_option("debates", c, argc, argv);
        }
    }
    if (optind < argc) {
        cli_error("usage: newsroom ctl debates [--open|--closed] [--limit N] [--json]");
        json_decref(out);
        return EXIT_USAGE;
    }
    l = ctl_link(cli, &code);
    if (l == NULL) {
        json_decref(out);
        return code;
    }
    for (int k = 0; k < 2 && code == EXIT_DONE; k++) {
        struct debate *list;
        size_t n;
        char *cause = NULL;

        if (!want[k])
            continue;
        if (debate_list(l, k == 0, (size_t)limit, &list, &n, &cause) != DEBATE_OK) {
            code = ctl_failed(l, "debates", cause);
            break;
        }
        if (json) {
            json_t *a = json_array();

            for (size_t i = 0; i < n; i++)
                json_array_append_new(a, debate_to_json(&list[i]));
            json_object_set_new(out, k == 0 ? "open" : "closed", a);
        } else {
            if (k == 1 && want[0])
                printf("\n");
            print_list(k == 0 ? "open debates, oldest first" : "closed debates, newest first", list,
                       n);
        }
        debate_list_free(list, n);
    }
    if (json && code == EXIT_DONE)
        cli_print_json(out);
    else
        json_decref(out);
    rlink_free(l);
    return code;
}
