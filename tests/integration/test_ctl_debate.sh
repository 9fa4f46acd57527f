#!/usr/bin/env bash
# ctl debate and ctl debates, driven from the shell: usage errors (exit 2, before any
# connection), an unreachable Redis (exit 3), an unknown debate (exit 1), one debate with every
# vote (text and --json), the open and closed lists, and text from Redis made safe for the
# terminal. Runs against a private redis-server in the test's own folder; the debates are
# written with redis-cli in the layout docs/redis-keys.md gives.
. "$(dirname "$0")/lib.sh" "$1"

SOCK=$T/redis.sock
cleanup() {
  if [ -n "${SRV:-}" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT
rcli() { redis-cli -s "$SOCK" "$@"; }

# ---- usage errors: exit 2, checked before connecting ----
export REDIS_URL="redis://127.0.0.1:1"
run 2 "$NR_BIN" ctl debate
has "$ERR" "usage: newsroom ctl debate ID"
run 2 "$NR_BIN" ctl debate a b
run 2 "$NR_BIN" ctl debates --bogus
has "$ERR" "unknown option --bogus"
run 2 "$NR_BIN" ctl debates --limit 0
has "$ERR" "--limit"
run 2 "$NR_BIN" ctl debates stray
# ---- unreachable: exit 3, nothing on stdout with --json ----
run 3 "$NR_BIN" ctl debate s1 --json
if [ -s "$OUT" ]; then bad "ctl debate --json printed on stdout while failing"; else ok; fi

# ---- a private server ----
redis-server --port 0 --unixsocket "$SOCK" --dir "$T" --save "" --appendonly no \
  --logfile "$T/redis.log" >/dev/null 2>&1 &
SRV=$!
pong() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }
await "the private redis-server" 10 pong || { finish; exit 1; }
export REDIS_URL="unix://$SOCK"

run 1 "$NR_BIN" ctl debate nosuch
has "$ERR" 'no debate "nosuch"'
run 0 "$NR_BIN" ctl debates
has "$OUT" "open debates, oldest first (0)"
has "$OUT" "closed debates, newest first (0)"

now=$(($(date +%s) * 1000))
rcli hset nr:debate:s1 story s1 title "$(printf 'Rates \033[31mrise')" summary "A summary" \
  by analyst-1 opened $((now - 5000)) deadline $((now + 55000)) panel 3 quorum 2 threshold 0.6 \
  state closed outcome consensus score 0.8 reason "consensus 0.80 >= 0.60 with 2 of 3 votes" \
  closed $((now - 1000)) closed_by moderator-1 >/dev/null
rcli hset nr:debate:s1:votes debater-1 \
  "{\"vote\":\"for\",\"confidence\":0.8,\"reasoning\":\"$(printf 'holds \\u001b[2J up')\",\"t\":$((now - 3000))}" \
  debater-2 "{\"vote\":\"abstain\",\"confidence\":0.4,\"reasoning\":\"thin\",\"t\":$((now - 2000))}" \
  >/dev/null
rcli hset nr:debate:s1:seats debater-1 $((now - 4000)) debater-2 $((now - 4000)) >/dev/null
rcli zadd nr:debates:closed $((now - 1000)) s1 >/dev/null
rcli hset nr:debate:s2 story s2 title "Open one" summary "" by analyst-1 opened $((now - 100)) \
  deadline $((now + 59900)) panel 3 quorum 2 threshold 0.6 state open >/dev/null
rcli zadd nr:debates:open $((now - 100)) s2 >/dev/null

run 0 "$NR_BIN" ctl debate s1
has "$OUT" "outcome   consensus (score 0.80)"
has "$OUT" "debater-1"
has "$OUT" "holds ?[2J up"
has "$OUT" "Rates ?[31mrise"
has "$OUT" "tally     consensus 1.00 >= 0.60 with 2 of 3 votes (1 for, 0 against, 1 abstaining)"
if grep -q $'\033' "$OUT"; then bad "an escape character reached the terminal"; else ok; fi
run 0 "$NR_BIN" ctl debate s1 --json
has "$OUT" '"outcome": "consensus"'
has "$OUT" '"agent": "debater-2"'
has "$OUT" '"vote": "abstain"'
run 0 "$NR_BIN" ctl debate s2
has "$OUT" "state     open, deadline in"
has "$OUT" "votes     0"
run 0 "$NR_BIN" ctl debates --open
has "$OUT" "open debates, oldest first (1)"
hasnt "$OUT" "closed debates"
run 0 "$NR_BIN" ctl debates --closed --json
has "$OUT" '"closed": ['
hasnt "$OUT" '"open":'
run 0 "$NR_BIN" ctl debates
has "$OUT" "s2"
has "$OUT" "consensus"
finish
