#!/usr/bin/env bash
# The review desk on screen (issue 13), against the seeded newsroom plus one story rendered for
# real (espeak-ng and ffmpeg, once) and 500 more waiting:
#   80x24: the header fits and says no "link back" on a fresh start; the review pane is in front;
#     the rendered story's detail holds the script's first line, the video status and the
#     preview URL with its ssh line on its first screen; y copies the URL (OSC 52 through tmux,
#     kept in tmux's buffer); curl fetches a byte range from that URL, a wrong token is refused;
#     a word that ends at the right edge keeps its last letter; the help lists the acting keys
#     first; the emergency dialog is in the alert colours; m shows the messages; a question left
#     open on a story another operator decides closes with the full "already approved by NAME at
#     TIME"; a revise sends a story back and its QA rounds go on (round 1, round 2); the agents
#     pane shows the story an agent holds now and "waiting on budget"; a decline holds; every
#     agent gone: the stopped-swarm banner.
#   120x40 and 200x60: the header fits, no column header is cut, the frames (thumbnail and
#     contact sheet) are drawn, the audit pane keeps its story column, two agents of one role
#     stay apart.
#   500 stories waiting: the 500th is found by the filter and approved; 20 marked with Space are
#     approved with one confirmation, audited 20 times.
. "$(dirname "$0")/../integration/lib.sh" "$1"
. "$(dirname "$0")/lib.sh"

tui_setup || { finish; exit 1; }
tui_seed || { finish; exit 1; }

# ---- one real render: a wire story taken through every role with ffmpeg on ----
"$NR_BIN" wire --n 32 --seed 3 | sed -n 32p >"$T/render.jsonl"
RID=$(jq -r .id "$T/render.jsonl")
RTITLE=$(jq -r .title "$T/render.jsonl" | cut -c1-30)
nr ctl ingest "$T/render.jsonl" >/dev/null || bad "ingest of the story to render"
NEWSROOM_FFMPEG=ffmpeg timeout 200 "$NR_BIN" swarm --once \
  --roles analyst:1,debater:3,moderator:1,writer:1,qa:1,producer:1 >/dev/null 2>"$T/render.err"
[ "$(item_field "$RID" status)" = REVIEWING ] && ok || { bad "the rendered story is $(item_field "$RID" status)"; finish; exit 1; }
[ "$(item_field "$RID" body.package.kind)" = video ] && ok || { bad "no video package"; finish; exit 1; }
MP4=$(item_field "$RID" body.package.mp4)
[ -s "$MP4" ] && ok || bad "no video file $MP4"
# The script's first line, as the detail shows it (its first 40 characters).
SCRIPT1=$(item_field "$RID" body.script.final | head -n 1 | cut -c1-40)

# The swarm's process serves the preview (the scout's; the config's port).
scout_start
scout_seen() { nr ctl agents --json | jq -e '[.agents[] | select(.role == "scout")] | length > 0' >/dev/null; }
await "the scout to register" 30 scout_seen
SCOUT=$(nr ctl agents --json | jq -r '[.agents[] | select(.role == "scout")][0].id')

header_fits() { # the header's two rows hold no cut-off text
  if screen | head -n 2 | grep -qF '…'; then bad "the header is cut: $(screen | head -n 2)"; else ok; fi
}

# ---- 80x24 ----
room_attach 80 24
await_screen "the header at 80x24" 15 "running"
await_screen "the review pane in front" 10 "Review: "
on_screen "spend \$"
on_screen "1 request"
on_screen "review "
header_fits
off_screen "link back"
on_screen "control room ready"

