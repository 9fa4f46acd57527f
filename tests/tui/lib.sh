# Helpers for the screen tests: the real newsroom binary in a tmux session of a fixed size,
# on a tmux server of the test's own (its own socket, no user configuration), and a private
# redis-server the test may stop and continue. Sourced after tests/integration/lib.sh.
#
# room_start COLS ROWS [VAR=VALUE ...] -- ARGS   runs `newsroom ARGS` in session "room"
# screen                                      prints what the session shows now
# screen_raw                                  the same with colour escapes (capture -e)
# await_screen DESC SECS TEXT                 polls the screen until it shows TEXT
# keys KEY ...                                tmux send-keys to the session
# redis_private_start / redis_private_stop    a redis-server on $T/r.sock; $RURL its URL
# rcli ARGS                                   redis-cli on it

TMUX_SOCK=nr-tui-$$
tmx() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }

tui_cleanup() {
  tmx kill-server 2>/dev/null
  if [ -n "${RPID:-}" ]; then kill -CONT "$RPID" 2>/dev/null; kill "$RPID" 2>/dev/null; fi
}
trap 'tui_cleanup; cleanup' EXIT

room_start() {
  local cols=$1 rows=$2 envs=()
  shift 2
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  tmx kill-session -t room 2>/dev/null
  tmx new-session -d -s room -x "$cols" -y "$rows" \
    env "${envs[@]}" "$NR_BIN" "$@"
}

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
keys() { tmx send-keys -t room "$@"; }

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
