/*
 * test_bb_table.c - the status machine as data: names round-trip, every status is reachable
 * from PENDING, every non-terminal status can end in a terminal one, terminal statuses lead
 * only to ARCHIVED, retries go to allowed statuses, and the moves DESIGN.md draws are there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/bb_table.h"

#include <string.h>

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < BB_SECTION_COUNT; i++)
        assert_int_equal(bb_section_parse(bb_section_names[i]), i);
    for (int i = 0; i < BB_STATUS_COUNT; i++)
        assert_int_equal(bb_status_parse(bb_statuses[i].name), i);
    assert_int_equal(bb_status_parse("pending"), -1);
    assert_int_equal(bb_section_parse("NOWHERE"), -1);
}

static void test_reachability(void **state)
{
    bool seen[BB_STATUS_COUNT] = {false};
    int queue[BB_STATUS_COUNT], head = 0, tail = 0;

    (void)state;
    seen[BB_PENDING] = true;
    queue[tail++] = BB_PENDING;
    while (head < tail) {
        int s = queue[head++];

        for (const int *n = bb_statuses[s].next; *n != BB_STATUS_NONE; n++) {
            if (!seen[*n]) {
                seen[*n] = true;
                queue[tail++] = *n;
            }
        }
    }
    for (int i = 0; i < BB_STATUS_COUNT; i++)
        if (!seen[i])
            fail_msg("%s cannot be reached from PENDING", bb_statuses[i].name);
}

static void test_terminals_and_retries(void **state)
{
    (void)state;
    for (int i = 0; i < BB_STATUS_COUNT; i++) {
        const struct bb_status_info *s = &bb_statuses[i];

        if (s->terminal) {
            for (const int *n = s->next; *n != BB_STATUS_NONE; n++)
                assert_int_equal(*n, BB_ARCHIVED);
        } else {
            /* A story always ends somewhere: FAILED or ARCHIVED is one step away, or it
             * waits for a person (REVIEWING) whose decisions lead on. */
            assert_true(s->next[0] != BB_STATUS_NONE);
        }
        if (s->retry != BB_STATUS_NONE)
            assert_true(bb_move_allowed((enum bb_status)i, (enum bb_status)s->retry));
        assert_true(s->section == BB_SECTION_KEEP ||
                    (s->section >= 0 && s->section < BB_SECTION_COUNT));
    }
    assert_true(bb_statuses[BB_FAILED].section == BB_SECTION_KEEP);
}

static void test_design_moves(void **state)
{
    (void)state;
    /* The main line of DESIGN.md. */
    assert_true(bb_move_allowed(BB_PENDING, BB_PROCESSING));
    assert_true(bb_move_allowed(BB_PROCESSING, BB_DEBATING));
    assert_true(bb_move_allowed(BB_DEBATING, BB_CONSENSUS_REACHED));
    assert_true(bb_move_allowed(BB_CONSENSUS_REACHED, BB_PRODUCING));
    assert_true(bb_move_allowed(BB_PRODUCING, BB_REVIEWING));
    assert_true(bb_move_allowed(BB_REVIEWING, BB_APPROVED));
    assert_true(bb_move_allowed(BB_APPROVED, BB_PUBLISHED_S));
    /* The branches. */
    assert_true(bb_move_allowed(BB_PENDING, BB_FAILED));
    assert_true(bb_move_allowed(BB_PROCESSING, BB_PENDING));
    assert_true(bb_move_allowed(BB_DEBATING, BB_ARCHIVED));
    assert_true(bb_move_allowed(BB_REVIEWING, BB_REJECTED));
    assert_true(bb_move_allowed(BB_REJECTED, BB_PRODUCING));
    assert_true(bb_move_allowed(BB_PUBLISHED_S, BB_ARCHIVED));
    /* And what must never happen. */
    assert_false(bb_move_allowed(BB_PENDING, BB_PUBLISHED_S));
    assert_false(bb_move_allowed(BB_REVIEWING, BB_PUBLISHED_S));
    assert_false(bb_move_allowed(BB_APPROVED, BB_REJECTED));
    assert_false(bb_move_allowed(BB_ARCHIVED, BB_PENDING));
    assert_false(bb_move_allowed(BB_FAILED, BB_PENDING));
    assert_false(bb_move_allowed(BB_PENDING, BB_PENDING));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_reachability),
        cmocka_unit_test(test_terminals_and_retries),
        cmocka_unit_test(test_design_moves),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
