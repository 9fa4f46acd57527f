/*
 * journal.h - the usage journal: a paid call whose usage record cannot reach Redis (the link
 * is down when the call's commit is sent) is appended to a local file in the data directory,
 * <data dir>/journal/usage-<host>-<pid>.jsonl, one JSON object a line, written with one
 * write() and fsync'd before the call's answer goes back to its caller. The records are
 * replayed (budget_commit()) once the link is back: by the process that wrote them, after its
 * next successful commit, and at start-up by any process of the same data directory for the
 * journals of processes of the same host that are gone. Every record carries the call's
 * unique id (usage_record.uid), and a commit with an id is applied at most once (the marker
 * nr:cost:done:u:<uid>, kept 24 h), so a replay never counts a call twice, even when Redis had
 * applied the commit before the link broke.
 *
 * Threads: one journal per process (journal_open()), any thread; appends and the replay of
 * this process's own file are serialised by a mutex; a replay of another process's file holds
 * an flock on it, so two processes never replay one file at once.
 */
#ifndef NEWSROOM_JOURNAL_H
#define NEWSROOM_JOURNAL_H

#include "cost/usage.h"

#include <stdbool.h>
#include <stdint.h>

struct budget_options;
struct rlink;

/* Opens the process's journal in dir (created, mode 0700). Counted like the breakers' board:
 * only the first open's directory applies, and each open needs a journal_close(). Journals of
 * dead processes found there are marked for replay. Returns 0, or -1 with *cause. */
int journal_open(const char *dir, char **cause);
void journal_close(void);

/* Appends the record of a call committed against reservation resv (NULL or "": none) at
 * t_ms, fsync'd. u->uid must be set. Returns 0, or -1 with *cause (no journal open, or the
 * file cannot be written: the record is then lost, as the caller logs). */
int journal_append(const struct usage_record *u, const char *resv, int64_t t_ms, char **cause);

/* Whether records wait to be replayed (this process's or a dead one's). Cheap: an atomic. */
bool journal_pending(void);

/* Replays every waiting record on l: this process's file, then those of dead processes.
 * A file whose every record was committed (or found committed already) is emptied or
 * removed; on a failure the rest stays for the next replay. *replayed (may be NULL) gets the
 * records applied now. Returns 0, or -1 with *cause (the link failed again). */
int journal_replay(struct rlink *l, const struct budget_options *o, int *replayed, char **cause);

#endif
