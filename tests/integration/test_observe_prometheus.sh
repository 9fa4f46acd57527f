#!/usr/bin/env bash
# Prometheus against a running swarm: `newsroom swarm --metrics` and a control room
# (`newsroom --attach --metrics`, in tmux) on a private redis-server, each serving its own
# /metrics; `promtool check metrics` accepts both; a real Prometheus (Debian package
# `prometheus`, on a loopback port, with a copy of config/prometheus.yml pointed at the two
# processes and a 1 s scrape interval) scrapes them, and EVERY PromQL expression of the Grafana
# dashboard (config/grafana/dashboards/newsroom.json, read with jq) is run through its HTTP API
# and must return at least one series. Also: a bad --metrics address exits 2, and /metrics
# answers only GET of /metrics.
#
# A circuit breaker is made the way it happens in production: the FAST tier's fallback chain
# starts with an OpenAI-compatible provider nobody listens for (a closed loopback port), so the
# scouts' screening calls fail there, its breaker opens and the sim serves them. A work queue
# with a dead letter, which the swarm's agents do not use (they work on the blackboard), is put
# in place by queue_tool through src/store/queue.c.
#
# Usage: test_observe_prometheus.sh NEWSROOM QUEUE_TOOL
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tui/lib.sh"
QTOOL=$2
DASH=$NEWSROOM_SOURCE_DIR/config/grafana/dashboards/newsroom.json
PROM_PID=
SWARM_PID=
trap 'if [ -n "$SWARM_PID" ]; then kill "$SWARM_PID" 2>/dev/null; wait "$SWARM_PID" 2>/dev/null; fi
      if [ -n "$PROM_PID" ]; then kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null; fi
      tui_cleanup; cleanup' EXIT

for tool in prometheus promtool jq curl tmux; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done

redis_private_start || exit 1
export REDIS_URL=$RURL NEWSROOM_CONFIG=$T/newsroom.conf NEWSROOM_DATA_DIR=$T/data
# Quick models, and a global budget so utilisation has a limit to be measured against.
DEAD_PORT=$(pick_port)
printf '%s\n' '[providers]' 'sim_latency_fast_ms = 20' 'sim_latency_balanced_ms = 40' \
  'sim_latency_premium_ms = 60' "openai_base_url = http://127.0.0.1:$DEAD_PORT" \
  '[fallback]' 'fast = openai -> sim' '[cost]' 'global_daily_budget = 50' >"$NEWSROOM_CONFIG"
export OPENAI_API_KEY=sk-test-nobody-answers

# ---- the address is checked before anything starts ----
run 2 "$NR_BIN" swarm --metrics nowhere
has "$ERR" "--metrics"
run 2 "$NR_BIN" swarm --metrics 127.0.0.1:99999
run 2 "$NR_BIN" --metrics 127.0.0.1
run 2 "$NR_BIN" --metrics 127.0.0.1:9464 ctl status
has "$ERR" "newsroom swarm takes its own --metrics"

# ---- a swarm and a control room, each with its own /metrics ----
"$NR_BIN" ctl ingest "$NEWSROOM_SOURCE_DIR/config/sample_stories.jsonl" >/dev/null 2>&1 ||
  bad "ingest the sample stories"
P_SWARM=$(pick_port)
"$NR_BIN" swarm --auto-approve --duration 300 --metrics "127.0.0.1:$P_SWARM" \
  >"$T/swarm.out" 2>"$T/swarm.err" &
SWARM_PID=$!
await "the swarm's /metrics" 30 curl -sf "http://127.0.0.1:$P_SWARM/metrics"
P_ROOM=$(pick_port)
room_start 120 40 REDIS_URL="$REDIS_URL" NEWSROOM_CONFIG="$NEWSROOM_CONFIG" \
  NEWSROOM_DATA_DIR="$NEWSROOM_DATA_DIR" HOME="$HOME" LANG=C.UTF-8 TERM=xterm-256color -- \
  --attach --metrics "127.0.0.1:$P_ROOM"
await "the control room's /metrics" 30 curl -sf "http://127.0.0.1:$P_ROOM/metrics"

# A feed's work queue with a dead letter.
"$QTOOL" "$REDIS_URL" enqueue fetch 2 >/dev/null || bad "queue_tool enqueue"
"$QTOOL" "$REDIS_URL" bury fetch "feed unreachable: 503" >/dev/null || bad "queue_tool bury"

# Stories flowing: some published, so every family has its series; the dead provider's breaker
# open.
breaker_open() { "$NR_BIN" ctl breakers --json | jq -e '[.. | objects | select(.state? == "open")] | length > 0'; }
await "the dead provider's breaker open" 120 breaker_open
published() {
  [ "$("$NR_BIN" ctl items --status PUBLISHED --limit 5 --json |
    jq '(if type == "array" then . else .items end) | length')" -ge 3 ]
}
await "three published stories" 120 published

