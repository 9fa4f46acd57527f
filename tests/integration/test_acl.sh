#!/usr/bin/env bash
# Least-privilege Redis: a redis-server started from config/redis.conf (its durability and
# memory policy checked) with config/users.acl, whose users get passwords here. The agent user's
# commands are exactly those the code sends (tools/acl_commands.sh), the read-only room user's
# the read commands among them. As the agent user the whole swarm runs a pipeline to the end
# with nothing refused; as the room user a read-only control room watches, ctl reads, and
# approve, reject, emergency (with halt), resume and the control room's own halt and approve
# are refused by Redis, saying so, with nothing changed.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/../tui/lib.sh"
SRC=${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}
rnd() { head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

AGENT_PW=$(rnd) ROOM_PW=$(rnd) ADMIN_PW=$(rnd)
sed -e "s/^user newsroom on /user newsroom on >$AGENT_PW /" \
  -e "s/^user newsroom-room on /user newsroom-room on >$ROOM_PW /" \
  -e "s/^user newsroom-admin on /user newsroom-admin on >$ADMIN_PW /" "$SRC/config/users.acl" >"$T/users.acl"
PORT=$(pick_port)
mkdir -p "$T/redis"
redis-server "$SRC/config/redis.conf" --port "$PORT" --dir "$T/redis" --aclfile "$T/users.acl" \
  --logfile "$T/redis/redis.log" --maxmemory 256mb --daemonize no &
track $!
admin() { redis-cli -p "$PORT" --user newsroom-admin --pass "$ADMIN_PW" --no-auth-warning "$@"; }
await "redis from config/redis.conf" 15 sh -c "redis-cli -p $PORT --user newsroom-admin --pass $ADMIN_PW --no-auth-warning ping | grep -q PONG"
# The shipped configuration's policies.
[ "$(admin config get appendonly | tail -1)" = yes ] && ok || bad "appendonly is not on"
[ "$(admin config get appendfsync | tail -1)" = everysec ] && ok || bad "appendfsync is not everysec"
[ "$(admin config get maxmemory-policy | tail -1)" = noeviction ] && ok || bad "the memory policy evicts"
# The default user cannot log in; a user has no password until given one.
[ "$(redis-cli -p "$PORT" ping 2>&1)" != PONG ] && ok || bad "the default user is open"

# The users' commands, against what the code sends.
cmds_of() { sed -n "s/^user $1 on .*/&/p" "$SRC/config/users.acl" | tr ' ' '\n' | sed -n 's/^+//p' | sort; }
tools=$SRC/tools/acl_commands.sh
"$tools" -p "$PORT" --user newsroom-admin --pass "$ADMIN_PW" --no-auth-warning >"$T/derived" 2>"$T/derived.err"
"$tools" --read-only -p "$PORT" --user newsroom-admin --pass "$ADMIN_PW" --no-auth-warning >"$T/derived-ro" 2>>"$T/derived.err"
if [ -s "$T/derived" ] && diff <(cmds_of newsroom) "$T/derived" >"$T/diff"; then ok; else bad "the agent user's commands differ from the code's: $(cat "$T/diff" "$T/derived.err")"; fi
if [ -s "$T/derived-ro" ] && diff <(cmds_of newsroom-room) "$T/derived-ro" >"$T/diff"; then ok; else bad "the room user's commands differ: $(cat "$T/diff")"; fi
grep -q '^user newsroom-room on .*%R~nr:\*' "$SRC/config/users.acl" && ok || bad "the room user may write keys"
# The whole file is what the tool makes of the code (its other users included).
"$tools" --users-acl -p "$PORT" --user newsroom-admin --pass "$ADMIN_PW" --no-auth-warning >"$T/users.made"
if diff "$SRC/config/users.acl" "$T/users.made" >"$T/diff"; then ok; else bad "config/users.acl is not what tools/acl_commands.sh --users-acl makes: $(cat "$T/diff")"; fi

# The swarm as the agent user: the pipeline to its end, nothing refused.
export NEWSROOM_DATA_DIR=$T/data
printf '[providers]\nsim_latency_fast_ms = 0\nsim_latency_balanced_ms = 0\nsim_latency_premium_ms = 0\n' >"$T/fast.conf"
export NEWSROOM_CONFIG=$T/fast.conf
AGENT="redis://newsroom:$AGENT_PW@127.0.0.1:$PORT/0"
ROOM="redis://newsroom-room:$ROOM_PW@127.0.0.1:$PORT/0"
head -16 "$SRC/config/sample_stories.jsonl" >"$T/stories.jsonl"
run 0 env REDIS_URL="$AGENT" "$NR_BIN" ctl ingest "$T/stories.jsonl"
run 0 env REDIS_URL="$AGENT" timeout 200 "$NR_BIN" swarm --once --summary
run 0 env REDIS_URL="$AGENT" timeout 200 "$NR_BIN" swarm --once --auto-approve --roles approver:1,publisher:1,archivist:1
if grep -q "NOPERM\|refused by Redis" "$T/data/newsroom.log"; then bad "the agent user was refused: $(grep -m3 'NOPERM\|refused by Redis' "$T/data/newsroom.log")"; else ok; fi
run 0 env REDIS_URL="$AGENT" "$NR_BIN" ctl items --status PUBLISHED --json
npub=$(jq '(if type == "array" then . else .items end) | length' "$OUT")
[ "$npub" -gt 0 ] && ok || bad "nothing published as the agent user"
PUB=$(jq -r '(if type == "array" then . else .items end)[0].id' "$OUT")
# The trace copy for ctl trace (one transaction a batch) was written as the agent user.
run 0 env REDIS_URL="$AGENT" "$NR_BIN" ctl trace "$PUB" --json
[ "$(jq '.events | length' "$OUT")" -gt 0 ] && ok || bad "no trace kept for $PUB as the agent user: $(head -c 300 "$OUT")"
# Stories left for a person, for the refusals below.
sed -n '17,22p' "$SRC/config/sample_stories.jsonl" >"$T/more.jsonl"
run 0 env REDIS_URL="$AGENT" "$NR_BIN" ctl ingest "$T/more.jsonl"
run 0 env REDIS_URL="$AGENT" timeout 200 "$NR_BIN" swarm --once
run 0 env REDIS_URL="$AGENT" "$NR_BIN" ctl items --status REVIEWING --json
ID=$(jq -r '(if type == "array" then . else .items end)[0].id' "$OUT")
[ -n "$ID" ] && [ "$ID" != null ] && ok || bad "no story awaiting review"

# The room user: reads work; every action is refused by Redis, clearly, and changes nothing.
run 0 env REDIS_URL="$ROOM" "$NR_BIN" ctl items --json
run 0 env REDIS_URL="$ROOM" "$NR_BIN" ctl item "$ID"
for action in "approve $ID" "reject $ID --reason no" "emergency --message drill --halt" "resume"; do
  # shellcheck disable=SC2086
  run 1 env REDIS_URL="$ROOM" "$NR_BIN" ctl $action
  has "$ERR" 'refused by Redis: user "newsroom-room" is not allowed this ('
done
run 0 env REDIS_URL="$AGENT" "$NR_BIN" ctl item "$ID" --json
[ "$(jq -r .status "$OUT")" = REVIEWING ] && ok || bad "$ID changed under the room user"
[ "$(admin exists nr:control:halt)" = 0 ] && ok || bad "the room user set the halt flag"
run 0 env REDIS_URL="$ROOM" "$NR_BIN" doctor
if grep -qE '^warn +permissions +user newsroom-room may read but not write' "$OUT"; then ok; else bad "doctor on the room user: $(grep permissions "$OUT")"; fi

reviewing() { env REDIS_URL="$AGENT" "$NR_BIN" ctl items --status REVIEWING --json | jq '(if type == "array" then . else .items end) | length'; }
n_review=$(reviewing)
# The control room as the room user. --read-only: it watches.
room_start 120 40 TERM=xterm-256color LANG=C.UTF-8 REDIS_URL="$ROOM" -- --attach --read-only
await_screen "the read-only control room" 15 "Blackboard"
off_screen "LINK LOST"
if grep -q "refused by Redis" "$T/data/newsroom.log"; then bad "the read-only room was refused: $(grep -m3 'refused by Redis' "$T/data/newsroom.log")"; else ok; fi
keys q
room_gone 10
[ "$EXIT_CODE" = 0 ] && ok || bad "the read-only room exited $EXIT_CODE"
room_clean
# Without --read-only the keys are there, and Redis refuses them: the halt...
room_start 120 40 TERM=xterm-256color LANG=C.UTF-8 REDIS_URL="$ROOM" -- --attach
await_screen "the control room" 15 "Blackboard"
keys '!'
await_screen "the emergency's first step" 5 "EMERGENCY: step 1 of 2"
type_text "drill"
keys Enter
await_screen "the emergency's second step" 5 "alert and HALT the swarm"
keys 2
await_screen "Redis's refusal" 10 "refused by Redis"
[ "$(admin exists nr:control:halt)" = 0 ] && ok || bad "the room user's halt went through"
# ... and an approval.
keys 5
await_screen "the review pane" 5 "Review"
keys a
await_screen "the approve question" 5 "Approve \""
keys y
await_screen "Redis's refusal of the approval" 10 "refused by Redis"
[ "$(reviewing)" = "$n_review" ] && ok || bad "a story left review under the room user"
keys q
room_gone 10
room_clean
finish