# The rendered story: its first screen holds what the decision needs.
review_select "$RID" "$RTITLE"
keys Enter
await_screen "the detail" 10 "-- 1 Decision --"
await_screen "the video's status" 10 "video     rendered: "
on_screen "$SCRIPT1"
on_screen "QA        passed"
on_screen "preview   from your machine, first the tunnel"
on_screen "│ ssh -N -L $TUI_PREVIEW_PORT:127.0.0.1:$TUI_PREVIEW_PORT"
on_screen "│ http://127.0.0.1:$TUI_PREVIEW_PORT/p/"
URL=$(screen | grep -oE "http://127\.0\.0\.1:[0-9]+/p/[0-9a-f]{32}/video\.mp4" | head -n 1)
[ -n "$URL" ] && ok || bad "no preview URL on the screen"
# The preview answers a byte range through a real HTTP client; a wrong token is refused.
code=$(curl -s -r 0-99 -o "$T/range.bin" -w '%{http_code}' "$URL")
[ "$code" = 206 ] && ok || bad "the preview answered $code to a range request"
head -c 100 "$MP4" >"$T/first.bin"
cmp -s "$T/range.bin" "$T/first.bin" && ok ||
  bad "the range is not the video's first 100 bytes: $(od -An -tx1 "$T/range.bin" | head -n 2) vs $(od -An -tx1 "$T/first.bin" | head -n 2) ($URL, $MP4)"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TUI_PREVIEW_PORT/p/00000000000000000000000000000000/video.mp4")
[ "$code" = 404 ] && ok || bad "a wrong token answered $code"
# y: the URL to the clipboard through tmux (which keeps it with set-clipboard on), said so.
tmx set-option -s set-clipboard on
keys y
await_screen "the copy said" 5 "copied the preview URL to your clipboard (OSC 52 through tmux)"
await "tmux's buffer to hold the URL" 5 sh -c "[ \"\$(tmux -L '$TMUX_SOCK' -f /dev/null show-buffer 2>/dev/null)\" = '$URL' ]" &&
  ok || bad "tmux's buffer holds '$(tmx show-buffer 2>/dev/null)'"
# The contact sheet's block follows the captions at this height.
# (the frames come after the text: the jump is tried again until the sheet is in view).
sheet_in_view() { keys 4; keys PPage; sleep 0.3; shows "shot 1 at "; }
await "the contact sheet" 15 sheet_in_view
keys Escape
await_gone "the detail closed" 5 "-- 1 Decision --"

# The wrap: a word that ends at the right edge keeps its last letter.
WRAP=$(review_id 2)
X69=$(printf 'x%.0s' $(seq 1 69))
rcli hset "nr:bb:item:$WRAP" f:script "$(jq -cn --arg s "$X69 on Tuesday the vote" '{final: $s}')" >/dev/null
review_select "$WRAP" "$(item_field "$WRAP" title | cut -c1-20)"
keys Enter
await_screen "the detail" 10 "-- 2 Script --"
on_screen "x on │"
on_screen "│ Tuesday the vote"
off_screen "x o…"
keys Escape

# Help: the acting keys first, on the first screen at 80x24.
keys '?'
await_screen "the help" 5 "Deciding"
on_screen "review: approve the story"
on_screen "review: mark or unmark"
keys Escape
# The emergency dialog in the alert colours (the banner's red background).
keys '!'
await_screen "the emergency's first step" 5 "EMERGENCY: step 1 of 2"
if screen_raw | grep -F "The message every agent" | grep -qE '48;5;160m|41m'; then ok; else bad "the emergency dialog is not in the alert colours"; fi
keys Escape
await_gone "the emergency dialog closed" 5 "EMERGENCY: step 1"

# A question left open while another operator decides: closed, with the full answer.
STALE=$(review_id 3)
review_select "$STALE" "$(item_field "$STALE" title | cut -c1-20)"
keys a
await_screen "the approve question" 5 "Approve \""
run 0 nr ctl approve "$STALE" --note "from the shell"
await_gone "the stale question closed" 10 "Approve \""
await_screen "who decided it, in full" 10 "already approved by $(id -un)@local at 20"
# m: the messages in full.
keys m
await_screen "the message history" 5 "Messages: the last 100"
on_screen "already approved by $(id -un)@local at 20"
keys Escape

