#!/usr/bin/env bash
# ctl emergency, ctl resume and ctl audit, driven from the shell: usage errors (exit 2, before
# any connection), an unreachable Redis (exit 3, nothing on stdout with --json), an emergency
# that really arrives on the emergency channel (redis-cli subscribed in the background), the
# halt flag set and lifted with the CONTROL resume message, the audit stream read back (who,
# from where, what, reason; newest first; --limit), and text from Redis made safe for the
# terminal. Runs against a private redis-server in the test's own folder, so that nothing
# else writes to its audit stream while it runs.
. "$(dirname "$0")/lib.sh" "$1"

SOCK=$T/redis.sock
SUBS=()
cleanup() {
  local p
  for p in "${SUBS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ -n "${SRV:-}" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT

rcli() { redis-cli -s "$SOCK" "$@"; }
numsub_is() { [ "$(rcli pubsub numsub "$1" | tail -n 1)" = "$2" ]; }
# subscribe CHANNEL FILE: redis-cli subscribed in the background, awaited until the server
# counts it.
subscribe() {
  # redis-cli itself, not the rcli function, so that $! is the process to stop.
  redis-cli -s "$SOCK" subscribe "$1" >"$2" 2>&1 &
  SUBS+=($!)
  await "a subscriber on $1" 10 numsub_is "$1" 1
}

# ---- usage errors: exit 2, checked before connecting (so no Redis is needed) ----
export REDIS_URL="redis://127.0.0.1:1"
run 2 "$NR_BIN" ctl emergency
has "$ERR" "--message TEXT is required"
run 2 "$NR_BIN" ctl emergency --message
has "$ERR" "needs a value"
run 2 "$NR_BIN" ctl emergency --message ""
has "$ERR" "empty"
run 2 "$NR_BIN" ctl emergency --message "x" stray
has "$ERR" 'unexpected argument "stray"'
run 2 "$NR_BIN" ctl emergency --message "x" --bogus
has "$ERR" "unknown option --bogus"
run 2 "$NR_BIN" ctl emergency --message $'bad \xff byte'
has "$ERR" "UTF-8"
run 2 "$NR_BIN" ctl emergency --message "$(head -c 2001 /dev/zero | tr '\0' x)"
has "$ERR" "more than 2000"
run 2 "$NR_BIN" ctl resume stray
run 2 "$NR_BIN" ctl resume --note
has "$ERR" "needs a value"
for bad in 0 -3 abc 10001 ""; do
  run 2 "$NR_BIN" ctl audit --limit "$bad"
  has "$ERR" "--limit"
done
run 2 "$NR_BIN" ctl audit --json --limit 0
if [ -s "$OUT" ]; then bad "a usage error with --json printed on stdout"; else ok; fi
run 0 "$NR_BIN" ctl --help
has "$OUT" "emergency"
has "$OUT" "--message TEXT [--halt]"
has "$OUT" "resume"
has "$OUT" "audit"

# ---- Redis unreachable: exit 3, the address named, nothing on stdout ----
run 3 "$NR_BIN" ctl emergency --message "x" --halt
has "$ERR" "127.0.0.1:1"
run 3 "$NR_BIN" ctl resume --json
if [ -s "$OUT" ]; then bad "ctl resume --json printed on stdout while failing"; else ok; fi
run 3 "$NR_BIN" ctl audit --json
if [ -s "$OUT" ]; then bad "ctl audit --json printed on stdout while failing"; else ok; fi

# ---- a private server ----
redis-server --port 0 --unixsocket "$SOCK" --dir "$T" --save "" --appendonly no \
  --logfile "$T/redis.log" >/dev/null 2>&1 &
SRV=$!
pong() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }
await "the private redis-server" 10 pong || { finish; exit 1; }
export REDIS_URL="unix://$SOCK"
unset SSH_CLIENT SSH_CONNECTION
me=$(id -un)

run 0 "$NR_BIN" ctl audit
has "$OUT" "the audit stream is empty"
run 0 "$NR_BIN" ctl audit --json
if jq -e '.entries == []' "$OUT" >/dev/null; then ok; else bad "empty audit --json is not {entries: []}"; fi

# An emergency with --halt from an SSH session arrives on the emergency channel.
subscribe nr:bus:broadcast:emergency "$T/emergency.out"
SSH_CLIENT="192.0.2.44 50000 22" run 0 "$NR_BIN" ctl emergency --message "flood: stop now" --halt --json
if jq -e '.sent == true and .halt == true and .receivers == 1 and .channel == "nr:bus:broadcast:emergency"
  and .message == "flood: stop now" and .from == "192.0.2.44" and (.message_id | length == 32)' \
  "$OUT" >/dev/null; then ok; else bad "emergency --json is not the expected document"; fi
