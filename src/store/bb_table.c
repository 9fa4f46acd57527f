/*
 * bb_table.c - the blackboard's status machine; see bb_table.h. The moves follow
 * DESIGN.md's diagram: the main line PENDING -> ... -> PUBLISHED, FAILED where retries run
 * out, ARCHIVED for stories not worth covering, without consensus, rejected, or past
 * retention, and REJECTED -> PRODUCING for a rejection that asks for a revision.
 */
#include "store/bb_table.h"

#include <string.h>

#define END BB_STATUS_NONE

const char *const bb_section_names[BB_SECTION_COUNT] = {
    "RAW_FEED",     "DEBATE_QUEUE", "CONSENSUS", "PRODUCTION_FLOOR",
    "REVIEW_QUEUE", "PUBLISHED",    "ARCHIVE",   "AGENT_STATE",
};

const struct bb_status_info bb_statuses[BB_STATUS_COUNT] = {
    [BB_PENDING] =
        {"PENDING", BB_RAW_FEED, false, END, {BB_PROCESSING, BB_ARCHIVED, BB_FAILED, END}},
    [BB_PROCESSING] = {"PROCESSING",
                       BB_RAW_FEED,
                       false,
                       BB_PENDING,
                       {BB_DEBATING, BB_PENDING, BB_ARCHIVED, BB_FAILED, END}},
    [BB_DEBATING] = {"DEBATING",
                     BB_DEBATE_QUEUE,
                     false,
                     END,
                     {BB_CONSENSUS_REACHED, BB_ARCHIVED, BB_FAILED, END}},
    [BB_CONSENSUS_REACHED] =
        {"CONSENSUS_REACHED", BB_CONSENSUS, false, END, {BB_PRODUCING, BB_FAILED, END}},
    [BB_PRODUCING] = {"PRODUCING",
                      BB_PRODUCTION_FLOOR,
                      false,
                      BB_CONSENSUS_REACHED,
                      {BB_REVIEWING, BB_CONSENSUS_REACHED, BB_FAILED, END}},
    [BB_REVIEWING] = {"REVIEWING", BB_REVIEW_QUEUE, false, END, {BB_APPROVED, BB_REJECTED, END}},
    [BB_APPROVED] = {"APPROVED", BB_REVIEW_QUEUE, false, END, {BB_PUBLISHED_S, BB_FAILED, END}},
    [BB_REJECTED] = {"REJECTED", BB_REVIEW_QUEUE, false, END, {BB_ARCHIVED, BB_PRODUCING, END}},
    [BB_PUBLISHED_S] = {"PUBLISHED", BB_PUBLISHED, true, END, {BB_ARCHIVED, END}},
    [BB_ARCHIVED] = {"ARCHIVED", BB_ARCHIVE, true, END, {END}},
    [BB_FAILED] = {"FAILED", BB_SECTION_KEEP, true, END, {BB_ARCHIVED, END}},
};

int bb_section_parse(const char *name)
{
    for (int i = 0; i < BB_SECTION_COUNT; i++)
        if (strcmp(name, bb_section_names[i]) == 0)
            return i;
    return -1;
}

int bb_status_parse(const char *name)
{
    for (int i = 0; i < BB_STATUS_COUNT; i++)
        if (strcmp(name, bb_statuses[i].name) == 0)
            return i;
    return -1;
}

bool bb_move_allowed(enum bb_status from, enum bb_status to)
{
    for (const int *n = bb_statuses[from].next; *n != END; n++)
        if (*n == (int)to)
            return true;
    return false;
}
