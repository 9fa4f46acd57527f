#!/usr/bin/env bash
# The dead set and the circuit breakers in the control room (issue 11), on a private
# redis-server: stories failed as agents fail them (bb_tool claims each and fails its attempts
# through the blackboard's scripts, so every one is FAILED with its error history), one of them
# at the produce step, and a breaker opened through the engine's breaker API (breaker_tool).
#   80x24: the header's second row counts the failed stories and names the open breaker with
#     when it tries again; the tab bar holds all eight panes whole; the Failed pane (8) lists each story with
#     its title, step, attempts and last error; Enter opens the story with the step that failed
#     and its errors on the first screen; u asks (naming the story and the step), n keeps it, y
#     requeues it: it leaves FAILED, `ctl items` shows it back at its step, the audit stream
#     and the audit pane have the record; U requeues at a step chosen from the list; a requeue
#     refused because the story was requeued from the shell meanwhile says why; A asks naming
#     how many and requeues them all, each audited; the agents pane lists the breaker with its
#     state and when it tries again; u in a story's detail requeues it too.
#   LANG=C and NO_COLOR at 80x24: the same pane in ASCII, without colour.
#   120x40: the Failed pane beside the review desk, the breaker in the agents pane and header.
. "$(dirname "$0")/../integration/lib.sh" "$1"
. "$(dirname "$0")/lib.sh"

tui_setup || { finish; exit 1; }

# ---- the seed: four stories failed at analyze (3 attempts each), one of them again at produce
story() { # story ID TITLE
  jq -cn --arg id "$1" --arg t "$2" '{id: $id, title: $t, content: ("Copy of " + $t + "."),
    source: "Dead Wire", url: ("https://dead.example/" + $id), published: "2026-11-28T06:00:00Z",
    topics: ["world"]}'
}
{
  story dead-1 "Harbour crane collapses at dawn"
  story dead-2 "Council delays the tram vote"
  story dead-3 "Storm floods the river path"
  story dead-4 "Museum reopens its north wing"
} >"$T/dead.jsonl"
nr ctl ingest "$T/dead.jsonl" >/dev/null || bad "ingest of the stories to fail"
"$NEWSROOM_BB_TOOL" fail 3 "the model answered without JSON" || bad "bb_tool fail"
run 0 nr ctl requeue dead-4 --step produce
"$NEWSROOM_BB_TOOL" fail 2 "ffmpeg exited with status 1" produce || bad "bb_tool fail at produce"
failed_count() { nr ctl failed --json | jq .count; }
[ "$(failed_count)" = 4 ] && ok || bad "seed: $(failed_count) failed, wanted 4"
[ "$(item_field dead-4 status)/$(nr ctl failed --json | jq -r '.failed[] | select(.id == "dead-4") | .step')" = FAILED/produce ] &&
  ok || bad "seed: dead-4 is not FAILED at produce"
BREAKER=$("$NEWSROOM_BREAKER_TOOL" open llm "openai@http://127.0.0.1:9" 900 "connection refused") ||
  bad "breaker_tool: the breaker is not open"
[ "$BREAKER" = "llm:openai@http://127.0.0.1:9" ] && ok || bad "breaker named '$BREAKER'"
# A live agent, so the header's second row is the swarm's state (not the stopped-swarm banner):
# a debater, which neither writes stories nor claims any but its debates'.
"$NR_BIN" swarm --roles debater:1 --duration 600 >/dev/null 2>"$T/debater.err" &
DEBATER=$!
debater_seen() { nr ctl agents --json | jq -e '[.agents[] | select(.role == "debater")] | length > 0'; }
await "the debater to register" 30 debater_seen
audit_requeues() { nr ctl audit --json --limit 100 | jq '[.entries[] | select(.what == "requeue")] | length'; }
R0=$(audit_requeues) # the seed's requeue of dead-4

# failed_select ID TITLE: the Failed pane filtered on the server down to story ID.
failed_select() {
  keys 8
  await_screen "the failed pane" 5 "Failed:"
  keys /
  await_screen "the filter prompt" 5 "Show only the rows"
  keys C-u
  type_text "$1"
  keys Enter
  await_screen "the filter on $1" 5 "filter: $1"
  await_screen "$1 alone in the list" 10 "Failed: 1 of"
  await_screen "$1's title" 5 "$2"
}
screen_matches() { screen | grep -qE -- "$1"; }
filter_off() {
  keys /
  await_screen "the filter prompt" 5 "Show only the rows"
  keys C-u Enter
  await_screen "the filter off" 5 "filter off"
}

