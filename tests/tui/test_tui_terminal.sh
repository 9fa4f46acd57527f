#!/usr/bin/env bash
# The control room and its terminal: resizing with a prompt open (the prompt and its text
# survive, the process lives) and below 80x24 (a message, then the panes again); the C locale
# (ASCII only on screen, the CJK title too) against a UTF-8 one (line drawing); NO_COLOR (no
# colour on screen) against colours; the TERM values of the README, and one without a terminfo
# entry (exit with the hint); q, SIGTERM, SIGHUP and SIGINT each ending with status 0, the
# terminal's modes as they were and no sanitizer report. No live agents: the seeded newsroom
# alone.
. "$(dirname "$0")/../integration/lib.sh" "$1"
. "$(dirname "$0")/lib.sh"

tui_setup || { finish; exit 1; }
tui_seed || { finish; exit 1; }

# quit_ok WHAT: q quits with status 0 and a clean stderr.
quit_ok() {
  keys q
  room_gone 10
  [ "$EXIT_CODE" = 0 ] && ok || bad "exit '$EXIT_CODE' after q ($1)"
  tty_restored
  room_clean
}
started() {
  await_screen "the header ($1)" 15 "attached"
  await_screen "the first snapshot ($1)" 10 "running"
}

# ---- resize with a prompt open, and too small ----
room_attach 120 40
started 120x40
keys 5
await_screen "the review pane focused" 5 "Review:"
keys r
await_screen "the reason prompt" 5 "Reject; the reason (required):"
type_text "half a reason"
await_screen "the typed text" 5 "half a reason"
tmx resize-window -t room -x 80 -y 24
await_screen "the compact layout" 10 "1 Blackboard"
on_screen "Reject; the reason (required):"
on_screen "half a reason"
room_alive && ok || bad "the control room died on the resize"
tmx resize-window -t room -x 120 -y 40
await_gone "the grid again" 10 "1 Blackboard"
on_screen "Reject; the reason (required):"
on_screen "half a reason"
tmx resize-window -t room -x 60 -y 20
await_screen "the too-small message" 10 "terminal too small: 60x20"
off_screen "Reject; the reason"
room_alive && ok || bad "the control room died when too small"
tmx resize-window -t room -x 120 -y 40
await_gone "the too-small message gone" 10 "terminal too small"
on_screen "Review:"
on_screen "Reject; the reason (required):"
# Still a working prompt: finish the text and cancel; nothing is rejected.
type_text " and more"
await_screen "typing after the resizes" 5 "half a reason and more"
keys Escape
await_gone "the prompt closed" 5 "Reject; the reason"
run 0 nr ctl audit --json
[ "$(jq '.entries | length' "$OUT")" = 0 ] && ok || bad "a cancelled prompt acted"
quit_ok resize

# ---- locales: C is ASCII only, UTF-8 draws lines ----
nonascii() { LC_ALL=C grep -c $'[\x80-\xff]' "$1"; }
room_attach 80 24 LANG=C LC_ALL=C
started "LANG=C"
keys 1
await_screen "the blackboard" 5 "Blackboard:"
keys /
await_screen "the filter prompt" 5 "Show only the rows"
type_text cjk-1
keys Enter
await_screen "the filter set" 5 "filter: cjk-1"
await_screen "the CJK story listed" 5 "cjk-1 "
on_screen "+-"
screen >"$T/c.txt"
[ "$(nonascii "$T/c.txt")" = 0 ] && ok ||
  bad "bytes above 0x7e under LANG=C: $(LC_ALL=C grep -n $'[\x80-\xff]' "$T/c.txt" | head -3)"
grep -qE 'caf.* na.*ve Z.*rich +PENDING' "$T/c.txt" && ok || bad "the CJK title is not shown in ASCII"
quit_ok "LANG=C"
room_attach 80 24 LANG=C.UTF-8
started "LANG=C.UTF-8"
keys 1
await_screen "the blackboard" 5 "Blackboard:"
keys /
await_screen "the filter prompt" 5 "Show only the rows"
type_text cjk-1
keys Enter
await_screen "the filter set" 5 "filter: cjk-1"
on_screen "┌"
on_screen "│"
on_screen "$CJK_TITLE"
screen >"$T/u.txt"
[ "$(nonascii "$T/u.txt")" -gt 0 ] && ok || bad "no line drawing under a UTF-8 locale"
quit_ok "LANG=C.UTF-8"

# ---- NO_COLOR: no colour; without it, colours ----
colours() { grep -cP '\e\[(?:[0-9]*;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]*)*m' "$1"; }
room_attach 120 40 NO_COLOR=1
started NO_COLOR
screen_raw >"$T/nocolor.raw"
[ "$(colours "$T/nocolor.raw")" = 0 ] && ok ||
  bad "colour under NO_COLOR: $(grep -oP '\e\[[0-9;]*m' "$T/nocolor.raw" | sort -u | cat -v | head -5)"
grep -qF $'\e[' "$T/nocolor.raw" && ok || bad "no attributes at all under NO_COLOR (capture -e broken?)"
quit_ok NO_COLOR
room_attach 120 40
started colour
screen_raw >"$T/colour.raw"
[ "$(colours "$T/colour.raw")" -gt 0 ] && ok || bad "no colour without NO_COLOR"
quit_ok colour

# ---- TERM values ----
for term in xterm xterm-256color screen tmux-256color linux vt100; do
  room_attach 80 24 TERM=$term
  started "TERM=$term"
  on_screen "newsroom"
  on_screen "1 Blackboard"
  quit_ok "TERM=$term"
done
room_attach 80 24 TERM=nosuchterm ASAN_OPTIONS=detect_leaks=0
room_gone 10
[ -n "$EXIT_CODE" ] && [ "$EXIT_CODE" != 0 ] && ok || bad "TERM=nosuchterm exited '$EXIT_CODE'"
has "$T/room.err" 'TERM="nosuchterm"'
has "$T/room.err" "try TERM=xterm-256color"
room_clean

# ---- started too small: the message, then the panes once it grows; q quits from the message
room_attach 60 20
await_screen "the too-small message at start" 15 "terminal too small: 60x20"
on_screen "q quits"
tmx resize-window -t room -x 80 -y 24
started "grown to 80x24"
tmx resize-window -t room -x 70 -y 24
await_screen "too narrow" 10 "terminal too small: 70x24"
quit_ok "q in the too-small message"

# ---- q, SIGTERM, SIGHUP, SIGINT: an orderly exit, status 0 ----
room_attach 80 24
started q
quit_ok q
for sig in TERM HUP INT; do
  room_attach 80 24
  started "SIG$sig"
  pid=$(room_pid)
  [ -n "$pid" ] && ok || bad "no control room process for SIG$sig"
  kill -"$sig" "$pid"
  room_gone 10
  [ "$EXIT_CODE" = 0 ] && ok || bad "exit '$EXIT_CODE' after SIG$sig"
  tty_restored
  room_clean
done

finish
