#!/usr/bin/env bash
# The ctl verbs of the work queues and the agent registry, driven through the binary against
# the test Redis: `ctl queues`, `ctl dead-letters QUEUE` and `ctl agents`, plain and --json;
# usage errors (exit 2), an unknown queue (exit 1), an unreachable Redis (exit 3, nothing on
# stdout), text from agents made safe for the terminal, and the report of `bench queue` (without
# its npm peer). Queues and agents are put in place by queue_tool (the second argument), under
# names unique to this run.
. "$(dirname "$0")/lib.sh" "$1"
TOOL=$2
export REDIS_URL="redis://:$NEWSROOM_TEST_REDIS_PASSWORD@127.0.0.1:$NEWSROOM_TEST_REDIS_PORT/0"
Q=shq$$
A=sh$$-scout
D=sh$$-doomed
ESC=$(printf '\033')

# A queue with two dead letters, then 3 normal and 4 breaking tasks waiting.
"$TOOL" "$REDIS_URL" bury "$Q" "feed unreachable: 503" >/dev/null || bad "queue_tool bury failed"
"$TOOL" "$REDIS_URL" bury "$Q" "evil ${ESC}[31mred${ESC}[0m" >/dev/null || bad "queue_tool bury failed"
"$TOOL" "$REDIS_URL" enqueue "$Q" 3 >/dev/null || bad "queue_tool enqueue failed"
"$TOOL" "$REDIS_URL" enqueue "$Q" 4 breaking >/dev/null || bad "queue_tool enqueue failed"

run 0 "$NR_BIN" ctl queues --json
if jq -e --arg q "$Q" '.queues[] | select(.name == $q) |
  .waiting_normal == 3 and .waiting_breaking == 4 and .depth == 7 and .pending == 0 and
  .delayed == 0 and .dead_letters == 2 and .consumers == 1 and .oldest_age_ms >= 0' \
  "$OUT" >/dev/null; then ok; else bad "ctl queues --json lacks the queue's figures"; fi
run 0 "$NR_BIN" ctl queues
has "$OUT" "$Q"
has "$OUT" "BREAKING"
has "$OUT" "DEAD"
run 2 "$NR_BIN" ctl queues extra
has "$ERR" "unexpected argument"

run 0 "$NR_BIN" ctl dead-letters "$Q" --json
if jq -e --arg q "$Q" '.queue == $q and .total == 2 and (.dead_letters | length == 2) and
  .dead_letters[1].last_error == "feed unreachable: 503" and .dead_letters[1].deliveries == 1 and
  .dead_letters[1].type == "test" and .dead_letters[1].payload.title == "poison" and
  .dead_letters[1].priority == "breaking" and .dead_letters[1].dead_ms > 0' \
  "$OUT" >/dev/null; then ok; else bad "ctl dead-letters --json is not the expected document"; fi
run 0 "$NR_BIN" ctl dead-letters "$Q" --limit 1 --json
if jq -e '.total == 2 and (.dead_letters | length == 1) and
  (.dead_letters[0].last_error | startswith("evil"))' "$OUT" >/dev/null; then
  ok
else
  bad "ctl dead-letters --limit 1 did not return the newest only"
fi
run 0 "$NR_BIN" ctl dead-letters "$Q"
has "$OUT" "2 dead letters in queue $Q"
has "$OUT" "feed unreachable: 503"
has "$OUT" "evil ?[31mred"
hasnt "$OUT" "$ESC"
run 2 "$NR_BIN" ctl dead-letters
has "$ERR" "which queue"
run 2 "$NR_BIN" ctl dead-letters "$Q" other
run 2 "$NR_BIN" ctl dead-letters "bad name"
has "$ERR" "not a queue name"
run 2 "$NR_BIN" ctl dead-letters "$Q" --limit 0
has "$ERR" "--limit"
run 2 "$NR_BIN" ctl dead-letters "$Q" --frob
has "$ERR" "unknown option"
run 1 "$NR_BIN" ctl dead-letters "nosuch$$" --json
has "$ERR" "no queue named"
if [ -s "$OUT" ]; then bad "a refused ctl dead-letters --json printed on stdout"; else ok; fi

# Agents: one alive and busy, one whose 300 ms heartbeat runs out.
"$TOOL" "$REDIS_URL" agent "$A" scout FAST 60000 busy "rss,web" || bad "queue_tool agent failed"
"$TOOL" "$REDIS_URL" agent "$D" writer BALANCED 300 idle || bad "queue_tool agent failed"
agent_is() {
  "$NR_BIN" ctl agents --json | jq -e --arg id "$1" --arg st "$2" \
    '.agents[] | select(.id == $id) | .status == $st'
}
await "agent $D to die" 10 agent_is "$D" dead
run 0 "$NR_BIN" ctl agents --json
if jq -e --arg a "$A" '.now_ms > 0 and (.agents[] | select(.id == $a) |
  .role == "scout" and .tier == "FAST" and .status == "busy" and .capabilities == ["rss", "web"] and
  .pid > 0 and (.host | length > 0) and .ttl_ms == 60000 and .heartbeat_age_ms >= 0)' \
  "$OUT" >/dev/null; then ok; else bad "ctl agents --json lacks the live agent"; fi
run 0 "$NR_BIN" ctl agents
has "$OUT" "$A"
has "$OUT" "rss,web"
grep -F -- "$D" "$OUT" | grep -qF dead && ok || bad "ctl agents does not show $D as dead"
run 2 "$NR_BIN" ctl agents --frob

# The queue bench's report (without its npm peer: tests stay off the network).
run 0 "$NR_BIN" bench queue --n 300 --workers 2 --repeat 1 --no-peer --json
if jq -e '.bench == "queue" and (.figures | length == 5) and
  all(.figures[]; .value > 0 and .peer == null and .peer_value == null and .ratio == null) and
  (.figures[0].unit == "tasks/s") and (.figures[2].unit == "commands")' "$OUT" >/dev/null; then
  ok
else
  bad "bench queue --json is not the documented report"
fi
"$NR_BIN" ctl queues --json | jq -e 'all(.queues[]; .name | startswith("bench-") | not)' \
  >/dev/null && ok || bad "bench queue left its queue behind"
run 2 "$NR_BIN" bench queue --n 5
has "$ERR" "--n"
run 2 "$NR_BIN" bench queue --workers 0

# An unreachable Redis: exit 3 and nothing on stdout.
for verb in agents queues "dead-letters $Q"; do
  # shellcheck disable=SC2086
  REDIS_URL="redis://:gone-pw-13@127.0.0.1:1" run 3 "$NR_BIN" ctl $verb --json
  hasnt "$ERR" "gone-pw-13"
  if [ -s "$OUT" ]; then bad "ctl $verb --json printed on stdout while failing"; else ok; fi
done

finish
