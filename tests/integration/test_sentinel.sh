#!/usr/bin/env bash
# Redis Sentinel failover under a running swarm, with real processes on loopback ports in a
# temporary folder: a primary, a replica and three sentinels (redis-server --sentinel), all with
# a password. The stories are ingested through the sentinels with WAIT for one replica; then
# `newsroom swarm --once --auto-approve` runs, and once it has moved stories on the primary is
# killed with SIGKILL. The sentinels promote the replica; the swarm finds it by itself, goes on
# and ends; every ingested story is there on the new primary and terminal, none failed for the
# failover (QA may fail a story on its merits), every published one has its package. Prints the time from the kill to the swarm's first write on
# the new primary (a figure, not a check).
. "$(dirname "$0")/lib.sh" "$1"
SRC=${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}
SAMPLES=$SRC/config/sample_stories.jsonl
PW=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

# Free loopback ports: five in a row that nothing answers on.
for try in $(seq 1 20); do
  base=$(port_candidate 5)
  all=1
  for i in 0 1 2 3 4; do free_port $((base + i)) || all=0; done
  [ $all = 1 ] && break
done
P1=$base P2=$((base + 1)) S1=$((base + 2)) S2=$((base + 3)) S3=$((base + 4))

cli() { local port=$1; shift; REDISCLI_AUTH=$PW redis-cli -p "$port" "$@" 2>/dev/null; }
scli() { local port=$1; shift; redis-cli -p "$port" "$@" 2>/dev/null; }

start_server() { # port dir extra...
  local port=$1 dir=$2
  shift 2
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes --save "" \
    --requirepass "$PW" --masterauth "$PW" --logfile "$dir/redis.log" "$@" &
  track $!
}
start_server "$P1" "$T/p1"
PRIMARY_PID=${TRACKED[0]}
start_server "$P2" "$T/p2" --replicaof 127.0.0.1 "$P1"
await "the primary" 10 sh -c "[ \"\$(REDISCLI_AUTH=$PW redis-cli -p $P1 ping 2>/dev/null)\" = PONG ]"
await "the replica to sync" 20 sh -c "REDISCLI_AUTH=$PW redis-cli -p $P2 info replication 2>/dev/null | grep -q 'master_link_status:up'"
for s in $S1 $S2 $S3; do
  mkdir -p "$T/s$s"
  cat >"$T/s$s/sentinel.conf" <<CONF
bind 127.0.0.1
port $s
dir $T/s$s
logfile $T/s$s/sentinel.log
sentinel monitor newsroom 127.0.0.1 $P1 2
sentinel auth-pass newsroom $PW
sentinel down-after-milliseconds newsroom 1000
sentinel failover-timeout newsroom 10000
sentinel parallel-syncs newsroom 1
CONF
  redis-server "$T/s$s/sentinel.conf" --sentinel &
  track $!
done
discovery=ok
for s in $S1 $S2 $S3; do
  await "sentinel $s to see the replica and the other sentinels" 30 sh -c \
    "[ \"\$(redis-cli -p $s sentinel replicas newsroom 2>/dev/null | grep -c '^name$')\" -ge 1 ] && [ \"\$(redis-cli -p $s sentinel sentinels newsroom 2>/dev/null | grep -c '^name$')\" -ge 2 ]" ||
    { discovery=failed; break; }
done
# Without its sentinels the rest cannot run: say what each one saw, and stop.
if [ "$discovery" = failed ]; then
  for s in $S1 $S2 $S3; do
    echo "sentinel $s: $(scli "$s" ping || echo 'no answer'); replicas seen $(scli "$s" sentinel replicas newsroom | grep -c '^name$'), sentinels seen $(scli "$s" sentinel sentinels newsroom | grep -c '^name$'); its log ends:" >&2
    tail -n 8 "$T/s$s/sentinel.log" >&2
  done
  finish
  exit 1
fi

# Every process finds Redis through the sentinels; the first one listed is not running, so the
# next is asked. Script writes wait for one replica.
dead_sentinel=$((base + 5))
export REDIS_SENTINELS="127.0.0.1:$dead_sentinel,127.0.0.1:$S1,127.0.0.1:$S2,127.0.0.1:$S3"
export REDIS_SENTINEL_MASTER=newsroom REDIS_PASSWORD=$PW REDIS_WAIT_REPLICAS=1
export NEWSROOM_DATA_DIR=$T/data
printf '[providers]\nsim_latency_fast_ms = 20\nsim_latency_balanced_ms = 40\nsim_latency_premium_ms = 60\n[redis]\nreconnect_max_ms = 1000\n' >"$T/nr.conf"
export NEWSROOM_CONFIG=$T/nr.conf

