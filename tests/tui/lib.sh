# Helpers for the screen tests: the real newsroom binary in a tmux session of a fixed size,
# on a tmux server of the test's own (its own socket, no user configuration), and a private
# redis-server the test may stop and continue. Sourced after tests/integration/lib.sh.
#
# room_start COLS ROWS [VAR=VALUE ...] -- ARGS   runs `newsroom ARGS` in session "room" through
#                                     sh, which keeps its stderr (where a sanitizer reports) in
#                                     $T/room.err, the tty's modes before and after (stty -a)
#                                     and, when it ends, EXIT=N in $T/exit
# room_pid / room_alive / exited      its process id; whether it runs; whether it has ended
# room_gone SECS                      awaits the end; $EXIT_CODE its status
# tty_restored / room_clean           the tty's modes as they were; no sanitizer report
# screen / screen_raw                 what the session shows now (raw: with colour escapes)
# await_screen / await_gone DESC SECS TEXT   polls the screen until it shows / no longer shows TEXT
# on_screen / off_screen TEXT         counted checks: shows TEXT within 5 s / does not show it now
# dialog_text TITLE                   the open dialog's text as one line, however it wrapped
# await_dialog DESC SECS TITLE TEXT   polls until the dialog titled TITLE says TEXT
# keys KEY ... / type_text TEXT       tmux send-keys: key names / literal text
# first_row_id                        the id on the first row of a list with an ID column
# review_select ID TITLE              the review pane filtered down to story ID (its title shown)
# redis_private_start / redis_private_stop    a redis-server on $T/r.sock; $RURL its URL
# rcli ARGS                           redis-cli on it

TMUX_SOCK=nr-tui-$$
tmx() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }

# Redis continued first: a test that failed while it was stopped must not leave the scout
# waiting on it for ever.
tui_cleanup() {
  if [ -n "${RPID:-}" ]; then kill -CONT "$RPID" 2>/dev/null; fi
  scout_stop
  analyst_stop
  tmx kill-server 2>/dev/null
  if [ -n "${RPID:-}" ]; then kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; fi
}
trap 'tui_cleanup; cleanup' EXIT

room_start() {
  local cols=$1 rows=$2 envs=()
  shift 2
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  tmx kill-session -t room 2>/dev/null
  rm -f "$T/exit"
  # Through a shell that records how the binary ended: $T/exit holds EXIT=<status>.
  tmx new-session -d -s room -x "$cols" -y "$rows" \
    env "${envs[@]}" sh -c 'stty -a >"'"$T"'/stty.before"; "$0" "$@" 2>"'"$T"'/room.err";
      e=$?; stty -a >"'"$T"'/stty.after"; echo "EXIT=$e" >"'"$T"'/exit"' "$NR_BIN" "$@"
}
# The newsroom process of the session (the shell's child), empty when it is gone.
room_pid() {
  local sh
  sh=$(tmx display -p -t room '#{pane_pid}' 2>/dev/null) || return 1
  pgrep -P "$sh" 2>/dev/null | head -n 1
}
room_alive() { [ -n "$(room_pid)" ]; }
exited() { [ -s "$T/exit" ]; }

