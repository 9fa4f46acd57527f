#!/usr/bin/env bash
# The control room's panes on screen: `newsroom --attach` watching a seeded swarm (stories in
# review and archived, closed debates, a budget limit and an open budget request, a live scout)
# at 80x24 (one pane at a time: keys 1-7 each show their pane with seeded data), 120x40 and
# 200x60 (every pane at once). Another operator's `ctl approve` reaches the audit pane. Titles
# from outside reach the screen inert: escape sequences as visible '?' text with the terminal's
# title unchanged, CJK and accents as they are.
. "$(dirname "$0")/../integration/lib.sh" "$1"
. "$(dirname "$0")/lib.sh"

tui_setup || { finish; exit 1; }
tui_seed || { finish; exit 1; }
scout_start
scout_seen() { nr ctl agents --json | jq -e '[.agents[] | select(.role == "scout")] | length > 0'; }
await "the scout to register" 30 scout_seen
SCOUT=$(nr ctl agents --json | jq -r '[.agents[] | select(.role == "scout")][0].id')
NREVIEW=$(nr ctl items --status REVIEWING --json | jq 'if type == "array" then length else (.items | length) end')
REVIEW_ONE=$(review_id 0)
REVIEW_TITLE=$(item_field "$REVIEW_ONE" title | cut -c1-20)
# The newest closed debate: first in the debates pane's closed list.
DEBATE_TITLE=$(nr ctl debates --closed --limit 1 --json | jq -r '.closed[0].title' | cut -c1-15)
[ -n "$DEBATE_TITLE" ] && [ "$DEBATE_TITLE" != null ] && ok || bad "no closed debate seeded"

# filter TEXT: the focused pane's list shows only rows containing TEXT.
filter() {
  keys /
  await_screen "the filter prompt" 5 "Show only the rows"
  keys C-u # the prompt starts with the pane's current filter
  type_text "$1"
  keys Enter
  await_screen "the filter set" 5 "filter: $1"
}

# ---- 80x24: the compact layout, one pane at a time ----
room_attach 80 24
await_screen "the header at 80x24" 15 "attached"
await_screen "the first snapshot" 10 "running"
on_screen "1 Blackboard"
on_screen "7 Audit"
off_screen "7 Audi…"
keys 1
await_screen "pane 1" 5 "Blackboard: RAW_FEED"
on_screen "REVIEW_QUEUE"
on_screen "ARCHIVE"
filter cjk-1
await_screen "the CJK title" 5 "$CJK_TITLE"
keys 2
await_screen "pane 2" 5 "Debates: 0 open"
on_screen "closed"
on_screen "consensus"
on_screen "$DEBATE_TITLE"
keys 3
await_screen "pane 3" 5 "Agents: 2, 0 dead"
await_screen "the live scout" 5 "$SCOUT"
on_screen "scout"
keys 4
await_screen "pane 4" 5 "Budget: 1 open request"
on_screen "REQUEST  $SEED_REQUEST"
on_screen "agent_daily"
on_screen "SWARM"
on_screen '$50.00'
filter writer
await_screen "the writer's limit" 5 '$5.00'
keys 5
await_screen "pane 5" 5 "Review: $NREVIEW waiting"
filter "$REVIEW_ONE"
await_screen "a story in review" 5 "Review: 1 of $NREVIEW waiting"
on_screen "$REVIEW_TITLE"
keys 6
await_screen "pane 6" 5 "Events:"
await_screen "the scout's writes" 10 "by scout-"
keys 7
await_screen "pane 7" 5 "Audit: 0 operator actions"
on_screen "no operator actions recorded"
# Another operator approves from the shell: the audit pane shows it.
run 0 nr ctl approve "$REVIEW_ONE" --note "from the shell"
await_screen "the audit record" 10 "Audit: 1 operator action"
on_screen "approve"
on_screen "$REVIEW_ONE"
keys q
room_gone 10
[ "$EXIT_CODE" = 0 ] && ok || bad "exit $EXIT_CODE after q at 80x24"
room_clean

# ---- 120x40 and 200x60: the grid, every pane at once ----
for size in 120x40 200x60; do
  room_attach "${size%x*}" "${size#*x}"
  await_screen "the header at $size" 15 "attached"
  await_screen "the first snapshot at $size" 10 "running"
  for title in "Blackboard: RAW_FEED" "Debates: 0 open" "Agents: 2, 0 dead" \
    "Budget: 1 open request" "Review: $((NREVIEW - 1)) waiting" "Events:" \
    "Audit: 1 operator action"; do
    on_screen "$title"
  done
  # At 120x40 the blackboard pane (11 rows) shows the selected section only.
  [ "$size" = 200x60 ] && on_screen "REVIEW_QUEUE"
  on_screen "consensus"
  on_screen "$DEBATE_TITLE"
  # The agents pane may cut the id in the middle: its end stays.
  on_screen "${SCOUT: -6}"
  on_screen "REQUEST  $SEED_REQUEST"
  on_screen "SWARM"
  on_screen "approve"
  await_screen "the scout's writes at $size" 10 "write wire-"
  off_screen "no tabs"
  off_screen "1 Blackboard   2 Debates"
  keys q
  room_gone 10
  [ "$EXIT_CODE" = 0 ] && ok || bad "exit $EXIT_CODE after q at $size"
  room_clean
done

# ---- a title full of escape sequences: inert text, the terminal's title untouched ----
room_attach 120 40
await_screen "the header" 15 "attached"
TITLE_BEFORE=$(tmx display -p -t room '#{pane_title}')
keys 1
filter evil-1
await_screen "the evil title, inert" 5 "?[31mEVIL?]0;pwned? title"
screen_raw >"$T/evil.raw"
if grep -qF $'\e]0;' "$T/evil.raw"; then bad "an OSC sequence reached the screen"; else ok; fi
if grep -qF 'pwned' "$T/evil.raw"; then ok; else bad "the evil title is not on screen"; fi
[ "$(tmx display -p -t room '#{pane_title}')" = "$TITLE_BEFORE" ] && ok ||
  bad "the pane title changed to '$(tmx display -p -t room '#{pane_title}')'"
[ "$(tmx display -p -t room '#{pane_title}')" != pwned ] && ok || bad "the title was set"
# Its detail: the title again, inert.
keys Enter
await_screen "the evil story's detail" 10 "Evil Wire"
on_screen "?[31mEVIL"
[ "$(tmx display -p -t room '#{pane_title}')" = "$TITLE_BEFORE" ] && ok || bad "the detail changed the title"
keys Escape
await_gone "the detail closed" 5 "Evil Wire"
keys q
room_gone 10
[ "$EXIT_CODE" = 0 ] && ok || bad "exit $EXIT_CODE after q"
room_clean

scout_stop
finish
