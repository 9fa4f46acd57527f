#!/usr/bin/env bash
# The embedded Redis, driven through the binary: started by a command and stopped when it
# exits; started by `newsroom swarm` and stopped on SIGTERM and on SIGINT; reused by a second
# process and kept running until the last Newsroom process leaves; data kept in the append-only
# file across restarts; no TCP port; clear errors when redis-server is missing or the data
# directory is too long for a socket path.
. "$(dirname "$0")/lib.sh" "$1"

D=$T/d
export NEWSROOM_DATA_DIR=$D
SOCK=$D/redis.sock

pong() { [ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" = PONG ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
server_pid() { cat "$D/redis.pid"; }
# Live redis-servers on our socket (by process name, so no shell running this matches).
servers() { pgrep -a -x redis-server | grep -cF "$SOCK"; }
no_servers() { [ "$(servers)" = 0 ]; }
# The swarm's agents have registered (its start, which talks to Redis, is over).
agents_up() { [ "$(redis-cli -s "$SOCK" zcard nr:agents 2>/dev/null)" -gt 0 ]; }

# 1. A one-shot command starts the server and stops it again on exit.
run 0 "$NR_BIN" ctl status --json
if jq -e '.embedded == true and .embedded_started == true and .embedded_pid > 0' "$OUT" >/dev/null; then ok; else bad "ctl status did not start the embedded server"; fi
pid=$(jq -r .embedded_pid "$OUT")
await "the server to stop after the command" 10 gone "$pid"
if [ -e "$SOCK" ]; then bad "socket left behind"; else ok; fi
if [ -d "$D/appendonlydir" ]; then ok; else bad "no append-only file in the data directory"; fi
has "$D/newsroom.log" "embedded redis: started"
run 0 "$NR_BIN" ctl status
has "$OUT" "embedded, started by this command"
has "$OUT" "stops it on exit"
# The bare command is the control room: without a terminal it says so and starts nothing.
run 2 "$NR_BIN" </dev/null
has "$ERR" "needs a terminal"

# 2. swarm holds it; a second process reuses it; SIGTERM stops it, keeping the data.
"$NR_BIN" swarm --duration 120 >"$T/swarm.out" 2>&1 &
swarm=$!
await "the embedded server to answer" 15 pong
pid=$(server_pid)
# No TCP listener: the server was told --port 0.
if [ "$(redis-cli -s "$SOCK" config get port | tail -1)" = 0 ]; then ok; else bad "embedded server listens on TCP"; fi
run 0 "$NR_BIN" ctl status --json
if jq -e ".embedded_started == false and .embedded_pid == $pid" "$OUT" >/dev/null; then ok; else bad "second process did not reuse the server"; fi
# The ctl process has left; the swarm still uses the server, so it must still be up.
if pong; then ok; else bad "server stopped while the swarm still used it"; fi
redis-cli -s "$SOCK" set test:kept yes >/dev/null
kill -TERM "$swarm"
wait "$swarm"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "swarm exited $rc on SIGTERM"; fi
await "the server to stop after SIGTERM" 10 gone "$pid"

# 3. Started again: the data is back from the append-only file. SIGINT stops it too.
"$NR_BIN" swarm >"$T/swarm.out" 2>&1 &
swarm=$!
await "the embedded server to answer again" 15 pong
if [ "$(redis-cli -s "$SOCK" get test:kept)" = yes ]; then ok; else bad "data lost across a restart"; fi
pid=$(server_pid)
kill -INT "$swarm"
wait "$swarm"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "swarm exited $rc on SIGINT"; fi
await "the server to stop after SIGINT" 10 gone "$pid"

# 4. Two long-running users: the server lives until the last one leaves.
"$NR_BIN" swarm >"$T/a.out" 2>&1 &
a=$!
await "the server for swarm A" 15 pong
pid=$(server_pid)
"$NR_BIN" swarm >"$T/b.out" 2>&1 &
b=$!
await "swarm B to connect" 15 sh -c "redis-cli -s '$SOCK' client list | grep -q 'name=newsroom:$b:'"
kill -TERM "$a"
wait "$a"
if pong; then ok; else bad "server stopped while swarm B still used it"; fi
kill -TERM "$b"
wait "$b"
await "the server to stop after the last user" 10 gone "$pid"

# 5. Clear errors.
printf '[embedded]\nredis_server = /nonexistent/redis-server\n' >"$T/noredis.conf"
run 2 "$NR_BIN" --config "$T/noredis.conf" ctl status
has "$ERR" "apt-get install redis-server"
has "$ERR" "/nonexistent/redis-server"
long=$T/$(printf 'x%.0s' $(seq 1 120))
NEWSROOM_DATA_DIR=$long run 2 "$NR_BIN" ctl status
has "$ERR" "too long for a Unix socket path"

# 6. A server that runs but does not answer (stopped with SIGSTOP) is never doubled.
"$NR_BIN" swarm >"$T/s.out" 2>&1 &
swarm=$!
await "the server for the frozen test" 15 pong
await "the swarm's agents for the frozen test" 30 agents_up
pid=$(server_pid)
kill -STOP "$pid"
printf '[redis]\nconnect_timeout_ms = 200\ncommand_timeout_ms = 200\n' >"$T/fast.conf"
run 3 "$NR_BIN" --config "$T/fast.conf" ctl status
has "$ERR" "does not answer"
has "$ERR" "pid $pid"
if [ "$(servers)" = 1 ]; then ok; else bad "a second server was started"; fi
kill -CONT "$pid"
if gone "$swarm"; then bad "the swarm ended while its server was stopped: $(tail -5 "$T/s.out")"; fi
kill -TERM "$swarm"
wait "$swarm"
await "the server to stop after the frozen test" 10 gone "$pid"

# 7. Start and stop racing each other: a command starting while the last user leaves either
# reuses the server before it stops or starts a new one, and never fails.
for i in 1 2 3 4 5; do
  "$NR_BIN" swarm >"$T/r.out" 2>&1 &
  swarm=$!
  await "the server for race $i" 15 pong
  "$NR_BIN" ctl status >"$T/race.out" 2>"$T/race.err" &
  ctl=$!
  kill -TERM "$swarm"
  wait "$swarm"
  if wait "$ctl"; then ok; else bad "ctl status failed while the last user left (race $i): $(cat "$T/race.err")"; fi
done
await "no server left after the races" 10 no_servers
# Two processes starting a cold server at the same moment: both succeed, one server.
"$NR_BIN" ctl status >"$T/c1.out" 2>&1 &
c1=$!
"$NR_BIN" ctl status >"$T/c2.out" 2>&1 &
c2=$!
if wait "$c1" && wait "$c2"; then ok; else bad "a cold start in parallel failed"; fi
await "no server left after the cold starts" 10 no_servers

finish
