#!/usr/bin/env bash
# The control room's keys act on the swarm, checked in Redis: approve in the review pane (the
# story APPROVED, an audit record); reject with a typed reason (REJECTED with that reason); an
# empty or blank reason refused with nothing changed; the emergency with halt (the message on
# the emergency channel, the halt flag set, HALTED in the header, the live scout paused) and
# resume with h; a budget request granted with g (a bad amount refused first). Then the link
# lost: the private redis-server stopped (SIGSTOP), the banner, keys still answering, an
# approval made meanwhile; SIGCONT, the banner gone, the approval done and its answer shown, a
# story ingested afterwards listed; q with the link down again still exits 0 at once. At
# 80x24, one pane at a time.
. "$(dirname "$0")/../integration/lib.sh" "$1"
. "$(dirname "$0")/lib.sh"

tui_setup || { finish; exit 1; }
tui_seed || { finish; exit 1; }
scout_start
scout_status() { nr ctl agents --json | jq -r '[.agents[] | select(.role == "scout")][0].status // empty'; }
scout_is() { [ "$(scout_status)" = "$1" ]; }
scout_not() { local s; s=$(scout_status); [ -n "$s" ] && [ "$s" != "$1" ]; }
await "the scout to register" 30 scout_not none

# Three stories in review whose ids are no prefix of another (a two-digit number).
mapfile -t IDS < <(nr ctl items --status REVIEWING --json |
  jq -r '(if type == "array" then . else .items end)[] | .id' | grep -E -- '-[0-9]{2}$' | sort)
[ "${#IDS[@]}" -ge 3 ] && ok || { bad "fewer than 3 stories in review: ${IDS[*]}"; finish; exit 1; }
A=${IDS[0]} B=${IDS[1]} C=${IDS[2]}
status_of() { item_field "$1" status; }
status_is() { [ "$(status_of "$1")" = "$2" ]; }
audit_count() { nr ctl audit --json | jq '.entries | length'; }

# select ID: the review pane, filtered down to that story (the only row, selected).
title_of() { item_field "$1" title | cut -c1-20; }
select_story() { review_select "$1" "$(title_of "$1")"; }

room_attach 80 24
await_screen "the header" 15 "attached"
await_screen "the first snapshot" 10 "running"

# ---- approve ----
select_story "$A"
keys a
await_screen "the approve question" 5 "Approve \""
keys y
await_screen "the worker's answer" 10 "approved $A"
run 0 nr ctl item "$A" --json
[ "$(jq -r .status "$OUT")" = APPROVED ] && ok || bad "$A is $(jq -r .status "$OUT"), not APPROVED"
run 0 nr ctl audit --json
[ "$(jq -r --arg id "$A" '[.entries[] | select(.item == $id and .what == "approve")] | length' "$OUT")" = 1 ] &&
  ok || bad "no audit record of approving $A"
[ "$(jq -r --arg id "$A" '.entries[] | select(.item == $id) | .user' "$OUT")" = "$(id -un)" ] &&
  ok || bad "the audit record does not name $(id -un)"
await_screen "$A leaves the review list" 10 "Review: 0 of"

# ---- reject: an empty reason, a blank one, then a typed one ----
select_story "$B"
keys r
await_screen "the reason prompt" 5 "Reject; the reason (required):"
keys Enter
await_screen "the refusal of an empty reason" 5 "a rejection needs a reason"
on_screen "Reject; the reason (required):"
type_text "   "
keys Enter
await_screen "the refusal of a blank reason" 5 "a rejection needs a reason"
status_is "$B" REVIEWING && ok || bad "$B is $(status_of "$B") after an empty reason"
[ "$(audit_count)" = 1 ] && ok || bad "an empty reason left an audit record"
keys C-u
type_text "off topic for tonight"
keys Enter
await_screen "the worker's answer" 10 "rejected $B"
run 0 nr ctl item "$B" --json
[ "$(jq -r .status "$OUT")" = REJECTED ] && ok || bad "$B is $(jq -r .status "$OUT"), not REJECTED"
has "$OUT" "off topic for tonight"
run 0 nr ctl audit --json
[ "$(jq -r --arg id "$B" '.entries[] | select(.item == $id) | "\(.what) \(.reason)"' "$OUT")" = \
  "reject off topic for tonight" ] && ok || bad "the audit lacks the rejection of $B with its reason"

# ---- an empty reason then Esc: nothing at all ----
select_story "$C"
keys r
await_screen "the reason prompt" 5 "Reject; the reason (required):"
keys Enter
await_screen "the refusal" 5 "a rejection needs a reason"
keys Escape
await_gone "the prompt closed" 5 "Reject; the reason"
status_is "$C" REVIEWING && ok || bad "$C is $(status_of "$C") after a cancelled rejection"
[ "$(audit_count)" = 2 ] && ok || bad "a cancelled rejection left an audit record"

