/*
 * bb_table.c - the blackboard's status machine; see bb_table.h. The moves follow
 * DESIGN.md's diagram: the main line PENDING -> ... -> PUBLISHED, FAILED where a step's
 * attempts run out (terminal: it stays FAILED until an operator requeues it), ARCHIVED for
 * stories not worth covering, without consensus, rejected, or past retention, and REJECTED ->
 * PRODUCING for a rejection that asks for a revision. The steps say where a story waits for
 * each piece of work, which is where a reclaim, a retry or a requeue puts it.
 */
#include "store/bb_table.h"

#include <stdio.h>
#include <string.h>

#define END BB_STATUS_NONE

const char *const bb_section_names[BB_SECTION_COUNT] = {
    "RAW_FEED",     "DEBATE_QUEUE", "CONSENSUS", "PRODUCTION_FLOOR",
    "REVIEW_QUEUE", "PUBLISHED",    "ARCHIVE",   "AGENT_STATE",
};

const struct bb_status_info bb_statuses[BB_STATUS_COUNT] = {
    [BB_PENDING] = {"PENDING",
                    BB_RAW_FEED,
                    false,
                    END,
                    {BB_PROCESSING, BB_ARCHIVED, BB_FAILED, END},
                    NULL,
                    NULL},
    [BB_PROCESSING] = {"PROCESSING",
                       BB_RAW_FEED,
                       false,
                       BB_PENDING,
                       {BB_DEBATING, BB_PENDING, BB_ARCHIVED, BB_FAILED, END},
                       "analyze",
                       NULL},
    [BB_DEBATING] = {"DEBATING",
                     BB_DEBATE_QUEUE,
                     false,
                     END,
                     {BB_CONSENSUS_REACHED, BB_ARCHIVED, BB_FAILED, END},
                     "debate",
                     NULL},
    [BB_CONSENSUS_REACHED] = {"CONSENSUS_REACHED",
                              BB_CONSENSUS,
                              false,
                              END,
                              {BB_PRODUCING, BB_ARCHIVED, BB_FAILED, END},
                              NULL,
                              NULL},
    [BB_PRODUCING] = {"PRODUCING",
                      BB_PRODUCTION_FLOOR,
                      false,
                      END,
                      {BB_REVIEWING, BB_CONSENSUS_REACHED, BB_FAILED, END},
                      "write",
                      "write"},
    [BB_REVIEWING] = {"REVIEWING",
                      BB_REVIEW_QUEUE,
                      false,
                      END,
                      {BB_APPROVED, BB_REJECTED, BB_ARCHIVED, END},
                      "review",
                      NULL},
    [BB_APPROVED] = {"APPROVED",
                     BB_REVIEW_QUEUE,
                     false,
                     END,
                     {BB_PUBLISHED_S, BB_FAILED, END},
                     "publish",
                     NULL},
    [BB_REJECTED] = {"REJECTED",
                     BB_REVIEW_QUEUE,
                     false,
                     END,
                     {BB_ARCHIVED, BB_PRODUCING, END},
                     "archive",
                     NULL},
    [BB_PUBLISHED_S] = {"PUBLISHED", BB_PUBLISHED, true, END, {BB_ARCHIVED, END}, NULL, NULL},
    [BB_ARCHIVED] = {"ARCHIVED", BB_ARCHIVE, true, END, {END}, NULL, NULL},
    [BB_FAILED] = {"FAILED", BB_SECTION_KEEP, true, END, {BB_ARCHIVED, END}, NULL, NULL},
};

const struct bb_step_info bb_steps[BB_STEP_COUNT] = {
    {"analyze", BB_PENDING, NULL},    {"debate", BB_PENDING, NULL},
    {"write", BB_PRODUCING, "write"}, {"rewrite", BB_PRODUCING, "rewrite"},
    {"qa", BB_PRODUCING, "qa"},       {"produce", BB_PRODUCING, "produce"},
    {"review", BB_REVIEWING, NULL},   {"publish", BB_APPROVED, NULL},
};

const struct bb_flow_stage bb_flow_stages[BB_FLOW_COUNT] = {
    [BB_FLOW_PENDING] = {"pending", BB_PENDING, NULL, "the scouts' screening calls"},
    [BB_FLOW_DEBATE] = {"debate", BB_DEBATING, NULL, "the analysts stop promoting"},
    [BB_FLOW_WRITE] = {"write", BB_CONSENSUS_REACHED, NULL, "the debaters open no new debate"},
    [BB_FLOW_FLOOR] = {"floor", BB_PRODUCING, NULL, "the writers take no new story"},
    [BB_FLOW_QA] = {"qa", END, "qa", "the writers' paid calls"},
    [BB_FLOW_PRODUCE] = {"produce", END, "produce", "QA takes no story"},
    [BB_FLOW_REVIEW] = {"review", BB_REVIEWING, NULL, "the producers take no story"},
};

int bb_flow_holding(const long depth[BB_FLOW_COUNT], const long hwm[BB_FLOW_COUNT])
{
    for (int i = BB_FLOW_COUNT - 1; i >= 0; i--)
        if (hwm[i] > 0 && depth[i] >= hwm[i])
            return i;
    return -1;
}

char *bb_step_names(char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (int i = 0; i < BB_STEP_COUNT && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", bb_steps[i].name);
    return buf;
}

const struct bb_step_info *bb_step_find(const char *name)
{
    for (int i = 0; name != NULL && i < BB_STEP_COUNT; i++)
        if (strcmp(bb_steps[i].name, name) == 0)
            return &bb_steps[i];
    return NULL;
}

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
