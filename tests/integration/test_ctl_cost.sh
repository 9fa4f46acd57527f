#!/usr/bin/env bash
# The cost verbs driven from the shell: usage errors (exit 2, before any connection, the bad
# key named), an unreachable Redis (exit 3, nothing on stdout with --json); then on a private
# redis-server (database 7): an agent's limits set and read back, the second process
# (budget_racer) spending against them until refused, `ctl budget` showing spent, reserved,
# limit and utilisation within the limit, one open request, a grant that raises the limit
# for the window and is audited, a second grant refused (exit 1), a decline, `ctl usage` by
# agent, tier and task type agreeing with the budget, and a hostile agent id made safe.
. "$(dirname "$0")/lib.sh" "$1"
RACER=$2

SOCK=$T/redis.sock
cleanup() {
  if [ -n "${SRV:-}" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT
rcli() { redis-cli -s "$SOCK" -n 7 "$@"; }
jqok() { if jq -e "$1" "$OUT" >/dev/null; then ok; else bad "jq: $1"; fi; }

# ---- usage errors: exit 2, checked before connecting ----
export REDIS_URL="redis://127.0.0.1:1"
run 2 "$NR_BIN" ctl budget scout-1 --set daily=abc
has "$ERR" "--set daily"
has "$ERR" "not a decimal number"
run 2 "$NR_BIN" ctl budget scout-1 --set daily=-1
has "$ERR" "daily"
run 2 "$NR_BIN" ctl budget scout-1 --set hourly=0.0000001
has "$ERR" "more than six decimals"
run 2 "$NR_BIN" ctl budget scout-1 --set colour=1
has "$ERR" 'unknown key "colour"'
run 2 "$NR_BIN" ctl budget scout-1 --set alert=1.5
has "$ERR" "--set alert"
run 2 "$NR_BIN" ctl budget scout-1 --set daily=1,daily=2
has "$ERR" "twice"
run 2 "$NR_BIN" ctl budget scout-1 --set
has "$ERR" "needs a value"
run 2 "$NR_BIN" ctl budget 'bad*agent' --set daily=1
has "$ERR" "agent id"
run 2 "$NR_BIN" ctl budget --bogus
run 2 "$NR_BIN" ctl budget grant
has "$ERR" "which request"
run 2 "$NR_BIN" ctl budget grant 1 --amount abc
has "$ERR" "--amount"
run 2 "$NR_BIN" ctl budget decline 1 --amount 1
run 2 "$NR_BIN" ctl usage --by colour
has "$ERR" "--by"
for s in tomorrow 0h 5x 2999-01-01; do
  run 2 "$NR_BIN" ctl usage --since "$s"
  has "$ERR" "--since"
done
run 2 "$NR_BIN" ctl usage --json --by nope
if [ -s "$OUT" ]; then bad "a usage error with --json printed on stdout"; else ok; fi
run 0 "$NR_BIN" ctl --help
has "$OUT" "budget"
has "$OUT" "usage"

# ---- Redis unreachable: exit 3, nothing on stdout ----
run 3 "$NR_BIN" ctl budget --json
if [ -s "$OUT" ]; then bad "ctl budget --json printed on stdout while failing"; else ok; fi
run 3 "$NR_BIN" ctl usage --json
run 3 "$NR_BIN" ctl budget grant 1

# ---- a private server ----
redis-server --port 0 --unixsocket "$SOCK" --dir "$T" --save "" --appendonly no \
  --logfile "$T/redis.log" >/dev/null 2>&1 &
SRV=$!
pong() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }
await "the private redis-server" 10 pong || { finish; exit 1; }
export REDIS_URL="unix://$SOCK?db=7"
unset SSH_CLIENT SSH_CONNECTION

run 0 "$NR_BIN" ctl budget racer --set daily=0.0002,hourly=1,alert=0.5 --json
jqok '.agent == "racer" and .daily == "0.0002" and .hourly == "1.00" and .task == null and .alert == 0.5'
run 0 "$NR_BIN" ctl budget racer --set task=0.5
has "$OUT" "daily 0.0002, hourly 1.00, per task 0.50"

# The second process spends against the $0.0002 daily limit until it is refused.
NOW=$(($(date +%s) * 1000))
NEWSROOM_TEST_REDIS_SOCKET=$SOCK NEWSROOM_TEST_REDIS_PASSWORD= "$RACER" race racer 300 5 "$NOW" >"$T/race" 2>&1
read -r _ committed _ okn _ refused _ _ _ commits _ _ <"$T/race"
if [ "${refused:-0}" -gt 0 ] && [ "${committed:-999}" -le 200 ]; then ok; else bad "racer: $(cat "$T/race")"; fi

run 0 "$NR_BIN" ctl budget --json
jqok ".agents[0].agent == \"racer\" and .agents[0].day.spent_micro == $committed and .agents[0].day.reserved_micro == 0"
jqok '.agents[0].day.limit == "0.0002" and .agents[0].day.utilisation <= 1 and .global.day.limit == "10.00"'  # the shipped default
jqok ".global.day.spent_micro == $committed"
run 0 "$NR_BIN" ctl budget
has "$OUT" "racer"
has "$OUT" "(global)"
run 0 "$NR_BIN" ctl budget racer --json
jqok '(.agents | length) == 1'
run 1 "$NR_BIN" ctl budget nobody

run 0 "$NR_BIN" ctl budget requests --json
jqok '(.requests | length) == 1 and .requests[0].agent == "racer" and .requests[0].limit == "agent_daily" and .requests[0].status == "open" and .requests[0].waiting == 1'
RID=$(jq -r '.requests[0].id' "$OUT")
run 0 "$NR_BIN" ctl budget requests
has "$OUT" "agent_daily"
run 0 "$NR_BIN" ctl budget grant "$RID" --amount 0.001 --json
jqok ".id == \"$RID\" and .status == \"granted\" and .granted == \"0.001\""
run 1 "$NR_BIN" ctl budget grant "$RID"
has "$ERR" "already granted"
run 1 "$NR_BIN" ctl budget decline 999
has "$ERR" "no such budget request"
run 0 "$NR_BIN" ctl budget --json
jqok '.agents[0].day.limit_micro == 1200'
run 0 "$NR_BIN" ctl budget requests --all --json
jqok '.requests[0].status == "granted"'
run 0 "$NR_BIN" ctl audit --json
jqok "any(.entries[]; .what == \"budget-grant\" and .item == \"budget-request:$RID\")"

run 0 "$NR_BIN" ctl usage --json --by agent
jqok ".by == \"agent\" and .rows[0].name == \"racer\" and .rows[0].cost_micro == $committed and .rows[0].calls == $commits"
run 0 "$NR_BIN" ctl usage --json --by tier --since 2d
jqok '.rows[0].name == "FAST"'
run 0 "$NR_BIN" ctl usage --by task-type --since 30m
has "$OUT" "news_scout"
has "$OUT" "early stops"
has "$OUT" "response cache:"
run 0 "$NR_BIN" ctl usage --json
if jq -e '.cache.hits >= 0 and .cache.misses >= 0 and .cache.hit_rate >= 0 and .cache.hit_rate <= 1' "$OUT" >/dev/null; then ok; else bad "ctl usage --json lacks the cache hit rate"; fi

# A hostile agent id from Redis is shown safely.
rcli sadd nr:cost:agents "$(printf 'evil\033[2J')" >/dev/null
run 0 "$NR_BIN" ctl budget
if LC_ALL=C grep -q "$(printf '\033')" "$OUT"; then bad "an escape sequence reached the terminal"; else ok; fi
finish
