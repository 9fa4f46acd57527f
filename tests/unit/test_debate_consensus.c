/*
 * test_debate_consensus.c - debate_consensus(), the pure part of debates: the
 * confidence-weighted score, abstentions (quorum yes, score no), the quorum, the threshold's
 * edge, confidences outside 0..1, and the reason texts; plus vote names and the [debate]
 * options. Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/config.h"
#include "store/debate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A debate with panel, quorum, threshold and the votes "f:0.9", "a:0.4", "x:0.5". */
static void make(struct debate *d, struct debate_vote *votes, int panel, int quorum,
                 double threshold, const char *const *spec)
{
    memset(d, 0, sizeof *d);
    snprintf(d->id, sizeof d->id, "story-1");
    d->panel = panel;
    d->quorum = quorum;
    d->threshold = threshold;
    d->open = true;
    d->votes = votes;
    for (size_t i = 0; spec[i] != NULL; i++) {
        struct debate_vote *v = &votes[i];

        memset(v, 0, sizeof *v);
        snprintf(v->agent, sizeof v->agent, "debater-%zu", i + 1);
        v->vote = spec[i][0] == 'f'   ? DEBATE_FOR
                  : spec[i][0] == 'a' ? DEBATE_AGAINST
                                      : DEBATE_ABSTAIN;
        v->confidence = strtod(spec[i] + 2, NULL);
        v->reasoning = (char *)"because";
        d->nvotes++;
    }
}

static void test_weighted_score(void **state)
{
    static const char *const spec[] = {"f:0.9", "f:0.7", "a:0.4", NULL};
    struct debate_vote votes[8];
    struct debate d;
    struct consensus c;

    (void)state;
    make(&d, votes, 3, 2, 0.6, spec);
    debate_consensus(&d, &c);
    assert_true(fabs(c.score - 1.6 / 2.0) < 1e-9);
    assert_int_equal(c.votes, 3);
    assert_int_equal(c.n_for, 2);
    assert_int_equal(c.n_against, 1);
    assert_int_equal(c.n_abstain, 0);
    assert_true(c.quorum_met);
    assert_true(c.reached);
    assert_string_equal(c.reason, "consensus 0.80 >= 0.60 with 3 of 3 votes (2 for, 1 against)");
}

static void test_below_threshold(void **state)
{
    /* Two for with little confidence lose to one sure against. */
    static const char *const spec[] = {"f:0.2", "f:0.2", "a:0.9", NULL};
    struct debate_vote votes[8];
    struct debate d;
    struct consensus c;

    (void)state;
    make(&d, votes, 3, 2, 0.6, spec);
    debate_consensus(&d, &c);
    assert_true(fabs(c.score - 0.4 / 1.3) < 1e-9);
    assert_true(c.quorum_met);
    assert_false(c.reached);
    assert_string_equal(c.reason, "no consensus: 0.31 < 0.60 with 3 of 3 votes (2 for, 1 against)");
}

static void test_abstentions(void **state)
{
    /* Abstentions make the quorum but do not dilute the score. */
    static const char *const one_for[] = {"f:0.5", "x:0.9", "x:0.9", NULL};
    static const char *const all_abstain[] = {"x:0.8", "x:0.8", NULL};
    struct debate_vote votes[8];
    struct debate d;
    struct consensus c;

    (void)state;
    make(&d, votes, 3, 3, 0.6, one_for);
    debate_consensus(&d, &c);
    assert_true(fabs(c.score - 1.0) < 1e-9);
    assert_true(c.quorum_met);
    assert_true(c.reached);
    assert_int_equal(c.n_abstain, 2);
    assert_string_equal(
        c.reason, "consensus 1.00 >= 0.60 with 3 of 3 votes (1 for, 0 against, 2 abstaining)");
    /* Nobody took a side: no score, no consensus. */
    make(&d, votes, 3, 2, 0.6, all_abstain);
    debate_consensus(&d, &c);
    assert_true(c.score == 0);
    assert_true(c.quorum_met);
    assert_false(c.reached);
}

static void test_quorum(void **state)
{
    static const char *const one[] = {"f:1", NULL};
    static const char *const none[] = {NULL};
    struct debate_vote votes[8];
    struct debate d;
    struct consensus c;

    (void)state;
    make(&d, votes, 3, 2, 0.6, one);
    debate_consensus(&d, &c);
    assert_true(fabs(c.score - 1.0) < 1e-9);
    assert_false(c.quorum_met);
    assert_false(c.reached);
    assert_string_equal(c.reason,
                        "no consensus: quorum not reached (1 of 2 votes by the deadline)");
    make(&d, votes, 3, 2, 0.6, none);
    debate_consensus(&d, &c);
    assert_int_equal(c.votes, 0);
    assert_false(c.reached);
    assert_string_equal(c.reason,
                        "no consensus: quorum not reached (0 of 2 votes by the deadline)");
}

static void test_edges(void **state)
{
    /* Exactly the threshold reaches it; confidences outside 0..1 are clamped; a zero
     * confidence weighs nothing. */
    static const char *const exact[] = {"f:0.6", "a:0.4", NULL};
    static const char *const clamped[] = {"f:7", "a:-3", "a:0", NULL};
    struct debate_vote votes[8];
    struct debate d;
    struct consensus c;

    (void)state;
    make(&d, votes, 2, 2, 0.6, exact);
    debate_consensus(&d, &c);
    assert_true(c.reached);
    make(&d, votes, 3, 1, 0.99, clamped);
    debate_consensus(&d, &c);
    assert_true(fabs(c.score - 1.0) < 1e-9);
    assert_true(c.reached);
    votes[0].confidence = NAN;
    debate_consensus(&d, &c);
    assert_true(c.score == 0);
    assert_false(c.reached);
}

static void test_names_and_options(void **state)
{
    struct debate_options o;
    struct config *cfg = config_new();
    enum debate_vote_kind v;

    (void)state;
    assert_string_equal(debate_vote_name(DEBATE_FOR), "for");
    assert_string_equal(debate_vote_name(DEBATE_AGAINST), "against");
    assert_string_equal(debate_vote_name(DEBATE_ABSTAIN), "abstain");
    assert_int_equal(debate_vote_parse("against", &v), 0);
    assert_int_equal(v, DEBATE_AGAINST);
    assert_int_equal(debate_vote_parse("maybe", &v), -1);
    assert_int_equal(debate_vote_parse(NULL, &v), -1);
    debate_options_default(&o);
    assert_int_equal(o.panel, 3);
    assert_int_equal(o.quorum, 2);
    debate_options_from(&o, cfg);
    assert_int_equal(o.panel, 3);
    assert_int_equal(o.quorum, 2);
    assert_true(fabs(o.threshold - 0.6) < 1e-9);
    assert_int_equal(o.deadline_ms, 60000);
    /* A quorum above the panel counts as the panel. */
    cfg->debate_quorum = 9;
    debate_options_from(&o, cfg);
    assert_int_equal(o.quorum, 3);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weighted_score), cmocka_unit_test(test_below_threshold),
        cmocka_unit_test(test_abstentions),    cmocka_unit_test(test_quorum),
        cmocka_unit_test(test_edges),          cmocka_unit_test(test_names_and_options),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