# A revise: the story goes back to the writer and its QA rounds go on.
REV=$(review_id 4)
review_select "$REV" "$(item_field "$REV" title | cut -c1-20)"
keys R
await_screen "the note prompt" 5 "the note for the rewrite"
type_text "tighter lead please"
keys Enter
await_screen "sent back" 10 "sent back for revision $REV"
timeout 100 "$NR_BIN" swarm --once --roles archivist:1,writer:1,qa:1,producer:1 >/dev/null 2>>"$T/seed.err"
await "$REV back in review" 30 sh -c "[ \"\$('$NR_BIN' ctl item '$REV' --json | jq -r .status)\" = REVIEWING ]"
review_select "$REV" "$(item_field "$REV" title | cut -c1-20)"
keys Enter
await_screen "the detail" 10 "-- 1 Decision --"
keys 5
await_screen "the debate section" 5 "-- 5 Debate, votes and revisions --"
keys j j j j j j j j j j j j
await_screen "the first QA round" 10 "qa          round 1:"
on_screen "qa          round 2:"
keys Escape

# The agents pane: the story an agent holds now, and the analyst waiting on budget.
HELD=$(review_id 5)
rcli hset "nr:bb:item:$HELD" owner "$SCOUT" >/dev/null
rcli set "nr:bb:lock:$HELD" "tok:1" PX 60000 >/dev/null
keys 3
await_screen "the agents pane" 5 "Agents: "
await_screen "the scout's task" 10 "$HELD"
await_screen "the analyst waiting on budget" 10 "waiting on budget"
rcli del "nr:bb:lock:$HELD" >/dev/null
await_gone "the task let go" 10 "$HELD"

# A decline holds for the rest of its window: the analyst is refused again, no request opens.
keys 4
await_screen "the budget pane" 5 "Budget: 1 open request"
keys d
await_dialog "the decline question" 5 "Decline a budget request" \
  "Decline request $SEED_REQUEST: $SEED_ANALYST agent_daily"
await_dialog "the decline's scope" 5 "Decline a budget request" \
  "It holds for the rest of that window: no new request opens for it."
keys y
await_screen "declined" 10 "request $SEED_REQUEST declined"
await_screen "no open request" 10 "Budget: 0 open requests"
nr wire --n 3 --seed 98 | nr ctl ingest - >/dev/null
# A bounded look for something that must not happen: the analyst tries the new stories for a
# few seconds, and no request may open meanwhile.
until_s=$((SECONDS + 4))
while [ $SECONDS -lt $until_s ]; do
  [ "$(nr ctl budget requests --json | jq '.requests | length')" = 0 ] || break
  sleep 0.2
done
[ "$(nr ctl budget requests --json | jq '.requests | length')" = 0 ] && ok || bad "a request opened again after the decline"
on_screen "Budget: 0 open requests"

# Every agent gone: the stopped-swarm banner, in the alert colours.
scout_stop
analyst_stop
await_screen "the stopped-swarm banner" 20 "NO AGENTS ALIVE (attached)"
if screen_raw | head -n 2 | grep -qE '48;5;160m|41m'; then ok; else bad "the banner is not in the alert colours"; fi
keys q
room_gone 10
[ "$EXIT_CODE" = 0 ] && ok || bad "exit $EXIT_CODE after q at 80x24"
room_clean