# ---- emergency with halt; resume with h ----
redis-cli -s "$T/r.sock" SUBSCRIBE nr:bus:broadcast:emergency >"$T/sub.out" 2>&1 &
SUB=$!
numsub() { [ "$(rcli PUBSUB NUMSUB nr:bus:broadcast:emergency | tail -n 1)" -ge "$1" ]; }
await "the emergency subscriber" 10 numsub 1
keys '!'
await_screen "the emergency's first step" 5 "EMERGENCY: step 1 of 2"
keys Enter
await_screen "an empty message refused" 5 "an emergency needs a message"
type_text "fire drill in the newsroom"
keys Enter
await_screen "the emergency's second step" 5 "alert and HALT the swarm"
keys 2
await_screen "the halt in the header" 10 "HALTED by"
on_screen "fire drill in the newsroom"
await_screen "the worker's answer" 10 "the swarm is halted"
await "the emergency on the channel" 10 grep -qF "fire drill in the newsroom" "$T/sub.out"
has "$T/sub.out" '"type":"EMERGENCY"'
has "$T/sub.out" '"halt":true'
kill "$SUB" 2>/dev/null
wait "$SUB" 2>/dev/null
[ "$(rcli EXISTS nr:control:halt)" = 1 ] && ok || bad "no halt flag in Redis"
await "the scout to pause" 20 scout_is paused
raw_feed() { rcli ZCARD nr:bb:sec:RAW_FEED; }
n1=$(raw_feed)
keys h
await_screen "the resume question" 5 "Lift the halt"
keys y
await_gone "the halt lifted" 10 "HALTED by"
await_screen "running again" 10 "running"
await_screen "the worker's answer" 10 "the swarm resumed"
[ "$(rcli EXISTS nr:control:halt)" = 0 ] && ok || bad "the halt flag is still set"
await "the scout to go on" 20 scout_not paused
run 0 nr ctl audit --json
for what in emergency resume; do
  [ "$(jq -r --arg w "$what" '[.entries[] | select(.what | startswith($w))] | length' "$OUT")" -ge 1 ] &&
    ok || bad "no audit record of $what"
done
raw_grew() { [ "$(raw_feed)" -gt "$n1" ]; }
await "the resumed scout to write stories again" 20 raw_grew

# ---- grant the open budget request: an amount, then a confirmation ----
keys 4
await_screen "the budget pane" 5 "Budget: 1 open request"
keys g
await_screen "the preset amounts" 5 "another amount (type it)"
on_screen "+\$20.00"
keys 5
await_screen "the amount prompt" 5 "Amount in"
keys C-u
type_text "abc"
keys Enter
await_screen "a bad amount refused" 5 "not an amount"
keys C-u
type_text "3.5"
keys Enter
await_screen "the grant question" 5 'Grant $3.50 more to request'
keys y
await_screen "the worker's answer" 10 "request $SEED_REQUEST granted"
await_screen "no open request left" 10 "Budget: 0 open requests"
run 0 nr ctl budget requests --all --json
[ "$(jq -r --arg id "$SEED_REQUEST" '.requests[] | select(.id == $id) | .status' "$OUT")" = granted ] &&
  ok || bad "request $SEED_REQUEST is not granted"
# The analyst, granted, would take the stories written from here on: it has done its part.
analyst_stop

# ---- the link lost: Redis stopped, keys answer, an action waits; Redis back ----
D=${IDS[3]:-}
kill -STOP "$RPID"
await_screen "the link-lost banner" 20 "LINK LOST"
keys '?'
await_screen "the help" 5 "Shift-Tab"
keys Escape
await_gone "the help closed" 5 "Shift-Tab"
keys 6
await_screen "the events pane" 5 "Events:"
keys Tab
await_screen "Tab to the audit pane" 5 "Audit:"
keys BTab
await_screen "Shift-Tab back to events" 5 "Events:"
if [ -n "$D" ]; then
  select_story "$D"
  keys a
  await_screen "the approve question" 5 "Approve \""
  keys y
  await_screen "the approval waiting" 5 "the link is down"
fi
on_screen "LINK LOST"
room_alive && ok || bad "the control room died with the link"
kill -CONT "$RPID"
await_gone "the banner gone" 20 "LINK LOST"
await_screen "running again" 10 "running"
if [ -n "$D" ]; then
  await "$D approved after the link came back" 20 status_is "$D" APPROVED
  await_screen "the answer of the waiting approval" 10 "approved $D"
fi
# A story ingested after the link came back shows up.
jq -cn '{id: "after-1", title: "The link came back and so did the news", content: "After.",
  source: "Late Wire", url: "https://wire.example/after", published: "2026-11-28T06:00:00Z",
  topics: ["world"]}' | nr ctl ingest - >/dev/null
keys 1
await_screen "the blackboard" 5 "Blackboard:"
keys /
await_screen "the filter prompt" 5 "Show only the rows"
keys C-u
type_text after-1
keys Enter
await_screen "the new story" 10 "The link came back and so did"

# q while the link is down: the control room still ends at once, and cleanly.
kill -STOP "$RPID"
await_screen "the link-lost banner again" 20 "LINK LOST"
keys q
room_gone 5
[ "$EXIT_CODE" = 0 ] && ok || bad "exit $EXIT_CODE after q with the link down"
room_clean
kill -CONT "$RPID"
scout_stop
finish