# ---- 80x24 ----
room_attach 80 24
await_screen "the header at 80x24" 15 "running"
await_screen "the failed count in the header" 10 "4 failed stories (8)"
await "the open breaker in the header" 10 screen_matches "breaker OPEN, trial in 1[0-5]m: llm:openai@"
for tab in "1 Blackboard" "5 Review" "7 Audit" "8 Failed"; do on_screen "$tab"; done
off_screen "8 Fail…"
keys 8
await_screen "the failed pane" 5 "Failed: 4 stories"
for text in "Harbour crane collaps" "Council delays the t" "Storm floods the riv" \
  "Museum reopens its n" "analyze" "produce" "the model answered without" "ffmpeg exited with"; do
  on_screen "$text"
done
# TITLE, STEP, TRIES: dead-4's row says produce after 5 attempts (3 at analyze, 2 at produce).
screen | grep -E "Museum reopens.* produce +5 " >/dev/null && ok || bad "dead-4's row: $(screen | grep Museum)"
screen | grep -E "Harbour crane.* analyze +3 " >/dev/null && ok || bad "dead-1's row: $(screen | grep Harbour)"

# Enter: the story, the step that failed and its last errors on the first screen.
failed_select dead-4 "Museum reopens its n"
keys Enter
await_screen "the detail" 10 "-- 1 Decision --"
await_screen "the failed step" 10 "FAILED at step produce after 5 attempts"
on_screen "ffmpeg exited with status 1 (try 2)"
on_screen "u/U requeue"
keys Escape
await_gone "the detail closed" 5 "-- 1 Decision --"

# u: the question names the story and the step; n keeps it FAILED.
keys u
await_screen "the requeue question" 5 "Requeue \"Museum reopens its north wing\" at step produce"
await_dialog "the requeue's scope" 5 "Requeue dead-4" "at step produce, where it failed after 5 attempts;"
keys n
await_gone "the question closed" 5 "Requeue \"Museum"
[ "$(item_field dead-4 status)" = FAILED ] && ok || bad "dead-4 is $(item_field dead-4 status) after n"
[ "$(audit_requeues)" = "$R0" ] && ok || bad "a cancelled requeue left an audit record"
# u, y: requeued at produce, back on the produce stage, audited.
keys u
await_screen "the requeue question" 5 "Requeue \"Museum reopens"
keys y
await_screen "the worker's answer" 10 "requeued dead-4 at step produce"
await_screen "dead-4 gone from the list" 10 "Failed: 0 of 3"
run 0 nr ctl items --status PRODUCING --json
[ "$(jq -r '[(if type == "array" then . else .items end)[] | select(.id == "dead-4")] | length' "$OUT")" = 1 ] &&
  ok || bad "ctl items does not show dead-4 in PRODUCING"
[ "$(item_field dead-4 stage)" = produce ] && ok || bad "dead-4 waits on '$(item_field dead-4 stage)'"
[ "$(audit_requeues)" = $((R0 + 1)) ] && ok || bad "$(audit_requeues) requeue records, wanted $((R0 + 1))"
run 0 nr ctl audit --json --limit 1
jq -e '.entries[0] | .what == "requeue" and .item == "dead-4" and .reason == "requeued at step produce"' \
  "$OUT" >/dev/null && ok || bad "the audit record of dead-4: $(cat "$OUT")"
keys 7
await_screen "the audit pane" 5 "Audit:"
on_screen "requeue      dead-4"
on_screen "requeued at step produce"

# U: at a step chosen from the list (write, instead of analyze where it failed).
failed_select dead-3 "Storm floods the riv"
keys U
await_screen "the steps" 5 "analyze (where it failed)"
on_screen "8  publish"
keys 3
await_dialog "the question with the step" 5 "Requeue dead-3" "at step write, instead of analyze, where it failed;"
keys y
await_screen "the worker's answer" 10 "requeued dead-3 at step write"
[ "$(item_field dead-3 status)/$(item_field dead-3 stage)" = PRODUCING/write ] && ok ||
  bad "dead-3 is $(item_field dead-3 status)/$(item_field dead-3 stage)"

# A refused requeue: the story was requeued from the shell while the question was open.
failed_select dead-2 "Council delays the t"
keys u
await_screen "the requeue question" 5 "Requeue \"Council delays the tram vote\""
run 0 nr ctl requeue dead-2
keys y
await_screen "the refusal" 10 "requeue dead-2 refused: dead-2 is PENDING"
[ "$(audit_requeues)" = $((R0 + 3)) ] && ok || bad "$(audit_requeues) requeue records, wanted $((R0 + 3))"

