#!/usr/bin/env bash
# The newsroom binary's command line: help, version, usage errors (exit 2), configuration
# errors (exit 2, FILE:LINE and key), `newsroom config` with secrets masked, ctl status against
# the test Redis (plain and --json), an unreachable Redis (exit 3, address named, password
# never shown) and the bench report format.
. "$(dirname "$0")/lib.sh" "$1"

run 0 "$NR_BIN" --version
has "$OUT" "newsroom 0."
run 0 "$NR_BIN" --help
has "$OUT" "Commands:"
has "$OUT" "ctl"

# Usage errors: exit 2 with the usage on stderr.
run 2 "$NR_BIN" --bogus
has "$ERR" "unknown option --bogus"
has "$ERR" "usage: newsroom"
run 2 "$NR_BIN" frobnicate
has "$ERR" 'unknown command "frobnicate"'
run 2 "$NR_BIN" ctl
has "$ERR" "which verb"
run 2 "$NR_BIN" ctl nope
has "$ERR" 'unknown verb "nope"'
run 2 "$NR_BIN" ctl status extra
run 2 "$NR_BIN" ctl --frob status
run 2 "$NR_BIN" swarm --duration soon
has "$ERR" "--duration"
run 2 "$NR_BIN" bench
run 2 "$NR_BIN" bench nope
run 2 "$NR_BIN" --attach ctl status
run 2 "$NR_BIN" --config
has "$ERR" "needs an argument"

# Configuration errors: exit 2, naming the file, the line and the key.
run 2 "$NR_BIN" --config "$T/missing.conf" config
has "$ERR" "$T/missing.conf"
printf '[general]\nswarm_name = x\n[redis]\nport = many\n' >"$T/bad.conf"
run 2 "$NR_BIN" --config "$T/bad.conf" config
has "$ERR" "$T/bad.conf:4:"
has "$ERR" "port"
printf '[redis]\ncolour = blue\n' >"$T/bad2.conf"
NEWSROOM_CONFIG=$T/bad2.conf run 2 "$NR_BIN" config
has "$ERR" "$T/bad2.conf:2:"
has "$ERR" '"colour"'
REDIS_PORT=0 run 2 "$NR_BIN" config
has "$ERR" "REDIS_PORT"

# newsroom config: every key, where it came from, secrets masked.
printf '[general]\nswarm_name = night desk\n' >"$T/good.conf"
REDIS_PASSWORD=hush-hush-77 REDIS_URL='redis://ops:url-pw-88@db.example:6390/1' \
  run 0 "$NR_BIN" --config "$T/good.conf" config
has "$OUT" "swarm_name = night desk"
has "$OUT" "$T/good.conf:2"
has "$OUT" "env REDIS_PASSWORD"
has "$OUT" "redis://ops:***@db.example:6390/1"
hasnt "$OUT" "hush-hush-77"
hasnt "$OUT" "url-pw-88"
REDIS_PASSWORD=hush-hush-77 run 0 "$NR_BIN" config --json
if jq -e '.keys | length > 10' "$OUT" >/dev/null &&
  jq -e '.keys[] | select(.key == "password") | .secret and .value == "********"' "$OUT" >/dev/null; then
  ok
else
  bad "config --json is not the expected document"
fi
hasnt "$OUT" "hush-hush-77"

# A TLS URL is refused with a way forward.
REDIS_URL='rediss://:tls-pw-99@db.example:6380' run 2 "$NR_BIN" ctl status
has "$ERR" "TLS"
has "$ERR" "tunnel"
hasnt "$ERR" "tls-pw-99"

# An unreachable Redis: exit 3, the address named, the password never.
REDIS_URL="redis://:gone-pw-11@127.0.0.1:1" run 3 "$NR_BIN" ctl status
has "$ERR" "127.0.0.1:1"
has "$ERR" "Connection refused"
hasnt "$ERR" "gone-pw-11"
REDIS_HOST=127.0.0.1 REDIS_PORT=1 REDIS_PASSWORD=gone-pw-12 run 3 "$NR_BIN" ctl status --json
hasnt "$ERR" "gone-pw-12"
if [ -s "$OUT" ]; then bad "ctl status --json printed on stdout while failing"; else ok; fi

# ctl status against the test server, by TCP and by socket, plain and --json.
tcp="redis://:$NEWSROOM_TEST_REDIS_PASSWORD@127.0.0.1:$NEWSROOM_TEST_REDIS_PORT/0"
REDIS_URL=$tcp run 0 "$NR_BIN" ctl status
has "$OUT" "127.0.0.1:$NEWSROOM_TEST_REDIS_PORT"
has "$OUT" "configured"
has "$OUT" "latency"
hasnt "$OUT" "$NEWSROOM_TEST_REDIS_PASSWORD"
REDIS_URL="unix://$NEWSROOM_TEST_REDIS_SOCKET" REDIS_PASSWORD=$NEWSROOM_TEST_REDIS_PASSWORD \
  run 0 "$NR_BIN" ctl --json status