# ---- the exposition format ----
curl -sf "http://127.0.0.1:$P_SWARM/metrics" >"$T/swarm.metrics" || bad "GET swarm /metrics"
curl -sf "http://127.0.0.1:$P_ROOM/metrics" >"$T/room.metrics" || bad "GET room /metrics"
for f in swarm room; do
  if promtool check metrics <"$T/$f.metrics" >"$T/promtool.$f" 2>&1; then ok; else
    bad "promtool check metrics ($f): $(head -c 2000 "$T/promtool.$f")"
  fi
done
has "$T/swarm.metrics" 'newsroom_llm_cost_dollars_total{agent="'
has "$T/swarm.metrics" 'newsroom_breaker_state{service="llm:openai'
has "$T/swarm.metrics" 'newsroom_queue_dead_letters{queue="fetch"} 1'
has "$T/room.metrics" 'newsroom_room_events_dropped_total'
hasnt "$T/room.metrics" 'newsroom_llm_calls_total' # no agents in an attached control room
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_SWARM/other")
[ "$code" = 404 ] && ok || bad "GET /other answered $code, not 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "http://127.0.0.1:$P_SWARM/metrics")
[ "$code" = 405 ] && ok || bad "POST /metrics answered $code, not 405"

# ---- Prometheus scrapes both, with the project's configuration ----
P_PROM=$(pick_port)
sed -e 's/scrape_interval: 15s/scrape_interval: 1s/' \
  -e "s/127\.0\.0\.1:9464/127.0.0.1:$P_SWARM/" -e "s/127\.0\.0\.1:9465/127.0.0.1:$P_ROOM/" \
  "$NEWSROOM_SOURCE_DIR/config/prometheus.yml" >"$T/prometheus.yml"
if promtool check config "$T/prometheus.yml" >"$T/promtool.config" 2>&1; then ok; else
  bad "promtool check config: $(cat "$T/promtool.config")"
fi
started=$(date +%s%N)
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
  --web.listen-address="127.0.0.1:$P_PROM" >"$T/prom.log" 2>&1 &
PROM_PID=$!
await "Prometheus ready" 30 curl -sf "http://127.0.0.1:$P_PROM/-/ready"
echo "prometheus ready after $(( ($(date +%s%N) - started) / 1000000 )) ms"
API=http://127.0.0.1:$P_PROM/api/v1
targets_up() {
  [ "$(curl -sf "$API/targets" | jq '[.data.activeTargets[] | select(.health == "up")] | length')" = 2 ]
}
await "both targets up" 30 targets_up
# rate() needs two samples: a few scrapes after the stories were published.
scrapes() { [ "$(curl -sf "$API/query" --data-urlencode 'query=count_over_time(up[1m])' |
  jq '[.data.result[].value[1] | tonumber] | min')" -ge 6 ]; }
await "six scrapes of each target" 60 scrapes

# ---- every expression of the dashboard returns at least one series ----
jq -e '.schemaVersion >= 36 and (.panels | length) > 0' "$DASH" >/dev/null && ok ||
  bad "the dashboard is not in Grafana's current schema"
jq -r '.. | objects | select(has("expr")) | .expr' "$DASH" >"$T/exprs"
n=$(wc -l <"$T/exprs")
[ "$n" -ge 30 ] && ok || bad "only $n expressions in the dashboard"
series() {
  curl -sf "$API/query" --data-urlencode "query=$1" >"$T/answer" &&
    jq -e '.status == "success" and (.data.result | length) > 0' "$T/answer" >/dev/null
}
while IFS= read -r expr; do
  if await "a series from: $expr" 30 series "$expr"; then :; else
    printf '  answer: %s\n' "$(head -c 600 "$T/answer")" >&2
  fi
done <"$T/exprs"
echo "$n dashboard expressions checked against Prometheus"

# The panels' families are the ones the processes serve (nothing in the dashboard that no
# process exports).
for fam in $(grep -o 'newsroom_[a-z_]*' "$T/exprs" | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
  if grep -q "^# TYPE $fam " "$T/swarm.metrics" "$T/room.metrics"; then ok; else
    bad "the dashboard queries $fam, which neither process serves"
  fi
done

# ---- the processes end cleanly ----
kill "$SWARM_PID"
wait "$SWARM_PID"
status=$?
SWARM_PID=
[ "$status" = 0 ] && ok || bad "the swarm exited $status on SIGTERM"
has "$T/swarm.err" "swarm stopped"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$T/swarm.err"; then
  bad "sanitizer report: $(head -c 1500 "$T/swarm.err")"
else ok; fi
keys q
room_gone 20 && { [ "$EXIT_CODE" = 0 ] && ok || bad "the control room exited $EXIT_CODE"; }
room_clean
finish