# A: every failed story, the question naming how many. Three more fail first (and dead-2
# again): dead-1, dead-2, new-1..3 make five.
filter_off
{
  story new-1 "Bridge inspection finds cracks"
  story new-2 "School year starts a week late"
  story new-3 "Airport adds a night curfew"
} | nr ctl ingest - >/dev/null
"$NEWSROOM_BB_TOOL" fail 2 "the analysis named no verdict" || bad "bb_tool fail (more)"
[ "$(failed_count)" = 5 ] && ok || bad "$(failed_count) failed, wanted 5"
await_screen "five in the pane" 10 "Failed: 5 stories"
await_screen "five in the header" 10 "5 failed stories"
keys A
await_screen "the requeue-all question" 5 "Requeue all 5 failed stories, each at the step that failed?"
keys y
await_screen "the worker's answer" 10 "requeued 5 failed stories"
await_screen "the pane empty" 10 "no failed stories"
await_gone "the header count gone" 10 "failed stories (8)"
[ "$(failed_count)" = 0 ] && ok || bad "$(failed_count) still failed after A"
[ "$(audit_requeues)" = $((R0 + 8)) ] && ok || bad "$(audit_requeues) requeue records, wanted $((R0 + 8))"
keys A
await_screen "nothing to requeue" 5 "no failed story to requeue"

# The agents pane: the breaker, its state and when it tries again.
keys 3
await_screen "the agents pane" 5 "1 breaker not closed"
on_screen "$BREAKER"
screen | grep -E "OPEN +[0-9]+m" >/dev/null && ok || bad "no OPEN row with its trial time: $(screen | grep -F "$BREAKER")"
on_screen "connection refused"

# u in a story's detail: a story failed again, opened from the pane, requeued from there.
"$NEWSROOM_BB_TOOL" fail 1 "the model answered without JSON" || bad "bb_tool fail (detail)"
failed_select new-1 "Bridge inspection fi"
keys Enter
await_screen "the failed step" 10 "FAILED at step analyze"
keys u
await_screen "the requeue question from the detail" 5 "Requeue \"Bridge inspection finds cracks\" at step analyze"
keys y
await_screen "the worker's answer" 10 "requeued new-1 at step analyze"
[ "$(item_field new-1 status)" = PENDING ] && ok || bad "new-1 is $(item_field new-1 status)"
keys q
room_gone 10
[ "$EXIT_CODE" = 0 ] && ok || bad "exit $EXIT_CODE after q at 80x24"
room_clean

# ---- LANG=C and NO_COLOR: ASCII only, no colour ----
room_attach 80 24 LANG=C LC_ALL=C NO_COLOR=1
await_screen "the header in ASCII" 15 "running"
await_screen "the failed count" 10 "4 failed stories"
keys 8
await_screen "the failed pane" 5 "Failed: 4 stories"
on_screen "the model answered without JSON"
screen >"$T/c.txt"
if LC_ALL=C grep -q '[^ -~]' "$T/c.txt"; then bad "non-ASCII on screen under LANG=C: $(LC_ALL=C grep '[^ -~]' "$T/c.txt" | head -n 3)"; else ok; fi
screen_raw >"$T/c.raw"
colours() { grep -cP '\e\[(?:[0-9]*;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]*)*m' "$1"; }
[ "$(colours "$T/c.raw")" = 0 ] && ok || bad "colour under NO_COLOR in the failed pane"
keys q
room_gone 10
room_clean

# ---- 120x40: the grid, the Failed pane under the review desk ----
room_attach 120 40
await_screen "the header at 120x40" 15 "running"
await_screen "the failed pane in the grid" 10 "Failed: 4 stories"
on_screen "Review: 0 waiting"
on_screen "Audit:"
on_screen "the model answered without"
await "the breaker in the header" 10 screen_matches "breaker OPEN, trial in 1[0-5]m: llm:openai@http://127\.0\.0\.1:9"
on_screen "1 breaker not closed"
off_screen "8 Failed"
keys 8
keys A
await_screen "the requeue-all question" 5 "Requeue all 4 failed stories"
keys Escape
await_gone "the question closed" 5 "Requeue all 4"
[ "$(failed_count)" = 4 ] && ok || bad "Esc requeued: $(failed_count) failed"
keys q
room_gone 10
[ "$EXIT_CODE" = 0 ] && ok || bad "exit $EXIT_CODE after q at 120x40"
room_clean

kill "$DEBATER" 2>/dev/null
wait "$DEBATER" 2>/dev/null
finish