if jq -e '.version != "" and .role == "master" and .embedded == false and .latency_ms > 0' "$OUT" >/dev/null; then
  ok
else
  bad "ctl status --json lacks version, role or latency"
fi
hasnt "$OUT" "$NEWSROOM_TEST_REDIS_PASSWORD"
# A refused password is a configuration error (exit 2), named, never shown, not even in the log.
REDIS_URL="redis://$NEWSROOM_TEST_REDIS_ACL_USER:wrong-pw-5@127.0.0.1:$NEWSROOM_TEST_REDIS_PORT" \
  run 2 "$NR_BIN" ctl status
has "$ERR" "WRONGPASS"
has "$ERR" "$NEWSROOM_TEST_REDIS_ACL_USER"
hasnt "$ERR" "wrong-pw-5"
NEWSROOM_LOG_LEVEL=debug REDIS_URL="redis://:wrong-pw-6@127.0.0.1:$NEWSROOM_TEST_REDIS_PORT" \
  run 2 "$NR_BIN" ctl status
has "$XDG_DATA_HOME/newsroom/newsroom.log" "WRONGPASS"
hasnt "$XDG_DATA_HOME/newsroom/newsroom.log" "wrong-pw"
hasnt "$XDG_DATA_HOME/newsroom/newsroom.log" "gone-pw"
# REDIS_DB applies when the URL names no database.
REDIS_URL=$tcp REDIS_DB=3 run 0 "$NR_BIN" ctl status
has "$OUT" ":$NEWSROOM_TEST_REDIS_PORT/0"
REDIS_URL="redis://:$NEWSROOM_TEST_REDIS_PASSWORD@127.0.0.1:$NEWSROOM_TEST_REDIS_PORT" REDIS_DB=3 \
  run 0 "$NR_BIN" ctl status
has "$OUT" ":$NEWSROOM_TEST_REDIS_PORT/3"
# No password where the server wants one, and a database it does not have: configuration
# errors (exit 2) naming the setting to fix.
REDIS_URL="redis://127.0.0.1:$NEWSROOM_TEST_REDIS_PORT" run 2 "$NR_BIN" ctl status
has "$ERR" "NOAUTH"
has "$ERR" "REDIS_PASSWORD"
REDIS_URL="redis://:$NEWSROOM_TEST_REDIS_PASSWORD@127.0.0.1:$NEWSROOM_TEST_REDIS_PORT/99" \
  run 2 "$NR_BIN" ctl status
has "$ERR" "database 99 does not exist"
has "$ERR" "REDIS_DB"
hasnt "$ERR" "$NEWSROOM_TEST_REDIS_PASSWORD"

# A password with the URL's delimiters in it is masked everywhere.
REDIS_URL='redis://:pa/ss?w#rd@127.0.0.1:1' run 3 "$NR_BIN" ctl status
hasnt "$ERR" "pa/ss"
REDIS_URL='redis://:pa/ss?w#rd@127.0.0.1:1' run 0 "$NR_BIN" config
hasnt "$OUT" "pa/ss"

# The bench report: one JSON object with three figures, each with its peer and ratio.
run 0 "$NR_BIN" bench ring --records 20000 --repeat 1 --json
if jq -e '.bench == "ring" and (.machine | length > 0) and (.figures | length == 3) and
  all(.figures[]; .value > 0 and .unit == "records/s" and .peer != null and .peer_value > 0 and .ratio > 0)' \
  "$OUT" >/dev/null; then
  ok
else
  bad "bench ring --json is not the documented report"
fi
run 2 "$NR_BIN" bench ring --records 5
has "$ERR" '--records "5" must be a whole number from 1000'
run 2 "$NR_BIN" bench blackboard --n ''
has "$ERR" "bench blackboard: --n"
run 0 "$NR_BIN" bench blackboard --n 100 --json
if jq -e '.bench == "blackboard" and (.figures | length == 5) and
  (.figures[] | select(.name == "commands per transition") | .value > 1 and .peer == null) and
  all(.figures[] | select(.unit == "transitions/s"); .value > 0 and .ratio > 0)' "$OUT" >/dev/null; then
  ok
else
  bad "bench blackboard --json is not the documented report"
fi


# --help after every ctl verb: its usage on stdout, exit 0, nothing on stderr (no verb runs).
for verb in status ingest sources items item approve reject emergency resume audit agents \
  queues dead-letters budget usage debate debates; do
  run 0 "$NR_BIN" ctl "$verb" --help
  has "$OUT" "usage: newsroom ctl $verb"
  if [ -s "$ERR" ]; then bad "ctl $verb --help wrote to stderr: $(head -c 200 "$ERR")"; else ok; fi
done

finish