run 0 "$NR_BIN" ctl status --json
if jq -e --arg p "$P1" '.address | test("-> 127.0.0.1:" + $p + "$")' "$OUT" >/dev/null; then ok; else bad "ctl status does not show the primary found through the sentinels"; fi
hasnt "$OUT" "$PW"
run 0 "$NR_BIN" ctl ingest "$SAMPLES"
# What ingest acknowledged (the samples hold deliberate exact duplicates, skipped).
n_ingested=$(sed -n 's/^accepted \([0-9]*\),.*/\1/p' "$OUT")
if [ "${n_ingested:-0}" -gt 0 ]; then ok; else bad "ingest accepted nothing"; fi
# The replica has every acknowledged story already (WAIT).
n_replica=$(cli "$P2" eval "return #redis.call('keys', 'nr:bb:item:*')" 0)
if [ "$n_replica" -ge "$n_ingested" ] 2>/dev/null; then ok; else bad "the replica has $n_replica items after ingesting $n_ingested"; fi

"$NR_BIN" swarm --once --auto-approve >"$T/swarm.out" 2>"$T/swarm.err" &
swarm=$!
track $swarm
published() { [ "$(cli "$P1" eval "return #redis.call('keys', 'nr:bb:item:*')" 0)" -gt 0 ] &&
  [ "$(cli "$P1" xlen nr:bb:events)" -gt "$1" ]; }
await "the swarm to move stories on" 60 published 150

kill_ms=$(date +%s%3N)
kill -9 "$PRIMARY_PID"
await "the sentinels to promote the replica" 60 sh -c "redis-cli -p $S1 sentinel get-master-addr-by-name newsroom | grep -qx $P2"
wait "$swarm"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "swarm exited $rc after the failover; stderr: $(tail -5 "$T/swarm.err")"; fi

# On the new primary: every story, each terminal; none failed for the outage.
run 0 "$NR_BIN" ctl status --json
if jq -e --arg p "$P2" '.address | test("-> 127.0.0.1:" + $p + "$")' "$OUT" >/dev/null; then ok; else bad "ctl status does not show the promoted primary"; fi
run 0 "$NR_BIN" ctl items --limit 1000 --json
items=$T/items.json
cp "$OUT" "$items"
count() { jq "[(if type == \"array\" then . else .items end)[] | select($1)] | length" "$items"; }
total=$(count 'true')
if [ "$total" -eq "$n_ingested" ]; then ok; else bad "$total stories on the new primary, $n_ingested ingested"; fi
open=$(count '.status != "PUBLISHED" and .status != "ARCHIVED" and .status != "FAILED"')
if [ "$open" -eq 0 ]; then ok; else bad "$open stories not terminal after the run"; fi
# A story may fail QA on its merits (the dead set keeps it FAILED); none may fail because of the
# failover.
nfailed=$(count '.status == "FAILED" and ((.fail_reason // "") | startswith("QA:") | not)')
if [ "$nfailed" -eq 0 ]; then ok; else bad "$nfailed stories FAILED across the failover: $(jq -c '[(if type == "array" then . else .items end)[] | select(.status == "FAILED") | .fail_reason]' "$items")"; fi
npub=$(count '.status == "PUBLISHED"')
if [ "$npub" -gt 0 ]; then ok; else bad "nothing published"; fi
nopkg=0
for id in $(jq -r '(if type == "array" then . else .items end)[] | select(.status == "PUBLISHED") | .id' "$items"); do
  [ -f "$T/data/publish/$id/package.json" ] || nopkg=$((nopkg + 1))
done
if [ $nopkg -eq 0 ]; then ok; else bad "$nopkg published stories have no package"; fi

# The figure: from the kill to the first event the swarm wrote on the new primary.
first=$(cli "$P2" xrange nr:bb:events "$kill_ms" + COUNT 1 | head -1)
if [ -n "$first" ]; then
  ok
  printf 'sentinel failover: %d ms from SIGKILL of the primary to the swarm'"'"'s first write on the promoted replica\n' \
    "$((${first%-*} - kill_ms))"
else
  bad "no event written on the new primary after the kill"
fi
grep -h "link to\|sentinel" "$T/data/newsroom.log" | tail -3
finish
