/*
 * ctl.h - the verbs of `newsroom ctl`. Each verb is a function in the cli/ctl_*.c file of its
 * subsystem and one row of the verbs[] table in cli_ctl.c. A verb gets the subcommand's
 * context, whether --json was given (--json may stand anywhere on the line and is removed
 * before the verb sees its arguments), and its arguments with argv[0] = the verb's name, so
 * it can parse options with getopt_long (optind and opterr are reset to 0 before the call;
 * print your own message for an unknown option). It returns an exit code (cli.h):
 * 0 done, 1 refused, 2 usage, 3 Redis unreachable. With --json it prints exactly one JSON
 * document on stdout (cli_print_json) and messages only on stderr (cli_error). Main thread.
 */
#ifndef NEWSROOM_CTL_H
#define NEWSROOM_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct bb;
struct cli;
struct news_item;
struct rlink;

/* Opens the log and connects (embedded or configured Redis). Returns the link, owned by the
 * caller (rlink_free), or NULL after printing why, with *exit_code set. */
struct rlink *ctl_link(struct cli *cli, int *exit_code);
/* ctl_link() and a blackboard on it acting as the operator ("user@from", as the audit stream
 * has it): bb_free() it, then rlink_free(*l). NULL with *code set when the link failed. */
struct bb;
struct bb *ctl_open_bb(struct cli *cli, struct rlink **l, int *code);

/* Prints "VERB: CAUSE" (made safe for the terminal), frees cause and returns the exit code of
 * a failed engine call: 3 when the link is down (unreachable or lost), else 1 (the server
 * refused it). */
int ctl_failed(struct rlink *l, const char *verb, char *cause);

/* The message for the option getopt_long() stopped at (c is ':' for a missing value when the
 * option string starts with ':', else '?'); returns EXIT_USAGE. */
int ctl_bad_option(const char *verb, int c, int argc, char **argv);

int ctl_status(struct cli *cli, bool json, int argc, char **argv);

struct bb;
struct memory;
struct news_item;

/* ctl_package.c: where a story's package is, and its files fetched through the store. */
int ctl_package(struct cli *cli, bool json, int argc, char **argv);

/* ctl_bb.c: the blackboard. */
/* The longest JSON Lines line ingest reads: a news item's content of 1 MB, escaped (a \uXXXX
 * escape is 6 bytes for 2 or 3), with room for the other fields. */
#define INGEST_LINE_MAX (4u * 1024 * 1024)
int ctl_ingest(struct cli *cli, bool json, int argc, char **argv);
int ctl_items(struct cli *cli, bool json, int argc, char **argv);
int ctl_item(struct cli *cli, bool json, int argc, char **argv);
int ctl_approve(struct cli *cli, bool json, int argc, char **argv);
int ctl_reject(struct cli *cli, bool json, int argc, char **argv);

/* What an ingest did, and the one report of it (ctl_bb.c, shared with the feed half in
 * ctl_feeds.c): every item accepted, updated at source, merged into a story as a further
 * source, a duplicate, or refused; the lists for --json. ctl_tally_init() opens the vector
 * memory on l (saying on stderr when it cannot: items then enter by their identity alone);
 * ctl_tally_end() closes it. */
struct ctl_tally {
    long accepted, updated, merged, duplicate, invalid;
    json_t *errors, *updates, *merges, *dups;
    struct memory *mem;
};
void ctl_tally_init(struct ctl_tally *t, struct cli *cli, struct rlink *l);
/* Counts a refused item: where (a JSON object naming its line or document; taken) gets the
 * reason, made safe; without --json "LABEL: reason" is printed. */
void ctl_tally_refuse(struct ctl_tally *t, bool json, json_t *where, const char *label,
                      const char *reason);
/* Enters it as the scouts do (memory_story_enter: identity, update at source, semantic merge,
 * exact duplicate) and counts it (where: taken, as above). Returns EXIT_DONE, or the exit code
 * of a failed write (printed). */
int ctl_tally_write(struct ctl_tally *t, struct bb *b, struct rlink *l, const struct news_item *it,
                    const json_t *extra, json_t *where, const char *label);
/* Prints the counts (or the JSON document), frees the lists and the memory; returns code, or
 * EXIT_REFUSED when it is EXIT_DONE and something was refused. */
int ctl_tally_end(struct ctl_tally *t, bool json, int code);

/* ctl_feeds.c: feed sources with their status; ingest of feeds (ctl_ingest hands over a URL,
 * a folder, a file whose content is XML, or standard input's XML as data): each document
 * fetched and parsed by a fetcher pool of its own, full text as [feeds] fulltext says, each
 * item written with the duplicate check. */
int ctl_sources(struct cli *cli, bool json, int argc, char **argv);
int ctl_ingest_feed(struct cli *cli, bool json, const char *source, const char *data, size_t len);

/* ctl_bus.c: the emergency broadcast and halt flag, resume, the operator audit stream. */
int ctl_emergency(struct cli *cli, bool json, int argc, char **argv);
int ctl_resume(struct cli *cli, bool json, int argc, char **argv);
int ctl_audit(struct cli *cli, bool json, int argc, char **argv);

/* ctl_queue.c: the agent registry and the work queues. */
int ctl_agents(struct cli *cli, bool json, int argc, char **argv);
int ctl_queues(struct cli *cli, bool json, int argc, char **argv);
int ctl_dead_letters(struct cli *cli, bool json, int argc, char **argv);

/* ctl_cost.c: budgets, budget requests and usage. */
int ctl_budget(struct cli *cli, bool json, int argc, char **argv);
int ctl_usage_report(struct cli *cli, bool json, int argc, char **argv);

/* ctl_memory.c: the vector memory: stories nearest to a query, an agent's memories. */
int ctl_search(struct cli *cli, bool json, int argc, char **argv);
int ctl_memories(struct cli *cli, bool json, int argc, char **argv);
/* ctl_recovery.c: the dead set: FAILED stories with their error history, and requeue. */
int ctl_failed_list(struct cli *cli, bool json, int argc, char **argv);
int ctl_requeue(struct cli *cli, bool json, int argc, char **argv);

/* ctl_debate.c: debates, with every vote, the consensus and the outcome. */
int ctl_debate(struct cli *cli, bool json, int argc, char **argv);
int ctl_debates(struct cli *cli, bool json, int argc, char **argv);

/* ctl_recovery.c: circuit breakers. */
int ctl_breakers(struct cli *cli, bool json, int argc, char **argv);
int ctl_breaker(struct cli *cli, bool json, int argc, char **argv);
/* ctl_trace.c: a story's trace from the events kept in Redis; the newest traces; replaying
 * the JSON Lines file to Langfuse. */
int ctl_trace(struct cli *cli, bool json, int argc, char **argv);
int ctl_traces(struct cli *cli, bool json, int argc, char **argv);

#endif