screen() { tmx capture-pane -p -t room 2>/dev/null; }
screen_raw() { tmx capture-pane -p -e -t room 2>/dev/null; }
shows() { screen | grep -qF -- "$1"; }
await_screen() {
  local desc=$1 secs=$2 text=$3
  if await "$desc" "$secs" shows "$text"; then :; else
    printf '  screen:\n%s\n' "$(screen)" >&2
    return 1
  fi
}
hides() { ! shows "$1"; }
await_gone() {
  local desc=$1 secs=$2 text=$3
  if await "$desc" "$secs" hides "$text"; then :; else
    printf '  screen:\n%s\n' "$(screen)" >&2
    return 1
  fi
}
# Awaited, not checked once: a frame may be half drawn when the screen is captured.
on_screen() { await_screen "'$1' on screen" 5 "$1"; }
off_screen() {
  if hides "$1"; then ok; else
    bad "the screen shows '$1'"
    printf '  screen:\n%s\n' "$(screen)" >&2
  fi
}
# A dialog wraps its text at the dialog's width, so a phrase after a variable part (an agent's
# id, which holds a process id) lands on one line or two by chance. Its text is read from the
# columns inside its frame, found on the top border that holds TITLE: the fields between the
# frame's two │ on each row, until the bottom border, joined and with spaces collapsed. The
# columns left of the dialog must hold no │ but the pane's own border (true of every pane that
# opens one).
dialog_text() {
  screen | awk -v title="┌ $1" '
    !on { n = split($0, f, "│"); for (k = 1; k <= n; k++) if (index(f[k], title)) { on = 1; break }; next }
    { split($0, f, "│"); if (index(f[k], "└")) exit; printf "%s ", f[k + 1] }' |
    tr -s ' '
}
dialog_says() { dialog_text "$1" | grep -qF -- "$2"; }
await_dialog() {
  local desc=$1 secs=$2 title=$3 text=$4
  if await "$desc" "$secs" dialog_says "$title" "$text"; then :; else
    printf '  screen:\n%s\n  dialog text: %s\n' "$(screen)" "$(dialog_text "$title")" >&2
    return 1
  fi
}
keys() { tmx send-keys -t room "$@"; }
type_text() { tmx send-keys -t room -l -- "$1"; }
# The story id on the first row under a list's "ID  TITLE" heading (compact layout).
first_row_id() { screen | awk '/│ID +TITLE/ { getline; sub(/^│/, ""); print $1; exit }'; }
# review_select ID TITLE: the review pane (key 5), filtered on the server down to story ID, its
# title (a prefix of it) on the screen and the list holding that one story.
review_select() {
  keys 5
  await_screen "the review pane" 5 "Review:"
  keys /
  await_screen "the filter prompt" 5 "Show only the rows"
  keys C-u # the prompt starts with the pane's current filter
  type_text "$1"
  keys Enter
  await_screen "the filter on $1" 5 "filter: $1"
  await_screen "$1 alone in the list" 10 "Review: 1 of"
  await_screen "$1's title" 5 "$2"
}
# room_gone SECS: the control room ended within SECS; EXIT_CODE holds its status.
room_gone() {
  EXIT_CODE=
  await "the control room to exit" "$1" exited || return 1
  EXIT_CODE=$(sed -n 's/^EXIT=//p' "$T/exit")
}
# The terminal's modes after the control room ended are those it found (echo, icanon...).
tty_restored() {
  # The first line of stty -a holds the speed and the window's size, which may have changed.
  if diff <(sed 1d "$T/stty.before") <(sed 1d "$T/stty.after") >"$T/stty.diff"; then ok; else
    bad "terminal modes not restored: $(head -c 600 "$T/stty.diff")"
  fi
}
# No sanitizer report on the control room's stderr.
room_clean() {
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$T/room.err" 2>/dev/null; then
    bad "sanitizer report: $(head -c 1500 "$T/room.err")"
  else ok; fi
}

RPID=
redis_private_start() {
  redis-server --port 0 --unixsocket "$T/r.sock" --unixsocketperm 700 --save '' \
    --appendonly no --daemonize no --dir "$T" >"$T/redis.out" 2>&1 &
  RPID=$!
  RURL="unix://$T/r.sock"
  await "the private redis-server" 20 redis-cli -s "$T/r.sock" PING
}
redis_private_stop() { kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; RPID=; }
rcli() { redis-cli -s "$T/r.sock" "$@"; }

# ---- the seeded newsroom every screen test watches ----
#
# tui_setup                    a private redis-server, data directory and configuration (the
#                              sim provider at zero latency, a global daily budget of $50);
#                              exports REDIS_URL, NEWSROOM_CONFIG, NEWSROOM_DATA_DIR
# tui_seed                     seeds it through the binary: 30 wire stories taken through
#                              every role to REVIEWING and ARCHIVED (debates closed; no video
#                              rendered), a daily and hourly limit for one agent, an open budget
#                              request of a live analyst (analyst_start; $SEED_ANALYST) refused by
#                              a limit of its own, a story whose title carries escape sequences
#                              and one in CJK and accents; $SEED_AGENT the limited agent,
#                              $SEED_REQUEST the request's id
# scout_start / scout_stop     a background `newsroom swarm --roles scout:1` (a live agent)
# nr ARGS                      the binary on the private Redis ($OUT/$ERR as run keeps them)
# room_attach COLS ROWS [VAR=VALUE ...]   room_start ... -- --attach, as a shell that writes
#                              the exit code to $T/exit when the control room ends (UTF-8
#                              locale and TERM=xterm-256color unless given)
EVIL_TITLE=$'\e[31mEVIL\e]0;pwned\a title'
CJK_TITLE='東京の記者会見 café naïve Zürich'

tui_setup() {
  redis_private_start || return 1
  export REDIS_URL=$RURL NEWSROOM_CONFIG=$T/newsroom.conf NEWSROOM_DATA_DIR=$T/data
  # No renders in the seed (the review test makes one of its own); the preview on a port of
  # the test's own.
  TUI_PREVIEW_PORT=$(pick_port)
  printf '%s\n' '[providers]' 'sim_latency_fast_ms = 0' 'sim_latency_balanced_ms = 0' \
    'sim_latency_premium_ms = 0' '[cost]' 'global_daily_budget = 50' '[video]' 'ffmpeg = none' \
    '[preview]' "port = $TUI_PREVIEW_PORT" >"$NEWSROOM_CONFIG"
}

nr() { "$NR_BIN" "$@"; }

