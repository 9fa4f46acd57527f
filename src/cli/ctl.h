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

#include <stdbool.h>

struct cli;
struct rlink;

/* Opens the log and connects (embedded or configured Redis). Returns the link, owned by the
 * caller (rlink_free), or NULL after printing why, with *exit_code set. */
struct rlink *ctl_link(struct cli *cli, int *exit_code);

/* Prints "VERB: CAUSE" (made safe for the terminal), frees cause and returns the exit code of
 * a failed engine call: 3 when the link is down (unreachable or lost), else 1 (the server
 * refused it). */
int ctl_failed(struct rlink *l, const char *verb, char *cause);

/* The message for the option getopt_long() stopped at (c is ':' for a missing value when the
 * option string starts with ':', else '?'); returns EXIT_USAGE. */
int ctl_bad_option(const char *verb, int c, int argc, char **argv);

int ctl_status(struct cli *cli, bool json, int argc, char **argv);

/* ctl_bb.c: what ingest shares with its feed half (ctl_feeds.c): a tally of what each item
 * did. ctl_ingest_begin() opens the vector memory on l (saying on stderr when it cannot:
 * items then enter by identity alone); ctl_ingest_item() enters one item (memory_story_enter)
 * and counts it, noting where it came from (where_key "line" with where_line, or "document"
 * with where_doc) beside the updates, merges and duplicates, and returns what
 * memory_story_enter() returned (BB_ERR and BB_REFUSED with *cause, for the caller to report);
 * ctl_ingest_refused() counts an item that could not be read (error: a JSON object for the
 * list, taken, or NULL for none; shown: printed when not NULL); ctl_ingest_end() prints the counts
 * (or, with json, one document with them and the lists), frees the tally and returns code, or
 * EXIT_REFUSED when it was EXIT_DONE and an item was refused. */
struct bb;
struct ingest;
struct news_item;
struct ingest *ctl_ingest_begin(struct cli *cli, struct rlink *l, struct bb *b);
int ctl_ingest_item(struct ingest *g, const struct news_item *it, const char *where_key,
                    long long where_line, const char *where_doc, char **cause);
void ctl_ingest_refused(struct ingest *g, struct json_t *error, const char *shown);
int ctl_ingest_end(struct ingest *g, bool json, int code);

/* ctl_package.c: where a story's package is, and its files fetched through the store. */
int ctl_package(struct cli *cli, bool json, int argc, char **argv);

/* ctl_bb.c: the blackboard. */
int ctl_ingest(struct cli *cli, bool json, int argc, char **argv);
int ctl_items(struct cli *cli, bool json, int argc, char **argv);
int ctl_item(struct cli *cli, bool json, int argc, char **argv);
int ctl_approve(struct cli *cli, bool json, int argc, char **argv);
int ctl_reject(struct cli *cli, bool json, int argc, char **argv);

/* ctl_feeds.c: feed sources with their status; ingest of a feed file or URL (ctl_ingest
 * hands it over when the argument is a URL or the file's content is XML). */
int ctl_sources(struct cli *cli, bool json, int argc, char **argv);
int ctl_ingest_feed(struct cli *cli, bool json, const char *source);

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

/* ctl_debate.c: debates, with every vote, the consensus and the outcome. */
int ctl_debate(struct cli *cli, bool json, int argc, char **argv);
int ctl_debates(struct cli *cli, bool json, int argc, char **argv);

/* ctl_recovery.c: circuit breakers. */
int ctl_breakers(struct cli *cli, bool json, int argc, char **argv);
int ctl_breaker(struct cli *cli, bool json, int argc, char **argv);

#endif
