#!/usr/bin/env bash
# ctl failed and ctl requeue (the dead set), driven from the shell: usage errors (exit 2, before
# any connection), an unreachable Redis (exit 3), FAILED stories listed in text and --json with
# their step and error history, requeue by id (an ARCHIVED story too), at a named step, and
# --all, each audited; refusals (exit 1) for a story that is neither. Runs against a private
# redis-server in the test's own folder; stories are walked to FAILED and ARCHIVED with bb_tool.
. "$(dirname "$0")/lib.sh" "$1"

SOCK=$T/redis.sock
cleanup() {
  if [ -n "${SRV:-}" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT
rcli() { redis-cli -s "$SOCK" "$@"; }
walk() { "$NEWSROOM_BB_TOOL" walk "$1" "$2"; }

# ---- usage errors: exit 2, checked before connecting ----
export REDIS_URL="redis://127.0.0.1:1"
run 2 "$NR_BIN" ctl requeue
has "$ERR" "usage: newsroom ctl requeue ID|--all"
run 2 "$NR_BIN" ctl requeue s1 --all
run 2 "$NR_BIN" ctl requeue s1 s2
run 2 "$NR_BIN" ctl requeue s1 --step bogus
has "$ERR" '--step "bogus" is not a step (steps: analyze, debate, write, rewrite, qa, produce, review, publish)'
run 2 "$NR_BIN" ctl failed stray
run 2 "$NR_BIN" ctl failed --limit 0
has "$ERR" "--limit"
run 2 "$NR_BIN" ctl failed --bogus
has "$ERR" "unknown option --bogus"
# ---- unreachable: exit 3, nothing on stdout with --json ----
run 3 "$NR_BIN" ctl failed --json
if [ -s "$OUT" ]; then bad "ctl failed --json printed on stdout while failing"; else ok; fi
run 3 "$NR_BIN" ctl requeue --all

# ---- a private server with three stories: two FAILED, one ARCHIVED ----
redis-server --port 0 --unixsocket "$SOCK" --dir "$T" --save "" --appendonly no \
  --logfile "$T/redis.log" >/dev/null 2>&1 &
SRV=$!
pong() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }
await "the private redis-server" 10 pong || { finish; exit 1; }
export REDIS_URL="unix://$SOCK"
{
  echo '{"id": "s1", "title": "Storm hits coast", "content": "Winds of 120 km/h.", "source": "Wire"}'
  echo '{"id": "s2", "title": "Markets rally", "content": "Stocks rose.", "source": "Desk"}'
  echo '{"id": "s3", "title": "Council votes", "content": "The council voted.", "source": "Local"}'
} >"$T/news.jsonl"
run 0 "$NR_BIN" ctl ingest "$T/news.jsonl"
run 0 "$NR_BIN" ctl failed
has "$OUT" "no failed stories"
walk s1 FAILED >/dev/null && walk s2 FAILED >/dev/null && walk s3 ARCHIVED >/dev/null && ok || bad "bb_tool walk"

run 0 "$NR_BIN" ctl failed
has "$OUT" "s1"
has "$OUT" "s2"
hasnt "$OUT" "s3"
has "$OUT" "2 failed"
run 0 "$NR_BIN" ctl failed --json
if jq -e '.count == 2 and all(.failed[]; .status == "FAILED" and .step == "analyze" and (.errors | type) == "array")' "$OUT" >/dev/null; then ok; else bad "ctl failed --json"; fi

# ---- requeue: an ARCHIVED story by id, refusals, --all, --step ----
run 0 "$NR_BIN" ctl requeue s3
has "$OUT" "requeued s3 at step analyze"
if [ "$(rcli hget nr:bb:item:s3 status)" = PENDING ]; then ok; else bad "s3 is $(rcli hget nr:bb:item:s3 status)"; fi
run 1 "$NR_BIN" ctl requeue s3
has "$ERR" "only a FAILED story or an ARCHIVED one can be requeued"
run 1 "$NR_BIN" ctl requeue nosuch
has "$ERR" "no story nosuch"
run 0 "$NR_BIN" ctl requeue --all --json
if jq -e '.requeued == 2 and .refused == 0' "$OUT" >/dev/null; then ok; else bad "requeue --all --json"; fi
run 0 "$NR_BIN" ctl failed --json
if jq -e '.count == 0' "$OUT" >/dev/null; then ok; else bad "the dead set is not empty"; fi
# Every requeue is in the audit stream with its story and step.
run 0 "$NR_BIN" ctl audit --json --limit 10
if jq -e '[.entries[] | select(.what == "requeue")] | length == 3 and (map(.item) | sort) == ["s1", "s2", "s3"] and all(.[]; .reason == "requeued at step analyze")' "$OUT" >/dev/null; then ok; else bad "audit of the requeues: $(cat "$OUT")"; fi
# At a named step: the story goes to that step's place.
walk s1 FAILED >/dev/null && ok || bad "bb_tool walk"
run 0 "$NR_BIN" ctl requeue s1 --step produce --json
if jq -e '.requeued == "s1" and .step == "produce"' "$OUT" >/dev/null; then ok; else bad "requeue --step --json"; fi
if [ "$(rcli hget nr:bb:item:s1 status)/$(rcli hget nr:bb:item:s1 stage)" = PRODUCING/produce ]; then ok; else bad "s1 is not waiting on produce"; fi
if [ "$(rcli zscore nr:bb:stage:produce s1)" != "" ]; then ok; else bad "s1 is not on the produce stage"; fi
finish