# ---- 120x40 and 200x60: the grids ----
scout_start
"$NR_BIN" swarm --roles scout:2 --duration 600 >/dev/null 2>"$T/scouts.err" &
SCOUTS2=$!
await "three scouts" 30 sh -c "[ \"\$('$NR_BIN' ctl agents --json | jq '[.agents[] | select(.role == \"scout\")] | length')\" = 3 ]"
for size in 120x40 200x60; do
  room_attach "${size%x*}" "${size#*x}"
  await_screen "the header at $size" 15 "running"
  await_screen "the review pane at $size" 10 "Review: "
  header_fits
  await_screen "the audit's story column at $size" 10 "STORY"
  on_screen "$STALE"
  on_screen "WAIT"
  # No column header cut: no heading's beginning ends in the ellipsis ("WAITI…").
  cut_re=
  for word in LENGTH COST WAIT TITLE AGENT ROLE TIER STATUS BEAT TASK TODAY STORY SCORE \
    "FOR/AG/AB" "OF NEEDED" OUTCOME "LEFT / OUTCOME" "WHEN (UTC)" "WHEN UTC" WHO WHAT WHY OWNER; do
    for ((k = 2; k < ${#word}; k++)); do cut_re="$cut_re|${word:0:k}…"; done
  done
  cut_re=$(printf '%s' "${cut_re#|}" | sed 's/[()/]/\\&/g')
  if screen | grep -qE "($cut_re)"; then
    bad "a column header is cut at $size: $(screen | grep -oE "($cut_re)" | head -n 3 | tr '\n' ' ')"
  else ok; fi
  # Two scouts of one process: their ids stay apart however narrow the column.
  n=$(screen | grep -oE 'scout[^ ]*-[0-9]+ ' | sort -u | wc -l)
  [ "$n" -ge 3 ] && ok || bad "the agents pane shows $n distinct scout ids at $size"
  # The rendered story's frames: the thumbnail and the contact sheet, as half-blocks.
  review_select "$RID" "$RTITLE"
  keys Enter
  await_screen "the detail at $size" 10 "-- 1 Decision --"
  await_screen "the frames at $size" 15 "frames: the thumbnail, then"
  on_screen "(half)"
  on_screen "shot 1 at "
  on_screen "▀▀▀▀"
  if screen_raw | grep -F '▀' | grep -qF '48;5;'; then ok; else bad "the half-blocks have no colours"; fi
  keys Escape
  keys q
  room_gone 10
  [ "$EXIT_CODE" = 0 ] && ok || bad "exit $EXIT_CODE after q at $size"
  room_clean
done
kill "$SCOUTS2" 2>/dev/null
wait "$SCOUTS2" 2>/dev/null

# ---- 500 more stories waiting: the 500th found and decided; 20 approved in bulk ----
for i in $(seq -w 1 500); do
  printf '{"id": "bulk-%s", "title": "Bulk story number %s of the night", "content": "Body %s.", "source": "Bulk Wire"}\n' "$i" "$i" "$i"
done >"$T/bulk.jsonl"
nr ctl ingest "$T/bulk.jsonl" >/dev/null || bad "ingest of 500"
jq -r .id "$T/bulk.jsonl" | "$NEWSROOM_BB_TOOL" walk - REVIEWING || bad "walk of 500 to REVIEWING"
WAITING=$(rcli zcard nr:bb:st:REVIEWING)
[ "$WAITING" -ge 500 ] && ok || bad "only $WAITING waiting"
room_attach 80 24
await_screen "the header" 15 "attached"
await_screen "every story counted" 10 "Review: $WAITING waiting"
review_select bulk-500 "Bulk story number 500"
keys a
await_screen "the approve question" 5 "Approve \"Bulk story number 500"
keys y
await_screen "approved" 10 "approved bulk-500"
[ "$(item_field bulk-500 status)" = APPROVED ] && ok || bad "bulk-500 is $(item_field bulk-500 status)"
# Bulk: bulk-0xx, twenty marked with Space, one confirmation naming how many.
keys /
await_screen "the filter prompt" 5 "Show only the rows"
keys C-u
type_text bulk-0
keys Enter
await_screen "the hundred of bulk-0xx" 10 "Review: 99 of"
for i in $(seq 1 20); do keys Space; done
await_screen "twenty marked" 5 "20 marked"
keys a
await_screen "the bulk question" 5 "Approve all 20 marked stories"
keys y
await_screen "the bulk answer" 30 "approved all 20 marked stories, each audited"
n=$(nr ctl audit --limit 1000 --json | jq '[.entries[] | select(.what == "approve" and (.item | startswith("bulk-0")))] | length')
[ "$n" = 20 ] && ok || bad "$n audit records of the bulk approval, not 20"
n=$(nr ctl items --status APPROVED --limit 1000 --json | jq '[.items[] | select(.id | startswith("bulk-0"))] | length')
[ "$n" = 20 ] && ok || bad "$n marked stories approved, not 20"
keys q
room_gone 10
[ "$EXIT_CODE" = 0 ] && ok || bad "exit $EXIT_CODE after q"
room_clean
scout_stop
finish