[ -s "$ERR" ] && bad "emergency --json wrote on stderr" || ok
id=$(jq -r .message_id "$OUT")
got_emergency() { grep -qF "$id" "$T/emergency.out"; }
await "the EMERGENCY message on the channel" 10 got_emergency
has "$T/emergency.out" '"type":"EMERGENCY"'
has "$T/emergency.out" '"message":"flood: stop now"'
has "$T/emergency.out" '"halt":true'
has "$T/emergency.out" "\"sender\":\"operator:$me\""
# The halt flag is set, with the message, who, from where and when.
rcli get nr:control:halt >"$T/halt"
has "$T/halt" '"message":"flood: stop now"'
has "$T/halt" "\"user\":\"$me\""
has "$T/halt" '"from":"192.0.2.44"'
has "$T/halt" '"time_ms":'

# Without --halt, in text: sent, and the flag left as it was.
run 0 "$NR_BIN" ctl emergency --message "second warning"
has "$OUT" "emergency sent on nr:bus:broadcast:emergency to 1 subscriber "
hasnt "$OUT" "halted"
got_second() { grep -qF "second warning" "$T/emergency.out"; }
await "the second EMERGENCY message" 10 got_second
rcli get nr:control:halt >"$T/halt"
has "$T/halt" "flood: stop now"

# The audit stream: newest first, who and from where.
run 0 "$NR_BIN" ctl audit --json
if jq -e --arg me "$me" '(.entries | length) == 2
  and .entries[0].what == "emergency" and .entries[0].reason == "second warning"
  and .entries[0].from == "local" and .entries[0].item == null
  and .entries[1].what == "emergency-halt" and .entries[1].reason == "flood: stop now"
  and .entries[1].from == "192.0.2.44" and all(.entries[]; .user == $me and .time_ms > 0)' \
  "$OUT" >/dev/null; then ok; else bad "audit --json does not show the two emergencies"; fi
run 0 "$NR_BIN" ctl audit --limit 1 --json
if jq -e '(.entries | length) == 1 and .entries[0].reason == "second warning"' "$OUT" >/dev/null; then
  ok
else
  bad "audit --limit 1"
fi
run 0 "$NR_BIN" ctl audit
has "$OUT" "TIME (UTC)"
has "$OUT" "$me@192.0.2.44"
has "$OUT" "emergency-halt"
has "$OUT" "flood: stop now"

# Resume: the flag goes, a CONTROL resume message goes out on the control channel, audited.
subscribe nr:bus:broadcast:control "$T/control.out"
run 0 "$NR_BIN" ctl resume --note "all clear" --json
if jq -e '.resumed == true and .receivers == 1 and .halt.message == "flood: stop now"
  and .halt.from == "192.0.2.44"' "$OUT" >/dev/null; then ok; else bad "resume --json"; fi
got_resume() { grep -qF '"command":"resume"' "$T/control.out"; }
await "the CONTROL resume message" 10 got_resume
has "$T/control.out" '"type":"CONTROL"'
[ "$(rcli exists nr:control:halt)" = 0 ] && ok || bad "the halt flag is still set after resume"
run 0 "$NR_BIN" ctl resume
has "$OUT" "was not halted"
run 0 "$NR_BIN" ctl audit --json --limit 1
if jq -e '.entries[0].what == "resume" and .entries[0].reason == "all clear"' "$OUT" >/dev/null; then
  ok
else
  bad "resume is not the newest audit record"
fi
# A resume of a swarm that was not halted is not audited.
run 0 "$NR_BIN" ctl audit --json
if jq -e '(.entries | length) == 3' "$OUT" >/dev/null; then ok; else bad "a no-op resume was audited"; fi

# Text from Redis never reaches the terminal raw: escape sequences become '?'.
run 0 "$NR_BIN" ctl emergency --message $'clear \e[2J screen'
run 0 "$NR_BIN" ctl audit --limit 1
if grep -q $'\e' "$OUT"; then bad "ctl audit printed an escape character"; else ok; fi
has "$OUT" "clear ?[2J screen"
run 0 "$NR_BIN" ctl audit --limit 1 --json
if jq -e '.entries[0].reason == "clear \u001b[2J screen"' "$OUT" >/dev/null; then ok; else
  bad "audit --json did not keep the text exactly"
fi

finish