# review_id [N]: the Nth (from 0) story in REVIEWING, by id; item_field ID FIELD: one field.
review_id() {
  nr ctl items --status REVIEWING --json |
    jq -r '[(if type == "array" then . else .items end)[] | .id] | sort | .['"${1:-0}"']'
}
item_field() { nr ctl item "$1" --json | jq -r ".$2"; }

tui_seed() {
  local agent
  nr wire --n 30 --seed 3 >"$T/wire.jsonl" && nr ctl ingest "$T/wire.jsonl" >/dev/null ||
    { bad "seed: ingest"; return 1; }
  timeout 100 "$NR_BIN" swarm --once \
    --roles analyst:1,debater:3,moderator:1,writer:1,qa:1,producer:1 >/dev/null 2>"$T/seed.err" ||
    { bad "seed: swarm --once"; return 1; }
  # A limit for one agent: its day and hour become gauges.
  agent=$(nr ctl budget --json | jq -r '[.agents[].agent | select(startswith("writer-"))][0]')
  SEED_AGENT=$agent
  nr ctl budget "$agent" --set daily=5,hourly=2,alert=0.75 >/dev/null 2>&1 ||
    { bad "seed: budget --set"; return 1; }
  # An open budget request: a live analyst (it stays for the test: a request whose agent is
  # gone closes by itself) refused by a daily limit of its own below one call.
  analyst_start
  await "the limited analyst to register" 30 analyst_seen || { bad "seed: no analyst"; return 1; }
  SEED_ANALYST=$(nr ctl agents --json | jq -r '[.agents[] | select(.role == "analyst")][0].id')
  nr ctl budget "$SEED_ANALYST" --set daily=0.000001 >/dev/null 2>&1 ||
    { bad "seed: analyst budget --set"; return 1; }
  nr wire --n 3 --seed 99 | nr ctl ingest - >/dev/null
  await "the analyst's budget request" 30 request_open || { bad "seed: no open budget request"; return 1; }
  SEED_REQUEST=$(nr ctl budget requests --json | jq -r '.requests[0].id // empty')
  [ -n "$SEED_REQUEST" ] || { bad "seed: no open budget request"; return 1; }
  # Titles from outside: wide and accented text through ingest; escape sequences written
  # straight into the story's hash (ingest refuses control characters, but whoever can write
  # to Redis can put anything there), as the JSON string the blackboard stores.
  jq -cn --arg t "$CJK_TITLE" '{id: "cjk-1", title: $t, content: "記者会見は東京で行われた。",
    source: "Wire 東京", url: "https://wire.example/cjk", published: "2026-11-28T06:00:00Z",
    topics: ["world"]}' >"$T/odd.jsonl"
  jq -cn '{id: "evil-1", title: "an evil title", content: "A title rewritten in Redis.",
    source: "Evil Wire", url: "https://evil.example/1", published: "2026-11-28T06:00:00Z",
    topics: ["world"]}' >>"$T/odd.jsonl"
  nr ctl ingest "$T/odd.jsonl" >/dev/null || { bad "seed: odd titles"; return 1; }
  rcli hset nr:bb:item:evil-1 f:title "$(jq -cn --arg t "$EVIL_TITLE" '$t')" >/dev/null
  ok
}

ANALYST_PID=
analyst_seen() { nr ctl agents --json | jq -e '[.agents[] | select(.role == "analyst")] | length > 0' >/dev/null; }
request_open() { nr ctl budget requests --json | jq -e '.requests | length > 0' >/dev/null; }
analyst_start() {
  "$NR_BIN" swarm --roles analyst:1 --duration 900 >/dev/null 2>"$T/analyst.err" &
  ANALYST_PID=$!
}
analyst_stop() {
  if [ -n "$ANALYST_PID" ]; then kill "$ANALYST_PID" 2>/dev/null; wait "$ANALYST_PID" 2>/dev/null; fi
  ANALYST_PID=
}

SCOUT_PID=
scout_start() {
  "$NR_BIN" swarm --roles scout:1 --duration 600 >/dev/null 2>"$T/scout.err" &
  SCOUT_PID=$!
}
scout_stop() {
  if [ -n "$SCOUT_PID" ]; then kill "$SCOUT_PID" 2>/dev/null; wait "$SCOUT_PID" 2>/dev/null; fi
  SCOUT_PID=
}

room_attach() {
  local cols=$1 rows=$2
  shift 2
  # A UTF-8 locale and a common TERM unless the caller says otherwise (later VAR=VALUE win).
  room_start "$cols" "$rows" REDIS_URL="$REDIS_URL" NEWSROOM_CONFIG="$NEWSROOM_CONFIG" \
    NEWSROOM_DATA_DIR="$NEWSROOM_DATA_DIR" HOME="$HOME" \
    ${NEWSROOM_THEMES_DIR:+NEWSROOM_THEMES_DIR=$NEWSROOM_THEMES_DIR} \
    LANG=C.UTF-8 LC_ALL= TERM=xterm-256color "$@" -- --attach
}
